"""Import a folder of outputs produced elsewhere (e.g. a published result folder), matched to samples by id.

The folder follows the same contract as ours (image ``<dir>/<id>.<ext>``, video ``<dir>/<id>/<frames>``) with any
image extension of :data:`benchmarks.outputs.IMAGE_EXTENSIONS`; outputs are re-written as PNG under our names.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable, Sequence

from baselines.spec import BaselineError, MissingOutputsError, RestoreReport, Sample, expected_frame_count


def import_outputs(samples: Sequence[Sample], source: Path, out_dir: Path, report: RestoreReport,
                   expected_frames: Callable[[Sample], int | None] = expected_frame_count) -> None:
    """Copy ``source``'s output for every sample into ``out_dir`` (PNG, our names); a video must have the
    number of frames the method writes (``expected_frames``)."""
    from benchmarks.outputs import ImageOutputs, find_video_frames, image_output_path, video_frame_path

    from baselines.images import save_as_output

    if not source.is_dir():
        raise BaselineError(f"precomputed outputs folder {source} does not exist (pass --outputs DIR with the "
                            "method's result images named by sample id)")
    missing: list[str] = []
    images = ImageOutputs(source)
    for s in samples:
        if s.modality == "video":
            frames = find_video_frames(source, s.id)
            if len(frames) != expected_frames(s):
                missing.append(f"{s.id} ({len(frames)}/{expected_frames(s)} frames)")
                continue
            for i, frame in enumerate(frames):
                save_as_output(frame, video_frame_path(out_dir, s.id, i))
        else:
            found = images.find(s.id)
            if found is None:
                missing.append(s.id)
                continue
            if found.resolve() != image_output_path(out_dir, s.id).resolve():
                save_as_output(found, image_output_path(out_dir, s.id))
    if missing:
        raise MissingOutputsError(report.method, missing, source)
    report.notes.append(f"outputs imported from {source}")
