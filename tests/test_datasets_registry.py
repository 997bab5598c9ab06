"""The registry's data against the paper and DESIGN.md (keys, roles, routing, counts, groups, metrics), run-time
datasets, id rules, folder conventions and the never-a-traceback promise of ``check``."""
from __future__ import annotations

import uuid
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from benchmarks import datasets
from benchmarks.datasets.__main__ import check_one
from benchmarks.datasets.spec import DatasetError, LayoutMismatch

TABLE2 = ["hazerd", "lhp", "weatherbench_snow", "4krd", "sice", "toled", "poled", "cdd_haze_snow", "lolblur"]   # DESIGN.md
TABLE3 = ["rhvd", "lasvr", "nturain_real", "aaurainsnow", "4krd_video", "lol_iphone"]                   # DESIGN.md


def _png(path: Path, value: int = 0, size=(6, 4)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((size[1], size[0], 3), value, np.uint8)).save(path)
    return path


def test_stable_keys_roles_and_prompt_routing():
    keys = set(datasets.keys())
    assert set(TABLE2 + TABLE3) <= keys
    roles = {k: datasets.get(k).role for k in TABLE2 + TABLE3}
    assert {k for k, r in roles.items() if r == "unseen"} == {"toled", "poled"}
    assert {k for k, r in roles.items() if r == "mixed"} == {"cdd_haze_snow", "lolblur"}
    assert {k for k, r in roles.items() if r == "ood"} == set(TABLE2 + TABLE3) - {"toled", "poled", "cdd_haze_snow",
                                                                                   "lolblur"}
    # DESIGN.md prompt routing
    routing = {"hazerd": {"haze"}, "reside_sots": {"haze"}, "revide": {"haze"}, "rhvd": {"haze"},
               "lhp": {"rain"}, "rain100h": {"rain"}, "lasvr": {"rain"}, "nturain_real": {"rain"},
               "weatherbench_snow": {"snow"}, "snow100k_l": {"snow"}, "rvsd": {"snow"}, "aaurainsnow": {"snow"},
               "4krd": {"blur"}, "gopro": {"blur"}, "sice": {"lowlight"}, "lolv1": {"lowlight"},
               "sdsd": {"lowlight"}, "lol_iphone": {"lowlight"}, "toled": {"lowlight", "blur"},
               "poled": {"lowlight", "blur"}, "lolblur": {"lowlight", "blur"}, "cdd_haze_snow": {"snow", "haze"}}
    assert {k: set(datasets.get(k).degradation) for k in routing} == routing


def test_training_sets_have_the_papers_counts():
    # paper sec. 4.2 (REVIDE: the paper trains on 40 of the release's 42 clips; the registry counts the release)
    counts = {"reside_ots_train": 72135, "snow100k_train": 50000, "rain13k_train": 13711, "lolv1_train": 485,
              "gopro_train": 2103, "nturain_synthetic_train": 25, "rvsd_train": 77, "sdsd_train": 58,
              "gopro_video_train": 22}
    for key, count in counts.items():
        spec = datasets.get(key)
        assert (spec.role, spec.expected_count, spec.paired) == ("train", count, True), key
    assert datasets.get("revide_train").role == "train" and "40" in datasets.get("revide_train").notes


def test_within_distribution_groups_are_the_test_splits_of_the_training_sets():
    assert datasets.group_members("wd_image") == ("reside_sots", "snow100k_l", "rain100h", "rain100l", "lolv1", "gopro")
    assert datasets.group_members("wd_video") == ("revide", "nturain_synthetic", "rvsd", "sdsd", "gopro_video")
    for group, modality in (("wd_image", "image"), ("wd_video", "video")):
        for key in datasets.group_members(group):
            spec = datasets.get(key)
            assert (spec.role, spec.modality, spec.paired) == ("wd-test", modality, True), key
    # every degradation the prompts are trained on has a WD test set in each group
    assert {d for k in datasets.group_members("wd_image") for d in datasets.get(k).degradation} == \
        {"haze", "rain", "snow", "lowlight", "blur"}
    assert {d for k in datasets.group_members("wd_video") for d in datasets.get(k).degradation} == \
        {"haze", "rain", "snow", "lowlight", "blur"}
    with pytest.raises(KeyError, match="valid: wd_image, wd_video"):
        datasets.group_members("wd")


def test_metrics_per_set():
    full = ("psnr", "ssim", "lpips", "dists", "clipiqa", "musiq")
    assert datasets.get("hazerd").metrics == full
    assert datasets.get("lolblur").metrics == ("clipiqa", "musiq")           # Table 2: LOLBlur C, M only
    assert datasets.get("lasvr").metrics == full + ("dover",)
    for key in ("rhvd", "nturain_real", "aaurainsnow", "lol_iphone"):         # Table 3: C, M, Do only
        assert datasets.get(key).metrics == ("clipiqa", "musiq", "dover"), key


