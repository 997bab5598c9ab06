"""Stand-in upstream repositories for the external wrappers: the same command lines, the same output naming, and the
upstream constraints that matter, each with a comment naming the upstream file:line it mirrors (at the commit pinned
in the method's SPEC). They run in the test's own interpreter as "the method's environment".

Each stand-in records its argv, interpreter, cwd and environment (``STANDIN_RECORD``), checks the inputs are where
the real script reads them, and writes 255 - input where the real one writes its outputs, so a mix-up between samples
is caught. Sizes that upstream tiles are scaled down through environment variables (``STANDIN_LQ`` for ViWS-Net's
512 tiles, ``STANDIN_CROP`` for FoundIR's 1024, AverNet's patch from the options file) so that tiny test images hit
the same size classes; the tests patch the wrappers' matching constants.
"""
from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

import numpy as np
from PIL import Image

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

#: a tiny torch module standing for upstream's network: its state dict is what the key checks compare
TINY_MODEL = '''
import torch
class Tiny(torch.nn.Module):
    def __init__(self, width=4):
        super().__init__()
        self.head = torch.nn.Conv2d(3, width, 3)
        self.body = torch.nn.Sequential(torch.nn.Conv2d(width, width, 1), torch.nn.BatchNorm2d(width))
'''

STANDINS: dict[str, dict[str, str]] = {}

# -- AutoDIR -------------------------------------------------------------------------------------------------------
STANDINS["autodir"] = {"eval_w_SCM.py": '''
import argparse, os
p = argparse.ArgumentParser()
p.add_argument("--resolution", default=768, type=int); p.add_argument("--need-resize", action="store_true")
p.add_argument("--customize", default=None); p.add_argument("--steps", default=100, type=int)
p.add_argument("--config", default="configs/generate.yaml"); p.add_argument("--ckpt", default="checkpoints/autodir.ckpt")
p.add_argument("--input", required=True); p.add_argument("--gt"); p.add_argument("--output", required=True)
p.add_argument("--cfg-text", default=1.0, type=float); p.add_argument("--cfg-image", default=1.0, type=float)
p.add_argument("--seed", type=int)
a = p.parse_args()
record(transformers_offline=os.environ.get("TRANSFORMERS_OFFLINE"))
assert os.path.isfile(a.config) and os.path.isfile(a.ckpt)
# model/autodir_model.py:63-71: CLIP*.from_pretrained("openai/clip-vit-large-patch14"), offline from the hub cache
hub = os.environ.get("HF_HUB_CACHE") or os.path.join(os.environ.get("HF_HOME") or os.path.expanduser("~/.cache/huggingface"), "hub")
repo = os.path.join(hub, "models--openai--clip-vit-large-patch14")
snapshot = os.path.join(repo, "snapshots", open(os.path.join(repo, "refs", "main")).read().strip())
assert os.path.isfile(os.path.join(snapshot, "config.json")), "OSError: We couldn't connect to huggingface.co"
name = os.path.basename(a.input).split(".")[0]                                     # eval_w_SCM.py:149
from PIL import Image
Image.open(a.input).save(os.path.join(a.output, name + "_input.png"))             # :196-197
plan = dict(item.split("=") for item in os.environ.get("STANDIN_ARTIFACTS", "").split(";") if item)
artifacts = plan.get(name, "blur,no").split(",")
grey = Image.new("RGB", Image.open(a.input).size, (128, 128, 128))
for step, artifact in enumerate(artifacts[:7]):                                    # :205, up to 7 steps
    print(f"A photo needs {artifact} artifact reduction")                          # :100
    if artifact == "no":                                                           # :231-233: stop before writing
        print("No artifact detected. End of the Image Restoration Process.")
        break
    # :263-267 carries the decode x after "low resolution", else the SCM result: that one is the restored image here,
    # the other file is grey, so taking the wrong file of the last step is caught
    x_path = os.path.join(a.output, f"{name}_step_{step}_result.png")              # :296-297
    scm_path = os.path.join(a.output, f"{name}_step_{step}_result_w_SCM.png")      # :298-299
    carried, other = (x_path, scm_path) if artifact == "low resolution" else (scm_path, x_path)
    invert(a.input, carried)
    grey.save(other)
'''}

