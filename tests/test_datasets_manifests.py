"""The registry against the authors' manifests: for each, the files it names are created (empty) in a temporary
folder and the registry must return exactly the manifest's (input, target) pairs, without reading the manifest."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from official import OFFICIAL

from benchmarks import datasets

pytestmark = pytest.mark.skipif(not OFFICIAL.is_dir(), reason=f"official manifests not found at {OFFICIAL}")

IMAGE_MANIFESTS = {
    "4KRD": "4krd", "CDD_haze_snow": "cdd_haze_snow", "GoPro": "gopro", "HazeRD": "hazerd", "LHP": "lhp",
    "LOLBlur": "lolblur", "LOLv1": "lolv1", "POLED": "poled", "RESIDE": "reside_sots", "REVIDE": "revide_frames",
    "Rain100H": "rain100h", "Rain100L": "rain100l", "Raindrop": "raindrop", "SICE": "sice", "TOLED": "toled",
    "WeatherBenchSnow": "weatherbench_snow",
}
VIDEO_MANIFESTS = {
    "4KRD_test": "4krd_video", "GoPro_test": "gopro_video", "LasVR_test": "lasvr", "REVIDE_test": "revide",
    "RHVD_test_pruned": "rhvd", "RVSD_test": "rvsd", "SDSD_test": "sdsd", "SPAC_test_real": "nturain_real",
    "aau": "aaurainsnow", "loliphone_test_pruned": "lol_iphone",
}


def _norm(path: str) -> str:
    return os.path.normpath(path)


def _as_list(x):
    return [_norm(p) for p in x] if isinstance(x, list) else _norm(x)


def _build(tmp: Path, items: list[dict]) -> None:
    for item in items:
        for key in ("image_path", "target_path"):
            for p in item[key] if isinstance(item[key], list) else [item[key]]:
                path = tmp / _norm(p)
                path.parent.mkdir(parents=True, exist_ok=True)
                path.touch()


def _expected(items: list[dict]) -> set:
    pairs = set()
    for item in items:
        inp, tgt = _as_list(item["image_path"]), _as_list(item["target_path"])
        no_reference = inp == tgt
        key = tuple(inp) if isinstance(inp, list) else inp
        pairs.add((key, None if no_reference else (tuple(tgt) if isinstance(tgt, list) else tgt)))
    return pairs


def _found(samples, tmp: Path) -> set:
    def rel(p):
        return _norm(os.path.relpath(p, tmp))

    out = set()
    for s in samples:
        inp = tuple(rel(p) for p in s.input) if isinstance(s.input, list) else rel(s.input)
        tgt = None if s.target is None else (tuple(rel(p) for p in s.target) if isinstance(s.target, list)
                                             else rel(s.target))
        out.add((inp, tgt))
    return out


@pytest.mark.parametrize("name,key", sorted({**IMAGE_MANIFESTS, **VIDEO_MANIFESTS}.items()))
def test_registry_reproduces_the_manifest(name, key, tmp_path):
    folder = "test_vid_jsons" if name in VIDEO_MANIFESTS else "test_img_jsons"
    items = json.loads((OFFICIAL / folder / f"{name}.json").read_text())
    _build(tmp_path, items)
    if key == "sice":  # the protocol evaluates exposure index <= 3 of the 565 listed
        items = [i for i in items if int(Path(i["image_path"]).stem) <= 3]
    spec = datasets.get(key)
    samples = spec.samples(tmp_path)
    assert len(samples) == len(items)
    assert _found(samples, tmp_path) == _expected(items)
    assert len({s.id for s in samples}) == len(samples), "sample ids must be unique"
    for s in samples:  # ids name output files: relative, no extension, no '..'
        first = s.input[0] if isinstance(s.input, list) else s.input
        assert not s.id.startswith("/") and ".." not in s.id.split("/") and Path(s.id).suffix.lower() not in (
            ".png", ".jpg", ".jpeg", ".npy"), s.id
        assert s.dataset == key and s.modality == spec.modality and s.layout == "ypt-bundle"
        assert Path(first).is_file()
    assert spec.expected_count == len(items)
    assert all((s.target is None) == (not spec.paired) for s in samples)


# ---- manifest-exact lists: the release's own dataset classes are the oracle ----------------------------------------
def _release_list(name: str) -> list[tuple]:
    """(inputs, target or None) in the order the release's ``inference.test`` evaluates the manifest: its own dataset
    classes (``dataset_images.JsonlDataset_paired_image_test`` / ``dataset.JsonlDataset_paired_test``: order,
    filtering, the first ``min(n, 33)`` frames), then the loop's skip of SICE inputs with exposure index > 3
    (restated from ``inference.py``'s ``test()``: ``int(name.split('.')[0]) > 3``)."""
    from release_oracle import load_release, quiet

    release = load_release("dataset", "dataset_images")
    video = name in VIDEO_MANIFESTS
    path = OFFICIAL / ("test_vid_jsons" if video else "test_img_jsons") / f"{name}.json"
    with quiet():
        ds = (release.dataset.JsonlDataset_paired_test(str(path)) if video
              else release.dataset_images.JsonlDataset_paired_image_test(str(path)))
    out = []
    for item in ds.items:
        inputs, targets = item["image_path"], item["target_path"]
        if video:
            n = len(ds._sample_indices(min(len(inputs), len(targets))))
            inputs, targets = _as_list(inputs[:n]), _as_list(targets[:n])
        else:
            if "SICE" in inputs and int(inputs.split("/")[-1].split(".")[0]) > 3:
                continue
            inputs, targets = _norm(inputs), _norm(targets)
        out.append((inputs, None if targets == inputs else targets))
    return out


def _ordered(samples, root: Path) -> list[tuple]:
    def rel(p):
        return _norm(os.path.relpath(p, root))

    return [([rel(p) for p in s.input] if isinstance(s.input, list) else rel(s.input),
             None if s.target is None else ([rel(p) for p in s.target] if isinstance(s.target, list)
                                            else rel(s.target))) for s in samples]


def _with_manifest(tmp: Path, name: str) -> list[dict]:
    """The manifest's files (empty) and the manifest itself beside them, as the release lays its data out."""
    folder = "test_vid_jsons" if name in VIDEO_MANIFESTS else "test_img_jsons"
    items = json.loads((OFFICIAL / folder / f"{name}.json").read_text())
    _build(tmp, items)
    (tmp / folder).mkdir(exist_ok=True)
    (tmp / folder / f"{name}.json").write_text((OFFICIAL / folder / f"{name}.json").read_text())
    return items


@pytest.mark.skipif(not (OFFICIAL / "release").is_dir(), reason="the authors' release is not in ../shared")
@pytest.mark.parametrize("name,key", sorted({**IMAGE_MANIFESTS, **VIDEO_MANIFESTS}.items()))
def test_manifest_beside_the_data_gives_the_releases_exact_list(name, key, tmp_path, monkeypatch):
    """Every manifest of the release: with it beside the data, the registry's list is the release's evaluation list
    (same samples, order, frames and reference), and each sample knows the frames evaluated before it."""
    monkeypatch.delenv("YPT_MANIFESTS", raising=False)
    _with_manifest(tmp_path, name)
    samples = datasets.get(key).samples(tmp_path)
    assert _ordered(samples, tmp_path) == _release_list(name)
    frames = [len(s.input) if s.modality == "video" else 1 for s in samples]
    assert [s.frames_before() for s in samples] == [frames[:k] for k in range(len(samples))]


def test_manifest_elsewhere_is_named_by_ypt_manifests(tmp_path, monkeypatch):
    """$YPT_MANIFESTS names a folder of manifests kept apart from the data (here the release's own folder): the
    SICE list is the manifest's 174 evaluated exposures in manifest order, not the walk's natural order."""
    items = json.loads((OFFICIAL / "test_img_jsons" / "SICE.json").read_text())
    _build(tmp_path, items)
    walked = datasets.get("sice").samples(tmp_path)
    monkeypatch.setenv("YPT_MANIFESTS", str(OFFICIAL))
    listed = datasets.get("sice").samples(tmp_path)
    expected = [_norm(i["image_path"]) for i in items if int(Path(i["image_path"]).stem) <= 3]
    assert [_norm(os.path.relpath(s.input, tmp_path)) for s in listed] == expected and len(listed) == 174
    assert sorted(s.id for s in listed) == sorted(s.id for s in walked)  # same ids: outputs stay where they were
    assert [s.id for s in listed] != [s.id for s in walked]  # ... in the manifest's order


def test_4krd_clips_are_the_manifests_nine_despite_other_frames_in_the_folder(tmp_path, monkeypatch):
    """4KRD's input300 also holds frames of other clips and other frames of the listed clips (the image set's): the
    folder walk finds them, the manifest beside the data keeps exactly its 9 clips and their listed frames."""
    from benchmarks.datasets.__main__ import check_one

    monkeypatch.delenv("YPT_MANIFESTS", raising=False)
    items = json.loads((OFFICIAL / "test_vid_jsons" / "4KRD_test.json").read_text())
    extra = [f"VID_{clip:03d}_{frame:05d}.jpg" for clip in (50, 51, 52, 53) for frame in (7, 8)]
    extra += ["VID_001_00055.jpg"]  # a frame of a listed clip that the manifest leaves out
    _build(tmp_path, items + [{"image_path": f"test_vid_data/4KRD/test/input300/{e}",
                               "target_path": f"test_vid_data/4KRD/test/gt300/{e}"} for e in extra])
    spec = datasets.get("4krd_video")
    walked = spec.samples(tmp_path)
    assert len(walked) > 9 and check_one(spec, str(tmp_path))[0] == "mismatch"
    (tmp_path / "test_vid_jsons").mkdir()
    (tmp_path / "test_vid_jsons" / "4KRD_test.json").write_text(json.dumps(items))
    listed = spec.samples(tmp_path)
    assert len(listed) == 9 and sorted(s.id for s in listed) == sorted(i["clip_id"] for i in items)
    by_id = {i["clip_id"]: [_norm(p) for p in i["image_path"][:33]] for i in items}
    assert all([_norm(os.path.relpath(p, tmp_path)) for p in s.input] == by_id[s.id] for s in listed)
    assert sorted(len(s.input) for s in listed)[0] < 33  # short clips stay short (7 of the 9 are)
    status, detail = check_one(spec, str(tmp_path))
    assert status == "found" and "9 samples (the authors' manifest" in detail
    assert "4 sample(s) in the folder are not in the manifest (not evaluated): VID_050, VID_051" in detail
    assert "1 clip(s) have other frames in the folder than in the manifest (the manifest's are evaluated): VID_001" in detail
    # --deep decodes a manifest set's files too (the files here are empty, so every sample has a file problem)
    status, detail = check_one(spec, str(tmp_path), deep=True)
    assert status == "error" and detail.startswith("9 samples (the authors' manifest") and "with a file problem" in detail
