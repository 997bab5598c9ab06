"""The CPU install's requirement list: this project's dependencies with pyiqa's development extras left out.

pyiqa declares tools it never imports at run time (bitsandbytes, tensorboard, pre-commit, ruff, yapf, pytest) and
facexlib (face metrics only, dragging numba and llvmlite), which CPU machines and CI do not need.
Measured: ``import pyiqa`` and the suite's metrics (LPIPS, DISTS, CLIPIQA+, MUSIQ, SSIM archs) work with all of
them blocked. pip cannot drop a dependency's requirements, so the Makefile's CPU path installs the project and
pyiqa with ``--no-deps`` and then this list. GPU installs (``pip install -e .``) take pyiqa as it is.

    python -m ypt.compat.cpu_requirements                     # requirement lines (project + pyiqa's run-time needs)
    python -m ypt.compat.cpu_requirements --extras test,dover  # ... with these extras (default: test)
    python -m ypt.compat.cpu_requirements --pyiqa             # the pyiqa requirement itself (installed with --no-deps)
"""
from __future__ import annotations

import re
import sys
from importlib.metadata import PackageNotFoundError, requires

DISTRIBUTION = "ypt-bench"
#: pyiqa requirements that the suite never imports (see the module docstring for the measurement)
PYIQA_UNUSED = {"bitsandbytes", "tensorboard", "pre-commit", "ruff", "yapf", "pytest", "facexlib"}
EXTRAS = ("test",)


def _name(requirement: str) -> str:
    return re.split(r"[\s<>=!~;\[]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def _active(requirement: str, extras: tuple[str, ...]) -> bool:
    """True for unconditional requirements and those of the selected extras (other markers are kept)."""
    if ";" not in requirement:
        return True
    marker = requirement.split(";", 1)[1]
    found = re.findall(r"extra\s*==\s*['\"]([^'\"]+)['\"]", marker)
    return not found or any(e in extras for e in found)


def _strip_extra_marker(requirement: str) -> str:
    head, _, marker = requirement.partition(";")
    marker = re.sub(r"\s*(and\s+)?extra\s*==\s*['\"][^'\"]+['\"]", "", marker).strip()
    marker = re.sub(r"^and\s+", "", marker)
    return f"{head.strip()}; {marker}" if marker else head.strip()


def project_requirements(extras: tuple[str, ...] = EXTRAS) -> list[str]:
    return [_strip_extra_marker(r) for r in requires(DISTRIBUTION) or [] if _active(r, extras)]


def pyiqa_requirement() -> str:
    return next(r for r in project_requirements() if _name(r) == "pyiqa")


def cpu_requirements(extras: tuple[str, ...] = EXTRAS) -> list[str]:
    """Project requirements (with ``extras``) without pyiqa, plus pyiqa's own requirements without
    :data:`PYIQA_UNUSED`."""
    ours = [r for r in project_requirements(extras) if _name(r) != "pyiqa"]
    try:
        theirs = [r for r in requires("pyiqa") or [] if _active(r, ())]
    except PackageNotFoundError:
        raise SystemExit("install pyiqa first: pip install --no-deps \"$(python -m ypt.compat.cpu_requirements "
                         "--pyiqa)\"") from None
    seen = {_name(r) for r in ours}
    extra = [r for r in theirs if _name(r) not in PYIQA_UNUSED and _name(r) not in seen]
    return ours + extra


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m ypt.compat.cpu_requirements", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pyiqa", action="store_true", help="print the pyiqa requirement only")
    parser.add_argument("--extras", default=",".join(EXTRAS), help="comma list of the project's extras (default: test)")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    extras = tuple(e.strip() for e in args.extras.split(",") if e.strip())
    print(pyiqa_requirement() if args.pyiqa else "\n".join(cpu_requirements(extras)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
