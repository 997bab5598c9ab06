"""The protocol's metric geometry: prediction and target are bicubic-resized to 512x512 before every metric.

The official evaluation loads 8-bit images with PIL and resizes them with torchvision's ``Resize`` in bicubic mode,
which on PIL images is PIL's bicubic filter; :func:`load_for_metrics` does exactly that, then scales to [0, 1].
For tensors handed to a metric directly (:func:`protocol_resize`), images that are not already 512x512 are
quantised to 8 bits (as a saved output would be) and resized with the same PIL filter; 512x512 inputs pass through
unchanged.
"""
from __future__ import annotations

from pathlib import Path

from benchmarks.protocol import METRIC_SIZE


def _pil_resize(image, size: int = METRIC_SIZE):
    from PIL import Image

    if image.size == (size, size):
        return image
    return image.resize((size, size), Image.BICUBIC)


def load_for_metrics(path: str | Path, size: int = METRIC_SIZE):
    """An image file as a (3, size, size) float tensor in [0, 1], resized per the protocol."""
    import numpy as np
    import torch
    from PIL import Image

    with Image.open(path) as image:
        rgb = _pil_resize(image.convert("RGB"), size)
        array = np.asarray(rgb, dtype=np.float32) / 255.0
    return torch.from_numpy(array.copy()).permute(2, 0, 1)


def array_for_metrics(array, size: int = METRIC_SIZE):
    """An HxWx3 uint8 or float [0, 1] array (e.g. decoded from .mat / .npy) resized per the protocol."""
    import numpy as np
    import torch
    from PIL import Image

    if array.dtype != np.uint8:
        array = np.clip(np.rint(np.asarray(array, dtype=np.float64) * 255.0), 0, 255).astype(np.uint8)
    rgb = _pil_resize(Image.fromarray(array[..., :3]), size)
    return torch.from_numpy(np.asarray(rgb, dtype=np.float32) / 255.0).permute(2, 0, 1)


def protocol_resize(images, size: int = METRIC_SIZE):
    """(N, 3, H, W) float in [0, 1] -> (N, 3, size, size); a no-op when already that size."""
    import torch

    if images.ndim != 4 or images.shape[1] != 3:
        raise ValueError(f"metrics take (N, 3, H, W) tensors in [0, 1], got shape {tuple(images.shape)}")
    if images.shape[-2:] == (size, size):
        return images.float()
    out = [array_for_metrics((img.clamp(0, 1).permute(1, 2, 0).cpu().numpy()), size) for img in images]
    return torch.stack(out).to(images.device)