# -- PixWizard -----------------------------------------------------------------------------------------------------
STANDINS["pixwizard"] = {"sample_pixwizard.py": '''
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
a = p.parse_known_args()[0]                                                        # :568 parse_known_args
record()
assert os.path.isfile(os.path.join(a.ckpt, "model_args.pth"))                      # :249
# :264,268 CLIPTokenizer / CLIPTextModelWithProjection.from_pretrained(args.clip_tokenizer_path): a full model folder
assert a.clip_tokenizer_path and os.path.isfile(os.path.join(a.clip_tokenizer_path, "vocab.json")), a.clip_tokenizer_path
# :286 FrozenCLIPEmbedder_Image() -> models/clip/modules.py:178-180 loads this path relative to the working directory
assert os.path.isfile(os.path.join("models/clip/clip-vit-large-patch14-336", "config.json")), os.getcwd()
import models.clip.modules  # the repository's package, found through sys.path[0] (the script's folder)
os.makedirs(os.path.join(a.image_save_path, "images"), exist_ok=True)
for idx, item in enumerate(json.load(open(a.json_path))):
    w, h = 80, 48  # a bucket size, not the input size
    base = f"{a.image_save_path}/images/{item.get('task', 'uk')}_{item.get('dataset', 'uk')}_{idx}_{w}x{h}"  # :468
    invert(item["input_path"], base + ".png", (w, h))
    open(base + "_prompt.txt", "w").write(item["prompt"])
''', "models/__init__.py": "", "models/clip/__init__.py": "", "models/clip/modules.py": "# stand-in\n"}

# -- FoundIR -------------------------------------------------------------------------------------------------------
STANDINS["foundir"] = {"test.py": '''
import argparse, os
import numpy as np
from PIL import Image
p = argparse.ArgumentParser()
p.add_argument("--dataroot"); p.add_argument("--meta")
a = p.parse_args()
record()
assert os.path.isfile("premodel/model-2000.pt")                                    # src/model.py:1253 (cwd = repo)
crop = int(os.environ.get("STANDIN_CROP", "1024"))                                 # test.py:102 crop_size=1024
overlap = crop // 2                                                                # img2patch default overlap 512

def img2patch(lq):                                                                 # src/model.py:1525-1563
    h, w = lq.shape[:2]
    step = crop - overlap
    parts, idx, i, last_i = [], [], 0, False
    while i < h and not last_i:
        j = 0
        if i + crop >= h:
            i, last_i = h - crop, True                                             # :1552-1554, negative when h < crop
        last_j = False
        while j < w and not last_j:
            if j + crop >= w:
                j, last_j = w - crop, True
            parts.append(lq[i:i + crop, j:j + crop]); idx.append((i, j))
            j += step
        i += step
    return parts, idx

def patch2img(outs, idx, shape):                                                   # :1567-1586
    preds, count = np.zeros(shape), np.zeros(shape[:2] + (1,))
    for out, (i, j) in zip(outs, idx):
        preds[i:i + crop, j:j + crop] += out
        count[i:i + crop, j:j + crop] += 1
    return preds / np.maximum(count, 1)                                            # :1583 clamp(min=1): unpasted = 0

for line in open(a.meta):
    gt, lq = line.strip().split(", ")
    gt_path, lq_path = os.path.join(a.dataroot, gt), os.path.join(a.dataroot, lq)
    assert os.path.isfile(gt_path)
    x = np.asarray(Image.open(lq_path).convert("RGB"), dtype=np.float64)
    h, w = x.shape[:2]
    if h * w > crop ** 2:                                                          # :1406-1408 im2overlap
        parts, idx = img2patch(x)
        y = patch2img([255.0 - part for part in parts], idx, x.shape)
    else:
        y = 255.0 - x
    folder = os.path.join("./results", gt_path.split("/")[-3])
    os.makedirs(folder, exist_ok=True)
    Image.fromarray(np.clip(np.rint(y), 0, 255).astype(np.uint8)).save(os.path.join(folder, gt_path.split("/")[-1]))
'''}

# -- DCPT ----------------------------------------------------------------------------------------------------------
STANDINS["dcpt"] = {"basicsr/test.py": '''
import argparse, os, yaml
p = argparse.ArgumentParser()
p.add_argument("-opt", required=True)
a = p.parse_args()
opt = yaml.safe_load(open(a.opt))
record(basicsr_jit=os.environ.get("BASICSR_JIT"), options=opt)
import torch
if opt["num_gpu"] == 0 and not torch.cuda.is_available():
    # basicsr/models/base_model.py:195,198: print_network (from sr_model.py:38) builds a CUDA tensor even in "CPU mode"
    raise AssertionError("Torch not compiled with CUDA enabled")
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
'''}

