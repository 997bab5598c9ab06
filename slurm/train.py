"""Prompt-training fan-out: ``python -m slurm.train --backbone flux|wan --degradations all``.

One work unit per (backbone, degradation) on the paper's training set for it (Sec. 4.2;
:mod:`benchmarks.runner.training`), run through the same executors as the tables (``--executor local`` or
``--executor slurm --cluster NAME``). A prompt already written where :func:`ypt.prompts.default_prompt_path` puts it
is done and skipped; an interrupted unit resumes from the trainer's checkpoint beside the prompt (preempted or
timed-out SLURM jobs requeue themselves). ``--dry-run`` prints the plan, what is missing, and its GPU-hours.
"""
from __future__ import annotations

import argparse
from typing import Sequence

from benchmarks.protocol import DEGRADATIONS, T0
from ypt.cli import entry_point
from ypt.errors import UsageError


def build_parser() -> argparse.ArgumentParser:
    from benchmarks.runner.options import add_executor_arguments

    p = argparse.ArgumentParser(prog="python -m slurm.train", description=__doc__.split("\n\n")[0])
    p.add_argument("--backbone", required=True, help="flux, wan, or flux,wan")
    p.add_argument("--degradations", default="all", help=f"'all' or a comma list of {', '.join(DEGRADATIONS)}")
    p.add_argument("--iterations", type=int, help="default: the paper's (FLUX 40000, WAN 20000)")
    p.add_argument("--gpus", type=int, default=1, help="GPUs per training job (default 1)")
    p.add_argument("--hours", type=float, help="time limit per job; a timed-out job requeues and resumes")
    p.add_argument("--variant", default="residual")
    p.add_argument("--bridge", default="ebr", choices=("naive", "ddbm", "ebr"))
    p.add_argument("--t0", type=float, default=T0)
    p.add_argument("--gradient-checkpointing", action="store_true",
                   help="recompute blocks in the backward (less memory, more FLOPs; see ypt.train --help)")
    p.add_argument("--compile", action="store_true", help="torch.compile each transformer block (ypt.train)")
    add_executor_arguments(p)
    return p


@entry_point
def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from benchmarks.runner.execute import run_plan
    from benchmarks.runner.options import split_list
    from benchmarks.runner.planning import Plan
    from benchmarks.runner.training import TRAIN_SETS, training_units

    backbones = list(split_list(args.backbone) or ())
    degradations = list(DEGRADATIONS) if args.degradations == "all" else list(split_list(args.degradations) or ())
    bad = sorted(set(backbones) - set(TRAIN_SETS)) + sorted(set(degradations) - set(DEGRADATIONS))
    if bad:
        raise UsageError(f"unknown {', '.join(bad)}; backbones: {', '.join(TRAIN_SETS)}; degradations: "
                         f"{', '.join(DEGRADATIONS)}")
    extra = [flag for flag, on in (("--gradient-checkpointing", args.gradient_checkpointing),
                                   ("--compile", args.compile)) if on]
    units = training_units(backbones, degradations, args.data_root, args.iterations, args.gpus, args.hours,
                           args.variant, args.bridge, args.t0, extra)
    return run_plan(Plan(name="train", units=units), executor=args.executor, cluster=args.cluster,
                    dry_run=args.dry_run)


if __name__ == "__main__":
    raise SystemExit(main())
