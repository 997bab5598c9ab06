"""The upstream constraints each wrapper handles, against stand-ins that reproduce them (:mod:`standins`): the size
classes of ViWS-Net's and FoundIR's tiling and AverNet's patches (output = input size, no zero rows or columns), the
fixed and downloaded CLIP files, DFPIR's silent key dropping, AutoDIR's final image, DCPT's CUDA-only code,
ViWS-Net's forced CUDA device, backbones and windows, AverNet's published weights. Each guarded case is also run
without the wrapper's fix where that is possible, to show the stand-in really breaks."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import baselines
from baselines.base import RestoreConfig, SetupError
from baselines.external import UpstreamError
from benchmarks.datasets import Sample
from standins import (assert_full, assert_inverted, image, make_repo, ready, records, tiny_state,
                      touch)


def clip_sample(tmp_path: Path, sid: str, size: tuple[int, int], frames: int = 3, degradation=("rain",)) -> Sample:
    paths = [image(tmp_path / f"data/{sid}/{i:03d}.png", size, 100 * len(sid) + i) for i in range(frames)]
    return Sample(sid, paths, None, degradation, "video", "toyv")


def image_sample(tmp_path: Path, sid: str, size: tuple[int, int], degradation=("rain",)) -> Sample:
    return Sample(sid, image(tmp_path / f"data/{sid}.png", size, len(sid)), None, degradation, "image", "toy")


# -- ViWS-Net: forward_crop(lq_size=512, overlap=16), scaled to 64 -------------------------------------------------
#: one side per class of crop_validation.py at tile 64 (base 48, overlap 16), the other side fine (70): <= 16 (no
#: tile: torch.cat of nothing), 17-32 (one whole-side tile), 33-62 (shape error), 63 (one row broadcast: wrong),
#: 64 (exact), above
VIWS_SIDES = {"no_tile": 10, "whole_side": 24, "shape_error": 40, "broadcast": 63, "tile": 64, "tiles": 100}


@pytest.fixture()
def viws64(monkeypatch):
    import baselines.methods.viwsnet as viwsnet

    monkeypatch.setattr(viwsnet, "LQ_SIZE", 64)
    monkeypatch.setenv("STANDIN_LQ", "64")


@pytest.mark.parametrize("side", VIWS_SIDES.values(), ids=VIWS_SIDES.keys())
@pytest.mark.parametrize("axis", ["height", "width"])
def test_viwsnet_output_has_the_input_size_for_every_tiling_class(tmp_path, viws64, side, axis):
    size = (70, side) if axis == "height" else (side, 70)  # (w, h)
    sample = clip_sample(tmp_path, "clip", size)
    repo, settings = ready("viwsnet", tmp_path)
    out = tmp_path / "out"
    baselines.get("viwsnet").restore([sample], out, RestoreConfig(settings=settings, progress=False))
    for i, frame in enumerate(sample.input):
        assert_full(out / "clip" / f"{i:05d}.png", frame)
        assert_inverted(out / "clip" / f"{i:05d}.png", frame, tol=1.5)


@pytest.mark.parametrize("side, failure", [(10, "non-empty list"), (40, "could not broadcast"), (63, None)])
def test_viwsnet_standin_breaks_without_the_padding(tmp_path, viws64, monkeypatch, side, failure):
    import baselines.methods.viwsnet as viwsnet

    monkeypatch.setattr(viwsnet, "pad_size", lambda h, w, tile=None: (h, w))
    sample = clip_sample(tmp_path, "clip", (70, side))
    repo, settings = ready("viwsnet", tmp_path)
    out = tmp_path / "out"
    if failure:
        with pytest.raises(UpstreamError, match=failure):
            baselines.get("viwsnet").restore([sample], out, RestoreConfig(settings=settings, progress=False))
        return
    baselines.get("viwsnet").restore([sample], out, RestoreConfig(settings=settings, progress=False))
    with pytest.raises(AssertionError):  # one row broadcast over the whole height: no error, a wrong frame
        assert_inverted(out / "clip" / "00001.png", sample.input[1], tol=1.5)


def test_viwsnet_runs_on_the_schedulers_gpu(tmp_path):
    """eval_derain.py:4 sets CUDA_VISIBLE_DEVICES="0" before torch: through the launcher the scheduler's devices
    stay bound; run directly, the script's "0" wins."""
    sample = clip_sample(tmp_path, "clip", (70, 64))
    repo, settings = ready("viwsnet", tmp_path, env={"CUDA_VISIBLE_DEVICES": "3"})
    baselines.get("viwsnet").restore([sample], tmp_path / "out", RestoreConfig(settings=settings, progress=False))
    (rec,) = records(tmp_path)
    assert rec["devices"] == "3"
    # the same stand-in run the way upstream's README says, without the launcher
    work = tmp_path / "direct"
    work.mkdir()
    (work / "models").symlink_to(repo / "models")
    env = {**os.environ, **settings["env"]}
    subprocess.run([sys.executable, repo / "eval_derain.py", "--data_dir", "Dataset/REVIDE/Test", "--model",
                    settings["checkpoint"]], cwd=work, env=env, check=False, capture_output=True)
    assert records(tmp_path)[-1]["devices"] == "0"


