"""Where datasets are: one data root (``--data-root`` or ``$YPT_DATA``) and per-dataset overrides in a TOML file
(``$YPT_DATA_CONFIG``, default ``~/.config/ypt-bench/datasets.toml``)::

    [roots]
    hazerd = "/data/HazeRD"        # this dataset's layouts are looked up under this folder instead

Nothing is ever downloaded.
"""
from __future__ import annotations

import os
from pathlib import Path


def config_path() -> Path:
    return Path(os.environ.get("YPT_DATA_CONFIG", Path.home() / ".config" / "ypt-bench" / "datasets.toml")).expanduser()


def overrides() -> dict[str, str]:
    path = config_path()
    if not path.is_file():
        return {}
    import tomllib

    with open(path, "rb") as fh:
        return {str(k): str(v) for k, v in tomllib.load(fh).get("roots", {}).items()}


def data_root(root: str | os.PathLike | None = None) -> Path:
    value = root or os.environ.get("YPT_DATA")
    if not value:
        from benchmarks.datasets.sample import DatasetMissing

        raise DatasetMissing("no data root: pass --data-root DIR or set YPT_DATA (per-dataset folders can be set "
                             f"in {config_path()} under [roots])")
    return Path(value).expanduser()


def dataset_root(key: str, root: str | os.PathLike | None = None) -> Path:
    """The folder a dataset's layouts are resolved under: its override, else the data root."""
    override = overrides().get(key)
    return Path(override).expanduser() if override else data_root(root)
