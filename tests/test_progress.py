"""Run logs for clusters: plain progress lines when the output is no terminal, metrics.csv (a resumed run keeps
each step once), optional TensorBoard, and a device that is not here failing before anything loads."""
from __future__ import annotations

import csv
import io

import pytest
import torch

from ypt.progress import RunLog, format_duration


class Terminal(io.StringIO):
    def isatty(self):
        return True


def _rows(path):
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def test_plain_lines_off_a_terminal_and_metrics_csv(tmp_path):
    out = io.StringIO()
    with RunLog("wan/haze", 100, folder=tmp_path / "run", stream=out) as log:
        log.update(50, loss=0.125, lr=5e-4)
        log.update(100, loss=0.0625, lr=5e-4)
    lines = out.getvalue().splitlines()
    assert len(lines) == 2 and lines[0].startswith("wan/haze step 50/100 loss 0.12500 lr 0.00050 ")
    assert " it/s " in lines[0] and lines[0].split(" ETA ")[1] == "0:00"  # fast: 50 steps left in no time
    rows = _rows(tmp_path / "run" / "metrics.csv")
    assert [(r["step"], float(r["loss"])) for r in rows] == [("50", 0.125), ("100", 0.0625)]
    assert set(rows[0]) == {"step", "elapsed_s", "it_s", "loss", "lr"}
    assert format_duration(6192) == "1:43:12" and format_duration(245) == "4:05"


def test_a_terminal_gets_a_bar_and_nothing_shows_without_progress(tmp_path):
    tty = Terminal()
    with RunLog("x", 10, stream=tty) as log:
        log.update(5, loss=1.0)
    assert "x step" not in tty.getvalue()  # rich's bar, not plain lines
    quiet = io.StringIO()
    with RunLog("x", 10, stream=quiet, progress=False, folder=tmp_path) as log:
        log.update(5, loss=1.0)
    assert quiet.getvalue() == "" and len(_rows(tmp_path / "metrics.csv")) == 1


def test_a_resumed_run_keeps_each_step_once(tmp_path):
    with RunLog("x", 8, folder=tmp_path, progress=False) as log:
        for step in (2, 4, 6):
            log.update(step, loss=float(step))
    # the checkpoint was at step 4: the resumed run logs 6 and 8 again
    with RunLog("x", 8, completed=4, folder=tmp_path, progress=False) as log:
        for step in (6, 8):
            log.update(step, loss=10.0 + step)
    assert [(r["step"], r["loss"]) for r in _rows(tmp_path / "metrics.csv")] == [
        ("2", "2.0"), ("4", "4.0"), ("6", "16.0"), ("8", "18.0")]


def test_tensorboard_scalars_or_a_clear_message(tmp_path, monkeypatch):
    import importlib.util

    if importlib.util.find_spec("tensorboard") is None:
        from ypt.errors import MissingResource

        with pytest.raises(MissingResource, match="pip install tensorboard"):
            RunLog("x", 4, folder=tmp_path, tensorboard=True, progress=False)
        return
    with RunLog("x", 4, folder=tmp_path, tensorboard=True, progress=False) as log:
        log.update(2, loss=0.5)
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(tmp_path))
    events.Reload()
    assert [(e.step, e.value) for e in events.Scalars("loss")] == [(2, 0.5)]


@pytest.mark.skipif(torch.cuda.is_available(), reason="a machine with CUDA has the device")
def test_device_cuda_fails_fast_without_cuda(tmp_path, capsys):
    from ypt.device import resolve_device
    from ypt.errors import MissingResource
    from ypt.restore import main as restore_main
    from ypt.train import main as train_main

    with pytest.raises(MissingResource, match="--device cuda: no CUDA device is available"):
        resolve_device("cuda")
    assert resolve_device("cpu") == "cpu"
    assert resolve_device(None) == "cpu"
    assert "no CUDA device here: running on the CPU" in capsys.readouterr().err
    # before any model load: the model folder does not even exist
    (tmp_path / "pairs" / "input").mkdir(parents=True)
    (tmp_path / "pairs" / "target").mkdir()
    from PIL import Image

    for side in ("input", "target"):
        Image.new("RGB", (8, 8)).save(tmp_path / "pairs" / side / "a.png")
    assert train_main(["--backbone", "flux", "--degradation", "haze", "--pairs-dir", str(tmp_path / "pairs"),
                       "--model", str(tmp_path / "no-model"), "--device", "cuda"]) == 2
    (tmp_path / "p.safetensors").write_bytes(b"x")
    assert restore_main(["--backbone", "flux", "--prompts", str(tmp_path / "p.safetensors"), "--input",
                         str(tmp_path / "pairs" / "input"), "--out", str(tmp_path / "o"), "--model",
                         str(tmp_path / "no-model"), "--device", "cuda"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 2 and all(line.startswith("error: --device cuda: no CUDA device is available") for line in err)
