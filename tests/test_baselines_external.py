"""External wrappers against stand-in upstream scripts (:mod:`standins`: same CLI, same output naming, the upstream
constraints that matter). The tests check the exact argument list, the interpreter/environment used, and that every
sample id gets its own output back (the inverted input, so a mix-up between samples is caught). Upstream size
classes, CLIP paths, key checks and weights coverage: ``test_baselines_upstream_constraints.py``.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image

import baselines
from baselines.base import RestoreConfig, SetupError
from baselines.config import interpreter
from benchmarks.datasets import Sample
from standins import assert_inverted, image, make_repo, ready, records, settings_for, touch

_image = image

@pytest.fixture()
def image_samples(tmp_path):
    return [
        Sample("rain/0001", _image(tmp_path / "data/rain/0001.png", (37, 29), 1), None, ("rain",), "image", "toy"),
        Sample("rain/0002", _image(tmp_path / "data/rain/0002.jpg", (64, 48), 2), None, ("rain",), "image", "toy"),
        Sample("dark.1", _image(tmp_path / "data/dark/1.png", (40, 24), 3), None, ("lowlight", "blur"), "image",
                   "toy"),
        Sample("hazy", _image(tmp_path / "data/hazy.png", (33, 17), 4), None, ("haze",), "image", "toy"),
    ]


@pytest.fixture()
def video_samples(tmp_path):
    out = []
    for v, n in (("clipA", 3), ("sub/clipB", 4)):
        frames = [_image(tmp_path / f"data/{v}/{i:03d}.png", (40, 24), 10 * len(v) + i) for i in range(n)]
        out.append(Sample(v, frames, None, ("rain",), "video", "toyv"))
    return out


def assert_common(rec: dict, repo: Path) -> None:
    assert rec["executable"] == sys.executable
    assert rec["marker"] == "configured-env"


# --------------------------------------------------------------------------------------------------------------
def test_autodir(tmp_path, image_samples, monkeypatch):
    repo, settings = ready("autodir", tmp_path)
    ckpt = settings["checkpoint"]
    monkeypatch.setenv("STANDIN_ARTIFACTS", "s00003=no")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    out = tmp_path / "out"
    report = baselines.get("autodir").restore(
        image_samples, out, RestoreConfig(settings=settings, keep_work=True, progress=True))
    recs = records(tmp_path)
    assert len(recs) == 4
    work = report.work_dir
    assert recs[0]["argv"] == ["eval_w_SCM.py", "--input", str(work / "inputs/s00000.png"),
                               "--output", str(work / "results/s00000"), "--ckpt", ckpt,
                               "--config", "configs/generate.yaml", "--steps", "200", "--cfg-text", "1.0",
                               "--seed", "42"]
    assert report.commands[0][0] == sys.executable and recs[0]["cwd"] == str(repo)
    assert recs[0]["transformers_offline"] == "1"  # transformers 4.28 reads this one, not HF_HUB_OFFLINE
    assert_common(recs[0], repo)
    for s in image_samples[:3]:
        assert_inverted(out / f"{s.id}.png", s.input)
    assert np.array_equal(np.asarray(Image.open(out / "hazy.png")), np.asarray(Image.open(image_samples[3].input)))
    assert any("no artifact" in n for n in report.notes)
    assert report.weights["checkpoint"] == ckpt
    assert report.log.read_text().count("$ (cwd=") == 4 and report.log.parent == out


def test_pixwizard_resizes_bucket_outputs_back(tmp_path, image_samples):
    from baselines.methods.pixwizard import PROMPTS

    repo, settings = ready("pixwizard", tmp_path)
    out = tmp_path / "out"
    report = baselines.get("pixwizard").restore(image_samples, out, RestoreConfig(settings=settings, keep_work=True,
                                                                                   progress=False))
    (rec,) = records(tmp_path)
    work = report.work_dir
    clip = tmp_path / "hf/hub/models--openai--clip-vit-large-patch14-336/snapshots/0123abcd"
    assert rec["argv"] == [
        str(repo / "sample_pixwizard.py"), "ODE", "--ckpt", settings["checkpoint"], "--image_save_path",
        str(work / "generated"), "--sampling-method", "euler", "--num_sampling_steps", "60", "--seed", "42",
        "--resolution", "768", "--json_path", str(work / "pixwizard_inputs.json"), "--sdxl_vae_path",
        settings["sdxl_vae_path"], "--tokenizer_path", settings["tokenizer_path"], "--clip_tokenizer_path",
        str(clip), "--time_shifting_factor", "1", "--text_cfg_scale", "4.0", "--image_cfg_scale", "1.0", "--ema"]
    assert rec["cwd"] == str(work)
    assert_common(rec, repo)
    entries = json.loads((work / "pixwizard_inputs.json").read_text())
    assert [e["prompt"] for e in entries] == [PROMPTS["rain"], PROMPTS["rain"], PROMPTS["lowlight"], PROMPTS["haze"]]
    for s in image_samples:
        assert Image.open(out / f"{s.id}.png").size == Image.open(s.input).size
        assert_inverted(out / f"{s.id}.png", s.input, tol=40)  # two bicubic resizes of 8px blocks
    # the mapping is by index: a swapped sample would be far off
    a = np.asarray(Image.open(out / "rain/0001.png"), dtype=float)
    assert np.abs(a - (255 - np.asarray(Image.open(image_samples[0].input), dtype=float))).mean() < 40


def test_foundir_collects_and_cleans_its_results_folder(tmp_path, image_samples):
    repo, settings = ready("foundir", tmp_path)
    out = tmp_path / "out"
    report = baselines.get("foundir").restore(image_samples, out, RestoreConfig(
        settings=settings, keep_work=True, progress=False))
    (rec,) = records(tmp_path)
    work = report.work_dir
    assert rec["argv"] == ["test.py", "--dataroot", str(work / "data"), "--meta", str(work / "meta_info.txt")]
    assert rec["cwd"] == str(repo)
    assert_common(rec, repo)
    for s in image_samples:
        assert_inverted(out / f"{s.id}.png", s.input)
    assert list((repo / "results").iterdir()) == []  # the run's folder was removed from the repository


def test_dcpt_generates_options_from_upstream_template(tmp_path, image_samples):
    repo = make_repo(tmp_path, "dcpt")
    template = {"name": "NAFNet_5d", "model_type": "SRModel", "scale": 1,
                "network_g": {"type": "NAFNetBaseline", "width": 64, "enc_blk_nums": [1, 1, 1, 28]},
                "path": {"pretrain_network_g": "pretrained_models/dcpt_nafnet_5d.pth", "param_key_g": "params_ema",
                         "strict_load_g": True},
                "datasets": {"test_1": {"name": "Rain100L"}}, "val": {"save_img": False, "metrics": {"psnr": {}}}}
    (repo / "options/all_in_one/test").mkdir(parents=True)
    (repo / "options/all_in_one/test/test_NAFNet_5d.yml").write_text(yaml.safe_dump(template))
    touch(repo / "pretrained_models/dcpt_nafnet_5d.pth")
    out = tmp_path / "out"
    report = baselines.get("dcpt").restore(image_samples, out, RestoreConfig(
        settings=settings_for(tmp_path, repo), progress=False))
    (rec,) = records(tmp_path)
    assert rec["argv"][0] == "basicsr/test.py" and rec["argv"][1] == "-opt" and len(rec["argv"]) == 3
    assert rec["cwd"] == str(repo) and rec["basicsr_jit"] == "True"
    assert_common(rec, repo)
    opt = rec["options"]
    assert opt["network_g"] == template["network_g"]
    assert opt["path"]["param_key_g"] == "params_ema"
    assert opt["path"]["pretrain_network_g"] == str(repo / "pretrained_models/dcpt_nafnet_5d.pth")
    assert opt["val"] == {"save_img": True, "suffix": None}
    assert opt["num_gpu"] == 1
    for s in image_samples:
        assert_inverted(out / f"{s.id}.png", s.input)
    assert list((repo / "results").iterdir()) == []
    assert not (out / "_work").exists()  # cleaned without keep_work
    assert report.weights["variant"] == "NAFNet"


def test_dfpir_maps_degradations_to_tasks_and_crops_back(tmp_path, image_samples, monkeypatch):
    repo, settings = ready("dfpir", tmp_path, monkeypatch)
    out = tmp_path / "out"
    report = baselines.get("dfpir").restore(image_samples, out, RestoreConfig(settings=settings, progress=True))
    recs = records(tmp_path)
    assert len(recs) == 3  # one call per task: derain (2 samples), lowlight, dehaze
    argv = recs[0]["argv"]
    assert argv[:3] == ["test_5D_DFPIR.py", "--pretrained_1", settings["checkpoint"]]
    assert [argv[i] for i in range(3, len(argv), 2)] == ["--denoise_path", "--derain_path", "--dehaze_path",
                                                         "--deblur_path", "--lowlight_path", "--output_path"]
    assert all(a.endswith("/") for a in argv[4::2])
    assert argv[-1] == str(report.work_dir / "derain") + "/"
    assert_common(recs[0], repo)
    for s in image_samples:
        assert_inverted(out / f"{s.id}.png", s.input)  # padded to 16, cropped back: exact
    assert report.notes == ["task derain: 2 sample(s)", "task lowlight: 1 sample(s)", "task dehaze: 1 sample(s)"]
    assert list(Path(settings["stage_dir"]).iterdir()) == []


def test_dfpir_refuses_without_checkpoint(tmp_path, image_samples):
    repo = make_repo(tmp_path, "dfpir")
    with pytest.raises(SetupError, match="random weights") as err:
        baselines.get("dfpir").restore(image_samples, tmp_path / "out",
                                       RestoreConfig(settings=settings_for(tmp_path, repo), progress=False))
    assert "drive.google.com" in str(err.value)
    assert not (tmp_path / "record.jsonl").exists()


def test_avernet_frame_folders(tmp_path, video_samples):
    repo, settings = ready("avernet", tmp_path, weights="retrained by the paper's authors")
    out = tmp_path / "out"
    report = baselines.get("avernet").restore(video_samples, out, RestoreConfig(settings=settings, progress=False))
    recs = records(tmp_path)
    assert len(recs) == len(video_samples)  # one call per clip
    rec = recs[0]
    assert rec["argv"][:2] == ["basicsr/test.py", "-opt"] and rec["cwd"] == str(repo)
    assert_common(rec, repo)
    opt = rec["options"]
    spynet = repo / "experiments/pretrained_models/flownet/spynet_sintel_final-3d2a1287.pth"
    assert opt["network_g"]["mid_channels"] == 8 and opt["network_g"]["spynet_pretrained"] == str(spynet)
    assert opt["val"]["patch_testing_size"] == 512 and opt["val"]["metrics"] is None
    for s in video_samples:
        for i, frame in enumerate(s.input):
            assert_inverted(out / s.id / f"{i:05d}.png", frame)
    assert report.weights["weights"] == "retrained by the paper's authors"
    assert report.weights["checkpoint"] == settings["checkpoint"]


def test_viwsnet_collects_from_where_it_really_writes(tmp_path, video_samples):
    repo, settings = ready("viwsnet", tmp_path)
    out = tmp_path / "out"
    report = baselines.get("viwsnet").restore(video_samples, out, RestoreConfig(settings=settings, keep_work=True,
                                                                                  progress=False))
    (rec,) = records(tmp_path)
    work = report.work_dir
    assert rec["argv"] == [str(repo / "eval_derain.py"), "--data_dir", "Dataset/REVIDE/Test", "--model",
                           settings["checkpoint"], "--nFrames", "5", "--output", "Results"]
    assert report.commands[0][:2] == [sys.executable, str(work / "ypt_cuda_launch.py")]
    assert rec["cwd"] == str(work)
    assert_common(rec, repo)
    for s in video_samples:
        for i, frame in enumerate(s.input):  # every frame, including the first/last two
            assert_inverted(out / s.id / f"{i:05d}.png", frame, tol=1.5)  # staged as JPEG q100


# -- setup problems: the fix, never a traceback ----------------------------------------------------------------
EXTERNAL = ("autodir", "pixwizard", "foundir", "dcpt", "dfpir", "avernet", "viwsnet")


@pytest.mark.parametrize("key", EXTERNAL)
def test_missing_repo_env_checkpoint_each_name_the_fix(key, tmp_path):
    method = baselines.get(key)
    problems = method.problems({})
    assert problems and all(p.fix for p in problems)
    assert any("git clone https://github.com/" + method.spec.upstream_repo in p.fix for p in problems)
    assert any("python =" in p.fix for p in problems)
    repo = make_repo(tmp_path, key)
    problems = method.problems({"repo": str(repo), "python": str(tmp_path / "nope/python")})
    text = "\n".join(f"{p.what} {p.fix}" for p in problems)
    assert "does not exist or is not executable" in text
    ckpt_url = method.spec.checkpoints[0].url
    assert ckpt_url in text  # the checkpoint problem says where it is published


def test_conda_env_runs_through_conda_run():
    assert interpreter({"conda_env": "autodir", "conda": "/opt/conda/bin/conda"}) == [
        "/opt/conda/bin/conda", "run", "--no-capture-output", "-n", "autodir", "python"]
    assert interpreter({"python": "/envs/x/bin/python", "conda_env": "ignored"}) == ["/envs/x/bin/python"]


def test_upstream_failure_reports_the_log_tail(tmp_path, image_samples):
    from baselines.external import UpstreamError

    repo = make_repo(tmp_path, "foundir")
    (repo / "test.py").write_text("import sys\nprint('CUDA out of memory')\nsys.exit(3)\n")
    touch(repo / "premodel/model-2000.pt")
    with pytest.raises(UpstreamError, match="(?s)exit 3.*CUDA out of memory"):
        baselines.get("foundir").restore(image_samples, tmp_path / "out",
                                         RestoreConfig(settings=settings_for(tmp_path, repo), progress=False))


def test_concurrent_shards_into_one_folder_do_not_collide(tmp_path, image_samples):
    from concurrent.futures import ThreadPoolExecutor

    repo = make_repo(tmp_path, "dcpt")
    template = {"model_type": "SRModel", "network_g": {"type": "NAFNetBaseline"}, "path": {}}
    (repo / "options/all_in_one/test").mkdir(parents=True)
    (repo / "options/all_in_one/test/test_NAFNet_5d.yml").write_text(yaml.safe_dump(template))
    touch(repo / "pretrained_models/dcpt_nafnet_5d.pth")
    out = tmp_path / "out"
    config = RestoreConfig(settings=settings_for(tmp_path, repo), progress=False)
    shards = [image_samples[:2], image_samples[2:]]
    with ThreadPoolExecutor(2) as pool:
        reports = list(pool.map(lambda shard: baselines.get("dcpt").restore(shard, out, config), shards))
    assert reports[0].token != reports[1].token
    for s in image_samples:
        assert_inverted(out / f"{s.id}.png", s.input)
    assert len(list(out.glob("restore_report-*.json"))) == 2 and len(list(out.glob("dcpt-*.log"))) == 2
