"""Models loaded once and reused by several restore calls of one process: a keyed cache that a caller (the
benchmark's worker, :mod:`benchmarks.runner.worker`) hands to :meth:`baselines.base.Method.restore` through
``RestoreConfig.models``, so restore units that need the same backbone at the same settings load it once.

It holds one model (one accelerator holds one FLUX); loading another key first drops the held one and gives its
memory back.
"""
from __future__ import annotations

import gc
import sys
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


class LoadedModels:
    def __init__(self) -> None:
        self._key: str | None = None
        self._model: Any = None

    def get(self, key: str, load: Callable[[], T]) -> T:
        """The model held under ``key``, else ``load()``, held from then on (instead of the one held before)."""
        if key != self._key:
            self.clear()
            self._model, self._key = load(), key
        return self._model

    def clear(self) -> None:
        """Drop the held model and give its memory back."""
        if self._key is not None:
            self._key = self._model = None
            _release_memory()


def _release_memory() -> None:
    gc.collect()
    torch = sys.modules.get("torch")  # never imported for this: a process without torch loaded no torch model
    if torch is not None and torch.cuda.is_available():
        torch.cuda.empty_cache()
