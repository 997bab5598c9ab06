"""benchmarks.evaluate on a real-layout fixture (LOLv1): records, reruns that do no metric work, re-scoring of
changed outputs, no-reference handling, missing outputs, the CLI."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from benchmarks.evaluate import EvaluationError, evaluate, main
from benchmarks.metrics.base import Metric
from benchmarks.protocol import PROTOCOL_VERSION
from benchmarks.store import COLUMNS, ResultStore


def _png(path, array):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path)
    return path


@pytest.fixture()
def lol(tmp_path):
    rng = np.random.default_rng(0)
    root = tmp_path / "data"
    clean = {}
    for name in ("1", "22", "3"):
        clean[name] = rng.integers(0, 256, (24, 32, 3), dtype=np.uint8)
        _png(root / "test_img_data/LOLv1/Test/GT" / f"{name}.png", clean[name])
        _png(root / "test_img_data/LOLv1/Test/Low" / f"{name}.png", clean[name] // 4)
    outputs = tmp_path / "out"
    for name, array in clean.items():
        noisy = np.clip(array.astype(int) + rng.integers(-20, 21, array.shape), 0, 255).astype(np.uint8)
        _png(outputs / f"{name}.png", noisy)
    return root, outputs, clean


def test_records_rerun_and_changed_output(lol, tmp_path):
    root, outputs, clean = lol
    store = ResultStore(tmp_path / "results")
    before = dict(Metric.images_scored)
    summary = evaluate("mine", "lolv1", outputs, store, metrics=["psnr", "ssim"], data_root=root, progress=False)
    assert summary.scored == 6 and summary.reused == 0 and summary.samples == 3
    frame = store.load()
    assert list(frame.columns) == COLUMNS and len(frame) == 6
    assert set(frame["protocol"]) == {PROTOCOL_VERSION} and set(frame["metric_version"]) == {"skimage-psnr-rgb/1",
                                                                                      "skimage-ssim-rgb/1"}
    assert frame["output_sha256"].str.len().eq(64).all() and frame["code_version"].str.startswith("0.1.0").all()
    # the mean PSNR equals a hand computation of the official path: torch bicubic to 512, clamp, skimage
    import torch
    from skimage.metrics import peak_signal_noise_ratio

    def prep(path):
        x = torch.from_numpy(np.asarray(Image.open(path), np.float32) / 255).permute(2, 0, 1)[None]
        return torch.nn.functional.interpolate(x, size=(512, 512), mode="bicubic").clamp(0, 1)[0].permute(1, 2, 0).numpy()
    hand = np.mean([peak_signal_noise_ratio(prep(root / f"test_img_data/LOLv1/Test/GT/{n}.png"),
                                            prep(outputs / f"{n}.png"), data_range=1) for n in clean])
    assert summary.means["psnr"] == pytest.approx(hand, abs=1e-6)
    scored = dict(Metric.images_scored)
    # rerun: no metric work at all
    again = evaluate("mine", "lolv1", outputs, store, metrics=["psnr", "ssim"], data_root=root, progress=False)
    assert again.scored == 0 and again.reused == 6 and Metric.images_scored == scored
    assert again.means == pytest.approx(summary.means)
    # one output changes: only that sample is scored again, and its record replaced (not duplicated)
    _png(outputs / "22.png", clean["22"] // 2 + 60)
    third = evaluate("mine", "lolv1", outputs, store, metrics=["psnr", "ssim"], data_root=root, progress=False)
    assert third.scored == 2 and third.reused == 4
    assert len(store.load()) == 6
    assert store.scored("mine", "lolv1") == {(s, m) for s in ("1", "22", "3") for m in ("psnr", "ssim")}
    assert Metric.images_scored["psnr"] - before.get("psnr", 0) == 4


def test_no_reference_sets_refuse_full_reference_metrics(tmp_path):
    root = tmp_path / "data"
    _png(root / "test_img_data/LOLBlur/1_blur_1.png", np.zeros((8, 8, 3), np.uint8))
    with pytest.raises(EvaluationError, match="psnr cannot be computed on lolblur: it has no reference"):
        evaluate("m", "lolblur", tmp_path / "out", ResultStore(tmp_path / "r"), metrics=["psnr"], data_root=root)


def test_missing_outputs_are_reported_and_unavailable_metrics_skipped(lol, tmp_path, monkeypatch):
    root, outputs, _ = lol
    (outputs / "3.png").unlink()
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "no-weights"))
    summary = evaluate("m", "lolv1", outputs, ResultStore(tmp_path / "r"), data_root=root, progress=False)
    assert summary.missing_outputs == ["3"]
    assert set(summary.unavailable) == {"lpips", "dists", "clipiqa", "musiq"}  # no weights here: named, skipped
    assert set(summary.means) == {"psnr", "ssim"}


def test_cli_prints_means(lol, tmp_path, capsys):
    root, outputs, _ = lol
    rc = main(["--method", "cli", "--dataset", "lolv1", "--outputs", str(outputs), "--data-root", str(root),
               "--metrics", "psnr", "--results-dir", str(tmp_path / "r")])
    out = capsys.readouterr().out
    assert rc == 0 and "cli on lolv1: 3" in out and "psnr" in out and "scored 3 values" in out


class _ClipSpec:
    """A video spec with the registry's interface (key, modality, paired, samples(root))."""

    def __init__(self, key, samples, paired=True):
        self.key, self._samples, self.paired, self.modality = key, samples, paired, "video"

    def samples(self, root=None):
        return list(self._samples)


