"""Original-release layouts, table-driven: each case builds the release's folder shape (empty files, with decoys:
other methods' result folders, upper-case extensions, target-folder aliases) and checks every (input, target) pair."""
from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks import datasets

# key -> [(input, target or None)], paths relative to the data root; files not listed are decoys built separately
IMAGE_CASES = {
    "snow100k_l": [("Snow100K/test/Snow100K-L/synthetic/beautiful_01.jpg", "Snow100K/test/Snow100K-L/gt/beautiful_01.jpg"),
                   ("Snow100K/test/Snow100K-L/synthetic/beautiful_2.JPG", "Snow100K/test/Snow100K-L/gt/beautiful_2.jpg")],
    "snow100k_train": [("all/synthetic/a_1.jpg", "all/gt/a_1.jpg")],
    "rain13k_train": [("Rain13K/input/1.jpg", "Rain13K/target/1.jpg"), ("Rain13K/input/10.png", "Rain13K/target/10.png")],
    "lolv1": [("LOLdataset/eval15/low/1.png", "LOLdataset/eval15/high/1.png"),
              ("LOLdataset/eval15/low/22.png", "LOLdataset/eval15/high/22.png")],
    "lolv1_train": [("our485/low/2.png", "our485/high/2.png")],
    "sice": [("SICE/Dataset_Part2/1/1.JPG", "SICE/Dataset_Part2/Label/1.JPG"),
             ("SICE/Dataset_Part2/1/3.JPG", "SICE/Dataset_Part2/Label/1.JPG"),
             ("SICE/Dataset_Part2/12/2.JPG", "SICE/Dataset_Part2/Label/12.JPG")],
    "cdd_haze_snow": [("CDD-11_test/haze_snow/001.png", "CDD-11_test/clear/001.png")],
    "lolblur": [("LOLBlur/test/low_blur_noise/0012/0003.png", None), ("LOLBlur/test/low_blur_noise/0012/0010.png", None)],
    "raindrop": [("test_a/data/3_rain.png", "test_a/gt/3_clean.png")],
    "hazerd": [("HazeRD/hazy/IMG_7033_100.jpg", "HazeRD/gt/IMG_7033_RGB.jpg"),
               ("HazeRD/hazy/IMG_7033_200.jpg", "HazeRD/gt/IMG_7033_RGB.jpg")],
    "lhp": [("LHP/test/input/5.png", "LHP/test/gt/5.png")],
    "weatherbench_snow": [("WeatherBench/test/snow/input/7.jpg", "WeatherBench/test/snow/target/7.jpg")],
    "4krd": [("4KRD/test/input300/VID_1_3.jpg", "4KRD/test/gt300/VID_1_3.jpg")],
    "reside_ots_train": [("OTS/hazy/part1/0025_0.8_0.1.jpg", "OTS/clear/0025.jpg"),
                         ("OTS/hazy/part1/0025_1_0.2.jpg", "OTS/clear/0025.jpg"),
                         ("OTS/hazy/part2/0030_0.9_0.16.jpg", "OTS/clear/0030.jpg")],
    "revide_frames": [("REVIDE/Test/hazy/W002/00001.JPG", "REVIDE/Test/gt/W002/00001.JPG")],
}
EXPECTED_IDS = {
    "snow100k_l": ["beautiful_01", "beautiful_2"], "sice": ["1/1", "1/3", "12/2"],
    "lolblur": ["0012/0003", "0012/0010"], "reside_ots_train": ["part1/0025_0.8_0.1", "part1/0025_1_0.2",
                                                                "part2/0030_0.9_0.16"],
}
DECOYS = {
    "sice": ["SICE/Dataset_Part2/1/4.JPG", "SICE/Dataset_Part2/1/7.JPG"],              # exposure index > 3
    "lolblur": ["LOLBlur/test/low_blur_noise/results/0012/0003.png",                    # another method's outputs
                "LOLBlur/test/low_blur_noise/0012/notes.txt"],
    "reside_ots_train": ["OTS/hazy/.cache/0025_0.8_0.1.jpg"],
    "cdd_haze_snow": ["CDD-11_test/haze/001.png", "CDD-11_test/snow/001.png"],           # the other CDD splits
}
# key -> {clip id: [(input frame, target frame or None)]}
VIDEO_CASES = {
    "revide": {"L001": [("REVIDE/Test/hazy/L001/2.JPG", "REVIDE/Test/gt/L001/2.JPG"),
                        ("REVIDE/Test/hazy/L001/10.JPG", "REVIDE/Test/gt/L001/10.JPG")]},
    "nturain_synthetic": {"a1_Rain": [("Dataset_Testing_Synthetic/a1_Rain/1.jpg", "Dataset_Testing_Synthetic/a1_GT/1.jpg")],
                          "b4_Rain": [("Dataset_Testing_Synthetic/b4_Rain/1.jpg", "Dataset_Testing_Synthetic/b4_GT/1.jpg")]},
    "nturain_real": {"c_Rain": [("Dataset_Testing_RealRain/c_Rain/00001.jpg", None)]},
    "lasvr": {"0007": [("LasVR/test/dirty/0007/1.png", "LasVR/test/clean/0007/1.png")]},
    "rhvd": {"v1": [("RHVD/test/v1/1.png", None), ("RHVD/test/v1/2.png", None)]},
    "lol_iphone": {"iphone/clip3": [("LoLi-Phone/all_flame/test_flame/iphone/clip3/1.jpeg", None)]},
    "aaurainsnow": {"Egensevej/Egensevej-1": [("AAURainSnow/Egensevej/Egensevej-1/00001.png", None)]},
    "4krd_video": {"VID_2": [("4KRD/test/input/VID_2_1.jpg", "4KRD/test/gt/VID_2_1.jpg"),
                             ("4KRD/test/input/VID_2_12.jpg", "4KRD/test/gt/VID_2_12.jpg")],
                   "VID_10": [("4KRD/test/input/VID_10_1.jpg", "4KRD/test/gt/VID_10_1.jpg")]},
    "rvsd_train": {"00001": [("RVSD/train/snow/00001/1.jpg", "RVSD/train/clean/00001/1.jpg")]},
    "gopro_video_train": {"GOPR0372_07_00": [("GoPro/train/GOPR0372_07_00/blur/000047.png",
                                              "GoPro/train/GOPR0372_07_00/sharp/000047.png")]},
    "nturain_synthetic_train": {"t1_Rain": [("Dataset_Training_Synthetic/t1_Rain/9.jpg",
                                             "Dataset_Training_Synthetic/t1_GT/9.jpg")]},
}
VIDEO_DECOYS = {"gopro_video_train": ["GoPro/train/GOPR0372_07_00/blur_gamma/000047.png"],
                "revide": ["REVIDE/Test/hazy/results/L001/2.JPG"]}


