"""Dataset specs as data, and the pairing engine that turns a folder into samples.

A :class:`DatasetSpec` lists the :class:`Layout` s it understands (the authors' evaluation bundle first, then the
datasets' original releases). A layout says where inputs and targets live under the data root and how an input's
relative path maps to its target's; :meth:`DatasetSpec.samples` tries the layouts in order and pairs the first one
whose input folder exists. Folder names are matched case-insensitively and through aliases (``gt|GT|clear|target``),
extensions case-insensitively, frames in natural order; nothing outside the dataset's own folder is walked.
"""
from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from benchmarks.naming import natural_key
from benchmarks.outputs import IMAGE_EXTENSIONS
from benchmarks.protocol import VIDEO_FRAMES
from benchmarks.datasets.containers import container_samples
from benchmarks.datasets.roots import dataset_root, overrides
from benchmarks.datasets.sample import (  # noqa: F401  (the dataset errors, importable from here too)
    DatasetError,
    DatasetMissing,
    LayoutMismatch,
    Sample,
    UnreadableFile,
    in_run_order,
    unique_ids,
)

#: names under which datasets keep their clean targets
TARGET_ALIASES = ("gt", "clear", "target", "clean", "groundtruth", "label", "sharp", "high")
#: the name of the layout of the authors' evaluation bundle (``test_img_data/``, ``test_vid_data/``)
BUNDLE_LAYOUT = "ypt-bundle"
#: folders that hold other methods' results inside some releases: never samples
IGNORED_FOLDERS = ("results", "result", "output", "outputs", "restored", "pred", "predictions")


# -- path helpers ----------------------------------------------------------------------------------------------------
def find_child(parent: Path, names: Sequence[str]) -> Path | None:
    """The first existing child of ``parent`` whose name matches one of ``names`` case-insensitively."""
    if not parent.is_dir():
        return None
    children = {c.name.lower(): c for c in parent.iterdir()}
    for name in names:
        hit = children.get(name.lower())
        if hit is not None:
            return hit
    return None


def resolve(root: Path, pattern: str) -> Path | None:
    """Find ``pattern`` under ``root``, matching names case-insensitively.

    ``a/b|c/d`` (every alternative holds a ``/``) lists whole alternative paths; otherwise ``|`` separates
    alternatives of one component, e.g. ``RESIDE/GT|gt|clear``. ``./x`` is a one-component whole path.
    """
    alternatives = pattern.split("|")
    if len(alternatives) > 1 and all("/" in a for a in alternatives):
        for alternative in alternatives:
            hit = resolve(root, alternative)
            if hit is not None:
                return hit
        return None
    current = root
    for part in [p for p in pattern.split("/") if p]:
        if part == ".":
            continue
        nxt = find_child(current, part.split("|"))
        if nxt is None:
            return None
        current = nxt
    return current


def list_files(folder: Path, recursive: bool, suffixes: Sequence[str] = IMAGE_EXTENSIONS) -> list[Path]:
    """Files under ``folder`` with an accepted suffix (case-insensitive), skipping result folders and dotfiles."""
    out = []
    if recursive:
        for dirpath, dirnames, filenames in os.walk(folder):
            dirnames[:] = [d for d in dirnames if d.lower() not in IGNORED_FOLDERS and not d.startswith(".")]
            out += [Path(dirpath) / f for f in filenames if Path(f).suffix.lower() in suffixes and not f.startswith(".")]
    else:
        out = [p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in suffixes and not p.name.startswith(".")]
    return sorted(out, key=lambda p: tuple(natural_key(part) for part in p.relative_to(folder).parts))


def stem_index(folder: Path, recursive: bool, suffixes: Sequence[str] = IMAGE_EXTENSIONS) -> dict[str, Path]:
    """``{relative path without extension, lower-cased: file}`` of a target folder."""
    index = {}
    for path in list_files(folder, recursive, suffixes):
        key = path.relative_to(folder).with_suffix("").as_posix().lower()
        index.setdefault(key, path)
    return index


# -- name mappings (input relative stem -> target relative stem) -------------------------------------------------------
def same_name(rel: str) -> str:
    return rel


def regex_map(pattern: str, replacement: str) -> Callable[[str], str]:
    """Map with a regular expression on the input's relative stem (``re.fullmatch`` + ``expand``)."""
    compiled = re.compile(pattern)

    def mapping(rel: str) -> str:
        match = compiled.fullmatch(rel)
        if match is None:
            raise LayoutMismatch(f"input {rel!r} does not match the expected name pattern {pattern!r}")
        return match.expand(replacement)

    mapping.__doc__ = f"{pattern} -> {replacement}"
    return mapping


