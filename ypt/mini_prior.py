"""Pretraining the miniature backbone's prior (:mod:`ypt.backbones.mini`) on photos the installed packages bundle.

An unconditional rectified-flow model: random crops ``x`` of natural photos, ``z_s = (1 - s) x + s e``, loss
``|| v(z_s, s) - (e - x) ||^2`` through the FLUX adapter's own velocity path (zero null-text context of
:data:`PRETRAIN_TEXT_LEN` tokens, FLUX's timestep grid), AdamW with warmup and cosine decay, gradient clipping, an
EMA of the weights as the prior. Seeded: the same recipe, photos and torch build give the same file.

Photos (split by photo; sha256 of every source file recorded in the sidecar):

* :data:`PRETRAIN_PHOTOS`: natural photos from scikit-image's data, pyiqa's wheel (five Kodak images and four
  test photos it ships) and matplotlib's sample data; prompt training of the demo draws from them too;
* :data:`HELDOUT_PHOTOS`: matplotlib's ``grace_hopper`` and Kodak I19, never trained on: the prior's quality is its
  clean-estimate error at noise 0.4 on fixed crops of them;
* the built-in demo's test photos (scikit-image's astronaut, coffee, chelsea = cat, rocket) are never read here
  (:data:`RESERVED_PHOTOS`; ``tests/test_mini_prior.py`` checks the split against the demo's own list).

CLI::

    python -m ypt.mini_prior --out ypt/assets/mini_prior.safetensors   # ~40 min on one CPU core
    python -m ypt.mini_prior --check                                   # verify the packaged prior, print quality
"""
from __future__ import annotations

import argparse
import copy
import importlib.util
import json
import os
import time
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ypt.cli import add_debug_argument, entry_point
from ypt.errors import MissingData

if TYPE_CHECKING:
    import numpy as np
    import torch

    from ypt.backbones.mini import MiniBackbone

#: the built-in demo's test photos (scikit-image names); never used for pretraining or prompt training
RESERVED_PHOTOS = ("astronaut", "coffee", "chelsea", "cat", "rocket")
#: held-out photos: the prior's quality is measured on them
HELDOUT_PHOTOS = ("grace_hopper", "kodim19")
#: the prior's recipe (``python -m ypt.mini_prior`` defaults; the sidecar records what a file was made with)
RECIPE: dict[str, Any] = {"steps": 6000, "batch": 32, "crop": 32, "big_crop": 64, "big_frac": 0.25, "lr": 1e-3,
                          "warmup": 200, "ema": 0.999, "low_frac": 0.5, "low_max": 0.6, "seed": 0}
#: short sides the photos are resized to before cropping (the demo's photos are 300-512 px, shown at 128)
SCALES = (128, 160, 192, 256)
#: zero context tokens the prior is pretrained with (prompts are made for ``ypt.defaults.TEXT_LEN["mini"]``)
PRETRAIN_TEXT_LEN = 8
#: noise level of the quality measure, and its crops
QUALITY_SIGMA = 0.4
QUALITY_CROPS = 256


