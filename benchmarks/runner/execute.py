"""Run a plan's missing work units with an executor: in this process (``local``, the default) or one registered by
a backend package through the ``ypt_bench.executors`` entry point (``slurm``: job arrays through submitit).

Units run in dependency waves (restore before score, train before restore). A unit that is already done is
skipped; a failing unit is reported with its log path and the units that depend on it are ``blocked``; nothing
aborts the whole run, so the table renders with the missing cells marked. Results are never taken from the
executor's return values: the caller collects them from the result store on disk.
"""
from __future__ import annotations

import traceback
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from benchmarks.runner.units import Outcome
from benchmarks.runner.worker import Worker
from ypt.errors import UsageError, YPTError

if TYPE_CHECKING:
    from benchmarks.runner.planning import Plan

#: entry-point group through which backend packages register executors (``slurm`` does, in pyproject.toml)
EXECUTOR_GROUP = "ypt_bench.executors"
LOCAL = "local"


class Executor(Protocol):
    """Runs units (already sorted out of the plan: none is done) and reports one :class:`Outcome` per unit.
    Constructed as ``Executor(log_root, cluster=None, progress=True)``."""

    def run(self, units: Sequence) -> list[Outcome]: ...


def unit_log_dir(log_root: Path, unit) -> Path:
    """``<log_root>/<unit key>/``: where a unit's logs live, local and SLURM alike."""
    return Path(log_root) / unit.key


def dependency_waves(units: Sequence) -> list[list]:
    """Units grouped so that every unit comes after the units it depends on (deps outside ``units`` are ignored)."""
    by_key = {u.key: u for u in units}
    if len(by_key) != len(units):
        raise ValueError("duplicate unit keys in a plan")
    level: dict[str, int] = {}

    def depth(key: str, stack: tuple[str, ...] = ()) -> int:
        if key in stack:
            raise ValueError(f"dependency cycle: {' -> '.join(stack + (key,))}")
        if key not in level:
            deps = [d for d in by_key[key].deps if d in by_key]
            level[key] = 1 + max((depth(d, stack + (key,)) for d in deps), default=-1)
        return level[key]

    for u in units:
        depth(u.key)
    waves: list[list] = [[] for _ in range(max(level.values(), default=-1) + 1)]
    for u in units:
        waves[level[u.key]].append(u)
    return waves


def settled(unit, failed: set[str]) -> Outcome | None:
    """The outcome of a unit that needs no run (blocked by a failed dependency, or already done), else None.
    A blocked unit is added to ``failed`` so that its own dependents are blocked too."""
    blockers = [d for d in unit.deps if d in failed]
    if blockers:
        failed.add(unit.key)
        return Outcome(unit.key, "blocked", error=f"needs failed unit(s) {', '.join(blockers)}")
    if unit.is_done():
        return Outcome(unit.key, "skipped")
    return None


def run_waves(units: Sequence, run_batch: Callable[[list], Iterable[Outcome]],
              on_outcome: Callable[[Outcome], None] | None = None) -> list[Outcome]:
    """Every executor's loop: per dependency wave, settle what needs no run (:func:`settled`), hand the rest to
    ``run_batch`` (one at a time here, a job array on SLURM), and block the dependents of whatever failed."""
    outcomes: list[Outcome] = []
    failed: set[str] = set()

    def record(outcome: Outcome) -> None:
        outcomes.append(outcome)
        if on_outcome is not None:
            on_outcome(outcome)

    for wave in dependency_waves(units):
        todo = []
        for unit in wave:
            outcome = settled(unit, failed)
            if outcome is None:
                todo.append(unit)
            else:
                record(outcome)
        for outcome in run_batch(todo):
            record(outcome)
            if not outcome.ok:
                failed.add(outcome.unit)
    return outcomes


