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


def as_image_samples(samples: Sequence[Sample], folder: Path) -> list[Sample]:
    """``samples`` with every non-image input decoded to PNG under ``folder``."""
    from baselines.images import write_png
    from benchmarks.datasets import read_image
    from benchmarks.outputs import image_output_path, video_frame_path

    result: list[Sample] = []
    for s in samples:
        if not needs_decoding(s):
            result.append(s)
            continue
        if s.modality == "video":
            frames = [write_png(read_image(frame), video_frame_path(folder, s.id, i)) for i, frame in enumerate(s.input)]
            result.append(DatasetSample(s.id, frames, s.target, tuple(s.degradation), s.modality, s.dataset))
        else:
            path = write_png(read_image(s.input), image_output_path(folder, s.id))
            result.append(DatasetSample(s.id, path, s.target, tuple(s.degradation), s.modality, s.dataset))
    return result
