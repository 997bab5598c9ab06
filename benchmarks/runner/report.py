"""What a planning command prints: the plan with each unit's status, the missing resources with their fixes, the
cost line, and the failed units with their logs."""
from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from benchmarks.runner.units import Missing, Outcome

if TYPE_CHECKING:
    from benchmarks.runner.planning import Plan


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
        origin = u.source() if s == "done" and hasattr(u, "source") else ""
        shown = f"{s} (imported: {origin.removeprefix('official release ')})" if origin else s
        table.add_row(u.label, u.kind, "" if n is None else str(n), str(u.needs.gpus), f"{u.needs.mem_gb:g}G",
                      f"{u.needs.minutes}m", u.config_hash, f"[{colours[s]}]{shown}[/{colours[s]}]")
    console.print(table)
    counts = {k: list(status.values()).count(k) for k in ("done", "todo", "missing")}
    console.print(f"{len(plan.units)} units: {counts['done']} done, {counts['todo']} to run, "
                  f"{counts['missing']} missing a resource")
    for line in load_lines([u for u in plan.units if status[u.key] != "done"]):
        console.print(line, highlight=False)
    cost = plan.cost(status)
    on_cpu = f"; about {cost.cpu_hours_to_run * 60:.0f} CPU-minutes to run on a CPU" if cost.cpu_hours_to_run else ""
    console.print(f"cost: {cost.gpu_hours_to_run:.1f} GPU-hours to run ({cost.gpu_hours:.1f} for the whole plan)"
                  f"{on_cpu}; estimates: " + ("; ".join(cost.sources) or "none"))


def load_lines(units) -> list[str]:
    """One line per shared load of ``units``: how many units load it, and how many workers do (one here; one SLURM
    job per shard index), i.e. the loads one worker per unit would have made and the loads made."""
    from benchmarks.runner.worker import bundles

    lines = []
    for bundle in bundles(units):
        if len(bundle) < 2 or bundle[0].load_key() is None:
            continue
        jobs = len(bundles(bundle, per_shard=True))
        rows = ", ".join(sorted({u.record_label for u in bundle}))
        lines.append(f"backbone loads of {bundle[0].method} ({rows}): {len(bundle)} {bundle[0].kind} units, 1 load "
                     f"in a local run, {jobs} on SLURM (a job per shard index); {len(bundle)} if each unit loaded its "
                     "own")
    return lines


def print_missing(missing: list[Missing], console=None) -> None:
    from rich.markup import escape

    console = console or wide_console(stderr=True)
    console.print(f"[red]missing {len(missing)} resource(s):[/red]")
    for m in missing:
        blocked = f"\n      blocks {m.blocks} unit{'s' if m.blocks != 1 else ''}" if m.blocks else ""
        console.print(f"  [bold]{escape(m.kind)}[/bold] {escape(m.name)}\n      how: {escape(m.how)}{blocked}",
                      highlight=False)
    kinds: dict[str, int] = {}
    for m in missing:
        kinds[m.kind] = kinds.get(m.kind, 0) + 1
    console.print("[red]summary:[/red] missing " + ", ".join(f"{k}: {n}" for k, n in kinds.items())
                  + ". Nothing that needs them can run; fix the items above and rerun (finished work is kept).")


def summarise(outcomes: Iterable[Outcome]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for o in outcomes:
        counts[o.status] = counts.get(o.status, 0) + 1
    return counts


def print_failures(outcomes: Iterable[Outcome], console=None) -> int:
    """Print each failed/blocked unit with its log path, and one line per sample that failed alone in a partial
    unit (naming the sample and its file); returns how many units did not fully succeed."""
    from rich.console import Console
    from rich.markup import escape

    console = console or Console(stderr=True)
    bad = [o for o in outcomes if not o.succeeded]
    for o in bad:
        job = f"  job {o.job_id}" if o.job_id else ""
        if o.status == "partial":
            for line in o.failures:
                console.print(f"[red]failed[/red] {escape(f'{line}  (unit {o.unit}{job})')}", highlight=False,
                              soft_wrap=True)
            continue
        where = f"  log: {o.log}" if o.log else ""
        console.print(f"[red]{o.status}[/red] {escape(f'{o.unit}: {o.error}{job}{where}')}", highlight=False,
                      soft_wrap=True)  # paths stay whole, for copy and paste
    return len(bad)
