"""Weights of a compared method retrained by the suite (``python -m slurm.train --methods avernet|viwsnet``), as the
paper did for its video baselines ("the publicly available checkpoints of AverNet and ViWS-Net did not address many
of our restoration tasks, we re-trained them on the same training data").

Training runs in ``<root>/<method>/runs/<config hash>/`` (staged sets, upstream's own experiment folders, logs), and
a finished run writes ``<root>/<method>/weights.json``: the checkpoint, the datasets and degradations it was trained
on, the iterations, the upstream commit. The method's wrapper reads that record when no ``checkpoint`` is configured,
so Tables 1 and 3 use the retrained weights without further setup. ``<root>`` is ``$YPT_BASELINE_WEIGHTS`` or
``~/.cache/ypt-bench/baselines``.
"""
from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT_ENV = "YPT_BASELINE_WEIGHTS"
RECORD = "weights.json"


def weights_root() -> Path:
    return Path(os.environ.get(ROOT_ENV) or Path.home() / ".cache" / "ypt-bench" / "baselines").expanduser()


def method_dir(method: str) -> Path:
    return weights_root() / method


def run_dir(method: str, config_hash: str) -> Path:
    """Where one training configuration of ``method`` stages its data and runs upstream (resumed there)."""
    return method_dir(method) / "runs" / config_hash


@dataclass(frozen=True)
class RetrainedWeights:
    """The record of a finished retraining: what the wrapper then restores with."""

    method: str
    checkpoint: str
    #: degradation -> dataset registry key it was trained on
    datasets: dict[str, str]
    iterations: int
    upstream_commit: str | None
    #: the training configuration's hash (its run folder)
    config_hash: str
    finished: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def degradations(self) -> tuple[str, ...]:
        return tuple(sorted(self.datasets))

    def describe(self) -> str:
        sets = ", ".join(f"{d}: {k}" for d, k in sorted(self.datasets.items()))
        return (f"retrained by the suite ({self.iterations} iterations on {sets}; upstream {self.upstream_commit}; "
                f"record {method_dir(self.method) / RECORD})")


def read(method: str) -> RetrainedWeights | None:
    """The method's retrained weights, None when it was never retrained here (or the checkpoint is gone)."""
    path = method_dir(method) / RECORD
    if not path.is_file():
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    record = RetrainedWeights(**data)
    return record if Path(record.checkpoint).is_file() else None


def write(record: RetrainedWeights) -> Path:
    from ypt.files import atomic_write_text

    path = method_dir(record.method) / RECORD
    atomic_write_text(path, json.dumps(asdict(record), indent=2, sort_keys=True))
    return path
