"""The authors' manifests: the exact sample lists of their evaluation, and the order their loop runs them in.

Their release puts the data beside its manifests: ``<root>/test_img_jsons/<Set>.json`` lists
``<root>/test_img_data/...`` (and ``test_vid_jsons`` / ``test_vid_data`` for the clips), every path relative to
``<root>``. A dataset found in that layout (the bundle, :data:`benchmarks.datasets.spec.BUNDLE_LAYOUT`) whose
manifest is found, beside the data or in ``$YPT_MANIFESTS`` (a folder holding ``test_img_jsons/`` and
``test_vid_jsons/``, or the JSON files themselves), gets exactly the manifest's samples: no folder walk, so other
files in the same folders (4KRD's ``input300`` holds the image set's frames too) never become samples.

The order is the release's evaluation order (its dataset classes, ``dataset_images.py`` and ``dataset.py``): images
in manifest order; clips shuffled by ``random.Random(42)``, then entries without ``target_path`` or with input and
target lists of different lengths dropped, an empty target list meaning no reference; a clip is its first
``min(n, 33)`` frames. Samples the protocol does not evaluate (SICE exposure index > 3) are left out by the layout's
``keep`` rule, as the release's loop skips them before encoding anything. Without a manifest the folder walk stays.
"""
from __future__ import annotations

import json
import os
import random
from pathlib import Path
from typing import Any

from benchmarks.datasets.sample import LayoutMismatch, Sample, unique_ids

#: a folder holding the authors' manifests when they are not beside the data
MANIFESTS_ENV = "YPT_MANIFESTS"
#: the seed of ``random.Random(seed).shuffle`` the release's video dataset class orders its manifest with
VIDEO_SHUFFLE_SEED = 42


def find_manifest(name: str, base: Path) -> Path | None:
    """The manifest ``name`` (``test_img_jsons/<Set>.json``): in ``$YPT_MANIFESTS`` (as ``name`` or its file name
    alone) when set, else beside the data (``<base>/<name>``); None when absent."""
    folder = os.environ.get(MANIFESTS_ENV)
    candidates = ([Path(folder).expanduser() / name, Path(folder).expanduser() / Path(name).name] if folder
                  else [base / name])
    return next((c for c in candidates if c.is_file()), None)


def read_manifest(path: Path) -> list[dict[str, Any]]:
    """The manifest's entries (a JSON list of objects with ``image_path``)."""
    try:
        items = json.loads(path.read_text())
    except (OSError, ValueError) as err:
        raise LayoutMismatch(f"cannot read the manifest {path}: {err}") from None
    if not isinstance(items, list) or not all(isinstance(i, dict) and "image_path" in i for i in items):
        raise LayoutMismatch(f"{path} is not one of the authors' manifests (a JSON list of entries with "
                             "'image_path')")
    return items


def release_order(items: list[dict[str, Any]], video: bool) -> list[dict[str, Any]]:
    """The entries in the order the release evaluates them (and only those it keeps): images as listed; clips
    shuffled by ``random.Random(42)``, then ``JsonlDataset_paired_test.filter_paired`` (no ``target_path``: dropped;
    an empty target list: the input is the target; other lengths than the input's: dropped)."""
    if not video:
        return list(items)
    shuffled = [dict(item) for item in items]
    random.Random(VIDEO_SHUFFLE_SEED).shuffle(shuffled)
    kept = []
    for item in shuffled:
        if "target_path" not in item:
            continue
        if len(item["target_path"]) != len(item["image_path"]):
            if len(item["target_path"]):
                continue
            item["target_path"] = item["image_path"]
        kept.append(item)
    return kept


def _path(base: Path, relative: str) -> Path:
    return Path(os.path.normpath(base / relative))


def _relative(path: Path, folder: Path, spec_key: str, manifest: Path) -> str:
    rel = os.path.relpath(path, folder)
    if rel.startswith(".."):
        raise LayoutMismatch(f"{spec_key}: the manifest {manifest} lists {path}, which is not under the layout's "
                             f"input folder {folder}")
    return Path(rel).as_posix()


