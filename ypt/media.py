"""Pixels in and out of the method: images and clips as ``[0, 1]`` tensors, the bicubic resizes of the paper's
protocol (FLUX: square ``ypt.defaults.FLUX_SIZE``; WAN: the first ``VIDEO_FRAMES`` frames at
``VIDEO_HEIGHT x VIDEO_WIDTH``), frames in natural order and PNG writing.

Files are resized with PIL's bicubic filter on 8-bit images (what the official release's loaders do); in-memory
tensors with ``torch.nn.functional.interpolate(mode="bicubic", antialias=True)``, clamped to [0, 1].

Image files are opened with PIL. A caller whose inputs are stored otherwise (arrays in ``.mat`` / ``.npy`` files, a
database) passes ``read_image``: a callable ``path -> (H, W, 3) uint8 array``; its pixels then go through the same
conversion and resize. numpy, torch and PIL are imported on first use, so :data:`IMAGE_EXTENSIONS` and
:func:`natural_key` cost nothing to import (command-line ``--help`` paths use them).
"""
from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Union

from ypt.defaults import usable_frames
from ypt.errors import BadInput, MissingData

if TYPE_CHECKING:
    import numpy as np
    import torch
    from PIL import Image

#: image file extensions read as inputs and frames (lower case; matched case-insensitively)
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")
#: ``path -> (H, W, 3) uint8 array``: how a caller decodes inputs that are not image files
ImageReader = Callable[[Union[str, os.PathLike]], "np.ndarray"]
#: a clip: a frame folder or a list of frame paths
ClipSource = Union[str, os.PathLike, Sequence[Union[str, os.PathLike]]]
#: pixels as a caller hands them in: an image path, a clip (frame folder or list of frame paths) or a tensor in [0, 1]
PixelSource = Union[str, os.PathLike, Sequence[Union[str, os.PathLike]], "torch.Tensor"]

_DIGITS = re.compile(r"(\d+)")


def natural_key(name: str) -> tuple:
    """Sort key that orders ``frame2`` before ``frame10`` (case-insensitive)."""
    return tuple(int(part) if part.isdigit() else part.lower() for part in _DIGITS.split(name))


def pil_to_tensor(img: Image.Image, size: tuple[int, int] | None = None) -> torch.Tensor:
    """A PIL image as ``(3, H, W)`` in [0, 1]; ``size=(height, width)`` resizes with PIL's bicubic filter."""
    import numpy as np
    import torch
    from PIL import Image

    img = img.convert("RGB")
    if size is not None and img.size != (size[1], size[0]):
        img = img.resize((size[1], size[0]), Image.BICUBIC)
    arr = np.asarray(img, dtype=np.uint8)
    return torch.from_numpy(arr.copy()).permute(2, 0, 1).float() / 255.0


def open_image(path: str | os.PathLike, read_image: ImageReader | None = None) -> Image.Image:
    """A PIL image of ``path``: opened by PIL, or decoded by ``read_image`` when given."""
    from PIL import Image

    if read_image is not None:
        return Image.fromarray(read_image(path))
    try:
        return Image.open(path)
    except FileNotFoundError:
        raise MissingData(f"no image at {path}") from None
    except OSError as err:  # PIL's UnidentifiedImageError and friends
        raise BadInput(f"cannot read image {path}: {err}") from None


def load_image(path: str | os.PathLike, size: tuple[int, int] | None = None,
               read_image: ImageReader | None = None) -> torch.Tensor:
    """``(3, H, W)`` in [0, 1] from an image file (or whatever ``read_image`` decodes);
    ``size=(height, width)`` resizes with PIL's bicubic filter."""
    with open_image(path, read_image) as img:
        try:
            return pil_to_tensor(img, size)
        except OSError as err:  # a truncated file fails when its pixels are read
            raise BadInput(f"cannot read image {path}: {err}") from None


def image_size(path: str | os.PathLike, read_image: ImageReader | None = None) -> tuple[int, int]:
    """``(height, width)`` of an image (image files are not decoded)."""
    with open_image(path, read_image) as img:
        return img.height, img.width


def frame_paths(source: ClipSource) -> list[Path]:
    """Frame files of a clip given as a folder (natural order) or a list of paths."""
    if isinstance(source, (list, tuple)):
        return [Path(p) for p in source]
    folder = Path(source)
    if not folder.is_dir():
        raise MissingData(f"clip folder not found: {folder}")
    frames = [p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS]
    if not frames:
        raise MissingData(f"no frames ({', '.join(IMAGE_EXTENSIONS)}) in {folder}")
    return sorted(frames, key=lambda p: natural_key(p.name))


def load_clip(source: ClipSource, num_frames: int | None = None, size: tuple[int, int] | None = None,
              read_image: ImageReader | None = None) -> torch.Tensor:
    """``(3, F, H, W)`` in [0, 1] from a frame folder or list: the first ``num_frames`` frames, resized."""
    import torch

    paths = frame_paths(source)
    if num_frames is not None:
        paths = paths[:num_frames]
    return torch.stack([load_image(p, size, read_image) for p in paths], dim=1)


def resize(pixels: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Bicubic (antialiased) resize of ``(..., C, H, W)`` to ``size=(height, width)``, clamped to [0, 1]."""
    import torch

    if tuple(pixels.shape[-2:]) == tuple(size):
        return pixels
    lead = pixels.shape[:-3]
    x = pixels.reshape(-1, *pixels.shape[-3:]).float()
    x = torch.nn.functional.interpolate(x, size=tuple(size), mode="bicubic", antialias=True, align_corners=False)
    return x.clamp(0, 1).reshape(*lead, *x.shape[-3:])


def prepare_clip(clip: torch.Tensor, num_frames: int, size: tuple[int, int],
                 temporal_compression: int = 4) -> torch.Tensor:
    """``(3, F, H, W)`` -> the first ``num_frames`` frames (fewer: the largest 4k+1), resized to ``size``."""
    n = usable_frames(min(clip.shape[1], num_frames), temporal_compression)
    frames = clip[:, :n].permute(1, 0, 2, 3)  # F, 3, H, W
    return resize(frames, size).permute(1, 0, 2, 3).contiguous()


def save_png(pixels: torch.Tensor, path: str | os.PathLike) -> Path:
    """Write ``(3, H, W)`` in [0, 1] as an 8-bit PNG, atomically."""
    import numpy as np

    from ypt.files import atomic_write_png

    arr = (pixels.detach().float().clamp(0, 1).cpu().permute(1, 2, 0).numpy() * 255.0).round().astype(np.uint8)
    return atomic_write_png(arr, path)
