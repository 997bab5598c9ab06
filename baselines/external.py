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
from baselines.config import config_path, environment_problems, interpreter, repo_problems, run_environment
from baselines.downloads import RuntimeDownload
from ypt.errors import RunFailed

LOG_TAIL_LINES = 30


class UpstreamError(BaselineError, RunFailed):
    pass


class ExternalMethod(Method):
    """A method run through its upstream code (``spec.external``)."""

    #: also left out of the identity: switches that refuse or allow a run, not what it computes
    RUNTIME_SETTINGS = Method.RUNTIME_SETTINGS | {"allow_uncovered", "skip_key_check"}

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
        found += self.download_problems(settings)
        return found

    # -- what upstream downloads at run time ----------------------------------------------------------------------
    def runtime_downloads(self, settings: dict[str, Any], when: str = "run") -> list[RuntimeDownload]:
        """What upstream fetches from the network when it runs (``when``: ``run`` or ``train``) with ``settings``."""
        return [d for d in self.spec.downloads if d.when == when]

    def download_problems(self, settings: dict[str, Any], when: str = "run") -> list[Problem]:
        """The run-time downloads not in the cache upstream will look in (compute nodes are offline)."""
        env = run_environment(settings)
        return [Problem(f"{d.describe()} is not cached at {d.target(env)}; compute nodes are offline",
                        f"python -m benchmarks.prefetch --baselines {self.key} on a machine with internet and the "
                        "same HOME / HF_HOME / TORCH_HOME as the compute nodes")
                for d in self.runtime_downloads(settings, when) if not d.present(env)]

    # -- checks that read files or run upstream's environment (before a run, and in ``check``) --------------------
    def verify(self, settings: dict[str, Any]) -> list[Problem]:
        """Slower checks once :meth:`problems` finds nothing: the cached downloads' checksums and the checkpoint's
        keys against the model upstream builds (in upstream's environment). Empty when all is well."""
        env = run_environment(settings)
        found = [Problem(why, f"delete it and run python -m benchmarks.prefetch --baselines {self.key}")
                 for d in self.runtime_downloads(settings) if (why := d.corrupt(env))]
        return found + self.key_problems(settings)

    def setup_problems(self, settings: dict[str, Any], samples: Sequence[Sample]) -> list[Problem]:
        found = self.problems(settings) + self.coverage_problems(settings, samples)
        return found or self.verify(settings)

    # -- which degradations the weights were trained for ----------------------------------------------------------
    def weights_cover(self, settings: dict[str, Any]) -> tuple[str, ...] | None:
        """The degradations the configured weights were trained for, when the wrapper knows (None: not known, e.g.
        a checkpoint the user set; then nothing is refused)."""
        return None

    def coverage_problems(self, settings: dict[str, Any], samples: Sequence[Sample]) -> list[Problem]:
        """Samples with a degradation the weights were not trained for: refused unless ``allow_uncovered = true``."""
        covered = self.weights_cover(settings)
        if covered is None or settings.get("allow_uncovered"):
            return []
        bad = sorted({d for s in samples for d in s.degradation if d not in covered})
        if not bad:
            return []
        return [Problem(f"the configured {self.key} weights were not trained for {', '.join(bad)} (they cover "
                        f"{', '.join(covered) or 'none of the suite degradations'})",
                        self.coverage_fix(settings, bad))]

    def coverage_fix(self, settings: dict[str, Any], degradations: Sequence[str]) -> str:
        return (f"retrain them (python -m slurm.train --methods {self.key}) or set checkpoint = \"...\" to weights "
                f"trained for {', '.join(degradations)}; or set allow_uncovered = true in [{self.key}] of "
                f"{config_path()} to run them anyway")

    # -- checkpoint keys ------------------------------------------------------------------------------------------
    #: Python source run in upstream's environment (cwd: :meth:`key_check_cwd`, argv[1:]: :meth:`key_check_args`)
    #: that builds upstream's model and prints ``{"keys": {name: shape}}`` (or ``{"error": ...}``) as its last line
    KEY_CHECK: str = ""

    def key_check_cwd(self, settings: dict[str, Any], folder: Path) -> Path:
        return self.repo(settings)

    def key_check_args(self, settings: dict[str, Any]) -> list[str]:
        return []

    def checkpoint_keys(self, path: Path) -> dict[str, tuple[int, ...]]:
        """name -> shape of the tensors upstream loads from the checkpoint (read here, ``weights_only=True``)."""
        return state_shapes(load_weights_only(path))

    def key_problems(self, settings: dict[str, Any]) -> list[Problem]:
        """The checkpoint's keys against upstream's model, before a run: refused when upstream would load it with
        random weights left in (missing keys) or would fail on shapes."""
        path = self.checkpoint_path(settings)
        if not self.KEY_CHECK or path is None or not path.is_file() or settings.get("skip_key_check"):
            return []
        where = f"[{self.key}] in {config_path()}"
        try:
            have = self.checkpoint_keys(path)
        except Exception as exc:  # pickled objects, a truncated file: say so instead of loading it unsafely
            return [Problem(f"cannot read the tensors of {path} safely (torch.load weights_only=True: "
                            f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''})",
                            f"use a checkpoint holding only tensors, or set skip_key_check = true in {where} "
                            "if you trust the file")]
        want = self.expected_keys(settings)
        if isinstance(want, Problem):
            return [want]
        return compare_keys(self.key, path, want, have, where)

    def expected_keys(self, settings: dict[str, Any]) -> dict[str, tuple[int, ...]] | Problem:
        """name -> shape of upstream's model, from :attr:`KEY_CHECK` run in upstream's environment."""
        import json
        import tempfile

        with tempfile.TemporaryDirectory(prefix=f"ypt-{self.key}-keys-") as tmp:
            folder = Path(tmp)
            script = folder / "ypt_key_check.py"
            script.write_text(self.KEY_CHECK, encoding="utf-8")
            argv = [*interpreter(settings), str(script), *self.key_check_args(settings)]
            try:
                result = subprocess.run(argv, cwd=self.key_check_cwd(settings, folder), capture_output=True,
                                        text=True, env=run_environment(settings), timeout=900, check=False,
                                        start_new_session=True)
            except (OSError, subprocess.SubprocessError) as exc:
                return Problem(f"cannot build upstream's model to check the checkpoint keys: {exc}",
                               f"check python / conda_env in [{self.key}] of {config_path()}")
        lines = [ln for ln in result.stdout.splitlines() if ln.startswith("{")]
        payload = json.loads(lines[-1]) if lines else {}
        if result.returncode != 0 or "keys" not in payload:
            detail = payload.get("error") or "\n".join((result.stderr or result.stdout).strip().splitlines()[-5:])
            return Problem(f"upstream's model cannot be built in its environment ({detail})", self.environment_fix())
        return {k: tuple(v) for k, v in payload["keys"].items()}

    def environment_fix(self) -> str:
        return (f"install {self.spec.upstream_repo}'s environment as its README says, and set python / conda_env in "
                f"[{self.key}] of {config_path()}")

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
             out_dir: Path, env: dict[str, str] | None = None, progress: bool = True) -> str:
        """Run ``<python of the method's env> *script_args`` in ``cwd`` (in its own process group, ended with it on
        an interrupt); output appended to ``<out>/<key>-<token>.log``. ``env``: variables upstream's instructions set
        (the section's ``env`` table still wins). Returns what this call wrote to the log."""
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
            start = fh.tell()
            with _status(f"{self.key}: running upstream (log {log})", progress):
                code = run_logged(argv, cwd=cwd, env=run_env, log=fh, what=self.key)
        with open(log, "rb") as fh:
            fh.seek(start)
            text = fh.read().decode("utf-8", errors="replace")
        if code != 0:  # whatever it wrote is still mapped back; the samples without output fail with this reason
            tail = "\n".join(text.splitlines()[-LOG_TAIL_LINES:])
            report.upstream_errors.append(UpstreamError(f"{self.key}: upstream command failed (exit {code}); "
                                                        f"full log {log}; last lines:\n{tail}"))
        return text

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


