"""The dataset registry: every training, within-distribution, OOD, mixed and unseen set of the paper.

    from benchmarks import datasets
    spec = datasets.get("hazerd")          # metadata + layouts (no torch, no folder scan)
    samples = spec.samples(root)           # Sample(id, input, target | None, degradation, modality, dataset)
    inp, tgt = datasets.load_sample(samples[0])   # float tensors in [0, 1]
    datasets.group_members("wd_image")     # Table 1's within-distribution image test sets
    datasets.register(datasets.paired_folder("mine", "/data/mine", ("rain",)))   # input/ -> target/ at run time

Specs are data, one module per family in ``benchmarks/datasets/families/``. ``register(spec)`` adds a dataset
defined at run time (the built-in demo does). Nothing is downloaded, and nothing is scanned until ``samples``.
"""
from __future__ import annotations

import importlib

from benchmarks.datasets.containers import read_image
from benchmarks.datasets.families import FAMILIES
from benchmarks.datasets.groups import GROUPS, group_members
from benchmarks.datasets.runtime import paired_folder
from benchmarks.datasets.spec import (
    DatasetError,
    DatasetMissing,
    DatasetSpec,
    Layout,
    LayoutMismatch,
    Sample,
    UnreadableFile,
)
from benchmarks.datasets.sample import SAMPLE_FAULTS, SampleFailure
from ypt.registry import Registry

_REGISTRY: Registry = Registry("dataset")
_LOADED = False


def _load_families() -> None:
    global _LOADED
    if _LOADED:
        return
    _LOADED = True
    for family in FAMILIES:
        module = importlib.import_module(f"benchmarks.datasets.families.{family}")
        for spec in module.SPECS:
            _REGISTRY.register(spec.key, spec)


def get(key: str) -> DatasetSpec:
    """The spec ``key``; unknown keys raise with close matches."""
    _load_families()
    return _REGISTRY.get(key)


def keys() -> list[str]:
    _load_families()
    return _REGISTRY.keys()


def register(spec) -> None:
    """Add a dataset at run time (any object with ``key`` and ``samples(root)``; duplicates are refused)."""
    _load_families()
    _REGISTRY.register(spec.key, spec)


def load_sample(sample: Sample):
    """``(input, target)`` as float tensors in [0, 1]: (3, H, W) for images, (T, 3, H, W) for clips; target None
    for no-reference sets. Images via PIL, ``.mat`` via scipy, ``.npy`` via numpy."""
    import numpy as np
    import torch

    def one(ref):
        try:
            array = read_image(ref)
        except DatasetError as err:
            raise type(err)(f"{sample.dataset}: {err} (sample {sample.id!r}; {_layout_text(sample)})") from None
        return torch.from_numpy(np.array(array)).permute(2, 0, 1).float() / 255.0

    def many(refs):
        return torch.stack([one(r) for r in refs])

    load = many if sample.modality == "video" else one
    return load(sample.input), (None if sample.target is None else load(sample.target))


def _layout_text(sample: Sample) -> str:
    """The layout a sample was found in, as the registry describes it (for read errors)."""
    try:
        spec = get(sample.dataset)
    except KeyError:
        return f"layout {sample.layout or '?'}"
    for layout in getattr(spec, "layouts", ()):
        if layout.name == sample.layout:
            return f"layout {layout.name}: {layout.describe()}"
    return f"layout {sample.layout or '?'}"


__all__ = ["GROUPS", "DatasetError", "DatasetMissing", "DatasetSpec", "Layout", "LayoutMismatch", "SAMPLE_FAULTS", "Sample", "SampleFailure", "UnreadableFile", "get",
           "group_members", "keys", "load_sample", "paired_folder", "read_image", "register"]