def _touch(root: Path, rel: str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch()


def _rel(path, root: Path) -> str:
    return Path(path).relative_to(root).as_posix()


def _touch_pairs(root, pairs, decoys=()):
    """Empty files for every (input, target or None) pair and every decoy path."""
    for inp, tgt in pairs:
        _touch(root, inp)
        if tgt:
            _touch(root, tgt)
    for rel in decoys:
        _touch(root, rel)


@pytest.mark.parametrize("key", sorted(IMAGE_CASES))
def test_original_image_layout_pairs(key, tmp_path):
    _touch_pairs(tmp_path, IMAGE_CASES[key], DECOYS.get(key, ()))
    samples = datasets.get(key).samples(tmp_path)
    assert {(_rel(s.input, tmp_path), s.target and _rel(s.target, tmp_path)) for s in samples} == set(IMAGE_CASES[key])
    assert len(samples) == len(IMAGE_CASES[key])
    assert all(s.layout == "original" and s.dataset == key and s.modality == "image" for s in samples)
    if key in EXPECTED_IDS:
        assert [s.id for s in samples] == EXPECTED_IDS[key]


@pytest.mark.parametrize("key", sorted(VIDEO_CASES))
def test_original_video_layout_clips(key, tmp_path):
    _touch_pairs(tmp_path, [pair for frames in VIDEO_CASES[key].values() for pair in frames],
                 VIDEO_DECOYS.get(key, ()))
    clips = datasets.get(key).samples(tmp_path)
    assert [c.id for c in clips] == list(VIDEO_CASES[key])          # natural order of clip ids
    for clip in clips:
        frames = VIDEO_CASES[key][clip.id]
        assert [_rel(p, tmp_path) for p in clip.input] == [f[0] for f in frames]
        if frames[0][1] is None:
            assert clip.target is None
        else:
            assert [_rel(p, tmp_path) for p in clip.target] == [f[1] for f in frames]
