"""The command-line options every planning command shares (``benchmarks.run``, ``benchmarks.ablate``,
``slurm.train``, ``benchmarks.perf``), and the one list convention: comma-separated values."""
from __future__ import annotations

import argparse


def split_list(text: str | None) -> tuple[str, ...] | None:
    """``"a,b"`` -> ``("a", "b")``; None or empty -> None."""
    return tuple(x.strip() for x in text.split(",") if x.strip()) if text else None


def add_executor_arguments(parser: argparse.ArgumentParser, data_root: bool = True) -> None:
    """``--dry-run``, ``--executor``, ``--cluster`` (and ``--data-root``): how every planning command runs its work."""
    from benchmarks.runner.execute import executor_names
    from ypt.cli import add_debug_argument

    parser.add_argument("--dry-run", action="store_true",
                        help="print the plan, what is missing (and how to get it) and its GPU-hours; run nothing")
    parser.add_argument("--executor", choices=executor_names(), default="local",
                        help="local: in this process (default); slurm: job arrays through submitit")
    parser.add_argument("--cluster", help="cluster profile for --executor slurm (slurm/clusters/NAME.toml)")
    if data_root:
        parser.add_argument("--data-root", default="", help="data root (default: $YPT_DATA)")
    add_debug_argument(parser)


def add_runner_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``python -m benchmarks.run tableN`` that plan and run work (no heavy imports)."""
    parser.add_argument("--demo", action="store_true",
                        help="the table's built-in miniature (CPU methods on generated data; results/demo/)")
    add_executor_arguments(parser)
    parser.add_argument("--methods", help="comma list: only these rows")
    parser.add_argument("--datasets", help="comma list: only these datasets")
    parser.add_argument("--limit", type=int, help="first N samples per dataset (smoke runs)")
    parser.add_argument("--shards", type=int, default=1, help="restore jobs per (method, dataset) (default 1)")
