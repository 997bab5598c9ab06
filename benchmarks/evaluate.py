"""Score a folder of restored outputs against a dataset's samples, into the result store.

    python -m benchmarks.evaluate --method M --dataset D --outputs DIR [--data-root ROOT] [--metrics psnr,ssim]

Outputs are found by sample id (:mod:`benchmarks.outputs`), so folders produced elsewhere can be scored too.
Targets are PIL-bicubic-resized to the output's resolution, then both are torch-bicubic-resized to 512x512
(:mod:`benchmarks.metrics.resize`, as the official evaluation; an output's float metric view, when its method wrote
one, is the prediction: the release scores the float decode); video metrics are frame
means (DOVER scores the clip). One record per (method, dataset, sample, metric) is written per sample as soon as
its batch is scored, with the sha256 of the scored output: rerunning over unchanged outputs does no metric work,
and a changed output (or metric / protocol version) is scored again.
"""
from __future__ import annotations

import argparse
import hashlib
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.protocol import PROTOCOL_VERSION
from ypt.cli import add_debug_argument, entry_point
from ypt.errors import UsageError

BATCH = 4


@dataclass
class EvalSummary:
    method: str
    dataset: str
    samples: int = 0
    scored: int = 0          # (sample, metric) values computed in this call
    reused: int = 0          # (sample, metric) values already in the store for the same output
    missing_outputs: list[str] = field(default_factory=list)
    unavailable: dict[str, str] = field(default_factory=dict)   # metric -> why it was not run
    short_outputs: dict[str, tuple[int, int]] = field(default_factory=dict)  # clip -> (output frames, target frames)
    #: samples that could not be scored (unreadable output or target, a target that is not the input's): each
    #: fails alone, the others are scored
    failures: list = field(default_factory=list)
    #: samples whose target has another size (but the input's aspect) than their input: scored, the target resized
    rescaled_targets: list[str] = field(default_factory=list)
    means: dict[str, float] = field(default_factory=dict)


class EvaluationError(UsageError):
    """A metric asked for on a set where the protocol does not compute it."""


def output_digest(paths: list[Path]) -> str:
    """sha256 of one output file, or of the ordered frame hashes of a video output; a metric view beside a file
    (:func:`benchmarks.outputs.metric_view_path`) is hashed with it."""
    from benchmarks.outputs import metric_view_path
    from ypt.files import file_sha256

    def one(path: Path) -> str:
        view = metric_view_path(path)
        return file_sha256(path) + (":" + file_sha256(view) if view.is_file() else "")

    if len(paths) == 1:
        single = one(paths[0])
        return single if ":" not in single else hashlib.sha256(single.encode()).hexdigest()
    digest = hashlib.sha256()
    for p in paths:
        digest.update(one(p).encode())
    return digest.hexdigest()


def choose_metrics(spec: Any, requested: list[str] | None) -> tuple[list[str], bool]:
    """The metrics to run for a dataset (requested ones checked against its reference status)."""
    from benchmarks.metrics import metrics_for
    from benchmarks.metrics import spec as metric_spec

    paired = bool(getattr(spec, "paired", True))
    modality = getattr(spec, "modality", "image")
    allowed = metrics_for(modality, paired)
    if not requested:
        return list(allowed), False
    for name in requested:
        metric_spec(name)  # unknown names raise with close matches
        if name not in allowed:
            why = "it has no reference images" if not paired and metric_spec(name).needs_reference else \
                f"{name} scores whole videos only" if metric_spec(name).video_only else \
                "the protocol does not score it there"
            raise EvaluationError(f"{name} cannot be computed on {spec.key}: {why}. Valid here: {', '.join(allowed)}")
    return list(requested), True


