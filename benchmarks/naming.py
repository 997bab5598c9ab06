"""Small naming helpers shared by the dataset layouts and output folders."""
from __future__ import annotations

import re

_DIGITS = re.compile(r"(\d+)")


def natural_key(name: str) -> tuple:
    """Sort key that orders ``frame2`` before ``frame10`` (case-insensitive)."""
    return tuple(int(part) if part.isdigit() else part.lower() for part in _DIGITS.split(name))