def test_viwsnet_refuses_even_nframes_and_unprefixed_checkpoints(tmp_path):
    repo, settings = ready("viwsnet", tmp_path, nframes=4)
    problems = baselines.get("viwsnet").problems(settings)
    assert any("nframes = 4" in p.what and "dataset.py:247" in p.what for p in problems)
    plain = tmp_path / "w/plain.pth"
    torch.save(tiny_state(), plain)  # no DataParallel prefix: eval_derain.py:88-92 would fail on it
    repo, settings = ready("viwsnet", tmp_path, checkpoint=str(plain))
    with pytest.raises(SetupError, match="does not match upstream's viwsnet model") as err:
        baselines.get("viwsnet").restore([clip_sample(tmp_path, "c", (70, 64))], tmp_path / "out",
                                         RestoreConfig(settings=settings, progress=False))
    assert "lack the 'module.' prefix" in str(err.value)
    assert records(tmp_path) == []  # refused before upstream ran


def test_check_viwsnet_on_a_clone_without_models_names_the_backbones(tmp_path, monkeypatch, capsys):
    from baselines.__main__ import main

    repo = make_repo(tmp_path, "viwsnet")  # as cloned: no models/
    config = tmp_path / "baselines.toml"
    config.write_text(f'[viwsnet]\nrepo = "{repo}"\npython = "{sys.executable}"\ncheckpoint = "{touch(tmp_path / "c.pth")}"\n')
    assert main(["--config", str(config), "check", "viwsnet"]) == 1
    out = capsys.readouterr().out
    assert "ckpt_S.pth and ckpt_T.pth not in " + str(repo / "models") in out
    assert "https://drive.google.com/drive/folders/15iZKXFT7apjUSoN2WUMAbb0tvJgyh3YP" in out
    assert "not a clone" not in out and "git clone" not in out


# -- FoundIR: img2patch / patch2img, scaled to 64 ------------------------------------------------------------------
#: (height, width): src/model.py:1547-1586 at crop 64 (overlap 32) leaves 2h - 64 zero rows for 32 < h < 64 when h*w >
#: 64^2 (960x1280 at 1024), zero columns likewise; the others are tiled or untiled whole
FOUNDIR_SIZES = {"rows_960x1280": (60, 80), "cols_1280x960": (80, 60), "rows_720x1920": (45, 120),
                 "tiled_1080x1920": (68, 120), "half_side_512x2100": (32, 200), "untiled": (37, 29)}


@pytest.fixture()
def foundir64(monkeypatch):
    import baselines.methods.foundir as foundir

    monkeypatch.setattr(foundir, "TILE", 64)
    monkeypatch.setenv("STANDIN_CROP", "64")


@pytest.mark.parametrize("size", FOUNDIR_SIZES.values(), ids=FOUNDIR_SIZES.keys())
def test_foundir_output_has_the_input_size_for_every_tiling_class(tmp_path, foundir64, size):
    h, w = size
    sample = image_sample(tmp_path, "img", (w, h))
    repo, settings = ready("foundir", tmp_path)
    baselines.get("foundir").restore([sample], tmp_path / "out", RestoreConfig(settings=settings, progress=False))
    assert_full(tmp_path / "out/img.png", sample.input)
    assert_inverted(tmp_path / "out/img.png", sample.input)