def evaluate(method: str, dataset_key: str, outputs_dir: str | Path, store: Any, metrics: list[str] | None = None,
             data_root: str | Path | None = None, limit: int | None = None, config_hash: str = "",
             progress: bool = True, strict: bool | None = None, samples: list | None = None,
             protocol: str = PROTOCOL_VERSION) -> EvalSummary:
    """Score ``outputs_dir`` for ``method`` on ``dataset_key`` and record the values in ``store``.

    Metrics whose weights or package are missing are skipped and named in ``summary.unavailable`` (the others
    still run); with ``strict`` (default: when ``metrics`` were given explicitly) they raise instead. ``protocol``:
    the protocol the outputs were made under (:func:`benchmarks.protocol.protocol_tag`), written into each record.
    """
    from benchmarks import datasets
    from benchmarks import metrics as registry
    from benchmarks.outputs import ImageOutputs, find_video_frames
    from benchmarks.store import NO_CONFIG
    from ypt.provenance import code_version

    spec = datasets.get(dataset_key)
    names, explicit = choose_metrics(spec, metrics)
    strict = explicit if strict is None else strict
    summary = EvalSummary(method, dataset_key)
    for name in list(names):
        problem = registry.weights_problem(name)
        if problem:
            if strict:
                raise registry.MissingWeightsError(problem)
            summary.unavailable[name] = problem
            names.remove(name)
    if samples is None:
        samples = list(spec.samples(data_root))
    if limit is not None:
        samples = samples[:limit]
    summary.samples = len(samples)
    video = getattr(spec, "modality", "image") == "video"
    existing = store.existing(method, dataset_key, config_hash)
    version = code_version()

    todo: list[tuple[Any, list[Path], str, list[str]]] = []
    images = ImageOutputs(outputs_dir)
    for sample in samples:
        outputs = find_video_frames(outputs_dir, sample.id) if video else \
            [p for p in [images.find(sample.id)] if p is not None]
        if not outputs:
            summary.missing_outputs.append(sample.id)
            continue
        if video and sample.target is not None and len(outputs) < len(sample.target):
            summary.short_outputs[sample.id] = (len(outputs), len(sample.target))  # scored on the common frames
        digest = output_digest(outputs)
        needed = []
        for name in names:
            old = existing.get((sample.id, name))
            if old and old["output_sha256"] == digest and old["protocol"] == protocol and \
                    old["metric_version"] == registry.spec(name).version:
                summary.reused += 1
            else:
                needed.append(name)
        if needed:
            todo.append((sample, outputs, digest, needed))

    def record(sample, name, value, digest):
        return {"method": method, "dataset": dataset_key, "sample": sample.id, "metric": name, "value": float(value),
                "protocol": protocol, "metric_version": registry.spec(name).version,
                "output_sha256": digest, "config_hash": config_hash or NO_CONFIG, "code_version": version}

    from rich.progress import Progress

    with Progress(disable=not progress, transient=True) as bar:
        task = bar.add_task(f"scoring {method} on {dataset_key}", total=len(todo))
        step = 1 if video else BATCH
        for start in range(0, len(todo), step):
            chunk = [item for item in todo[start:start + step] if _target_fits(item[0], summary)]
            if video:
                chunk, values = _isolated(chunk, summary, lambda items: _score_video(items[0], registry))
            else:
                chunk, values = _isolated(chunk, summary, lambda items: _score_images(items, registry))
            for (sample, _, digest, needed), per_metric in zip(chunk, values):
                store.write_sample([record(sample, n, per_metric[n], digest) for n in needed])
                summary.scored += len(needed)
            bar.advance(task, step)

    frame = store.load(method=method, dataset=dataset_key, config_hash=config_hash or NO_CONFIG)
    ids = {s.id for s in samples}
    frame = frame[frame["sample"].isin(ids) & frame["metric"].isin(names)]
    summary.means = {m: float(v) for m, v in frame.groupby("metric")["value"].mean().items()}
    return summary


def _target_fits(sample, summary: EvalSummary) -> bool:
    """False (and a failure recorded) when the sample's target cannot be the input's: another aspect ratio. A target
    of another size with the input's aspect is scored (resized, as every target) and noted."""
    from benchmarks.datasets import SampleFailure

    if sample.target is None or sample.modality == "video":
        return True
    source, target = _header_size(sample.input), _header_size(sample.target)
    if source is None or target is None or source == target:
        return True
    if abs(source[0] / source[1] - target[0] / target[1]) <= 0.02 * source[0] / source[1]:
        summary.rescaled_targets.append(sample.id)
        return True
    summary.failures.append(SampleFailure(sample.id, str(sample.target), "score",
                                          f"target is {target[0]}x{target[1]} but the input {sample.input} is "
                                          f"{source[0]}x{source[1]} (another aspect: not this input's target)"))
    return False


def _header_size(path) -> tuple[int, int] | None:
    """(width, height) of an image file from its header (no decode); None for containers or unreadable files (those
    fail where they are decoded, with the reason)."""
    from PIL import Image

    from benchmarks.datasets.containers import is_container_ref

    if not isinstance(path, (str, Path)) or is_container_ref(path):
        return None
    try:
        with Image.open(path) as image:
            return image.size
    except (OSError, ValueError):
        return None


def _isolated(chunk: list, summary: EvalSummary, score) -> tuple[list, list]:
    """``score(chunk)``; when a sample's file cannot be read, each item is scored alone so that only the faulty
    sample fails (recorded in ``summary.failures`` with its file and reason) and the others are scored."""
    from benchmarks.datasets import SAMPLE_FAULTS

    try:
        return chunk, score(chunk)
    except SAMPLE_FAULTS as err:
        if len(chunk) == 1:
            summary.failures.append(_fault(chunk[0], err))
            return [], []
    kept, values = [], []
    for item in chunk:
        try:
            values += score([item])
            kept.append(item)
        except SAMPLE_FAULTS as err:
            summary.failures.append(_fault(item, err))
    return kept, values


def _fault(item, error: Exception):
    """The failure of one sample: which of its files is unreadable, and why; else the error itself (a clip DOVER
    cannot score although every frame reads)."""
    from benchmarks.datasets import SAMPLE_FAULTS, SampleFailure
    from benchmarks.metrics.resize import load_pair

    sample, outputs, _, _ = item
    targets = sample.target if isinstance(sample.target, list) else [sample.target]
    for index, output in enumerate(outputs):
        target = targets[index] if sample.target is not None and index < len(targets) else None
        try:
            load_pair(output, None)
        except SAMPLE_FAULTS as err:
            return SampleFailure(sample.id, str(output), "score", f"cannot read the output: {err}")
        if target is not None:
            try:
                load_pair(output, target)
            except SAMPLE_FAULTS as err:
                return SampleFailure(sample.id, str(target), "score", f"cannot read the target: {err}")
    return SampleFailure(sample.id, str(outputs[0]), "score", str(error))


