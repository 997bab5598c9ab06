"""One perf run: detect the device, measure every requested section, assemble, print and write the document."""
from __future__ import annotations

import tempfile
import time
import traceback

from benchmarks import protocol
from benchmarks.perf import report
from benchmarks.perf.workloads import workload


def iteration_plan(kind: str, quick: bool, iters: int | None, warmup: int | None = None) -> tuple[int, int]:
    """(timed iterations, warmup iterations) per row."""
    if warmup is None:
        warmup = 2 if kind == "cpu" else 3
    if iters is not None:
        return iters, warmup
    if quick:
        return 2, 1
    return (10, warmup)


#: extra rounds of a backbone start only while its rounds have taken less than this (seconds)
ROUND_BUDGET_S = 40.0
#: the figure a row is ranked by when rounds are merged
PRIMARY_TIME = {"training": "step_time_s", "sampling": "denoise_s", "loading": "load_s", "cache": "build_s_per_pair"}


def _better(old: dict | None, new: dict) -> dict:
    """The row to keep of two measurements of the same row: an ok one over a failed one, then the faster."""
    if old is None or (old["status"] != "ok" and new["status"] == "ok"):
        return new
    if new["status"] != "ok" or old["status"] != "ok":
        return old
    key = PRIMARY_TIME[new["section"]]
    return new if new[key] < old[key] else old


def _error_row(section: str, label: str, exc: BaseException, **extra) -> dict:
    traceback.print_exception(exc)
    return {"section": section, "label": label, "config": {}, "status": "error",
            "reason": f"{type(exc).__name__}: {exc}".splitlines()[0], **extra}


def _hook_refresh(progress) -> None:
    """Make ``update`` and ``advance`` redraw the bar at once (the progress has no refresh thread)."""
    update, advance = progress.update, progress.advance

    def update_now(*a, **k):
        update(*a, **k)
        progress.refresh()

    def advance_now(*a, **k):
        advance(*a, **k)
        progress.refresh()

    progress.update, progress.advance = update_now, advance_now


