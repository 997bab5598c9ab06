"""Progress and metrics of a long run, readable on a terminal and in a cluster's log file alike.

:class:`RunLog` shows a rich progress bar when its stream is a terminal, and otherwise (SLURM's output file, a pipe)
one plain line per update, ``<name> step 150/20000 loss 0.01234 3.21 it/s ETA 1:43:12``, which a log file keeps
readable (rich would only draw the bar once, at the end). Given a folder, it also appends every update to
``<folder>/metrics.csv`` (``step, elapsed_s, it_s`` and the metrics; a resumed run first drops the rows past the
step it resumes from, so the file is the run's history once) and, with ``tensorboard=True``, writes the metrics as
TensorBoard scalars into the same folder (``torch.utils.tensorboard``; the ``tensorboard`` package is optional).
"""
from __future__ import annotations

import csv
import sys
import time
from pathlib import Path
from typing import IO

from ypt.errors import MissingResource

METRICS_FILE = "metrics.csv"


def format_duration(seconds: float) -> str:
    """``1:43:12`` / ``4:05`` (hours only when needed)."""
    seconds = max(0, int(round(seconds)))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def is_terminal(stream: IO | None) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


class RunLog:
    """Progress of ``total`` steps named ``name``, from ``completed`` (a resumed run), with optional files.

    ``update(step, **metrics)`` reports the step reached and the metrics logged there (floats). ``progress=False``
    shows nothing (the files are still written). Use as a context manager, or call :meth:`close`.
    """

    def __init__(self, name: str, total: int, completed: int = 0, *, folder: str | Path | None = None,
                 tensorboard: bool = False, progress: bool = True, stream: IO | None = None,
                 unit: str = "step") -> None:
        self.name, self.total, self.unit = name, total, unit
        self.start_step = self.step = completed
        self.stream = stream if stream is not None else sys.stderr
        self.started = time.monotonic()
        self.folder = Path(folder) if folder is not None else None
        self._bar = self._task = self._writer = None
        self._csv_fields: list[str] | None = None
        if self.folder is not None:
            self.folder.mkdir(parents=True, exist_ok=True)
            self._trim_csv(completed)
            if tensorboard:
                self._writer = _summary_writer(self.folder)
        if progress and is_terminal(self.stream):
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            self._bar = Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                                 TextColumn("{task.fields[metrics]}"), TimeRemainingColumn(),
                                 console=Console(file=self.stream))
            self._bar.start()
            self._task = self._bar.add_task(name, total=total, completed=completed, metrics="")
        self._plain = progress and self._bar is None

    # ---- reporting ----------------------------------------------------------------------------------------------
    @property
    def rate(self) -> float:
        """Steps per second in this process (a resumed run's earlier steps do not count)."""
        elapsed = time.monotonic() - self.started
        return (self.step - self.start_step) / elapsed if elapsed > 0 else 0.0

    def line(self, **metrics: float) -> str:
        """The plain progress line for the current step."""
        parts = [f"{self.name} {self.unit} {self.step}/{self.total}"]
        parts += [f"{k} {_fmt(v)}" for k, v in metrics.items()]
        rate = self.rate
        if rate > 0:
            parts.append(f"{rate:.3g} it/s" if rate >= 1 else f"{1 / rate:.3g} s/it")
            parts.append(f"ETA {format_duration((self.total - self.step) / rate)}")
        return " ".join(parts)

    def update(self, step: int, **metrics: float) -> None:
        self.step = step
        if self.folder is not None and metrics:
            self._append_csv(step, metrics)
        if self._writer is not None:
            for key, value in metrics.items():
                self._writer.add_scalar(key, value, step)
        if self._bar is not None:
            self._bar.update(self._task, completed=step, metrics=" ".join(f"{k} {_fmt(v)}" for k, v in
                                                                        metrics.items()))
        elif self._plain:
            print(self.line(**metrics), file=self.stream, flush=True)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def __enter__(self) -> RunLog:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ---- metrics.csv ----------------------------------------------------------------------------------------------
    @property
    def csv_path(self) -> Path | None:
        return None if self.folder is None else self.folder / METRICS_FILE

    def _trim_csv(self, completed: int) -> None:
        """Keep the rows up to ``completed`` (a resumed run logs the later steps again)."""
        path = self.csv_path
        if not path.is_file():
            return
        with path.open(newline="") as f:
            rows = list(csv.DictReader(f))
            fields = list(rows[0].keys()) if rows else None
        kept = [r for r in rows if int(r["step"]) <= completed]
        if len(kept) == len(rows):
            self._csv_fields = fields
            return
        from ypt.files import atomic_path

        with atomic_path(path) as tmp, open(tmp, "w", newline="") as f:
            if fields:
                writer = csv.DictWriter(f, fieldnames=fields)
                writer.writeheader()
                writer.writerows(kept)
        self._csv_fields = fields if kept else None

    def _append_csv(self, step: int, metrics: dict[str, float]) -> None:
        row = {"step": step, "elapsed_s": f"{time.monotonic() - self.started:.3f}", "it_s": f"{self.rate:.4g}",
               **{k: repr(float(v)) for k, v in metrics.items()}}
        path = self.csv_path
        new = self._csv_fields is None or not path.is_file()
        if new:
            self._csv_fields = list(row)
        with path.open("w" if new else "a", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=self._csv_fields, extrasaction="ignore")
            if new:
                writer.writeheader()
            writer.writerow(row)


def _fmt(value: float) -> str:
    return f"{value:.5f}" if isinstance(value, float) else str(value)


def _summary_writer(folder: Path):
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        raise MissingResource("TensorBoard logging needs the tensorboard package: pip install tensorboard "
                              "(or the suite's [tensorboard] extra), or leave out --tensorboard") from None
    return SummaryWriter(log_dir=str(folder))
