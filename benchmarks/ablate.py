"""Ablations. ``python -m benchmarks.ablate t0``: choose the bridge's start noise level T0 (paper Sec. 4.4, Fig. 7).

For each backbone and each candidate T0 (default 0.1 ... 0.6) a low-light prompt is trained with that T0 and
evaluated on the backbone's low-light set with the six image metrics. Each metric is min-max normalised across
the T0 candidates of one backbone (lpips and dists flipped so that higher is better); a metric equal for every
candidate carries no information and scores 0.5 for all of them. The T0 score is the equal-weight mean of the
normalised metrics, and the chosen T0 is the best score (ties: the smaller T0). Writes ``t0_scores.csv`` and
``t0_scores.png``/``.pdf`` (one line per backbone, the best T0 marked).

Records of the ablation runs carry the method label ``ypt_<backbone>@t0=<value>`` (:func:`variant_label`), so
``--from-results`` finds them in the result store (or in a records CSV given with ``--records``).
"""
from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import Sequence

from benchmarks.metrics.specs import lower_better
from benchmarks.tables import FIG7, FIG7_DEMO
from ypt.cli import entry_point
from ypt.errors import BadInput, MissingData, UsageError

#: the sweep as Fig. 7 declares it (benchmarks.tables.FIG7)
T0_CANDIDATES = FIG7.values
IMAGE_METRICS = FIG7.metrics
BACKBONES = FIG7.backbones
DEFAULT_OUT = Path("results/ablations/t0")

_LABEL = re.compile(r"^ypt_(?P<backbone>[a-z0-9]+)@t0=(?P<t0>[0-9.]+)$")


def variant_label(backbone: str, t0: float) -> str:
    return f"ypt_{backbone}@t0={t0:g}"


def parse_variant_label(label: str) -> tuple[str, float] | None:
    m = _LABEL.match(str(label))
    return (m["backbone"], float(m["t0"])) if m else None


def metric_means(records):
    """Tidy records (``method, metric, value`` per sample, ablation labels) -> ``backbone, t0, metric, value``
    means; a frame already in that shape is returned as is."""
    import pandas as pd

    frame = pd.DataFrame(records)
    if {"backbone", "t0", "metric", "value"} <= set(frame.columns):
        return frame.groupby(["backbone", "t0", "metric"], as_index=False)["value"].mean()
    parsed = frame["method"].map(parse_variant_label)
    frame = frame[parsed.notna()].copy()
    if frame.empty:
        raise BadInput("no T0 ablation records (method labels like 'ypt_flux@t0=0.4') in the given records")
    frame["backbone"] = [p[0] for p in parsed[parsed.notna()]]
    frame["t0"] = [p[1] for p in parsed[parsed.notna()]]
    return frame.groupby(["backbone", "t0", "metric"], as_index=False)["value"].mean()


def normalised_scores(means, metrics: Sequence[str] = IMAGE_METRICS):
    """``backbone, t0, metric, value`` -> one row per (backbone, t0): each metric normalised, ``score``, ``best``."""
    import pandas as pd

    missing = sorted(set(metrics) - set(means["metric"]))
    if missing:
        raise BadInput(f"records lack metric(s) {', '.join(missing)} needed for the T0 score")
    rows = []
    for backbone, group in means[means["metric"].isin(metrics)].groupby("backbone", sort=False):
        wide = group.pivot(index="t0", columns="metric", values="value").sort_index()
        incomplete = wide[wide.isna().any(axis=1)]
        if len(incomplete):
            raise BadInput(f"{backbone}: T0 {', '.join(map(str, incomplete.index))} lack some metric values")
        norm = pd.DataFrame(index=wide.index)
        for metric in metrics:
            col = wide[metric]
            span = col.max() - col.min()
            n = (col - col.min()) / span if span > 0 else col * 0 + 0.5
            norm[f"{metric}_norm"] = 1.0 - n if lower_better(metric) else n
        norm["score"] = norm[[f"{m}_norm" for m in metrics]].mean(axis=1)
        best_t0 = norm["score"].idxmax()  # first maximum = smallest T0 on ties (index sorted)
        norm["best"] = norm.index == best_t0
        norm.insert(0, "backbone", backbone)
        rows.append(norm.reset_index())
    return pd.concat(rows, ignore_index=True)