def run_benchmark(args) -> tuple[dict, "object | None"]:
    import torch
    from rich.console import Console
    from rich.progress import Progress

    from benchmarks.perf.device import detect
    from ypt.provenance import code_version

    console = Console()
    if not console.is_terminal:  # logs and pipes: wide enough for the tables' labels
        console = Console(width=140)
    started = time.perf_counter()
    info = detect(args.device, args.dtype, measure_seconds=0.3 if args.quick else 1.0)
    size = args.size if args.size != "auto" else ("full" if info.kind == "cuda" else "tiny")
    device = "cuda" if info.kind == "cuda" else "cpu"
    iters, warmup = iteration_plan(info.kind, args.quick, args.iters, args.warmup)
    if size == "full" and info.kind != "cuda":
        raise SystemExit("--size full builds the full FLUX.1-dev (12B) and WAN 2.1 transformers: it needs a CUDA GPU "
                         "(the FLUX transformer alone is 24 GB in bf16). On CPU use --size tiny (the default).")
    steps = args.steps or protocol.NUM_INFERENCE_STEPS
    # a sampled item is 20-40 backbone calls: fewer repetitions than a training step
    sample_iters, sample_warmup = min(iters, 3), min(warmup, 1)
    # a shared CPU: every row is measured in several interleaved rounds and the fastest round kept
    rounds = args.rounds or (1 if info.kind == "cuda" or args.quick else 3)
    rows: list[dict] = []
    rounds_done: dict[str, int] = {}

    from benchmarks.perf import cache, evaluation, loading, sampling, training

    with tempfile.TemporaryDirectory(prefix="ypt-perf-") as scratch, \
            Progress(console=console, transient=True, auto_refresh=False) as progress:
        # no refresh thread: on a small CPU it steals measurable time from the timed regions (2-4x on 2 cores);
        # the bar is redrawn between rows instead
        _hook_refresh(progress)
        total = 0
        if "training" in args.only:
            total += len(args.backbones) * len(training.configurations(args.compile))
        if "sampling" in args.only:
            total += len(args.backbones) * len(sampling.MODES)
        if "loading" in args.only:
            total += len(args.backbones)
        if "cache" in args.only:
            total += len(args.backbones)
        if "evaluation" in args.only:
            total += 1
        if "memory" in args.only:
            total += 2 * len(args.backbones)
        task = progress.add_task("perf", total=total * rounds)
        for backbone in args.backbones:
            wl = workload(backbone, size)
            bench = engine = None
            jobs: list[tuple[str, str, object]] = []  # (section, label, measure) of this backbone
            if "training" in args.only:
                progress.update(task, description=f"{backbone}: building {size} models")
                bench = training.TrainBench(wl, device, info.dtype, scratch)
                engine = bench.engine
                for cfg in training.configurations(args.compile):
                    jobs.append(("training", cfg.label,
                                 lambda cfg=cfg: bench.measure(cfg, iters, warmup, info.peak_flops)))
            if "sampling" in args.only:
                if engine is None:
                    progress.update(task, description=f"{backbone}: building {size} models")
                    engine = wl.build(device, getattr(torch, info.dtype))
                sampler = sampling.SampleBench(wl, device, info.dtype, engine)
                for mode in sampling.MODES:
                    jobs.append(("sampling", mode, lambda mode=mode, sampler=sampler:
                                 sampler.measure(mode, steps, sample_iters, sample_warmup)))
            if "cache" in args.only:
                if engine is None:
                    progress.update(task, description=f"{backbone}: building {size} models")
                    engine = wl.build(device, getattr(torch, info.dtype))
                jobs.append(("cache", "build", lambda wl=wl, engine=engine: cache.measure(
                    wl, engine, device, scratch, sample_iters, sample_warmup, pairs=4 if args.quick else 16)))
            if "loading" in args.only:
                if engine is None:
                    progress.update(task, description=f"{backbone}: building {size} models")
                    engine = wl.build(device, getattr(torch, info.dtype))
                jobs.append(("loading", "from folder", lambda wl=wl, engine=engine:
                             loading.measure(wl, engine, device, info.dtype, scratch, sample_iters, sample_warmup)))
            best: dict[str, dict] = {}
            rounds_done[backbone] = 0
            rounds_started = time.perf_counter()
            for round_index in range(rounds):  # rounds interleave the rows: a busy spell hits all of them alike
                if round_index and time.perf_counter() - rounds_started > ROUND_BUDGET_S:
                    break  # extra rounds only while the run stays well inside its few minutes on a loaded CPU
                rounds_done[backbone] += 1
                for section, label, measure in jobs:
                    progress.update(task, description=f"{backbone} {section}: {label} (round {round_index + 1})")
                    try:
                        measured = measure()
                    except Exception as exc:  # recorded in the document and printed; the run exits non-zero
                        measured = _error_row(section, label, exc, backbone=backbone)
                    for row in measured if isinstance(measured, list) else [measured]:  # a job may give rows
                        best[row["label"] + section] = _better(best.get(row["label"] + section), row)
                    progress.advance(task)
            rows.extend(best.values())
            bench = engine = jobs = None  # free the models before the next backbone
            if device == "cuda":
                torch.cuda.empty_cache()
        if "memory" in args.only:  # full size on any device: nothing is allocated
            from benchmarks.perf import memory

            for backbone in args.backbones:
                for ckpt in (False, True):
                    label = "ckpt" if ckpt else "no-ckpt"
                    progress.update(task, description=f"{backbone} memory: {label} (full size, fake tensors)")
                    try:
                        rows.append(memory.trace_training_step(workload(backbone, "full"), ckpt))
                    except Exception as exc:
                        rows.append(_error_row("memory", label, exc, backbone=backbone))
                    progress.advance(task)
        if "evaluation" in args.only:
            progress.update(task, description="evaluation: metrics and table re-render")
            rows.extend(evaluation.measure(device, quick=args.quick))
            progress.advance(task)

    if info.kind == "cpu":  # the matmul peak too is measured again and the better figure kept
        from benchmarks.perf.device import measure_matmul_peak
        from benchmarks.perf.flops import mfu

        again = measure_matmul_peak("cpu", getattr(torch, info.dtype), 512, 0.3 if args.quick else 1.0)
        if again > info.peak_flops:
            info.peak_flops = again
            for row in rows:
                if row["section"] == "training" and row["status"] == "ok":
                    row["mfu"] = mfu(row["model_flops"], row["step_time_s"], again)
                    row["hfu"] = mfu(row["hardware_flops"], row["step_time_s"], again)
    now = report.timestamp()
    doc = {
        "schema": report.SCHEMA,
        "created": now,
        "created_stamp": now,
        "protocol_version": protocol.PROTOCOL_VERSION,
        "code_version": code_version(),
        "device": {**info.as_dict(), "slug": info.slug},
        "settings": {"quick": args.quick, "size": size, "compile": args.compile, "iters": iters, "warmup": warmup,
                     "steps": steps, "sections": list(args.only), "backbones": list(args.backbones),
                     "rounds": rounds, "rounds_done": rounds_done, "unit": getattr(args, "unit", None),
                     "time_statistic": "median" if info.kind == "cuda" else "min"},
        "rows": rows,
        "ratios": report.ratios(rows),
        "wall_s": time.perf_counter() - started,
    }
    report.render(doc, console)
    console.print(f"wall time {doc['wall_s']:.1f} s")
    problems = report.validate(doc)
    if problems:
        raise RuntimeError("perf document does not follow its schema: " + "; ".join(problems))
    path = None if args.no_write else report.write(doc, args.out)
    return doc, path