# -- DFPIR ---------------------------------------------------------------------------------------------------------
STANDINS["dfpir"] = {"net/__init__.py": "", "net/model.py": TINY_MODEL + '''
class ChannelShuffle_skip_textguaid(Tiny):                                         # net/model.py:393
    def __init__(self, device=0, **kwargs):
        super().__init__()
''', "test_5D_DFPIR.py": '''
import argparse, hashlib, os
p = argparse.ArgumentParser()
for k in ("--gpu", "--pretrained_1", "--denoise_path", "--derain_path", "--dehaze_path", "--deblur_path",
          "--lowlight_path", "--output_path"):
    p.add_argument(k)
p.add_argument("--cuda", type=int, default=0)
a = p.parse_args()
record()
# :41 clip.load("ViT-B/32") at import: openai/CLIP clip.py:43-57 keeps ~/.cache/clip/ViT-B-32.pt only with its SHA-256
clip_file = os.path.expanduser("~/.cache/clip/ViT-B-32.pt")
assert os.path.isfile(clip_file), "urllib.error.URLError: <urlopen error [Errno -2] Name or service not known>"
assert hashlib.sha256(open(clip_file, "rb").read()).hexdigest() == os.environ["STANDIN_CLIP_SHA256"], "re-download"
import torch
from net.model import ChannelShuffle_skip_textguaid                                # :16
model = ChannelShuffle_skip_textguaid(device=a.cuda)                               # :205
random_weights = True
if os.path.isfile(a.pretrained_1):                                                 # :210
    pretrained_dict = torch.load(a.pretrained_1, map_location="cpu")["state_dict"] # :212-213
    model_dict = model.state_dict()
    pretrained_dict = {k: v for k, v in pretrained_dict.items() if k in model_dict}  # :215 drops what does not match
    random_weights = set(pretrained_dict) != set(model_dict)
    model_dict.update(pretrained_dict)
    model.load_state_dict(model_dict)                                              # :217
else:
    print("=> no model found")                                                     # :219, random weights
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
        # a model left with random weights does not restore: mid-grey stands for its output
        out_img = Image.new("RGB", img.size, (128, 128, 128)) if random_weights else Image.eval(img, lambda v: 255 - v)
        out_img.save(out + name_of(path) + "_12.34" + ".png")
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
'''}