def test_foundir_standin_leaves_zero_rows_without_the_padding(tmp_path, foundir64, monkeypatch):
    import baselines.methods.foundir as foundir

    monkeypatch.setattr(foundir, "tiling_size", lambda h, w, tile=None: (h, w))
    sample = image_sample(tmp_path, "img", (80, 60))
    repo, settings = ready("foundir", tmp_path)
    baselines.get("foundir").restore([sample], tmp_path / "out", RestoreConfig(settings=settings, progress=False))
    got = np.asarray(Image.open(tmp_path / "out/img.png"))
    assert (got[: 2 * 60 - 64] == 0).all() and not (got[2 * 60 - 64:] == 0).all()


def test_foundir_tiling_rule_at_upstream_scale():
    from baselines.methods.foundir import tiling_size

    assert tiling_size(960, 1280) == (1024, 1280)
    assert tiling_size(720, 1920) == (1024, 1920)
    assert tiling_size(1280, 960) == (1280, 1024)
    assert tiling_size(1080, 1920) == (1080, 1920) and tiling_size(512, 2100) == (512, 2100)
    assert tiling_size(1000, 1000) == (1000, 1000)  # not tiled (<= 1024^2)


# -- AverNet: patch testing, one call per clip ---------------------------------------------------------------------
def test_avernet_pads_patches_and_stages_clip_by_clip(tmp_path, monkeypatch):
    import yaml

    import baselines.methods.avernet as avernet

    monkeypatch.setattr(avernet, "MIN_SIDE", 32)
    monkeypatch.setenv("STANDIN_MIN_SIDE", "32")
    monkeypatch.setenv("STANDIN_MAX_FOLDERS", "1")  # video_test_dataset.py:70-95 caches every folder of a call
    samples = [clip_sample(tmp_path, "small", (70, 20)), clip_sample(tmp_path, "odd", (70, 42)),
               clip_sample(tmp_path, "big", (130, 100)), clip_sample(tmp_path, "single", (64, 64), frames=1)]
    repo, settings = ready("avernet", tmp_path)
    template = yaml.safe_load((repo / avernet.TEMPLATE).read_text())
    template["val"]["patch_testing_size"] = 64
    (repo / avernet.TEMPLATE).write_text(yaml.safe_dump(template))
    out = tmp_path / "out"
    baselines.get("avernet").restore(samples, out, RestoreConfig(settings=settings, progress=False))
    assert len(records(tmp_path)) == 4
    for s in samples:
        assert len(list((out / s.id).iterdir())) == len(s.input)
        for i, frame in enumerate(s.input):
            assert_full(out / s.id / f"{i:05d}.png", frame)
            assert_inverted(out / s.id / f"{i:05d}.png", frame)


def test_avernet_padding_rule_at_upstream_scale():
    from baselines.methods.avernet import pad_size

    assert pad_size(480, 832) == (480, 832)  # the WAN clip size needs no padding
    assert pad_size(250, 301) == (256, 304) and pad_size(511, 2000) == (512, 2000)


def test_avernet_refuses_its_published_weights_for_the_suites_degradations(tmp_path):
    repo, settings = ready("avernet", tmp_path)
    published = repo / "experiments/pretrained_models/AverNet_final.pth"
    published.parent.mkdir(parents=True, exist_ok=True)
    Path(settings.pop("checkpoint")).rename(published)
    sample = clip_sample(tmp_path, "hazy", (64, 64), degradation=("haze",))
    with pytest.raises(SetupError, match="not trained for haze") as err:
        baselines.get("avernet").restore([sample], tmp_path / "out", RestoreConfig(settings=settings, progress=False))
    assert "synthesize_datasets.py" in str(err.value) and "slurm.train --methods avernet" in str(err.value)
    assert "allow_uncovered = true" in str(err.value)
    report = baselines.get("avernet").restore([sample], tmp_path / "out", RestoreConfig(
        settings={**settings, "allow_uncovered": True}, progress=False))  # asked for explicitly
    assert report.weights["source"] == "published" and "none of the suite" in report.weights["note"]


def test_avernet_setup_names_version_py_and_an_environment_that_cannot_import(tmp_path):
    repo, settings = ready("avernet", tmp_path)
    (repo / "basicsr/version.py").unlink()
    problems = baselines.get("avernet").problems(settings)
    assert any("version.py" in p.what and "setup.py develop" in p.fix for p in problems)
    (repo / "basicsr/version.py").write_text("__version__ = 'x'\n")
    (repo / "basicsr/archs/avernet_arch.py").write_text("from mmcv.ops.deform_conv import DeformConv2dFunction\n")
    problems = baselines.get("avernet").verify(settings)
    assert len(problems) == 1 and "No module named 'mmcv'" in problems[0].what and "mim install mmcv" in problems[0].fix