def chosen_t0(scores) -> dict[str, float]:
    return {b: float(g.loc[g["best"], "t0"].iloc[0]) for b, g in scores.groupby("backbone", sort=False)}


def plot_scores(scores, out_dir: Path) -> list[Path]:
    """One line per backbone (score vs T0), the best T0 marked; PNG and PDF."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4.5, 3.2), dpi=150)
    for backbone, g in scores.groupby("backbone", sort=False):
        g = g.sort_values("t0")
        (line,) = ax.plot(g["t0"], g["score"], marker="o", label=backbone.upper())
        best = g[g["best"]]
        ax.plot(best["t0"], best["score"], marker="*", markersize=14, color=line.get_color(), linestyle="none")
        ax.annotate(f"T0={best['t0'].iloc[0]:g}", (best["t0"].iloc[0], best["score"].iloc[0]),
                    textcoords="offset points", xytext=(6, 6), fontsize=8, color=line.get_color())
    ax.set_xlabel("start noise level T0")
    ax.set_ylabel("normalised score (higher is better)")
    ax.set_title("Selecting T0 (low-light)")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for ext in ("png", "pdf"):
        from ypt.files import atomic_path

        target = out_dir / f"t0_scores.{ext}"
        with atomic_path(target) as tmp:
            fig.savefig(tmp, format=ext)
        paths.append(target)
    plt.close(fig)
    return paths


def write_t0_report(records, out_dir: Path, metrics: Sequence[str] = IMAGE_METRICS):
    """Scores, CSV and plots from tidy records; returns (scores, {backbone: chosen T0}, written paths)."""
    from ypt.files import atomic_write_text

    scores = normalised_scores(metric_means(records), metrics)
    out_dir = Path(out_dir)
    csv = out_dir / "t0_scores.csv"
    out_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_text(csv, scores.to_csv(index=False, float_format="%.6g"))
    return scores, chosen_t0(scores), [csv, *plot_scores(scores, out_dir)]


def print_report(scores, chosen: dict[str, float], paths: Sequence[Path], note: str = "") -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="T0 ablation: normalised scores (higher is better)")
    table.add_column("backbone")
    table.add_column("T0", justify="right")
    norm_cols = [c for c in scores.columns if c.endswith("_norm")]
    for c in norm_cols:
        table.add_column(c.removesuffix("_norm"), justify="right")
    table.add_column("score", justify="right")
    for _, row in scores.iterrows():
        style = "bold green" if row["best"] else None
        table.add_row(row["backbone"], f"{row['t0']:g}", *(f"{row[c]:.3f}" for c in norm_cols),
                      f"{row['score']:.3f}", style=style)
    console = Console()
    console.print(table)
    for backbone, t0 in chosen.items():
        console.print(f"chosen T0 for {backbone}: [bold]{t0:g}[/bold]")
    if note:
        console.print(note, highlight=False)
    for p in paths:
        console.print(f"wrote {p}")


def _parse_floats(text: str) -> tuple[float, ...]:
    try:
        values = tuple(float(x) for x in text.split(",") if x.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}") from None
    if not values or any(not 0 < v < 1 for v in values):
        raise argparse.ArgumentTypeError(f"T0 candidates must lie in (0, 1), got {text!r}")
    return values


def build_parser() -> argparse.ArgumentParser:
    from benchmarks.runner.options import add_executor_arguments

    p = argparse.ArgumentParser(prog="python -m benchmarks.ablate", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="ablation", required=True)
    t0 = sub.add_parser("t0", help="choose the start noise level T0 (Fig. 7)")
    t0.add_argument("--t0", type=_parse_floats, default=T0_CANDIDATES, help="candidates, e.g. 0.1,0.2,0.3")
    t0.add_argument("--backbones", default=",".join(BACKBONES), help="comma list of flux,wan")
    t0.add_argument("--from-results", action="store_true",
                    help="do not train or evaluate: score the records already in the store (or --records)")
    t0.add_argument("--records", type=Path, help="a tidy records CSV to score instead of the result store")
    t0.add_argument("--results-dir", default="results", help="results root holding the result store (default results/)")
    t0.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output folder (default {DEFAULT_OUT})")
    t0.add_argument("--limit", type=int, help="first N samples of the low-light set (smoke runs)")
    t0.add_argument("--demo", action="store_true",
                    help="the sweep in miniature on a CPU: low-light prompts on the demo's miniature prior, scored on "
                         "its low-light set (results/demo/; minutes, not the paper's numbers)")
    add_executor_arguments(t0)
    return p


def plan_t0(backbones: Sequence[str], candidates: Sequence[float], limit: int | None = None,
            data_root: str = "", results_dir: str = "results", demo: bool = False):
    """Train one prompt per (backbone, T0) for Fig. 7's degradation on its training set, then restore and score the
    backbone's Fig. 7 evaluation set with it. ``demo``: the miniature sweep (:data:`benchmarks.tables.FIG7_DEMO`)
    under ``<results_dir>/demo``, on a CPU, without the metrics this machine cannot run."""
    from benchmarks.runner.planning import (
        Cell,
        demo_layout,
        demo_prompts_root,
        expected_counts,
        plan_cells,
        prepare_datasets,
    )
    from benchmarks.runner.training import training_units
    from benchmarks.runner.units import CPU_NEEDS, GPU_SCORE_NEEDS, ResultsLayout, metric_problems

    fig = FIG7_DEMO if demo else FIG7
    layout, data_root = demo_layout(results_dir, data_root) if demo else (ResultsLayout(str(results_dir)), data_root)
    dropped = metric_problems(fig.metrics) if demo else {}
    metrics = tuple(m for m in fig.metrics if m not in dropped)
    prompts_root = demo_prompts_root(layout) if demo else ""
    settings = (("prompts_root", prompts_root),) if demo else ()
    trains, cells = [], []
    for backbone in backbones:
        for t0 in candidates:
            (unit,) = training_units([backbone], [fig.degradation], data_root=data_root, t0=t0,
                                     prompts_root=prompts_root)
            trains.append(unit)
            cells.append(Cell(f"ypt_{backbone}", fig.eval_set[backbone], metrics, label=variant_label(backbone, t0),
                              settings=tuple(sorted((("t0", t0), *settings))), after=(unit.key,)))
    if demo:
        prepare_datasets(sorted({c.dataset for c in cells}), data_root)
    plan = plan_cells("ablation-t0", cells, layout=layout, data_root=data_root, limit=limit, title=fig.title,
                      extra_units=trains, expected=expected_counts({c.dataset for c in cells}),
                      score_needs=CPU_NEEDS if demo else GPU_SCORE_NEEDS)
    plan.dropped_metrics = dropped
    return plan


def _load_records(args, store_root: str):
    import pandas as pd

    if args.records:
        if not args.records.is_file():
            raise MissingData(f"records file {args.records} does not exist")
        return pd.read_csv(args.records)
    from benchmarks.runner.units import open_store

    return open_store(store_root).load()


@entry_point
def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from benchmarks.runner.options import split_list

    fig = FIG7_DEMO if args.demo else FIG7
    backbones = fig.backbones if args.demo else (split_list(args.backbones) or ())
    unknown = sorted(set(backbones) - set(fig.backbones))
    if unknown:
        raise UsageError(f"unknown backbone(s) {', '.join(unknown)}; choose from {', '.join(fig.backbones)}")
    from benchmarks.runner.execute import run_plan

    plan = plan_t0(backbones, args.t0, limit=args.limit, data_root=args.data_root, results_dir=args.results_dir,
                   demo=args.demo)
    out = args.out
    if args.demo:
        out = Path(plan.layout.root) / "ablations" / "t0" if out == DEFAULT_OUT else out
        print(f"{fig.title}: results under {plan.layout.root}/")
    for name, why in plan.dropped_metrics.items():
        print(f"{fig.key} without {name}: {why.split('. ')[0]}")
    if not args.from_results:
        code = run_plan(plan, executor=args.executor, cluster=args.cluster, dry_run=args.dry_run)
        if code or args.dry_run:
            return code
    records = _load_records(args, plan.layout.root)
    if args.records:  # an exported CSV: the variants by label, of the current protocol only
        from benchmarks.store import of_protocol

        records, _ = of_protocol(records)
        if "method" in getattr(records, "columns", ()):
            wanted = {variant_label(b, t) for b in backbones for t in args.t0}
            records = records[records["method"].isin(wanted)]
    else:  # the store: this plan's own runs only (older configs of the same label never mix in)
        records = plan.records(records)
    scores, chosen, paths = write_t0_report(records, out,
                                            metrics=tuple(m for m in fig.metrics if m not in plan.dropped_metrics))
    print_report(scores, chosen, paths, note=fig.note if args.demo else "")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
