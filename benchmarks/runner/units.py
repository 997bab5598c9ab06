"""Work units: one method restoring one shard of one dataset, and scoring it, each content-addressed by its config.

A unit's key carries the hash of its config (:func:`ypt.provenance.config_hash`), and its outputs live under
``<results>/runs/<method>/<run hash>/<dataset>/``: a rerun finds the finished units done and runs only the missing
ones, and a changed config gets a new folder instead of reusing stale outputs. Prompt training units are in
:mod:`benchmarks.runner.training`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ypt.errors import RunFailed, YPTError
from ypt.provenance import config_hash

if TYPE_CHECKING:
    from baselines.loaded import LoadedModels


@dataclass(frozen=True)
class Needs:
    """What one unit needs from a machine (a SLURM job asks for exactly this, clipped to the cluster profile)."""

    gpus: int = 0
    cpus: int = 2
    mem_gb: float = 2
    minutes: int = 60


#: a unit that runs on a CPU in minutes (the classic methods, scoring the demo)
CPU_NEEDS = Needs(gpus=0, cpus=1, mem_gb=2, minutes=60)
#: a diffusion or external restorer: one GPU
GPU_RESTORE_NEEDS = Needs(gpus=1, cpus=8, mem_gb=64, minutes=240)
#: scoring a paper table: the pyiqa metrics (CLIPIQA+, MUSIQ, LPIPS, DISTS) and DOVER want a GPU
GPU_SCORE_NEEDS = Needs(gpus=1, cpus=8, mem_gb=32, minutes=120)


@dataclass
class Outcome:
    """What happened to one unit: ``done`` (ran now), ``skipped`` (already done), ``partial`` (ran; some samples
    failed alone, listed in ``failures``), ``failed`` or ``blocked`` (a unit it needs failed)."""

    unit: str
    status: str
    log: Path | None = None
    error: str = ""
    job_id: str | None = None
    #: one line per sample that failed alone (``sample <id> (<file>): <stage>: <reason>``)
    failures: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """The units that depend on it may run (a partial unit's good samples go on)."""
        return self.status in ("done", "skipped", "partial")

    @property
    def succeeded(self) -> bool:
        """Nothing of it failed."""
        return self.status in ("done", "skipped")


@dataclass(frozen=True)
class Missing:
    """One missing resource a plan needs: what, and the command or page that gets it; ``blocks``: how many units
    of the plan cannot run without it (0: the units run without it, e.g. one metric of several)."""

    kind: str  # dataset / checkpoint / environment / prompt / weights
    name: str
    how: str
    blocks: int = 0

    def __str__(self) -> str:
        return f"{self.kind} {self.name}: {self.how}"


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

    def run(self, progress: bool = True) -> list | None:
        """Do the unit's work; return the samples that failed alone (their failures), if any."""
        raise NotImplementedError

    def load_key(self) -> str | None:
        """What the unit loads that other units may share (a backbone at one precision on one device), as a key:
        a worker runs the units of one key in one process that loads it once, and hands them the loaded models
        through ``run(..., models=)`` (:mod:`benchmarks.runner.worker`). None (default): nothing shared."""
        return None

    def describe(self) -> str:
        return f"{self.kind} {self.label} (config {self.config_hash})"

    def missing_resources(self) -> list[Missing]:
        """What must exist before this unit can run (datasets, checkpoints, environments), with how to get it."""
        return []

    def partial_resources(self) -> list[Missing]:
        """What is missing without stopping the unit (e.g. one metric's weights: the others still run)."""
        return []


# -- where things live --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ResultsLayout:
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


def run_dir(runs_root: str, method: str, run_hash: str, dataset: str) -> Path:
    """``<runs_root>/<method>/<config hash>/<dataset>/``: the restored outputs of one method config on one set."""
    return Path(runs_root) / slug(method) / run_hash / dataset


def shard_bounds(n: int, shard: int, num_shards: int) -> tuple[int, int]:
    """Contiguous ``[start, stop)`` of shard ``shard`` of ``num_shards`` over ``n`` samples (sizes differ by <= 1)."""
    if not 0 <= shard < num_shards:
        raise ValueError(f"shard {shard} outside 0..{num_shards - 1}")
    base, extra = divmod(n, num_shards)
    start = shard * base + min(shard, extra)
    return start, start + base + (1 if shard < extra else 0)


# -- datasets, scoring and the store ------------------------------------------------------------------------------
def dataset_samples(key: str, data_root: str = "") -> list:
    from benchmarks import datasets

    return list(datasets.get(key).samples(data_root or None))


def missing_dataset(key: str, data_root: str = "") -> list[Missing]:
    """[] when the dataset's samples can be listed or the set is generated when used (``prepare``: the demo's), else
    one :class:`Missing` with the registry's own message."""
    from benchmarks import datasets

    if hasattr(datasets.get(key), "prepare"):
        return []
    try:
        if not dataset_samples(key, data_root):
            return [Missing("dataset", key, f"no samples found for {key}")]
    except YPTError as exc:  # the registry's error says what is missing and where it comes from; a bug propagates
        return [Missing("dataset", key, str(exc).strip())]
    return []


def open_store(results_root: str):
    from benchmarks.store import ResultStore

    return ResultStore(results_root)


def metric_problems(metrics) -> dict[str, str]:
    """{metric: what is missing} for the metrics whose weights or package are absent on this machine."""
    from benchmarks import metrics as registry

    return {m: p for m in metrics if (p := registry.weights_problem(m))}


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
        import baselines
        from benchmarks.protocol import PROTOCOL_VERSION

        return {"method": baselines.get(self.method).identity(self.settings), "protocol": PROTOCOL_VERSION}

    @property
    def run_hash(self) -> str:
        return config_hash(self.run_identity())

    @property
    def out_dir(self) -> Path:
        return run_dir(self.runs_root, self.method, self.run_hash, self.dataset)

    def config(self) -> dict[str, Any]:
        return {"kind": self.kind, "run": self.run_identity(), "dataset": self.dataset, "shard": self.shard,
                "num_shards": self.num_shards, "limit": self.limit, "label": self.record_label}

    def samples(self) -> list:
        samples = dataset_samples(self.dataset, self.data_root)
        if self.limit is not None:
            samples = samples[: self.limit]
        start, stop = shard_bounds(len(samples), self.shard, self.num_shards)
        return samples[start:stop]

    def missing_resources(self) -> list[Missing]:
        return missing_dataset(self.dataset, self.data_root)


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

    def load_key(self) -> str | None:
        import baselines

        key = baselines.get(self.method).load_key(self.settings)
        return None if key is None else f"{self.method}:{key}"

    def run(self, progress: bool = True, models: LoadedModels | None = None) -> list:
        """Restore the samples still without output; a sample that fails alone is returned, and the unit fails as a
        whole only when no sample of it was restored. ``models``: what earlier units of this worker loaded (its
        :meth:`load_key`'s backbone), reused instead of loaded again."""
        import baselines
        from baselines.base import RestoreConfig

        report = baselines.get(self.method).restore(self.samples(), self.out_dir,
                                                    RestoreConfig(settings=dict(self.settings), resume=True,
                                                                  progress=progress, models=models))
        if report.failures and not report.outputs:
            raise RunFailed("no sample restored: " + "; ".join(str(f) for f in report.failures))
        return report.failures

    def missing_resources(self) -> list[Missing]:
        import baselines

        found = super().missing_resources()
        for p in baselines.get(self.method).readiness(self.settings):
            if p.kind == "prompt" and self.deps:  # the plan trains it first; restore() checks again when it runs
                continue
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

    @property
    def protocol(self) -> str:
        """The protocol its records carry: the current version, plus the suite's own ways its settings take."""
        from benchmarks.protocol import protocol_tag

        return protocol_tag(self.settings)

    def is_done(self) -> bool:
        """Every (sample, metric) that can be scored here has a record of this run config and of the current
        protocol and metric versions (metrics without weights are reported by the plan, not waited for)."""
        from benchmarks import metrics as registry

        absent = metric_problems(self.metrics)
        runnable = [m for m in self.metrics if m not in absent]
        if self.metrics and not runnable:  # nothing can score it here: blocked (missing_resources), never done
            return False
        done = open_store(self.results_root).scored(
            self.record_label, self.dataset, self.run_hash,
            metric_versions={m: registry.spec(m).version for m in runnable}, protocol=self.protocol)
        return all((s.id, m) in done for s in self.samples() for m in runnable)

    def missing_resources(self) -> list[Missing]:
        """The dataset, and at least one metric that can run here: a set whose every metric lacks its weights (RHVD
        without CLIPIQA, MUSIQ and DOVER) is blocked, never scored into zero records."""
        found = super().missing_resources()
        absent = metric_problems(self.metrics)
        if self.metrics and len(absent) == len(self.metrics):
            names = ",".join(sorted(self.metrics))
            found.append(Missing("weights", f"no runnable metric of {names}",
                                 f"python -m benchmarks.prefetch --metrics {names} (on a node with internet)"))
        return found

    def partial_resources(self) -> list[Missing]:
        return [Missing("weights", m, p) for m, p in metric_problems(self.metrics).items()]

    def run(self, progress: bool = True) -> list:
        """Score every sample with an output (the samples without one failed in their restore unit, which names
        them); a sample whose output or target cannot be read is returned as a failure, the others are scored."""
        from benchmarks.evaluate import evaluate

        summary = evaluate(self.record_label, self.dataset, self.out_dir, open_store(self.results_root),
                           metrics=list(self.metrics), data_root=self.data_root or None, samples=self.samples(),
                           config_hash=self.run_hash, progress=progress, strict=False, protocol=self.protocol)
        if summary.samples and len(summary.missing_outputs) == summary.samples:
            raise RunFailed(f"no output to score in {self.out_dir}")
        return summary.failures
