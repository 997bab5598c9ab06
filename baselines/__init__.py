"""Compared methods behind one interface (:mod:`baselines.base`), keyed by stable names.

Each method is one file ``baselines/methods/<key>.py`` that defines ``SPEC`` (a :class:`~baselines.base.MethodSpec`)
and ``METHOD`` (a :class:`~baselines.base.Method`). The registry is filled by a cheap scan of that folder's file
names (nothing is imported until a method is used), so adding a method never touches a central list.
"""
from __future__ import annotations

from pathlib import Path

from ypt.registry import Registry, UnknownKeyError

METHODS_DIR = Path(__file__).resolve().parent / "methods"
METHODS_PACKAGE = "baselines.methods"

#: the paper's methods first, in table order; other keys follow alphabetically
PAPER_ORDER = ("input", "dcp", "lime", "dcpt", "dfpir", "autodir", "pixwizard", "foundir", "viwsnet", "avernet",
               "ypt_flux", "ypt_wan")


def _scan(folder: Path) -> list[str]:
    keys = [p.stem for p in folder.glob("*.py") if not p.stem.startswith("_") and p.stem.isidentifier()]
    rank = {k: i for i, k in enumerate(PAPER_ORDER)}
    return sorted(keys, key=lambda k: (rank.get(k, len(rank)), k))


def _build() -> Registry:
    registry: Registry = Registry("method")
    for key in _scan(METHODS_DIR):
        registry.register(key, f"{METHODS_PACKAGE}.{key}:METHOD")
    return registry


METHODS: Registry = _build()


def get(key: str):
    """The :class:`~baselines.base.Method` registered under ``key`` (imports its module on first use)."""
    return METHODS.get(key)


def keys() -> list[str]:
    return METHODS.keys()


__all__ = ["METHODS", "METHODS_DIR", "UnknownKeyError", "get", "keys"]
