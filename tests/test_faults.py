"""Faults put into a set in the real on-disk layout, one at a time: a bad file fails its sample alone, at every stage
(restoring with a built-in method, scoring, evaluating, ``datasets check --deep``); no good sample's output or record
is lost, and the failure names the sample, the original file and the reason. (A damaged store line:
tests/test_store.py.)"""
from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import baselines
from baselines.base import RestoreConfig
from benchmarks import datasets
from benchmarks.datasets.__main__ import check_one
from benchmarks.evaluate import evaluate
from benchmarks.store import ResultStore

_KEYS = itertools.count()
SIZE = (40, 24)  # width, height


def _image(path: Path, seed: int, size=SIZE) -> None:
    rng = np.random.default_rng(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)).save(path)


def make_set(root: Path, n: int, ext: str = ".png"):
    """``root/input/sNN<ext>`` -> ``root/gt/sNN<ext>``, registered as a fresh paired-folder dataset."""
    for i in range(n):
        _image(root / "input" / f"s{i:02d}{ext}", i)
        _image(root / "gt" / f"s{i:02d}{ext}", 1000 + i)
    spec = datasets.paired_folder(f"faults_{next(_KEYS)}", root, ("haze",))
    datasets.register(spec)
    return spec


def truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


FAULTS = {
    "truncated JPEG": (".jpg", lambda p: truncate(p)),
    "truncated PNG": (".png", lambda p: truncate(p)),
    "not an image": (".png", lambda p: p.write_text("<html>this is not a PNG</html>")),
    "zero bytes": (".png", lambda p: p.write_bytes(b"")),
}


@pytest.mark.parametrize("fault", FAULTS)
def test_bad_input_fails_its_sample_alone_at_every_stage(tmp_path, fault):
    ext, damage = FAULTS[fault]
    spec = make_set(tmp_path / "set", 6, ext)
    bad = tmp_path / "set" / "input" / f"s03{ext}"
    damage(bad)
    samples = spec.samples()
    # check --deep names the file; plain check stays fast and sees six samples
    assert check_one(spec, None)[0] == "found"
    status, detail = check_one(spec, None, deep=True)
    assert status == "error" and f"sample s03: input {bad}" in detail and detail.count("\n") == 1
    # restore (built-in): five outputs, one failure naming the sample, the original file, the stage
    report = baselines.get("input").restore(samples, tmp_path / "out", RestoreConfig(progress=False))
    assert sorted(report.outputs) == ["s00", "s01", "s02", "s04", "s05"]
    (failure,) = report.failures
    assert (failure.sample, failure.path, failure.stage) == ("s03", str(bad), "input")
    # score: the five outputs are scored, the restored ones are untouched by the failure
    summary = evaluate("input", spec.key, tmp_path / "out", ResultStore(tmp_path / "r"), metrics=["psnr"],
                       progress=False)
    assert summary.scored == 5 and summary.missing_outputs == ["s03"] and summary.failures == []
    # a rerun retries the failed sample only, and restores it once the file is fixed
    _image(bad, 3)
    again = baselines.get("input").restore(samples, tmp_path / "out", RestoreConfig(progress=False, resume=True))
    assert again.failures == [] and len(again.outputs) == 6 and "5 sample(s) already restored" in again.notes[0]


@pytest.mark.parametrize("fault", ["truncated PNG", "not an image", "zero bytes", "another aspect"])
def test_bad_target_fails_its_sample_alone_when_scoring(tmp_path, fault):
    spec = make_set(tmp_path / "set", 6)
    target = tmp_path / "set" / "gt" / "s02.png"
    if fault == "another aspect":
        _image(target, 7, size=(24, 40))
    else:
        FAULTS[fault][1](target)
    samples = spec.samples()
    baselines.get("input").restore(samples, tmp_path / "out", RestoreConfig(progress=False))
    status, detail = check_one(spec, None, deep=True)
    assert status == "error" and f"sample s02: target {target}" in detail
    store = ResultStore(tmp_path / "r")
    summary = evaluate("input", spec.key, tmp_path / "out", store, metrics=["psnr", "ssim"], progress=False)
    (failure,) = summary.failures
    assert (failure.sample, failure.path, failure.stage) == ("s02", str(target), "score")
    assert summary.scored == 5 * 2
    assert sorted(store.load()["sample"].unique()) == ["s00", "s01", "s03", "s04", "s05"]