# -- PixWizard: the CLIP folder upstream loads relative to its working directory --------------------------------
def test_pixwizard_without_clip_says_where_prefetch_puts_it(tmp_path):
    repo, settings = ready("pixwizard", tmp_path, env={"HF_HOME": str(tmp_path / "empty_hf")})
    problems = baselines.get("pixwizard").problems(settings)
    text = "\n".join(f"{p.what} {p.fix}" for p in problems)
    assert "openai/clip-vit-large-patch14-336" in text
    assert str(tmp_path / "empty_hf/hub/models--openai--clip-vit-large-patch14-336") in text
    assert "prefetch --baselines pixwizard" in text


def test_pixwizard_clip_path_must_be_a_whole_model_folder(tmp_path):
    half = tmp_path / "clip336"
    touch(half / "config.json")
    repo, settings = ready("pixwizard", tmp_path, clip_path=str(half))
    problems = baselines.get("pixwizard").problems(settings)
    assert [p.what.split(" (")[0] for p in problems] == [f"clip_path {half.resolve()} is not a CLIP ViT-L/14-336 folder"]
    for name in ("vocab.json", "merges.txt", "tokenizer_config.json", "pytorch_model.bin"):
        touch(half / name)
    assert baselines.get("pixwizard").problems(settings) == []


def test_pixwizard_prompts_are_explicit_and_overridable(tmp_path):
    import json

    from baselines.methods.pixwizard import PROMPTS

    assert PROMPTS["snow"] == "Get rid of the snow." and PROMPTS["blur"] == "Deblur"
    repo, settings = ready("pixwizard", tmp_path, prompts={"snow": "Desnow"})
    samples = [image_sample(tmp_path, "s", (40, 24), ("snow",)), image_sample(tmp_path, "b", (40, 24), ("blur",))]
    report = baselines.get("pixwizard").restore(samples, tmp_path / "out", RestoreConfig(settings=settings,
                                                                                          progress=False))
    assert json.loads(report.notes[-1].removeprefix("prompts: ")) == {"desnow": "Desnow", "deblur": "Deblur"}


# -- DFPIR: keys dropped silently (test_5D_DFPIR.py:213-217) --------------------------------------------------------
def test_dfpir_refuses_a_checkpoint_whose_keys_upstream_would_drop(tmp_path, monkeypatch):
    repo, settings = ready("dfpir", tmp_path, monkeypatch)
    prefixed = tmp_path / "w/prefixed.pth"
    torch.save({"state_dict": tiny_state(prefix="module.")}, prefixed)
    sample = image_sample(tmp_path, "r", (40, 24))
    with pytest.raises(SetupError, match="does not match upstream's dfpir model") as err:
        baselines.get("dfpir").restore([sample], tmp_path / "out", RestoreConfig(
            settings={**settings, "checkpoint": str(prefixed)}, progress=False))
    assert "extra 'module.' prefix" in str(err.value)
    assert records(tmp_path) == []
    # what the check prevents: upstream runs and restores nothing (random weights, grey here)
    baselines.get("dfpir").restore([sample], tmp_path / "out", RestoreConfig(
        settings={**settings, "checkpoint": str(prefixed), "skip_key_check": True}, progress=False))
    assert (np.asarray(Image.open(tmp_path / "out/r.png")) == 128).all()


def test_dfpir_refuses_a_checkpoint_without_state_dict_or_with_pickled_objects(tmp_path, monkeypatch):
    repo, settings = ready("dfpir", tmp_path, monkeypatch)
    bare = tmp_path / "w/bare.pth"
    torch.save(tiny_state(), bare)
    problems = baselines.get("dfpir").verify({**settings, "checkpoint": str(bare)})
    assert len(problems) == 1 and "no 'state_dict'" in problems[0].what
    pickled = tmp_path / "w/pickled.pth"
    torch.save({"state_dict": tiny_state(), "args": __import__("argparse").Namespace(x=1)}, pickled)
    problems = baselines.get("dfpir").verify({**settings, "checkpoint": str(pickled)})
    assert len(problems) == 1 and "safely" in problems[0].what and "skip_key_check" in problems[0].fix


