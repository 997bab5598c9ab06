"""``ypt`` is the method as a library that stands alone: a copy of ``ypt/`` without the rest of the repository imports,
restores and trains."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

#: run in ``python -I -S`` (no PYTHONPATH, no site: neither the editable install of this repository nor its .pth
#: hooks load) with ``sys.path`` = the copy + the installed dependencies
STANDALONE = r'''
import importlib, json, pkgutil, sys
copy, *site_dirs = sys.argv[1:]
sys.path[:0] = [copy]
sys.path += site_dirs
import ypt.compat.torchvision_hook as shim  # the copy's own hook (site's .pth would have activated it)
shim.activate()
import ypt
assert ypt.__file__.startswith(copy), ypt.__file__
others = [name for name in ("benchmarks", "baselines", "slurm") if importlib.util.find_spec(name) is not None]
assert not others, f"{others} importable: the copy is not alone"

modules = sorted(info.name for info in pkgutil.walk_packages(ypt.__path__, "ypt."))
for name in modules:
    importlib.import_module(name)

from pathlib import Path
import numpy as np
import torch
from PIL import Image
from ypt.backbones.configs import build_backbone
from ypt.backbones.prompting import load_prompts
from ypt.bridges import make_bridge
from ypt.prompts import make_prompt
from ypt.restore import Restorer
from ypt.pairs import cached_latents, pairs_from_dir
from ypt.train import PromptTrainer, TrainConfig, save_trained_prompt

torch.set_num_threads(1)
work = Path(copy).parent
rng = np.random.default_rng(0)
for side in ("input", "target"):
    (work / "pairs" / side).mkdir(parents=True)
    for i in range(2):
        Image.fromarray(rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)).save(work / "pairs" / side / f"{i}.png")

# a few training steps: tiny FLUX adapter from config, pairs from image files through the latent cache
flux = build_backbone("flux", "tiny")
config = TrainConfig(backbone="flux", degradation="haze", iterations=3, log_every=1, dtype="fp32",
                     geometry={"size": [32, 32]})
data = cached_latents(flux, pairs_from_dir(work / "pairs"), config.geometry, work / "cache", progress=False)
prompt = make_prompt("residual", flux)
trainer = PromptTrainer(flux, prompt, make_bridge("ebr"), data, config)
losses = trainer.fit(3, checkpoint=work / "haze.ckpt", progress=False)
path = save_trained_prompt(prompt, work / "haze.safetensors", flux, config, {"steps": trainer.step_count})

# a tiny restore with the trained prompt file: one image, 2 steps
(loaded,) = load_prompts([path], flux)
restorer = Restorer(flux, [loaded], image_size=(32, 32), num_inference_steps=2)
restored = restorer.restore_images([work / "pairs" / "input" / "0.png"])[0]
written = restorer.write_image(restored, work / "out" / "0.png")
print(json.dumps({"modules": modules, "losses": losses, "shape": list(restored.shape),
                  "written": Image.open(written).size, "loaded": sorted(sys.modules)}))
'''


def test_ypt_stands_alone(tmp_path):
    """A copy of ``ypt/`` alone, with only the installed dependencies on the path: every ``ypt`` module imports, a
    tiny FLUX adapter built from config trains a prompt for 3 steps and restores an image with it in 2 steps, and
    nothing of ``benchmarks``, ``baselines`` or ``slurm`` is loaded (or even findable) on the way."""
    copy = tmp_path / "lib"
    shutil.copytree(REPO / "ypt", copy / "ypt", ignore=shutil.ignore_patterns("__pycache__"))
    site_dirs = sorted({sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]})
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "YPT_CACHE": str(tmp_path / "cache"),
           "YPT_PROMPTS": str(tmp_path / "prompts"), "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
    run = subprocess.run([sys.executable, "-I", "-S", "-c", STANDALONE, str(copy), *site_dirs], cwd=copy,
                         env=env, capture_output=True, text=True, timeout=600, check=False)
    assert run.returncode == 0, run.stderr[-4000:]
    result = json.loads(run.stdout.strip().splitlines()[-1])
    expected = {".".join(p.relative_to(copy).with_suffix("").parts).removesuffix(".__init__")
                for p in (copy / "ypt").rglob("*.py")} - {"ypt"}
    assert set(result["modules"]) == expected  # every module of the package was imported
    assert [step for step, _ in result["losses"]] == [1, 2, 3]
    assert result["shape"] == [3, 32, 32] and result["written"] == [32, 32]
    assert not [m for m in result["loaded"] if m.split(".")[0] in ("benchmarks", "baselines", "slurm")]
