"""Run work units as SLURM job arrays through submitit: the ``slurm`` executor, registered with the runner through
the ``ypt_bench.executors`` entry point (pyproject.toml), so the runner never imports this backend.

Per dependency wave, the units that are not done are grouped by what they need (GPUs, CPUs, memory, time) and each
group is submitted as one job array (``executor.batch()``). Every unit gets a predictable folder
``<log_root>/<unit key>/`` holding ``job.json`` (job ids of every submission) and ``stdout``/``stderr`` links to
the current job's submitit logs (submitit's own folder is ``<log_root>/jobs/<job id>/``). Jobs are
:class:`slurm.jobs.UnitJob`: preempted or timed-out jobs checkpoint and requeue, resuming from the unit's folder.
A job that dies (cancelled, node failure, error) is reported as a failed unit with its log; rerunning the same plan
submits only what is still missing. Results are collected from disk by the caller, never from job return values.
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


def _needs_key(unit) -> tuple:
    n = unit.needs
    return (n.gpus, n.cpus, n.mem_gb, n.minutes)


class SlurmRunner:
    def __init__(self, profile: ClusterProfile, log_root: Path | str, poll_s: float = 1.0, progress: bool = True):
        self.profile = profile
        self.log_root = Path(log_root).resolve()
        self.poll_s = poll_s
        self.progress = progress

    # -- submission ---------------------------------------------------------------------------------------------
    def submit(self, units: Sequence) -> list[Submitted]:
        """Submit ``units`` (one job array per group of equal needs); returns without waiting."""
        import submitit

        from slurm.jobs import UnitJob

        groups: dict[tuple, list] = defaultdict(list)
        for u in units:
            groups[_needs_key(u)].append(u)
        submitted: list[Submitted] = []
        for (gpus, cpus, mem_gb, minutes), group in groups.items():
            params = self.profile.job_parameters(gpus, cpus, mem_gb, minutes)
            # a unit longer than the profile's time limit times out, checkpoints and requeues as often as it needs
            executor = submitit.AutoExecutor(folder=self.log_root / "jobs" / "%j", cluster="slurm",
                                             slurm_max_num_timeout=timeout_requeues(minutes, params["timeout_min"]))
            executor.update_parameters(name=f"ypt-{group[0].kind}", **params)
            jobs = []
            try:
                with executor.batch():
                    for u in group:
                        jobs.append(executor.submit(UnitJob(u)))
            except (submitit.core.utils.FailedJobError, submitit.core.utils.FailedSubmissionError,
                    subprocess.CalledProcessError, OSError) as err:
                reason = str(err).strip().splitlines()[-1] if str(err).strip() else type(err).__name__
                raise RunFailed(f"sbatch refused the job array of {len(group)} {group[0].kind} unit(s) asking for "
                                f"{gpus} GPU(s), {cpus} CPUs, {mem_gb:g} GB, {params['timeout_min']} min on partition "
                                f"{self.profile.partition!r}: {reason}. Check the cluster profile "
                                f"{self.profile.source} (partition, gpus_per_node, constraint, account)") from None
            for u, job in zip(group, jobs):
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
        log = unit_log_dir(self.log_root, s.unit) / "stderr"
        error = s.job.exception()
        if error is None:
            failures = (s.job.result() or {}).get("failures", [])
            if failures:
                return Outcome(s.unit.key, "partial", log=log, job_id=s.job.job_id, failures=failures,
                               error=f"{len(failures)} sample(s) failed, the others are done")
            if s.unit.is_done():
                return Outcome(s.unit.key, "done", log=log, job_id=s.job.job_id)
        state = s.job.state
        message = f"job {state}" + (f": {str(error).strip().splitlines()[-1]}" if error and str(error).strip() else "")
        return Outcome(s.unit.key, "failed", log=log, error=message, job_id=s.job.job_id)

    # -- the whole plan -----------------------------------------------------------------------------------------
    def run(self, units: Sequence) -> list[Outcome]:
        """Per dependency wave, one job array per group of equal needs; waits for each wave."""
        return run_waves(units, lambda todo: self.wait(self.submit(todo)) if todo else [])


class SlurmExecutor(SlurmRunner):
    """The ``slurm`` executor: ``SlurmExecutor(log_root, cluster=NAME)`` loads the cluster profile ``NAME``."""

    def __init__(self, log_root: Path | str, cluster: str | None = None, progress: bool = True):
        if not cluster:
            raise UsageError(f"--executor slurm needs --cluster NAME (profiles: {', '.join(available_profiles())})")
        super().__init__(load_profile(cluster), log_root, progress=progress)