# -- AverNet -------------------------------------------------------------------------------------------------------
AVERNET_ARCH = TINY_MODEL + '''
import os
class AverNet(Tiny):                                                               # basicsr/archs/avernet_arch.py:47
    def __init__(self, mid_channels=96, num_blocks=7, max_residue_magnitude=10, spynet_pretrained=None,
                 keyframe_interval=6, prompt_size=96, prompt_dim=96, cpu_cache_length=100):
        super().__init__(width=mid_channels)
        assert os.path.isfile(spynet_pretrained)                                   # spynet_arch.py:39-40
'''
STANDINS["avernet"] = {
    "basicsr/__init__.py": "from .version import __version__\n",                  # basicsr/__init__.py:8
    "basicsr/version.py": "__version__ = 'stand-in'\n",                            # written by setup.py develop
    "basicsr/archs/__init__.py": "",
    "basicsr/archs/avernet_arch.py": AVERNET_ARCH,
    "basicsr/test.py": '''
import argparse, os, yaml
import numpy as np
from PIL import Image
p = argparse.ArgumentParser()
p.add_argument("-opt", required=True)
a = p.parse_args()
opt = yaml.safe_load(open(a.opt))
record(options=opt)
root = os.path.abspath(os.path.join(__file__, os.pardir, os.pardir))
import basicsr                                                                     # needs PYTHONPATH or setup.py develop
import torch
from basicsr.archs.avernet_arch import AverNet
net = AverNet(**{k: v for k, v in opt["network_g"].items() if k != "type"})
state = torch.load(opt["path"]["pretrain_network_g"], map_location="cpu")["params"]  # sr_model.py:28 param_key 'params'
net.load_state_dict({k.removeprefix("module."): v for k, v in state.items()}, strict=True)  # base_model.py:300-315
results = os.path.join(opt["path"].get("results_root") or os.path.join(root, "results"), opt["name"])
limit = int(os.environ.get("STANDIN_MAX_FOLDERS", "1000"))
patch = opt["val"].get("patch_testing_size", 0)
overlap = opt["val"].get("overlap_size", 20)
min_side = int(os.environ.get("STANDIN_MIN_SIDE", "256"))
for _, ds in sorted(opt["datasets"].items()):
    folders = sorted(os.listdir(ds["dataroot_lq"]))
    # video_test_dataset.py:70-95: the constructor caches every frame of every folder (LQ and GT) as float32
    assert len(folders) <= limit, f"{len(folders)} folders cached at once (limit {limit})"
    for folder in folders:
        lq = sorted(os.listdir(os.path.join(ds["dataroot_lq"], folder)))
        assert len(lq) == len(os.listdir(os.path.join(ds["dataroot_gt"], folder)))  # :77
        assert len(lq) >= 2, "compute_flow needs two frames"                       # avernet_arch.py:130-138
        clip = np.stack([np.asarray(Image.open(os.path.join(ds["dataroot_lq"], folder, f)).convert("RGB"),
                                    dtype=np.float64) for f in lq])
        t, h, w = clip.shape[:3]
        if patch:                                                                  # video_recurrent_model.py:197-235
            rows = list(range(0, h - patch, patch - overlap)) + [max(0, h - patch)]
            cols = list(range(0, w - patch, patch - overlap)) + [max(0, w - patch)]
            for i in rows:
                for j in cols:
                    ph, pw = clip[:, i:i + patch, j:j + patch].shape[1:3]
                    assert min(ph, pw) >= min_side, f"patch {ph}x{pw}: avernet_arch.py:204 needs h//4 >= 64"
                    assert ph % 4 == 0 and pw % 4 == 0, f"patch {ph}x{pw}: avernet_arch.py:70-75,185-187 need /4"
        for idx, f in enumerate(lq):
            invert(os.path.join(ds["dataroot_lq"], folder, f),
                   os.path.join(results, "visualization", ds["name"], folder, f"{idx:08d}_{opt['name']}.png"))
''',
    "basicsr/train.py": '''
import argparse, os, yaml
import torch
p = argparse.ArgumentParser()                                                      # basicsr/utils/options.py:101-105
p.add_argument("-opt", required=True); p.add_argument("--launcher", default="none"); p.add_argument("--auto_resume", action="store_true")
a = p.parse_args()
opt = yaml.safe_load(open(a.opt))
record(options=opt, pythonpath=os.environ.get("PYTHONPATH"))
assert opt["num_gpu"] == 1 and a.launcher == "none" and "val" not in opt
from basicsr.archs.avernet_arch import AverNet
train = opt["datasets"]["train"]
for line in open(train["meta_info_file"]):                                         # tud_video_train_dataset.py:63-68
    clip, n, _, start = line.split(" ")
    for i in range(int(start), int(start) + int(n)):
        for root in (train["dataroot_lq"], train["dataroot_gt"]):
            path = os.path.join(root, clip, f"{i:{train['filename_tmpl']}}.{train['filename_ext']}")  # :105-107
            assert os.path.isfile(path), path
    assert int(n) >= train["num_frame"], "random.randint fails"                    # :94-96
exp = os.path.join(opt["path"].get("experiments_root") or os.path.join(os.getcwd(), "experiments"), opt["name"])  # options.py:174-183
models, states = os.path.join(exp, "models"), os.path.join(exp, "training_states")
start = 0
if opt["path"].get("resume_state"):                                                # train.py:80-83
    start = torch.load(opt["path"]["resume_state"])["iter"]
os.makedirs(models, exist_ok=True); os.makedirs(states, exist_ok=True)
stop_at = int(os.environ.get("STANDIN_STOP_AT", "0"))                              # simulates a time limit
net = AverNet(**{k: v for k, v in opt["network_g"].items() if k != "type"})
freq = int(float(opt["logger"]["save_checkpoint_freq"]))
for it in range(start + 1, opt["train"]["total_iter"] + 1):
    with torch.no_grad():
        net.head.weight.add_(1.0)
    if it % freq == 0:                                                             # train.py:184-186
        torch.save({"params": net.state_dict(), "params_ema": net.state_dict()}, os.path.join(models, f"net_g_{it}.pth"))
        torch.save({"iter": it, "epoch": 0}, os.path.join(states, f"{it}.state"))  # base_model.py:318-333
    if stop_at and it == stop_at:
        raise SystemExit(f"killed at iteration {it}")
torch.save({"params": net.state_dict(), "params_ema": net.state_dict()}, os.path.join(models, "net_g_latest.pth"))  # :205
print(f"trained from {start} to {opt['train']['total_iter']}")
'''}

