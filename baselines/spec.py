"""What every compared method is, without running it: its metadata (:class:`MethodSpec`), what it needs from a
sample, the setup problems and failures it reports, how it is asked to run (:class:`RestoreConfig`) and what a run
reports (:class:`RestoreReport`). The operation itself is :class:`baselines.base.Method`.

This module imports no torch, diffusers or pyiqa: listing methods stays cheap.
"""
from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Protocol, Sequence, runtime_checkable

from baselines.downloads import RuntimeDownload
from benchmarks.datasets.sample import SAMPLE_FAULTS, SampleFailure

from ypt.errors import MissingResource, RunFailed, UsageError, YPTError

if TYPE_CHECKING:
    from baselines.loaded import LoadedModels

REPORT_PREFIX = "restore_report"


@runtime_checkable
class Sample(Protocol):
    """What a method needs from a dataset sample (``benchmarks.datasets``).

    ``input``/``target``: one image path, or a list of frame paths for a video; ``target`` is None without a
    reference. ``degradation``: tuple of degradation names, e.g. ``("lowlight", "blur")``.
    """

    id: str
    input: Any
    target: Any
    degradation: tuple
    modality: str
    dataset: str


@dataclass(frozen=True)
class Checkpoint:
    """A weights file a method needs: its file name, where it is published, and the config key overriding it."""

    name: str
    url: str
    #: where upstream expects it, relative to the repository (None: anywhere, passed on the command line)
    repo_path: str | None = None


@dataclass(frozen=True)
class MethodSpec:
    """Everything a results table or a user needs to know about a method, without running it."""

    key: str
    display_name: str
    citation: str
    modalities: tuple[str, ...]
    degradations: tuple[str, ...]
    #: how the method is invoked (the upstream command, or "in-process")
    invocation: str
    #: how input/output resolution is handled
    resolution: str
    upstream_repo: str | None = None
    upstream_commit: str | None = None
    checkpoints: tuple[Checkpoint, ...] = ()
    #: which weights are used, when they are not simply the published ones (e.g. retrained by the paper's authors)
    weights_note: str = ""
    #: True when the method runs an upstream repository in its own environment (needs a config section)
    external: bool = False
    #: files inside the upstream repository the wrapper runs (checked by ``check``)
    entry_files: tuple[str, ...] = ()
    #: what upstream downloads when it runs (prefetched by ``benchmarks.prefetch``, checked by ``check``)
    downloads: tuple[RuntimeDownload, ...] = ()

    def incomplete(self) -> list[str]:
        """What of this spec is still a placeholder (a freshly scaffolded method): empty for a complete spec."""
        import re

        found = []
        if self.external:
            if not re.fullmatch(r"[0-9a-f]{40}", self.upstream_commit or ""):
                found.append(f"upstream_commit {self.upstream_commit!r} is not a 40-hex commit")
            if not self.upstream_repo or "<" in self.upstream_repo:
                found.append(f"upstream_repo {self.upstream_repo!r} is a placeholder")
            if not self.checkpoints or any(not c.url.startswith("https://") for c in self.checkpoints):
                found.append("every checkpoint needs its https:// URL")
            if not self.entry_files:
                found.append("entry_files is empty")
            if not self.citation:
                found.append("citation is missing")
        if "<" in self.citation:
            found.append("citation is a placeholder")
        return found

    def covers(self, modality: str, degradation: Iterable[str]) -> bool:
        return modality in self.modalities and all(d in self.degradations for d in degradation)

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class Problem:
    """One missing piece of a method's setup, with how to fix it. ``kind`` ``prompt``: a trained prompt, which a
    plan that trains it first does not wait for (every other kind blocks the method's units)."""

    what: str
    fix: str
    kind: str = "setup"

    def __str__(self) -> str:
        return f"{self.what}\n    fix: {self.fix}"


class BaselineError(YPTError):
    """A method cannot run; the message says what is missing and how to fix it (never a bare traceback)."""


class ConfigError(BaselineError, UsageError):
    """The baselines config file cannot be read."""


