"""The table engine on hand-made records: sample means, mean groups, the Average rule, best/second marks, files."""
import re

import pandas as pd
import pytest

from benchmarks import table_engine as engine
from benchmarks.tables import AVERAGE, WD_IMAGE_SETS, get

WD_IMAGE = list(WD_IMAGE_SETS)


def _records(rows):
    return pd.DataFrame(rows, columns=["method", "dataset", "sample", "metric", "value"])


def test_sample_means_and_average_over_groups_that_have_the_metric():
    spec = get("table2")
    rows = []
    for i, ds in enumerate(["hazerd", "lhp", "weatherbench_snow", "4krd", "sice", "toled", "poled", "cdd_haze_snow"]):
        rows += [("dcpt", ds, "a", "psnr", 10.0 + i), ("dcpt", ds, "b", "psnr", 12.0 + i)]
        rows += [("dcpt", ds, "a", "musiq", 50.0)]
    rows += [("dcpt", "lolblur", "a", "musiq", 59.0), ("dcpt", "lolblur", "a", "psnr", 99.0)]  # psnr not in lolblur
    cells = engine.cell_values(_records(rows), spec).set_index(["method", "dataset", "metric"]).value
    assert cells[("dcpt", "hazerd", "psnr")] == 11.0  # mean of 10 and 12
    assert cells[("dcpt", AVERAGE, "psnr")] == pytest.approx(sum(11.0 + i for i in range(8)) / 8)
    assert cells[("dcpt", AVERAGE, "musiq")] == pytest.approx((50.0 * 8 + 59.0) / 9)
    assert ("dcpt", "lolblur", "psnr") not in cells.index
    # ssim is nowhere: no average either (a partial average would not be the paper's quantity)
    assert ("dcpt", AVERAGE, "ssim") not in cells.index


def test_mean_groups_need_every_member():
    spec = get("table1")
    members = spec.group("wd_image").members
    rows = [("ypt_flux", ds, "s", "psnr", 20.0 + i) for i, ds in enumerate(members)]
    rows += [("ypt_flux", ds, "s", "ssim", 0.5) for ds in members[:-1]]
    cells = engine.cell_values(_records(rows), spec).set_index(["method", "dataset", "metric"]).value
    assert cells[("ypt_flux", "wd_image", "psnr")] == pytest.approx(20.0 + (len(members) - 1) / 2)
    assert ("ypt_flux", "wd_image", "ssim") not in cells.index


def test_best_and_second_are_direction_aware():
    spec = get("table4")
    rows = [("naive", "ablation", "x", "lpips", 0.3), ("ddbm", "ablation", "x", "lpips", 0.2),
            ("ebr", "ablation", "x", "lpips", 0.1), ("naive", "ablation", "x", "psnr", 25.0),
            ("ddbm", "ablation", "x", "psnr", 21.0), ("ebr", "ablation", "x", "psnr", 22.0)]
    table = engine.build_table(_records(rows), spec)
    marks = engine.ranks(table)
    assert marks[("ebr", ("ablation", "lpips"))] == 1 and marks[("ddbm", ("ablation", "lpips"))] == 2
    assert marks[("naive", ("ablation", "psnr"))] == 1 and marks[("ebr", ("ablation", "psnr"))] == 2
    assert ("naive", ("ablation", "lpips")) not in marks


