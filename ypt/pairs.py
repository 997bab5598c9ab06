"""Training pairs: ``(input, target)`` found on disk (a folder of ``input/`` + ``target/``, or a JSON list), and their
VAE latents served to the trainer (:class:`LatentPairs`, in memory or from the :mod:`ypt.latent_cache`).

Each side of a pair is an image path, a clip (frame folder or list of frame paths) or a tensor in [0, 1]
(:data:`ypt.media.PixelSource`). Image files are read with PIL; ``read_image`` (``path -> (H, W, 3) uint8``) reads
anything else (the benchmark passes its dataset reader, which decodes ``.mat`` / ``.npy`` containers).
"""
from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from ypt.errors import MissingData, UsageError
from ypt.media import PixelSource, natural_key

if TYPE_CHECKING:
    import torch

    from ypt.backbones.base import Backbone
    from ypt.latent_cache import LatentCache
    from ypt.media import ImageReader

#: a training pair (input, target)
Pair = tuple[PixelSource, PixelSource]


def pairs_from_dir(pairs_dir: str | os.PathLike) -> list[tuple[Path, Path]]:
    """``input/`` + ``target/`` matched by name (images, or frame folders for clips)."""
    root = Path(pairs_dir)
    inp, tgt = root / "input", root / "target"
    for d in (inp, tgt):
        if not d.is_dir():
            raise MissingData(f"{root} needs input/ and target/ folders (missing {d})")
    targets = {p.stem if p.is_file() else p.name: p for p in tgt.iterdir() if not p.name.startswith(".")}
    pairs, unmatched = [], []
    for p in sorted(inp.iterdir(), key=lambda q: natural_key(q.name)):
        if p.name.startswith("."):
            continue
        key = p.stem if p.is_file() else p.name
        (pairs.append((p, targets[key])) if key in targets else unmatched.append(p.name))
    if unmatched:
        raise MissingData(f"no target in {tgt} for: {', '.join(unmatched[:5])}" +
                          (f" and {len(unmatched) - 5} more" if len(unmatched) > 5 else ""))
    if not pairs:
        raise MissingData(f"no training pairs in {inp}")
    return pairs


#: keys of one pair in a pairs file: ours, then the authors' manifests'
PAIR_KEYS = (("input", "target"), ("image_path", "target_path"))


def pairs_from_json(path: str | os.PathLike) -> list[tuple[Path | list[Path], Path | list[Path]]]:
    """Pairs listed in a JSON file: ``[{"input": ..., "target": ...}, ...]`` (or the authors' manifest keys
    ``image_path`` / ``target_path``), each side an image path or a list of frame paths; relative paths are
    resolved against the file's folder."""
    path = Path(path)
    if not path.is_file():
        raise MissingData(f"no pairs file at {path}")
    try:
        entries = json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise UsageError(f"{path} is not valid JSON: {err}") from None
    if not isinstance(entries, list):
        raise UsageError(f"{path} must hold a JSON list of {{\"input\": ..., \"target\": ...}} pairs")

    def side(value: Any, index: int) -> Path | list[Path]:
        if isinstance(value, str):
            return path.parent / Path(value).expanduser()
        if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
            return [path.parent / Path(v).expanduser() for v in value]
        raise UsageError(f"{path}: pair {index}: each side is a path or a list of frame paths, got {value!r}")

    pairs, missing = [], []
    for index, entry in enumerate(entries):
        keys = next((k for k in PAIR_KEYS if isinstance(entry, dict) and all(n in entry for n in k)), None)
        if keys is None:
            raise UsageError(f"{path}: pair {index} needs the keys 'input' and 'target' (or 'image_path' and "
                             f"'target_path'), got {entry!r}")
        pair = (side(entry[keys[0]], index), side(entry[keys[1]], index))
        missing += [str(p) for s in pair for p in (s if isinstance(s, list) else [s]) if not p.exists()]
        pairs.append(pair)
    if missing:
        raise MissingData(f"{path}: {len(missing)} file(s) not found, e.g. {', '.join(missing[:3])}")
    if not pairs:
        raise MissingData(f"no training pairs in {path}")
    return pairs


