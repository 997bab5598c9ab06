"""External wrappers against stand-in upstream scripts (same CLI, same output naming as the real ones).

Each stand-in records its argv, interpreter, cwd and environment, checks the inputs are where the real script
reads them (including GT files it would open), and writes 255 - input where the real one writes its outputs.
The tests check the exact argument list, the interpreter/environment used, and that every sample id gets its
own output back (the inverted input, so a mix-up between samples is caught).
"""
from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image

import baselines
from baselines.base import RestoreConfig, SetupError
from baselines.config import interpreter
from benchmarks.datasets import Sample

RECORD_HELPER = '''
import json, os, sys
def record(**extra):
    with open(os.environ["STANDIN_RECORD"], "a") as fh:
        fh.write(json.dumps({"argv": sys.argv, "executable": sys.executable, "cwd": os.getcwd(),
                             "marker": os.environ.get("YPT_STANDIN_ENV"), **extra}) + "\\n")
def invert(src, dst, size=None):
    from PIL import Image
    img = Image.open(src).convert("RGB")
    if size is not None:
        img = img.resize(size, Image.BICUBIC)
    os.makedirs(os.path.dirname(dst) or ".", exist_ok=True)
    Image.eval(img, lambda v: 255 - v).save(dst)
'''

STANDINS = {
    "autodir": ("eval_w_SCM.py", '''
import argparse, os
p = argparse.ArgumentParser()
p.add_argument("--resolution", default=768, type=int); p.add_argument("--need-resize", action="store_true")
p.add_argument("--customize", default=None); p.add_argument("--steps", default=100, type=int)
p.add_argument("--config", default="configs/generate.yaml"); p.add_argument("--ckpt", default="checkpoints/autodir.ckpt")
p.add_argument("--input", required=True); p.add_argument("--gt"); p.add_argument("--output", required=True)
p.add_argument("--cfg-text", default=1.0, type=float); p.add_argument("--cfg-image", default=1.0, type=float)
p.add_argument("--seed", type=int)
a = p.parse_args()
record()
assert os.path.isfile(a.config) and os.path.isfile(a.ckpt)
name = os.path.basename(a.input).split(".")[0]
from PIL import Image
Image.open(a.input).save(os.path.join(a.output, name + "_input.png"))
if name in os.environ.get("STANDIN_NO_ARTIFACT", ""):
    print("No artifact detected. End of the Image Restoration Process.")
else:
    for step in range(3):  # the last step holds the final result
        Image.new("RGB", Image.open(a.input).size).save(os.path.join(a.output, f"{name}_step_{step}_result.png"))
        if step < 2:
            Image.new("RGB", Image.open(a.input).size).save(os.path.join(a.output, f"{name}_step_{step}_result_w_SCM.png"))
    invert(a.input, os.path.join(a.output, f"{name}_step_2_result_w_SCM.png"))
'''),
    "pixwizard": ("sample_pixwizard.py", '''
import argparse, json, os
p = argparse.ArgumentParser()
for k in ("--ckpt", "--sdxl_vae_path", "--tokenizer_path", "--clip_tokenizer_path", "--image_save_path",
          "--json_path", "--resolution", "--sampling-method"):
    p.add_argument(k)
for k in ("--num_sampling_steps", "--seed"):
    p.add_argument(k, type=int)
for k in ("--time_shifting_factor", "--text_cfg_scale", "--image_cfg_scale"):
    p.add_argument(k, type=float)
p.add_argument("--ema", action="store_true")
a = p.parse_known_args()[0]
record()
assert os.path.isfile(os.path.join(a.ckpt, "model_args.pth"))
os.makedirs(os.path.join(a.image_save_path, "images"), exist_ok=True)
for idx, item in enumerate(json.load(open(a.json_path))):
    w, h = 80, 48  # a bucket size, not the input size
    sid = f"{idx}_{w}x{h}"
    base = f"{a.image_save_path}/images/{item.get('task', 'uk')}_{item.get('dataset', 'uk')}_{sid}"
    invert(item["input_path"], base + ".png", (w, h))
    invert(item["input_path"], base + "_input.png", (w, h))
    open(base + "_prompt.txt", "w").write(item["prompt"])
'''),
    "foundir": ("test.py", '''
import argparse, os
p = argparse.ArgumentParser()
p.add_argument("--dataroot"); p.add_argument("--meta")
a = p.parse_args()
record()
assert os.path.isfile("premodel/model-2000.pt")
for line in open(a.meta):
    gt, lq = line.strip().split(", ")
    gt_path, lq_path = os.path.join(a.dataroot, gt), os.path.join(a.dataroot, lq)
    assert os.path.isfile(gt_path)
    folder = os.path.join("./results", gt_path.split("/")[-3])
    invert(lq_path, os.path.join(folder, gt_path.split("/")[-1]))
'''),
    "dcpt": ("basicsr/test.py", '''
import argparse, os, yaml
p = argparse.ArgumentParser()
p.add_argument("-opt", required=True)
a = p.parse_args()
opt = yaml.safe_load(open(a.opt))
record(basicsr_jit=os.environ.get("BASICSR_JIT"), options=opt)
root = os.path.abspath(os.path.join(__file__, os.pardir, os.pardir))
assert os.path.isfile(opt["path"]["pretrain_network_g"])
vis = os.path.join(root, "results", opt["name"], "visualization")
for _, ds in sorted(opt["datasets"].items()):
    assert ds["type"] == "PairedImageDataset"
    assert sorted(os.listdir(ds["dataroot_gt"])) == sorted(os.listdir(ds["dataroot_lq"]))  # paired by name
    for f in sorted(os.listdir(ds["dataroot_lq"])):
        stem = os.path.splitext(f)[0]
        suffix = opt["val"]["suffix"] or opt["name"]
        invert(os.path.join(ds["dataroot_lq"], f), os.path.join(vis, ds["name"], f"{stem}_{suffix}.png"))
'''),
    "dfpir": ("test_5D_DFPIR.py", '''
import argparse, os
p = argparse.ArgumentParser()
for k in ("--gpu", "--pretrained_1", "--denoise_path", "--derain_path", "--dehaze_path", "--deblur_path",
          "--lowlight_path", "--output_path"):
    p.add_argument(k)
p.add_argument("--cuda", type=int, default=0)
a = p.parse_args()
record()
if not os.path.isfile(a.pretrained_1):
    print("=> no model found")  # upstream then runs random weights
from PIL import Image
def crop16(img):
    w, h = img.size
    cw, ch = w % 16, h % 16
    return img.crop((cw // 2, ch // 2, w - cw + cw // 2, h - ch + ch // 2))
def run(ids, gt_of, name_of, out):
    assert ids, "empty test set: upstream divides by zero"
    os.makedirs(out, exist_ok=True)
    for path in ids:
        Image.open(gt_of(path))  # upstream opens the GT
        img = crop16(Image.open(path).convert("RGB"))
        Image.eval(img, lambda v: 255 - v).save(out + name_of(path) + "_12.34" + ".png")
den = os.path.join(a.denoise_path, "bsd68/")
run([den + f for f in os.listdir(den)], lambda p: p, lambda p: p.split("/")[-1].split(".")[0],
    a.output_path + "denoise/25/")
rain = a.derain_path + "Rain100L/"
run([rain + "input/" + f for f in os.listdir(rain + "input/")], lambda p: p.replace("input/", "target/no"),
    lambda p: p.split("/")[-1][:-4], a.output_path + "derain/")
run([a.dehaze_path + "input/" + f for f in os.listdir(a.dehaze_path + "input/")],
    lambda p: p.split("input")[0] + "target/" + p.split("/")[-1].split("_")[0] + ".png",
    lambda p: p.split("/")[-1][:-4], a.output_path + "dehaze/")
run([a.deblur_path + "blur/" + f for f in os.listdir(a.deblur_path + "blur/")], lambda p: p.replace("blur", "sharp"),
    lambda p: p.split("/")[-1][:-1], a.output_path + "deblur/")
run([a.lowlight_path + "low/" + f for f in os.listdir(a.lowlight_path + "low/")], lambda p: p.replace("low", "high"),
    lambda p: p.split("/")[-1][:-1], a.output_path + "lowlight/")
'''),
    "avernet": ("basicsr/test.py", '''
import argparse, os, yaml
p = argparse.ArgumentParser()
p.add_argument("-opt", required=True)
a = p.parse_args()
opt = yaml.safe_load(open(a.opt))
record(options=opt)
root = os.path.abspath(os.path.join(__file__, os.pardir, os.pardir))
assert os.path.isfile(opt["path"]["pretrain_network_g"]) and os.path.isfile(opt["network_g"]["spynet_pretrained"])
results = os.path.join(opt["path"].get("results_root") or os.path.join(root, "results"), opt["name"])
for _, ds in sorted(opt["datasets"].items()):
    for folder in sorted(os.listdir(ds["dataroot_lq"])):
        lq = sorted(os.listdir(os.path.join(ds["dataroot_lq"], folder)))
        assert len(lq) == len(os.listdir(os.path.join(ds["dataroot_gt"], folder)))
        for idx, f in enumerate(lq):
            invert(os.path.join(ds["dataroot_lq"], folder, f),
                   os.path.join(results, "visualization", ds["name"], folder, f"{idx:08d}_{opt['name']}.png"))
'''),
    "viwsnet": ("eval_derain.py", '''
import argparse, os
p = argparse.ArgumentParser()
p.add_argument("--data_dir"); p.add_argument("--model", default="best.pth"); p.add_argument("--nFrames", type=int, default=5)
p.add_argument("--output", default="Results/")
a = p.parse_args()
record()
assert os.path.isfile("./models/ckpt_S.pth") and os.path.isfile(a.model)
half = a.nFrames // 2
for file_id, folder in enumerate(sorted(os.listdir(a.data_dir))):
    path = os.path.join(a.data_dir, folder)
    n = len([f for f in os.listdir(path) if f.endswith("jpg") and "rs" not in f])
    out = "Results/VIWSNET_REVIDE/" + str(file_id + 1).zfill(2)
    os.makedirs(out, exist_ok=True)
    for img_id in range(1, n - a.nFrames + 2):
        centre = img_id + half
        for j in range(centre - half, centre + half + 1):
            assert os.path.isfile("Dataset/REVIDE/Test_GT/" + path.split("/")[3] + "/" + str(j).zfill(5) + ".jpg")
        invert(path + "/" + str(centre).zfill(5) + ".jpg", out + "/recover" + str(centre) + ".png")
'''),
}



