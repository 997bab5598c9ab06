"""Evaluation throughput: images/s per metric, batched vs one by one, and the time to re-render a table.

Metrics are the suite's own (``benchmarks.metrics.get(name)``: ``metric(pred, target)`` or ``metric(pred)`` on
``(N, 3, H, W)`` tensors in [0, 1], one value per image), run on synthetic image pairs at the protocol's metric size
(512x512, so the protocol resize is a no-op) on the run's device. A metric whose weights are absent
(``benchmarks.metrics.weights_problem``) gives a ``skipped`` row naming what is missing; nothing is downloaded. The table row times the table engine re-rendering a finished table from a result
store filled with synthetic records (see :func:`measure_table`).
"""
from __future__ import annotations

from benchmarks import protocol
from benchmarks.metrics.specs import FULL_REFERENCE_METRICS, IMAGE_METRICS
from benchmarks.perf.timing import time_fn

#: image metrics measured (DOVER scores one video per call: not an images/s figure)


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
    from benchmarks import metrics as registry

    n = 4 if quick else 16

    pred, target = (t.to(device) for t in synthetic_pairs(n))
    rows = []
    for name in metrics:
        problem = registry.weights_problem(name)
        if problem:
            rows += [_skip(name, mode, f"weights absent: {problem}", n) for mode in ("batched", "one-by-one")]
            continue
        try:
            metric = registry.get(name, device=device)
        except Exception as exc:  # recorded as an error row (the run exits non-zero), the other metrics still run
            rows += [{**_skip(name, mode, f"{type(exc).__name__}: {exc}".splitlines()[0], n), "status": "error"}
                     for mode in ("batched", "one-by-one")]
            continue
        needs_reference = name in FULL_REFERENCE_METRICS

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


def synthetic_records(spec, samples_per_dataset: int, seed: int = protocol.SEED):
    """Tidy per-sample records (``method, dataset, sample, metric, value``) filling every cell of ``spec``."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    rows = []
    for row in spec.rows:
        for group in spec.groups_of(row.key):
            for dataset in group.datasets:
                for metric in group.metrics:
                    values = rng.random(samples_per_dataset)
                    rows += [(row.key, dataset, f"{dataset}/{i:05d}", metric, float(v)) for i, v in enumerate(values)]
    return pd.DataFrame(rows, columns=["method", "dataset", "sample", "metric", "value"])


def measure_table(device: str, quick: bool = False, table: str = "table2", samples_per_dataset: int | None = None,
                  scratch_dir=None) -> list[dict]:
    """Time re-rendering a finished ``table`` from tidy per-sample records: build (pivots, averages), rich render,
    CSV/MD/TeX save, paper comparison; the store load is a separate row (``benchmarks.store``)."""
    import io
    import tempfile

    from rich.console import Console

    from benchmarks import table_engine as engine
    from benchmarks.tables import get

    spec = get(table)
    n = samples_per_dataset or (5 if quick else 20)
    records = synthetic_records(spec, n)
    try:
        paper = engine.load_paper(table)
    except engine.MissingPaperTable:
        paper = None
    with tempfile.TemporaryDirectory(prefix="ypt-perf-table-", dir=scratch_dir) as out:
        def render():
            built = engine.build_table(records, spec)
            engine.render(built, spec, Console(file=io.StringIO(), width=200), title=spec.title)
            engine.save_table(built, spec, out, stem=table)
            if paper is not None:
                engine.compare(records, paper, spec)

        timing = time_fn(render, "cpu", iters=1 if quick else 3, warmup=1)
    rows = [{"section": "table", "label": "re-render", "config": {"table": table, "samples_per_dataset": n,
                                                                   "with_paper_comparison": paper is not None},
             "status": "ok", "seconds": timing.seconds, "records": len(records), "timing": timing.as_dict()}]
    rows.append(_measure_store_load(records, table, quick, scratch_dir))
    return rows


def _measure_store_load(records, table: str, quick: bool, scratch_dir=None) -> dict:
    """Time ``ResultStore(root).load()`` of the same records, written through the store's ``write_sample`` (one
    shard per sample, as scoring writes them); the mean write time per sample is recorded too."""
    import tempfile
    import time

    from benchmarks.protocol import PROTOCOL_VERSION
    from benchmarks.store import ResultStore

    row = {"section": "table", "label": "store load", "config": {"table": table, "records": len(records)}}
    with tempfile.TemporaryDirectory(prefix="ypt-perf-store-", dir=scratch_dir) as root:
        store = ResultStore(root)
        extra = {"protocol": PROTOCOL_VERSION, "metric_version": "perf-synthetic", "output_sha256": "0" * 64,
                 "config_hash": "perf", "code_version": "perf"}
        groups = records.groupby(["method", "dataset", "sample"], sort=False)
        start = time.perf_counter()
        for _, group in groups:
            store.write_sample([{**r, **extra} for r in group.to_dict("records")])
        write_s = (time.perf_counter() - start) / max(1, groups.ngroups)
        loaded = {}
        timing = time_fn(lambda: loaded.setdefault("n", len(store.load())), "cpu", iters=1 if quick else 3, warmup=1)
    if loaded.get("n") != len(records):
        return {**row, "status": "error", "reason": f"store returned {loaded.get('n')} of {len(records)} records"}
    row["config"].update(shards=groups.ngroups, write_s_per_sample=write_s)
    return {**row, "status": "ok", "seconds": timing.seconds, "records": len(records), "timing": timing.as_dict()}


def measure(device: str, quick: bool = False) -> list[dict]:
    return measure_metrics(device, quick) + measure_table(device, quick)