def test_a_target_of_another_size_but_the_same_aspect_is_scored_and_noted(tmp_path):
    spec = make_set(tmp_path / "set", 3)
    _image(tmp_path / "set" / "gt" / "s01.png", 9, size=(80, 48))
    baselines.get("input").restore(spec.samples(), tmp_path / "out", RestoreConfig(progress=False))
    summary = evaluate("input", spec.key, tmp_path / "out", ResultStore(tmp_path / "r"), metrics=["psnr"],
                       progress=False)
    assert summary.failures == [] and summary.scored == 3 and summary.rescaled_targets == ["s01"]


def test_one_truncated_input_in_75_costs_that_sample_alone(tmp_path, capsys):
    """Acceptance: a 75-image set with one truncated JPEG, run through the planner and the local executor: 74
    outputs, 74 samples scored, one failure line naming the sample and the file, no traceback; exit 1 (a sample
    failed); a rerun retries that sample alone."""
    from benchmarks.runner.execute import run_plan
    from benchmarks.runner.planning import Cell, plan_cells
    from benchmarks.runner.units import ResultsLayout

    spec = make_set(tmp_path / "set", 75, ".jpg")
    bad = tmp_path / "set" / "input" / "s41.jpg"
    truncate(bad)
    plan = plan_cells("faults", [Cell("input", spec.key, ("psnr",))], layout=ResultsLayout(str(tmp_path / "r")))
    assert run_plan(plan, progress=False) == 1
    out, err = capsys.readouterr()
    lines = [line for line in (out + err).splitlines() if "failed" in line and "sample" in line]
    assert len(lines) == 1 and "sample s41" in lines[0] and str(bad) in lines[0] and "input" in lines[0]
    assert "Traceback" not in out + err and "partial" in out
    restore = plan.units[0]
    assert len(list(restore.out_dir.glob("*.png"))) == 74
    assert len(ResultStore(tmp_path / "r").load()) == 74
    _image(bad, 41)  # the file is fixed: the rerun restores and scores that sample alone
    assert run_plan(plan, progress=False) == 0
    assert len(ResultStore(tmp_path / "r").load()) == 75


# -- external methods (a stand-in FoundIR with upstream's CLI and output naming: tests/standins.py) -----------------
def _foundir(tmp_path, crash_after: int | None = None):
    from standins import ready

    repo, settings = ready("foundir", tmp_path)
    if crash_after is not None:  # upstream dies part-way (a CUDA error on one image, an out-of-memory)
        script = repo / "test.py"
        script.write_text(script.read_text().replace(
            "for line in open(a.meta):",
            f"import sys\nfor n, line in enumerate(open(a.meta)):\n    if n == {crash_after}:\n"
            "        print('RuntimeError: CUDA error: an illegal memory access'); sys.exit(3)"))
    return settings


def test_external_method_a_bad_input_fails_alone_and_upstream_gets_the_rest(tmp_path):
    spec = make_set(tmp_path / "set", 5)
    bad = tmp_path / "set" / "input" / "s01.png"
    bad.write_text("not an image")
    report = baselines.get("foundir").restore(spec.samples(), tmp_path / "out",
                                              RestoreConfig(settings=_foundir(tmp_path), progress=False))
    assert sorted(report.outputs) == ["s00", "s02", "s03", "s04"]
    (failure,) = report.failures
    assert (failure.sample, failure.path, failure.stage) == ("s01", str(bad), "input")


def test_external_method_whatever_upstream_wrote_before_dying_is_kept(tmp_path):
    spec = make_set(tmp_path / "set", 5)
    report = baselines.get("foundir").restore(spec.samples(), tmp_path / "out",
                                              RestoreConfig(settings=_foundir(tmp_path, crash_after=3), progress=False))
    assert sorted(report.outputs) == ["s00", "s01", "s02"]  # the three it wrote, mapped back to their ids
    assert [f.sample for f in report.failures] == ["s03", "s04"]
    assert all(f.stage == "restore" for f in report.failures)
    assert any("exit 3" in note and "illegal memory access" in note for note in report.notes)
    # the rerun retries the two alone (upstream fixed)
    again = baselines.get("foundir").restore(spec.samples(), tmp_path / "out", RestoreConfig(
        settings=_foundir(tmp_path / "fixed"), progress=False, resume=True))
    assert again.failures == [] and len(again.outputs) == 5
