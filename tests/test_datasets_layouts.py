"""Original-release layouts, containers, loaders, messages and the CLI of the dataset registry."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from benchmarks import datasets
from benchmarks.datasets.__main__ import check_one
from benchmarks.datasets.spec import DatasetError, DatasetMissing, LayoutMismatch


def _png(path: Path, value: int = 0, size=(6, 4)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((size[1], size[0], 3), value, np.uint8)).save(path)
    return path


def _rel(p, root):
    return Path(p).relative_to(root).as_posix()


def test_reside_original_pairs_many_inputs_to_one_target(tmp_path):
    for name in ("0001_0.8_0.2.jpg", "0001_0.9_0.1.JPG", "0002_1_0.04.jpg"):
        (tmp_path / "SOTS/outdoor/hazy").mkdir(parents=True, exist_ok=True)
        (tmp_path / "SOTS/outdoor/hazy" / name).touch()
    for name in ("0001.png", "0002.png"):
        (tmp_path / "SOTS/outdoor/GT").mkdir(parents=True, exist_ok=True)  # alias + case: gt|clear matches GT
        (tmp_path / "SOTS/outdoor/GT" / name).touch()
    (tmp_path / "SOTS/outdoor/hazy/results").mkdir()  # another method's results: ignored
    (tmp_path / "SOTS/outdoor/hazy/results/0001_0.8_0.2.png").touch()
    samples = datasets.get("reside_sots").samples(tmp_path)
    pairs = sorted((s.id, _rel(s.target, tmp_path)) for s in samples)
    assert pairs == [("0001_0.8_0.2", "SOTS/outdoor/GT/0001.png"), ("0001_0.9_0.1", "SOTS/outdoor/GT/0001.png"),
                     ("0002_1_0.04", "SOTS/outdoor/GT/0002.png")]


def test_gopro_original_sequences_blur_to_sharp_in_natural_order(tmp_path):
    for seq in ("GOPR0410_11_00", "GOPR0384_11_00"):
        for n in ("000010", "000002"):
            for kind in ("blur", "sharp", "blur_gamma"):
                (tmp_path / "GOPRO_Large/test" / seq / kind).mkdir(parents=True, exist_ok=True)
                (tmp_path / "GOPRO_Large/test" / seq / kind / f"{n}.png").touch()
    samples = datasets.get("gopro").samples(tmp_path)
    assert [s.id for s in samples] == ["GOPR0384_11_00/000002", "GOPR0384_11_00/000010",
                                       "GOPR0410_11_00/000002", "GOPR0410_11_00/000010"]
    assert all("/sharp/" in s.target for s in samples)
    bundle = tmp_path / "bundle"  # the authors' bundle names the same frames <seq>/fol/<n>: same ids
    for seq in ("GOPR0410_11_00", "GOPR0384_11_00"):
        for n in ("000010", "000002"):
            for side in ("Blur", "GT"):
                (bundle / "test_img_data/GoPro" / side / seq / "fol").mkdir(parents=True, exist_ok=True)
                (bundle / "test_img_data/GoPro" / side / seq / "fol" / f"{n}.png").touch()
    assert [s.id for s in datasets.get("gopro").samples(bundle)] == [s.id for s in samples]
    clips = datasets.get("gopro_video").samples(tmp_path)
    assert [c.id for c in clips] == ["GOPR0384_11_00", "GOPR0410_11_00"]
    assert [Path(p).name for p in clips[0].input] == ["000002.png", "000010.png"]
    assert all("/blur/" in p for p in clips[0].input) and all("/sharp/" in p for p in clips[0].target)


def test_video_clips_are_cut_to_33_frames(tmp_path):
    for i in range(40):
        (tmp_path / "RVSD/test/snow/00007").mkdir(parents=True, exist_ok=True)
        (tmp_path / "RVSD/test/snow/00007" / f"{i}.jpg").touch()
        (tmp_path / "RVSD/test/clean/00007").mkdir(parents=True, exist_ok=True)
        (tmp_path / "RVSD/test/clean/00007" / f"{i}.jpg").touch()
    [clip] = datasets.get("rvsd").samples(tmp_path)
    assert len(clip.input) == len(clip.target) == 33
    assert [Path(p).stem for p in clip.input[:3]] == ["0", "1", "2"] and Path(clip.input[-1]).stem == "32"


def test_udc_mat_arrays_and_loader(tmp_path):
    from scipy.io import savemat

    rng = np.random.default_rng(0)
    display = rng.integers(0, 256, (3, 4, 5, 3), dtype=np.uint8)
    gt = rng.integers(0, 256, (3, 4, 5, 3), dtype=np.uint8)
    (tmp_path / "UDC/poled").mkdir(parents=True)
    savemat(tmp_path / "UDC/poled/poled_test_display.mat", {"test_display": display})
    savemat(tmp_path / "UDC/poled/poled_test_gt.mat", {"test_gt": gt})
    samples = datasets.get("poled").samples(tmp_path)
    assert [s.id for s in samples] == ["input_0000", "input_0001", "input_0002"]  # as the bundle's input_0000.png
    assert samples[1].input.endswith("poled_test_display.mat#1@test_display")
    inp, tgt = datasets.load_sample(samples[2])
    assert inp.shape == (3, 4, 5)
    np.testing.assert_allclose(inp.permute(1, 2, 0).numpy() * 255, display[2], atol=1e-3)
    np.testing.assert_allclose(tgt.permute(1, 2, 0).numpy() * 255, gt[2], atol=1e-3)


def test_sdsd_npy_frames(tmp_path):
    for side in ("input", "GT"):
        (tmp_path / "SDSD" / side / "pair3").mkdir(parents=True)
        for i in range(3):
            np.save(tmp_path / "SDSD" / side / "pair3" / f"{i:04d}.npy",
                    np.full((4, 6, 3), i * 10 + (side == "GT"), np.uint8))
    [clip] = datasets.get("sdsd").samples(tmp_path)
    assert clip.id == "pair3" and len(clip.input) == 3
    inp, tgt = datasets.load_sample(clip)
    assert inp.shape == (3, 3, 4, 6)
    assert round(float(inp[2, 0, 0, 0]) * 255) == 20 and round(float(tgt[2, 0, 0, 0]) * 255) == 21


def test_image_loader_reads_pngs(tmp_path):
    _png(tmp_path / "test_img_data/LOLv1/Test/Low/1.png", 51)
    _png(tmp_path / "test_img_data/LOLv1/Test/GT/1.png", 204)
    [sample] = datasets.get("lolv1").samples(tmp_path)
    inp, tgt = datasets.load_sample(sample)
    assert inp.shape == (3, 4, 6) and float(inp.mean()) == pytest.approx(0.2) and float(tgt.mean()) == pytest.approx(0.8)


def test_messages_name_dataset_path_and_layout(tmp_path):
    with pytest.raises(DatasetMissing) as missing:
        datasets.get("hazerd").samples(tmp_path)
    text = str(missing.value)
    assert "HazeRD (hazerd) not found under" in text and str(tmp_path) in text
    assert "test_img_data/HazeRD/Test/Hazy" in text and "rochester.edu" in text
    (tmp_path / "test_img_data/HazeRD/Test/Hazy").mkdir(parents=True)
    (tmp_path / "test_img_data/HazeRD/Test/Hazy/IMG_1_100.jpg").touch()
    with pytest.raises(LayoutMismatch, match="no target folder"):
        datasets.get("hazerd").samples(tmp_path)
    (tmp_path / "test_img_data/HazeRD/Test/GT").mkdir()
    with pytest.raises(LayoutMismatch, match=r"no target for .*IMG_1_100.jpg .*IMG_1_RGB"):
        datasets.get("hazerd").samples(tmp_path)
    (tmp_path / "test_img_data/HazeRD/Test/GT/IMG_1_RGB.jpg").touch()
    status, detail = check_one(datasets.get("hazerd"), tmp_path)
    assert status == "mismatch" and detail.startswith("1 samples, expected 75")
    [sample] = datasets.get("hazerd").samples(tmp_path)
    with pytest.raises(DatasetError, match=r"cannot read .*IMG_1_100.jpg"):
        datasets.load_sample(sample)  # an empty file is not an image


def test_unknown_key_and_runtime_registration(tmp_path):
    from ypt.registry import UnknownKeyError

    with pytest.raises(UnknownKeyError, match="Did you mean 'hazerd'"):
        datasets.get("hazrd")
    with pytest.raises(ValueError, match="duplicate dataset 'lolv1'"):
        datasets.register(datasets.get("lolv1"))


def test_data_root_from_env_and_overrides(tmp_path, monkeypatch):
    _png(tmp_path / "elsewhere/test_img_data/LOLv1/Test/Low/7.png")
    _png(tmp_path / "elsewhere/test_img_data/LOLv1/Test/GT/7.png")
    config = tmp_path / "datasets.toml"
    config.write_text(f'[roots]\nlolv1 = "{tmp_path / "elsewhere"}"\n')
    monkeypatch.setenv("YPT_DATA_CONFIG", str(config))
    monkeypatch.setenv("YPT_DATA", str(tmp_path / "empty"))
    assert [s.id for s in datasets.get("lolv1").samples()] == ["7"]
    monkeypatch.delenv("YPT_DATA")
    with pytest.raises(DatasetMissing, match="no data root"):
        datasets.get("hazerd").samples()


def test_cli_list_and_check_never_import_torch(tmp_path):
    code = ("import sys\nfrom benchmarks.datasets.__main__ import main\n"
            f"a = main(['list'])\nb = main(['check', '--data-root', {str(tmp_path)!r}, 'hazerd', 'sice'])\n"
            "print('RC', a, b, 'torch' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True, timeout=60,
                         env={**__import__("os").environ, "COLUMNS": "200"})
    assert out.returncode == 0, out.stderr
    assert "RC 0 1 False" in out.stdout
    assert "Traceback" not in out.stdout + out.stderr
    assert "cdd_haze_snow" in out.stdout and "missing" in out.stdout
