"""Prompt-training fan-out: ``python -m slurm.train --backbone flux|wan --degradations all``.

One work unit per (backbone, degradation) on the paper's training set for it (Sec. 4.2), run through the same
executors as the tables (``--executor local`` or ``--executor slurm --cluster NAME``). A prompt already written
where :func:`ypt.backbones.prompting.default_path` puts it is done and skipped; an interrupted unit resumes from the trainer's
checkpoint beside the prompt (preempted or timed-out SLURM jobs requeue themselves). ``--dry-run`` prints the
plan, what is missing, and its GPU-hours.
"""
from __future__ import annotations

import argparse
import sys
from typing import Sequence

from benchmarks.protocol import DEGRADATIONS

#: the paper's training set per backbone and degradation (Sec. 4.2), as dataset registry keys
TRAIN_SETS = {
    "flux": {"haze": "reside_ots_train", "snow": "snow100k_train", "rain": "rain13k_train",
             "lowlight": "lolv1_train", "blur": "gopro_train"},
    "wan": {"haze": "revide_train", "rain": "nturain_synthetic_train", "snow": "rvsd_train",
            "lowlight": "sdsd_train", "blur": "gopro_video_train"},
}
#: time limit asked per training job: a chosen ceiling, not an estimate (the dry-run's cost line estimates; a job
#: cut short by it, or by the cluster profile's limit, requeues and resumes from its checkpoint); ``--hours``
DEFAULT_HOURS = {"flux": 24, "wan": 24}


def training_units(backbones: Sequence[str], degradations: Sequence[str], data_root: str = "",
                   iterations: int | None = None, gpus: int = 1, hours: float | None = None,
                   variant: str = "residual", bridge: str = "ebr", t0: float = 0.4,
                   extra_args: Sequence[str] = ()) -> list:
    """One ``TrainUnit`` per (backbone, degradation); ``extra_args`` go to ``python -m ypt.train`` as they are
    (``--gradient-checkpointing``, ``--compile``: options that change speed and memory, not the prompt)."""
    from benchmarks.plan import Needs, TrainUnit

    units = []
    for backbone in backbones:
        for degradation in degradations:
            minutes = int(60 * (hours if hours is not None else DEFAULT_HOURS[backbone]))
            units.append(TrainUnit(backbone=backbone, degradation=degradation,
                                   dataset=TRAIN_SETS[backbone][degradation], data_root=data_root,
                                   variant=variant, bridge=bridge, t0=t0, iterations=iterations,
                                   extra_args=tuple(extra_args), needs=Needs(gpus=gpus, cpus=8 * gpus, mem_gb=64 * gpus, minutes=minutes)))
    return units


def build_parser() -> argparse.ArgumentParser:
    from benchmarks.plan import add_executor_arguments

    p = argparse.ArgumentParser(prog="python -m slurm.train", description=__doc__.split("\n\n")[0])
    p.add_argument("--backbone", required=True, help="flux, wan, or flux,wan")
    p.add_argument("--degradations", default="all", help=f"'all' or a comma list of {', '.join(DEGRADATIONS)}")
    p.add_argument("--iterations", type=int, help="default: the paper's (FLUX 40000, WAN 20000)")
    p.add_argument("--gpus", type=int, default=1, help="GPUs per training job (default 1)")
    p.add_argument("--hours", type=float, help="time limit per job; a timed-out job requeues and resumes")
    p.add_argument("--variant", default="residual")
    p.add_argument("--bridge", default="ebr", choices=("naive", "ddbm", "ebr"))
    p.add_argument("--t0", type=float, default=0.4)
    p.add_argument("--gradient-checkpointing", action="store_true",
                   help="recompute blocks in the backward (less memory, more FLOPs; see ypt.train --help)")
    p.add_argument("--compile", action="store_true", help="torch.compile each transformer block (ypt.train)")
    add_executor_arguments(p)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from benchmarks.plan import split_list

    backbones = list(split_list(args.backbone) or ())
    degradations = list(DEGRADATIONS) if args.degradations == "all" else list(split_list(args.degradations) or ())
    bad = sorted(set(backbones) - set(TRAIN_SETS)) + sorted(set(degradations) - set(DEGRADATIONS))
    if bad:
        print(f"error: unknown {', '.join(bad)}; backbones: {', '.join(TRAIN_SETS)}; degradations: "
              f"{', '.join(DEGRADATIONS)}", file=sys.stderr)
        return 2
    from benchmarks.plan import Plan, Layout, run_plan

    extra = [flag for flag, on in (("--gradient-checkpointing", args.gradient_checkpointing),
                                   ("--compile", args.compile)) if on]
    units = training_units(backbones, degradations, args.data_root, args.iterations, args.gpus, args.hours,
                           args.variant, args.bridge, args.t0, extra)
    plan = Plan(name="train", units=units, layout=Layout())
    return run_plan(plan, executor=args.executor, cluster=args.cluster, dry_run=args.dry_run)


if __name__ == "__main__":
    raise SystemExit(main())
