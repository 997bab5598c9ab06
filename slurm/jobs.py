"""The callable a SLURM job runs: the work units of one worker, checkpointable.

A job runs one unit, or several that load the same backbone (:func:`benchmarks.runner.worker.bundles`), one after
another in one :class:`~benchmarks.runner.worker.Worker`, so the backbone is loaded once per job. A unit keeps its
progress on disk (restored outputs, result records, prompt checkpoints) and skips what is already there, so on
preemption or time-out :meth:`UnitJob.checkpoint` simply resubmits the same units: the requeued job skips the
finished ones and resumes the others from their folders. A unit that fails does not stop the others of its job: the
job returns each unit's failures or error. ``attempts`` counts the runs (the first is 1), for the job log.
"""
from __future__ import annotations

import socket
import time
import traceback
from typing import Any, Sequence

import submitit


class UnitJob(submitit.helpers.Checkpointable):
    def __init__(self, units: Sequence[Any], attempts: int = 0):
        self.units = list(units)
        self.attempts = attempts

    def __call__(self) -> dict[str, Any]:
        self.attempts += 1
        env = submitit.JobEnvironment()
        keys = ", ".join(u.key for u in self.units)
        print(f"[ypt] unit(s) {keys} attempt {self.attempts} job {env.job_id} on {socket.gethostname()}", flush=True)
        return {"attempts": self.attempts, "units": run_units(self.units)}

    def checkpoint(self, *args: Any, **kwargs: Any) -> submitit.helpers.DelayedSubmission:
        print(f"[ypt] unit(s) {', '.join(u.key for u in self.units)}: checkpoint after attempt {self.attempts}; "
              "requeued, resumes from disk", flush=True)
        return submitit.helpers.DelayedSubmission(UnitJob(self.units, self.attempts))


def run_units(units: Sequence[Any]) -> dict[str, dict[str, Any]]:
    """Run ``units`` one after another in one worker (those already done are skipped); per unit key: ``seconds``,
    ``failures`` (samples that failed alone) and ``error`` (the unit failed as a whole; the others still ran)."""
    from benchmarks.runner.worker import Worker

    worker = Worker()
    results: dict[str, dict[str, Any]] = {}
    try:
        for unit in units:
            start = time.time()
            failures: list[str] = []
            error = None
            try:
                if unit.is_done():
                    print(f"[ypt] unit {unit.key} already done", flush=True)
                else:
                    print(f"[ypt] unit {unit.key} starts", flush=True)
                    failures = [str(f) for f in worker.run(unit, progress=False) or ()]
                    if not failures and not unit.is_done():
                        raise RuntimeError(f"unit {unit.key} ran but is not done (see this log)")
            except Exception as exc:  # reported for this unit; the job's other units go on
                traceback.print_exc()
                error = f"{type(exc).__name__}: {exc}".splitlines()[0]
            for line in failures:
                print(f"[ypt] failed {line}", flush=True)
            results[unit.key] = {"seconds": round(time.time() - start, 3), "failures": failures, "error": error}
    finally:
        worker.close()
    return results
