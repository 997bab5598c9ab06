"""Tables as pandas pivots of tidy records: aggregation, averages, rendering (rich, CSV, Markdown, LaTeX), comparison.

Input records have at least ``method, dataset, metric, value`` (one row per sample, or already one per dataset).
:func:`cell_values` reduces them to one value per (method, column group, metric) following a
:class:`~benchmarks.tables.TableSpec`: per-dataset means first, then the mean over a group's member datasets
(Table 1), then the Average column by the spec's rule (each metric over the groups that have it).
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from benchmarks.metrics.specs import SPECS as METRIC_SPECS
from benchmarks.metrics.specs import lower_better
from benchmarks.tables import AVERAGE, TableSpec
from ypt.errors import MissingResource
from ypt.files import atomic_write_text

if TYPE_CHECKING:  # pandas is imported lazily: the CLI's help and list paths never need it
    import pandas as pd

PAPER_DIR = Path(__file__).resolve().parent.parent / "results" / "paper"
MISSING = "–"


class MissingPaperTable(MissingResource):
    """The paper's transcribed numbers for a table are not in ``results/paper/`` (a damaged checkout)."""


def load_paper(key: str, paper_dir: Path | None = None) -> "pd.DataFrame":
    """The paper's numbers for ``key`` as tidy records (``table,method,dataset,metric,value``)."""
    import pandas as pd

    path = Path(paper_dir or PAPER_DIR) / f"{key}.csv"
    if not path.is_file():
        from benchmarks.tables import TABLES

        raise MissingPaperTable(f"no paper numbers for {key}: {path} is missing (reinstall or restore results/paper/). "
                                f"Valid tables: {', '.join(TABLES.keys())}")
    return pd.read_csv(path)


def dataset_means(records: "pd.DataFrame") -> "pd.DataFrame":
    """One value per (method, dataset, metric): the mean over samples."""
    return records.groupby(["method", "dataset", "metric"], as_index=False, sort=False)["value"].mean()


def cell_values(records: "pd.DataFrame", spec: TableSpec, compute_average: bool = True) -> "pd.DataFrame":
    """Tidy ``method, dataset, metric, value`` with ``dataset`` the spec's column group keys (and ``average``).

    Records whose ``dataset`` already names a group (e.g. the paper's transcribed tables) pass through. A mean
    group (Table 1's WD columns) is only filled when every member dataset has the metric: a partial mean would
    not be the paper's quantity.
    """
    import pandas as pd

    means = dataset_means(records)
    out = []
    for row in spec.rows:
        mine = means[means["method"] == row.key]
        for group in spec.groups_of(row.key):
            for metric in group.metrics:
                direct = mine[(mine["dataset"] == group.key) & (mine["metric"] == metric)]
                if len(direct):
                    out.append((row.key, group.key, metric, float(direct["value"].iloc[0])))
                    continue
                if not group.members:
                    continue
                parts = mine[(mine["dataset"].isin(group.members)) & (mine["metric"] == metric)]
                if set(parts["dataset"]) == set(group.members):
                    out.append((row.key, group.key, metric, float(parts["value"].mean())))
        if spec.average:
            given = mine[mine["dataset"] == AVERAGE]
            for metric in spec.average_metrics(row.key):
                printed = given[given["metric"] == metric]
                if len(printed) and not compute_average:
                    out.append((row.key, AVERAGE, metric, float(printed["value"].iloc[0])))
    cells = pd.DataFrame(out, columns=["method", "dataset", "metric", "value"])
    if spec.average and compute_average:
        cells = pd.concat([cells, average_column(cells, spec)], ignore_index=True)
    return cells


