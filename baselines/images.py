"""Image file helpers for the wrappers: read as float RGB, write PNG atomically, resize, copy into the contract."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np


def read_rgb(path: str | Path) -> np.ndarray:
    """An image file as float32 RGB in [0, 1], shape (H, W, 3)."""
    from PIL import Image

    with Image.open(path) as img:
        return np.asarray(img.convert("RGB"), dtype=np.float32) / 255.0


def to_uint8(image: np.ndarray) -> np.ndarray:
    return (np.clip(image, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def write_png(image: np.ndarray, path: str | Path) -> Path:
    """Write a float [0, 1] or uint8 RGB array as PNG (atomic: no half-written file on interruption)."""
    from ypt.files import atomic_write_png

    return atomic_write_png(image if image.dtype == np.uint8 else to_uint8(image), path)


def image_size(path: str | Path) -> tuple[int, int]:
    """(width, height) of an image file."""
    from PIL import Image

    with Image.open(path) as img:
        return img.size


def save_as_output(src: str | Path, dst: str | Path, size: tuple[int, int] | None = None) -> Path:
    """Copy an upstream output image to its contract path as RGB PNG; bicubic-resize to ``size`` (w, h) when its
    size differs (e.g. PixWizard's bucket resolutions)."""
    from PIL import Image

    from ypt.files import atomic_path

    with Image.open(src) as img:
        img = img.convert("RGB")
        if size is not None and img.size != tuple(size):
            img = img.resize(tuple(size), Image.BICUBIC)
        with atomic_path(dst) as tmp:
            img.save(tmp, format="PNG")
    return Path(dst)


def stage_image(src: str | Path, dst: str | Path) -> Path:
    """Put an input where upstream reads it: a symlink when the format already matches, else a conversion
    (PNG, or JPEG at quality 100 for upstreams that only read ``.jpg``)."""
    from PIL import Image

    src, dst = Path(src).resolve(), Path(dst)
    dst.parent.mkdir(parents=True, exist_ok=True)
    if dst.exists() or dst.is_symlink():
        dst.unlink()
    if src.suffix.lower() == dst.suffix.lower():
        dst.symlink_to(src)
        return dst
    with Image.open(src) as img:
        rgb = img.convert("RGB")
        if dst.suffix.lower() in (".jpg", ".jpeg"):
            rgb.save(dst, quality=100, subsampling=0)
        else:
            rgb.save(dst)
    return dst


def pad_bottom_right(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """``image`` (H, W, C) reflect-padded on the bottom and right to ``height`` x ``width`` (edge-padded when a side
    is too short to reflect); unchanged when it is already that size."""
    h, w = image.shape[:2]
    ph, pw = height - h, width - w
    if ph < 0 or pw < 0:
        raise ValueError(f"cannot pad {h}x{w} to the smaller {height}x{width}")
    if not (ph or pw):
        return image
    return np.pad(image, ((0, ph), (0, pw), (0, 0)), mode="reflect" if min(h, w) > 1 else "edge")


def round_up(side: int, multiple: int) -> int:
    return side + (-side) % multiple


def stage_padded(src: str | Path, dst: str | Path, multiple: int = 1,
                 size: Callable[[int, int], tuple[int, int]] | None = None) -> tuple[int, int]:
    """Write ``src`` as PNG (JPEG at quality 100 when ``dst`` ends in ``.jpg``) at ``dst``, reflect-padded on the right/bottom: to sides divisible by ``multiple`` (for
    upstreams that need it or silently crop), or to ``size(height, width) -> (height, width)`` (an upstream's own
    size rule, e.g. a minimum tile); returns the original (width, height) to crop back to."""
    image = read_rgb(src)
    h, w = image.shape[:2]
    th, tw = size(h, w) if size is not None else (h, w)
    image = pad_bottom_right(image, round_up(th, multiple), round_up(tw, multiple))
    Path(dst).parent.mkdir(parents=True, exist_ok=True)
    if Path(dst).suffix.lower() in (".jpg", ".jpeg"):  # for upstreams that only read .jpg
        from PIL import Image

        from ypt.files import atomic_path

        with atomic_path(dst) as tmp:
            Image.fromarray(to_uint8(image)).save(tmp, format="JPEG", quality=100, subsampling=0)
    else:
        write_png(image, dst)
    return w, h


def save_cropped(src: str | Path, dst: str | Path, size: tuple[int, int]) -> Path:
    """Copy an upstream output to ``dst`` as PNG, cropped to the top-left ``size`` (w, h) (undoes
    :func:`stage_padded`); an output smaller than the padded input is bicubic-resized to ``size`` instead."""
    from PIL import Image

    from ypt.files import atomic_path

    with Image.open(src) as img:
        img = img.convert("RGB")
        w, h = size
        if img.size[0] >= w and img.size[1] >= h:
            img = img.crop((0, 0, w, h))
        else:
            img = img.resize((w, h), Image.BICUBIC)
        with atomic_path(dst) as tmp:
            img.save(tmp, format="PNG")
    return Path(dst)
