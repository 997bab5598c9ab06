"""Cluster profiles: small TOML files ``slurm/clusters/<name>.toml`` (or ``$YPT_SLURM_CLUSTERS/<name>.toml``).

Keys (all optional but ``partition``): ``partition``, ``account``, ``qos``, ``constraint`` (e.g. ``"h100"``),
``gpus_per_node``, ``cpus_per_task``, ``mem_gb``, ``timeout_min``, ``array_parallelism``, ``setup`` (shell lines run
before each job), ``additional`` (a table of extra ``#SBATCH`` options). A work unit's own needs are clipped to the
profile: a unit that needs no GPU asks for none; one that needs more memory than the profile offers is an error.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ypt.errors import UsageError

CLUSTERS_DIR = Path(__file__).resolve().parent / "clusters"
CLUSTERS_ENV = "YPT_SLURM_CLUSTERS"

_KNOWN = {"partition", "account", "qos", "constraint", "gpus_per_node", "cpus_per_task", "mem_gb", "timeout_min",
          "array_parallelism", "setup", "additional"}


class ProfileError(UsageError):
    """A missing or malformed cluster profile; the message names the file and the valid profiles."""


@dataclass(frozen=True)
class ClusterProfile:
    name: str
    partition: str
    account: str = ""
    qos: str = ""
    constraint: str = ""
    gpus_per_node: int = 0
    cpus_per_task: int = 4
    mem_gb: float = 16
    timeout_min: int = 60
    array_parallelism: int = 32
    setup: tuple[str, ...] = ()
    additional: dict[str, Any] = field(default_factory=dict)
    source: Path | None = None

    def job_parameters(self, gpus: int = 0, cpus: int | None = None, mem_gb: float | None = None,
                       minutes: int | None = None) -> dict[str, Any]:
        """submitit ``update_parameters`` keywords for one job needing ``gpus``/``cpus``/``mem_gb``/``minutes``."""
        if gpus > self.gpus_per_node:
            raise ProfileError(f"a unit needs {gpus} GPU(s) but cluster profile {self.name!r} offers "
                               f"gpus_per_node = {self.gpus_per_node} ({self.source})")
        if mem_gb is not None and mem_gb > self.mem_gb:
            raise ProfileError(f"a unit needs {mem_gb:g} GB of memory but cluster profile {self.name!r} offers "
                               f"mem_gb = {self.mem_gb:g} ({self.source})")
        params: dict[str, Any] = {
            "slurm_partition": self.partition,
            "cpus_per_task": min(cpus or self.cpus_per_task, self.cpus_per_task),
            "mem_gb": mem_gb if mem_gb is not None else self.mem_gb,
            "timeout_min": min(minutes or self.timeout_min, self.timeout_min),
            "slurm_array_parallelism": self.array_parallelism,
            "tasks_per_node": 1,
            "nodes": 1,
        }
        if gpus:
            params["gpus_per_node"] = gpus
        if self.account:
            params["slurm_account"] = self.account
        if self.qos:
            params["slurm_qos"] = self.qos
        if self.constraint and gpus:
            params["slurm_constraint"] = self.constraint
        if self.setup:
            params["slurm_setup"] = list(self.setup)
        if self.additional:
            params["slurm_additional_parameters"] = dict(self.additional)
        return params


def timeout_requeues(minutes: int, limit: int) -> int:
    """How often a unit that needs ``minutes`` may time out under a per-job limit of ``limit`` minutes and be
    requeued: every slice of the limit but the last, plus two spare requeues for the time lost to restarts and
    checkpoints (at least submitit's default of 3). A 24-hour training unit under a 4-hour limit: 5 + 2 = 7."""
    slices = -(-max(minutes, 1) // max(limit, 1))
    return max(3, slices - 1 + 2)


def profile_dirs() -> list[Path]:
    dirs = [Path(os.environ[CLUSTERS_ENV]).expanduser()] if os.environ.get(CLUSTERS_ENV) else []
    return dirs + [CLUSTERS_DIR]


def available_profiles() -> list[str]:
    names: set[str] = set()
    for d in profile_dirs():
        if d.is_dir():
            names.update(p.stem for p in d.glob("*.toml"))
    return sorted(names)


def load_profile(name_or_path: str | Path) -> ClusterProfile:
    """The profile named ``name`` (searched in ``$YPT_SLURM_CLUSTERS`` then ``slurm/clusters``) or at a path."""
    import tomllib

    candidate = Path(name_or_path).expanduser()
    if candidate.suffix == ".toml" and candidate.is_file():
        path = candidate
    else:
        found = [d / f"{name_or_path}.toml" for d in profile_dirs() if (d / f"{name_or_path}.toml").is_file()]
        if not found:
            raise ProfileError(f"no cluster profile {str(name_or_path)!r}; available: "
                               f"{', '.join(available_profiles()) or '(none)'} in "
                               f"{', '.join(str(d) for d in profile_dirs())}. Copy slurm/clusters/h100.toml to "
                               f"add one.")
        path = found[0]
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(f"cannot parse cluster profile {path}: {exc}") from None
    unknown = sorted(set(data) - _KNOWN)
    if unknown:
        raise ProfileError(f"unknown key(s) {', '.join(unknown)} in {path}; valid: {', '.join(sorted(_KNOWN))}")
    if not data.get("partition"):
        raise ProfileError(f"cluster profile {path} must set partition")
    data["setup"] = tuple(data.get("setup", ()))
    return ClusterProfile(name=path.stem, source=path, **data)
