"""Planning: a table spec (or an ablation's cells) becomes a :class:`Plan` of work units.

Per row and dataset of a table: one restore unit per shard and one score unit after them; rows of our method (and
the training variants of Tables 4-5) wait for their prompts' training units. A :class:`Plan` surveys its units
once (done / todo / missing a resource) and costs them.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from benchmarks.runner.cost import unit_cost
from benchmarks.runner.units import (
    CPU_NEEDS,
    GPU_RESTORE_NEEDS,
    GPU_SCORE_NEEDS,
    Missing,
    Needs,
    RestoreUnit,
    ResultsLayout,
    ScoreUnit,
    WorkUnit,
    metric_problems,
    shard_bounds,
)
from ypt.errors import UsageError, YPTError


class PlanCost(NamedTuple):
    gpu_hours: float
    gpu_hours_to_run: float
    cpu_hours_to_run: float
    sources: list[str]


@dataclass
class Plan:
    name: str
    units: list[WorkUnit]
    layout: ResultsLayout = field(default_factory=ResultsLayout)
    title: str = ""
    #: unit key -> number of items (samples) it covers, when known without the data (expected counts)
    sizes: dict = field(default_factory=dict)
    #: metrics left out of this plan because they cannot run on this machine (metric -> why)
    dropped_metrics: dict = field(default_factory=dict)

    def survey(self) -> tuple[dict[str, str], list[Missing]]:
        """One pass over the units: unit key -> ``done`` / ``todo`` / ``missing`` (a resource it needs is absent),
        and the missing resources, each once with the number of units it blocks (``Missing.blocks``). A unit whose
        work is on disk is done whatever its inputs (imported prompts make training units done without the
        training data)."""
        status: dict[str, str] = {}
        seen: dict[tuple, Missing] = {}
        blocks: dict[tuple, int] = {}
        for u in self.units:
            if _done(u):
                status[u.key] = "done"
                continue
            absent = u.missing_resources()
            for m in [*absent, *u.partial_resources()]:
                seen.setdefault((m.kind, m.name), m)
            for m in absent:
                blocks[(m.kind, m.name)] = blocks.get((m.kind, m.name), 0) + 1
            status[u.key] = "missing" if absent else "todo"
        return status, [dataclasses.replace(m, blocks=blocks.get(k, 0)) for k, m in seen.items()]

    def status(self) -> dict[str, str]:
        return self.survey()[0]

    def todo(self) -> list[WorkUnit]:
        status = self.status()
        return [u for u in self.units if status[u.key] != "done"]

    def missing(self) -> list[Missing]:
        return self.survey()[1]

    def cost(self, status: dict[str, str] | None = None) -> PlanCost:
        """GPU-hours of the whole plan and still to run, CPU-hours still to run (units of a backbone made for a
        CPU), and the sources of the estimates."""
        status = status or self.status()
        total = remaining = cpu = 0.0
        sources: set[str] = set()
        for u in self.units:
            c = unit_cost(u, self.sizes.get(u.key))
            if c is None:
                continue
            total += c.gpu_hours
            if status[u.key] != "done":
                remaining += c.gpu_hours
                cpu += c.cpu_hours
            sources.add(("measured: " if c.measured else "default: ") + c.source)
        return PlanCost(total, remaining, cpu, sorted(sources))

    def sample_counts(self) -> dict[str, int]:
        """dataset -> the number of samples its score units cover (a cell over fewer records is partial)."""
        counts: dict[str, int] = {}
        for u in self.units:
            if isinstance(u, ScoreUnit) and u.dataset not in counts:  # one listing per dataset, not per row
                try:
                    counts[u.dataset] = len(u.samples())
                except YPTError:  # the set is not on disk: its cells are missing, not partial
                    continue
        return counts

    def records(self, records):
        """The records of this plan's own runs (label, dataset, config hash): older configs never mix in."""
        wanted = {(u.record_label, u.dataset, u.run_hash) for u in self.units if isinstance(u, ScoreUnit)}
        keys = zip(records["method"], records["dataset"], records["config_hash"])
        mask = [k in wanted for k in keys]
        return records.loc[records.index[mask]] if len(records) else records


def _done(unit: WorkUnit) -> bool:
    """``unit.is_done()``; a unit that cannot even look for its work (its data is missing) is not done."""
    try:
        return unit.is_done()
    except YPTError:
        return False


