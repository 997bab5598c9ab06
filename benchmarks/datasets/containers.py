"""Datasets stored as arrays rather than image files: UDC (TOLED/POLED) ``.mat`` and SDSD ``.npy``.

A sample from a container is addressed as ``<file>#<index>@<array>`` (e.g. ``poled_test_display.mat#3@test_display``);
:func:`read_image` decodes any reference (image file, ``.mat#k``, ``.npy``) to an HxWx3 uint8 array.
"""
from __future__ import annotations

import functools
from pathlib import Path

from benchmarks.datasets.sample import DatasetError, LayoutMismatch, Sample, UnreadableFile


def parse_ref(ref) -> tuple[Path, int | None, str | None]:
    """``file``, ``file#index`` or ``file#index@array`` -> (path, index, array name)."""
    text, key = str(ref), None
    if "#" in text:
        head, _, tail = text.rpartition("#")
        index_text, _, key = tail.partition("@")
        if index_text.isdigit():
            return Path(head), int(index_text), key or None
    return Path(text), None, None


def is_container_ref(ref) -> bool:
    """A frame stored in an array file (``x.mat#3``, ``x.npy``) rather than an image file."""
    path, index, _ = parse_ref(ref)
    return index is not None or path.suffix.lower() in (".mat", ".npy")


def _to_uint8(array):
    import numpy as np

    array = np.asarray(array)
    if array.ndim == 2:
        array = np.repeat(array[..., None], 3, axis=2)
    if array.ndim == 3 and array.shape[0] in (1, 3) and array.shape[-1] not in (1, 3):
        array = array.transpose(1, 2, 0)
    if array.shape[-1] == 1:
        array = np.repeat(array, 3, axis=2)
    if array.dtype == np.uint8:
        return array[..., :3]
    array = array.astype(np.float64)
    if array.max() > 1.0 + 1e-6:
        array = array / (65535.0 if array.max() > 255.0 else 255.0)
    return np.clip(np.rint(array * 255.0), 0, 255).astype(np.uint8)[..., :3]


def _mat_array(path: Path, key: str):
    """Array ``key`` of a ``.mat`` file, read once per file version: a UDC set is one file holding every image,
    so reading it again for each image (and again to list the samples) would load it hundreds of times."""
    stat = path.stat()
    return _load_mat_array(str(path.resolve()), key, stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=4)
def _load_mat_array(path: str, key: str, mtime_ns: int, size: int):
    from scipy.io import loadmat, whosmat

    try:
        data = loadmat(path, variable_names=[key])
        if key not in data:
            found = sorted(name for name, _, _ in whosmat(path))
            raise LayoutMismatch(f"{path} has no array {key!r} (found {found})")
    except NotImplementedError:  # MATLAB v7.3 files are HDF5
        raise UnreadableFile(f"{path} is a MATLAB v7.3 (HDF5) file, which scipy cannot read; re-save it as v7") from None
    except LayoutMismatch:
        raise
    except Exception as err:  # noqa: BLE001  (any decoding failure becomes one clear DatasetError)
        raise UnreadableFile(f"cannot read {path}: {err}") from None
    return data[key]


def read_image(ref):
    """An HxWx3 uint8 array from an image file, a ``.mat#k@array`` reference or a ``.npy`` frame."""
    import numpy as np

    path, index, key = parse_ref(ref)
    if not path.is_file():
        raise UnreadableFile(f"cannot read {ref}: no such file")
    try:
        if path.suffix.lower() == ".mat":
            return _to_uint8(np.array(_mat_array(path, key or "test_display")[index or 0]))  # a copy: cached
        if path.suffix.lower() == ".npy":
            array = np.load(path, allow_pickle=False)
            return _to_uint8(array if index is None else array[index])
        from PIL import Image

        with Image.open(path) as image:
            return np.asarray(image.convert("RGB"))
    except DatasetError:
        raise
    except Exception as err:  # noqa: BLE001  (any decoding failure becomes one clear DatasetError)
        raise UnreadableFile(f"cannot read {ref}: {err}") from None


def container_samples(spec, layout, base: Path) -> list[Sample]:
    """UDC-style: one .mat holding the inputs (``test_display``) and one the targets (``test_gt``)."""
    in_dir = layout.input_dir(base)
    files = sorted(p for p in in_dir.iterdir() if p.suffix.lower() == ".mat") if in_dir.is_dir() else [in_dir]
    display_key, gt_key = layout.mat_keys
    display = next((p for p in files if display_key.split("_")[-1] in p.stem.lower()), None)
    gt = next((p for p in files if gt_key.split("_")[-1] in p.stem.lower()), None)
    if display is None:
        raise LayoutMismatch(f"{spec.key}: no *{display_key.split('_')[-1]}*.mat under {in_dir} ({layout.description})")
    inputs = _mat_array(display, display_key)
    count = len(inputs)
    if gt is not None:
        targets = _mat_array(gt, gt_key)
        if len(targets) != count:
            raise LayoutMismatch(f"{spec.key}: {display.name} holds {count} images but {gt.name} {len(targets)}")
    return [Sample(layout.container_id.format(index=i), f"{display}#{i}@{display_key}",
                   None if gt is None else f"{gt}#{i}@{gt_key}", spec.degradation, "image", spec.key, layout.name)
            for i in range(count)]
