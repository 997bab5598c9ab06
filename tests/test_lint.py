"""The code passes ruff with the project's settings (pyproject.toml [tool.ruff]): unused imports, undefined names,
syntax errors and the like fail the suite, not a later reader."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_ruff_check_passes():
    res = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "--output-format", "concise", "."],
                         cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert res.returncode == 0, (res.stdout + res.stderr)[-4000:]
