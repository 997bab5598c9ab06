"""Per-method settings from a small TOML file, and the interpreter each external method runs in.

The file is ``$YPT_BASELINES_CONFIG`` or ``~/.config/ypt-bench/baselines.toml``; one section per method::

    [autodir]
    repo = "/src/AutoDIR"                 # a clone of the upstream repository (at the pinned commit)
    python = "/envs/autodir/bin/python"   # or: conda_env = "autodir"  (-> conda run -n autodir python ...)
    checkpoint = "/weights/autodir.ckpt"
    env = { HF_HOME = "/cache/hf" }       # optional extra environment variables

Wrappers read further method-specific keys (documented in each ``baselines/methods/<key>.py``).
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from baselines.spec import Problem

CONFIG_ENV = "YPT_BASELINES_CONFIG"
DEFAULT_CONFIG = Path("~/.config/ypt-bench/baselines.toml")


def config_path() -> Path:
    return Path(os.environ.get(CONFIG_ENV) or DEFAULT_CONFIG).expanduser()


def load_config(path: str | Path | None = None) -> dict[str, dict[str, Any]]:
    """All sections of the baselines config ({} when the file does not exist)."""
    import tomllib

    path = Path(path).expanduser() if path else config_path()
    if not path.is_file():
        return {}
    with open(path, "rb") as fh:
        try:
            data = tomllib.load(fh)
        except tomllib.TOMLDecodeError as exc:
            from baselines.spec import ConfigError

            raise ConfigError(f"cannot parse the baselines config {path}: {exc}") from None
    return {k: v for k, v in data.items() if isinstance(v, dict)}


def method_settings(key: str, path: str | Path | None = None) -> dict[str, Any]:
    return dict(load_config(path).get(key, {}))


def interpreter(settings: dict[str, Any]) -> list[str]:
    """The argv prefix that runs Python in the method's environment."""
    if settings.get("python"):
        return [str(Path(settings["python"]).expanduser())]
    if settings.get("conda_env"):
        conda = settings.get("conda") or shutil.which("conda") or "conda"
        return [str(conda), "run", "--no-capture-output", "-n", str(settings["conda_env"]), "python"]
    raise KeyError("python")


def environment_problems(key: str, settings: dict[str, Any]) -> list[Problem]:
    where = f"[{key}] in {config_path()}"
    if settings.get("python"):
        python = Path(settings["python"]).expanduser()
        if not (python.is_file() and os.access(python, os.X_OK)):
            return [Problem(f"python interpreter {python} does not exist or is not executable",
                            f"create the method's environment (see its README) and set python = \"...\" in {where}")]
        return []
    if settings.get("conda_env"):
        conda = settings.get("conda") or shutil.which("conda")
        if not conda or not Path(conda).exists():
            return [Problem("conda is not on PATH (needed for conda_env)",
                            f"load conda, or set python = \"/path/to/env/bin/python\" in {where}")]
        return []
    return [Problem("no environment configured",
                    f"set python = \"/path/to/env/bin/python\" or conda_env = \"name\" in {where}")]


def repo_problems(key: str, settings: dict[str, Any], upstream: str | None, commit: str | None,
                  entry_files: tuple[str, ...]) -> list[Problem]:
    where = f"[{key}] in {config_path()}"
    clone = (f"git clone https://github.com/{upstream} && git -C {upstream.split('/')[-1]} checkout {commit}"
             if upstream else "clone the method's repository")
    repo = settings.get("repo")
    if not repo:
        return [Problem("upstream repository not configured",
                        f"{clone}; then set repo = \"/path/to/clone\" in {where}")]
    repo = Path(repo).expanduser()
    if not repo.is_dir():
        return [Problem(f"upstream repository {repo} does not exist", f"{clone}; then set repo in {where}")]
    return [Problem(f"{repo / f} is missing (not a clone of {upstream}?)", clone)
            for f in entry_files if not (repo / f).exists()]


def run_environment(settings: dict[str, Any]) -> dict[str, str]:
    """The subprocess environment: ours plus the section's ``env`` table."""
    env = dict(os.environ)
    env.update({str(k): str(v) for k, v in (settings.get("env") or {}).items()})
    return env
