"""Workers: a process that runs units one after another and keeps what they load for the next units that need it.

Units with the same :meth:`~benchmarks.runner.units.WorkUnit.load_key` (the restore units of one backbone at one
precision on one device) run in one worker, one after another, and load their backbone once: the worker hands them
its :class:`baselines.loaded.LoadedModels`. Each unit keeps its own resume (it skips what is on disk), its own
outcome and its own log. :func:`bundles` groups a wave's units so: the local executor runs the bundles in this
process one after another; the SLURM executor submits one job per bundle, per shard index (``--shards K`` gives
each backbone K workers).
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from baselines.loaded import LoadedModels


class Worker:
    """Runs units in this process; the models a unit loads stay for the next units of the same load key and are
    dropped when a unit of another key (or none) comes."""

    def __init__(self) -> None:
        self.models = LoadedModels()
        self._key: str | None = None

    def run(self, unit, progress: bool = True) -> list[Any] | None:
        """``unit.run``, given this worker's loaded models when the unit shares a load key."""
        key = unit.load_key()
        if key != self._key:
            self.models.clear()  # loaded for other units: it would only hold memory
            self._key = key
        if key is None:
            return unit.run(progress=progress)
        return unit.run(progress=progress, models=self.models)

    def close(self) -> None:
        self.models.clear()
        self._key = None


def bundles(units: Sequence, per_shard: bool = False) -> list[list]:
    """``units`` grouped into the lists one worker runs: the units of one load key together (in the order their
    first unit comes), every unit without a key alone. ``per_shard``: one list per load key and shard index
    instead, so the shards of a dataset run in parallel workers and each worker loads once."""
    out: list[list] = []
    groups: dict[tuple, list] = {}
    for unit in units:
        key = unit.load_key()
        if key is None:
            out.append([unit])
            continue
        group = (key, getattr(unit, "shard", 0) if per_shard else 0)
        if group not in groups:
            groups[group] = []
            out.append(groups[group])
        groups[group].append(unit)
    return out