def _image(path: Path, size: tuple[int, int], seed: int) -> Path:
    """Blocky image (8x8 blocks of random colour): survives JPEG q100 and padding/cropping."""
    rng = np.random.default_rng(seed)
    w, h = size
    blocks = rng.integers(30, 225, size=(h // 8 + 1, w // 8 + 1, 3), dtype=np.uint8)
    array = np.kron(blocks, np.ones((8, 8, 1), dtype=np.uint8))[:h, :w]
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path)
    return path


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


def make_repo(tmp_path: Path, key: str) -> Path:
    repo = tmp_path / f"upstream_{key}"
    script, body = STANDINS[key]
    (repo / script).parent.mkdir(parents=True, exist_ok=True)
    (repo / script).write_text(RECORD_HELPER + textwrap.dedent(body))
    return repo


def settings_for(tmp_path: Path, repo: Path, **extra) -> dict:
    return {"repo": str(repo), "python": sys.executable,
            "env": {"STANDIN_RECORD": str(tmp_path / "record.jsonl"), "YPT_STANDIN_ENV": "configured-env"}, **extra}


def records(tmp_path: Path) -> list[dict]:
    return [json.loads(line) for line in (tmp_path / "record.jsonl").read_text().splitlines()]


def touch(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"weights")
    return path


def assert_inverted(output: Path, source: Path, tol: float = 0.0) -> None:
    got = np.asarray(Image.open(output).convert("RGB"), dtype=np.int16)
    want = 255 - np.asarray(Image.open(source).convert("RGB"), dtype=np.int16)
    assert got.shape == want.shape
    assert np.abs(got - want).mean() <= tol, (output, np.abs(got - want).mean())


def assert_common(rec: dict, repo: Path) -> None:
    assert rec["executable"] == sys.executable
    assert rec["marker"] == "configured-env"


# --------------------------------------------------------------------------------------------------------------
def test_autodir(tmp_path, image_samples, monkeypatch):
    repo = make_repo(tmp_path, "autodir")
    touch(repo / "configs/generate.yaml")
    ckpt = touch(tmp_path / "w/autodir.ckpt")
    monkeypatch.setenv("STANDIN_NO_ARTIFACT", "s00003")
    out = tmp_path / "out"
    report = baselines.get("autodir").restore(
        image_samples, out, RestoreConfig(settings=settings_for(tmp_path, repo, checkpoint=str(ckpt)),
                                          keep_work=True, progress=True))
    recs = records(tmp_path)
    assert len(recs) == 4
    work = report.work_dir
    assert recs[0]["argv"] == ["eval_w_SCM.py", "--input", str(work / "inputs/s00000.png"),
                               "--output", str(work / "results/s00000"), "--ckpt", str(ckpt),
                               "--config", "configs/generate.yaml", "--steps", "200", "--cfg-text", "1.0",
                               "--seed", "42"]
    assert report.commands[0][0] == sys.executable and recs[0]["cwd"] == str(repo)
    assert_common(recs[0], repo)
    for s in image_samples[:3]:
        assert_inverted(out / f"{s.id}.png", s.input)
    assert np.array_equal(np.asarray(Image.open(out / "hazy.png")), np.asarray(Image.open(image_samples[3].input)))
    assert any("no artifact" in n for n in report.notes)
    assert report.weights["checkpoint"] == str(ckpt)
    assert report.log.read_text().count("$ (cwd=") == 4 and report.log.parent == out


def test_pixwizard_resizes_bucket_outputs_back(tmp_path, image_samples):
    repo = make_repo(tmp_path, "pixwizard")
    for task, line in (("derain", "Remove the rain."), ("lowlight_enhance", "Brighten it."), ("dehaze", "Clear it.")):
        (repo / "prompts").mkdir(exist_ok=True)
        (repo / "prompts" / f"{task}.txt").write_text(f"\n{line}\nsecond line\n")
    ckpt = tmp_path / "pw"
    touch(ckpt / "model_args.pth"), touch(ckpt / "consolidated_ema.00-of-01.pth")
    vae, tok = touch(tmp_path / "vae/config.json").parent, touch(tmp_path / "gemma/tokenizer.json").parent
    out = tmp_path / "out"
    report = baselines.get("pixwizard").restore(
        image_samples, out, RestoreConfig(settings=settings_for(
            tmp_path, repo, checkpoint=str(ckpt), sdxl_vae_path=str(vae), tokenizer_path=str(tok)),
            keep_work=True, progress=False))
    (rec,) = records(tmp_path)
    work = report.work_dir
    assert rec["argv"] == [
        "sample_pixwizard.py", "ODE", "--ckpt", str(ckpt), "--image_save_path", str(work / "generated"),
        "--sampling-method", "euler", "--num_sampling_steps", "60", "--seed", "42", "--resolution", "768",
        "--json_path", str(work / "pixwizard_inputs.json"), "--sdxl_vae_path", str(vae), "--tokenizer_path",
        str(tok), "--clip_tokenizer_path", "models/clip/clip-vit-large-patch14-336", "--time_shifting_factor",
        "1", "--text_cfg_scale", "4.0", "--image_cfg_scale", "1.0", "--ema"]
    assert_common(rec, repo)
    entries = json.loads((work / "pixwizard_inputs.json").read_text())
    assert [e["prompt"] for e in entries] == ["Remove the rain.", "Remove the rain.", "Brighten it.", "Clear it."]
    for s in image_samples:
        assert Image.open(out / f"{s.id}.png").size == Image.open(s.input).size
        assert_inverted(out / f"{s.id}.png", s.input, tol=40)  # two bicubic resizes of 8px blocks
    # the mapping is by index: a swapped sample would be far off
    a = np.asarray(Image.open(out / "rain/0001.png"), dtype=float)
    assert np.abs(a - (255 - np.asarray(Image.open(image_samples[0].input), dtype=float))).mean() < 40


def test_foundir_collects_and_cleans_its_results_folder(tmp_path, image_samples):
    repo = make_repo(tmp_path, "foundir")
    touch(repo / "premodel/model-2000.pt")
    out = tmp_path / "out"
    report = baselines.get("foundir").restore(image_samples, out, RestoreConfig(
        settings=settings_for(tmp_path, repo), keep_work=True, progress=False))
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
    for s in image_samples:
        assert_inverted(out / f"{s.id}.png", s.input)
    assert list((repo / "results").iterdir()) == []
    assert not (out / "_work").exists()  # cleaned without keep_work
    assert report.weights["variant"] == "NAFNet"


def test_dfpir_maps_degradations_to_tasks_and_crops_back(tmp_path, image_samples):
    repo = make_repo(tmp_path, "dfpir")
    ckpt = touch(tmp_path / "w/dfpir.pth")
    stage = tmp_path / "stage"
    stage.mkdir()
    out = tmp_path / "out"
    report = baselines.get("dfpir").restore(image_samples, out, RestoreConfig(
        settings=settings_for(tmp_path, repo, checkpoint=str(ckpt), stage_dir=str(stage)), progress=True))
    recs = records(tmp_path)
    assert len(recs) == 3  # one call per task: derain (2 samples), lowlight, dehaze
    argv = recs[0]["argv"]
    assert argv[:3] == ["test_5D_DFPIR.py", "--pretrained_1", str(ckpt)]
    assert [argv[i] for i in range(3, len(argv), 2)] == ["--denoise_path", "--derain_path", "--dehaze_path",
                                                         "--deblur_path", "--lowlight_path", "--output_path"]
    assert all(a.endswith("/") for a in argv[4::2])
    assert argv[-1] == str(report.work_dir / "derain") + "/"
    assert_common(recs[0], repo)
    for s in image_samples:
        assert_inverted(out / f"{s.id}.png", s.input)  # padded to 16, cropped back: exact
    assert report.notes == ["task derain: 2 sample(s)", "task lowlight: 1 sample(s)", "task dehaze: 1 sample(s)"]
    assert list(stage.iterdir()) == []


def test_dfpir_refuses_without_checkpoint(tmp_path, image_samples):
    repo = make_repo(tmp_path, "dfpir")
    with pytest.raises(SetupError, match="random weights") as err:
        baselines.get("dfpir").restore(image_samples, tmp_path / "out",
                                       RestoreConfig(settings=settings_for(tmp_path, repo), progress=False))
    assert "drive.google.com" in str(err.value)
    assert not (tmp_path / "record.jsonl").exists()


def test_avernet_frame_folders(tmp_path, video_samples):
    repo = make_repo(tmp_path, "avernet")
    template = {"name": "AverNet_Set8_T12", "model_type": "VideoRecurrentModel",
                "network_g": {"type": "AverNet", "mid_channels": 96, "keyframe_interval": 6,
                              "spynet_pretrained": "experiments/pretrained_models/flownet/spynet.pth"},
                "val": {"save_img": True, "seq_padding_size": 0, "patch_testing_size": 512, "overlap_size": 20,
                        "metrics": {"psnr": {"type": "psnr"}}}}
    (repo / "options/test").mkdir(parents=True)
    (repo / "options/test/test_AverNet_Set8_T12.yml").write_text(yaml.safe_dump(template))
    ckpt = touch(tmp_path / "w/avernet_retrained.pth")
    spynet = touch(repo / "experiments/pretrained_models/flownet/spynet_sintel_final-3d2a1287.pth")
    out = tmp_path / "out"
    report = baselines.get("avernet").restore(video_samples, out, RestoreConfig(
        settings=settings_for(tmp_path, repo, checkpoint=str(ckpt), weights="retrained by the paper's authors"),
        progress=False))
    (rec,) = records(tmp_path)
    assert rec["argv"][:2] == ["basicsr/test.py", "-opt"] and rec["cwd"] == str(repo)
    assert_common(rec, repo)
    opt = rec["options"]
    assert opt["network_g"]["mid_channels"] == 96 and opt["network_g"]["spynet_pretrained"] == str(spynet)
    assert opt["val"]["patch_testing_size"] == 512 and opt["val"]["metrics"] is None
    for s in video_samples:
        for i, frame in enumerate(s.input):
            assert_inverted(out / s.id / f"{i:05d}.png", frame)
    assert report.weights["weights"] == "retrained by the paper's authors"
    assert report.weights["checkpoint"] == str(ckpt)


def test_viwsnet_collects_from_where_it_really_writes(tmp_path, video_samples):
    repo = make_repo(tmp_path, "viwsnet")
    touch(repo / "models/ckpt_S.pth")
    ckpt = touch(tmp_path / "w/viwsnet.pth")
    out = tmp_path / "out"
    report = baselines.get("viwsnet").restore(video_samples, out, RestoreConfig(
        settings=settings_for(tmp_path, repo, checkpoint=str(ckpt)), keep_work=True, progress=False))
    (rec,) = records(tmp_path)
    work = report.work_dir
    assert rec["argv"] == [str(repo / "eval_derain.py"), "--data_dir", "Dataset/REVIDE/Test", "--model", str(ckpt),
                           "--nFrames", "5", "--output", "Results"]
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
