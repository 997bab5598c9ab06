"""``input``: the degraded input itself, unchanged: the floor every table shows."""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

from baselines.base import Method, MethodSpec, RestoreConfig, RestoreReport, Sample, progress
from benchmarks.protocol import DEGRADATIONS

SPEC = MethodSpec(
    key="input",
    display_name="Input (degraded)",
    citation="",
    modalities=("image", "video"),
    degradations=DEGRADATIONS,
    invocation="in-process: copies the degraded input",
    resolution="native (the input file's own resolution, converted to PNG)",
)


class InputMethod(Method):
    def run(self, samples: Sequence[Sample], out_dir: Path, config: RestoreConfig, report: RestoreReport) -> None:
        from baselines.images import save_as_output
        from benchmarks.outputs import image_output_path, video_frame_path

        for s in progress(samples, len(samples), "input", config.progress):
            if s.modality == "video":
                for i, frame in enumerate(s.input):
                    save_as_output(frame, video_frame_path(out_dir, s.id, i))
            else:
                save_as_output(s.input, image_output_path(out_dir, s.id))


METHOD = InputMethod(SPEC)