def drop_component(name: str) -> Callable[[str], str]:
    """Sample-id mapping that removes one folder level, e.g. ``<seq>/blur/<n>`` -> ``<seq>/<n>`` (so that ids are the
    same whichever layout was found)."""
    lowered = name.lower()

    def mapping(rel: str) -> str:
        return "/".join(part for part in rel.split("/") if part.lower() != lowered)

    mapping.__doc__ = f"drop the {name!r} folder level"
    return mapping


@dataclass(frozen=True)
class Layout:
    """Where a dataset's inputs and targets are under the data root, and how they pair.

    ``inputs`` / ``targets`` are ``/`` paths relative to the data root with ``a|b`` alternatives; ``targets`` None
    means no reference. ``target_name`` maps an input's relative stem to its target's. Video layouts group frames
    into clips: by folder (``clip_depth`` levels under ``inputs``) or by a filename prefix (``clip_prefix`` regex).
    ``reader`` names a container format (``mat`` or ``npy``) whose arrays hold several images. ``manifest`` names the
    authors' manifest listing this layout's samples (:mod:`benchmarks.datasets.manifests`), relative to the root.
    """

    name: str
    inputs: str
    targets: str | None
    target_name: Callable[[str], str] = same_name
    recursive: bool = False
    description: str = ""
    clip_depth: int = 1
    clip_prefix: str | None = None
    keep: Callable[[str], bool] | None = None
    reader: str | None = None
    frame_filter: str | None = None
    mat_keys: tuple[str, str] = ("test_display", "test_gt")
    sample_id: Callable[[str], str] | None = None   # input relative stem (image) or clip name -> sample id
    container_id: str = "{index:04d}"                # id of the k-th image of a .mat container
    manifest: str | None = None                      # the authors' manifest of it: test_img_jsons/<Set>.json

    def id_of(self, rel: str) -> str:
        return self.sample_id(rel) if self.sample_id is not None else rel

    def describe(self) -> str:
        """``inputs -> targets: description`` (what ``check`` prints and read errors name)."""
        target = (f" -> {self.targets}" if self.targets else
                  " (inputs and targets in .mat arrays)" if self.reader == "mat" else " (no reference)")
        return f"{self.inputs}{target}" + (f": {self.description}" if self.description else "")

    @property
    def suffixes(self) -> tuple[str, ...]:
        return (".npy",) if self.reader == "npy" else IMAGE_EXTENSIONS

    def input_dir(self, root: Path) -> Path | None:
        return resolve(root, self.inputs)

    def target_dir(self, root: Path) -> Path | None:
        return resolve(root, self.targets) if self.targets else None


