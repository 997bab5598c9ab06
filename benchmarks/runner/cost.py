"""GPU-hours of a work unit: measured where a GPU perf document exists (:mod:`benchmarks.perf.cost`), else the
documented defaults, flagged as such."""
from __future__ import annotations

from dataclasses import dataclass

from benchmarks.runner.units import RestoreUnit, ScoreUnit, WorkUnit

#: documented fallback for external GPU baselines without measured times: seconds per restored image (or clip) on
#: one H100 (order of magnitude of one diffusion/transformer restorer at 512-1024 px; replace with measurements)
EXTERNAL_SECONDS_PER_ITEM = 2.0


#: backbones that run on a CPU (``ypt.backbones.CPU_BACKBONES``): seconds per prompt-training step and per restored
#: image, measured on one core of a 2-core machine (``python -m benchmarks.perf.cpu_backbone``, see its docstring)
CPU_SECONDS = {"mini": {"train_step": 0.094, "image": 4.3}}


def cpu_source(backbone: str) -> str:
    seconds = CPU_SECONDS[backbone]
    return (f"{backbone} on a CPU: {seconds['train_step']:g} s per training step, {seconds['image']:g} s per image "
            "(one core, python -m benchmarks.perf.cpu_backbone)")


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

    if isinstance(unit, TrainUnit) and unit.backbone in CPU_SECONDS:
        steps = unit.train_config().iterations
        return UnitCost(0.0, True, cpu_source(unit.backbone),
                        cpu_hours=steps * CPU_SECONDS[unit.backbone]["train_step"] / 3600)
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
    if method.backbone in CPU_SECONDS and isinstance(unit, RestoreUnit):
        return UnitCost(0.0, True, cpu_source(method.backbone),
                        cpu_hours=n_items * CPU_SECONDS[method.backbone]["image"] / 3600)
    if method.backbone:
        est = estimate_gpu_hours("sample", method.backbone, n_items)
        return UnitCost(est.gpu_hours, est.measured, est.source)
    if unit.needs.gpus == 0:
        return UnitCost(0.0, False, "runs on CPU")
    return UnitCost(n_items * EXTERNAL_SECONDS_PER_ITEM / 3600, False,
                    f"assumed {EXTERNAL_SECONDS_PER_ITEM:g} s per item for external baselines")
