"""The import hook the CPU install puts in site-packages (``ypt_torchvision_cpu.pth`` runs :func:`activate` at
interpreter start): on the first ``import torchvision``, when its compiled extension cannot load beside a CPU-only
torch, define the operator schemas torchvision registers fake kernels for (``nms`` with a pure-torch CPU kernel,
``qnms``). Kept apart from :mod:`ypt.compat.torchvision_cpu` (install, uninstall, the command line), which the
hook therefore never imports."""
from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
from pathlib import Path

_LIBRARY = None  # keeps the torch.library.Library alive for the process


def _nms_cpu(boxes, scores, iou_threshold: float):
    import torch

    order = torch.argsort(scores, descending=True)
    x1, y1, x2, y2 = boxes.unbind(1)
    areas = (x2 - x1).clamp(min=0) * (y2 - y1).clamp(min=0)
    keep = []
    while order.numel() > 0:
        best = order[0]
        keep.append(best)
        rest = order[1:]
        inter_w = (torch.minimum(x2[best], x2[rest]) - torch.maximum(x1[best], x1[rest])).clamp(min=0)
        inter_h = (torch.minimum(y2[best], y2[rest]) - torch.maximum(y1[best], y1[rest])).clamp(min=0)
        inter = inter_w * inter_h
        iou = inter / (areas[best] + areas[rest] - inter)
        order = rest[iou <= iou_threshold]
    if not keep:
        return torch.empty(0, dtype=torch.long, device=boxes.device)
    return torch.stack(keep)


def _register_schemas() -> None:
    global _LIBRARY
    import torch

    _LIBRARY = torch.library.Library("torchvision", "DEF")
    _LIBRARY.define("nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
    _LIBRARY.define("qnms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
    _LIBRARY.impl("nms", _nms_cpu, "CPU")


class TorchvisionCpuFinder(importlib.abc.MetaPathFinder):
    """Meta-path finder that repairs torchvision on first import when its extension cannot load."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname != "torchvision":
            return None
        sys.meta_path[:] = [f for f in sys.meta_path if f is not self]
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or not spec.submodule_search_locations:
            return None
        package_dir = Path(next(iter(spec.submodule_search_locations)))
        extensions = sorted(package_dir.glob("_C*.so"))
        import torch

        try:
            if not extensions:
                raise OSError("no compiled extension")
            torch.ops.load_library(str(extensions[0]))
        except OSError:
            _register_schemas()
        return None  # let the normal finders import torchvision itself


def activate() -> None:
    """Put the finder on sys.meta_path (called from the .pth file at interpreter start)."""
    if "torchvision" in sys.modules:
        return
    if not any(isinstance(f, TorchvisionCpuFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, TorchvisionCpuFinder())
