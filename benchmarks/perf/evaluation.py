"""Evaluation throughput: images/s per metric, batched vs one by one, and the time to re-render a table.

Metrics are the suite's own (``benchmarks.metrics.get(name)``: ``metric(pred, target)`` or ``metric(pred)`` on
``(N, 3, H, W)`` tensors in [0, 1], one value per image), run on synthetic image pairs at the protocol's metric size
(512x512, so the protocol resize is a no-op) on the run's device. A metric whose weights are absent
(``benchmarks.metrics.weights_problem``) or a piece that is not importable gives a ``skipped`` row naming what is
missing; nothing is downloaded. The table row times the table engine re-rendering a finished table from a result
store filled with synthetic records (see :func:`measure_table`).
"""
from __future__ import annotations

import importlib

from benchmarks import protocol
from benchmarks.perf.timing import time_fn

#: image metrics measured (DOVER scores one video per call: not an images/s figure)
IMAGE_METRICS = tuple(m for m in protocol.METRICS if m != "dover")


def _missing(module: str) -> str | None:
    try:
        importlib.import_module(module)
    except ImportError as exc:
        return f"{module} is not importable ({exc})"
    return None


def synthetic_pairs(n: int, size: int = protocol.METRIC_SIZE, seed: int = protocol.SEED):
    """``n`` (prediction, target) pairs in [0, 1]: smooth random images and a noisy copy of each."""
    import torch
    import torch.nn.functional as F

    g = torch.Generator().manual_seed(seed)
    coarse = torch.rand(n, 3, size // 32, size // 32, generator=g)
    target = F.interpolate(coarse, size=(size, size), mode="bicubic", align_corners=False).clamp(0, 1)
    pred = (target + 0.05 * torch.randn(target.shape, generator=g)).clamp(0, 1)
    return pred, target


def _skip(metric: str, mode: str, reason: str, n: int) -> dict:
    return {"section": "evaluation", "label": f"{metric} {mode}", "metric": metric, "mode": mode,
            "config": {"size": protocol.METRIC_SIZE, "images": n}, "status": "skipped", "reason": reason}


def measure_metrics(device: str, quick: bool = False, metrics=IMAGE_METRICS) -> list[dict]:
    n = 4 if quick else 16
    reason = _missing("benchmarks.metrics")
    if reason:
        return [_skip(m, mode, reason, n) for m in metrics for mode in ("batched", "one-by-one")]
    from benchmarks import metrics as registry

    pred, target = (t.to(device) for t in synthetic_pairs(n))
    rows = []
    for name in metrics:
        problem = registry.weights_problem(name) if hasattr(registry, "weights_problem") else None
        if problem:
            rows += [_skip(name, mode, f"weights absent: {problem}", n) for mode in ("batched", "one-by-one")]
            continue
        metric = registry.get(name)
        needs_reference = name in protocol.FULL_REFERENCE_METRICS

        def call(p, t, metric=metric, needs_reference=needs_reference):
            return metric(p, t) if needs_reference else metric(p)

        call(pred[:1], target[:1])  # build / load once, outside the timings
        batched = time_fn(lambda: call(pred, target), device, iters=1 if quick else 3, warmup=1)
        single = time_fn(lambda: [call(pred[i:i + 1], target[i:i + 1]) for i in range(n)], device,
                         iters=1 if quick else 3, warmup=0)
        for mode, timing in (("batched", batched), ("one-by-one", single)):
            seconds = timing.seconds
            rows.append({"section": "evaluation", "label": f"{name} {mode}", "metric": name, "mode": mode,
                         "config": {"size": protocol.METRIC_SIZE, "images": n, "device": device,
                                    "implementation": f"benchmarks.metrics.get({name!r})"},
                         "status": "ok", "images": n, "seconds": seconds, "images_per_s": n / seconds,
                         "timing": timing.as_dict()})
    return rows


def measure_table(device: str, quick: bool = False) -> list[dict]:
    reason = _missing("benchmarks.store") or _missing("benchmarks.table_engine")
    if reason:
        return [{"section": "table", "label": "re-render", "config": {}, "status": "skipped", "reason": reason}]
    return [{"section": "table", "label": "re-render", "config": {}, "status": "skipped",
             "reason": "table engine interface not wired into benchmarks.perf yet"}]


def measure(device: str, quick: bool = False) -> list[dict]:
    return measure_metrics(device, quick) + measure_table(device, quick)
