"""Pixels in and out of the method: images and clips as ``[0, 1]`` tensors, the bicubic resizes of the paper's
protocol (FLUX: square ``ypt.defaults.FLUX_SIZE``; WAN: the first ``VIDEO_FRAMES`` frames at
``VIDEO_HEIGHT x VIDEO_WIDTH``), frames in natural order, video files in (PyAV: .mp4 .mov .avi .mkv .webm, decoded
only as far as the frames used) and out (H.264), and PNG writing.

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
#: video file extensions read as clips (the release's ``run_single.py`` takes the same), decoded with PyAV
VIDEO_EXTENSIONS = (".mp4", ".mov", ".avi", ".mkv", ".webm")
#: frame rate of a clip whose container states none, and of a frame folder (the release's default)
DEFAULT_FPS = 12.0
#: the restored clip's video beside its frames (as the release's ``run_single.py`` and ``app.py`` write it)
RESULT_VIDEO = "result.mp4"
#: ``path -> (H, W, 3) uint8 array``: how a caller decodes inputs that are not image files
ImageReader = Callable[[Union[str, os.PathLike]], "np.ndarray"]
#: a clip: a frame folder, a list of frame paths or a video file (:data:`VIDEO_EXTENSIONS`)
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


def is_video_file(source: ClipSource) -> bool:
    return isinstance(source, (str, os.PathLike)) and Path(source).suffix.lower() in VIDEO_EXTENSIONS


def load_clip(source: ClipSource, num_frames: int | None = None, size: tuple[int, int] | None = None,
              read_image: ImageReader | None = None) -> torch.Tensor:
    """``(3, F, H, W)`` in [0, 1] from a frame folder, a frame list or a video file: the first ``num_frames``
    frames (a video is decoded only that far), each resized with PIL's bicubic filter."""
    import torch

    if is_video_file(source):
        from PIL import Image

        frames, _ = read_video(source, num_frames)
        return torch.stack([pil_to_tensor(Image.fromarray(f), size) for f in frames], dim=1)
    paths = frame_paths(source)
    if num_frames is not None:
        paths = paths[:num_frames]
    return torch.stack([load_image(p, size, read_image) for p in paths], dim=1)


def clip_fps(source: ClipSource) -> float:
    """A clip's frame rate: a video's ``average_rate`` (else its ``guessed_rate``), else :data:`DEFAULT_FPS`."""
    if not is_video_file(source):
        return DEFAULT_FPS
    with _open_video(source) as container:
        stream = container.streams.video[0]
        rate = stream.average_rate or stream.guessed_rate
        return float(rate) if rate else DEFAULT_FPS


def clip_size(source: ClipSource) -> tuple[int, int]:
    """``(height, width)`` of a clip's frames (a video's stream size; a frame folder's first frame)."""
    if is_video_file(source):
        with _open_video(source) as container:
            stream = container.streams.video[0]
            return stream.height, stream.width
    return image_size(frame_paths(source)[0])


def _open_video(path: str | os.PathLike):
    import av

    if not Path(path).is_file():
        raise MissingData(f"no video at {path}")
    try:
        container = av.open(str(path))
    except (av.FFmpegError, OSError, ValueError) as err:
        raise BadInput(f"cannot read video {path}: {err}") from None
    if not container.streams.video:
        container.close()
        raise BadInput(f"{path} holds no video stream")
    return container


def read_video(path: str | os.PathLike, num_frames: int | None = None) -> tuple[list[np.ndarray], float]:
    """The first ``num_frames`` frames of a video file (all when None) as ``(H, W, 3)`` uint8 RGB arrays, decoded
    in order and no further, and its frame rate (:func:`clip_fps`). Counted while decoding: containers such as
    .mkv and .webm state no frame count."""
    import av

    frames = []
    with _open_video(path) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        rate = stream.average_rate or stream.guessed_rate
        try:
            for frame in container.decode(stream):
                frames.append(frame.to_ndarray(format="rgb24"))
                if num_frames is not None and len(frames) >= num_frames:
                    break
        except (av.FFmpegError, ValueError) as err:
            if not frames:
                raise BadInput(f"cannot decode video {path}: {err}") from None
    if not frames:
        raise BadInput(f"video {path} has no decodable frame")
    return frames, float(rate) if rate else DEFAULT_FPS


def write_video(clip: torch.Tensor, path: str | os.PathLike, fps: float = DEFAULT_FPS) -> Path:
    """``(3, F, H, W)`` in [0, 1] as an H.264 (yuv420p, browser-playable) video, atomically. 4:2:0 needs even
    sizes: an odd height or width is padded by repeating the last row or column."""
    from fractions import Fraction

    import av
    import numpy as np

    from ypt.files import atomic_path

    frames = (clip.detach().float().clamp(0, 1).cpu().permute(1, 2, 3, 0).numpy() * 255.0).round().astype(np.uint8)
    height, width = frames.shape[1:3]
    frames = np.pad(frames, ((0, 0), (0, height % 2), (0, width % 2), (0, 0)), mode="edge")
    path = Path(path)
    with atomic_path(path) as tmp:
        with av.open(str(tmp), mode="w", format="mp4") as container:
            stream = container.add_stream("libx264", rate=Fraction(fps).limit_denominator(1001))
            stream.height, stream.width = frames.shape[1:3]
            stream.pix_fmt = "yuv420p"
            stream.options = {"crf": "18"}
            for frame in frames:
                for packet in stream.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")):
                    container.mux(packet)
            for packet in stream.encode():
                container.mux(packet)
    return path


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


def save_release_jpeg(pixels: torch.Tensor, path: str | os.PathLike) -> Path:
    """Write ``(3, H, W)`` in [0, 1] as the authors' release saves its outputs (``utils.video_tensor_to_uint8`` and
    ``Image.save``): 8 bits by truncation (``(x * 255).byte()``, not rounding), JPEG at PIL's default quality and
    chroma subsampling; atomically. The release makes its DOVER videos from these files."""
    import torch

    from ypt.files import atomic_write_image

    arr = (pixels.detach().float().clamp(0, 1) * 255).to(torch.uint8).cpu().permute(1, 2, 0).numpy()
    return atomic_write_image(arr, path, "JPEG")
