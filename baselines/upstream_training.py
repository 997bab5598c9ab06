"""External methods the suite can retrain with upstream's own training script, as the paper did for AverNet and
ViWS-Net ("the publicly available checkpoints ... did not address many of our restoration tasks, we re-trained them
on the same training data").

A :class:`Retrainable` wrapper knows upstream's training layout and command: it stages the suite's training sets
(dataset registry samples, one set per degradation) where upstream's training loader reads them, builds the
command (resuming from upstream's own checkpoints when the run folder already has some), and finds the finished
checkpoint. The work unit that drives it (staging once, running, recording) is
:class:`benchmarks.runner.upstream_training.UpstreamTrainUnit`; the record it writes (:mod:`baselines.retrained`)
is what the wrapper restores with when no ``checkpoint`` is configured.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from baselines import retrained
from baselines.base import Problem, RestoreReport, Sample
from baselines.config import config_path
from baselines.external import ExternalMethod


@dataclass
class TrainingCommand:
    """What runs upstream's training: ``<python of the method's env> *script_args`` in ``cwd`` with ``env`` added."""

    script_args: list[Any]
    cwd: Path
    env: dict[str, str] = field(default_factory=dict)
    #: one line for the log: a fresh start, or where it resumes from
    note: str = ""


@dataclass
class StagedClip:
    """One training clip as staged: its name in upstream's layout, and where it came from."""

    name: str
    dataset: str
    sample: str
    frames: int


class Retrainable(ExternalMethod):
    """An external method with upstream training support. Checkpoint order: ``checkpoint`` in the settings, else
    the suite's retrained weights (:mod:`baselines.retrained`), else the published ones (:meth:`published_checkpoint`)
    where upstream ships some."""

    #: degradations upstream's training loader can take, in its own order
    TRAINABLE: tuple[str, ...] = ()
    #: degradations the published checkpoint was trained for (of the suite's)
    PUBLISHED_COVERS: tuple[str, ...] = ()
    #: GPUs upstream's training script needs, unmodified
    TRAIN_GPUS: int = 1

    # -- which weights --------------------------------------------------------------------------------------------
    def retrained(self) -> retrained.RetrainedWeights | None:
        return retrained.read(self.key)

    def published_checkpoint(self, settings: dict[str, Any]) -> Path | None:
        default = self.spec.checkpoints[0].repo_path if self.spec.checkpoints else None
        return self.repo(settings) / default if default and settings.get("repo") else None

    def weights_source(self, settings: dict[str, Any]) -> str:
        """``configured``, ``retrained`` or ``published``."""
        if settings.get("checkpoint"):
            return "configured"
        return "retrained" if self.retrained() is not None else "published"

    def checkpoint_path(self, settings: dict[str, Any]) -> Path | None:
        source = self.weights_source(settings)
        if source == "configured":
            return Path(settings["checkpoint"]).expanduser().resolve()
        if source == "retrained":
            return Path(self.retrained().checkpoint)
        return self.published_checkpoint(settings)

    def checkpoint_problems(self, settings: dict[str, Any]) -> list[Problem]:
        path = self.checkpoint_path(settings)
        if path is not None and path.is_file():
            return []
        ckpt = self.spec.checkpoints[0]
        what = f"{path} not found" if path is not None else "not set (and not retrained here)"
        return [Problem(f"{self.spec.display_name} checkpoint {what}",
                        f"retrain it as the paper did (python -m slurm.train --methods {self.key}), or download "
                        f"{ckpt.name} from {ckpt.url} and set checkpoint = \"/path/to/it\" in [{self.key}] of "
                        f"{config_path()}")]

    def weights_cover(self, settings: dict[str, Any]) -> tuple[str, ...] | None:
        source = self.weights_source(settings)
        if source == "retrained":
            return self.retrained().degradations
        if source == "published" or self.is_published(self.checkpoint_path(settings)):
            return self.PUBLISHED_COVERS
        return None

    def is_published(self, path: Path | None) -> bool:
        """Whether ``path`` is the published checkpoint (by its file name, wherever it was put)."""
        return bool(path and self.spec.checkpoints and path.name == self.spec.checkpoints[0].name)

    def identity(self, settings: dict[str, Any]) -> dict[str, Any]:
        ident = super().identity(settings)
        record = self.retrained() if self.weights_source(settings) == "retrained" else None
        if record is not None:  # new weights, new run folders
            stat = Path(record.checkpoint).stat()
            ident["retrained"] = {"config": record.config_hash, "bytes": stat.st_size, "mtime": int(stat.st_mtime)}
        return ident

    def record_weights(self, settings: dict[str, Any], report: RestoreReport, **extra: Any) -> None:
        super().record_weights(settings, report, **extra)
        source = self.weights_source(settings)
        report.weights["source"] = source
        if source == "retrained":
            report.weights["note"] = self.retrained().describe()
        elif source == "published" or self.is_published(self.checkpoint_path(settings)):
            report.weights["note"] = (f"published upstream weights (trained for "
                                      f"{', '.join(self.PUBLISHED_COVERS) or 'none of the suite degradations'})")

    def coverage_fix(self, settings: dict[str, Any], degradations: Sequence[str]) -> str:
        trainable = [d for d in degradations if d in self.TRAINABLE]
        how = (f"retrain it as the paper did: python -m slurm.train --methods {self.key}" if trainable
               else f"upstream's training cannot learn {', '.join(degradations)}")
        return (f"{how}; or set checkpoint = \"...\" to weights trained for {', '.join(degradations)}; or set "
                f"allow_uncovered = true in [{self.key}] of {config_path()} to run these weights anyway")

    # -- training (implemented per method) -----------------------------------------------------------------------
    def training_problems(self, settings: dict[str, Any]) -> list[Problem]:
        """What is missing to train (repository, environment, weights upstream's training loads or downloads)."""
        from baselines.config import environment_problems, repo_problems

        found = repo_problems(self.key, settings, self.spec.upstream_repo, self.spec.upstream_commit,
                              self.training_files())
        found += environment_problems(self.key, settings)
        return found + self.download_problems(settings, when="train")

    def training_files(self) -> tuple[str, ...]:
        """Files of the repository training runs."""
        return self.spec.entry_files

    def default_iterations(self) -> int:
        """Upstream's own training length (its unit: iterations, or epochs where upstream counts those)."""
        raise NotImplementedError

    def training_notes(self, datasets: dict[str, str]) -> list[str]:
        """Lines for the plan: what upstream's training leaves out of the asked sets, and why."""
        left = sorted(set(datasets) - set(self.TRAINABLE))
        if not left:
            return []
        return [f"{self.key}: upstream's training cannot learn {', '.join(left)} "
                f"({', '.join(datasets[d] for d in left)} left out); {self.untrainable_reason()}"]

    def untrainable_reason(self) -> str:
        return ""

    def stage_training(self, sets: dict[str, Sequence[Sample]], data: Path) -> tuple[list[StagedClip], list[str]]:
        """Put the clips of ``sets`` (degradation -> samples) where upstream's training reads them, under ``data``;
        returns the staged clips and the ones left out (with why: too short, too small for upstream's crops)."""
        raise NotImplementedError

    def training_command(self, settings: dict[str, Any], run: Path, data: Path, iterations: int) -> TrainingCommand:
        """The command that trains (or resumes training) in run folder ``run`` on the data staged in ``data``."""
        raise NotImplementedError

    def finished_checkpoint(self, run: Path, iterations: int) -> Path | None:
        """The checkpoint of a training that reached ``iterations`` in ``run``, None while it has not."""
        raise NotImplementedError