def run_logged(argv: Sequence[str], *, cwd: Path, env: dict[str, str], log, what: str) -> int:
    """Run ``argv`` with stdout and stderr to the open file ``log``, in a new session (its own process group, so
    that a terminal's Ctrl-C or a job's signal reaches this process, which then ends the whole group and not
    merely the top process); returns its exit status."""
    try:
        proc = subprocess.Popen(list(argv), cwd=cwd, stdout=log, stderr=subprocess.STDOUT, env=env,
                                start_new_session=True, preexec_fn=die_with_parent(os.getpid()))
    except OSError as exc:
        raise UpstreamError(f"{what}: cannot start {argv[0]}: {exc}") from None
    try:
        return proc.wait()
    except BaseException:  # interrupted (KeyboardInterrupt, a job's SIGTERM turned into an exception): end it all
        end_group(proc)
        raise


def die_with_parent(parent: int):
    """A ``preexec_fn``: the upstream process gets SIGKILL when the runner dies, even when the runner itself is
    killed with SIGKILL and can end nothing (Linux ``PR_SET_PDEATHSIG``; elsewhere nothing is set)."""
    import sys

    if not sys.platform.startswith("linux"):
        return None

    def set_death_signal() -> None:  # runs in the child, between fork and exec
        import ctypes
        import signal

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG = 1
        if os.getppid() != parent:  # the runner died before the signal was set
            os._exit(1)

    return set_death_signal


