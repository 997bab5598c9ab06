"""In-process classic restorers (numpy/scipy, CPU): one image in, one image out, frame by frame for clips."""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from baselines.base import Method, RestoreConfig, RestoreReport, Sample, progress


class ClassicMethod(Method):
    """Subclasses set ``params_class`` (a dataclass of the method's settings) and implement ``restore_image``."""

    params_class: type

    def restore_image(self, image: Any, params: Any) -> Any:
        """A float RGB image in [0, 1] (HxWx3) -> the restored image, same shape."""
        raise NotImplementedError

    def run(self, samples: Sequence[Sample], out_dir: Path, config: RestoreConfig, report: RestoreReport) -> None:
        from baselines.images import read_rgb, write_png
        from benchmarks.outputs import image_output_path, video_frame_path

        fields = self.params_class.__dataclass_fields__
        params = self.params_class(**{k: v for k, v in config.settings.items() if k in fields})
        report.weights = {"note": "no weights (classic method)", "params": params.__dict__}
        for s in progress(samples, len(samples), self.key, config.progress):
            with report.guard(s):  # a sample whose file cannot be read fails alone
                if s.modality == "video":
                    for i, frame in enumerate(s.input):
                        write_png(self.restore_image(read_rgb(frame), params), video_frame_path(out_dir, s.id, i))
                else:
                    write_png(self.restore_image(read_rgb(s.input), params), image_output_path(out_dir, s.id))
