"""Models loaded once and reused by several restore calls of one process: a keyed cache that a caller (the
benchmark's worker, :mod:`benchmarks.runner.worker`) hands to :meth:`baselines.base.Method.restore` through
``RestoreConfig.models``, so restore units that need the same backbone at the same settings load it once.

It holds ``capacity`` models (default 1: one accelerator holds one FLUX); loading another key first drops the
oldest and gives its memory back. Every load is recorded (key and seconds) for the runner's report and the tests.
"""
from __future__ import annotations

import gc
import sys
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


class LoadedModels:
    def __init__(self, capacity: int = 1) -> None:
        if capacity < 1:
            raise ValueError(f"capacity must be at least 1, got {capacity}")
        self.capacity = capacity
        self._held: OrderedDict[str, Any] = OrderedDict()
        #: ``(key, seconds)`` of every load, in order
        self.loads: list[tuple[str, float]] = []

    def get(self, key: str, load: Callable[[], T]) -> T:
        """The model held under ``key``, else ``load()`` (timed and recorded), held from then on."""
        if key in self._held:
            self._held.move_to_end(key)
            return self._held[key]
        while len(self._held) >= self.capacity:
            self._held.popitem(last=False)
            _release_memory()
        start = time.perf_counter()
        model = load()
        self.loads.append((key, time.perf_counter() - start))
        self._held[key] = model
        return model

    def clear(self) -> None:
        """Drop every held model and give its memory back."""
        if self._held:
            self._held.clear()
            _release_memory()

    def __contains__(self, key: str) -> bool:
        return key in self._held

    def __len__(self) -> int:
        return len(self._held)


def _release_memory() -> None:
    gc.collect()
    torch = sys.modules.get("torch")  # never imported for this: a process without torch loaded no torch model
    if torch is not None and torch.cuda.is_available():
        torch.cuda.empty_cache()