def end_group(proc: subprocess.Popen, grace: float = 10.0) -> None:
    """SIGTERM to ``proc``'s process group, then SIGKILL after ``grace`` seconds if it is still there."""
    import signal

    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, None)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


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


# -- checkpoint keys ------------------------------------------------------------------------------------------------
def load_weights_only(path: Path) -> Any:
    """A checkpoint's content, unpickling tensors and plain containers only (``weights_only=True``)."""
    import torch

    return torch.load(path, map_location="cpu", weights_only=True, mmap=True)


def state_shapes(state: Any) -> dict[str, tuple[int, ...]]:
    """name -> shape of the tensors of a flat state dict (other entries are left out)."""
    if not isinstance(state, dict):
        raise BaselineError(f"expected a state dict, found {type(state).__name__}")
    return {str(k): tuple(v.shape) for k, v in state.items() if hasattr(v, "shape")}


def compare_keys(method: str, path: Path, want: dict[str, tuple[int, ...]], have: dict[str, tuple[int, ...]],
                 where: str) -> list[Problem]:
    """Problems when ``have`` (the checkpoint) lacks keys of ``want`` (upstream's model) or has other shapes; keys
    the model does not have are ignored, as upstream's loaders do."""
    missing = sorted(set(want) - set(have))
    shapes = sorted(k for k in set(want) & set(have) if tuple(want[k]) != tuple(have[k]))
    if not missing and not shapes:
        return []
    parts = []
    if missing:
        parts.append(f"{len(missing)} of upstream's {len(want)} weights are not in it ({', '.join(missing[:3])}"
                     f"{' ...' if len(missing) > 3 else ''})")
        extra = sorted(set(have) - set(want))
        prefix = {k.split(".", 1)[0] + "." for k in extra}
        if extra and len(prefix) == 1 and all(f"{next(iter(prefix))}{k}" in have for k in missing):
            parts.append(f"every key of the checkpoint carries an extra {next(iter(prefix))!r} prefix")
        prefix = {k.split(".", 1)[0] + "." for k in missing}
        if len(prefix) == 1 and all(k.removeprefix(next(iter(prefix))) in have for k in missing):
            parts.append(f"its keys lack the {next(iter(prefix))!r} prefix every key of upstream's model carries")
    if shapes:
        parts.append(f"{len(shapes)} weight(s) have other shapes ({', '.join(f'{k} {have[k]} vs {want[k]}' for k in shapes[:3])})")
    return [Problem(f"checkpoint {path} does not match upstream's {method} model: " + "; ".join(parts),
                    f"use a checkpoint of this model (set checkpoint = \"...\" in {where}); "
                    "set skip_key_check = true only if upstream really loads it")]


# -- CUDA device binding --------------------------------------------------------------------------------------------
#: a launcher for upstream scripts that overwrite ``CUDA_VISIBLE_DEVICES`` before importing torch: it initialises CUDA
#: first, with the devices the scheduler gave, and the CUDA runtime reads the variable only then; later assignments by
#: the script have no effect. ``python ypt_cuda_launch.py SCRIPT ARGS...`` runs SCRIPT as ``python SCRIPT ARGS`` would.
CUDA_LAUNCHER = """import os, runpy, sys
script = os.path.abspath(sys.argv[1])
visible = os.environ.get("CUDA_VISIBLE_DEVICES")
import torch
if torch.cuda.is_available():
    torch.cuda.init()
print(f"[ypt] CUDA initialised before {os.path.basename(script)} with CUDA_VISIBLE_DEVICES={visible}", flush=True)
os.environ["YPT_CUDA_BOUND_DEVICES"] = str(visible)
sys.argv = [script, *sys.argv[2:]]
sys.path.insert(0, os.path.dirname(script))
runpy.run_path(script, run_name="__main__")
"""
CUDA_LAUNCHER_NAME = "ypt_cuda_launch.py"


def write_cuda_launcher(folder: Path) -> Path:
    """:data:`CUDA_LAUNCHER` written into ``folder``; returns its path."""
    path = folder / CUDA_LAUNCHER_NAME
    path.write_text(CUDA_LAUNCHER, encoding="utf-8")
    return path