def test_dfpir_needs_vit_b32_in_the_clip_cache_of_its_home(tmp_path, monkeypatch):
    repo, settings = ready("dfpir", tmp_path, monkeypatch, env={"HOME": str(tmp_path / "other_home")})
    problems = baselines.get("dfpir").problems(settings)
    assert [p.what.split(" is not cached at ")[1].split(";")[0] for p in problems] == [
        str(tmp_path / "other_home/.cache/clip/ViT-B-32.pt")]


# -- AutoDIR: which file is the final image (eval_w_SCM.py:263-267) --------------------------------------------------
@pytest.mark.parametrize("artifacts", ["blur,no", "blur,low resolution,no", "low resolution,rain,no",
                                       "noise,blur,rain,haze,low resolution,snow,low resolution"])
def test_autodir_takes_the_image_upstream_carries_on(tmp_path, monkeypatch, artifacts):
    monkeypatch.setenv("STANDIN_ARTIFACTS", f"s00000={artifacts}")
    repo, settings = ready("autodir", tmp_path)
    sample = image_sample(tmp_path, "x", (40, 24))
    report = baselines.get("autodir").restore([sample], tmp_path / "out", RestoreConfig(settings=settings,
                                                                                         progress=False))
    assert_inverted(tmp_path / "out/x.png", sample.input)  # the other file of the last step is grey
    last = [a for a in artifacts.split(",")[:7] if a != "no"][-1]
    assert report.notes == [f"x: step {len([a for a in artifacts.split(',')[:7] if a != 'no']) - 1}: {last}"
                            + (" (decode, no SCM)" if last == "low resolution" else "")]


def test_autodir_needs_clip_l14_in_its_hf_cache(tmp_path):
    repo, settings = ready("autodir", tmp_path, env={"HF_HOME": str(tmp_path / "elsewhere")})
    (problem,) = baselines.get("autodir").problems(settings)
    assert "openai/clip-vit-large-patch14" in problem.what
    assert str(tmp_path / "elsewhere/hub/models--openai--clip-vit-large-patch14") in problem.what


# -- DCPT: CUDA only ------------------------------------------------------------------------------------------------
def test_dcpt_refuses_num_gpu_0(tmp_path):
    repo, settings = ready("dcpt", tmp_path, num_gpu=0)
    (problem,) = baselines.get("dcpt").problems(settings)
    assert "num_gpu = 0" in problem.what and "base_model.py:195,198" in problem.what
    if not torch.cuda.is_available():  # what upstream does with it on a machine without CUDA
        from baselines.base import RestoreReport

        out = tmp_path / "out"
        report = RestoreReport(method="dcpt", out_dir=out, outputs={}, token="t")
        baselines.get("dcpt").run([image_sample(tmp_path, "i", (16, 16))], out,
                                  RestoreConfig(settings=settings, progress=False), report)
        (error,) = report.upstream_errors  # kept on the report: the outputs written so far are still mapped back
        assert isinstance(error, UpstreamError) and "CUDA" in str(error)
        assert [f.sample for f in report.failures] == ["i"]


# -- run-time downloads --------------------------------------------------------------------------------------------
def test_download_targets_follow_the_environment_upstream_runs_in(tmp_path):
    from baselines.downloads import RuntimeDownload

    hf = RuntimeDownload("x", "hf", "org/model", "a.py:1", files=("config.json", "a.bin|b.safetensors"))
    assert hf.target({"HF_HUB_CACHE": "/c"}) == Path("/c/models--org--model")
    assert hf.target({"HF_HOME": "/h", "HOME": "/u"}) == Path("/h/hub/models--org--model")
    assert hf.target({"HOME": "/u"}) == Path("/u/.cache/huggingface/hub/models--org--model")
    assert hf.target({"XDG_CACHE_HOME": "/x", "HOME": "/u"}) == Path("/x/huggingface/hub/models--org--model")
    env = {"HF_HOME": str(tmp_path)}
    assert not hf.present(env)
    from standins import fake_hf_snapshot

    snap = fake_hf_snapshot(tmp_path / "hub", "org/model", ("config.json",))
    assert not hf.present(env)  # no weights yet
    touch(snap / "b.safetensors")
    assert hf.present(env)
    clip = RuntimeDownload("c", "url", "https://h/x/ViT-B-32.pt", "b.py:2", cache="clip")
    assert clip.target({"HOME": "/u"}) == Path("/u/.cache/clip/ViT-B-32.pt")
    hub = RuntimeDownload("v", "url", "https://h/vgg16-397923af.pth", "c.py:3", cache="torch_hub")
    assert hub.target({"TORCH_HOME": "/t"}) == Path("/t/hub/checkpoints/vgg16-397923af.pth")