@lru_cache(maxsize=None)
def _package_dir(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or spec.origin is None:
        raise MissingData(f"the miniature prior's photos need the {name} package (pip install {name})")
    return Path(spec.origin).resolve().parent


_KODAK, _SPAQ = "../ResultsCalibra/ref_dir", "../tests/test_efficiency_img_dir"  # pyiqa's wheel: beside the package
#: photo name -> (package, its file relative to the package folder); greyscale ones (camera, textures) used as RGB
PHOTO_FILES = {
    "motorcycle_left": ("skimage", "data/motorcycle_left.png"),
    "motorcycle_right": ("skimage", "data/motorcycle_right.png"),
    "camera": ("skimage", "data/camera.png"),
    "grass": ("skimage", "data/grass.png"),
    "gravel": ("skimage", "data/gravel.png"),
    "brick": ("skimage", "data/brick.png"),
    "kodim03": ("pyiqa", f"{_KODAK}/I03.bmp"),
    "kodim04": ("pyiqa", f"{_KODAK}/I04.bmp"),
    "kodim06": ("pyiqa", f"{_KODAK}/I06.bmp"),
    "kodim08": ("pyiqa", f"{_KODAK}/I08.bmp"),
    "kodim19": ("pyiqa", f"{_KODAK}/I19.bmp"),
    "spaq_10241": ("pyiqa", f"{_SPAQ}/SPAQ_10241.jpg"),
    "frame_4wrw": ("pyiqa", f"{_SPAQ}/frame_4wrwr48cdk6rbcjl.jpg"),
    "frame_7gzd": ("pyiqa", f"{_SPAQ}/frame_7gzdcz9sif0ekg31.jpg"),
    "frame_9ogw": ("pyiqa", f"{_SPAQ}/frame_9ogwhvvy7gfj6jzh.jpg"),
    "grace_hopper": ("matplotlib", "mpl-data/sample_data/grace_hopper.jpg"),
}
#: the pretraining photos: every photo but the held-out ones
PRETRAIN_PHOTOS = tuple(name for name in PHOTO_FILES if name not in HELDOUT_PHOTOS)


def photo_sources() -> dict[str, Path]:
    """Photo name -> its file inside the installed package."""
    return {name: (_package_dir(package) / relative).resolve() for name, (package, relative) in PHOTO_FILES.items()}


def photo_hashes(names: Sequence[str]) -> dict[str, str]:
    from ypt.files import file_sha256

    sources = photo_sources()
    return {n: file_sha256(sources[n]) for n in names}


@lru_cache(maxsize=64)
def photo(name: str) -> np.ndarray:
    """Photo ``name`` as ``(H, W, 3)`` float64 in [0, 1]."""
    import numpy as np
    from PIL import Image

    if name in RESERVED_PHOTOS:
        raise ValueError(f"{name} is a test photo of the built-in demo")
    path = photo_sources()[name]
    if not path.is_file():
        raise MissingData(f"photo {name}: {path} not found (its package installed without its data?)")
    return np.asarray(Image.open(path).convert("RGB")).astype(np.float64) / 255.0


def resized(name: str, short_side: int) -> np.ndarray:
    """The photo with its short side resized to ``short_side`` (bicubic, antialiased)."""
    import numpy as np
    from skimage.transform import resize

    img = photo(name)
    h, w = img.shape[:2]
    s = short_side / min(h, w)
    return np.clip(resize(img, (round(h * s), round(w * s)), order=3, anti_aliasing=True), 0.0, 1.0)


def scale_bank(names: Sequence[str], short_sides: Sequence[int] = SCALES) -> list[np.ndarray]:
    return [resized(n, s) for n in names for s in short_sides]


def random_crops(images: list[np.ndarray], n: int, size: int, rng: np.random.Generator, flips: bool = True,
                 partners: list[np.ndarray] | None = None):
    """``n`` random ``size`` x ``size`` crops ``(n, 3, size, size)`` float32 (horizontal flips with ``flips``: haze,
    rain and light are not vertically symmetric); with ``partners`` the same crops of aligned partner images too."""
    import numpy as np

    out, out_p = np.empty((n, 3, size, size), np.float32), np.empty((n, 3, size, size), np.float32)
    for i in range(n):
        k = rng.integers(len(images))
        img = images[k]
        top = rng.integers(img.shape[0] - size + 1)
        left = rng.integers(img.shape[1] - size + 1)
        crop = img[top:top + size, left:left + size]
        pc = partners[k][top:top + size, left:left + size] if partners is not None else None
        if flips and rng.random() < 0.5:
            crop = crop[:, ::-1]
            pc = pc[:, ::-1] if pc is not None else None
        out[i] = crop.transpose(2, 0, 1)
        if pc is not None:
            out_p[i] = pc.transpose(2, 0, 1)
    return (out, out_p) if partners is not None else out


# ---- quality ------------------------------------------------------------------------------------------------------
def heldout_crops(seed: int = 1234) -> torch.Tensor:
    """The fixed held-out crops the prior's quality is measured on: 256 crops of 32x32 of the held-out photos."""
    import numpy as np
    import torch

    rng = np.random.default_rng(seed)
    return torch.from_numpy(random_crops(scale_bank(HELDOUT_PHOTOS), QUALITY_CROPS, 32, rng, flips=False))


def clean_mse(backbone: MiniBackbone, images: torch.Tensor, sigma: float = QUALITY_SIGMA, seed: int = 0,
              batch: int = 64) -> float:
    """Mean ``|| x0_hat - x0 ||^2`` in latent units (``2x - 1``) at noise ``sigma``, fixed noise: the prior's
    clean-estimate error (0.25 for an untrained model on these crops)."""
    import torch

    g = torch.Generator().manual_seed(seed)
    total, n = 0.0, 0
    with torch.no_grad():
        for i in range(0, len(images), batch):
            x = backbone.encode(images[i:i + batch])
            e = torch.randn(x.shape, generator=g)
            z = (1 - sigma) * x + sigma * e
            x0 = backbone.predict_x0(z, torch.full((x.shape[0],), sigma))
            total += float((x0 - x).pow(2).mean()) * x.shape[0]
            n += x.shape[0]
    return total / n


# ---- pretraining --------------------------------------------------------------------------------------------------
def _sigmas(n: int, g: torch.Generator, low_frac: float, low_max: float) -> torch.Tensor:
    """Noise levels: uniform on [0, 1], a ``low_frac`` share of them on [0, low_max] (restoration works there)."""
    import torch

    u = torch.rand(n, generator=g)
    low = torch.rand(n, generator=g) < low_frac
    return torch.where(low, u * low_max, u).clamp(min=1e-3)


#: the learning rate's floor at the end of the cosine decay (a fraction of ``lr``)
LR_FLOOR = 0.05


def pretrain(out: str | os.PathLike, recipe: dict[str, Any] | None = None, eval_every: int = 1000,
             progress: bool = True) -> dict[str, Any]:
    """Pretrain the prior with ``recipe`` (default :data:`RECIPE`) and write ``out`` (safetensors) with its sidecar
    (``out`` with ``.json``): recipe, photos and their sha256, transformer config, quality, code version, sha256;
    returns the sidecar."""
    import numpy as np
    import torch
    from safetensors.torch import save_file

    from ypt.backbones.configs import build_transformer
    from ypt.backbones.mini import FACTOR, TRANSFORMER_CONFIG, MiniBackbone, SpaceToDepthVAE
    from ypt.backbones.mini_weights import PRIOR_LABEL, sidecar_path
    from ypt.files import atomic_path, atomic_write_text, file_sha256
    from ypt.progress import RunLog
    from ypt.provenance import code_version
    from ypt.train import warmup_cosine

    r = {**RECIPE, **(recipe or {})}
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    backbone = MiniBackbone(build_transformer("flux", TRANSFORMER_CONFIG, seed=r["seed"]), SpaceToDepthVAE(FACTOR),
                            window=None,
                            max_sequence_length=PRETRAIN_TEXT_LEN)
    model = backbone.transformer
    model.requires_grad_(True).train()
    ema = copy.deepcopy(model).requires_grad_(False).eval()
    opt = torch.optim.AdamW(model.parameters(), lr=r["lr"], weight_decay=0.0, betas=(0.9, 0.99))
    rng = np.random.default_rng(r["seed"])
    g = torch.Generator().manual_seed(r["seed"])
    bank = scale_bank(PRETRAIN_PHOTOS)
    heldout = heldout_crops()

    def quality(m: torch.nn.Module) -> float:
        backbone.transformer = m
        m.eval()
        value = clean_mse(backbone, heldout)
        backbone.transformer = model
        return value

    evals = [{"step": 0, "clean_mse": quality(model)}]
    losses: list[tuple[int, float]] = []
    running: list[float] = []
    started = time.perf_counter()
    with RunLog("mini prior", r["steps"], 0, progress=progress) as log:
        for step in range(r["steps"]):
            big = rng.random() < r["big_frac"]
            size, b = (r["big_crop"], max(1, r["batch"] // 4)) if big else (r["crop"], r["batch"])
            x = backbone.encode(torch.from_numpy(random_crops(bank, b, size, rng)))
            e = torch.randn(x.shape, generator=g)
            s = _sigmas(b, g, r["low_frac"], r["low_max"])
            z = (1 - s.view(-1, 1, 1, 1)) * x + s.view(-1, 1, 1, 1) * e
            for group in opt.param_groups:
                group["lr"] = warmup_cosine(step, r["steps"], r["lr"], r["warmup"], LR_FLOOR)
            model.train()
            loss = (backbone.velocity(z, s) - (e - x)).pow(2).mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            with torch.no_grad():
                decay = min(r["ema"], (1 + step) / (10 + step))
                for pe, pm in zip(ema.parameters(), model.parameters()):
                    pe.lerp_(pm, 1 - decay)
            running.append(float(loss.detach()))
            if (step + 1) % 100 == 0:
                losses.append((step + 1, float(np.mean(running))))
                running = []
                log.update(step + 1, loss=losses[-1][1], lr=opt.param_groups[0]["lr"])
            if (step + 1) % eval_every == 0 or step + 1 == r["steps"]:
                evals.append({"step": step + 1, "clean_mse": quality(ema)})
    with atomic_path(out) as tmp:
        save_file({k: v.contiguous() for k, v in ema.state_dict().items()}, str(tmp))
    sidecar = {
        "label": PRIOR_LABEL, "recipe": r, "pretrain_text_len": PRETRAIN_TEXT_LEN, "scales": list(SCALES),
        "factor": FACTOR, "transformer_config": {k: list(v) if isinstance(v, tuple) else v
                                                 for k, v in TRANSFORMER_CONFIG.items()},
        "parameters": sum(p.numel() for p in model.parameters()),
        "pretrain_photos": photo_hashes(PRETRAIN_PHOTOS), "heldout_photos": photo_hashes(HELDOUT_PHOTOS),
        "quality": {"measure": f"clean-estimate MSE (latent units) at noise {QUALITY_SIGMA} on {QUALITY_CROPS} "
                               "fixed 32x32 crops of the held-out photos", "evals": evals},
        "losses": losses, "train_seconds": round(time.perf_counter() - started, 1),
        "threads": torch.get_num_threads(), "torch": torch.__version__, "code_version": code_version(),
        "sha256": file_sha256(out),
    }
    atomic_write_text(sidecar_path(out), json.dumps(sidecar, indent=1) + "\n")
    return sidecar


# ---- CLI ----------------------------------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m ypt.mini_prior", description=(
        "Pretrain the miniature backbone's prior (the built-in demo's diffusion model) on photos bundled with "
        "scikit-image, pyiqa and matplotlib, or check the packaged one (--check)."))
    p.add_argument("--out", help="prior file to write (safetensors; the sidecar goes beside it as .json)")
    p.add_argument("--check", nargs="?", const="", metavar="PRIOR",
                   help="verify a prior's sha256 against its sidecar and measure its quality (default: the "
                        "packaged prior)")
    for key, value in RECIPE.items():
        p.add_argument(f"--{key.replace('_', '-')}", type=type(value), default=value, help=f"default {value}")
    p.add_argument("--eval-every", type=int, default=1000)
    p.add_argument("--threads", type=int, default=1,
                   help="torch CPU threads (the packaged prior: 1; other counts round differently)")
    add_debug_argument(p)
    return p


@entry_point
def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    import torch

    torch.set_num_threads(args.threads)
    if args.check is not None:
        from ypt.backbones.mini import MiniBackbone
        from ypt.backbones.mini_weights import sidecar_path

        # measured as the recipe measured it: with the context length of pretraining
        backbone = MiniBackbone.from_pretrained(args.check or None, max_sequence_length=PRETRAIN_TEXT_LEN)
        recorded = json.loads(sidecar_path(backbone.source).read_text())["quality"]["evals"][-1]["clean_mse"]
        print(f"{backbone.source}: sha256 matches its sidecar; clean-estimate MSE at noise {QUALITY_SIGMA} on the "
              f"held-out crops: {clean_mse(backbone, heldout_crops()):.4f} (recorded {recorded:.4f}; untrained ~0.25)")
        return 0
    if not args.out:
        build_parser().error("give --out PRIOR.safetensors (or --check)")
    side = pretrain(args.out, {k: getattr(args, k) for k in RECIPE}, eval_every=args.eval_every)
    print(f"prior written to {args.out} (sha256 {side['sha256'][:12]}..., {side['train_seconds']:.0f}s); held-out "
          f"clean-estimate MSE {side['quality']['evals'][-1]['clean_mse']:.4f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
