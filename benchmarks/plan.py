"""The planner: a table (or ablation) becomes a list of work units, each content-addressed by its config.

Unit kinds: ``train`` (one prompt), ``restore`` (one method on one dataset shard), ``score`` (the metrics of one
restore shard). A unit's key carries the hash of its config (:func:`ypt.provenance.config_hash`), and its outputs
live under ``results/runs/<method>/<config hash>/<dataset>/``: a rerun finds the finished units done and submits
only the missing ones, and a changed config gets a new folder instead of reusing stale outputs.
Nothing here imports torch, diffusers or pyiqa.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ypt.provenance import config_hash


@dataclass(frozen=True)
class Needs:
    """What one unit needs from a machine (a SLURM job asks for exactly this, clipped to the cluster profile)."""

    gpus: int = 0
    cpus: int = 2
    mem_gb: float = 2
    minutes: int = 60


def slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_")


@dataclass
class WorkUnit:
    """Base class of the plan's units: subclasses set ``kind`` and implement :meth:`config`, :meth:`is_done`,
    :meth:`run`. ``run`` must resume: skip whatever is already on disk, write atomically."""

    kind = "unit"
    needs: Needs = field(default_factory=Needs)
    deps: tuple[str, ...] = ()

    def config(self) -> dict[str, Any]:
        raise NotImplementedError

    @property
    def config_hash(self) -> str:
        return config_hash(self.config())

    @property
    def label(self) -> str:
        """Human-readable name without the hash (e.g. ``dcp/hazerd#0``)."""
        raise NotImplementedError

    @property
    def key(self) -> str:
        """Unique, file-system safe, content-addressed: ``<kind>-<label>-<config hash>``."""
        return slug(f"{self.kind}-{self.label}-{self.config_hash}")

    def is_done(self) -> bool:
        raise NotImplementedError

    def run(self, progress: bool = True) -> None:
        raise NotImplementedError

    def describe(self) -> str:
        return f"{self.kind} {self.label} (config {self.config_hash})"

    def missing_resources(self) -> list["Missing"]:
        """What must exist before this unit can run (datasets, checkpoints, environments), with how to get it."""
        return []

    def partial_resources(self) -> list["Missing"]:
        """What is missing without stopping the unit (e.g. one metric's weights: the others still run)."""
        return []


@dataclass(frozen=True)
class Missing:
    """One missing resource a plan needs: what, and the command or page that gets it."""

    kind: str  # dataset / checkpoint / environment / prompt
    name: str
    how: str

    def __str__(self) -> str:
        return f"{self.kind} {self.name}: {self.how}"


# -- where things live --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Layout:
    """The folders of one results tree: ``results/`` for the paper's tables, ``results/demo/`` for the demo."""

    root: str = "results"

    @property
    def runs(self) -> str:
        return f"{self.root}/runs"

    @property
    def tables(self) -> str:
        return f"{self.root}/tables"

    def logs(self, name: str) -> str:
        """Unit logs, local and SLURM alike: ``<root>/slurm/<plan>/<unit>/``."""
        return f"{self.root}/slurm/{name}"


def run_dir(runs_root: str, method: str, run_hash: str, dataset: str):
    """``<runs_root>/<method>/<config hash>/<dataset>/``: the restored outputs of one method config on one set."""
    from pathlib import Path

    return Path(runs_root) / slug(method) / run_hash / dataset


def shard_bounds(n: int, shard: int, num_shards: int) -> tuple[int, int]:
    """Contiguous ``[start, stop)`` of shard ``shard`` of ``num_shards`` over ``n`` samples (sizes differ by <= 1)."""
    if not 0 <= shard < num_shards:
        raise ValueError(f"shard {shard} outside 0..{num_shards - 1}")
    base, extra = divmod(n, num_shards)
    start = shard * base + min(shard, extra)
    return start, start + base + (1 if shard < extra else 0)


# -- datasets, scoring and the store (the registry, benchmarks.evaluate and benchmarks.store) ------------------
def call_hook(hook: str) -> None:
    """Run a ``"module:attr"`` setup hook (e.g. the demo's dataset registration) in this process."""
    if hook:
        from ypt.registry import import_object

        import_object(hook)()


def dataset_samples(key: str, data_root: str = "", hook: str = "") -> list:
    from benchmarks import datasets

    call_hook(hook)
    return list(datasets.get(key).samples(data_root or None))


def missing_dataset(key: str, data_root: str = "", hook: str = "") -> list[Missing]:
    """[] when the dataset's samples can be listed, else one :class:`Missing` with the registry's own message."""
    from benchmarks import datasets

    call_hook(hook)
    try:
        spec = datasets.get(key)
    except KeyError as exc:
        return [Missing("dataset", key, str(exc))]
    try:
        if not spec.samples(data_root or None):
            raise FileNotFoundError(f"no samples found for {key}")
    except Exception as exc:  # the registry's error says what is missing and where it comes from
        return [Missing("dataset", key, str(exc).strip())]
    return []


def open_store(results_root: str):
    from benchmarks.store import ResultStore

    return ResultStore(results_root)


def metric_problems(metrics) -> dict[str, str]:
    """{metric: what is missing} for the metrics whose weights or package are absent on this machine."""
    from benchmarks import metrics as registry

    return {m: p for m in metrics if (p := registry.weights_problem(m))}


def is_scored(unit) -> bool:
    """Every (sample, metric) of the unit that can be scored here has a record of this run config and of the
    current protocol and metric versions (metrics without weights are reported by the plan, not waited for)."""
    from benchmarks import metrics as registry

    absent = metric_problems(unit.metrics)
    runnable = [m for m in unit.metrics if m not in absent]
    done = open_store(unit.results_root).scored(
        unit.record_label, unit.dataset, unit.run_hash,
        metric_versions={m: registry.spec(m).version for m in runnable})
    return all((s.id, m) in done for s in unit.samples() for m in runnable)


def score_unit(unit, progress: bool = True) -> None:
    from benchmarks.evaluate import evaluate

    call_hook(unit.hook)
    summary = evaluate(unit.record_label, unit.dataset, unit.out_dir, open_store(unit.results_root),
                       metrics=list(unit.metrics), data_root=unit.data_root or None, samples=unit.samples(),
                       config_hash=unit.run_hash, progress=progress, strict=False)
    if summary.missing_outputs:
        raise RuntimeError(f"{len(summary.missing_outputs)} output(s) missing in {unit.out_dir}: "
                           f"{', '.join(summary.missing_outputs[:5])}")


# -- concrete units -----------------------------------------------------------------------------------------------
@dataclass
class SampleUnit(WorkUnit):
    """A unit over one shard of one dataset's samples (optionally the first ``limit`` only)."""

    method: str = ""
    dataset: str = ""
    data_root: str = ""
    runs_root: str = "results/runs"
    settings: dict = field(default_factory=dict)
    shard: int = 0
    num_shards: int = 1
    limit: int | None = None
    #: "module:attr" run before the dataset is looked up, in every process (registers run-time datasets)
    hook: str = ""
    #: the method name written into result records (default: ``method``; ablation variants get their own)
    record_method: str = ""

    @property
    def record_label(self) -> str:
        return self.record_method or self.method

    @property
    def label(self) -> str:
        shard = f"#{self.shard}of{self.num_shards}" if self.num_shards > 1 else ""
        return f"{self.record_label}/{self.dataset}{shard}"

    def run_identity(self) -> dict[str, Any]:
        """What determines the restored outputs (the run folder's hash): the method's identity and the protocol."""
        from benchmarks.protocol import PROTOCOL_VERSION

        import baselines

        return {"method": baselines.get(self.method).identity(self.settings), "protocol": PROTOCOL_VERSION}

    @property
    def run_hash(self) -> str:
        return config_hash(self.run_identity())

    @property
    def out_dir(self):
        return run_dir(self.runs_root, self.method, self.run_hash, self.dataset)

    def config(self) -> dict[str, Any]:
        return {"kind": self.kind, "run": self.run_identity(), "dataset": self.dataset, "shard": self.shard,
                "num_shards": self.num_shards, "limit": self.limit, "label": self.record_label}

    def samples(self) -> list:
        samples = dataset_samples(self.dataset, self.data_root, self.hook)
        if self.limit is not None:
            samples = samples[: self.limit]
        start, stop = shard_bounds(len(samples), self.shard, self.num_shards)
        return samples[start:stop]

    def missing_resources(self) -> list[Missing]:
        return missing_dataset(self.dataset, self.data_root, self.hook)


@dataclass
class RestoreUnit(SampleUnit):
    kind = "restore"

    def is_done(self) -> bool:
        from baselines.base import MissingOutputsError, collect_outputs

        try:
            collect_outputs(self.method, self.samples(), self.out_dir, settings=self.settings)
        except MissingOutputsError:
            return False
        return True

    def run(self, progress: bool = True) -> None:
        import baselines
        from baselines.base import RestoreConfig

        baselines.get(self.method).restore(self.samples(), self.out_dir,
                                           RestoreConfig(settings=dict(self.settings), resume=True,
                                                         progress=progress))

    def missing_resources(self) -> list[Missing]:
        import baselines

        found = super().missing_resources()
        if self.deps:  # what it waits for (prompt training) is in the plan; restore() checks again when it runs
            return found
        method = baselines.get(self.method)
        for p in method.problems(self.settings):
            found.append(Missing("checkpoint/environment", f"{self.method}: {p.what}", p.fix))
        return found


@dataclass
class ScoreUnit(SampleUnit):
    kind = "score"
    metrics: tuple[str, ...] = ()
    #: the results folder whose result store receives the records (``<results_root>/store``)
    results_root: str = "results"

    def config(self) -> dict[str, Any]:
        return {**super().config(), "metrics": list(self.metrics)}

    def is_done(self) -> bool:
        return is_scored(self)

    def partial_resources(self) -> list[Missing]:
        return [Missing("weights", m, p) for m, p in metric_problems(self.metrics).items()]

    def run(self, progress: bool = True) -> None:
        score_unit(self, progress=progress)


@dataclass
class TrainUnit(WorkUnit):
    """Train one prompt (``python -m ypt.train``); done when the prompt file exists where
    :func:`ypt.backbones.prompting.default_path` puts it. Resumes from the trainer's checkpoint beside the prompt."""

    kind = "train"
    backbone: str = "flux"
    degradation: str = "haze"
    dataset: str = ""
    data_root: str = ""
    variant: str = "residual"
    bridge: str = "ebr"
    t0: float = 0.4
    iterations: int | None = None
    extra_args: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return f"{self.backbone}/{self.degradation}/{self.variant}/{self.bridge}/t0={self.t0:g}"

    def argv(self, data_root: str | None = None) -> list[str]:
        """``python -m ypt.train`` arguments (``--data-root`` only when running: it does not change the prompt)."""
        argv = ["--backbone", self.backbone, "--degradation", self.degradation, "--dataset", self.dataset,
                "--variant", self.variant, "--bridge", self.bridge, "--t0", str(self.t0)]
        if data_root:
            argv += ["--data-root", data_root]
        if self.iterations:
            argv += ["--iterations", str(self.iterations)]
        return argv + list(self.extra_args)

    def train_config(self):
        from ypt import train

        return train.config_from_args(train.build_parser().parse_args(self.argv()))

    def config(self) -> dict[str, Any]:
        return {"kind": "train", "train": self.train_config().hashable(), "dataset": self.dataset}

    def prompt_path(self):
        from ypt.backbones import prompting

        return prompting.default_path(self.train_config())

    def is_done(self) -> bool:
        return self.prompt_path().is_file()

    def run(self, progress: bool = True) -> None:
        from ypt import train

        from benchmarks.datasets.roots import dataset_root

        argv = self.argv(str(dataset_root(self.dataset, self.data_root or None)))
        code = train.main(argv)
        if code:
            raise RuntimeError(f"python -m ypt.train {' '.join(argv)} exited with {code}")

    def missing_resources(self) -> list[Missing]:
        return missing_dataset(self.dataset, self.data_root)


# -- cost -------------------------------------------------------------------------------------------------------
#: documented fallback for external GPU baselines without measured times: seconds per restored image (or clip) on
#: one H100 (order of magnitude of one diffusion/transformer restorer at 512-1024 px; replace with measurements)
EXTERNAL_SECONDS_PER_ITEM = 2.0


@dataclass(frozen=True)
class UnitCost:
    gpu_hours: float
    measured: bool
    source: str


def unit_cost(unit: WorkUnit, n_items: int | None) -> UnitCost | None:
    """GPU-hours of one unit: measured (``results/perf/*.json`` via :mod:`benchmarks.perf.cost`) where possible,
    else the documented defaults; None when the item count is unknown."""
    from benchmarks.perf.cost import estimate_gpu_hours

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
    if isinstance(unit, RestoreUnit):
        import baselines

        method = baselines.get(unit.method)
        if method.backbone:
            est = estimate_gpu_hours("sample", method.backbone, n_items)
            return UnitCost(est.gpu_hours, est.measured, est.source)
        if unit.needs.gpus == 0:
            return UnitCost(0.0, False, "runs on CPU")
        return UnitCost(n_items * EXTERNAL_SECONDS_PER_ITEM / 3600, False,
                        f"assumed {EXTERNAL_SECONDS_PER_ITEM:g} s per item for external baselines")
    return None


# -- the plan ---------------------------------------------------------------------------------------------------
@dataclass
class Plan:
    name: str
    units: list
    layout: Layout = field(default_factory=Layout)
    title: str = ""
    #: unit key -> number of items (samples) it covers, when known without the data (expected counts)
    sizes: dict = field(default_factory=dict)

    def survey(self) -> tuple[dict[str, str], list[Missing]]:
        """One pass over the units (each looks at the disk once): unit key -> ``done`` / ``todo`` / ``missing`` (a
        resource it needs is absent), and the missing resources, each once."""
        status: dict[str, str] = {}
        seen: dict[tuple, Missing] = {}
        for u in self.units:
            absent = u.missing_resources()
            for m in [*absent, *u.partial_resources()]:
                seen.setdefault((m.kind, m.name), m)
            status[u.key] = "missing" if absent else ("done" if u.is_done() else "todo")
        return status, list(seen.values())

    def status(self) -> dict[str, str]:
        return self.survey()[0]

    def todo(self) -> list:
        status = self.status()
        return [u for u in self.units if status[u.key] != "done"]

    def missing(self) -> list[Missing]:
        return self.survey()[1]

    def cost(self, status: dict[str, str] | None = None) -> tuple[float, float, list[str]]:
        """(GPU-hours of the whole plan, GPU-hours still to run, the sources of the estimates)."""
        status = status or self.status()
        total = remaining = 0.0
        sources: set[str] = set()
        for u in self.units:
            c = unit_cost(u, self.sizes.get(u.key))
            if c is None:
                continue
            total += c.gpu_hours
            if status[u.key] != "done":
                remaining += c.gpu_hours
            sources.add(("measured: " if c.measured else "default: ") + c.source)
        return total, remaining, sorted(sources)


def wide_console(stderr: bool = False):
    """A rich console; when writing to a pipe or file, at least 160 columns instead of rich's 80 (logs stay
    readable)."""
    from rich.console import Console

    console = Console(stderr=stderr)
    return console if console.is_terminal else Console(stderr=stderr, width=max(console.width, 160))


def print_plan(plan: Plan, status: dict[str, str] | None = None, console=None) -> None:
    from rich.table import Table

    console = console or wide_console()
    status = status or plan.status()
    table = Table(title=f"plan: {plan.title or plan.name}")
    for col in ("unit", "kind", "items", "gpus", "mem", "time", "config", "status"):
        table.add_column(col, justify="right" if col in ("items", "gpus", "mem", "time") else "left",
                         overflow="fold", no_wrap=col != "unit")
    colours = {"done": "green", "todo": "yellow", "missing": "red"}
    for u in plan.units:
        s = status[u.key]
        n = plan.sizes.get(u.key)
        table.add_row(u.label, u.kind, "" if n is None else str(n), str(u.needs.gpus), f"{u.needs.mem_gb:g}G",
                      f"{u.needs.minutes}m", u.config_hash, f"[{colours[s]}]{s}[/{colours[s]}]")
    console.print(table)
    counts = {k: list(status.values()).count(k) for k in ("done", "todo", "missing")}
    console.print(f"{len(plan.units)} units: {counts['done']} done, {counts['todo']} to run, "
                  f"{counts['missing']} missing a resource")
    total, remaining, sources = plan.cost(status)
    console.print(f"cost: {remaining:.1f} GPU-hours to run ({total:.1f} for the whole plan); estimates: "
                  + ("; ".join(sources) or "none"))


def print_missing(missing: list[Missing], console=None) -> None:
    from rich.markup import escape

    console = console or wide_console(stderr=True)
    console.print(f"[red]missing {len(missing)} resource(s):[/red]")
    for m in missing:
        console.print(f"  [bold]{escape(m.kind)}[/bold] {escape(m.name)}\n      how: {escape(m.how)}", highlight=False)
    kinds: dict[str, int] = {}
    for m in missing:
        kinds[m.kind] = kinds.get(m.kind, 0) + 1
    console.print("[red]summary:[/red] missing " + ", ".join(f"{k}: {n}" for k, n in kinds.items())
                  + ". Nothing that needs them can run; fix the items above and rerun (finished work is kept).")


def run_plan(plan: Plan, executor: str = "local", cluster: str | None = None, dry_run: bool = False,
             progress: bool = True) -> int:
    """Print (dry run) or run the plan's missing units. Exit code: 0 all done, 1 something missing or failed,
    2 the run could not start (unknown executor, missing or unsuitable cluster profile)."""

    from benchmarks.execute import Outcome, execute, print_failures, summarise

    console = wide_console()
    status, missing = plan.survey()
    if dry_run:
        print_plan(plan, status, console)
        if missing:
            print_missing(missing)
            return 1
        return 0
    runnable = [u for u in plan.units if status[u.key] == "todo"]  # done ones are not looked at again
    if missing:
        print_missing(missing)
    try:
        outcomes = [Outcome(u.key, "skipped") for u in plan.units if status[u.key] == "done"]
        outcomes += execute(runnable, executor=executor, cluster=cluster, log_root=plan.layout.logs(plan.name),
                            progress=progress)
    except ValueError as exc:  # unknown executor, missing or bad cluster profile, a unit the profile cannot host
        wide_console(stderr=True).print(f"[red]error:[/red] {exc}", highlight=False)
        return 2
    console.print(f"units: {summarise(outcomes)}" + (f", {list(status.values()).count('missing')} missing a resource"
                                                      if missing else ""))
    failed = print_failures(outcomes)
    return 1 if (failed or missing) else 0


# -- planning a table ---------------------------------------------------------------------------------------------
def restore_needs(method_key: str) -> Needs:
    """External baselines and our diffusion methods need a GPU; the classic in-process ones run on a CPU."""
    import baselines

    method = baselines.get(method_key)
    if method.spec.external or method.backbone:
        return Needs(gpus=1, cpus=8, mem_gb=64, minutes=240)
    return Needs(gpus=0, cpus=1, mem_gb=2, minutes=60)


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


def plan_cells(name: str, cells, *, layout: Layout = Layout(), data_root: str = "", limit: int | None = None,
               num_shards: int = 1, hook: str = "", title: str = "", expected: dict | None = None,
               score_needs: Needs = Needs(gpus=0, cpus=1, mem_gb=2, minutes=60), extra_units=()) -> Plan:
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
                      settings={**method_settings(c.method), **dict(c.settings)}, limit=limit, hook=hook,
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


# -- the runner's command line (used by benchmarks.run) --------------------------------------------------------------
def add_executor_arguments(parser, data_root: bool = True) -> None:
    """``--dry-run``, ``--executor``, ``--cluster`` (and ``--data-root``): how every planning command runs its work
    (``benchmarks.run``, ``benchmarks.ablate``, ``slurm.train``, ``benchmarks.perf``)."""
    from benchmarks.execute import EXECUTORS

    parser.add_argument("--dry-run", action="store_true",
                        help="print the plan, what is missing (and how to get it) and its GPU-hours; run nothing")
    parser.add_argument("--executor", choices=EXECUTORS, default="local",
                        help="local: in this process (default); slurm: job arrays through submitit")
    parser.add_argument("--cluster", help="cluster profile for --executor slurm (slurm/clusters/NAME.toml)")
    if data_root:
        parser.add_argument("--data-root", default="", help="data root (default: $YPT_DATA)")


def add_runner_arguments(parser) -> None:
    """The options of ``python -m benchmarks.run tableN`` that plan and run work (no heavy imports)."""
    parser.add_argument("--demo", action="store_true",
                        help="the built-in demo benchmark (CPU methods on generated data; results/demo/)")
    add_executor_arguments(parser)
    parser.add_argument("--methods", help="comma list: only these rows")
    parser.add_argument("--datasets", help="comma list: only these datasets")
    parser.add_argument("--limit", type=int, help="first N samples per dataset (smoke runs)")
    parser.add_argument("--shards", type=int, default=1, help="restore jobs per (method, dataset) (default 1)")


def split_list(text: str | None) -> tuple[str, ...] | None:
    return tuple(x for x in text.split(",") if x) if text else None


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


#: scoring a paper table: the pyiqa metrics (CLIPIQA+, MUSIQ, LPIPS, DISTS) and DOVER want a GPU
TABLE_SCORE_NEEDS = Needs(gpus=1, cpus=8, mem_gb=32, minutes=120)


def plan_table(key: str, methods=None, datasets=None, limit: int | None = None, data_root: str = "",
               num_shards: int = 1, layout: Layout = Layout()) -> Plan:
    """Every cell of table ``key`` (``benchmarks.tables``): rows x datasets (mean groups expanded to their
    members). Rows of our method (and the training variants of Tables 4-5) wait for their prompts' training units."""
    from benchmarks.protocol import DEGRADATIONS
    from benchmarks.tables import get
    import baselines
    from slurm.train import training_units

    spec = get(key)
    cells, trains = [], {}
    for row in spec.rows:
        if methods and row.key not in methods:
            continue
        settings = dict(spec.variants.get(row.key, {}))
        method, label = (f"ypt_{spec.backbone}", row.key) if spec.variants else (row.key, "")
        after: tuple[str, ...] = ()
        if backbone := baselines.get(method).backbone:
            units = training_units([backbone], DEGRADATIONS, data_root=data_root,
                                   variant=settings.get("variant", "residual"), bridge=settings.get("bridge", "ebr"))
            trains.update({u.key: u for u in units})
            after = tuple(u.key for u in units)
        for group in spec.groups_of(row.key):
            for dataset in group.datasets:
                if datasets and dataset not in datasets:
                    continue
                cells.append(Cell(method, dataset, group.metrics, label=label,
                                  settings=tuple(sorted(settings.items())), after=after))
    if not cells:
        raise ValueError(f"nothing to plan for {key}: no row in {methods} or no dataset in {datasets}")
    used = {c.dataset for c in cells}
    return plan_cells(key, cells, layout=layout, data_root=data_root, limit=limit, num_shards=num_shards,
                      title=spec.title, expected=expected_counts(used), extra_units=list(trains.values()),
                      score_needs=TABLE_SCORE_NEEDS)


def plan_records(plan: Plan, records):
    """The records of this plan's own runs (label, dataset, config hash): older configs never mix in."""
    wanted = {(u.record_label, u.dataset, u.run_hash) for u in plan.units if isinstance(u, ScoreUnit)}
    keys = zip(records["method"], records["dataset"], records["config_hash"])
    mask = [k in wanted for k in keys]
    return records.loc[records.index[mask]] if len(records) else records


def run_table(key: str, args) -> int:
    """``python -m benchmarks.run tableN`` (``--source run``): plan, run what is missing, render beside the paper."""
    from pathlib import Path

    if getattr(args, "demo", False):
        from benchmarks.demo import run_demo

        return run_demo(key, args)
    layout = Layout(str(args.results_dir))
    try:
        plan = plan_table(key, split_list(args.methods), split_list(args.datasets), args.limit, args.data_root,
                          args.shards, layout)
    except (ValueError, KeyError) as exc:
        print(f"error: {exc}")
        return 2
    code = run_plan(plan, executor=args.executor, cluster=args.cluster, dry_run=args.dry_run)
    if args.dry_run or code == 2:  # 2: the run could not start (executor or cluster profile)
        return code
    records = plan_records(plan, open_store(layout.root).load())
    if records.empty:
        print(f"no records for {key} yet: nothing could be scored (see the missing resources above)")
        return code or 1
    from benchmarks.run import render_results

    render_results(key, records, Path(args.out or layout.tables))
    return code
