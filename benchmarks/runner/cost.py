"""GPU-hours of a work unit: measured where a GPU perf document exists (:mod:`benchmarks.perf.cost`), else the
documented defaults, flagged as such."""
from __future__ import annotations

from dataclasses import dataclass

from benchmarks.runner.units import RestoreUnit, ScoreUnit, WorkUnit

#: documented fallback for external GPU baselines without measured times: seconds per restored image (or clip) on
#: one H100 (order of magnitude of one diffusion/transformer restorer at 512-1024 px; replace with measurements)
EXTERNAL_SECONDS_PER_ITEM = 2.0


#: the miniature backbone (the demo's YPT row) runs on a CPU: seconds per prompt-training step (batch 8) and per
#: restored 128x128 image (20 steps, windowed), measured on one core of a 2-core machine (issue 16's note)
MINI_CPU_SECONDS = {"train_step": 0.075, "image": 1.5}


MINI_SOURCE = (f"miniature prior on a CPU: {MINI_CPU_SECONDS['train_step']:g} s per training step, "
               f"{MINI_CPU_SECONDS['image']:g} s per image (2-core machine)")


@dataclass(frozen=True)
class UnitCost:
    gpu_hours: float
    measured: bool
    source: str
    #: CPU time of units that run on a CPU (the miniature backbone's)
    cpu_hours: float = 0.0


def unit_cost(unit: WorkUnit, n_items: int | None) -> UnitCost | None:
    """GPU-hours of one unit: measured (``results/perf/*.json`` via :mod:`benchmarks.perf.cost`) where possible,
    else the documented defaults; None when the item count is unknown."""
    from benchmarks.perf.cost import estimate_gpu_hours
    from benchmarks.runner.training import TrainUnit

    if isinstance(unit, TrainUnit) and unit.backbone == "mini":
        from benchmarks.protocol import TRAIN_ITERATIONS

        steps = unit.iterations or TRAIN_ITERATIONS["mini"]
        return UnitCost(0.0, True, MINI_SOURCE, cpu_hours=steps * MINI_CPU_SECONDS["train_step"] / 3600)
    if isinstance(unit, TrainUnit):
        est = estimate_gpu_hours("train", unit.backbone, 1, iterations=unit.iterations)
        return UnitCost(est.gpu_hours, est.measured, est.source)
    if not isinstance(unit, (ScoreUnit, RestoreUnit)):  # any other GPU job: its time limit bounds it
        if unit.needs.gpus:
            return UnitCost(unit.needs.gpus * unit.needs.minutes / 60, False, f"{unit.kind} job time limit")
        return None
    if n_items is None:
        return None
    if isinstance(unit, ScoreUnit):
        est = estimate_gpu_hours("evaluate", None, n_items, metrics=tuple(unit.metrics))
        return UnitCost(est.gpu_hours, est.measured, est.source)
    import baselines

    method = baselines.get(unit.method)
    if method.backbone == "mini" and isinstance(unit, RestoreUnit):
        return UnitCost(0.0, True, MINI_SOURCE, cpu_hours=n_items * MINI_CPU_SECONDS["image"] / 3600)
    if method.backbone:
        est = estimate_gpu_hours("sample", method.backbone, n_items)
        return UnitCost(est.gpu_hours, est.measured, est.source)
    if unit.needs.gpus == 0:
        return UnitCost(0.0, False, "runs on CPU")
    return UnitCost(n_items * EXTERNAL_SECONDS_PER_ITEM / 3600, False,
                    f"assumed {EXTERNAL_SECONDS_PER_ITEM:g} s per item for external baselines")