# -- staging helpers ------------------------------------------------------------------------------------------------
def link_or_write(ref: Any, dst: Path) -> Path:
    """Put frame ``ref`` (an image file, or a container reference the dataset registry decodes) at ``dst``: a
    symlink to an image file (upstream's loaders decode by content with cv2 / PIL, whatever the extension), else the
    decoded frame written as PNG bytes (JPEG at quality 100 when ``dst`` ends in ``.jpg``)."""
    from benchmarks.outputs import IMAGE_EXTENSIONS

    dst.parent.mkdir(parents=True, exist_ok=True)
    if dst.is_symlink() or dst.exists():
        dst.unlink()
    path = Path(str(ref))
    if path.suffix.lower() in IMAGE_EXTENSIONS and path.is_file():
        dst.symlink_to(path.resolve())
        return dst
    from PIL import Image

    from benchmarks.datasets import read_image

    image = Image.fromarray(read_image(ref))
    if dst.suffix.lower() in (".jpg", ".jpeg"):
        image.save(dst, format="JPEG", quality=100, subsampling=0)
    else:
        image.save(dst, format="PNG")
    return dst


def frame_size(ref: Any) -> tuple[int, int]:
    """(height, width) of a frame reference."""
    from benchmarks.outputs import IMAGE_EXTENSIONS

    path = Path(str(ref))
    if path.suffix.lower() in IMAGE_EXTENSIONS and path.is_file():
        from baselines.images import image_size

        w, h = image_size(path)
        return h, w
    from benchmarks.datasets import read_image

    return tuple(read_image(ref).shape[:2])


def write_staged(path: Path, clips: Sequence[StagedClip], skipped: Sequence[str]) -> None:
    """The staging summary (``staged.json``): written last, so its presence means the staging is complete."""
    from dataclasses import asdict

    from ypt.files import atomic_write_text

    atomic_write_text(path, json.dumps({"clips": [asdict(c) for c in clips], "skipped": list(skipped)}, indent=2))