class PairSource(Protocol):
    """What :class:`PromptTrainer` draws batches from: ``len`` pairs, ``batch(indices) -> (y, x0)`` stacked."""

    def __len__(self) -> int: ...

    def batch(self, indices: Iterable[int]) -> tuple[torch.Tensor, torch.Tensor]: ...


class LatentPairs:
    """``(y, x0)`` latent pairs: in memory (tensors) or read from a :class:`ypt.latent_cache.LatentCache`."""

    def __init__(self, tensors: Sequence[tuple[torch.Tensor, torch.Tensor]] | None = None,
                 cache: LatentCache | None = None, keys: Sequence[str] | None = None) -> None:
        if (tensors is None) == (cache is None):
            raise UsageError("give either tensors or a cache with keys")
        self.tensors = list(tensors) if tensors is not None else None
        self.cache, self.keys = cache, list(keys or [])

    def __len__(self) -> int:
        return len(self.tensors) if self.tensors is not None else len(self.keys)

    def batch(self, indices: Iterable[int]) -> tuple[torch.Tensor, torch.Tensor]:
        import torch

        ys, xs = [], []
        for i in indices:
            if self.tensors is not None:
                y, x0 = self.tensors[i]
            else:
                got = self.cache.get(self.keys[i])
                if got is None:
                    raise MissingData(f"training pair {i} (key {self.keys[i]}) is not in the latent cache "
                                      f"{self.cache.folder}: it was built for other pairs (ypt.pairs.cached_latents "
                                      "touched=)")
                y, x0 = got
            ys.append(y)
            xs.append(x0)
        return torch.stack(ys), torch.stack(xs)


def pixel_loader(backbone: Backbone, geometry: dict[str, Any],
                 read_image: ImageReader | None = None) -> Callable[[PixelSource], torch.Tensor]:
    """Side (path, frame folder/list, or tensor in [0,1]) -> pixels at the training geometry, batch dim added."""
    from ypt import media

    def load(side: PixelSource) -> torch.Tensor:
        import torch

        size = tuple(geometry["size"])
        if backbone.name == "wan":
            frames = int(geometry["frames"])
            clip = side if isinstance(side, torch.Tensor) else media.load_clip(side, frames, size, read_image)
            return media.prepare_clip(clip, frames, size, backbone.temporal_compression)[None]
        img = side if isinstance(side, torch.Tensor) else media.load_image(side, size, read_image)
        return media.resize(img, size)[None]

    return load


def cached_latents(backbone: Backbone, pairs: Sequence[Pair], geometry: dict[str, Any],
                   cache_dir: str | os.PathLike | None = None, progress: bool = True,
                   read_image: ImageReader | None = None, touched: Iterable[int] | None = None,
                   protocol: str | None = None) -> LatentPairs:
    """Serve ``pairs`` from the latent cache (:mod:`ypt.latent_cache`), first encoding (batched) the pairs at
    ``touched`` (default: all; training passes the pairs its schedule draws) that it does not hold yet. A pair
    outside ``touched`` that no earlier run cached raises when drawn. ``protocol``: the caller's protocol version,
    part of the cache's fingerprint."""
    from ypt.latent_cache import make_latent_cache, pair_key

    load = pixel_loader(backbone, geometry, read_image)
    cache = make_latent_cache(backbone, geometry, cache_dir, protocol)
    keys = [pair_key(i, t) for i, t in pairs]

    def encode_batch(chunk: Sequence[Pair]) -> tuple[torch.Tensor, torch.Tensor]:
        import torch

        return (backbone.encode(torch.cat([load(inp) for inp, _ in chunk])),
                backbone.encode(torch.cat([load(tgt) for _, tgt in chunk])))

    wanted = sorted(set(touched)) if touched is not None else range(len(pairs))
    # an image's latent shape follows from the geometry; a clip's frame count depends on the clip (ensure probes it)
    image_latent = backbone.posterior_shape((1, 3, *geometry["size"]))[1:] if backbone.temporal_compression == 1 \
        else None
    cache.ensure([pairs[i] for i in wanted], encode_batch, keys=[keys[i] for i in wanted], progress=progress,
                 latent_shape=image_latent)
    return LatentPairs(cache=cache, keys=keys)
