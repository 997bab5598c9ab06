"""Protocol-exact metrics, keyed ``psnr ssim lpips dists clipiqa musiq dover``.

``get(name)`` returns a callable metric: ``metric(pred, target)`` for full-reference metrics, ``metric(pred)`` for
no-reference ones, on float tensors (N, 3, H, W) in [0, 1]; it applies the protocol's 512x512 bicubic resize itself
and returns a 1-D tensor of N values. Each metric carries its direction, range, whether it needs a reference, its
implementation and version string, and the weight files it needs (``weights_problem(name)`` says what is missing
without importing anything heavy). DOVER scores whole videos: see :mod:`benchmarks.metrics.dover`.
"""
from __future__ import annotations

from benchmarks.metrics.specs import (
    FULL_REFERENCE_METRICS,
    IMAGE_METRICS,
    METRICS,
    NO_REFERENCE_IMAGE_METRICS,
    NO_REFERENCE_VIDEO_METRICS,
    PYIQA_NAMES,
    SPECS,
    VIDEO_METRICS,
    MetricSpec,
    WeightFile,
    lower_better,
    metrics_for,
    missing_weights,
)
from benchmarks.metrics.availability import MissingWeightsError, require_weights, weights_problem
from ypt.registry import Registry, UnknownKeyError

_IMPLEMENTATIONS: Registry = Registry("metric")
_IMPLEMENTATIONS.register("psnr", "benchmarks.metrics.reference:PSNR")
_IMPLEMENTATIONS.register("ssim", "benchmarks.metrics.reference:SSIM")
for _key in PYIQA_NAMES:
    _IMPLEMENTATIONS.register(_key, "benchmarks.metrics.pyiqa_metrics:PyiqaMetric")
_IMPLEMENTATIONS.register("dover", "benchmarks.metrics.dover:DoverMetric")

_CACHE: dict[tuple[str, str], object] = {}


def keys() -> list[str]:
    return list(SPECS)


def spec(name: str) -> MetricSpec:
    if name not in SPECS:
        raise UnknownKeyError("metric", name, keys())
    return SPECS[name]


def get(name: str, device: str | None = None):
    """The metric ``name`` (created once per device and cached)."""
    metric_spec = spec(name)
    device = device or _default_device()
    key = (name, device)
    if key not in _CACHE:
        cls = _IMPLEMENTATIONS.get(name)
        _CACHE[key] = cls(metric_spec, device)
    return _CACHE[key]


def _default_device() -> str:
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


__all__ = [
    "FULL_REFERENCE_METRICS",
    "IMAGE_METRICS",
    "METRICS",
    "NO_REFERENCE_IMAGE_METRICS",
    "NO_REFERENCE_VIDEO_METRICS",
    "SPECS",
    "VIDEO_METRICS",
    "lower_better",
    "MetricSpec",
    "MissingWeightsError",
    "UnknownKeyError",
    "WeightFile",
    "get",
    "keys",
    "metrics_for",
    "missing_weights",
    "require_weights",
    "spec",
    "weights_problem",
]
