"""Shared machinery of the wrappers that drive an upstream repository in its own environment.

A wrapper subclasses :class:`ExternalMethod`: it stages inputs under ids that map back uniquely, runs the
upstream command with :meth:`ExternalMethod.call` (an argument list, never a shell string; output appended to
``<out>/<key>-<token>.log``), and copies the upstream outputs to the naming contract. The base class checks the
repository, the environment and the checkpoint before anything runs, and records which weights were used.
"""
from __future__ import annotations

import os
import shutil
import time
import subprocess
from pathlib import Path
from typing import Any, Sequence

from baselines.base import BaselineError, Method, Problem, RestoreConfig, RestoreReport, Sample
from ypt.errors import RunFailed
from baselines.config import (config_path, environment_problems, interpreter, repo_problems,
                              run_environment)

LOG_TAIL_LINES = 30


class UpstreamError(BaselineError, RunFailed):
    pass


class ExternalMethod(Method):
    """A method run through its upstream code (``spec.external``)."""

    # -- settings -----------------------------------------------------------------------------------------------
    def repo(self, settings: dict[str, Any]) -> Path:
        return Path(settings["repo"]).expanduser().resolve()

    def checkpoint_path(self, settings: dict[str, Any]) -> Path | None:
        """The main checkpoint: ``checkpoint = ...`` in the section, else where upstream expects it in the repo."""
        if not self.spec.checkpoints:
            return None
        if settings.get("checkpoint"):
            return Path(settings["checkpoint"]).expanduser().resolve()
        default = self.spec.checkpoints[0].repo_path
        if default and settings.get("repo"):
            return self.repo(settings) / default
        return None

    def problems(self, settings: dict[str, Any]) -> list[Problem]:
        found = repo_problems(self.key, settings, self.spec.upstream_repo, self.spec.upstream_commit,
                              self.spec.entry_files)
        found += environment_problems(self.key, settings)
        found += self.checkpoint_problems(settings)
        return found

    def checkpoint_problems(self, settings: dict[str, Any]) -> list[Problem]:
        if not self.spec.checkpoints:
            return []
        ckpt = self.spec.checkpoints[0]
        path = self.checkpoint_path(settings)
        if path is not None and path.is_file():
            return []
        shown = path if path is not None else f"<repo>/{ckpt.repo_path}" if ckpt.repo_path else ckpt.name
        return [Problem(f"checkpoint {ckpt.name} not found at {shown}",
                        f"download it from {ckpt.url} and set checkpoint = \"/path/to/{ckpt.name}\" in "
                        f"[{self.key}] of {config_path()}" + (f" (or put it at <repo>/{ckpt.repo_path})"
                                                               if ckpt.repo_path else ""))]

    # -- running ------------------------------------------------------------------------------------------------
    def work_dir(self, out_dir: Path, report: RestoreReport) -> Path:
        """A fresh staging folder for this call: ``<out>/_work/<key>-<token>``."""
        work = out_dir / "_work" / f"{self.key}-{report.token}"
        if work.exists():
            shutil.rmtree(work)
        work.mkdir(parents=True)
        report.work_dir = work
        return work

    def call(self, script_args: Sequence[Any], *, cwd: Path, settings: dict[str, Any], report: RestoreReport,
             out_dir: Path, env: dict[str, str] | None = None, progress: bool = True) -> None:
        """Run ``<python of the method's env> *script_args`` in ``cwd``; output to ``<out>/<key>-<token>.log``.
        ``env``: variables upstream's instructions set (the section's ``env`` table still wins)."""
        argv = [*interpreter(settings), *[str(a) for a in script_args]]
        run_env = run_environment(settings)
        for name, value in (env or {}).items():
            if name not in (settings.get("env") or {}):
                run_env[name] = value
        log = out_dir / f"{self.key}-{report.token}.log"
        report.log = log
        report.commands.append(argv)
        with open(log, "a", encoding="utf-8") as fh:
            fh.write(f"$ (cwd={cwd}) {' '.join(argv)}\n")
            fh.flush()
            try:
                with _status(f"{self.key}: running upstream (log {log})", progress):
                    result = subprocess.run(argv, cwd=cwd, stdout=fh, stderr=subprocess.STDOUT,
                                            env=run_env, check=False)
            except OSError as exc:
                raise UpstreamError(f"{self.key}: cannot start {argv[0]}: {exc}") from None
        if result.returncode != 0:
            tail = "\n".join(log.read_text(encoding="utf-8", errors="replace").splitlines()[-LOG_TAIL_LINES:])
            raise UpstreamError(f"{self.key}: upstream command failed (exit {result.returncode}); "
                                f"full log {log}; last lines:\n{tail}")

    def repo_head(self, settings: dict[str, Any]) -> str | None:
        """The commit the configured clone is at (None when it is not a git checkout)."""
        if not settings.get("repo"):
            return None
        try:
            result = subprocess.run(["git", "-C", str(self.repo(settings)), "rev-parse", "HEAD"],
                                    capture_output=True, text=True, timeout=10, check=False)
        except (OSError, subprocess.SubprocessError):
            return None
        head = result.stdout.strip()
        return head if result.returncode == 0 and head else None

    def record_weights(self, settings: dict[str, Any], report: RestoreReport, **extra: Any) -> None:
        path = self.checkpoint_path(settings)
        info: dict[str, Any] = {"note": self.spec.weights_note or "published upstream weights",
                                "upstream_head": self.repo_head(settings)}
        if path is not None and path.is_file():
            stat = path.stat()
            info.update(checkpoint=str(path), bytes=stat.st_size, mtime=int(stat.st_mtime))
        info.update(extra)
        report.weights = info

    def unique_name(self, out_dir: Path) -> str:
        """A run name unique to this output folder, for upstreams that write into their own repository."""
        from ypt.provenance import config_hash

        return f"ypt_{self.key}_{config_hash({'out': str(out_dir), 'pid': os.getpid(), 't': time.time()}, 8)}"

    def finish(self, work: Path, config: RestoreConfig) -> None:
        if not config.keep_work:
            shutil.rmtree(work, ignore_errors=True)
            parent = work.parent
            if parent.name == "_work" and not any(parent.iterdir()):
                parent.rmdir()


def _status(message: str, enabled: bool):
    """A rich spinner while an upstream command runs (its output goes to the log file)."""
    import contextlib

    if not enabled:
        return contextlib.nullcontext()
    from rich.console import Console

    return Console(stderr=True).status(message)


def staged_names(samples: Sequence[Sample], stem: str = "s", width: int = 5) -> dict[str, str]:
    """Sample id -> a flat, unique, upstream-safe file stem (``s00000``...): no dots, underscores or slashes,
    which several upstreams split names on."""
    return {s.id: f"{stem}{i:0{width}d}" for i, s in enumerate(samples)}


def single_match(folder: Path, pattern: str, what: str) -> Path | None:
    """The one file in ``folder`` matching ``pattern`` (None if none; an error if several)."""
    found = sorted(folder.glob(pattern)) if folder.is_dir() else []
    if len(found) > 1:
        raise UpstreamError(f"several upstream outputs match {what}: {', '.join(p.name for p in found)}")
    return found[0] if found else None
