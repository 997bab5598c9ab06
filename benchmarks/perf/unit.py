"""``python -m benchmarks.perf --executor slurm --cluster NAME``: the perf run as one SLURM job on a GPU node.

The job runs ``python -m benchmarks.perf`` with the same options and writes its document into ``--out`` (shared
storage, like the result store), where ``benchmarks.run --dry-run`` then finds measured step times for its cost
line. The unit is content-addressed by the options and the code version: it is done when a document in ``--out``
carries its key (``settings.unit``), so rerunning the command measures again only after the code changed.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.runner.units import Needs, WorkUnit
from ypt.errors import RunFailed


def _gpu_node() -> Needs:
    """One GPU, and host CPUs and memory enough to build the full-size models; an hour's time limit (the run's
    duration on a GPU has not been measured yet)."""
    return Needs(gpus=1, cpus=8, mem_gb=96, minutes=60)


@dataclass
class PerfUnit(WorkUnit):
    kind = "perf"
    #: ``python -m benchmarks.perf`` options other than ``--out`` (and the executor options)
    args: tuple[str, ...] = ()
    out: str = "results/perf"
    code_version: str = ""
    needs: Needs = field(default_factory=_gpu_node)

    @property
    def label(self) -> str:
        return "benchmarks.perf"

    def config(self) -> dict:
        return {"kind": "perf", "args": list(self.args), "code_version": self.code_version}

    def documents(self) -> list[dict]:
        found = []
        out = Path(self.out)
        for path in sorted([*out.glob("*.json"), *out.glob("quick/*.json")]):
            if path.name == "latest.json":
                continue
            try:
                found.append(json.loads(path.read_text()))
            except (OSError, ValueError):
                continue
        return found

    def is_done(self) -> bool:
        return any(doc.get("settings", {}).get("unit") == self.key for doc in self.documents())

    def run(self, progress: bool = True) -> None:
        from benchmarks.perf.measure import main

        code = main([*self.args, "--out", self.out, "--unit", self.key])
        if code:
            raise RunFailed(f"python -m benchmarks.perf {' '.join(self.args)} exited with {code} (rows with "
                               "errors are in the document and this log)")


def perf_unit(args: list[str], out: str | Path) -> PerfUnit:
    from ypt.provenance import code_version

    return PerfUnit(args=tuple(args), out=str(Path(out).resolve()), code_version=code_version())
