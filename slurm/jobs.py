"""The callable a SLURM job runs: one work unit, checkpointable.

A unit keeps its progress on disk (restored outputs, result records, prompt checkpoints) and skips what is already
there, so on preemption or time-out :meth:`UnitJob.checkpoint` simply resubmits the same unit: the requeued job
resumes from its folder. ``attempts`` counts the runs (the first is 1), for the job log.
"""
from __future__ import annotations

import socket
import time
from typing import Any

import submitit


class UnitJob(submitit.helpers.Checkpointable):
    def __init__(self, unit: Any, attempts: int = 0):
        self.unit = unit
        self.attempts = attempts

    def __call__(self) -> dict[str, Any]:
        self.attempts += 1
        env = submitit.JobEnvironment()
        print(f"[ypt] unit {self.unit.key} attempt {self.attempts} job {env.job_id} on {socket.gethostname()}",
              flush=True)
        start = time.time()
        failures = [str(f) for f in self.unit.run(progress=False) or ()]
        for line in failures:
            print(f"[ypt] failed {line}", flush=True)
        if not failures and not self.unit.is_done():
            raise RuntimeError(f"unit {self.unit.key} ran but is not done (see this log)")
        return {"unit": self.unit.key, "attempts": self.attempts, "seconds": round(time.time() - start, 3),
                "failures": failures}

    def checkpoint(self, *args: Any, **kwargs: Any) -> submitit.helpers.DelayedSubmission:
        print(f"[ypt] unit {self.unit.key}: checkpoint after attempt {self.attempts}; requeued, resumes from disk",
              flush=True)
        return submitit.helpers.DelayedSubmission(UnitJob(self.unit, self.attempts))