# -- ViWS-Net ------------------------------------------------------------------------------------------------------
VIWS_MODEL = TINY_MODEL + '''
import os
class ViWSNet(Tiny):                                                               # modeling/model.py
    def __init__(self, config):
        super().__init__()
        assert config["num_types"] == 3                                            # eval_derain.py:74, wsal.py:39
        assert os.path.isfile("./models/ckpt_T.pth")                               # modeling/model.py:39 (cwd-relative)
        assert os.path.isfile(config["finetune"])                                  # modeling/model.py:134-139
'''
VIWS_EVAL = '''
import os
os.environ["CUDA_VISIBLE_DEVICES"] = "0"                                           # eval_derain.py:4
import argparse
import numpy as np
import torch
from PIL import Image
from modeling.model import ViWSNet
# the CUDA runtime reads CUDA_VISIBLE_DEVICES once, when it initialises: a launcher that initialised it first
# leaves its value in YPT_CUDA_BOUND_DEVICES; otherwise the devices are what :4 just set
devices = os.environ.get("YPT_CUDA_BOUND_DEVICES") or os.environ["CUDA_VISIBLE_DEVICES"]
p = argparse.ArgumentParser()
p.add_argument("--data_dir", default="Dataset/REVIDE/Test"); p.add_argument("--model", default="best.pth")
p.add_argument("--nFrames", type=int, default=5); p.add_argument("--output", default="Results/")
a = p.parse_args()
record(devices=devices)
model = ViWSNet(dict(finetune="./models/ckpt_S.pth", num_types=3))               # :64-76
state = torch.load(a.model, map_location="cpu")
torch.nn.DataParallel(model).load_state_dict(state)                                # :88-92, strict, module. keys

LQ, OV = int(os.environ.get("STANDIN_LQ", "512")), 16                              # :133 forward_crop(lq_size=512, overlap=16)

def lr_index(n, count, side, base):                                                # crop_validation.py:7-10
    end = side if n == count - 1 else (n + 1) * base + OV
    return end - base - OV, end

def hr_index(n, count, side, mod, base):                                           # crop_validation.py:13-33
    if n == 0:
        end = base + (OV // 2 if count > 1 else OV)
        return 0, end, 0, end
    if n == count - 1:
        if mod > OV:
            return side - mod, side, base + OV - mod, base + OV
        return side - base - OV // 2, side, OV // 2, base + OV
    start = n * base + OV // 2
    return start, start + base, OV // 2, OV // 2 + base

def forward_crop(frames):                                                          # crop_validation.py:57-125
    base = LQ - OV
    t, h, w = frames.shape[:3]
    rows = h // base + (1 if h % base > OV else 0)
    cols = w // base + (1 if w % base > OV else 0)
    crops = []
    for i in range(rows):
        i0, i1 = lr_index(i, rows, h, base)
        for j in range(cols):
            j0, j1 = lr_index(j, cols, w, base)
            crops.append(255.0 - frames[t // 2, i0:i1, j0:j1])                    # the "model": centre frame inverted
    if not crops:
        raise RuntimeError("torch.cat(): expected a non-empty list of Tensors")    # :95
    out = np.zeros(frames.shape[1:])
    for i in range(rows):
        r0, r1, pr0, pr1 = hr_index(i, rows, h, h % base, base)
        for j in range(cols):
            c0, c1, pc0, pc1 = hr_index(j, cols, w, w % base, base)
            out[r0:r1, c0:c1] = crops[i * cols + j][pr0:pr1, pc0:pc1]              # :124-125 (numpy raises as torch)
    return out

half = a.nFrames // 2                                                              # dataset.py:232
videos = sorted(os.path.join(a.data_dir, x) for x in os.listdir(a.data_dir))       # dataset.py:684-685
for file_id, path in enumerate(videos):
    n = len([f for f in os.listdir(path) if f.endswith("jpg") and "rs" not in f])  # dataset.py:689-691
    out = "Results/VIWSNET_REVIDE/" + str(file_id + 1).zfill(2)                     # dataset.py:705-708
    os.makedirs(out, exist_ok=True)
    for img_id in range(1, n - a.nFrames + 2):                                     # dataset.py:693
        centre = img_id + half
        gt = "Dataset/REVIDE/Test_GT/" + path.split("/")[3]                        # dataset.py:237,241
        frames = []
        for j in range(centre - half, centre + half + 1):                          # dataset.py:247: 2*half+1 frames
            frames.append(np.asarray(Image.open(path + "/" + str(j).zfill(5) + ".jpg").convert("RGB"), dtype=np.float64))
            Image.open(gt + "/" + str(j).zfill(5) + ".jpg")                        # dataset.py:251
        y = forward_crop(np.stack(frames))
        Image.fromarray(np.clip(np.rint(y), 0, 255).astype(np.uint8)).save(out + "/recover" + str(centre) + ".png")  # :715-716
'''
VIWS_TRAIN = '''
import os
os.environ["CUDA_VISIBLE_DEVICES"] = "0,5"                                         # main_multi.py:6
import argparse, datetime, time
import torch
from PIL import Image
from modeling.model import ViWSNet
devices = os.environ.get("YPT_CUDA_BOUND_DEVICES") or os.environ["CUDA_VISIBLE_DEVICES"]
p = argparse.ArgumentParser()                                                      # main_multi.py:30-56
p.add_argument("--nEpochs", type=int, default=500); p.add_argument("--snapshots", type=int, default=10)
p.add_argument("--start_epoch", type=int, default=0); p.add_argument("--lr", type=float, default=2e-4)
p.add_argument("--pretrained", type=bool, default=False); p.add_argument("--pretrained_sr", default=".pth")
p.add_argument("--nFrames", type=int, default=5); p.add_argument("--log_path", default="logs/")
p.add_argument("--data_dir", type=list, default=["Dataset/RainMotion/Train", "Dataset/REVIDE/Train", "Dataset/KITTI_snow/Train"])
a = p.parse_args()
record(devices=devices)
assert all(len(d) > 1 for d in a.data_dir), "--data_dir is type=list: a string becomes characters"
gts = {0: lambda clip: "Dataset/RainMotion/Train_GT/" + clip.split("_")[0] + "_GT",  # dataset.py:161
       1: lambda clip: "Dataset/REVIDE/Train_GT/" + clip, 2: lambda clip: "Dataset/KITTI_snow/Train_GT/" + clip}
exts = {0: "jpg", 1: "jpg", 2: "png"}                                              # dataset.py:290 snow GT is .png
for key, root in enumerate(a.data_dir):                                            # dataset.py:442-460, 476-487
    clips = os.listdir(root)
    assert clips, f"{root} is empty"
    for clip in clips:
        frames = sorted(f for f in os.listdir(os.path.join(root, clip)) if f.endswith("jpg") and "rs" not in f)
        assert len(frames) >= a.nFrames
        for i in range(1, len(frames) + 1):
            w, h = Image.open(os.path.join(root, clip, f"{i:05d}.jpg")).size
            assert min(w, h) >= int(os.environ.get("STANDIN_PATCH", "224")), "get_patch randrange"  # dataset.py:320-343
            assert os.path.isfile(os.path.join(gts[key](clip), f"{i:05d}.{exts[key]}"))
# :264 vgg16(pretrained=True): torchvision's hub checkpoint, downloaded unless cached
hub = os.path.join(os.environ.get("TORCH_HOME") or os.path.expanduser("~/.cache/torch"), "hub", "checkpoints")
assert os.path.isfile(os.path.join(hub, "vgg16-397923af.pth")), "URLError: <urlopen error Name or service not known>"
log_root = os.path.join(a.log_path, datetime.datetime.now().strftime("%Y%m%d-%H%M%S"))  # :75-78
os.makedirs(log_root, exist_ok=True)
model = torch.nn.DataParallel(ViWSNet(dict(finetune="./models/ckpt_S.pth", num_types=3)))  # :248-259
if a.pretrained and os.path.exists(a.pretrained_sr):                               # :277-283
    model.load_state_dict(torch.load(a.pretrained_sr, map_location="cpu"))
stop_at = int(os.environ.get("STANDIN_STOP_AT", "0"))
for epoch in range(a.start_epoch, a.nEpochs + 1):                                  # :294
    if (epoch + 1) % a.snapshots == 0:                                             # :302-303
        torch.save(model.state_dict(), os.path.join(log_root, f"ViWSNet_epoch_{epoch + 1}.pth"))
    if stop_at and epoch + 1 == stop_at:
        raise SystemExit(f"killed after epoch {epoch + 1}")
print(f"lr {a.lr} from epoch {a.start_epoch}")
'''
STANDINS["viwsnet"] = {"eval_derain.py": VIWS_EVAL, "main_multi.py": VIWS_TRAIN, "crop_validation.py": "# stand-in\n",
                       "dataset.py": "# stand-in\n", "modeling/__init__.py": "", "modeling/model.py": VIWS_MODEL}