class SetupError(BaselineError, MissingResource):
    def __init__(self, method: str, problems: Sequence[Problem]):
        self.method, self.problems = method, list(problems)
        lines = "\n  - ".join(str(p) for p in self.problems)
        super().__init__(f"method {method!r} is not ready:\n  - {lines}")


class MissingOutputsError(BaselineError, RunFailed):
    def __init__(self, method: str, missing: Sequence[str], out_dir: Path, log: Path | None = None):
        self.missing = list(missing)
        shown = ", ".join(self.missing[:10]) + (" ..." if len(self.missing) > 10 else "")
        where = f"; see the log {log}" if log else ""
        super().__init__(f"{method}: no output for {len(self.missing)} sample(s) in {out_dir}: {shown}{where}")


@dataclass
class RestoreConfig:
    """How to run one method: its settings section (repo, python/conda_env, checkpoint, ...), or a folder of
    precomputed outputs to import instead."""

    settings: dict[str, Any] = field(default_factory=dict)
    precomputed: Path | None = None
    #: keep the staging folders (``<out>/_work/<key>-<token>``, ``<out>/_inputs/<token>``) after a successful run
    keep_work: bool = False
    #: show rich progress bars
    progress: bool = True
    #: restore only the samples whose output is missing (outputs already in ``out_dir`` are kept)
    resume: bool = False
    #: models loaded by earlier calls of this process, for the methods that load one in-process to reuse
    #: (:class:`baselines.loaded.LoadedModels`; None: the call loads its own)
    models: LoadedModels | None = None


@dataclass
class RestoreReport:
    """What a restore call did: outputs per sample id, the commands run, the weights used, where the log is."""

    method: str
    out_dir: Path
    outputs: dict[str, list[Path]]
    commands: list[list[str]] = field(default_factory=list)
    weights: dict[str, Any] = field(default_factory=dict)
    log: Path | None = None
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    source: str = "run"  # "run" or "precomputed"
    #: unique to this call: names its staging folders, log and report file
    token: str = ""
    work_dir: Path | None = None
    #: samples that failed alone (unreadable input, no output written): every other sample is restored
    failures: list[SampleFailure] = field(default_factory=list)
    #: the dataset's own files per sample id (what a failure names, not a staged copy)
    originals: dict[str, Any] = field(default_factory=dict)
    #: upstream commands that failed (their outputs so far are still mapped back to the samples)
    upstream_errors: list[Exception] = field(default_factory=list)

    def fail(self, sample: Sample, stage: str, reason: str, path: Any = None) -> None:
        """Record that ``sample`` failed at ``stage`` (once per sample: its first failure is its cause)."""
        if any(f.sample == sample.id for f in self.failures):
            return
        original = path if path is not None else self.originals.get(sample.id, sample.input)
        if isinstance(original, (list, tuple)):
            original = original[0] if original else ""
        self.failures.append(SampleFailure(sample.id, str(original), stage, reason))

    @contextlib.contextmanager
    def guard(self, sample: Sample, stage: str = "restore") -> Iterator[None]:
        """Run one sample's work: a fault of that sample (unreadable or unusable file) is recorded as its failure
        and the caller goes on with the next sample; anything else (a bug) propagates."""
        try:
            yield
        except SAMPLE_FAULTS as err:
            self.fail(sample, stage, f"{type(err).__name__}: {err}")

    def failed(self, sample_id: str) -> bool:
        return any(f.sample == sample_id for f in self.failures)

    def to_json(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "out_dir": str(self.out_dir),
            "source": self.source,
            "outputs": {k: [str(p) for p in v] for k, v in self.outputs.items()},
            "commands": self.commands,
            "weights": self.weights,
            "log": str(self.log) if self.log else None,
            "notes": self.notes,
            "seconds": round(self.seconds, 3),
            "token": self.token,
            "failures": [f.as_dict() for f in self.failures],
        }


def expected_frame_count(sample: Sample) -> int | None:
    """Number of frames a video sample's output must have by default: its input's (None for an image)."""
    if sample.modality == "video":
        return len(sample.input)
    return None
