"""The planner: a table (or ablation) becomes a list of work units, each content-addressed by its config.

Unit kinds: ``train`` (one prompt), ``restore`` (one method on one dataset shard), ``score`` (the metrics of one
restore shard). A unit's key carries the hash of its config (:func:`ypt.provenance.config_hash`), and its outputs
live under ``results/runs/<method>/<config hash>/<dataset>/``: a rerun finds the finished units done and submits
only the missing ones, and a changed config gets a new folder instead of reusing stale outputs.
Nothing here imports torch, diffusers or pyiqa.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ypt.provenance import config_hash


@dataclass(frozen=True)
class Needs:
    """What one unit needs from a machine (a SLURM job asks for exactly this, clipped to the cluster profile)."""

    gpus: int = 0
    cpus: int = 2
    mem_gb: float = 2
    minutes: int = 60


def slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_")


@dataclass
class WorkUnit:
    """Base class of the plan's units: subclasses set ``kind`` and implement :meth:`config`, :meth:`is_done`,
    :meth:`run`. ``run`` must resume: skip whatever is already on disk, write atomically."""

    kind = "unit"
    needs: Needs = field(default_factory=Needs)
    deps: tuple[str, ...] = ()

    def config(self) -> dict[str, Any]:
        raise NotImplementedError

    @property
    def config_hash(self) -> str:
        return config_hash(self.config())

    @property
    def label(self) -> str:
        """Human-readable name without the hash (e.g. ``dcp/hazerd#0``)."""
        raise NotImplementedError

    @property
    def key(self) -> str:
        """Unique, file-system safe, content-addressed: ``<kind>-<label>-<config hash>``."""
        return slug(f"{self.kind}-{self.label}-{self.config_hash}")

    def is_done(self) -> bool:
        raise NotImplementedError

    def run(self, progress: bool = True) -> None:
        raise NotImplementedError

    def describe(self) -> str:
        return f"{self.kind} {self.label} (config {self.config_hash})"

    def missing_resources(self) -> list["Missing"]:
        """What must exist before this unit can run (datasets, checkpoints, environments), with how to get it."""
        return []


@dataclass(frozen=True)
class Missing:
    """One missing resource a plan needs: what, and the command or page that gets it."""

    kind: str  # dataset / checkpoint / environment / prompt
    name: str
    how: str

    def __str__(self) -> str:
        return f"{self.kind} {self.name}: {self.how}"
