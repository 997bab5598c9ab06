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
