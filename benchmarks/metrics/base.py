"""The callable every metric is: reference checks, the protocol resize, a call counter."""
from __future__ import annotations

from ypt.errors import UsageError

from typing import ClassVar

from benchmarks.metrics.specs import MetricSpec


class ReferenceError_(UsageError):
    """A full-reference metric was asked without a target, or for a no-reference dataset."""


class Metric:
    """``metric(pred, target=None)`` on (N, 3, H, W) tensors in [0, 1] -> (N,) values (float64 on the CPU)."""

    #: images scored by this process, per metric key (tests use it to assert that reruns do no metric work)
    images_scored: ClassVar[dict[str, int]] = {}

    def __init__(self, spec: MetricSpec, device: str = "cpu"):
        self.spec = spec
        self.device = device

    @property
    def key(self) -> str:
        return self.spec.key

    @property
    def needs_reference(self) -> bool:
        return self.spec.needs_reference

    def __call__(self, pred, target=None):
        from benchmarks.metrics.resize import protocol_resize

        if self.needs_reference and target is None:
            raise ReferenceError_(f"{self.key} is a full-reference metric: it needs a target (no-reference sets are "
                                  "scored with clipiqa and musiq only)")
        pred = protocol_resize(pred)
        if target is not None and self.needs_reference:
            target = protocol_resize(target)
            if target.shape != pred.shape:
                raise ValueError(f"{self.key}: prediction {tuple(pred.shape)} and target {tuple(target.shape)} differ")
        values = self.compute(pred, target if self.needs_reference else None)
        Metric.images_scored[self.key] = Metric.images_scored.get(self.key, 0) + int(pred.shape[0])
        return values

    def compute(self, pred, target):  # pragma: no cover - abstract
        raise NotImplementedError
