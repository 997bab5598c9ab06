"""Where a method's restored output for a sample lives: the one naming contract between restorers and scoring.

Images: ``<outputs_dir>/<sample_id>.png``. Videos: ``<outputs_dir>/<sample_id>/<frame index:05d>.png`` (our WAN
method writes ``.jpg`` frames, as the release saves them). Sample ids may contain ``/`` (nested folders).
Precomputed folders produced elsewhere may use another image extension; :class:`ImageOutputs` accepts any of
:data:`IMAGE_EXTENSIONS` (the method library's, :data:`ypt.media.IMAGE_EXTENSIONS`), case-insensitively.

A method that has its float output in memory (ours) also writes its *metric view* beside each file
(:func:`metric_view_path`, ``<file stem>.metric.npy``; :func:`benchmarks.metrics.resize.write_metric_view`): the
prediction as every metric sees it, float32 ``(3, 512, 512)`` after the protocol's resize, computed on the restorer's
device as the release computes its metrics on the float decode. Scoring uses it instead of re-reading the 8-bit
file.
"""
from __future__ import annotations

from pathlib import Path

from ypt.media import IMAGE_EXTENSIONS, natural_key


def image_output_path(outputs_dir: str | Path, sample_id: str) -> Path:
    return Path(outputs_dir) / f"{sample_id}.png"


def video_output_dir(outputs_dir: str | Path, sample_id: str) -> Path:
    return Path(outputs_dir) / sample_id


def video_frame_path(outputs_dir: str | Path, sample_id: str, index: int, suffix: str = ".png") -> Path:
    return video_output_dir(outputs_dir, sample_id) / f"{index:05d}{suffix}"


#: the file beside an output that holds its metric view
METRIC_VIEW_SUFFIX = ".metric.npy"


def metric_view_path(output: str | Path) -> Path:
    """``<folder>/<stem>.metric.npy`` beside the output file ``<folder>/<stem>.<ext>``."""
    output = Path(output)
    return output.with_name(output.stem + METRIC_VIEW_SUFFIX)


class ImageOutputs:
    """The output images under ``outputs_dir``, each folder listed once: :meth:`find` for every sample of a set
    costs one listing per folder instead of one per sample."""

    def __init__(self, outputs_dir: str | Path):
        self.root = Path(outputs_dir)
        self._folders: dict[Path, dict[str, Path]] = {}

    def _listing(self, folder: Path) -> dict[str, Path]:
        if folder not in self._folders:
            found: dict[str, Path] = {}
            if folder.is_dir():
                for candidate in sorted(folder.iterdir()):  # sorted: the first accepted extension wins, as ever
                    if candidate.suffix.lower() in IMAGE_EXTENSIONS and candidate.is_file():
                        found.setdefault(candidate.stem, candidate)
            self._folders[folder] = found
        return self._folders[folder]

    def find(self, sample_id: str) -> Path | None:
        """The output image for ``sample_id`` under any accepted extension, or None."""
        base = self.root / sample_id
        return self._listing(base.parent).get(base.name)


def find_video_frames(outputs_dir: str | Path, sample_id: str) -> list[Path]:
    """The output frames for ``sample_id`` in natural order (empty when the folder is missing)."""
    folder = video_output_dir(outputs_dir, sample_id)
    if not folder.is_dir():
        return []
    frames = [p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS]
    return sorted(frames, key=lambda p: natural_key(p.name))
