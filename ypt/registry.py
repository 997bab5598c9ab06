"""The one registry helper of the suite: stable names -> entries, lazy entries, duplicates rejected, unknown names
answered with close matches (bridges, backbones and prompt variants here; tables, datasets, methods and metrics
above).

Entries are either objects or ``"module:attr"`` strings imported on first use, so listing a registry never
imports a heavy module and one broken optional entry never breaks the others.
"""
from __future__ import annotations

import difflib
import importlib
from typing import Any, Generic, Iterator, TypeVar

from ypt.errors import UnknownKey

T = TypeVar("T")


class UnknownKeyError(UnknownKey):
    """An unknown registry key; the message names close matches and every valid key."""

    def __init__(self, kind: str, key: str, valid):
        self.kind, self.key, self.valid = kind, key, list(valid)
        close = difflib.get_close_matches(str(key), self.valid, n=3, cutoff=0.5)
        hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        super().__init__(f"unknown {kind} {key!r}.{hint} Valid: {', '.join(self.valid)}")


def check_key(kind: str, key: str, valid) -> str:
    """``key`` when it is one of ``valid``, else :class:`UnknownKeyError` with the close matches."""
    if key not in valid:
        raise UnknownKeyError(kind, key, valid)
    return key


def import_object(path: str) -> Any:
    """Import ``"package.module:attr"`` (attr may be dotted)."""
    module_name, _, attr = path.partition(":")
    obj: Any = importlib.import_module(module_name)
    for part in filter(None, attr.split(".")):
        obj = getattr(obj, part)
    return obj


class Registry(Generic[T]):
    """Name -> entry. ``register`` rejects duplicates; ``get`` resolves lazy entries once."""

    def __init__(self, kind: str):
        self.kind = kind
        self._entries: dict[str, Any] = {}

    def register(self, key: str, entry: T | str | None = None):
        """Register ``entry`` under ``key``; without ``entry`` returns a decorator."""
        if entry is None:
            def decorator(obj: T) -> T:
                self.register(key, obj)
                return obj
            return decorator
        if key in self._entries:
            raise ValueError(f"duplicate {self.kind} {key!r}: registered already")
        self._entries[key] = entry
        return entry

    def get(self, key: str) -> T:
        if key not in self._entries:
            raise UnknownKeyError(self.kind, key, self.keys())
        entry = self._entries[key]
        if isinstance(entry, str):
            entry = import_object(entry)
            self._entries[key] = entry
        return entry

    def keys(self) -> list[str]:
        return list(self._entries)

    def is_loaded(self, key: str) -> bool:
        return key in self._entries and not isinstance(self._entries[key], str)

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def items(self) -> Iterator[tuple[str, T]]:
        for key in self.keys():
            yield key, self.get(key)
