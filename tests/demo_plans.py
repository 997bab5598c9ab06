"""A small demo table planned through the ordinary planner (the demo is data: its dataset family, its methods, its
table spec); tests narrow it to a few methods, sets, metrics and samples, and build its data at a small size."""
from __future__ import annotations

import dataclasses
from pathlib import Path

from benchmarks.datasets import synthetic
from benchmarks.runner.planning import plan_table
from benchmarks.runner.units import ResultsLayout
from benchmarks.tables import DEMO


def demo_spec(methods=None, sets=None, metrics=None):
    """The demo table spec narrowed to ``methods`` rows, ``sets`` groups and ``metrics`` per group."""
    groups = tuple(dataclasses.replace(g, metrics=tuple(metrics or g.metrics)) for g in DEMO.groups
                   if sets is None or g.key in sets)
    rows = tuple(r for r in DEMO.rows if methods is None or r.key in methods)
    return dataclasses.replace(DEMO, rows=rows, groups=groups)


def demo_plan(methods, sets, metrics, limit, data_root, results, size=64):
    """Build the demo data at ``size`` under ``data_root`` and plan ``methods`` x ``sets`` into ``results``."""
    synthetic.build_demo(data_root, size=size, sets=tuple(sets))
    return plan_table(demo_spec(methods, sets, metrics), limit=limit, data_root=str(Path(data_root).resolve()),
                      layout=ResultsLayout(str(results)))