def average_column(cells: "pd.DataFrame", spec: TableSpec) -> "pd.DataFrame":
    """Average of each metric over the groups that have it; missing when any of those groups is missing."""
    import pandas as pd

    out = []
    for row in spec.rows:
        groups = spec.groups_of(row.key)
        mine = cells[(cells["method"] == row.key) & (cells["dataset"] != AVERAGE)]
        for metric in spec.average_metrics(row.key):
            needed = [g.key for g in groups if metric in g.metrics]
            values = mine[(mine["metric"] == metric) & (mine["dataset"].isin(needed))]
            if len(values) == len(needed):
                out.append((row.key, AVERAGE, metric, float(values["value"].mean())))
    return pd.DataFrame(out, columns=["method", "dataset", "metric", "value"])


def pivot(cells: "pd.DataFrame", spec: TableSpec) -> "pd.DataFrame":
    """Wide table: rows in the spec's order, columns ``(group, metric)`` in print order; NaN where missing."""
    import pandas as pd

    wide = cells.pivot_table(index="method", columns=["dataset", "metric"], values="value", aggfunc="first")
    columns = pd.MultiIndex.from_tuples(spec.columns(), names=["dataset", "metric"])
    return wide.reindex(index=list(spec.methods), columns=columns)


def build_table(records: "pd.DataFrame", spec: TableSpec, compute_average: bool = True,
                expected: dict[str, int] | None = None) -> "pd.DataFrame":
    """Records -> the wide table of ``spec``. With ``expected`` (dataset -> its number of samples), the cells computed
    over fewer samples are listed in ``table.attrs["partial"]`` (cell -> (n, N)) and print as ``value (n/N)``."""
    table = pivot(cell_values(records, spec, compute_average), spec)
    table.attrs["partial"] = coverage(records, spec, expected) if expected else {}
    return table


def coverage(records: "pd.DataFrame", spec: TableSpec, expected: dict[str, int]) -> dict:
    """``{(method, (group, metric)): (n, N)}`` for every cell whose samples are fewer than its set's ``N``: a dataset
    column counts its scored samples; a mean column and the Average add up those of the columns they average."""
    counts = records.groupby(["method", "dataset", "metric"])["sample"].nunique().to_dict()
    partial: dict = {}
    for row in spec.rows:
        per_group: dict[tuple[str, str], tuple[int, int]] = {}
        for group in spec.groups_of(row.key):
            for metric in group.metrics:
                members = [d for d in group.datasets if d in expected]
                n = sum(counts.get((row.key, d, metric), 0) for d in members)
                total = sum(expected[d] for d in members)
                per_group[(group.key, metric)] = (n, total)
                if 0 < n < total:
                    partial[(row.key, (group.key, metric))] = (n, total)
        if spec.average:
            for metric in spec.average_metrics(row.key):
                parts = [per_group[(g.key, metric)] for g in spec.groups_of(row.key) if (g.key, metric) in per_group]
                n, total = sum(p[0] for p in parts), sum(p[1] for p in parts)
                if any(0 < p[0] < p[1] for p in parts):
                    partial[(row.key, (AVERAGE, metric))] = (n, total)
    return partial


def ranks(table: "pd.DataFrame") -> dict[tuple[str, tuple[str, str]], int]:
    """``{(method, column): 1 or 2}`` for the best and second-best value of each column, direction-aware."""
    marks: dict[tuple[str, tuple[str, str]], int] = {}
    for column in table.columns:
        values = table[column].dropna()
        if values.empty:
            continue
        order = sorted(set(values.round(6)), reverse=not lower_better(column[1]))
        for method, value in values.items():
            position = order.index(round(value, 6))
            if position < 2 and len(values) > 1:
                marks[(method, column)] = position + 1
    return marks


def format_value(metric: str, value: float, partial: tuple[int, int] | None = None) -> str:
    """The printed number (``–`` when missing); a cell over fewer samples than its set says so: ``17.41 (74/75)``."""
    if value != value:  # NaN
        return MISSING
    text = f"{value:.2f}" if metric in ("psnr", "musiq") else f"{value:.3f}"
    return f"{text} ({partial[0]}/{partial[1]})" if partial else text


