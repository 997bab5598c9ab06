"""The protocol's metric geometry, exactly as the official release (sudraj2002/YPT ``inference.py``) computes it.

Official pipeline, read from its code:

1. the target is loaded with PIL, resized to the model's working resolution with torchvision's
   ``T.Resize(..., BICUBIC)`` on the PIL image (that is PIL's bicubic filter, 8-bit), then ``ToTensor`` ([0, 1]);
   the prediction is the decoded output at that same resolution;
2. prediction and target (float, [0, 1]) are resized to 512x512 with ``torch.nn.functional.interpolate(...,
   mode="bicubic")`` (``align_corners=False``, no antialias), skipped when already 512x512
   (``resize_video_for_metrics``);
3. both are clamped to [0, 1], and every metric runs on them (PSNR/SSIM via scikit-image on float32 HWC arrays).

Here: :func:`protocol_resize` is step 2 + 3 (what ``metric(pred, target)`` applies itself, a no-op at 512x512 for
images in [0, 1]). For files, :func:`load_pair` is step 1 for a saved output: the output is read at its own
resolution (8-bit, as saved) and the target is PIL-bicubic-resized to that resolution, which is the working
resolution for FLUX (1024x1024) and WAN (480x832) outputs and makes the rule apply unchanged to baselines that
write outputs at their own size. No 8-bit re-quantisation happens after the resize (the official code has none).
"""
from __future__ import annotations

from typing import Any

from benchmarks.protocol import METRIC_SIZE


def protocol_resize(images, size: int = METRIC_SIZE):
    """(N, 3, H, W) float in [0, 1] -> (N, 3, size, size): torch bicubic (align_corners=False, no antialias), then
    clamped to [0, 1]; unchanged (but clamped) when already ``size`` x ``size``."""
    import torch.nn.functional as F

    if images.ndim != 4 or images.shape[1] != 3:
        raise ValueError(f"metrics take (N, 3, H, W) tensors in [0, 1], got shape {tuple(images.shape)}")
    images = images.float()
    if tuple(images.shape[-2:]) != (size, size):
        images = F.interpolate(images, size=(size, size), mode="bicubic", align_corners=False)
    return images.clamp(0.0, 1.0)


def load_pair(output: Any, target: Any | None, size: int = METRIC_SIZE):
    """A saved output and its target as (1, 3, size, size) tensors ready for any metric (target may be None): the
    target PIL-bicubic-resized to the output's size (:func:`ypt.media.load_image`). Outputs are image files; a
    target stored in a container (the ``.mat`` / ``.npy`` references of the UDC and SDSD sets) is decoded by the
    dataset registry's reader (:func:`benchmarks.datasets.containers.read_image`) and converted the same way."""
    from ypt.media import load_image

    from benchmarks.datasets.containers import is_container_ref, read_image

    pred = load_image(output)
    reader = read_image if target is not None and is_container_ref(target) else None
    tgt = None if target is None else load_image(target, tuple(pred.shape[-2:]), reader)
    return protocol_resize(pred[None], size), (None if tgt is None else protocol_resize(tgt[None], size))