def restore_needs(method_key: str) -> Needs:
    """External baselines and our diffusion methods need a GPU; the classic in-process ones run on a CPU."""
    import baselines
    from ypt.backbones import CPU_BACKBONES

    method = baselines.get(method_key)
    on_gpu = method.spec.external or (method.backbone and method.backbone not in CPU_BACKBONES)
    return GPU_RESTORE_NEEDS if on_gpu else CPU_NEEDS


@dataclass(frozen=True)
class Cell:
    """One (row, dataset) of a table: ``method`` restores, ``metrics`` score. ``label`` names the row in the records
    (default: the method; ablation variants get their own), ``settings`` override the baselines config, ``after``
    are units (e.g. prompt training) its restoration waits for."""

    method: str
    dataset: str
    metrics: tuple[str, ...]
    label: str = ""
    settings: tuple[tuple[str, Any], ...] = ()
    after: tuple[str, ...] = ()


def plan_cells(name: str, cells, *, layout: ResultsLayout = ResultsLayout(), data_root: str = "",
               limit: int | None = None, num_shards: int = 1, title: str = "", expected: dict | None = None,
               score_needs: Needs = CPU_NEEDS, extra_units=()) -> Plan:
    """A plan for ``cells`` (:class:`Cell`, or ``(method, dataset, metrics)`` tuples): per row and dataset, one
    restore unit per shard and one score unit after them (scoring is cheap next to restoring). ``expected``:
    dataset -> expected sample count (for the cost); ``extra_units`` (e.g. training) come first in the plan."""
    from baselines.config import method_settings

    merged: dict[tuple, Cell] = {}
    for c in cells:
        c = c if isinstance(c, Cell) else Cell(*c)
        k = (c.label or c.method, c.dataset)
        if k in merged:  # one restore and one score unit per (row, dataset): a second cell would be dropped
            raise ValueError(f"{name}: two cells for row {k[0]!r} on {k[1]!r}; give one cell all its metrics")
        merged[k] = c
    units: list = list(extra_units)
    sizes: dict = {}
    for c in merged.values():
        count = (expected or {}).get(c.dataset)
        if count is not None and limit is not None:
            count = min(count, limit)
        common = dict(method=c.method, dataset=c.dataset, data_root=data_root, runs_root=layout.runs,
                      settings={**method_settings(c.method), **dict(c.settings)}, limit=limit,
                      record_method=c.label)
        restores = [RestoreUnit(needs=restore_needs(c.method), deps=c.after, shard=i, num_shards=num_shards,
                                **common) for i in range(num_shards)]
        score = ScoreUnit(needs=score_needs, deps=tuple(r.key for r in restores), metrics=tuple(c.metrics),
                          results_root=layout.root, **common)
        units += [*restores, score]
        if count is not None:
            for r in restores:
                a, b = shard_bounds(count, r.shard, num_shards)
                sizes[r.key] = b - a
            sizes[score.key] = count
    return Plan(name=name, units=units, layout=layout, title=title or name, sizes=sizes)


def expected_counts(keys) -> dict[str, int]:
    """dataset -> the registry's expected sample count (for the cost line), where known."""
    from benchmarks import datasets

    out = {}
    for key in keys:
        try:
            count = datasets.get(key).expected_count
        except KeyError:
            continue
        if count:
            out[key] = int(count)
    return out


def prepare_datasets(keys, data_root: str = "") -> None:
    """Build the generated datasets among ``keys`` (the demo's) where they are not on disk yet."""
    from benchmarks import datasets

    for key in keys:
        prepare = getattr(datasets.get(key), "prepare", None)
        if prepare is not None:
            prepare(data_root or None)


def routed_degradations(method_key: str, groups, datasets=None) -> tuple[str, ...]:
    """The prompts a row of our method needs: those its test sets route to (:mod:`baselines.prompt_routing`), in
    the order of the method's degradations (the paper's tables need all five)."""
    import baselines
    from baselines.prompt_routing import prompts_for

    trained = baselines.get(method_key).spec.degradations
    needed = {d for g in groups for ds in g.datasets if not datasets or ds in datasets
              for d in prompts_for(ds, (), trained)}
    return tuple(d for d in trained if d in needed)