def _label(spec: TableSpec, method: str) -> str:
    return spec.row(method).printed if method in spec.methods else method


def _column_groups(table: "pd.DataFrame") -> list[list[tuple[str, str]]]:
    """The table's columns as runs of one group each, in order."""
    groups: list[list[tuple[str, str]]] = []
    for column in table.columns:
        if groups and groups[-1][0][0] == column[0]:
            groups[-1].append(column)
        else:
            groups.append([column])
    return groups


def _split(groups: list[list[tuple[str, str]]], max_columns: int) -> list[list[tuple[str, str]]]:
    """Whole groups packed into panels of at most ``max_columns`` columns (a larger group gets a panel alone)."""
    out: list[list[tuple[str, str]]] = [[]]
    for group in groups:
        if out[-1] and len(out[-1]) + len(group) > max_columns:
            out.append([])
        out[-1].extend(group)
    return out


def panels(table: "pd.DataFrame", width: int) -> list[list[tuple[str, str]]]:
    """Split the columns into panels of whole groups that fit ``width`` characters (as the paper splits Table 2)."""
    return _split(_column_groups(table), max(width - 20, 40) // 9)


def render(table: "pd.DataFrame", spec: TableSpec, console=None, title: str | None = None) -> None:
    """Print the table with rich: grouped headers, best bold, second underlined, missing as ``–``; wide tables are
    split into panels of whole column groups that fit the terminal."""
    from rich.console import Console
    from rich.table import Table

    console = console or Console()
    cells = _marked_cells(table, "[bold]{}[/bold]", "[underline]{}[/underline]")
    chunks = panels(table, console.width)
    for index, columns in enumerate(chunks):
        heading = title or spec.title
        if len(chunks) > 1:
            heading += f" ({index + 1}/{len(chunks)})"
        out = Table(title=heading, header_style="bold", title_style="bold")
        out.add_column("Method", no_wrap=True)
        previous = None
        for group, metric in columns:
            header = f"{spec.group_label(group)}\n{METRIC_SPECS[metric].arrow_label}" if group != previous else \
                f"\n{METRIC_SPECS[metric].arrow_label}"
            out.add_column(header, justify="right", no_wrap=True, overflow="ellipsis")
            previous = group
        for method in table.index:
            out.add_row(_label(spec, method), *(cells.loc[method, column] for column in columns))
        console.print(out)
    if spec.note:
        console.print(f"[dim]{spec.note}[/dim]")
    if table.attrs.get("partial"):
        console.print(f"[yellow]{len(table.attrs['partial'])} cell(s) over fewer samples than their set "
                      "(n/N): left out of the comparison with the paper unless --partial-cells[/yellow]")


def _marked_cells(table: "pd.DataFrame", bold: str, second: str, missing: str = MISSING) -> "pd.DataFrame":
    """The formatted values, best wrapped in ``bold`` and second in ``second`` (``str.format`` patterns)."""
    marks = ranks(table)
    partial = table.attrs.get("partial", {})
    out = table.astype(object).copy()
    for method, values in table.iterrows():
        for column, value in values.items():
            text = format_value(column[1], value, partial.get((method, column))).replace(MISSING, missing)
            out.loc[method, column] = {1: bold, 2: second}.get(marks.get((method, column)), "{}").format(text)
    return out


def to_markdown(table: "pd.DataFrame", spec: TableSpec, title: str | None = None) -> str:
    """A GitHub pipe table through pandas' ``to_markdown`` (tabulate): best bold, second underlined."""
    import pandas as pd

    cells = _marked_cells(table, "**{}**", "<u>{}</u>")
    frame = pd.DataFrame(cells.to_numpy(), columns=[f"{spec.group_label(g)} {METRIC_SPECS[m].arrow_label}"
                                                    for g, m in table.columns])
    frame.insert(0, "Method", [_label(spec, m) for m in table.index])
    frame = frame.map(lambda text: str(text).replace("|", r"\|"))
    frame.columns = [c.replace("|", r"\|") for c in frame.columns]
    body = frame.to_markdown(index=False, disable_numparse=True,
                             colalign=("left",) + ("right",) * len(table.columns))
    return f"**{title or spec.title}**\n\n{body}\n"


#: LaTeX specials and their escapes (pandas' Styler escapes the same set in labels)
_TEX_SPECIALS = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
                 "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}
#: data columns per LaTeX panel: wider tables are split into panels of whole column groups, stacked
LATEX_PANEL_COLUMNS = 14


def _tex_escape(text: str) -> str:
    return "".join(_TEX_SPECIALS.get(c, c) for c in text)


def _latex_panel(cells: "pd.DataFrame", columns: list[tuple[str, str]], spec: TableSpec) -> str:
    """One booktabs tabular through pandas' Styler: group labels as ``\\multicolumn`` headers, metric labels
    with their arrows, every label escaped; the cells are already formatted (numbers and marks)."""
    import pandas as pd

    frame = cells[columns].copy()
    frame.columns = pd.MultiIndex.from_tuples([(spec.group_label(g), m) for g, m in columns])
    frame.insert(0, ("", "Method"), [_label(spec, m) for m in frame.index])
    styler = frame.style.hide(axis="index")
    styler = styler.format(escape="latex", subset=[("", "Method")])
    styler = styler.format_index(escape="latex", axis=1, level=0)
    styler = styler.format_index(lambda key: METRIC_SPECS[key].latex_label if key in METRIC_SPECS else key,
                                 axis=1, level=1)
    return styler.to_latex(hrules=True, multicol_align="c", column_format="l" + "r" * len(columns)).strip()


def to_latex(table: "pd.DataFrame", spec: TableSpec, title: str | None = None,
             max_columns: int = LATEX_PANEL_COLUMNS) -> str:
    """booktabs LaTeX through pandas' Styler: best bold, second underlined, every label and the caption escaped.
    A table wider than ``max_columns`` data columns is split into panels of whole column groups, stacked in one
    ``table*`` (as the paper prints Table 2) instead of being squeezed into the line width."""
    cells = _marked_cells(table, "\\textbf{{{}}}", "\\underline{{{}}}", missing="--")
    chunks = _split(_column_groups(table), max_columns)
    environment = "table*" if len(chunks) > 1 else "table"
    lines = [f"\\begin{{{environment}}}[t]", r"\centering", f"\\caption{{{_tex_escape(title or spec.title)}}}"]
    if len(chunks) > 1:
        lines.append(r"\small")
    for index, columns in enumerate(chunks):
        if index:
            lines.append(r"\par\medskip")
        lines.append(_latex_panel(cells, columns, spec))
    lines.append(f"\\end{{{environment}}}")
    return "\n".join(lines) + "\n"


def to_csv(table: "pd.DataFrame") -> str:
    flat = table.copy()
    flat.columns = [f"{g}/{m}" for g, m in flat.columns]
    flat.index.name = "method"
    return flat.to_csv(float_format="%.6g")


def save_table(table: "pd.DataFrame", spec: TableSpec, out_dir: str | Path, stem: str | None = None,
               title: str | None = None) -> dict[str, Path]:
    """Write ``<stem>.csv``, ``.md`` and ``.tex`` atomically; returns their paths by format."""
    out_dir = Path(out_dir)
    stem = stem or spec.key
    written = {
        "csv": atomic_write_text(out_dir / f"{stem}.csv", to_csv(table)),
        "md": atomic_write_text(out_dir / f"{stem}.md", to_markdown(table, spec, title)),
        "tex": atomic_write_text(out_dir / f"{stem}.tex", to_latex(table, spec, title)),
    }
    return written


def compare(reproduced: "pd.DataFrame", paper: "pd.DataFrame", spec: TableSpec, partial: dict | None = None,
            include_partial: bool = False) -> "pd.DataFrame":
    """Reproduced cells beside the paper's: ``method, dataset, metric, ours, paper, delta, status``.

    ``status`` is ``ok``, ``missing`` (the paper has it, we do not), ``extra`` (we have it, the paper does not) or
    ``partial`` (ours is over fewer samples than the set, :func:`coverage`; compared only with
    ``include_partial``). ``reproduced`` is records or cells; both are reduced with :func:`cell_values`.
    """
    import pandas as pd

    ours = cell_values(reproduced, spec).rename(columns={"value": "ours"})
    theirs = cell_values(paper, spec, compute_average=False).rename(columns={"value": "paper"})
    merged = pd.merge(theirs, ours, on=["method", "dataset", "metric"], how="outer")
    merged["delta"] = merged["ours"] - merged["paper"]
    merged["status"] = "ok"
    merged.loc[merged["ours"].isna(), "status"] = "missing"
    merged.loc[merged["paper"].isna(), "status"] = "extra"
    if partial and not include_partial:
        cut = [(m, (d, k)) in partial for m, d, k in zip(merged["method"], merged["dataset"], merged["metric"])]
        merged.loc[cut, "status"] = "partial"
    order = {c: i for i, c in enumerate(spec.columns())}
    rows = {m: i for i, m in enumerate(spec.methods)}
    merged["_o"] = [(rows.get(m, 99), order.get((d, k), 999)) for m, d, k in
                    zip(merged["method"], merged["dataset"], merged["metric"])]
    return merged.sort_values("_o").drop(columns="_o").reset_index(drop=True)[
        ["method", "dataset", "metric", "ours", "paper", "delta", "status"]]


def render_comparison(comparison: "pd.DataFrame", spec: TableSpec, console=None, max_rows: int = 60) -> None:
    """Print ours / paper / delta per cell (rich) and a one-line count of missing cells."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = console or Console()
    found = comparison[comparison["status"] == "ok"]
    missing = comparison[comparison["status"] == "missing"]
    partial = comparison[comparison["status"] == "partial"]
    out = Table(title=f"{spec.key}: reproduced vs. paper", header_style="bold")
    for name in ("Method", "Column", "Metric", "Ours", "Paper", "Δ"):
        out.add_column(name, justify="left" if name in ("Method", "Column", "Metric") else "right")
    for row in found.head(max_rows).itertuples():
        out.add_row(_label(spec, row.method), spec.group_label(row.dataset),
                    row.metric, format_value(row.metric, row.ours), format_value(row.metric, row.paper),
                    f"{row.delta:+.3f}")
    if len(found):
        console.print(out)
    if len(found) > max_rows:
        console.print(f"[dim]... {len(found) - max_rows} more cells in the saved comparison CSV[/dim]")
    console.print(f"{len(found)} of {len(found) + len(missing) + len(partial)} paper cells reproduced; "
                  f"{len(missing)} missing" + (f"; {len(partial)} over fewer samples than their set, left out "
                                                "(--partial-cells compares them)" if len(partial) else ""))
    for line in missing_cells(comparison, spec):
        console.print(f"  [yellow]missing[/yellow] {escape(line)}")


def missing_cells(comparison: "pd.DataFrame", spec: TableSpec) -> list[str]:
    """One line per method with missing cells: ``Label: Column metric, ...`` (metrics of a column grouped)."""
    lines = []
    missing = comparison[comparison["status"] == "missing"]
    for method, part in missing.groupby("method", sort=False):
        columns: dict[str, list[str]] = {}
        for dataset, metric in zip(part["dataset"], part["metric"]):
            columns.setdefault(dataset, []).append(metric)
        text = "; ".join(f"{spec.group_label(d)} {' '.join(ms)}" for d, ms in columns.items())
        lines.append(f"{_label(spec, method)}: {text}")
    return lines
