"""What a dataset yields and how it fails: :class:`Sample` and the dataset errors (the suite's :mod:`ypt.errors`
subclassed by cause). The bottom of :mod:`benchmarks.datasets`: every other module of it may import this one."""
from __future__ import annotations

from dataclasses import dataclass, field

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
    #: where it runs in its set's evaluation: the frame counts (1 for an image) of the samples evaluated before it,
    #: run-length encoded as ``(frames, how many)`` pairs. The release draws every sample's posterior noise from
    #: one stream in this order (``ypt.restore.Restorer``'s ``encoded_before``).
    encoded_before: tuple[tuple[int, int], ...] = field(default=(), compare=False, repr=False)

    def frames_before(self) -> list[int]:
        """:attr:`encoded_before` expanded: one frame count per earlier sample."""
        return [frames for frames, count in self.encoded_before for _ in range(count)]


#: what a sample's fault is: a missing, unreadable or unusable file (the sample fails alone; a bug propagates)
SAMPLE_FAULTS = (OSError, BadInput)


@dataclass(frozen=True)
class SampleFailure:
    """One sample that could not be restored or scored: its id, the original file involved, the stage (``input``,
    ``restore``, ``score``) and why. Every other sample of the set goes on."""

    sample: str
    path: str
    stage: str
    reason: str

    def __str__(self) -> str:
        return f"sample {self.sample} ({self.path}): {self.stage}: {self.reason}"

    def as_dict(self) -> dict:
        return {"sample": self.sample, "path": self.path, "stage": self.stage, "reason": self.reason}


def in_run_order(samples: list[Sample]) -> list[Sample]:
    """``samples`` (a set's evaluation list, in order), each with :attr:`Sample.encoded_before` set."""
    from dataclasses import replace

    out, runs = [], []
    for sample in samples:
        out.append(replace(sample, encoded_before=tuple(runs)))
        frames = len(sample.input) if sample.modality == "video" else 1
        if runs and runs[-1][0] == frames:
            runs[-1] = (frames, runs[-1][1] + 1)
        else:
            runs.append((frames, 1))
    return out


def unique_ids(key: str, samples: list[Sample]) -> list[Sample]:
    """``samples``, after checking that their ids are unique (they name output files)."""
    seen: dict[str, str] = {}
    for sample in samples:
        first = sample.input[0] if isinstance(sample.input, list) else sample.input
        if sample.id in seen:
            raise LayoutMismatch(f"{key}: two samples share the id {sample.id!r} ({seen[sample.id]} and {first}); "
                                 f"remove the duplicate file (e.g. the same image saved as .png and .jpg)")
        seen[sample.id] = first
    return samples
