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
images in [0, 1]). For files, :func:`load_pair` is step 1 for a saved output: the target is PIL-bicubic-resized to
the output's resolution, which is the working resolution for FLUX (1024x1024) and WAN (480x832) outputs and makes the
rule apply unchanged to baselines that write outputs at their own size, and goes through the release's round trip
``((t * 2 - 1) + 1) * 0.5`` (``target_in``, then the metric's ``(x + 1) * 0.5``: one float ulp at most). The
prediction is the output's metric view when its method wrote one (the float decode, as the release scores it;
:func:`benchmarks.outputs.write_metric_view`), else the output file read at its own resolution (8-bit, as saved).
No 8-bit re-quantisation happens after the resize (the official code has none).
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


def release_target(target):
    """The release's target pipeline before the resize: ``target_in = target * 2 - 1``, then ``(x + 1) * 0.5``."""
    return ((target * 2.0 - 1.0) + 1.0) * 0.5


def load_pair(output: Any, target: Any | None, size: int = METRIC_SIZE):
    """A saved output and its target as (1, 3, size, size) tensors ready for any metric (target may be None): the
    output's metric view when there is one (else the file), the target PIL-bicubic-resized to the output file's size
    (:func:`ypt.media.load_image`) and through :func:`release_target`. Outputs are image files; a target stored in a
    container (the ``.mat`` / ``.npy`` references of the UDC and SDSD sets) is decoded by the dataset registry's
    reader (:func:`benchmarks.datasets.containers.read_image`) and converted the same way."""
    from ypt.media import image_size, load_image

    from benchmarks.datasets.containers import is_container_ref, read_image
    from benchmarks.outputs import metric_view_path

    view = metric_view_path(output)
    if view.is_file() and size == METRIC_SIZE:
        pred, shape = read_metric_view(view), image_size(output)
    else:
        pred = load_image(output)
        pred, shape = protocol_resize(pred[None], size), tuple(pred.shape[-2:])
    reader = read_image if target is not None and is_container_ref(target) else None
    tgt = None if target is None else release_target(load_image(target, shape, reader))
    return pred, (None if tgt is None else protocol_resize(tgt[None], size))


def write_metric_view(pixels, output):
    """The float prediction ``(3, H, W)`` in [0, 1] (on the restorer's device) as the metrics see it: the
    protocol's resize to 512x512 (:func:`protocol_resize`), saved float32 beside ``output``
    (:func:`benchmarks.outputs.metric_view_path`), atomically."""
    import io

    import numpy as np

    from benchmarks.outputs import metric_view_path
    from ypt.files import atomic_write_bytes

    view = protocol_resize(pixels[None].float())[0].cpu().numpy().astype(np.float32)
    buffer = io.BytesIO()
    np.save(buffer, view, allow_pickle=False)
    return atomic_write_bytes(metric_view_path(output), buffer.getvalue())


def read_metric_view(path):
    """A metric view as a ``(1, 3, 512, 512)`` float32 tensor."""
    import numpy as np
    import torch

    return torch.from_numpy(np.load(path, allow_pickle=False))[None]
