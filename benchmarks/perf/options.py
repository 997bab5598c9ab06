"""``python -m benchmarks.perf``: measure prompt training, its full-size memory, sampling and evaluation in one run.

Examples::

    python -m benchmarks.perf --quick                 # CPU: tiny configs, about a minute
    python -m benchmarks.perf                         # GPU: full-size FLUX.1-dev and WAN 2.1 1.3B, bf16
    python -m benchmarks.perf --only training --backbones flux --compile
    python -m benchmarks.perf --only memory           # full-size peak memory, traced without a GPU (~40 s)
    python -m benchmarks.perf --executor slurm --cluster mycluster   # one job on a GPU node of the cluster

Sections: training (step time, peak memory, FLOPs, MFU), memory (the full-size FLUX / WAN training step's peak
memory traced with fake tensors on any machine), sampling (20 bridge steps per item, one item at a time and
batched), loading (a backbone load from a folder, against the time per restored item), cache (the training latent
cache: bytes per pair and build time, Arrow float16 against the float32 file per pair it replaced), evaluation
(metric throughput, table re-render).

The options are parsed here, once, for the command line and for the SLURM job.
"""
from __future__ import annotations

import argparse
from pathlib import Path

DEFAULT_OUT = Path("results/perf")
SECTIONS = ("training", "memory", "sampling", "loading", "cache", "evaluation")


def parse_args(argv=None) -> argparse.Namespace:
    from benchmarks.runner.options import add_executor_arguments

    p = argparse.ArgumentParser(prog="python -m benchmarks.perf", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog="Writes <out>/<device>-<UTC time>.json and <out>/latest.json "
                                       "(schema ypt-perf/2); --quick writes <out>/quick/<device>-<UTC time>.json "
                                       "only.")
    p.add_argument("--quick", action="store_true",
                   help="fewest iterations (a smoke run: noisy numbers, written under <out>/quick/, never latest.json)")
    p.add_argument("--device", default="auto", choices=("auto", "cuda", "cpu"),
                   help="auto: cuda when available, else cpu (default)")
    p.add_argument("--size", default="auto", choices=("auto", "full", "tiny"),
                   help="model size: auto = full on cuda, tiny on cpu")
    p.add_argument("--dtype", default=None, help="compute dtype (default: bfloat16 on cuda, float32 on cpu)")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output folder (default {DEFAULT_OUT})")
    p.add_argument("--only", default=",".join(SECTIONS),
                   help=f"comma list of sections ({', '.join(SECTIONS)}; default all). memory traces the full-size "
                        "training step with fake tensors on any machine")
    p.add_argument("--backbones", default="flux,wan", help="comma list of backbones (flux, wan)")
    p.add_argument("--compile", action="store_true", help="also measure training with torch.compile'd transformers")
    p.add_argument("--steps", type=int, default=None, help="bridge steps for sampling (default: protocol, 20)")
    p.add_argument("--iters", type=int, default=None,
                   help="timed iterations per row (default: 2 with --quick, else 10)")
    p.add_argument("--rounds", type=int, default=None,
                   help="interleaved rounds per row, fastest kept (default: 3 on CPU, 1 on GPU or with --quick)")
    p.add_argument("--warmup", type=int, default=None, help="untimed iterations per row (default: 1 CPU, 3 GPU)")
    p.add_argument("--no-write", action="store_true", help="print only, write no JSON")
    add_executor_arguments(p, data_root=False)  # slurm: the same run as one GPU job; its document lands in --out
    p.add_argument("--unit", help=argparse.SUPPRESS)  # the work-unit key, recorded in the document by a job
    args = p.parse_args(argv)
    args.only = [s for s in args.only.split(",") if s]
    args.backbones = [b for b in args.backbones.split(",") if b]
    for s in args.only:
        if s not in SECTIONS:
            p.error(f"unknown section {s!r}; choose from {', '.join(SECTIONS)}")
    for b in args.backbones:
        if b not in ("flux", "wan"):
            p.error(f"unknown backbone {b!r}; choose from flux, wan")
    return args


def job_args(args: argparse.Namespace) -> list[str]:
    """The options of this run that a SLURM job repeats (not the executor's, not ``--out``)."""
    out = ["--only", ",".join(args.only), "--backbones", ",".join(args.backbones), "--device", args.device,
           "--size", args.size]
    for flag, value in (("--dtype", args.dtype), ("--steps", args.steps), ("--iters", args.iters),
                        ("--rounds", args.rounds), ("--warmup", args.warmup)):
        if value is not None:
            out += [flag, str(value)]
    return out + [flag for flag, on in (("--quick", args.quick), ("--compile", args.compile)) if on]
