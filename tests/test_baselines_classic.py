"""`input` and `dcp` end to end on a small on-disk fixture, scored with PSNR/SSIM; DCP against analytic haze."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import baselines
from baselines.base import BaselineError, MissingOutputsError, RestoreConfig
from baselines.methods.dcp import DCPParams, dehaze, guided_filter
from benchmarks.datasets import Sample


def _save(array: np.ndarray, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray((np.clip(array, 0, 1) * 255 + 0.5).astype(np.uint8)).save(path)
    return path


def _clear_scene(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """A haze-free scene whose dark channel is 0 (one channel is 0 at every pixel), smooth blocks of colour."""
    blocks = rng.uniform(0.2, 0.9, size=(h // 8 + 1, w // 8 + 1, 3))
    scene = np.kron(blocks, np.ones((8, 8, 1)))[:h, :w]
    zero = rng.integers(0, 3, size=(h // 8 + 1, w // 8 + 1))
    mask = np.kron(np.eye(3)[zero], np.ones((8, 8, 1)))[:h, :w].astype(bool)
    scene[mask] = 0.0
    return scene


def _with_sky(scene: np.ndarray, airlight: np.ndarray) -> np.ndarray:
    """Top quarter is sky (radiance = airlight), as in a typical outdoor hazy photo."""
    scene = scene.copy()
    scene[: scene.shape[0] // 4] = airlight
    return scene


def _hazy(scene: np.ndarray, t: float, airlight: np.ndarray) -> np.ndarray:
    return scene * t + airlight * (1 - t)


def test_guided_filter_keeps_constants_and_linear_functions_of_the_guide():
    rng = np.random.default_rng(0)
    guide = rng.uniform(size=(40, 50))
    assert np.allclose(guided_filter(guide, np.full_like(guide, 0.3), 4, 1e-4), 0.3)
    # p = 2*I + 1 is reproduced exactly when eps -> 0 (a = 2, b = 1 in every window)
    assert np.allclose(guided_filter(guide, 2 * guide + 1, 4, 1e-12), 2 * guide + 1, atol=1e-6)


def test_dcp_inverts_the_haze_model_exactly_with_omega_one():
    rng = np.random.default_rng(1)
    scene = _clear_scene(rng, 64, 80)
    airlight = np.array([0.95, 0.9, 0.85])
    hazy = _hazy(scene, 0.6, airlight)
    restored, t, a = dehaze(hazy, DCPParams(patch=7, omega=1.0, radius=8), airlight=airlight)
    assert np.allclose(t, 0.6, atol=1e-6)
    assert np.allclose(restored, scene, atol=1e-6)


def test_dcp_estimates_the_atmospheric_light_from_the_haziest_region():
    rng = np.random.default_rng(2)
    scene = _clear_scene(rng, 64, 80)
    airlight = np.array([0.95, 0.9, 0.85])
    scene[:16, :] = airlight  # sky: the scene radiance equals the airlight
    _, _, a = dehaze(_hazy(scene, 0.5, airlight), DCPParams(patch=7, radius=8))
    assert np.allclose(a, airlight, atol=1e-9)


@pytest.fixture()
def hazy_fixture(tmp_path: Path) -> list[Sample]:
    """Two hazy images and one hazy 3-frame video in a dataset-like layout (hazy/ and gt/ folders)."""
    rng = np.random.default_rng(3)
    airlight = np.array([0.92, 0.92, 0.92])
    samples = []
    for name in ("0001", "0002"):
        scene = _with_sky(_clear_scene(rng, 48, 64), airlight)
        samples.append(Sample(
            id=f"img/{name}", input=_save(_hazy(scene, 0.45, airlight), tmp_path / "data/hazy" / f"{name}.jpg"),
            target=_save(scene, tmp_path / "data/gt" / f"{name}.png"), degradation=("haze",), modality="image",
            dataset="toyhaze"))
    frames_in, frames_gt = [], []
    scene = _with_sky(_clear_scene(rng, 32, 48), airlight)
    for i in range(3):
        frames_in.append(_save(_hazy(scene, 0.5, airlight), tmp_path / f"data/video/hazy/v1/{i:03d}.png"))
        frames_gt.append(_save(scene, tmp_path / f"data/video/gt/v1/{i:03d}.png"))
    samples.append(Sample(id="v1", input=frames_in, target=frames_gt, degradation=("haze",),
                              modality="video", dataset="toyhaze_video"))
    return samples


def _scores(samples, report) -> dict[str, tuple[float, float]]:
    from skimage.metrics import peak_signal_noise_ratio, structural_similarity

    from baselines.images import read_rgb

    out = {}
    for s in samples:
        targets = s.target if isinstance(s.target, list) else [s.target]
        pairs = list(zip(report.outputs[s.id], targets))
        psnr = np.mean([peak_signal_noise_ratio(read_rgb(t), read_rgb(p), data_range=1) for p, t in pairs])
        ssim = np.mean([structural_similarity(read_rgb(t), read_rgb(p), data_range=1, channel_axis=2)
                        for p, t in pairs])
        out[s.id] = (psnr, ssim)
    return out


def test_input_and_dcp_end_to_end_with_scores(hazy_fixture, tmp_path):
    config = RestoreConfig(progress=False)
    report_in = baselines.get("input").restore(hazy_fixture, tmp_path / "out/input", config)
    report_dcp = baselines.get("dcp").restore(hazy_fixture, tmp_path / "out/dcp",
                                              RestoreConfig(settings={"radius": 8, "patch": 7}, progress=False))
    assert (tmp_path / "out/input/img/0001.png").is_file()
    assert [p.name for p in report_dcp.outputs["v1"]] == ["00000.png", "00001.png", "00002.png"]
    # input output == the input pixels (PNG of a JPEG decode)
    assert np.array_equal(np.asarray(Image.open(report_in.outputs["img/0002"][0])),
                          np.asarray(Image.open(hazy_fixture[1].input).convert("RGB")))
    floor, dcp = _scores(hazy_fixture, report_in), _scores(hazy_fixture, report_dcp)
    for sid in floor:
        assert dcp[sid][0] > floor[sid][0] + 3.0, (sid, floor[sid], dcp[sid])  # dehazing clearly helps
    (saved_file,) = (tmp_path / "out/dcp").glob("restore_report-*.json")
    saved = json.loads(saved_file.read_text())
    assert saved["method"] == "dcp" and set(saved["outputs"]) == {"img/0001", "img/0002", "v1"}


def test_precomputed_outputs_are_matched_by_id_with_any_extension(hazy_fixture, tmp_path):
    published = tmp_path / "published"
    _save(np.zeros((8, 8, 3)), published / "img/0001.jpg")
    _save(np.ones((8, 8, 3)), published / "img/0002.PNG")
    for i in (2, 10, 1):
        _save(np.full((8, 8, 3), i / 20), published / f"v1/frame{i}.png")
    report = baselines.get("autodir").restore(hazy_fixture, tmp_path / "out",
                                             RestoreConfig(precomputed=published, progress=False))
    assert report.source == "precomputed"
    assert report.outputs["img/0002"] == [tmp_path / "out/img/0002.png"]
    values = [np.asarray(Image.open(p))[0, 0, 0] for p in report.outputs["v1"]]
    assert values == sorted(values)  # frame1, frame2, frame10 in natural order


def test_precomputed_folder_missing_a_sample_names_it(hazy_fixture, tmp_path):
    published = tmp_path / "published"
    _save(np.zeros((8, 8, 3)), published / "img/0001.png")
    with pytest.raises(MissingOutputsError, match="img/0002"):
        baselines.get("input").restore(hazy_fixture, tmp_path / "out",
                                       RestoreConfig(precomputed=published, progress=False))


def test_duplicate_ids_and_wrong_modality_are_refused(hazy_fixture, tmp_path):
    with pytest.raises(BaselineError, match="duplicate sample id"):
        baselines.get("input").restore([hazy_fixture[0], hazy_fixture[0]], tmp_path / "o")
    with pytest.raises(BaselineError, match="image only"):
        baselines.get("autodir").restore(hazy_fixture, tmp_path / "o2", RestoreConfig(settings={}))


def test_prompt_routing_follows_design():
    from baselines.prompt_routing import RoutingError, prompts_for

    assert prompts_for("hazerd") == ("haze",)
    assert prompts_for("LOLBlur", ("lowlight",)) == ("lowlight", "blur")  # mixed, whatever the manifest says
    assert prompts_for("toled") == prompts_for("POLED") == ("lowlight", "blur")
    assert prompts_for("cdd_haze_snow") == ("snow", "haze")
    assert prompts_for("CDD_haze_snow") == ("snow", "haze")
    assert prompts_for("4krd_video") == ("blur",) and prompts_for("lol_iphone") == ("lowlight",)
    assert prompts_for("weatherbench_snow") == ("snow",) and prompts_for("nturain_real") == ("rain",)
    for key in ("hazerd", "lhp", "weatherbench_snow", "4krd", "sice", "toled", "poled", "cdd_haze_snow", "lolblur",
                "rhvd", "lasvr", "nturain_real", "aaurainsnow", "4krd_video", "lol_iphone"):
        prompts_for(key)  # every Table 2/3 set is routed
    assert prompts_for("raindrop", ("rain",)) == ("rain",)  # unrouted: the sample's own degradation
    with pytest.raises(RoutingError, match="lolblur"):
        prompts_for("mystery", ("noise",))
    # a set registered at run time with only a key and samples (the registry allows it) routes nothing itself:
    # the others keep their routes, its samples go by their own degradation
    import uuid

    from benchmarks import datasets

    bare = type("Bare", (), {"key": f"bare_{uuid.uuid4().hex[:8]}", "samples": lambda self, root=None: []})()
    datasets.register(bare)
    assert prompts_for("hazerd") == ("haze",) and prompts_for(bare.key, ("rain",)) == ("rain",)


def test_ypt_entries_route_samples_to_prompt_groups(tmp_path):
    method = baselines.get("ypt_flux")
    samples = [Sample(f"{d}/{i}", tmp_path / "x.png", None, deg, "image", d)
               for i, (d, deg) in enumerate([("lolblur", ("lowlight",)), ("hazerd", ("haze",)),
                                             ("toled", ("lowlight",)), ("cdd_haze_snow", ("snow", "haze"))])]
    groups = method.routes(samples)
    assert {k: [s.id for s in v] for k, v in groups.items()} == {
        ("lowlight", "blur"): ["lolblur/0", "toled/2"], ("haze",): ["hazerd/1"], ("snow", "haze"): ["cdd_haze_snow/3"]}
    wan = baselines.get("ypt_wan")
    assert wan.backbone == "wan" and wan.spec.modalities == ("video",)

    def clip(n):
        return Sample("v", [tmp_path / f"{i}.png" for i in range(n)], None, ("haze",), "video", "rhvd")

    assert [wan.expected_frames(clip(n)) for n in (33, 40, 32, 30, 5)] == [33, 33, 29, 29, 5]
    # a run with video_frames set writes that many (cut to 4k+1), and its outputs count as complete only then
    assert [wan.expected_frames(clip(40), {"video_frames": f}) for f in (17, 20, 49)] == [17, 17, 37]


def test_ypt_entries_without_library_or_prompts_say_what_is_missing(tmp_path, monkeypatch):

    from baselines.base import SetupError

    monkeypatch.setenv("YPT_PROMPTS", str(tmp_path / "prompts"))
    sample = Sample("a", _save(np.zeros((8, 8, 3)), tmp_path / "a.png"), None, ("haze",), "image", "hazerd")
    with pytest.raises(SetupError) as err:
        baselines.get("ypt_flux").restore([sample], tmp_path / "out", RestoreConfig(progress=False))
    assert "prompt for haze not found" in str(err.value) and "python -m slurm.train" in str(err.value)


def test_lime_recovers_reflectance_under_constant_illumination():
    from baselines.methods.lime import LIMEParams, enhance

    rng = np.random.default_rng(5)
    reflectance = rng.uniform(0.1, 0.9, size=(24, 32, 3))
    reflectance[..., 0] = 1.0  # max channel 1 everywhere: max_c L = T exactly
    dark = reflectance * 0.2
    restored, t = enhance(dark, LIMEParams(gamma=1.0))
    assert np.allclose(t, 0.2, atol=1e-6)  # a constant illumination is a fixed point of the refinement
    assert np.allclose(restored, reflectance, atol=1e-5)


def test_lime_smooths_illumination_but_keeps_its_edges():
    from baselines.methods.lime import LIMEParams, refine_illumination

    rng = np.random.default_rng(6)
    step = np.where(np.arange(40)[None, :] < 20, 0.1, 0.6) * np.ones((30, 1))
    noisy = step + rng.normal(0, 0.01, size=step.shape)
    refined = refine_illumination(noisy, LIMEParams())
    for side in (slice(0, 18), slice(22, 40)):  # texture/noise inside a region is flattened
        assert refined[:, side].std() < 0.05 * noisy[:, side].std()
    assert refined[:, 22:].mean() - refined[:, :18].mean() > 0.45  # the strong edge survives (0.5 in the input)


def test_lime_brightens_a_dark_image_end_to_end(tmp_path):
    rng = np.random.default_rng(7)
    scene = _clear_scene(rng, 32, 48) * 0.6 + 0.3
    dark = Sample("dark/1", _save(scene * 0.15, tmp_path / "low/1.png"), _save(scene, tmp_path / "high/1.png"),
                      ("lowlight",), "image", "toylol")
    report_in = baselines.get("input").restore([dark], tmp_path / "in", RestoreConfig(progress=False))
    report = baselines.get("lime").restore([dark], tmp_path / "lime", RestoreConfig(progress=False))
    floor, lime = _scores([dark], report_in)["dark/1"], _scores([dark], report)["dark/1"]
    assert lime[0] > floor[0] + 5.0, (floor, lime)


def test_container_inputs_are_decoded_with_the_dataset_loader(tmp_path):
    """A POLED sample (``poled_test_display.mat#k@test_display``, as the registry lists it) reaches the method as a
    PNG holding exactly the stored 8-bit image."""
    from scipy.io import savemat

    from benchmarks import datasets

    display = np.random.default_rng(8).integers(0, 256, (4, 6, 10, 3), dtype=np.uint8)
    (tmp_path / "UDC/poled").mkdir(parents=True)
    savemat(tmp_path / "UDC/poled/poled_test_display.mat", {"test_display": display})
    sample = datasets.get("poled").samples(tmp_path)[3]
    assert sample.input.endswith("poled_test_display.mat#3@test_display")
    report = baselines.get("input").restore([sample], tmp_path / "out", RestoreConfig(progress=False))
    np.testing.assert_array_equal(np.asarray(Image.open(report.outputs[sample.id][0])), display[3])
    assert not (tmp_path / "out/_inputs").exists()


def test_resume_restores_only_missing_samples(hazy_fixture, tmp_path):
    out = tmp_path / "out"
    baselines.get("input").restore(hazy_fixture, out, RestoreConfig(progress=False))
    marker = np.zeros((4, 4, 3), np.uint8)
    Image.fromarray(marker).save(out / "img/0001.png")  # pretend an earlier run wrote this one
    (out / "img/0002.png").unlink()
    report = baselines.get("input").restore(hazy_fixture, out, RestoreConfig(progress=False, resume=True))
    assert np.asarray(Image.open(out / "img/0001.png")).shape == (4, 4, 3)  # kept
    assert np.asarray(Image.open(out / "img/0002.png")).shape == (48, 64, 3)  # redone
    assert report.notes == ["resume: 2 sample(s) already restored, kept"]


def test_resume_and_precomputed_use_the_methods_frame_count(tmp_path):
    """WAN writes the largest 4k+1 frames: a 30-frame clip has 29 outputs, which count as complete."""
    frames = [_save(np.full((4, 4, 3), i / 40), tmp_path / f"clip/{i:03d}.png") for i in range(30)]
    sample = Sample("c", frames, None, ("haze",), "video", "rhvd")
    published = tmp_path / "published"
    for i in range(29):
        _save(np.zeros((4, 4, 3)), published / f"c/{i:05d}.png")
    report = baselines.get("ypt_wan").restore([sample], tmp_path / "out",
                                              RestoreConfig(precomputed=published, progress=False))
    assert len(report.outputs["c"]) == 29
    from baselines.base import _has_output

    assert _has_output("ypt_wan", sample, tmp_path / "out") and not _has_output("input", sample, tmp_path / "out")


def test_lime_large_images_solve_on_a_downscaled_map():
    from baselines.methods.lime import LIMEParams, enhance

    rng = np.random.default_rng(9)
    reflectance = rng.uniform(0.1, 0.9, size=(60, 80, 3))
    reflectance[..., 1] = 1.0
    restored, t = enhance(reflectance * 0.25, LIMEParams(gamma=1.0, max_pixels=1200))  # 4800 px > 1200
    assert t.shape == (60, 80) and np.allclose(t, 0.25, atol=1e-6)
    assert np.allclose(restored, reflectance, atol=1e-5)
