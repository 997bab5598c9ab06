"""The one interface every compared method implements: a :class:`MethodSpec` (metadata) and :class:`Method`
(``restore(samples, out_dir, config) -> RestoreReport``).

Outputs follow the naming contract of :mod:`benchmarks.outputs`: an image sample ``<out>/<id>.png``, a video
sample ``<out>/<id>/<index:05d>.png``. :meth:`Method.restore` checks every sample got its output and writes
``<out>/restore_report-<token>.json``; staging folders and logs are named by the same per-call token, so shards
of one dataset can restore into the same folder concurrently. Any method can instead import a folder of outputs
produced elsewhere (``RestoreConfig.precomputed``), matched to samples by id.

This module imports no torch, diffusers or pyiqa: listing methods stays cheap.
"""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Callable, Sequence

from baselines.inputs import INPUTS_DIR, as_image_samples, check_inputs
from baselines.precomputed import import_outputs
from baselines.spec import (  # noqa: F401  (the interface's names, importable from here too)
    REPORT_PREFIX,
    BaselineError,
    Checkpoint,
    MethodSpec,
    MissingOutputsError,
    Problem,
    RestoreConfig,
    RestoreReport,
    Sample,
    SetupError,
    expected_frame_count,
)
from ypt.errors import RunFailed

def _frames_rule(method: str, settings: dict[str, Any] | None) -> Callable[[Sample], int | None]:
    """The registered method's own output frame count under ``settings`` (e.g. WAN keeps the largest 4k+1 of its
    ``video_frames``), else the input's."""
    from baselines import METHODS

    if method in METHODS:
        return lambda s: METHODS.get(method).expected_frames(s, settings)
    return expected_frame_count


def collect_outputs(method: str, samples: Sequence[Sample], out_dir: Path, log: Path | None = None,
                    settings: dict[str, Any] | None = None) -> dict[str, list[Path]]:
    """Every sample's output paths under the naming contract; raises :class:`MissingOutputsError` listing the
    samples without one (or, for a video, with another number of frames than the method writes with
    ``settings``)."""
    outputs, missing = find_outputs(method, samples, out_dir, settings)
    if missing:
        raise MissingOutputsError(method, missing, out_dir, log)
    return outputs


def find_outputs(method: str, samples: Sequence[Sample], out_dir: Path,
                 settings: dict[str, Any] | None = None) -> tuple[dict[str, list[Path]], list[str]]:
    """(output paths of the samples that have their output, descriptions of those that do not)."""
    from benchmarks.outputs import find_video_frames, image_output_path

    expected = _frames_rule(method, settings)
    outputs: dict[str, list[Path]] = {}
    missing: list[str] = []
    for s in samples:
        if s.modality == "video":
            frames = find_video_frames(out_dir, s.id)
            want = expected(s)
            if not frames or len(frames) != want:
                missing.append(f"{s.id} ({len(frames)}/{want} frames)" if frames else s.id)
                continue
            outputs[s.id] = frames
        else:
            path = image_output_path(out_dir, s.id)
            if not path.is_file():
                missing.append(s.id)
                continue
            outputs[s.id] = [path]
    return outputs, missing


