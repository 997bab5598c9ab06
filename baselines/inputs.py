"""Give every method plain image files as inputs.

Most dataset samples point at image files, but some sets store inputs in containers (TOLED/POLED ``.mat``
arrays addressed as ``file.mat#index``, SDSD ``.npy``). Such samples are decoded once with the dataset
registry's reader (``benchmarks.datasets.read_image``, 8-bit RGB as the set stores it) and written as PNG under ``<out>/_inputs/<token>/``; the method
then sees a copy of the sample whose ``input`` is that PNG (or list of PNG frames).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

from baselines.spec import Sample
from benchmarks.datasets.sample import Sample as DatasetSample

INPUTS_DIR = "_inputs"


def _is_image_file(path: Any) -> bool:
    from benchmarks.outputs import IMAGE_EXTENSIONS

    if not isinstance(path, (str, Path)):
        return False
    p = Path(path)
    return p.suffix.lower() in IMAGE_EXTENSIONS and p.is_file()


def needs_decoding(sample: Sample) -> bool:
    if sample.modality == "video":
        return not all(_is_image_file(f) for f in sample.input)
    return not _is_image_file(sample.input)


def check_inputs(samples: Sequence[Sample], report: Any) -> list[Sample]:
    """The samples whose input files decode; each other sample is recorded in ``report`` as failed at the ``input``
    stage, naming its file and the reason (a truncated JPEG, a zero-byte or non-image file), and left out."""
    from PIL import Image

    good = []
    for s in samples:
        files = [f for f in (s.input if s.modality == "video" else [s.input]) if _is_image_file(f)]
        for path in files:
            try:
                with Image.open(path) as image:
                    image.load()
            except (OSError, ValueError, Image.DecompressionBombError) as err:
                report.fail(s, "input", f"cannot decode the input: {err}", path=path)
                break
        else:
            good.append(s)
    return good


def as_image_samples(samples: Sequence[Sample], folder: Path, report: Any = None) -> list[Sample]:
    """``samples`` with every non-image input decoded to PNG under ``folder``; with ``report``, a container input
    that cannot be decoded fails its sample alone (else it raises)."""
    result: list[Sample] = []
    for s in samples:
        if not needs_decoding(s):
            result.append(s)
            continue
        if report is not None:
            with report.guard(s, "input"):
                result.append(_decoded(s, folder))
            continue
        result.append(_decoded(s, folder))
    return result


def _decoded(s: Sample, folder: Path) -> Sample:
    """A copy of ``s`` whose input is PNG files under ``folder``, decoded with the dataset registry's reader."""
    from baselines.images import write_png
    from benchmarks.datasets import read_image
    from benchmarks.outputs import image_output_path, video_frame_path

    if s.modality == "video":
        frames = [write_png(read_image(frame), video_frame_path(folder, s.id, i)) for i, frame in enumerate(s.input)]
        return _with_input(s, frames)
    return _with_input(s, write_png(read_image(s.input), image_output_path(folder, s.id)))


def _with_input(s: Sample, source) -> Sample:
    """``s`` with another input (its run position, ``encoded_before``, kept)."""
    from dataclasses import is_dataclass, replace

    if is_dataclass(s):
        return replace(s, input=source)
    return DatasetSample(s.id, source, s.target, tuple(s.degradation), s.modality, s.dataset)
