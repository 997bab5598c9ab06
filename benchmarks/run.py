"""``python -m benchmarks.run``: regenerate the paper's tables.

    python -m benchmarks.run list                       # the tables
    python -m benchmarks.run table2 --source paper      # render the paper's numbers (CSV/MD/TeX saved)
    python -m benchmarks.run table2 --source results    # render what the result store already holds
    python -m benchmarks.run table2 [--dry-run] [--demo] [--executor slurm --cluster NAME] [...]
                                                        # plan, run what is missing, render beside the paper

Help, ``list`` and ``--source paper`` import neither torch nor diffusers nor pyiqa.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ypt.cli import entry_point

SOURCES = ("run", "paper", "results")


def build_parser() -> argparse.ArgumentParser:
    from benchmarks.runner.options import add_runner_arguments

    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.run", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("table", help="table1..table5, or 'list'")
    parser.add_argument("--source", choices=SOURCES, default="run",
                        help="run: plan and run what is missing, then render (default); paper: the paper's numbers; "
                             "results: render the result store as it is")
    parser.add_argument("--results-dir", default="results",
                        help="results root: result store, run outputs, rendered tables (default: results/)")
    parser.add_argument("--out", default=None, help="folder for the rendered files (default: <results-dir>/tables/...)")
    parser.add_argument("--partial-cells", action="store_true",
                        help="compare with the paper also the cells computed over fewer samples than their set "
                             "(they print as 'value (n/N)' either way)")
    parser.add_argument("--protocol", default=None,
                        help="with --source results: render the records of this protocol (default: the current one, "
                             "the release's; records of other protocols are never mixed in)")
    add_runner_arguments(parser)
    return parser


def list_tables() -> int:
    from rich.console import Console
    from rich.table import Table

    from benchmarks.tables import DEMO_TABLES, FIGURES, TABLES

    out = Table(title="Tables and figures", header_style="bold")
    for name in ("key", "title", "rows", "column groups", "backbone"):
        out.add_column(name)
    for key, spec in TABLES.items():
        out.add_row(key, spec.title, str(len(spec.rows)), str(len(spec.groups)), spec.backbone or "both")
    for key, spec in FIGURES.items():
        out.add_row(key, spec.title, "T0 " + ", ".join(f"{v:g}" for v in spec.values),
                    "eval " + ", ".join(f"{b}: {d}" for b, d in spec.eval_set.items()), ", ".join(spec.backbones))
    for key, spec in DEMO_TABLES.items():
        out.add_row(f"{spec.demo_of} --demo", spec.title, str(len(spec.rows)), str(len(spec.groups)), "CPU")
    Console().print(out)
    return 0


def run_table(spec, args) -> int:
    """Plan ``spec`` (a paper table, or its demo with ``--demo``), run what is missing, render beside the paper."""
    from benchmarks.runner.execute import run_plan
    from benchmarks.runner.options import split_list
    from benchmarks.runner.planning import demo_layout, plan_table
    from benchmarks.runner.render import render_results
    from benchmarks.runner.report import wide_console
    from benchmarks.runner.units import ResultsLayout, open_store

    console = wide_console()
    layout, data_root = ResultsLayout(args.results_dir), args.data_root
    if spec.is_demo:
        layout, data_root = demo_layout(args.results_dir, data_root)
        console.print(f"{spec.title}: results under {layout.root}/ (the paper's tables are not touched)")
    methods, datasets = split_list(args.methods), split_list(args.datasets)
    plan = plan_table(spec, methods, datasets, args.limit, data_root, args.shards, layout)
    for name, why in plan.dropped_metrics.items():
        console.print(f"[yellow]{spec.key} without {name}[/yellow]: {why}", highlight=False, markup=False)
    code = run_plan(plan, executor=args.executor, cluster=args.cluster, dry_run=args.dry_run)
    if args.dry_run or code == 2:  # 2: the run could not start (executor or cluster profile)
        return code
    records = plan.records(open_store(layout.root).load())
    if records.empty:
        print(f"no records for {spec.key} yet: nothing could be scored (see the missing resources above)")
        return code or 1
    render_results(spec.narrowed(methods, datasets, plan.dropped_metrics), records, Path(args.out or layout.tables),
                   console=console, expected=plan.sample_counts(), include_partial=args.partial_cells)
    return code


@entry_point
def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    if args.table == "list":
        return list_tables()
    from benchmarks import tables

    spec = tables.get(args.table)  # an unknown table: its close matches, exit 2
    results = Path(args.results_dir)
    if args.demo:
        spec = tables.demo_of(args.table)
    if args.source == "paper":
        from benchmarks.runner.render import render_paper

        render_paper(spec, Path(args.out or results / "tables" / "paper"))
        return 0
    if args.source == "results":
        from benchmarks.protocol import PROTOCOL_VERSION
        from benchmarks.runner.planning import expected_counts
        from benchmarks.runner.render import render_results
        from benchmarks.store import ResultStore, of_protocol
        from ypt.errors import MissingData

        protocol = args.protocol or PROTOCOL_VERSION
        records, left_out = of_protocol(ResultStore(results).load(), protocol)
        for other, count in sorted(left_out.items()):
            print(f"left out {count} record(s) of protocol {other} (this table shows protocol {protocol}; "
                  f"--protocol {other} renders them)")
        if records.empty:
            raise MissingData(f"the result store under {results / 'store'} holds no records yet (of protocol "
                              f"{protocol}); run `python -m benchmarks.run {args.table}` first")
        render_results(spec, records, Path(args.out or results / "tables"), expected=expected_counts(spec.dataset_keys),
                       include_partial=args.partial_cells)
        return 0
    return run_table(spec, args)


if __name__ == "__main__":
    sys.exit(main())