def _clip_fixture(tmp_path, paired=True):
    import uuid

    from benchmarks import datasets
    from benchmarks.datasets import Sample
    from benchmarks.outputs import video_frame_path

    rng = np.random.default_rng(7)
    samples, outputs = [], tmp_path / "out"
    for clip in ("c1", "c2"):
        targets = []
        for i in range(3):
            gt = rng.integers(0, 256, (16, 24, 3), dtype=np.uint8)
            targets.append(str(_png(tmp_path / f"data/{clip}/gt/{i:03d}.png", gt)))
            out = np.clip(gt.astype(int) + rng.integers(-30, 31, gt.shape), 0, 255).astype(np.uint8)
            _png(video_frame_path(outputs, clip, i), out)
        samples.append(Sample(clip, targets, targets if paired else None, ("rain",), "video", "clips"))
    key = f"clips_{uuid.uuid4().hex[:8]}"
    datasets.register(_ClipSpec(key, samples, paired))
    return key, samples, outputs


def test_video_metrics_are_frame_means_and_missing_dover_is_reported(tmp_path, monkeypatch):
    from skimage.metrics import peak_signal_noise_ratio

    from benchmarks.metrics.resize import load_pair

    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "no-weights"))
    monkeypatch.setenv("YPT_DOVER_DIR", str(tmp_path / "no-dover"))
    key, samples, outputs = _clip_fixture(tmp_path)
    summary = evaluate("m", key, outputs, ResultStore(tmp_path / "r"), progress=False)
    assert set(summary.unavailable) == {"lpips", "dists", "clipiqa", "musiq", "dover"}
    assert "VQAssessment/DOVER" in summary.unavailable["dover"]
    assert summary.scored == 4 and summary.missing_outputs == []  # psnr, ssim for two clips
    assert summary.short_outputs == {}
    frame = ResultStore(tmp_path / "r").load()
    for sample in samples:
        hand = []
        for i, target in enumerate(sample.target):
            pred, tgt = load_pair(outputs / sample.id / f"{i:05d}.png", target)
            hand.append(peak_signal_noise_ratio(tgt[0].permute(1, 2, 0).numpy(), pred[0].permute(1, 2, 0).numpy(),
                                                data_range=1))
        value = frame.query(f"sample == '{sample.id}' and metric == 'psnr'")["value"].item()
        assert value == pytest.approx(float(np.mean(hand)), abs=1e-6)


