"""Tables from records: each method row labelled with its method's display name, rendered (rich), saved (CSV,
Markdown, LaTeX), compared with the paper's numbers, and, in tables with the degraded input as a row, every other
row compared with the input."""
from __future__ import annotations

import dataclasses
from pathlib import Path

from benchmarks.tables import TableSpec

#: the row every other row of a demo table is compared with (the degraded input: the floor of every table)
INPUT_ROW = "input"


def labelled(spec: TableSpec) -> TableSpec:
    """``spec`` with every unlabelled row printed as its method's ``display_name`` (the one place method labels
    live is the method's spec, :mod:`baselines`)."""
    import baselines

    rows = tuple(r if r.label or r.key not in baselines.METHODS else
                 dataclasses.replace(r, label=baselines.get(r.key).spec.display_name) for r in spec.rows)
    return dataclasses.replace(spec, rows=rows)


def render_paper(spec: TableSpec, out_dir: Path) -> dict[str, Path]:
    """Print and save the paper's printed numbers for ``spec``."""
    from rich.console import Console

    from benchmarks import table_engine as engine

    spec = labelled(spec)
    table = engine.build_table(engine.load_paper(spec.key), spec, compute_average=False)
    console = Console()
    title = f"{spec.title} — as printed in the paper"
    engine.render(table, spec, console, title=title)
    written = engine.save_table(table, spec, out_dir, stem=spec.file_stem, title=title)
    console.print("saved " + ", ".join(str(p) for p in written.values()))
    return written


def versus_input(records):
    """Per (method, dataset, metric): the method's mean, the degraded input's mean, the delta, and whether the
    method improved on the input (direction-aware)."""
    from benchmarks.metrics.specs import lower_better
    from benchmarks.table_engine import dataset_means

    means = dataset_means(records)
    base = means[means["method"] == INPUT_ROW].set_index(["dataset", "metric"])["value"]
    rows = means[means["method"] != INPUT_ROW].copy()
    rows["input"] = [base.get((d, m)) for d, m in zip(rows["dataset"], rows["metric"])]
    rows["delta"] = rows["value"] - rows["input"]
    rows["improves"] = [(d < 0) if lower_better(m) else (d > 0) for d, m in zip(rows["delta"], rows["metric"])]
    return rows.reset_index(drop=True)


def print_versus_input(comparison, spec: TableSpec, console) -> None:
    from rich.table import Table

    table = Table(title=f"{spec.title.split(' (')[0]}: each method against the degraded input")
    for col in ("method", "dataset", "metric", "method value", "input value", "delta"):
        table.add_column(col, justify="right" if "value" in col or col == "delta" else "left")
    for _, r in comparison.iterrows():
        colour = "green" if r["improves"] else "red"
        table.add_row(spec.row(r["method"]).printed, r["dataset"], r["metric"], f"{r['value']:.4g}",
                      f"{r['input']:.4g}", f"[{colour}]{r['delta']:+.4g}[/{colour}]")
    console.print(table)


def render_results(spec: TableSpec, records, out_dir: Path, title_suffix: str = "reproduced",
                   console=None, expected: dict[str, int] | None = None,
                   include_partial: bool = False) -> dict[str, Path]:
    """Render ``records`` (tidy) as table ``spec``, save it, compare it with the paper (when the paper has the
    table) and with the degraded input (when the table has it as a row). ``expected``: dataset -> its number of
    samples; a cell over fewer prints ``n/N`` and is left out of the paper comparison unless ``include_partial``."""
    from benchmarks import table_engine as engine
    from benchmarks.runner.report import wide_console
    from ypt.files import atomic_write_text

    spec = labelled(spec)
    console = console or wide_console()
    title = spec.title if spec.is_demo else f"{spec.title} — {title_suffix}"
    table = engine.build_table(records, spec, expected=expected)
    engine.render(table, spec, console, title=title)
    written = engine.save_table(table, spec, out_dir, stem=spec.file_stem, title=title)
    if not spec.is_demo:
        try:
            paper = engine.load_paper(spec.key)
        except engine.MissingPaperTable:
            paper = None
        if paper is not None:
            comparison = engine.compare(records, paper, spec, partial=table.attrs["partial"],
                                        include_partial=include_partial)
            engine.render_comparison(comparison, spec, console)
            written["comparison"] = atomic_write_text(out_dir / f"{spec.key}_vs_paper.csv",
                                                      comparison.to_csv(index=False, float_format="%.6g"))
    if INPUT_ROW in spec.methods and len(spec.methods) > 1 and (records["method"] == INPUT_ROW).any():
        comparison = versus_input(records)
        print_versus_input(comparison, spec, console)
        written["versus_input"] = atomic_write_text(out_dir / f"{spec.key}_vs_input.csv",
                                                    comparison.to_csv(index=False, float_format="%.6g"))
    console.print("saved " + ", ".join(str(p) for p in written.values()))
    return written
