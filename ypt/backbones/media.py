"""Pixels in and out of the adapters: image/frame loading to ``[0, 1]`` tensors, the protocol's bicubic resizes
(FLUX: square 1024; WAN: the first 33 frames at 480x832) and PNG writing.

Files are resized with PIL's bicubic filter on 8-bit images (what the official release's loaders do);
in-memory tensors with ``torch.nn.functional.interpolate(mode="bicubic", antialias=True)``, clamped to [0, 1].
"""
from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from benchmarks.outputs import IMAGE_EXTENSIONS
from benchmarks.protocol import usable_frames


def pil_to_tensor(img: Any, size: tuple[int, int] | None = None) -> torch.Tensor:
    """A PIL image as ``(3, H, W)`` in [0, 1]; ``size=(height, width)`` resizes with PIL's bicubic filter."""
    from PIL import Image

    img = img.convert("RGB")
    if size is not None and img.size != (size[1], size[0]):
        img = img.resize((size[1], size[0]), Image.BICUBIC)
    arr = np.asarray(img, dtype=np.uint8)
    return torch.from_numpy(arr.copy()).permute(2, 0, 1).float() / 255.0


def is_container_ref(path: str | os.PathLike) -> bool:
    """A frame stored in an array file (``x.mat#3``, ``x.npy``) rather than an image file."""
    text = str(path)
    return "#" in text or Path(text).suffix.lower() in (".mat", ".npy")


def open_image(path: str | os.PathLike) -> Any:
    """A PIL image for an image file or an array reference (decoded by the dataset registry's reader)."""
    from PIL import Image

    if is_container_ref(path):  # UDC .mat / SDSD .npy sets, decoded by the dataset registry's reader
        from benchmarks.datasets.containers import read_image

        return Image.fromarray(read_image(path))
    return Image.open(path)


def load_image(path: str | os.PathLike, size: tuple[int, int] | None = None) -> torch.Tensor:
    """``(3, H, W)`` in [0, 1] from an image file or an array reference (``x.mat#3``, ``x.npy``);
    ``size=(height, width)`` resizes with PIL's bicubic filter."""
    with open_image(path) as img:
        return pil_to_tensor(img, size)


def image_size(path: str | os.PathLike) -> tuple[int, int]:
    """``(height, width)`` of an image (files are not decoded)."""
    with open_image(path) as img:
        return img.height, img.width


def frame_paths(source: str | os.PathLike | Sequence[str | os.PathLike]) -> list[Path]:
    """Frame files of a clip given as a folder (natural order) or a list of paths."""
    if isinstance(source, (list, tuple)):
        return [Path(p) for p in source]
    folder = Path(source)
    if not folder.is_dir():
        raise FileNotFoundError(f"clip folder not found: {folder}")
    from benchmarks.naming import natural_key

    frames = [p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS]
    if not frames:
        raise FileNotFoundError(f"no frames ({', '.join(IMAGE_EXTENSIONS)}) in {folder}")
    return sorted(frames, key=lambda p: natural_key(p.name))


def load_clip(source: Any, num_frames: int | None = None, size: tuple[int, int] | None = None) -> torch.Tensor:
    """``(3, F, H, W)`` in [0, 1] from a frame folder or list: the first ``num_frames`` frames, resized."""
    paths = frame_paths(source)
    if num_frames is not None:
        paths = paths[:num_frames]
    return torch.stack([load_image(p, size) for p in paths], dim=1)


def resize(pixels: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Bicubic (antialiased) resize of ``(..., C, H, W)`` to ``size=(height, width)``, clamped to [0, 1]."""
    if tuple(pixels.shape[-2:]) == tuple(size):
        return pixels
    lead = pixels.shape[:-3]
    x = pixels.reshape(-1, *pixels.shape[-3:]).float()
    x = torch.nn.functional.interpolate(x, size=tuple(size), mode="bicubic", antialias=True, align_corners=False)
    return x.clamp(0, 1).reshape(*lead, *x.shape[-3:])


def prepare_clip(clip: torch.Tensor, num_frames: int, size: tuple[int, int], temporal_compression: int = 4) -> torch.Tensor:
    """``(3, F, H, W)`` -> the first ``num_frames`` frames (fewer: the largest 4k+1), resized to ``size``."""
    n = usable_frames(min(clip.shape[1], num_frames), temporal_compression)
    frames = clip[:, :n].permute(1, 0, 2, 3)  # F, 3, H, W
    return resize(frames, size).permute(1, 0, 2, 3).contiguous()


def save_png(pixels: torch.Tensor, path: str | os.PathLike) -> Path:
    """Write ``(3, H, W)`` in [0, 1] as an 8-bit PNG, atomically."""
    from ypt.files import atomic_write_png

    arr = (pixels.detach().float().clamp(0, 1).cpu().permute(1, 2, 0).numpy() * 255.0).round().astype(np.uint8)
    return atomic_write_png(arr, path)