#: the files that hold an entry point (they get the record helper)
ENTRY_POINTS = {"eval_w_SCM.py", "sample_pixwizard.py", "test.py", "basicsr/test.py", "basicsr/train.py",
                "test_5D_DFPIR.py", "eval_derain.py", "main_multi.py"}


def make_repo(tmp_path: Path, key: str) -> Path:
    repo = tmp_path / f"upstream_{key}"
    for rel, body in STANDINS[key].items():
        path = repo / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        text = textwrap.dedent(body)
        path.write_text(RECORD_HELPER + text if rel in ENTRY_POINTS else text)
    return repo


def settings_for(tmp_path: Path, repo: Path, **extra) -> dict:
    env = {"STANDIN_RECORD": str(tmp_path / "record.jsonl"), "YPT_STANDIN_ENV": "configured-env"}
    env.update(extra.pop("env", {}))
    return {"repo": str(repo), "python": sys.executable, "env": env, **extra}


def records(tmp_path: Path) -> list[dict]:
    path = tmp_path / "record.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.is_file() else []


def touch(path: Path, data: bytes = b"weights") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def tiny_state(width: int = 4, prefix: str = "") -> dict:
    """The state dict of the stand-ins' tiny model (``TINY_MODEL``), keys optionally prefixed."""
    namespace: dict = {}
    exec(TINY_MODEL, namespace)
    return {prefix + k: v for k, v in namespace["Tiny"](width).state_dict().items()}


