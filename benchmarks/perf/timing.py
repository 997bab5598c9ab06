"""Synchronised timing with warmup, and peak memory of a measured region.

CUDA: one pair of CUDA events per iteration and a single synchronize after the loop (no host-device sync inside the
measured loop); peak memory is ``torch.cuda.max_memory_allocated`` after ``reset_peak_memory_stats``.
CPU: ``time.perf_counter``; torch's allocator is invisible to ``tracemalloc``, so memory is the peak resident set
size (``VmHWM``, reset through ``/proc/self/clear_refs``) minus the resident size before the region, or None
(reported as n/a) where the kernel does not allow the reset.
"""
from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from typing import Callable


@dataclass
class Timing:
    """Per-iteration times. :attr:`seconds` is the headline figure: the median on CUDA (a dedicated device), the
    minimum on CPU, where other processes share the cores and the least disturbed run is the best estimate of the
    work itself (``timeit``'s rule)."""

    times_s: list[float]
    warmup: int
    statistic: str = "median"

    @property
    def seconds(self) -> float:
        return min(self.times_s) if self.statistic == "min" else self.median_s

    @property
    def mean_s(self) -> float:
        return statistics.fmean(self.times_s)

    @property
    def median_s(self) -> float:
        return statistics.median(self.times_s)

    @property
    def std_s(self) -> float:
        return statistics.stdev(self.times_s) if len(self.times_s) > 1 else 0.0

    def as_dict(self) -> dict:
        return {"seconds": self.seconds, "statistic": self.statistic, "median_s": self.median_s,
                "mean_s": self.mean_s, "min_s": min(self.times_s), "max_s": max(self.times_s), "std_s": self.std_s,
                "iters": len(self.times_s), "warmup": self.warmup, "times_s": list(self.times_s)}


def time_fn(fn: Callable[[], object], device: str, iters: int, warmup: int = 1) -> Timing:
    """Run ``fn`` ``warmup`` times untimed, then ``iters`` times timed; synchronised on CUDA."""
    if iters < 1:
        raise ValueError("iters must be >= 1")
    for _ in range(warmup):
        fn()
    if str(device).startswith("cuda"):
        import torch

        torch.cuda.synchronize()
        events = [(torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)) for _ in range(iters)]
        for start, end in events:
            start.record()
            fn()
            end.record()
        torch.cuda.synchronize()
        return Timing([start.elapsed_time(end) / 1000.0 for start, end in events], warmup, "median")
    times = []
    for _ in range(iters):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return Timing(times, warmup, "min")


def oom_error() -> type:
    """torch's out-of-memory exception (``torch.OutOfMemoryError`` from 2.5, ``torch.cuda`` before)."""
    import torch

    return getattr(torch, "OutOfMemoryError", None) or torch.cuda.OutOfMemoryError


class PeakMemory:
    """Context manager: ``.peak_bytes`` (None when not measurable) and ``.kind`` after the block."""

    def __init__(self, device: str):
        self.device = str(device)
        self.peak_bytes: int | None = None
        self.kind = "n/a"
        self._base: int | None = None

    def __enter__(self) -> "PeakMemory":
        if self.device.startswith("cuda"):
            import torch

            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
            self.kind = "cuda_max_memory_allocated"
        elif _reset_peak_rss():
            self._base = _status_kib("VmRSS")
            self.kind = "cpu_peak_rss_delta"
        return self

    def __exit__(self, *exc) -> None:
        if self.device.startswith("cuda"):
            import torch

            torch.cuda.synchronize()
            self.peak_bytes = int(torch.cuda.max_memory_allocated())
        elif self._base is not None:
            peak = _status_kib("VmHWM")
            if peak is not None:
                self.peak_bytes = max(0, peak - self._base) * 1024
            else:
                self.kind = "n/a"


def _status_kib(field: str) -> int | None:
    try:
        with open("/proc/self/status", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        return None
    return None


def _reset_peak_rss() -> bool:
    """Reset the process's peak RSS (Linux: write 5 to /proc/self/clear_refs)."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="utf-8") as fh:
            fh.write("5")
        return True
    except OSError:
        return False