def _pairs(outputs: list, targets: list | None):
    """Outputs and targets (targets may be None) as stacked (N, 3, 512, 512) tensors, per the protocol's resize."""
    import torch

    from benchmarks.metrics.resize import load_pair

    pairs = [load_pair(o, None if targets is None else t) for o, t in zip(outputs, targets or [None] * len(outputs))]
    preds = torch.cat([p for p, _ in pairs])
    return preds, (None if targets is None else torch.cat([t for _, t in pairs]))


def _run(names: list[str], preds, targets, registry) -> dict[str, list[float]]:
    out = {}
    for name in names:
        metric = registry.get(name)
        values = metric(preds, targets) if metric.needs_reference else metric(preds)
        out[name] = [float(v) for v in values.tolist()]
    return out


def _score_images(chunk, registry) -> list[dict[str, float]]:
    needed = sorted({n for *_, names in chunk for n in names})
    paired = any(registry.spec(n).needs_reference for n in needed)
    preds, targets = _pairs([outputs[0] for _, outputs, _, _ in chunk],
                            [sample.target for sample, *_ in chunk] if paired else None)
    values = _run(needed, preds, targets, registry)
    return [{n: values[n][i] for n in needed} for i in range(len(chunk))]


def _score_video(item, registry) -> list[dict[str, float]]:
    """Frame metrics are means over the frames (output frame i against target frame i); DOVER scores the clip."""
    sample, frames, _, needed = item
    out: dict[str, float] = {}
    frame_metrics = [n for n in needed if not registry.spec(n).video_only]
    clip_metrics = [n for n in needed if registry.spec(n).video_only]
    if frame_metrics:
        paired = any(registry.spec(n).needs_reference for n in frame_metrics)
        targets = list(sample.target) if paired else None
        count = len(frames) if targets is None else min(len(frames), len(targets))
        sums = dict.fromkeys(frame_metrics, 0.0)
        for start in range(0, count, BATCH):
            stop = min(start + BATCH, count)
            preds, tgts = _pairs(frames[start:stop], None if targets is None else targets[start:stop])
            for name, values in _run(frame_metrics, preds, tgts, registry).items():
                for value in values:  # frame by frame, in order: the release's AverageMeter sums so
                    sums[name] += value
        out.update({n: s / count for n, s in sums.items()})
    for name in clip_metrics:
        out[name] = registry.get(name).score_clip(frames, name=sample.id)
    return [out]


@entry_point
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.evaluate", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--method", required=True, help="method key the records are filed under")
    parser.add_argument("--dataset", required=True, help="dataset key (python -m benchmarks.datasets list)")
    parser.add_argument("--outputs", required=True, type=Path, help="folder of restored outputs, named by sample id")
    parser.add_argument("--data-root", default=None, help="data root (default: $YPT_DATA)")
    parser.add_argument("--metrics", default=None, help="comma list (default: every metric the protocol gives)")
    parser.add_argument("--results-dir", default=None, help="results root holding store/ (default: $YPT_RESULTS or results/)")
    parser.add_argument("--config-hash", default="", help="run identity the records are filed under")
    parser.add_argument("--limit", type=int, default=None, help="first N samples only")
    add_debug_argument(parser)
    args = parser.parse_args(argv)

    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from benchmarks.store import ResultStore

    console = Console()
    summary = evaluate(args.method, args.dataset, args.outputs, ResultStore(args.results_dir),
                       metrics=[m for m in (args.metrics or "").split(",") if m] or None,
                       data_root=args.data_root, limit=args.limit, config_hash=args.config_hash)
    table = Table(title=f"{args.method} on {args.dataset}: {summary.samples} samples")
    table.add_column("metric")
    table.add_column("mean", justify="right")
    table.add_column("better")
    from benchmarks.metrics import spec as metric_spec

    for name, value in summary.means.items():
        table.add_row(name, f"{value:.4f}", "lower" if metric_spec(name).lower_better else "higher")
    console.print(table)
    console.print(f"scored {summary.scored} values, reused {summary.reused} from the store")
    if summary.missing_outputs:
        console.print(f"[yellow]{len(summary.missing_outputs)} samples have no output[/yellow], e.g. "
                      f"{escape(', '.join(summary.missing_outputs[:5]))}")
    if summary.short_outputs:
        clip, (got, want) = next(iter(summary.short_outputs.items()))
        console.print(f"[yellow]{len(summary.short_outputs)} clips have fewer output frames than targets[/yellow] "
                      f"(scored on the common frames), e.g. {escape(clip)}: {got} of {want}")
    for name, why in summary.unavailable.items():
        console.print(f"[yellow]not scored[/yellow] {escape(why)}")
    return 1 if summary.missing_outputs else 0


if __name__ == "__main__":
    sys.exit(main())
