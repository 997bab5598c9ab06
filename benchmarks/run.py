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

SOURCES = ("run", "paper", "results")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.run", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("table", help="table1..table5, or 'list'")
    parser.add_argument("--source", choices=SOURCES, default="run",
                        help="run: plan and run what is missing, then render (default); paper: the paper's numbers; "
                             "results: render the result store as it is")
    parser.add_argument("--results-dir", default="results",
                        help="results root: result store, run outputs, rendered tables (default: results/)")
    parser.add_argument("--out", default=None, help="folder for the rendered files (default: <results-dir>/tables/...)")
    from benchmarks.plan import add_runner_arguments

    add_runner_arguments(parser)
    return parser


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 2


def list_tables() -> int:
    from rich.console import Console
    from rich.table import Table

    from benchmarks.tables import FIGURES, TABLES

    out = Table(title="Tables and figures", header_style="bold")
    for name in ("key", "title", "rows", "column groups", "backbone"):
        out.add_column(name)
    for key, spec in TABLES.items():
        out.add_row(key, spec.title, str(len(spec.rows)), str(len(spec.groups)), spec.backbone or "both")
    for key, spec in FIGURES.items():
        out.add_row(key, spec.title, "T0 " + ", ".join(f"{v:g}" for v in spec.values),
                    "eval " + ", ".join(f"{b}: {d}" for b, d in spec.eval_set.items()), ", ".join(spec.backbones))
    Console().print(out)
    return 0


def render_paper(key: str, out_dir: Path) -> int:
    from rich.console import Console

    from benchmarks import table_engine as engine
    from benchmarks.tables import get

    spec = get(key)
    table = engine.build_table(engine.load_paper(key), spec, compute_average=False)
    console = Console()
    title = f"{spec.title} — as printed in the paper"
    engine.render(table, spec, console, title=title)
    written = engine.save_table(table, spec, out_dir, stem=key, title=title)
    console.print("saved " + ", ".join(str(p) for p in written.values()))
    return 0


def render_results(key: str, records, out_dir: Path, title_suffix: str = "reproduced") -> int:
    """Render ``records`` (tidy) as table ``key``, save it, and compare it with the paper."""
    from rich.console import Console

    from benchmarks import table_engine as engine
    from benchmarks.tables import get
    from ypt.files import atomic_write_text

    spec = get(key)
    console = Console()
    title = f"{spec.title} — {title_suffix}"
    table = engine.build_table(records, spec)
    engine.render(table, spec, console, title=title)
    written = engine.save_table(table, spec, out_dir, stem=key, title=title)
    try:
        paper = engine.load_paper(key)
    except engine.MissingPaperTable:
        paper = None
    if paper is not None:
        comparison = engine.compare(records, paper, spec)
        engine.render_comparison(comparison, spec, console)
        written["comparison"] = atomic_write_text(out_dir / f"{key}_vs_paper.csv",
                                                  comparison.to_csv(index=False, float_format="%.6g"))
    console.print("saved " + ", ".join(str(p) for p in written.values()))
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.table == "list":
        return list_tables()
    from ypt.registry import UnknownKeyError
    from benchmarks.tables import TABLES

    if args.table not in TABLES:
        return _fail(str(UnknownKeyError("table", args.table, TABLES.keys())))
    results = Path(args.results_dir)
    try:
        if args.source == "paper":
            from benchmarks.table_engine import MissingPaperTable

            try:
                return render_paper(args.table, Path(args.out or results / "tables" / "paper"))
            except MissingPaperTable as err:
                return _fail(f"{err}. Valid tables: {', '.join(TABLES.keys())}")
        if args.source == "results":
            from benchmarks.store import ResultStore

            records = ResultStore(results).load()
            if records.empty:
                return _fail(f"the result store under {results / 'store'} holds no records yet; run "
                             f"`python -m benchmarks.run {args.table}` first")
            return render_results(args.table, records, Path(args.out or results / "tables"))
        from benchmarks.plan import run_table

        return run_table(args.table, args)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
