"""Which device a run uses: the one asked for, or fail at once; a silent fall back to the CPU is never taken for a
device the user named (a GPU job that lost its GPU would otherwise crawl on the CPU for hours)."""
from __future__ import annotations

import os
import sys

from ypt.errors import MissingResource, UsageError


def resolve_device(requested: str | None = None, *, stream=None) -> str:
    """``requested`` (``cuda``, ``cuda:1``, ``cpu``, ``mps``) checked against this machine, or, when None or
    ``auto``, CUDA when there is a device and else the CPU, said in one line on ``stream`` (stderr)."""
    import torch

    if requested in (None, "", "auto"):
        if torch.cuda.is_available():
            return "cuda"
        print("no CUDA device here: running on the CPU (--device cuda makes that an error)",
              file=stream or sys.stderr)
        return "cpu"
    try:
        device = torch.device(requested)
    except (RuntimeError, ValueError) as err:
        raise UsageError(f"--device {requested}: not a device ({err}); use cuda, cuda:N or cpu") from None
    if device.type == "cuda":
        if not torch.cuda.is_available():
            visible = os.environ.get("CUDA_VISIBLE_DEVICES")
            raise MissingResource(
                f"--device {requested}: no CUDA device is available (torch {torch.__version__}, "
                f"{'CUDA ' + torch.version.cuda if torch.version.cuda else 'a CPU-only build'}"
                f"{', CUDA_VISIBLE_DEVICES=' + repr(visible) if visible is not None else ''}); "
                "check the job's GPU request (e.g. --gres=gpu:1) and the CUDA build of torch, or pass --device cpu")
        count = torch.cuda.device_count()
        if device.index is not None and device.index >= count:
            raise MissingResource(f"--device {requested}: this machine has {count} CUDA device(s) "
                                  f"(cuda:0..cuda:{count - 1})")
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise MissingResource(f"--device {requested}: MPS is not available here")
    return str(device)
