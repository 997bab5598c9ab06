"""Run work units as SLURM job arrays through submitit: the ``slurm`` executor, registered with the runner through
the ``ypt_bench.executors`` entry point (pyproject.toml), so the runner never imports this backend.

Per dependency wave, the units that are not done are grouped into jobs: the units that load the same backbone at the
same settings run in one job, per shard index (one worker loads it once: :mod:`benchmarks.runner.worker`), every
other unit in its own; jobs that ask for the same resources and time are submitted as one job array
(``executor.batch()``). Every unit gets a predictable folder
``<log_root>/<unit key>/`` holding ``job.json`` (job ids of every submission) and ``stdout``/``stderr`` links to
the current job's submitit logs (submitit's own folder is ``<log_root>/jobs/<job id>/``). Jobs are
:class:`slurm.jobs.UnitJob`: preempted or timed-out jobs checkpoint and requeue, resuming from the unit's folder.
A unit that fails inside a job is reported failed with the job's log, the job's other units go on; when a job dies
(cancelled, node failure), its units that had not finished are reported failed; rerunning the same plan submits only
what is still missing. Results are collected from disk by the caller, never from job return values.
"""
from __future__ import annotations

import json
import subprocess
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from benchmarks.runner.execute import run_waves, unit_log_dir
from benchmarks.runner.units import Outcome
from slurm.profiles import ClusterProfile, available_profiles, load_profile, timeout_requeues
from ypt.errors import RunFailed, UsageError


@dataclass
class Submitted:
    unit: Any
    job: Any  # submitit.Job


def _resources(unit) -> tuple:
    n = unit.needs
    return (n.gpus, n.cpus, n.mem_gb)


