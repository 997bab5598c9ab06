"""One measurement run in this process: parse the options, measure, print and write the document."""
from __future__ import annotations

import sys


def main(argv=None) -> int:
    from benchmarks.perf.options import parse_args
    from benchmarks.perf.run import run_benchmark

    doc, path = run_benchmark(parse_args(argv))
    if path is not None:
        print(f"wrote {path}" + ("" if doc["settings"]["quick"] else f" and {path.parent / 'latest.json'}"))
    errors = [r for r in doc["rows"] if r["status"] == "error"]
    for row in errors:
        print(f"error: {row['section']} {row.get('backbone', '')} {row['label']}: {row['reason']}", file=sys.stderr)
    return 1 if errors else 0