def manifest_samples(spec: Any, layout: Any, base: Path, manifest: Path) -> list[Sample]:
    """The samples the manifest lists (``spec`` a :class:`~benchmarks.datasets.spec.DatasetSpec`, ``layout`` its bundle
    :class:`~benchmarks.datasets.spec.Layout`), in the release's order, with the ids the folder walk of ``layout`` gives
    them (outputs and records stay where they were)."""
    import re

    video = spec.modality == "video"
    in_dir = Path(os.path.normpath(layout.input_dir(base) or base / layout.inputs))
    samples = []
    for item in release_order(read_manifest(manifest), video):
        if video:
            n = min(len(item["image_path"]), len(item["target_path"]), spec.max_frames)
            inputs = [_path(base, p) for p in item["image_path"][:n]]
            targets = [_path(base, p) for p in item["target_path"][:n]]
            rel = _relative(inputs[0], in_dir, spec.key, manifest)
            if layout.clip_prefix is not None:
                match = re.match(layout.clip_prefix, Path(rel).stem)
                if match is None:
                    raise LayoutMismatch(f"{spec.key}: {inputs[0]} (manifest {manifest}) does not start with a clip "
                                         f"name {layout.clip_prefix!r}")
                clip = match.group(0)
            else:
                clip = "/".join(Path(rel).parts[:layout.clip_depth])
            if layout.keep is not None and not layout.keep(clip):
                continue
            reference = [str(p) for p in targets] if targets != inputs else None
            samples.append(Sample(layout.id_of(clip), [str(p) for p in inputs], reference, spec.degradation,
                                  "video", spec.key, layout.name))
            continue
        path = _path(base, item["image_path"])
        target = _path(base, item.get("target_path") or item["image_path"])
        rel = _relative(path, in_dir, spec.key, manifest)
        stem = str(Path(rel).with_suffix("").as_posix())
        if layout.keep is not None and not layout.keep(stem):
            continue  # the release's loop skips it before encoding (SICE exposure index > 3)
        samples.append(Sample(layout.id_of(stem), str(path), None if target == path else str(target),
                              spec.degradation, "image", spec.key, layout.name))
    return unique_ids(spec.key, samples)


def differences(manifest_list: list[Sample], walked: list[Sample], limit: int = 5) -> list[str]:
    """What the folder walk finds that the manifest does not list and the other way round (by sample id, and
    by frames for clips), plus the manifest's files missing on disk: one line each, ``limit`` examples."""
    def files(sample: Sample) -> list[str]:
        inputs = list(sample.input) if isinstance(sample.input, list) else [sample.input]
        targets = list(sample.target) if isinstance(sample.target, list) else [sample.target] if sample.target else []
        return inputs + targets

    def show(ids: list[str]) -> str:
        return ", ".join(ids[:limit]) + (f" (+{len(ids) - limit} more)" if len(ids) > limit else "")

    lines = []
    listed, found = {s.id: s for s in manifest_list}, {s.id: s for s in walked}
    extra = [i for i in found if i not in listed]
    absent = [i for i in listed if i not in found]
    if extra:
        lines.append(f"{len(extra)} sample(s) in the folder are not in the manifest (not evaluated): {show(extra)}")
    if absent:
        lines.append(f"{len(absent)} sample(s) of the manifest are not found by the folder walk: {show(absent)}")
    frames = [i for i in listed if i in found and listed[i].modality == "video"
              and list(listed[i].input) != list(found[i].input)]
    if frames:
        lines.append(f"{len(frames)} clip(s) have other frames in the folder than in the manifest (the manifest's "
                     f"are evaluated): {show(frames)}")
    missing = [s.id for s in manifest_list if not all(Path(p).is_file() for p in files(s))]
    if missing:
        lines.append(f"{len(missing)} sample(s) of the manifest have missing files: {show(missing)}")
    return lines