class SlurmRunner:
    def __init__(self, profile: ClusterProfile, log_root: Path | str, poll_s: float = 1.0, progress: bool = True):
        self.profile = profile
        self.log_root = Path(log_root).resolve()
        self.poll_s = poll_s
        self.progress = progress

    # -- submission ---------------------------------------------------------------------------------------------
    def submit(self, units: Sequence) -> list[Submitted]:
        """Submit ``units``: one job per worker bundle (the units of one load key and shard index together, every
        other unit alone; :func:`benchmarks.runner.worker.bundles`), asking for the bundle's summed time; one job
        array per group of equal requests. Returns without waiting."""
        import submitit

        from benchmarks.runner.worker import bundles
        from slurm.jobs import UnitJob

        by_resources: dict[tuple, list] = defaultdict(list)
        for u in units:
            by_resources[_resources(u)].append(u)
        arrays: dict[tuple, list[list]] = defaultdict(list)
        for (gpus, cpus, mem_gb), group in by_resources.items():
            for bundle in bundles(group, per_shard=True):
                arrays[(gpus, cpus, mem_gb, sum(u.needs.minutes for u in bundle))].append(bundle)
        submitted: list[Submitted] = []
        for (gpus, cpus, mem_gb, minutes), jobs_units in arrays.items():
            params = self.profile.job_parameters(gpus, cpus, mem_gb, minutes)
            # a job longer than the profile's time limit times out, checkpoints and requeues as often as it needs
            executor = submitit.AutoExecutor(folder=self.log_root / "jobs" / "%j", cluster="slurm",
                                             slurm_max_num_timeout=timeout_requeues(minutes, params["timeout_min"]))
            executor.update_parameters(name=f"ypt-{jobs_units[0][0].kind}", **params)
            jobs = []
            count = sum(len(b) for b in jobs_units)
            try:
                with executor.batch():
                    for bundle in jobs_units:
                        jobs.append(executor.submit(UnitJob(bundle)))
            except (submitit.core.utils.FailedJobError, submitit.core.utils.FailedSubmissionError,
                    subprocess.CalledProcessError, OSError) as err:
                reason = str(err).strip().splitlines()[-1] if str(err).strip() else type(err).__name__
                raise RunFailed(f"sbatch refused the job array of {count} {jobs_units[0][0].kind} unit(s) asking "
                                f"for {gpus} GPU(s), {cpus} CPUs, {mem_gb:g} GB, {params['timeout_min']} min on "
                                f"partition {self.profile.partition!r}: {reason}. Check the cluster profile "
                                f"{self.profile.source} (partition, gpus_per_node, constraint, account)") from None
            for bundle, job in zip(jobs_units, jobs):
                for u in bundle:
                    self._record(u, job)
                    submitted.append(Submitted(u, job))
        return submitted

    def _record(self, unit, job) -> None:
        from ypt.files import atomic_write_text

        folder = unit_log_dir(self.log_root, unit)
        folder.mkdir(parents=True, exist_ok=True)
        info_path = folder / "job.json"
        history = json.loads(info_path.read_text()) if info_path.is_file() else {"unit": unit.key, "jobs": []}
        history["jobs"].append({"job_id": job.job_id, "submitted": time.strftime("%Y-%m-%dT%H:%M:%S"),
                                "stdout": str(job.paths.stdout), "stderr": str(job.paths.stderr),
                                "cluster": self.profile.name})
        atomic_write_text(info_path, json.dumps(history, indent=2))
        for name, target in (("stdout", job.paths.stdout), ("stderr", job.paths.stderr)):
            link = folder / name
            if link.is_symlink() or link.exists():
                link.unlink()
            link.symlink_to(target)

    # -- waiting ------------------------------------------------------------------------------------------------
    def wait(self, submitted: Sequence[Submitted]) -> list[Outcome]:
        """Block until every job has finished (requeued jobs included); one outcome per unit."""
        pending = list(submitted)
        outcomes: dict[str, Outcome] = {}
        bar = None
        if self.progress and pending:
            from rich.progress import Progress

            bar = Progress(transient=False)
            bar.start()
            task = bar.add_task(f"SLURM jobs ({self.profile.name})", total=len(pending))
        last_force = time.time()
        try:
            while pending:
                force = time.time() - last_force > 10 * self.poll_s
                if force:
                    last_force = time.time()
                still = []
                for s in pending:
                    if s.job.done(force_check=force):
                        outcomes[s.unit.key] = self._outcome(s)
                        if bar is not None:
                            bar.advance(task)
                    else:
                        still.append(s)
                pending = still
                if pending:
                    time.sleep(self.poll_s)
        finally:
            if bar is not None:
                bar.stop()
        return [outcomes[s.unit.key] for s in submitted]

    def _outcome(self, s: Submitted) -> Outcome:
        """The unit's outcome from its job: the job's report for this unit when the job finished, else (the job
        died) done when the unit finished before, failed otherwise."""
        log = unit_log_dir(self.log_root, s.unit) / "stderr"
        error = s.job.exception()
        if error is None:
            ran = (s.job.result() or {}).get("units", {}).get(s.unit.key)
            if ran is None:
                return Outcome(s.unit.key, "failed", log=log, job_id=s.job.job_id,
                               error="the job finished without a report of this unit")
            if ran.get("error"):
                return Outcome(s.unit.key, "failed", log=log, job_id=s.job.job_id, error=ran["error"])
            if ran.get("failures"):
                return Outcome(s.unit.key, "partial", log=log, job_id=s.job.job_id, failures=ran["failures"],
                               error=f"{len(ran['failures'])} sample(s) failed, the others are done")
            if s.unit.is_done():
                return Outcome(s.unit.key, "done", log=log, job_id=s.job.job_id)
        elif s.unit.is_done():  # finished before its job died (a later unit of the same job did not)
            return Outcome(s.unit.key, "done", log=log, job_id=s.job.job_id)
        state = s.job.state
        message = f"job {state}" + (f": {str(error).strip().splitlines()[-1]}" if error and str(error).strip() else "")
        return Outcome(s.unit.key, "failed", log=log, error=message, job_id=s.job.job_id)

    # -- the whole plan -----------------------------------------------------------------------------------------
    def run(self, units: Sequence) -> list[Outcome]:
        """Per dependency wave, one job per worker bundle, in job arrays of equal requests; waits for each wave."""
        return run_waves(units, lambda todo: self.wait(self.submit(todo)) if todo else [])


class SlurmExecutor(SlurmRunner):
    """The ``slurm`` executor: ``SlurmExecutor(log_root, cluster=NAME)`` loads the cluster profile ``NAME``."""

    def __init__(self, log_root: Path | str, cluster: str | None = None, progress: bool = True):
        if not cluster:
            raise UsageError(f"--executor slurm needs --cluster NAME (profiles: {', '.join(available_profiles())})")
        super().__init__(load_profile(cluster), log_root, progress=progress)