# -- the local executor -------------------------------------------------------------------------------------------
def run_one_local(unit, log_root: Path, progress: bool, worker: Worker | None = None) -> Outcome:
    """Run one unit in this process (through ``worker``, which keeps what units of one load key share); any
    failure is written to its log and reported, the plan goes on. Samples that failed alone make the outcome
    ``partial`` (listed in its log)."""
    from ypt.files import atomic_write_text

    log = unit_log_dir(log_root, unit) / "local.log"
    try:
        ran = worker.run(unit, progress=progress) if worker is not None else unit.run(progress=progress)
        failures = [str(f) for f in ran or ()]
        if not failures and not unit.is_done():
            raise RuntimeError(f"unit {unit.key} ran but is not done")
    except KeyboardInterrupt:
        raise
    except Exception as exc:  # reported with its log; the rest of the plan goes on
        atomic_write_text(log, f"unit {unit.key}\n{unit.describe()}\n\n{traceback.format_exc()}")
        return Outcome(unit.key, "failed", log=log, error=f"{type(exc).__name__}: {exc}")
    if failures:
        atomic_write_text(log, f"unit {unit.key}\n{unit.describe()}\n\n{len(failures)} sample(s) failed alone:\n"
                          + "\n".join(failures) + "\n")
        return Outcome(unit.key, "partial", log=log, failures=failures,
                       error=f"{len(failures)} sample(s) failed, the others are done")
    return Outcome(unit.key, "done")


def run_local(units: Sequence, log_root: Path, progress: bool = True, worker: Worker | None = None) -> list[Outcome]:
    """Run ``units`` in this process, one after another (with a rich progress bar): per wave, the units of one
    load key together (:func:`benchmarks.runner.worker.bundles`), so one worker loads each backbone once."""
    from benchmarks.runner.worker import bundles

    log_root = Path(log_root)
    worker = worker or Worker()

    def ordered(todo):
        return [u for bundle in bundles(todo) for u in bundle]

    try:
        if not progress:
            return run_waves(units, lambda todo: (run_one_local(u, log_root, False, worker) for u in ordered(todo)))
        from rich.progress import Progress

        with Progress(transient=False) as bar:
            task = bar.add_task("work units", total=len(units))

            def run_batch(todo):
                for unit in ordered(todo):
                    bar.update(task, description=f"{unit.kind} {unit.label}")
                    yield run_one_local(unit, log_root, True, worker)

            return run_waves(units, run_batch, on_outcome=lambda _: bar.advance(task))
    finally:
        worker.close()


class LocalExecutor:
    """In this process, one unit after another."""

    def __init__(self, log_root: Path | str, cluster: str | None = None, progress: bool = True):
        if cluster:
            raise UsageError(f"--cluster {cluster} is for a cluster executor; the local executor runs here")
        self.log_root, self.progress = Path(log_root), progress

    def run(self, units: Sequence) -> list[Outcome]:
        return run_local(units, self.log_root, progress=self.progress)


# -- the executor registry ----------------------------------------------------------------------------------------
def _entry_points():
    from importlib.metadata import entry_points

    return {ep.name: ep for ep in entry_points(group=EXECUTOR_GROUP)}


def executor_names() -> list[str]:
    """``local`` and every executor a backend registers (entry points; nothing is imported to list them)."""
    return [LOCAL, *sorted(n for n in _entry_points() if n != LOCAL)]


def make_executor(name: str, log_root: Path | str, cluster: str | None = None, progress: bool = True) -> Executor:
    from ypt.registry import check_key

    check_key("executor", name, executor_names())
    if name == LOCAL:
        return LocalExecutor(log_root, cluster, progress)
    return _entry_points()[name].load()(log_root, cluster=cluster, progress=progress)


def execute(units: Sequence, executor: str = LOCAL, log_root: Path | str = "results/logs",
            cluster: str | None = None, progress: bool = True) -> list[Outcome]:
    """Run the units of a plan that are not done yet; one :class:`Outcome` per unit."""
    return make_executor(executor, log_root, cluster, progress).run(units)


# -- a whole plan -------------------------------------------------------------------------------------------------
def run_plan(plan: Plan, executor: str = LOCAL, cluster: str | None = None, dry_run: bool = False,
             progress: bool = True) -> int:
    """Print (dry run) or run the plan's units that are not done.

    Exit code: 0 when every unit that could run succeeded (units blocked by a missing resource are summarised, one
    line per resource with the fix: not a failure of the run); 1 when a unit or a sample failed; 2 when the run
    could not start (unknown executor, missing or unsuitable cluster profile). A dry run exits 1 when a resource
    is missing (the plan cannot run whole)."""
    from benchmarks.runner.report import print_failures, print_missing, print_plan, summarise, wide_console

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
    except YPTError as exc:  # unknown executor, missing or bad cluster profile, a unit the profile cannot host
        wide_console(stderr=True).print(f"[red]error:[/red] {exc}", highlight=False)
        return 2
    console.print(f"units: {summarise(outcomes)}" + (f", {list(status.values()).count('missing')} missing a resource"
                                                      if missing else ""))
    failed = print_failures(outcomes)
    return 1 if failed else 0
