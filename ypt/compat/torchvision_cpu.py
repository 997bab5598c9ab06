"""Make PyPI's CUDA-built torchvision importable beside a CPU-only torch.

PyPI's ``torchvision`` wheels for Linux are CUDA builds. Next to the CPU build of torch their compiled
extension (``torchvision/_C*.so``) cannot be loaded, and ``import torchvision`` then fails while registering
its fake kernels ("operator torchvision::nms does not exist"); transformers and diffusers import torchvision
and fail with it.

``install()`` writes a one-line ``.pth`` file into site-packages that puts :class:`TorchvisionCpuFinder` on
``sys.meta_path``. The finder does nothing until ``torchvision`` is first imported; then, only if the real
extension cannot be loaded, it defines the ``torchvision::nms``/``roi_align``-free schemas torchvision needs
(``nms`` with a pure-torch CPU kernel, ``qnms``), so the rest of torchvision (transforms, models) works.
On a machine whose torchvision extension loads (any GPU install) nothing is changed, and ``install()`` is
never run there by the setup scripts.
"""
from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
from pathlib import Path

PTH_NAME = "ypt_torchvision_cpu.pth"
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


def extension_loads() -> bool:
    """True when torchvision's own compiled extension loads next to this torch (checked in a subprocess)."""
    import subprocess

    code = (
        "import glob, os, importlib.util, torch\n"
        "spec = importlib.util.find_spec('torchvision')\n"
        "libs = glob.glob(os.path.join(list(spec.submodule_search_locations)[0], '_C*.so'))\n"
        "torch.ops.load_library(libs[0])\n"
    )
    return subprocess.run([sys.executable, "-c", code], capture_output=True).returncode == 0


def install(site_packages: str | None = None, force: bool = False) -> Path | None:
    """Write the .pth hook into site-packages when torchvision's extension cannot load. Returns its path."""
    import sysconfig

    target = Path(site_packages or sysconfig.get_paths()["purelib"]) / PTH_NAME
    if not force and extension_loads():
        if target.exists():
            target.unlink()
        return None
    target.write_text("import ypt.compat.torchvision_cpu as _m; _m.activate()\n")
    return target


if __name__ == "__main__":
    written = install(force="--force" in sys.argv)
    print(f"torchvision CPU hook installed at {written}" if written else "torchvision extension loads: no hook needed")
