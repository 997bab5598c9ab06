"""Prompt-training fan-out: ``python -m slurm.train --backbones flux,wan --degradations all``; retraining the video
baselines as the paper did: ``python -m slurm.train --methods avernet,viwsnet``.

Prompts: one work unit per (backbone, degradation) on the paper's training set for it (Sec. 4.2;
:mod:`benchmarks.runner.training`). A prompt already written where :func:`ypt.prompts.default_prompt_path` puts it
is done and skipped; an interrupted unit resumes from the trainer's checkpoint beside the prompt.

Baselines: one unit per method, on the WAN training sets of the chosen degradations (REVIDE, NTU-Rain synthetic,
RVSD, SDSD, GoPro clips; :mod:`benchmarks.runner.upstream_training`): staged in upstream's training layout, trained by
upstream's own training script in the method's environment (baselines config), resumed from upstream's checkpoints,
and recorded where the method's wrapper (so Tables 1 and 3) restores with it. ``--iterations`` is in upstream's unit
(AverNet iterations, ViWS-Net epochs; default upstream's own length).

Both run through the same executors as the tables (``--executor local`` or ``--executor slurm --cluster NAME``;
preempted or timed-out SLURM jobs requeue themselves and resume). ``--dry-run`` prints the plan, what is missing,
and its GPU-hours.
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
    p.add_argument("--backbones", help="comma list of flux, wan: train their prompts")
    p.add_argument("--methods", help="comma list of avernet, viwsnet: retrain these video baselines with upstream's "
                                     "training script on the WAN training sets, as the paper did")
    p.add_argument("--degradations", default="all", help=f"'all' or a comma list of {', '.join(DEGRADATIONS)}")
    p.add_argument("--iterations", type=int, help="default: the paper's (FLUX 40000, WAN 20000); with --methods, "
                                                   "upstream's own (AverNet 600000 iterations, ViWS-Net 500 epochs)")
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

    if bool(args.backbones) == bool(args.methods):
        raise UsageError("give --backbones flux,wan (train prompts) or --methods avernet,viwsnet (retrain baselines)")
    degradations = list(DEGRADATIONS) if args.degradations == "all" else list(split_list(args.degradations) or ())
    if args.methods:
        return retrain(args, list(split_list(args.methods) or ()), degradations)
    backbones = list(split_list(args.backbones) or ())
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


def retrain(args, methods: list[str], degradations: list[str]) -> int:
    """``--methods``: the retraining units of the video baselines on the WAN training sets of ``degradations``."""
    from benchmarks.runner.execute import run_plan
    from benchmarks.runner.planning import Plan
    from benchmarks.runner.report import wide_console
    from benchmarks.runner.training import TRAIN_SETS
    from benchmarks.runner.upstream_training import RETRAINABLE, retraining_units

    bad = sorted(set(methods) - set(RETRAINABLE)) + sorted(set(degradations) - set(DEGRADATIONS))
    if bad:
        raise UsageError(f"unknown {', '.join(bad)}; methods the suite retrains: {', '.join(RETRAINABLE)}; "
                         f"degradations: {', '.join(DEGRADATIONS)}")
    sets = {d: TRAIN_SETS["wan"][d] for d in degradations}
    units = retraining_units(methods, sets, args.data_root, args.iterations, args.hours)
    console = wide_console()
    for unit in units:
        console.print(f"{unit.method}: {unit.total} {'epochs' if unit.method == 'viwsnet' else 'iterations'} on "
                      + ", ".join(f"{k} ({d})" for d, k in unit.used().items())
                      + f"; run folder {unit.run_dir}", highlight=False)
        for note in unit.left_out():
            console.print(f"[yellow]note:[/yellow] {note}", highlight=False)
    code = run_plan(Plan(name="train-baselines", units=units), executor=args.executor, cluster=args.cluster,
                    dry_run=args.dry_run)
    if not args.dry_run:
        from baselines.retrained import read

        for unit in units:
            record = read(unit.method)
            if record is not None and unit.is_done():
                console.print(f"{unit.method}: {record.describe()}; python -m baselines restore {unit.method} and "
                              "the tables now use it", highlight=False)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