def fake_hf_snapshot(hub: Path, repo_id: str, files) -> Path:
    """A Hugging Face cache entry as ``snapshot_download`` leaves it (``refs/main`` -> ``snapshots/<rev>/``)."""
    root = hub / ("models--" + repo_id.replace("/", "--"))
    (root / "refs").mkdir(parents=True, exist_ok=True)
    (root / "refs" / "main").write_text("0123abcd")
    for name in files:
        touch(root / "snapshots" / "0123abcd" / name.split("|")[0], b"{}")
    return root / "snapshots" / "0123abcd"


def image(path: Path, size: tuple[int, int], seed: int) -> Path:
    """Blocky image (8x8 blocks of random colour): survives JPEG q100 and padding/cropping."""
    rng = np.random.default_rng(seed)
    w, h = size
    blocks = rng.integers(30, 225, size=(h // 8 + 1, w // 8 + 1, 3), dtype=np.uint8)
    array = np.kron(blocks, np.ones((8, 8, 1), dtype=np.uint8))[:h, :w]
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path)
    return path


def assert_inverted(output: Path, source: Path, tol: float = 0.0) -> None:
    got = np.asarray(Image.open(output).convert("RGB"), dtype=np.int16)
    want = 255 - np.asarray(Image.open(source).convert("RGB"), dtype=np.int16)
    assert got.shape == want.shape
    assert np.abs(got - want).mean() <= tol, (output, np.abs(got - want).mean())


def assert_full(output: Path, source: Path) -> None:
    """The output has the input's size and no all-zero row or column (nothing left unpasted by tiling)."""
    got = np.asarray(Image.open(output).convert("RGB"))
    assert got.shape[:2] == np.asarray(Image.open(source)).shape[:2], (got.shape, output)
    assert not (got == 0).all(axis=(1, 2)).any(), "an all-zero row"
    assert not (got == 0).all(axis=(0, 2)).any(), "an all-zero column"


def ready(key: str, tmp_path: Path, monkeypatch=None, **extra) -> tuple[Path, dict]:
    """A stand-in repository of ``key`` with everything a run needs (checkpoints with the model's keys, the caches its
    run-time downloads land in, backbone files), and settings for it; ``extra`` goes into the settings. DFPIR needs
    ``monkeypatch``: its CLIP file is a stand-in, whose SHA-256 replaces the real one in the spec for the test."""
    import hashlib

    import torch
    import yaml

    repo = make_repo(tmp_path, key)
    env = {"HF_HOME": str(tmp_path / "hf"), "HOME": str(tmp_path / "home")}
    env.update(extra.pop("env", {}))
    if key == "autodir":
        from baselines.methods.autodir import SPEC

        touch(repo / "configs/generate.yaml")
        extra.setdefault("checkpoint", str(touch(tmp_path / "w/autodir.ckpt")))
        fake_hf_snapshot(tmp_path / "hf" / "hub", "openai/clip-vit-large-patch14", SPEC.downloads[0].files)
    elif key == "pixwizard":
        from baselines.methods.pixwizard import CLIP_DOWNLOAD

        ckpt = tmp_path / "pw"
        touch(ckpt / "model_args.pth"), touch(ckpt / "consolidated_ema.00-of-01.pth")
        extra.setdefault("checkpoint", str(ckpt))
        extra.setdefault("sdxl_vae_path", str(touch(tmp_path / "vae/config.json").parent))
        extra.setdefault("tokenizer_path", str(touch(tmp_path / "gemma/tokenizer.json").parent))
        fake_hf_snapshot(tmp_path / "hf" / "hub", CLIP_DOWNLOAD.source, CLIP_DOWNLOAD.files)
    elif key == "foundir":
        touch(repo / "premodel/model-2000.pt")
    elif key == "dcpt":
        template = {"model_type": "SRModel", "network_g": {"type": "NAFNetBaseline"}, "path": {}}
        (repo / "options/all_in_one/test").mkdir(parents=True)
        (repo / "options/all_in_one/test/test_NAFNet_5d.yml").write_text(yaml.safe_dump(template))
        touch(repo / "pretrained_models/dcpt_nafnet_5d.pth")
    elif key == "dfpir":
        ckpt = tmp_path / "w/dfpir.pth"
        ckpt.parent.mkdir(parents=True, exist_ok=True)
        torch.save({"state_dict": tiny_state()}, ckpt)
        extra.setdefault("checkpoint", str(ckpt))
        clip = touch(tmp_path / "home/.cache/clip/ViT-B-32.pt", b"a stand-in CLIP file")
        env["STANDIN_CLIP_SHA256"] = digest = hashlib.sha256(clip.read_bytes()).hexdigest()
        import dataclasses

        import baselines

        method = baselines.get("dfpir")
        monkeypatch.setattr(method, "spec", dataclasses.replace(
            method.spec, downloads=tuple(dataclasses.replace(d, sha256=digest) for d in method.spec.downloads)))
        stage = tmp_path / "stage"
        stage.mkdir(exist_ok=True)
        extra.setdefault("stage_dir", str(stage))
    elif key == "avernet":
        template = {"name": "AverNet_Set8_T12", "model_type": "VideoRecurrentModel",
                    "network_g": {"type": "AverNet", "mid_channels": 8, "keyframe_interval": 6,
                                  "spynet_pretrained": "experiments/pretrained_models/flownet/spynet.pth"},
                    "val": {"save_img": True, "seq_padding_size": 0, "patch_testing_size": 512, "overlap_size": 20,
                            "metrics": {"psnr": {"type": "psnr"}}}}
        (repo / "options/test").mkdir(parents=True)
        (repo / "options/test/test_AverNet_Set8_T12.yml").write_text(yaml.safe_dump(template))
        touch(repo / "experiments/pretrained_models/flownet/spynet_sintel_final-3d2a1287.pth")
        ckpt = tmp_path / "w/avernet_retrained.pth"
        ckpt.parent.mkdir(parents=True, exist_ok=True)
        torch.save({"params": tiny_state(8)}, ckpt)
        extra.setdefault("checkpoint", str(ckpt))
    elif key == "viwsnet":
        for name in ("ckpt_S.pth", "ckpt_T.pth"):
            touch(repo / "models" / name)
        ckpt = tmp_path / "w/viwsnet.pth"
        ckpt.parent.mkdir(parents=True, exist_ok=True)
        torch.save(tiny_state(prefix="module."), ckpt)
        extra.setdefault("checkpoint", str(ckpt))
    settings = settings_for(tmp_path, repo, env=env, **extra)
    return repo, settings