def test_render_and_save_write_three_formats(tmp_path):
    from rich.console import Console

    from benchmarks.runner.render import labelled

    spec = labelled(get("table2"))  # method rows print their method's display name
    table = engine.build_table(engine.load_paper("table2"), spec, compute_average=False)
    console = Console(record=True, width=120)
    engine.render(table, spec, console)
    text = console.export_text()
    assert "HazeRD (H)" in text and "FLUX (Ours)" in text and "16.70" in text
    written = engine.save_table(table, spec, tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["table2.csv", "table2.md", "table2.tex"]
    tex = written["tex"].read_text()
    assert r"\toprule" in tex and r"\multicolumn{6}{c}{HazeRD (H)}" in tex
    assert r"\textbf{16.70}" in tex  # FLUX (Ours) has the best HazeRD PSNR
    assert r"\underline{16.59}" in tex  # AutoDIR second
    md = written["md"].read_text()
    assert re.search(r"^\| FLUX \(Ours\) +\| +\*\*16\.70\*\* \|", md, re.M)
    assert re.search(r"^\| AutoDIR +\| +<u>16\.59</u> \|", md, re.M)
    assert len(md.splitlines()) == 2 + 2 + 6  # title, blank, header, rule, a line per method
    csv = pd.read_csv(written["csv"], index_col="method")
    assert csv.loc["pixwizard", "lolblur/clipiqa"] == 0.536 and csv.shape == (6, 6 * 8 + 2 + 6)


def test_compare_gives_deltas_and_missing_cells():
    spec = get("table4")
    paper = engine.load_paper("table4")
    ours = _records([("ebr", "ablation", "s1", "psnr", 23.0), ("ebr", "ablation", "s2", "psnr", 22.0)])
    comparison = engine.compare(ours, paper, spec)
    hit = comparison[(comparison.method == "ebr") & (comparison.metric == "psnr")].iloc[0]
    assert hit.ours == 22.5 and hit.paper == 22.49 and hit.delta == pytest.approx(0.01)
    assert hit.status == "ok"
    assert (comparison.status == "missing").sum() == 17


def test_comparison_view_lists_missing_cells_and_render_shows_dashes():
    from rich.console import Console

    spec = get("table4")
    ours = _records([("ebr", "ablation", "s1", "psnr", 22.5), ("ddbm", "ablation", "s1", "ssim", 0.70)])
    comparison = engine.compare(ours, engine.load_paper("table4"), spec)
    lines = engine.missing_cells(comparison, spec)
    assert lines[0] == "Naive: Ablation (mean) psnr ssim lpips dists clipiqa musiq"
    assert lines[1] == "DDBM bridge: Ablation (mean) psnr lpips dists clipiqa musiq"
    assert len(lines) == 3
    console = Console(record=True, width=120)
    engine.render_comparison(comparison, spec, console)
    text = console.export_text()
    assert "2 of 18 paper cells reproduced; 16 missing" in text
    assert "+0.010" in text and "-0.012" in text  # ebr psnr 22.50 vs 22.49; ddbm ssim 0.700 vs 0.712
    table = engine.build_table(ours, spec)
    console = Console(record=True, width=120)
    engine.render(table, spec, console)
    assert engine.MISSING in console.export_text()


def test_latex_wide_tables_are_panels_of_whole_groups_and_labels_are_escaped():
    from benchmarks.runner.render import labelled
    from benchmarks.tables import TableSpec

    spec = labelled(get("table2"))
    table = engine.build_table(engine.load_paper("table2"), spec, compute_average=False)
    tex = engine.to_latex(table, spec, max_columns=14)
    tabulars = re.findall(r"\\begin\{tabular\}\{l(r+)\}", tex)
    # 56 columns, whole groups greedily up to 14: HazeRD+LHP, WeatherBench+4KRD, SICE+TOLED (6 each),
    # POLED+CDD (6 each)+LOLBlur (2), Average (6)
    assert [len(r) for r in tabulars] == [12, 12, 12, 14, 6]
    assert tex.startswith("\\begin{table*}[t]") and tex.count("\\bottomrule") == 5 and "resizebox" not in tex
    headers = re.findall(r"\\multicolumn\{(\d+)\}\{c\}\{([^}]*)\}", tex)
    assert [label for _, label in headers] == [spec.group_label(g.key) for g in spec.groups] + ["Average"]
    assert r"\underline{16.59}" in tex and r"\textbf{16.70}" in tex
    narrow = engine.to_latex(table[table.columns[:6]], spec)
    assert narrow.startswith("\\begin{table}[t]") and narrow.count("\\begin{tabular}") == 1

    odd = TableSpec(key="odd", title="50% of R&D_x {#1} ~ ^ \\", groups=spec.groups[:1], rows=spec.rows[:1])
    labels = table.iloc[:1, :2].rename(index={table.index[0]: "A&B_c%"})
    tex = engine.to_latex(labels, odd)
    assert r"\caption{50\% of R\&D\_x \{\#1\} \textasciitilde{} \textasciicircum{} \textbackslash{}}" in tex
    assert "\nA\\&B\\_c\\% & " in tex


def test_partial_cells_print_n_of_n_and_stay_out_of_the_paper_comparison():
    spec = get("table4")
    paper = engine.load_paper("table4")
    rows = [("ebr", d, f"s{i}", "psnr", 22.0) for d in WD_IMAGE for i in range(3)]
    rows = [r for r in rows if not (r[1] == WD_IMAGE[0] and r[2] == "s2")]  # one sample of one set failed
    ours = _records(rows)
    expected = {d: 3 for d in WD_IMAGE}
    table = engine.build_table(ours, spec, expected=expected)
    n = 3 * len(WD_IMAGE)
    assert table.attrs["partial"] == {("ebr", ("ablation", "psnr")): (n - 1, n)}
    assert f"22.00 ({n - 1}/{n})" in engine.to_markdown(table, spec)
    compared = engine.compare(ours, paper, spec, partial=table.attrs["partial"])
    assert compared.set_index(["method", "metric"]).loc[("ebr", "psnr"), "status"] == "partial"
    included = engine.compare(ours, paper, spec, partial=table.attrs["partial"], include_partial=True)
    assert included.set_index(["method", "metric"]).loc[("ebr", "psnr"), "status"] == "ok"