@dataclass(kw_only=True)
class DatasetSpec:
    """A dataset: metadata as data (keyword arguments only), plus the layouts it can be found in."""

    key: str
    display_name: str
    modality: str                     # image | video
    degradation: tuple[str, ...]      # the prompts that restore it (DESIGN.md routing)
    role: str                         # train | wd-test | ood | mixed | unseen
    paired: bool
    expected_count: int | None
    source_url: str
    citation: str
    license_note: str
    layouts: tuple[Layout, ...]
    notes: str = ""
    max_frames: int = VIDEO_FRAMES
    home: str | None = None           # a fixed folder for datasets registered at run time (overrides still win)

    @property
    def metrics(self) -> tuple[str, ...]:
        """The protocol's metrics for this set (:func:`benchmarks.metrics.metrics_for`)."""
        from benchmarks.metrics.specs import metrics_for

        return metrics_for(self.modality, self.paired)

    def expected_layouts(self) -> str:
        return "\n".join(f"  [{layout.name}] {layout.describe()}" for layout in self.layouts)

    def root_for(self, root: str | os.PathLike | None) -> Path:
        if self.home is not None and self.key not in overrides():
            return Path(self.home).expanduser()
        return dataset_root(self.key, root)

    def find_layout(self, root: str | os.PathLike | None = None) -> tuple[Layout, Path]:
        base = self.root_for(root)
        for layout in self.layouts:
            folder = layout.input_dir(base)
            if folder is not None and folder.is_dir():
                return layout, base
        raise DatasetMissing(
            f"{self.display_name} ({self.key}) not found under {base}. Expected one of these layouts (relative to the "
            f"data root):\n{self.expected_layouts()}\nGet it from {self.source_url}"
            + (f"; {self.notes}" if self.notes else ""))

    def manifest_path(self, layout: Layout, base: Path) -> Path | None:
        """The authors' manifest of ``layout`` when it is found (beside the data or in ``$YPT_MANIFESTS``)."""
        from benchmarks.datasets.manifests import find_manifest

        return find_manifest(layout.manifest, base) if layout.manifest else None

    def samples(self, root: str | os.PathLike | None = None) -> list[Sample]:
        """Every test item of this dataset under the data root (``root``, else ``$YPT_DATA``), in evaluation order:
        the authors' manifest's list exactly when the bundle and its manifest are found, else the folder walk."""
        layout, base = self.find_layout(root)
        manifest = self.manifest_path(layout, base)
        if manifest is not None:
            from benchmarks.datasets.manifests import manifest_samples

            return in_run_order(manifest_samples(self, layout, base, manifest))
        return in_run_order(self.walk(layout, base))

    def walk(self, layout: Layout, base: Path) -> list[Sample]:
        """The samples the folders of ``layout`` hold (no manifest)."""
        if layout.reader in ("mat", "npy") and self.modality == "image":
            return container_samples(self, layout, base)
        if self.modality == "video":
            return self._video_samples(layout, base)
        return self._image_samples(layout, base)

    # -- images ----------------------------------------------------------------------------------------------------
    def _image_samples(self, layout: Layout, base: Path) -> list[Sample]:
        in_dir = layout.input_dir(base)
        t_dir = layout.target_dir(base)
        if layout.targets and t_dir is None:
            raise LayoutMismatch(f"{self.key}: inputs found at {in_dir} but no target folder {layout.targets!r} under "
                                 f"{base} (layout {layout.name}: {layout.description or layout.targets})")
        targets = stem_index(t_dir, layout.recursive, layout.suffixes) if t_dir is not None else {}
        samples = []
        for path in list_files(in_dir, layout.recursive, layout.suffixes):
            rel = path.relative_to(in_dir).with_suffix("").as_posix()
            if layout.keep is not None and not layout.keep(rel):
                continue
            target = None
            if t_dir is not None:
                wanted = layout.target_name(rel)
                target = targets.get(wanted.lower())
                if target is None:
                    raise LayoutMismatch(f"{self.key}: no target for {path} (looked for {t_dir / wanted}.*; layout "
                                         f"{layout.name}: {layout.description or layout.targets})")
            samples.append(Sample(layout.id_of(rel), str(path), None if target is None else str(target),
                                  self.degradation, "image", self.key, layout.name))
        return unique_ids(self.key, samples)

    # -- videos ----------------------------------------------------------------------------------------------------
    def _clips(self, layout: Layout, folder: Path) -> dict[str, list[Path]]:
        files = list_files(folder, layout.clip_prefix is None, layout.suffixes)
        clips: dict[str, list[Path]] = {}
        if layout.clip_prefix is not None:
            pattern = re.compile(layout.clip_prefix)
            for path in files:
                match = pattern.match(path.stem)
                if match:
                    clips.setdefault(match.group(0), []).append(path)
        else:
            wanted = re.compile(layout.frame_filter) if layout.frame_filter else None
            for path in files:
                if wanted is not None and not wanted.search("/" + path.relative_to(folder).as_posix()):
                    continue
                parts = path.relative_to(folder).parts
                if len(parts) <= layout.clip_depth:
                    continue
                clips.setdefault("/".join(parts[:layout.clip_depth]), []).append(path)
        for frames in clips.values():
            frames.sort(key=lambda p: natural_key(p.name))
        return dict(sorted(clips.items(), key=lambda kv: natural_key(kv[0])))

    def _video_samples(self, layout: Layout, base: Path) -> list[Sample]:
        in_dir = layout.input_dir(base)
        t_dir = layout.target_dir(base)
        if layout.targets and t_dir is None:
            raise LayoutMismatch(f"{self.key}: inputs found at {in_dir} but no target folder {layout.targets!r}")
        targets = stem_index(t_dir, True, layout.suffixes) if t_dir is not None else {}
        samples = []
        for clip, frames in self._clips(layout, in_dir).items():
            if layout.keep is not None and not layout.keep(clip):
                continue
            frames = frames[: self.max_frames]
            target_frames = None
            if t_dir is not None:
                target_frames = []
                for frame in frames:
                    rel = frame.relative_to(in_dir).with_suffix("").as_posix()
                    hit = targets.get(layout.target_name(rel).lower())
                    if hit is None:
                        raise LayoutMismatch(f"{self.key}: no target frame for {frame} (looked for "
                                             f"{t_dir / layout.target_name(rel)}.*)")
                    target_frames.append(str(hit))
            samples.append(Sample(layout.id_of(clip), [str(f) for f in frames], target_frames, self.degradation, "video",
                                  self.key, layout.name))
        return unique_ids(self.key, samples)
