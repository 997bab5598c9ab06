"""Make PyPI's CUDA-built torchvision importable beside a CPU-only torch.

PyPI's ``torchvision`` wheels for Linux are CUDA builds. Next to the CPU build of torch their compiled
extension (``torchvision/_C*.so``) cannot be loaded, and ``import torchvision`` then fails while registering
its fake kernels ("operator torchvision::nms does not exist"); transformers and diffusers import torchvision
and fail with it.

``install()`` writes a one-line ``.pth`` file into site-packages that puts the finder of
:mod:`ypt.compat.torchvision_hook` on ``sys.meta_path``. The finder does nothing until ``torchvision`` is first
imported; then, only if the real extension cannot be loaded, it defines the operator schemas torchvision needs
(``nms`` with a pure-torch CPU kernel, ``qnms``), so the rest of torchvision (transforms, models) works.
On a machine whose torchvision extension loads (any GPU install) nothing is changed.

Only the CPU install path runs it (the Makefile's, on a machine without ``nvidia-smi``); ``--uninstall`` removes the
file, and the line in it does nothing when ``ypt`` is no longer importable (``pip uninstall ypt-bench`` leaves the
file behind: pip does not know it). A venv made without it (``pip install -e .`` beside a CPU torch) gets torchvision's
``operator torchvision::nms does not exist``; :func:`explain` turns that into one line naming the fix.

    python -m ypt.compat.torchvision_cpu              # install the hook when torchvision's extension cannot load
    python -m ypt.compat.torchvision_cpu --force      # install it whatever the check says
    python -m ypt.compat.torchvision_cpu --uninstall  # remove it
"""
from __future__ import annotations

import sys
from pathlib import Path

PTH_NAME = "ypt_torchvision_cpu.pth"


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


#: the .pth line: site.py runs lines starting with ``import``; an ImportError (ypt uninstalled) is silent
PTH_LINE = ('import sys; exec("try:\\n    from ypt.compat.torchvision_hook import activate\\nexcept ImportError:\\n'
            '    pass\\nelse:\\n    activate()")\n')
#: what a venv without the hook says on ``import torchvision`` beside a CPU-only torch
SYMPTOM = "operator torchvision::nms does not exist"
FIX = ("torchvision's compiled extension does not load beside this CPU-only torch (PyPI's torchvision is a CUDA "
       "build): run `python -m ypt.compat.torchvision_cpu` once in this venv (the Makefile's CPU install does), or "
       "install torchvision from PyTorch's CPU wheel index")


def explain(error: BaseException) -> str | None:
    """The one-line fix when ``error`` (or an exception it came from) is the CPU torchvision failure, else None."""
    seen = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if SYMPTOM in str(error):
            return FIX
        error = error.__cause__ or error.__context__
    return None


def _pth_path(site_packages: str | None) -> Path:
    import sysconfig

    return Path(site_packages or sysconfig.get_paths()["purelib"]) / PTH_NAME


def install(site_packages: str | None = None, force: bool = False) -> Path | None:
    """Write the .pth hook into site-packages when torchvision's extension cannot load. Returns its path."""
    target = _pth_path(site_packages)
    if not force and extension_loads():
        if target.exists():
            target.unlink()
        return None
    target.write_text(PTH_LINE)
    return target


def uninstall(site_packages: str | None = None) -> Path | None:
    """Remove the .pth hook; returns the path removed, or None when there was none."""
    target = _pth_path(site_packages)
    if not target.exists():
        return None
    target.unlink()
    return target


def main(argv: list[str] | None = None) -> int:
    import argparse

    p = argparse.ArgumentParser(prog="python -m ypt.compat.torchvision_cpu", description=(
        "Install (default) or remove the hook that lets PyPI's CUDA-built torchvision import beside a CPU torch."))
    p.add_argument("--uninstall", action="store_true", help="remove the hook")
    p.add_argument("--force", action="store_true", help="install even where torchvision's extension loads")
    args = p.parse_args(argv)
    if args.uninstall:
        removed = uninstall()
        print(f"torchvision CPU hook removed: {removed}" if removed else "no torchvision CPU hook installed")
        return 0
    written = install(force=args.force)
    print(f"torchvision CPU hook installed at {written}" if written else "torchvision extension loads: no hook needed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