#: where a demo's runs, store, tables, prompts and generated data live, under the results root
DEMO_RESULTS = "demo"


def demo_layout(results_dir: str, data_root: str = "") -> tuple[ResultsLayout, str]:
    """A demo's results tree (``<results_dir>/demo``) and its data root: ``data_root`` when given, else
    ``$YPT_DEMO_DATA``, else ``<results_dir>/demo/data`` (the demo builds its data beside its results)."""
    import os
    from pathlib import Path

    from benchmarks.datasets.synthetic import DEMO_DATA_ENV

    root = Path(results_dir) / DEMO_RESULTS
    return ResultsLayout(str(root)), data_root or str(Path(os.environ.get(DEMO_DATA_ENV) or root / "data").resolve())


def demo_prompts_root(layout: ResultsLayout) -> str:
    """Where a demo's prompts live: beside its results (``<results>/demo/prompts``)."""
    return f"{layout.root}/prompts"


def retraining_unit(method: str, data_root: str = ""):
    """The unit retraining ``method`` on the WAN training sets as the paper did (AverNet, ViWS-Net), when its
    baselines config sets no ``checkpoint`` of its own; None for every other method."""
    from baselines.config import method_settings
    from benchmarks.runner.training import TRAIN_SETS
    from benchmarks.runner.upstream_training import RETRAINABLE, retraining_units

    if method not in RETRAINABLE or method_settings(method).get("checkpoint"):
        return None
    return retraining_units([method], TRAIN_SETS["wan"], data_root=data_root)[0]


def plan_table(spec, methods=None, datasets=None, limit: int | None = None, data_root: str = "",
               num_shards: int = 1, layout: ResultsLayout = ResultsLayout()) -> Plan:
    """Every cell of the table ``spec`` (:class:`benchmarks.tables.TableSpec`): rows x datasets (mean groups
    expanded to their members). Rows of our method (and the training variants of Tables 4-5) wait for their
    prompts' training units. A demo table leaves out the metrics this machine cannot run
    (``Plan.dropped_metrics``); a paper table reports them as missing instead."""
    import baselines
    from benchmarks.runner.training import training_units

    dropped = metric_problems(spec.metrics()) if spec.is_demo else {}
    cells, trains = [], {}
    for row in spec.rows:
        if methods and row.key not in methods:
            continue
        settings = dict(spec.variants.get(row.key, {}))
        method, label = (f"ypt_{spec.backbone}", row.key) if spec.variants else (row.key, "")
        after: tuple[str, ...] = ()
        if backbone := baselines.get(method).backbone:
            # the demo keeps its prompts with its results (results/demo/prompts): a second run finds them there
            prompts_root = demo_prompts_root(layout) if spec.is_demo else ""
            if prompts_root:
                settings["prompts_root"] = prompts_root
            units = training_units([backbone], routed_degradations(method, spec.groups_of(row.key), datasets),
                                   data_root=data_root,
                                   variant=settings.get("variant", "residual"), bridge=settings.get("bridge", "ebr"),
                                   prompts_root=prompts_root)
            trains.update({u.key: u for u in units})
            after = tuple(u.key for u in units)
        elif unit := retraining_unit(method, data_root):
            trains[unit.key] = unit
            after = (unit.key,)
        for group in spec.groups_of(row.key):
            metrics = tuple(m for m in group.metrics if m not in dropped)
            for dataset in group.datasets:
                if datasets and dataset not in datasets:
                    continue
                cells.append(Cell(method, dataset, metrics, label=label,
                                  settings=tuple(sorted(settings.items())), after=after))
    if not cells:
        raise UsageError(f"nothing to plan for {spec.key}: no row in {', '.join(methods or ())} or no dataset in "
                         f"{', '.join(datasets or ())}; rows: {', '.join(spec.methods)}; datasets: "
                         f"{', '.join(spec.dataset_keys)}")
    used = {c.dataset for c in cells}
    prepare_datasets(sorted(used), data_root)
    score_needs = CPU_NEEDS if spec.is_demo else GPU_SCORE_NEEDS
    plan = plan_cells(spec.key, cells, layout=layout, data_root=data_root, limit=limit, num_shards=num_shards,
                      title=spec.title, expected=expected_counts(used), extra_units=list(trains.values()),
                      score_needs=score_needs)
    plan.dropped_metrics = dropped
    return plan
