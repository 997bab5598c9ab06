"""Datasets defined at run time (the built-in demo, a user's own folder): a paired ``input/ -> target/`` layout."""
from __future__ import annotations

import os

from benchmarks.datasets.spec import TARGET_ALIASES, DatasetSpec, Layout


def paired_folder(key: str, folder: str | os.PathLike, degradation: tuple[str, ...], *, modality: str = "image",
                  display_name: str | None = None, role: str = "wd-test", paired: bool = True,
                  expected_count: int | None = None, source: str = "created at run time") -> DatasetSpec:
    """A spec for ``folder/input/<name>.<ext>`` paired with ``folder/<gt>/<name>.<ext>`` (images), or
    ``input/<clip>/<frame>`` with ``<gt>/<clip>/<frame>`` (videos), where ``<gt>`` is the first of
    ``TARGET_ALIASES`` (gt, clear, target, ...) present, any case; ``paired=False`` reads ``input/`` only.
    Register it with ``benchmarks.datasets.register``."""
    if modality not in ("image", "video"):
        raise ValueError(f"modality must be image or video, not {modality!r}")
    layout = Layout("paired-folder", "input|inputs|lq", "|".join(TARGET_ALIASES) if paired else None,
                    description="input/<name> -> target/<name>" if paired else "input/<name> (no reference)")
    return DatasetSpec(
               key=key, display_name=display_name or key, modality=modality, degradation=tuple(degradation),
               role=role, paired=paired, expected_count=expected_count, source_url=source, citation="",
               license_note="", layouts=(layout,), home=str(folder),
           )
