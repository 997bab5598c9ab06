"""`input` and `dcp` end to end on a real dataset layout (the authors' HazeRD bundle layout, built from the official
manifest's paths with synthetic hazy photos of known haze), through the dataset registry, the `restore` CLI and
the metrics/evaluate/store of the suite."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from official import OFFICIAL
from PIL import Image

MANIFEST = OFFICIAL / "test_img_jsons/HazeRD.json"
pytestmark = pytest.mark.skipif(not MANIFEST.is_file(), reason=f"official manifest not found at {MANIFEST} "
                                                                "(set YPT_SHARED to the shared folder)")


@pytest.fixture()
def hazerd_root(tmp_path) -> Path:
    """Four manifest entries (two scenes, two haze levels each) as files: GT = a natural photo, hazy = haze model
    ``I = J t + A (1 - t)`` with a depth ramp, stronger haze for the lower visibility in the file name."""
    from benchmarks.datasets.synthetic import add_haze, clean_photo

    entries = json.loads(MANIFEST.read_text())
    scenes: dict[str, list[dict]] = {}
    for e in entries:
        scenes.setdefault(e["target_path"], []).append(e)
    chosen = [group[:2] for group in list(scenes.values())[:2]]
    root = tmp_path / "bundle"
    for photo, group in zip(("coffee", "chelsea"), chosen):
        clean = clean_photo(photo, 96)
        _save(clean, root / group[0]["target_path"])
        for level, e in enumerate(group):
            _save(add_haze(clean, beta=1.2 + level, airlight=0.9, depth_far=1.0, depth_near=0.2),
                  root / e["image_path"])
    return root


def _save(image: np.ndarray, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray((np.clip(image, 0, 1) * 255 + 0.5).astype(np.uint8)).save(path, quality=95)


def test_restore_cli_and_scores_on_the_hazerd_layout(hazerd_root, tmp_path, monkeypatch, capsys):
    from baselines.__main__ import main
    from benchmarks import datasets
    from benchmarks.evaluate import evaluate
    from benchmarks.store import ResultStore

    monkeypatch.setenv("YPT_BASELINES_CONFIG", str(tmp_path / "none.toml"))
    samples = datasets.get("hazerd").samples(hazerd_root)
    assert len(samples) == 4
    store = ResultStore(tmp_path / "store")
    means = {}
    for method in ("input", "dcp"):
        out = tmp_path / "runs" / method
        assert main(["restore", method, "--dataset", "hazerd", "--data-root", str(hazerd_root),
                     "--out", str(out)]) == 0
        assert "4 outputs" in capsys.readouterr().out
        summary = evaluate(method, "hazerd", out, store, metrics=["psnr", "ssim"], data_root=hazerd_root,
                           progress=False)
        assert summary.scored == 8 and not summary.missing_outputs
        means[method] = summary.means
    records = store.load(dataset="hazerd")
    assert len(records) == 16 and set(records["method"]) == {"input", "dcp"}
    assert means["dcp"]["psnr"] > means["input"]["psnr"] + 4.0, means
    assert means["dcp"]["ssim"] > means["input"]["ssim"], means


def test_restore_cli_reports_a_missing_dataset_without_traceback(tmp_path, monkeypatch, capsys):
    from baselines.__main__ import main

    monkeypatch.setenv("YPT_BASELINES_CONFIG", str(tmp_path / "none.toml"))
    assert main(["restore", "dcp", "--dataset", "hazerd", "--data-root", str(tmp_path / "nothing"),
                 "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "hazerd" in err.lower() and "Traceback" not in err
