"""``python -m benchmarks.perf``: measure prompt training, its full-size memory, sampling and evaluation in one run
(options: :mod:`benchmarks.perf.options`); with ``--executor slurm`` the same run as one GPU job."""
from __future__ import annotations

import sys

from ypt.cli import entry_point


@entry_point
def main(argv=None) -> int:
    from benchmarks.perf.options import job_args, parse_args

    args = parse_args(argv)
    if args.executor != "local" or args.dry_run:
        from benchmarks.perf.unit import perf_unit
        from benchmarks.runner.execute import run_plan
        from benchmarks.runner.planning import Plan

        plan = Plan(name="perf", units=[perf_unit(job_args(args), args.out)], title="benchmarks.perf")
        return run_plan(plan, executor=args.executor, cluster=args.cluster, dry_run=args.dry_run)
    from benchmarks.perf import measure

    return measure.main(argv)


if __name__ == "__main__":
    sys.exit(main())
