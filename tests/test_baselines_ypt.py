"""``ypt_flux`` / ``ypt_wan`` end to end through the registry with tiny backbones saved to a local folder and prompt
files where ``ypt.prompts.default_prompt_path`` says, routed per DESIGN.md (mixed prompts for LOLBlur)."""
from __future__ import annotations

import io

from pathlib import Path

import numpy as np
import torch
from PIL import Image
from test_backbones import (
    save_tiny_folder,
    tiny_flux,
    tiny_flux_components,
    tiny_wan,
    tiny_wan_components,
)

import baselines  # noqa: E402
from baselines.base import RestoreConfig  # noqa: E402
from benchmarks.datasets import Sample  # noqa: E402
from benchmarks.metrics.resize import protocol_resize  # noqa: E402
from benchmarks.metrics.resize import read_metric_view  # noqa: E402
from benchmarks.protocol import DEGRADATIONS  # noqa: E402

DISTINCT_SEEDS = dict(zip(DEGRADATIONS, range(len(DEGRADATIONS))))



def _write_prompts(backbone_name: str, backbone, root: Path, degradations=DEGRADATIONS) -> None:
    """One residual prompt per degradation (distinct random tensors, gates opened) at the default paths."""
    from ypt.backbones.prompting import new_prompt
    from ypt.prompts import default_prompt_path, save_prompt

    for degradation in degradations:
        torch.manual_seed(DISTINCT_SEEDS[degradation])
        prompt = new_prompt("residual", backbone)
        with torch.no_grad():
            for p in prompt.parameters():
                p.normal_(0, 0.5)
        path = Path(default_prompt_path(backbone_name, degradation, root=root))
        save_prompt(prompt, path, {**backbone.identity(), "variant": "residual", "bridge": "ebr", "t0": 0.4,
                                   "degradation": degradation})


def _image(path: Path, seed: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.random.default_rng(seed).integers(0, 256, (20, 24, 3), dtype=np.uint8)).save(path)
    return path


def test_ypt_flux_restores_routed_sets_with_tiny_flux(tmp_path):
    model = save_tiny_folder(tiny_flux_components(), tmp_path / "flux")
    _write_prompts("flux", tiny_flux(), tmp_path / "prompts")
    image = _image(tmp_path / "a.png", 0)
    samples = [Sample("hazerd/a", image, None, ("haze",), "image", "hazerd"),
               Sample("lolblur/a", image, None, ("lowlight",), "image", "lolblur")]
    settings = {"model": str(model), "prompts_root": str(tmp_path / "prompts"), "device": "cpu", "dtype": "fp32",
                "image_size": [16, 16], "num_inference_steps": 2}
    report = baselines.get("ypt_flux").restore(samples, tmp_path / "out",
                                               RestoreConfig(settings=settings, progress=False))
    outs = {k: np.asarray(Image.open(v[0])) for k, v in report.outputs.items()}
    assert outs["hazerd/a"].shape == (16, 16, 3)
    assert not np.array_equal(outs["hazerd/a"], outs["lolblur/a"])  # different prompts for the two sets
    from ypt.prompts import default_prompt_path

    root = tmp_path / "prompts"
    assert report.weights["prompts"] == {
        "haze": [str(default_prompt_path("flux", "haze", root=root))],
        "lowlight+blur": [str(default_prompt_path("flux", d, root=root)) for d in ("lowlight", "blur")]}


def test_ypt_wan_restores_a_clip_with_tiny_wan(tmp_path):
    model = save_tiny_folder(tiny_wan_components(), tmp_path / "wan")
    _write_prompts("wan", tiny_wan(), tmp_path / "prompts", degradations=("haze",))  # only the routed prompt
    frames = [_image(tmp_path / f"clip/{i:03d}.png", i) for i in range(7)]
    sample = Sample("rhvd/c1", frames, None, ("haze",), "video", "rhvd")
    settings = {"model": str(model), "prompts_root": str(tmp_path / "prompts"), "device": "cpu", "dtype": "fp32",
                "video_size": [16, 16], "num_inference_steps": 2}
    report = baselines.get("ypt_wan").restore([sample], tmp_path / "out",
                                              RestoreConfig(settings=settings, progress=False))
    assert [p.name for p in report.outputs["rhvd/c1"]] == [f"{i:05d}.jpg" for i in range(5)]  # 7 -> 4k+1 = 5
    assert Image.open(report.outputs["rhvd/c1"][0]).size == (16, 16)
    # `check` still names every prompt a full table needs
    missing = baselines.get("ypt_wan").problems(settings)
    assert sorted(p.what.split(" prompt for ")[1].split(" ")[0] for p in missing) == ["blur", "lowlight", "rain", "snow"]


def test_restore_sample_writes_the_benchmark_naming_contract(tmp_path):
    """``ypt_method.restore_samples``: an image sample to ``<out>/<id>.png``, a clip to ``<out>/<id>/<index:05d>.jpg``
    (benchmarks.outputs; the release's frames: truncated to 8 bits, PIL JPEG), each file with its float metric view
    (the decode at the metric geometry), and the sample's noise drawn at its place in its set's run."""
    from ypt.backbones.prompting import new_prompt
    from ypt.restore import Restorer

    from baselines.ypt_method import restore_samples

    flux, wan = tiny_flux(), tiny_wan()
    image = _image(tmp_path / "a.png", 0)
    restorer = Restorer(flux, [new_prompt("residual", flux)], image_size=(16, 16), num_inference_steps=2)
    third = Sample("set/a", image, None, ("haze",), "image", "hazerd", encoded_before=((1, 2),))
    written = restore_samples(restorer, [third], tmp_path / "out")
    assert written == [tmp_path / "out" / "set" / "a.png"]
    assert Image.open(written[0]).size == (16, 16)
    view = read_metric_view(tmp_path / "out" / "set" / "a.metric.npy")
    expected = restorer.restore_images([image, image, image])[2]  # the third sample of a run of three
    torch.testing.assert_close(view, protocol_resize(expected[None]), rtol=0, atol=0)
    assert np.array_equal(np.asarray(Image.open(written[0])), (expected.permute(1, 2, 0).numpy() * 255).round())
    frames = [_image(tmp_path / f"clip/{i:03d}.png", i) for i in range(11)]
    restorer = Restorer(wan, [new_prompt("residual", wan)], video_frames=9, video_size=(16, 16), num_inference_steps=1)
    clip = Sample("c1", frames, None, ("haze",), "video", "rhvd", encoded_before=((11, 1),))
    written = restore_samples(restorer, [clip], tmp_path / "out")
    assert written == [tmp_path / "out" / "c1" / f"{i:05d}.jpg" for i in range(9)]
    expected = restorer.restore_clip(frames, encoded_before=[11])
    torch.testing.assert_close(read_metric_view(tmp_path / "out" / "c1" / "00008.metric.npy"),
                               protocol_resize(expected[:, 8][None]), rtol=0, atol=0)
    truncated = (expected[:, 0] * 255).to(torch.uint8).permute(1, 2, 0).numpy()
    assert Image.open(written[0]).format == "JPEG"
    release = io.BytesIO()  # the release saves the truncated frame with PIL's default JPEG settings
    Image.fromarray(truncated).save(release, "JPEG")
    assert written[0].read_bytes() == release.getvalue()
