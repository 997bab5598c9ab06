"""What a dataset yields and how it fails: :class:`Sample` and the dataset errors (the suite's :mod:`ypt.errors`
subclassed by cause). The bottom of :mod:`benchmarks.datasets`: every other module of it may import this one."""
from __future__ import annotations

from dataclasses import dataclass

from ypt.errors import BadInput, BadLayout, MissingData, YPTError


class DatasetError(YPTError):
    """A dataset problem reported to the user (missing, wrong layout, unreadable file); the subclasses say which."""


class DatasetMissing(DatasetError, MissingData):
    """The dataset is not under its root in any layout its spec understands."""


class LayoutMismatch(DatasetError, BadLayout):
    """The dataset's folder is there but does not pair up as its layout says."""


class UnreadableFile(DatasetError, BadInput):
    """A file of the dataset exists but cannot be decoded."""


@dataclass(frozen=True)
class Sample:
    """One test item: an image (paths) or a clip (lists of frame paths, cut to the protocol length)."""

    id: str
    input: str | list[str]
    target: str | list[str] | None
    degradation: tuple[str, ...]
    modality: str
    dataset: str
    layout: str = ""      # the layout it was found in (named in read errors)
