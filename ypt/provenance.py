"""Config hashes and code versions written into every artifact (prompts, records, tables)."""
from __future__ import annotations

import functools
import hashlib
import json
import subprocess
from pathlib import Path
from typing import Any


def canonical_json(config: Any) -> str:
    """JSON with sorted keys and no whitespace; tuples become lists, paths strings."""
    return json.dumps(config, sort_keys=True, separators=(",", ":"), default=str)


def config_hash(config: Any, length: int = 12) -> str:
    """Stable short hash of a JSON-able config: the same config always gives the same hash."""
    return hashlib.sha256(canonical_json(config).encode("utf-8")).hexdigest()[:length]


@functools.lru_cache(maxsize=1)
def code_version() -> str:
    """``ypt-bench <version>+g<commit>[.dirty]`` when run from a git checkout, else the package version."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        base = version("ypt-bench")
    except PackageNotFoundError:
        base = "0+unknown"
    repo = Path(__file__).resolve().parent.parent
    try:
        commit = subprocess.run(
            ["git", "-C", str(repo), "rev-parse", "--short=10", "HEAD"],
            capture_output=True, text=True, timeout=5,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(repo), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True, text=True, timeout=5,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return base
    if not commit:
        return base
    return f"{base}+g{commit}{'.dirty' if dirty else ''}"
