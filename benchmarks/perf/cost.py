"""GPU-hour estimates for the planner (the "cost" line of ``benchmarks.run --dry-run``), from measured perf JSON.

``estimate_gpu_hours(kind, backbone, n_items)`` reads the newest perf document measured on a CUDA device with the
full-size models (``results/perf/*.json``, or ``$YPT_PERF_DIR``). Without one it falls back to documented defaults,
flagged ``measured=False``: training and sampling time from the analytic FLOPs (:mod:`benchmarks.perf.flops`) at
:data:`DEFAULT_MFU` of an H100's dense bf16 peak; evaluation at :data:`DEFAULT_EVAL_S_PER_IMAGE_METRIC`.
No torch import: planning a run stays cheap.

kinds and their items:
  ``train``    one item = one prompt trained for ``iterations`` steps (default: the paper's 40k FLUX / 20k WAN)
  ``sample``   one item = one restored image (FLUX) or clip (WAN); ``prompts > 1`` for mixed degradations
  ``evaluate`` one item = one image (or video frame) scored by ``metrics`` (default: psnr and ssim)
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from benchmarks import protocol
from benchmarks.perf.device import datasheet_peak
from benchmarks.perf.workloads import workload
from ypt.cli import add_debug_argument, entry_point
from ypt.errors import BadInput, UsageError

#: assumed model-FLOPs utilisation for unmeasured defaults (the issue's target is >= 40%; assume a bit less)
DEFAULT_MFU = 0.35
#: assumed device for unmeasured defaults
DEFAULT_GPU = "H100"
#: assumed seconds per image per metric for unmeasured evaluation defaults (GPU metrics at 512 px, batched)
DEFAULT_EVAL_S_PER_IMAGE_METRIC = 0.02
KINDS = ("train", "sample", "evaluate")


@dataclass(frozen=True)
class CostEstimate:
    kind: str
    backbone: str | None
    n_items: int
    seconds_per_item: float
    measured: bool
    source: str  # the perf JSON, or the default's assumptions

    @property
    def gpu_hours(self) -> float:
        return self.n_items * self.seconds_per_item / 3600.0

    def __float__(self) -> float:
        return self.gpu_hours

    def describe(self) -> str:
        what = f"{self.kind} {self.backbone or ''} x{self.n_items}".replace("  ", " ")
        flag = "measured" if self.measured else "DEFAULT, unmeasured"
        return f"{what}: {self.gpu_hours:.2f} GPU-h ({flag}: {self.source})"


def perf_dir() -> Path:
    env = os.environ.get("YPT_PERF_DIR")
    return Path(env) if env else Path(__file__).resolve().parents[2] / "results" / "perf"


def latest_gpu_document(directory: str | Path | None = None) -> tuple[dict, Path] | None:
    """The newest perf document measured on CUDA with full-size models, with its path; None when there is none."""
    folder = Path(directory) if directory is not None else perf_dir()
    best = None
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        if path.name == "latest.json":
            continue
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise BadInput(f"unreadable perf document {path}: {exc}") from exc
        if doc.get("device", {}).get("kind") != "cuda" or doc.get("settings", {}).get("size") != "full":
            continue
        if best is None or doc.get("created", "") > best[0].get("created", ""):
            best = (doc, path)
    return best


def _ok_rows(doc: dict, section: str, **match) -> list[dict]:
    return [r for r in doc["rows"] if r["section"] == section and r["status"] == "ok"
            and all(r.get(k) == v or r.get("config", {}).get(k) == v for k, v in match.items())]


def _measured_seconds(doc: dict, kind: str, backbone: str | None, prompts: int,
                      metrics: tuple[str, ...], iterations: int) -> float | None:
    if kind == "train":
        # latents from the on-disk cache where measured (what a `python -m ypt.train` run executes), else from
        # the device; the fastest configuration that ran (an OOM row is not "ok")
        rows = (_ok_rows(doc, "training", backbone=backbone, latents="datasets-cache")
                or _ok_rows(doc, "training", backbone=backbone, latents="cached"))
        return min(r["step_time_s"] for r in rows) * iterations if rows else None
    if kind == "sample":
        rows = _ok_rows(doc, "sampling", backbone=backbone, label="mixed-sequential") if prompts > 1 else []
        rows = rows or _ok_rows(doc, "sampling", backbone=backbone, label="single")
        if not rows:
            return None
        row = rows[0]
        measured_prompts = row["config"].get("prompts", 1)
        # denoising scales with the number of prompts; encode/decode does not
        overhead = row["time_per_item_s"] - row["denoise_s"]
        return overhead + row["denoise_s"] * prompts / measured_prompts
    total = 0.0
    for metric in metrics:
        rows = _ok_rows(doc, "evaluation", metric=metric, mode="batched")
        if not rows:
            return None
        total += 1.0 / rows[0]["images_per_s"]
    return total


def _default_seconds(kind: str, backbone: str | None, prompts: int, metrics: tuple[str, ...],
                     iterations: int) -> tuple[float, str]:
    peak, _ = datasheet_peak(DEFAULT_GPU)
    rate = DEFAULT_MFU * peak
    basis = f"analytic FLOPs at {DEFAULT_MFU:.0%} MFU of {DEFAULT_GPU} bf16 {peak / 1e12:.0f} TFLOP/s"
    if kind == "evaluate":
        return (len(metrics) * DEFAULT_EVAL_S_PER_IMAGE_METRIC,
                f"assumed {DEFAULT_EVAL_S_PER_IMAGE_METRIC} s per image per metric")
    wl = workload(backbone, "full")
    flop = wl.flops(cross_attention_passes=2)
    if kind == "train":
        model_flops, _ = flop.train_step(wl.batch, gradient_checkpointing=False)
        return iterations * model_flops / rate, basis + ", cached latents"
    return protocol.NUM_INFERENCE_STEPS * prompts * flop.forward / rate, basis + ", VAE time not included"


def estimate_gpu_hours(kind: str, backbone: str | None, n_items: int, *, prompts: int = 1,
                       metrics: tuple[str, ...] = ("psnr", "ssim"), iterations: int | None = None,
                       directory: str | Path | None = None) -> CostEstimate:
    """GPU-hours of ``n_items`` items of ``kind`` (train / sample / evaluate) on ``backbone`` (flux / wan).

    Measured when a CUDA full-size perf document exists (``measured=True``, ``source`` names the file),
    else the documented defaults (``measured=False``). ``float(estimate)`` is the GPU-hours.
    """
    if kind not in KINDS:
        raise UsageError(f"unknown cost kind {kind!r}; choose from {', '.join(KINDS)}")
    if kind != "evaluate" and backbone not in protocol.TRAIN_ITERATIONS:
        raise UsageError(f"unknown backbone {backbone!r}; choose from {', '.join(protocol.TRAIN_ITERATIONS)}")
    if n_items < 0 or prompts < 1:
        raise UsageError("n_items must be >= 0 and prompts >= 1")
    iterations = iterations if iterations is not None else protocol.TRAIN_ITERATIONS.get(backbone or "", 0)
    found = latest_gpu_document(directory)
    if found is not None:
        doc, path = found
        seconds = _measured_seconds(doc, kind, backbone, prompts, tuple(metrics), iterations)
        if seconds is not None:
            return CostEstimate(kind, backbone, n_items, seconds, True, f"{path.name} on {doc['device']['name']}")
    seconds, basis = _default_seconds(kind, backbone, prompts, tuple(metrics), iterations)
    return CostEstimate(kind, backbone, n_items, seconds, False, basis)


@entry_point
def main(argv=None) -> int:
    import argparse

    p = argparse.ArgumentParser(prog="python -m benchmarks.perf.cost", description="GPU-hour estimate of a plan item.")
    p.add_argument("kind", choices=KINDS)
    p.add_argument("backbone", choices=sorted(protocol.TRAIN_ITERATIONS), help="(ignored for evaluate)")
    p.add_argument("n_items", type=int, help="prompts to train / items to sample / images to evaluate")
    p.add_argument("--prompts", type=int, default=1, help="prompts mixed per item (sample)")
    p.add_argument("--metrics", default="psnr,ssim", help="comma list (evaluate)")
    p.add_argument("--iterations", type=int, default=None, help="training iterations per prompt")
    add_debug_argument(p)
    args = p.parse_args(argv)
    est = estimate_gpu_hours(args.kind, args.backbone, args.n_items, prompts=args.prompts,
                             metrics=tuple(m for m in args.metrics.split(",") if m), iterations=args.iterations)
    print(est.describe())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