def test_paired_folder_registered_at_run_time(tmp_path, monkeypatch):
    monkeypatch.delenv("YPT_DATA", raising=False)
    monkeypatch.setenv("YPT_DATA_CONFIG", str(tmp_path / "none.toml"))
    folder = tmp_path / "mine"
    for name, value in (("b10", 10), ("b2", 20)):
        _png(folder / "input" / f"{name}.PNG", value)
        _png(folder / "GT" / f"{name}.png", value + 100)
    _png(folder / "input" / "results" / "b2.png")   # another method's outputs: ignored
    key = f"mine_{uuid.uuid4().hex[:8]}"
    datasets.register(datasets.paired_folder(key, folder, ("rain",), expected_count=2))
    spec = datasets.get(key)
    samples = spec.samples()                         # no data root needed: the folder is the spec's own
    assert [s.id for s in samples] == ["b2", "b10"]  # natural order
    assert all(s.layout == "paired-folder" and s.degradation == ("rain",) for s in samples)
    inp, tgt = datasets.load_sample(samples[0])
    assert round(float(inp.mean()) * 255) == 20 and round(float(tgt.mean()) * 255) == 120
    assert check_one(spec, None) == ("found", "2 samples")
    with pytest.raises(ValueError, match="duplicate"):
        datasets.register(datasets.paired_folder(key, folder, ("rain",)))
    nr = datasets.paired_folder("x", folder, ("rain",), paired=False)
    assert [s.target for s in nr.samples()] == [None, None] and nr.metrics == ("clipiqa", "musiq")


def test_same_name_twice_is_refused_not_overwritten(tmp_path):
    for ext in ("png", "jpg"):
        (tmp_path / "Rain100H/input").mkdir(parents=True, exist_ok=True)
        (tmp_path / "Rain100H/input" / f"1.{ext}").touch()
    (tmp_path / "Rain100H/target").mkdir()
    (tmp_path / "Rain100H/target/1.png").touch()
    with pytest.raises(LayoutMismatch, match="share the id '1'"):
        datasets.get("rain100h").samples(tmp_path)


def test_unreadable_image_names_dataset_path_and_layout(tmp_path):
    (tmp_path / "Rain100L/input").mkdir(parents=True)
    (tmp_path / "Rain100L/input/3.png").write_bytes(b"not a png")
    _png(tmp_path / "Rain100L/target/3.png")
    [sample] = datasets.get("rain100l").samples(tmp_path)
    with pytest.raises(DatasetError) as err:
        datasets.load_sample(sample)
    text = str(err.value)
    assert text.startswith("rain100l: cannot read ") and str(tmp_path / "Rain100L/input/3.png") in text
    assert "layout original: Rain100L/input" in text and "input/<n>.png -> target/<n>.png" in text


def test_check_reports_unexpected_errors_without_raising(tmp_path):
    class Broken:
        key, notes, expected_count = "broken", "", 1

        def samples(self, root):
            raise ValueError("a regex went wrong")

    assert check_one(Broken(), tmp_path) == ("error", "broken: ValueError: a regex went wrong")


def test_check_without_any_root_says_so_once(tmp_path, monkeypatch, capsys):
    from benchmarks.datasets.__main__ import main

    monkeypatch.delenv("YPT_DATA", raising=False)
    monkeypatch.setenv("YPT_DATA_CONFIG", str(tmp_path / "absent.toml"))
    monkeypatch.setenv("COLUMNS", "200")
    assert main(["check", "hazerd", "rhvd"]) == 2
    out = capsys.readouterr().err  # an error, on stderr as every CLI's
    assert out.count("no data root") == 1 and "--data-root DIR or set YPT_DATA" in out
    assert str(tmp_path / "absent.toml") in out and "[roots]" in out


def test_paired_folder_video_clips(tmp_path):
    folder = tmp_path / "clips"
    for clip in ("walk", "run"):
        for i in (1, 2, 10):
            _png(folder / "input" / clip / f"{i}.png", i)
            _png(folder / "Clear" / clip / f"{i}.png", i + 1)
    spec = datasets.paired_folder("clips", folder, ("haze",), modality="video")
    clips = spec.samples()
    assert [c.id for c in clips] == ["run", "walk"]
    assert [Path(p).relative_to(folder).as_posix() for p in clips[1].target] == ["Clear/walk/1.png", "Clear/walk/2.png",
                                                                                "Clear/walk/10.png"]
    inp, tgt = datasets.load_sample(clips[0])
    assert inp.shape == (3, 3, 4, 6) and round(float(tgt[2].mean()) * 255) == 11
    assert spec.metrics[-1] == "dover"
    with pytest.raises(ValueError, match="modality"):
        datasets.paired_folder("bad", folder, ("haze",), modality="audio")


def test_check_expands_groups(tmp_path, monkeypatch, capsys):
    from benchmarks.datasets.__main__ import main

    monkeypatch.setenv("COLUMNS", "200")
    assert main(["check", "--data-root", str(tmp_path), "wd_video"]) == 1
    out = capsys.readouterr().out
    assert "0 of 5 datasets found as expected" in out
    assert all(key in out for key in datasets.group_members("wd_video"))
