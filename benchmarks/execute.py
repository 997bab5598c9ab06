"""Run a plan's missing work units: in-process (``local``, the default) or on SLURM (``slurm``, see :mod:`slurm`).

Units run in dependency waves (restore before score, train before restore). A unit that is already done is
skipped; a failing unit is reported with its log path and the units that depend on it are ``blocked``; nothing
aborts the whole run, so the table renders with the missing cells marked. Results are never taken from the
executor's return values: the caller collects them from the result store on disk.
"""
from __future__ import annotations

import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Sequence

EXECUTORS = ("local", "slurm")


@dataclass
class Outcome:
    """What happened to one unit: ``done`` (ran now), ``skipped`` (already done), ``failed`` or ``blocked``."""

    unit: str
    status: str
    log: Path | None = None
    error: str = ""
    job_id: str | None = None

    @property
    def ok(self) -> bool:
        return self.status in ("done", "skipped")


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


def blocked_by(unit, failed: set[str]) -> list[str]:
    return [d for d in unit.deps if d in failed]


def settled(unit, failed: set[str]) -> Outcome | None:
    """The outcome of a unit that needs no run (blocked by a failed dependency, or already done), else None.
    A blocked unit is added to ``failed`` so that its own dependents are blocked too."""
    blockers = blocked_by(unit, failed)
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


def run_local(units: Sequence, log_root: Path, progress: bool = True) -> list[Outcome]:
    """Run ``units`` in this process, one after another, with a rich progress bar."""
    if not progress:
        return run_waves(units, lambda todo: (_run_one_local(u, log_root, False) for u in todo))
    from rich.progress import Progress

    with Progress(transient=False) as bar:
        task = bar.add_task("work units", total=len(units))

        def run_batch(todo):
            for unit in todo:
                bar.update(task, description=f"{unit.kind} {unit.label}")
                yield _run_one_local(unit, log_root, True)

        return run_waves(units, run_batch, on_outcome=lambda _: bar.advance(task))


def _run_one_local(unit, log_root: Path, progress: bool) -> Outcome:
    log = unit_log_dir(log_root, unit) / "local.log"
    try:
        unit.run(progress=progress)
        if not unit.is_done():
            raise RuntimeError(f"unit {unit.key} ran but is not done")
    except KeyboardInterrupt:
        raise
    except Exception as exc:  # reported with its log; the rest of the plan goes on
        from ypt.files import atomic_write_text

        atomic_write_text(log, f"unit {unit.key}\n{unit.describe()}\n\n{traceback.format_exc()}")
        return Outcome(unit.key, "failed", log=log, error=f"{type(exc).__name__}: {exc}")
    return Outcome(unit.key, "done")


def execute(units: Sequence, executor: str = "local", log_root: Path | str = "results/logs",
            cluster: str | None = None, progress: bool = True) -> list[Outcome]:
    """Run the units of a plan that are not done yet; one :class:`Outcome` per unit."""
    log_root = Path(log_root)
    if executor == "local":
        return run_local(units, log_root, progress=progress)
    if executor == "slurm":
        if not cluster:
            from slurm.profiles import available_profiles

            raise ValueError(f"--executor slurm needs --cluster NAME (profiles: {', '.join(available_profiles())})")
        from slurm.executor import SlurmRunner
        from slurm.profiles import load_profile

        return SlurmRunner(load_profile(cluster), log_root).run(units)
    raise ValueError(f"unknown executor {executor!r}; choose from {', '.join(EXECUTORS)}")


def summarise(outcomes: Iterable[Outcome]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for o in outcomes:
        counts[o.status] = counts.get(o.status, 0) + 1
    return counts


def print_failures(outcomes: Iterable[Outcome], console=None) -> int:
    """Print each failed/blocked unit with its log path; returns how many there were."""
    from rich.console import Console
    from rich.markup import escape

    console = console or Console(stderr=True)
    bad = [o for o in outcomes if not o.ok]
    for o in bad:
        where = f"  log: {o.log}" if o.log else ""
        job = f"  job {o.job_id}" if o.job_id else ""
        console.print(f"[red]{o.status}[/red] {escape(f'{o.unit}: {o.error}{job}{where}')}", highlight=False,
                      soft_wrap=True)  # paths stay whole, for copy and paste
    return len(bad)