def test_prefetch_lists_what_the_tables_baselines_download(tmp_path, monkeypatch, capsys):
    from benchmarks.prefetch import main

    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("HF_HOME", raising=False)
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setenv("YPT_BASELINES_CONFIG", str(tmp_path / "none.toml"))
    assert main(["table1", "table2", "table3", "--dry-run"]) == 0
    out = capsys.readouterr().out
    hub = tmp_path / "home/.cache/huggingface/hub"
    assert ("would fetch [autodir] openai/clip-vit-large-patch14 (Hugging Face snapshot; model/autodir_model.py:63-71"
            in out and f"-> {hub / 'models--openai--clip-vit-large-patch14'}\n" in out)
    assert ("would fetch [dfpir] https://openaipublic.azureedge.net/clip/models/40d365715913c9da98579312b702a82c18be219cc"
            "2a73407c4526f58eba950af/ViT-B-32.pt" in out and f"-> {tmp_path / 'home/.cache/clip/ViT-B-32.pt'}\n" in out)
    assert (f"would fetch [dover] https://dl.fbaipublicfiles.com/convnext/convnext_tiny_1k_224_ema.pth -> "
            f"{tmp_path / 'torch/hub/checkpoints/convnext_tiny_1k_224_ema.pth'}\n" in out)
    assert f"-> {hub / 'models--openai--clip-vit-large-patch14-336'}\n" in out
    assert not (tmp_path / "home").exists()  # nothing downloaded
    # with --baselines, what training downloads too (ViWS-Net's VGG16 perceptual loss)
    assert main(["--baselines", "viwsnet", "--dry-run"]) == 0
    assert f"-> {tmp_path / 'torch/hub/checkpoints/vgg16-397923af.pth'}" in capsys.readouterr().out


# -- upstream commands run in their own process group ---------------------------------------------------------------
def test_an_interrupted_upstream_command_ends_its_whole_process_group(tmp_path):
    from baselines.external import run_logged

    script = tmp_path / "spawn.py"
    script.write_text("import subprocess, sys, time\n"
                      "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)'])\n"
                      f"open({str(tmp_path / 'child.pid')!r}, 'w').write(str(child.pid))\n"
                      "time.sleep(120)\n")

    def interrupt(*_):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGALRM, interrupt)
    signal.alarm(3)
    try:
        with open(tmp_path / "log", "w") as log, pytest.raises(KeyboardInterrupt):
            run_logged([sys.executable, str(script)], cwd=tmp_path, env=dict(os.environ), log=log, what="t")
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    pid = int((tmp_path / "child.pid").read_text())
    for _ in range(50):
        stat = Path(f"/proc/{pid}/stat")
        if not stat.exists() or stat.read_text().rsplit(")", 1)[1].split()[0] == "Z":  # gone, or a zombie
            break
        time.sleep(0.1)
    else:
        os.kill(pid, signal.SIGKILL)
        pytest.fail(f"the upstream command's child {pid} survived the interrupt")


def test_check_runs_the_key_check_once_everything_is_in_place(tmp_path, monkeypatch, capsys):
    from baselines.__main__ import main

    repo, settings = ready("dfpir", tmp_path, monkeypatch)
    prefixed = tmp_path / "w/prefixed.pth"
    torch.save({"state_dict": tiny_state(prefix="module.")}, prefixed)
    config = tmp_path / "baselines.toml"
    env = "".join(f'{k} = "{v}"\n' for k, v in settings["env"].items())
    config.write_text(f'[dfpir]\nrepo = "{repo}"\npython = "{sys.executable}"\ncheckpoint = "{settings["checkpoint"]}"\n'
                      f'[dfpir.env]\n{env}')
    assert main(["--config", str(config), "check", "dfpir"]) == 0
    assert capsys.readouterr().out.rstrip().endswith("ready")
    config.write_text(config.read_text().replace(settings["checkpoint"], str(prefixed)))
    assert main(["--config", str(config), "check", "dfpir"]) == 1
    assert "extra 'module.' prefix" in capsys.readouterr().out