def test_no_reference_video_set_gets_nr_metrics_only(tmp_path, monkeypatch):
    from benchmarks.metrics import pyiqa_metrics

    key, _, outputs = _clip_fixture(tmp_path, paired=False)
    with pytest.raises(EvaluationError, match="ssim cannot be computed"):
        evaluate("m", key, outputs, ResultStore(tmp_path / "r"), metrics=["ssim"], progress=False)

    class FakeNet:  # stands in for pyiqa's network (no weights here): mean brightness per image
        def __call__(self, x, y=None):
            assert y is None
            return x.mean(dim=(1, 2, 3))

    monkeypatch.setattr(pyiqa_metrics, "require_weights", lambda name: None)
    monkeypatch.setattr("pyiqa.create_metric", lambda name, device, as_loss: FakeNet())
    from benchmarks import metrics

    for name in ("clipiqa", "musiq"):
        monkeypatch.setattr(metrics.get(name, "cpu"), "_net", None)  # restored (no fake left cached) at teardown
    monkeypatch.setattr(metrics, "weights_problem", lambda name: None if name != "dover" else "dover: missing")
    summary = evaluate("m", key, outputs, ResultStore(tmp_path / "r"), progress=False)
    assert set(summary.means) == {"clipiqa", "musiq"} and set(summary.unavailable) == {"dover"}
    assert summary.means["clipiqa"] == pytest.approx(summary.means["musiq"])


def test_cli_reports_missing_outputs_and_errors(lol, tmp_path, capsys, monkeypatch):
    root, outputs, _ = lol
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "no-weights"))
    (outputs / "22.png").unlink()
    args = ["--method", "cli", "--dataset", "lolv1", "--outputs", str(outputs), "--data-root", str(root),
            "--results-dir", str(tmp_path / "r")]
    assert main(args + ["--metrics", "psnr,lpips"]) == 2  # explicitly asked, weights absent here: one clear error
    assert "lpips: weights not in the local cache" in capsys.readouterr().err  # errors go to stderr, as every CLI
    assert main(args + ["--metrics", "psnr,ssim"]) == 1
    out = capsys.readouterr().out
    assert "1 samples have no output" in out and "22" in out and "higher" in out
    assert main(args + ["--metrics", "psnr"] + ["--dataset", "lolv"]) == 2
    assert "unknown dataset 'lolv'" in capsys.readouterr().err


def test_short_clips_are_reported_and_scored_on_common_frames(tmp_path):
    key, _, outputs = _clip_fixture(tmp_path)
    (outputs / "c2" / "00002.png").unlink()
    summary = evaluate("m", key, outputs, ResultStore(tmp_path / "r"), metrics=["psnr"], progress=False)
    assert summary.short_outputs == {"c2": (2, 3)} and summary.scored == 2


def test_a_clip_dover_cannot_score_fails_alone_with_dovers_reason(tmp_path, monkeypatch):
    """DOVER's error for one clip (every frame of which reads) is that sample's failure, with DOVER's message; the
    other clip is scored."""
    from benchmarks import metrics
    from benchmarks.metrics.dover import DoverClipError, DoverMetric

    def score_clip(self, frames, name=None):
        if name == "c2":
            raise DoverClipError(f"dover: cannot score clip {name}: RuntimeError: Error reading clip.mp4...")
        return 0.5

    monkeypatch.setattr(DoverMetric, "score_clip", score_clip)
    monkeypatch.setattr(metrics, "weights_problem", lambda name: None)
    key, _, outputs = _clip_fixture(tmp_path)
    summary = evaluate("m", key, outputs, ResultStore(tmp_path / "r"), metrics=["psnr", "dover"], progress=False)
    assert [(f.sample, f.stage, f.reason) for f in summary.failures] == [
        ("c2", "score", "dover: cannot score clip c2: RuntimeError: Error reading clip.mp4...")]
    assert summary.means["dover"] == 0.5 and summary.scored == 2  # c1: psnr and dover
