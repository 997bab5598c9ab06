"""Retraining the video baselines as the paper did (AverNet, ViWS-Net: "we re-trained them on the same training
data"): one :class:`UpstreamTrainUnit` per method, beside the prompt-training units of
:mod:`benchmarks.runner.training`.

A unit stages the WAN training sets (:data:`benchmarks.runner.training.TRAIN_SETS`) in upstream's training layout
once (``staged.json`` marks a complete staging), runs upstream's own training entry point at the configured clone in
the method's environment (:class:`baselines.upstream_training.Retrainable` builds the command; its output goes to
``train.log`` in the run folder), and on success records the checkpoint (:mod:`baselines.retrained`), which the
method's wrapper, and so Tables 1 and 3, then restore with. An interrupted unit (a SLURM time limit, a preemption)
resumes from upstream's own checkpoints in the run folder: the run folder is named by the unit's configuration hash.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from benchmarks.runner.units import Missing, Needs, WorkUnit, dataset_samples, missing_dataset

#: time limit asked per training job: a chosen ceiling, not an estimate (a job cut short requeues and resumes)
DEFAULT_HOURS = 24
#: the methods the suite can retrain
RETRAINABLE = ("avernet", "viwsnet")


@dataclass
class UpstreamTrainUnit(WorkUnit):
    """Retrain ``method`` with upstream's training script on ``datasets`` ((degradation, dataset key) pairs; those
    upstream cannot learn are left out and said so); done when the method's retrained-weights record names this
    configuration."""

    kind = "train-baseline"
    method: str = ""
    datasets: tuple[tuple[str, str], ...] = ()
    data_root: str = ""
    iterations: int | None = None
    settings: dict = field(default_factory=dict)

    # -- what it is -----------------------------------------------------------------------------------------------
    def trainer(self):
        import baselines

        return baselines.get(self.method)

    def used(self) -> dict[str, str]:
        """degradation -> dataset key of the sets upstream's training takes."""
        trainable = self.trainer().TRAINABLE
        return {d: k for d, k in self.datasets if d in trainable}

    def left_out(self) -> list[str]:
        return self.trainer().training_notes(dict(self.datasets))

    @property
    def total(self) -> int:
        return self.iterations or self.trainer().default_iterations()

    @property
    def label(self) -> str:
        return f"{self.method}/{'+'.join(self.used())}"

    def config(self) -> dict[str, Any]:
        return {"kind": self.kind, "method": self.method, "upstream_commit": self.trainer().spec.upstream_commit,
                "datasets": self.used(), "iterations": self.total}

    @property
    def run_dir(self) -> Path:
        from baselines.retrained import run_dir

        return run_dir(self.method, self.config_hash)

    def is_done(self) -> bool:
        from baselines.retrained import read

        record = read(self.method)
        return record is not None and record.config_hash == self.config_hash

    def missing_resources(self) -> list[Missing]:
        found: list[Missing] = []
        for key in self.used().values():
            found += missing_dataset(key, self.data_root)
        for p in self.trainer().training_problems(self.settings):
            found.append(Missing("checkpoint/environment", f"{self.method} training: {p.what}", p.fix))
        return found

    # -- running --------------------------------------------------------------------------------------------------
    def stage(self, progress: bool = True) -> Path:
        """The staged training data (staged once; ``staged.json`` is written last)."""
        import shutil

        from baselines.upstream_training import write_staged

        data, marker = self.run_dir / "data", self.run_dir / "staged.json"
        if marker.is_file():
            return data
        shutil.rmtree(data, ignore_errors=True)
        sets = {d: dataset_samples(k, self.data_root) for d, k in self.used().items()}
        clips, skipped = self.trainer().stage_training(sets, data)
        write_staged(marker, clips, skipped)
        return data

    def run(self, progress: bool = True) -> None:
        from baselines import retrained
        from baselines.config import interpreter, run_environment
        from baselines.external import LOG_TAIL_LINES, run_logged
        from ypt.errors import RunFailed

        trainer = self.trainer()
        data = self.stage(progress)
        command = trainer.training_command(self.settings, self.run_dir, data, self.total)
        argv = [*interpreter(self.settings), *[str(a) for a in command.script_args]]
        env = run_environment(self.settings)
        env.update({k: v for k, v in command.env.items() if k not in (self.settings.get("env") or {})})
        log = self.run_dir / "train.log"
        with open(log, "a", encoding="utf-8") as fh:
            fh.write(f"\n[ypt] {time.strftime('%Y-%m-%dT%H:%M:%S')} {self.describe()}: {command.note}\n"
                     f"$ (cwd={command.cwd}) {' '.join(argv)}\n")
            fh.flush()
            code = run_logged(argv, cwd=command.cwd, env=env, log=fh, what=self.method)
        if code != 0:
            tail = "\n".join(log.read_text(encoding="utf-8", errors="replace").splitlines()[-LOG_TAIL_LINES:])
            raise RunFailed(f"{self.method} training failed (exit {code}); rerun to resume; log {log}; last lines:\n"
                            f"{tail}")
        checkpoint = trainer.finished_checkpoint(self.run_dir, self.total)
        if checkpoint is None:
            raise RunFailed(f"{self.method} training ended without its final checkpoint in {self.run_dir}; log {log}")
        staged = json.loads((self.run_dir / "staged.json").read_text())
        retrained.write(retrained.RetrainedWeights(
            method=self.method, checkpoint=str(checkpoint), datasets=self.used(), iterations=self.total,
            upstream_commit=trainer.repo_head(self.settings) or trainer.spec.upstream_commit,
            config_hash=self.config_hash, finished=time.strftime("%Y-%m-%dT%H:%M:%S"),
            extra={"log": str(log), "clips": len(staged["clips"]), "skipped": staged["skipped"]}))


def retraining_units(methods: Sequence[str], datasets: dict[str, str], data_root: str = "",
                     iterations: int | None = None, hours: float | None = None,
                     settings: dict[str, dict] | None = None) -> list[UpstreamTrainUnit]:
    """One :class:`UpstreamTrainUnit` per method on ``datasets`` (degradation -> dataset key); ``settings``: each
    method's baselines-config section (default: read from the config file)."""
    import baselines
    from baselines.config import method_settings

    units = []
    for method in methods:
        trainer = baselines.get(method)
        gpus = trainer.TRAIN_GPUS
        minutes = int(60 * (hours if hours is not None else DEFAULT_HOURS))
        units.append(UpstreamTrainUnit(
            method=method, datasets=tuple(sorted(datasets.items())), data_root=data_root, iterations=iterations,
            settings=(settings or {}).get(method, method_settings(method)),
            needs=Needs(gpus=gpus, cpus=8 * gpus, mem_gb=64 * gpus, minutes=minutes)))
    return units