class Method:
    """Base class: subclasses set ``spec`` and implement :meth:`run` (and :meth:`problems` when they need setup)."""

    spec: MethodSpec
    #: the diffusion backbone whose prompts this method restores with (``flux`` / ``wan``: the plan trains them
    #: first and costs the method by that backbone's sampling), None for every other method
    backbone: str | None = None

    def __init__(self, spec: MethodSpec):
        self.spec = spec

    @property
    def key(self) -> str:
        return self.spec.key


    #: settings that say where or how a method runs, not what it computes (left out of :meth:`identity`)
    RUNTIME_SETTINGS = frozenset({"python", "conda_env", "conda", "env", "repo", "stage_dir", "device"})

    def identity(self, settings: dict[str, Any]) -> dict[str, Any]:
        """What determines this method's outputs, for content-addressed run folders (``config_hash``): the key,
        the pinned upstream commit and the settings that change results (checkpoint, variant, steps, ...)."""
        return {"method": self.key, "upstream_commit": self.spec.upstream_commit,
                "settings": {k: v for k, v in sorted(settings.items()) if k not in self.RUNTIME_SETTINGS}}

    def load_key(self, settings: dict[str, Any]) -> str | None:
        """What this method loads in-process to restore with ``settings`` (e.g. a backbone at one precision on one
        device), as a key: calls with the same key can share one load (``RestoreConfig.models``; the benchmark runs
        such units in one worker). None (default): nothing worth sharing (external methods run their own process)."""
        return None

    def expected_frames(self, sample: Sample, settings: dict[str, Any] | None = None) -> int | None:
        """How many output frames this method writes for a video sample with ``settings`` (default: one per input
        frame)."""
        return expected_frame_count(sample)

    # -- to implement -------------------------------------------------------------------------------------------
    def problems(self, settings: dict[str, Any]) -> list[Problem]:
        """What is missing to run (repository, environment, checkpoints); empty when ready. ``list`` calls it for
        every method: it must stay cheap (file checks, no heavy imports)."""
        return []

    def run(self, samples: Sequence[Sample], out_dir: Path, config: RestoreConfig, report: RestoreReport) -> None:
        """Write one output per sample under ``out_dir`` (naming contract); record commands/weights/notes."""
        raise NotImplementedError

    # -- readiness ----------------------------------------------------------------------------------------------
    def spec_problems(self) -> list[Problem]:
        """A spec still holding placeholders (a scaffolded method) is not ready to run."""
        where = f"baselines/methods/{self.key}.py"
        return [Problem(f"{self.key}: SPEC incomplete: {what}", f"fill it in {where}")
                for what in self.spec.incomplete()]

    def readiness(self, settings: dict[str, Any]) -> list[Problem]:
        """Everything missing before this method can run: an incomplete spec, then :meth:`problems`."""
        return self.spec_problems() + self.problems(settings)

    # -- the operation ------------------------------------------------------------------------------------------
    def setup_problems(self, settings: dict[str, Any], samples: Sequence[Sample]) -> list[Problem]:
        """What stops restoring these samples (default: everything :meth:`problems` finds; an incomplete spec is
        reported by ``check`` and the planner, while its own test may still drive it)."""
        return self.problems(settings)

    def restore(self, samples: Sequence[Sample], out_dir: str | Path, config: RestoreConfig | None = None
                ) -> RestoreReport:
        config = config or RestoreConfig()
        samples = list(samples)
        out_dir = Path(out_dir).resolve()  # upstream commands run in their own cwd
        out_dir.mkdir(parents=True, exist_ok=True)
        _check_unique_ids(samples)
        report = RestoreReport(method=self.key, out_dir=out_dir, outputs={}, token=_call_token(samples))
        start = time.perf_counter()
        if config.precomputed is not None:
            report.source = "precomputed"
            import_outputs(samples, Path(config.precomputed), out_dir, report,
                           lambda s: self.expected_frames(s, config.settings))
        else:
            unsupported = [s.id for s in samples if s.modality not in self.spec.modalities]
            if unsupported:
                raise BaselineError(
                    f"{self.key} restores {'/'.join(self.spec.modalities)} only; got other samples: "
                    f"{', '.join(unsupported[:5])}")
            problems = self.setup_problems(config.settings, samples)
            if problems:
                raise SetupError(self.key, problems)
            todo = ([s for s in samples if not _has_output(self.key, s, out_dir, config.settings)]
                    if config.resume else samples)
            if len(todo) < len(samples):
                report.notes.append(f"resume: {len(samples) - len(todo)} sample(s) already restored, kept")
            report.originals = {s.id: s.input for s in todo}
            inputs_dir = out_dir / INPUTS_DIR / report.token
            staged = as_image_samples(check_inputs(todo, report), inputs_dir, report)
            run_error = ""
            failure: RunFailed | None = None
            try:
                if staged:
                    self.run(staged, out_dir, config, report)
            except RunFailed as err:  # the method stopped: whatever it wrote is kept
                report.upstream_errors.append(err)
            finally:  # interrupted too: no staging copies left behind (the outputs written so far are kept)
                if not config.keep_work:
                    import shutil

                    shutil.rmtree(inputs_dir, ignore_errors=True)
                    _remove_if_empty(out_dir / INPUTS_DIR)
            if report.upstream_errors:  # an upstream command failed: whatever it wrote was mapped back
                failure = report.upstream_errors[0]
                run_error = str(failure)
                report.notes += [str(e) for e in report.upstream_errors]
            outputs, _ = find_outputs(self.key, todo, out_dir, config.settings)
            if failure is not None and not outputs:
                raise failure  # nothing to keep: the method failed as a whole, not sample by sample
            for s in todo:
                if s.id not in outputs and not report.failed(s.id):
                    report.fail(s, "restore", run_error or "the method wrote no output for it"
                                + (f" (see the log {report.log})" if report.log else ""))
        report.outputs = (find_outputs(self.key, samples, out_dir, config.settings)[0] if report.failures else
                          collect_outputs(self.key, samples, out_dir, report.log, config.settings))
        report.seconds = time.perf_counter() - start
        from ypt.files import atomic_write_text

        atomic_write_text(out_dir / f"{REPORT_PREFIX}-{report.token}.json", json.dumps(report.to_json(), indent=2))
        return report


def _call_token(samples: Sequence[Sample]) -> str:
    import os

    from ypt.provenance import config_hash

    return config_hash({"ids": [s.id for s in samples], "pid": os.getpid(), "t": time.time_ns()}, 10)


def _remove_if_empty(folder: Path) -> None:
    try:
        folder.rmdir()
    except OSError:
        pass


def _has_output(method: str, sample: Sample, out_dir: Path, settings: dict[str, Any] | None = None) -> bool:
    try:
        collect_outputs(method, [sample], out_dir, settings=settings)
    except MissingOutputsError:
        return False
    return True


def _check_unique_ids(samples: Sequence[Sample]) -> None:
    seen: set[str] = set()
    for s in samples:
        if s.id in seen:
            raise BaselineError(f"duplicate sample id {s.id!r}: outputs are named by id, ids must be unique")
        seen.add(s.id)


def progress(iterable, total: int | None = None, description: str = "", enabled: bool = True):
    """Iterate with a rich progress bar (plain iteration when disabled)."""
    if not enabled:
        yield from iterable
        return
    from rich.progress import track

    yield from track(iterable, total=total, description=description, transient=True)
