"""VAE latents of training pairs, encoded once into an Arrow dataset (HF ``datasets``), so a training step never runs
the VAE encoder: as diffusers' training examples precompute VAE latents with a batched ``Dataset.map``.

Layout: ``<root>/<fingerprint>/`` (root default ``$YPT_CACHE/latents``). The fingerprint covers the storage format
(:data:`FORMAT`), the backbone's identity (backbone, model, revision, VAE config), the caller's protocol version and
the training geometry (resize config); ``config.json`` records them. The folder holds Arrow shards
``shard-<shard fingerprint>.arrow``, each written by one batched ``Dataset.map`` over pairs not cached yet (its
``new_fingerprint`` is the shard's: the folder's and the pairs' keys) and moved into place when complete. A row is
``key`` (the pair's data fingerprint: absolute paths, sizes and modification times of its files, or the pixels of
in-memory tensors; :func:`pair_key`), ``input`` and ``target``: the normalised latents ``y`` and ``x0`` as float16
``ArrayND`` (Arrow has no bfloat16; the latents are normalised to unit scale, where float16 keeps 11 bits of
mantissa, and a float32 tensor given to ``datasets`` would be stored as nested float32 lists, twice the size).

Lazy and resumable: :meth:`LatentCache.ensure` encodes only the pairs asked for that no shard holds yet (training asks
for the pairs its schedule touches: :class:`ypt.train.PairSchedule`), ``shard_rows`` pairs per shard. An
interrupted build keeps its finished shards and a later run encodes only what is still missing; a longer run extends
the cache with new shards. Before it encodes, it prints how many pairs and about how many bytes it will add, and
refuses a build that would not fit on the disk. Shards are read through memory-mapped, zero-copy views of their
Arrow buffers (the ``datasets`` formatters copy every row and upcast float16 to float32).
"""
from __future__ import annotations

import bisect
import hashlib
import json
import math
import os
import shutil
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from ypt.errors import UsageError
from ypt.files import atomic_write_text
from ypt.media import PixelSource as PairSide
from ypt.provenance import config_hash

if TYPE_CHECKING:
    from ypt.backbones.base import Backbone

#: the storage format (part of every fingerprint): Arrow shards of float16 latents
FORMAT = "ypt-latents/2 arrow float16"
#: pairs per shard (FLUX at 1024 px: ~1 GiB; what an interrupted build can lose)
SHARD_ROWS = 1024
#: pairs per VAE call of the batched map
ENCODE_BATCH = 8
#: a partial shard (of an interrupted build) untouched for this long is removed by the next build
STALE_PARTIAL_S = 3600.0

#: ``pairs -> (y, x0)`` latents batch-first, one row per pair
EncodeBatch = Callable[[Sequence[tuple[PairSide, PairSide]]], tuple[torch.Tensor, torch.Tensor]]


def default_cache_dir() -> Path:
    from ypt.backbones.model_files import cache_root

    return cache_root() / "latents"


def _side_fingerprint(side: PairSide) -> dict[str, Any] | list[dict[str, Any]]:
    if isinstance(side, torch.Tensor):
        t = side.detach().to("cpu", torch.float32).contiguous()
        return {"tensor": hashlib.sha256(t.numpy().tobytes()).hexdigest(), "shape": list(t.shape)}
    if isinstance(side, (list, tuple)):
        return [_side_fingerprint(s) for s in side]
    path = Path(side).resolve()
    stat = path.stat()
    return {"path": str(path), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def pair_key(input_side: PairSide, target_side: PairSide) -> str:
    """Stable key of a training pair (content of tensors, path + size + mtime of files)."""
    return config_hash({"input": _side_fingerprint(input_side), "target": _side_fingerprint(target_side)}, length=24)


def row_bytes(latent_shape: Sequence[int]) -> int:
    """Bytes of one row on disk: two float16 latents, each a nested Arrow list (int32 offsets per list)."""
    dims = list(latent_shape)
    lists = 1 + sum(math.prod(dims[:i]) for i in range(1, len(dims)))
    return 2 * (2 * math.prod(dims) + 4 * lists)


def format_bytes(n: float) -> str:
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n:.0f} B"


class _Shard:
    """One Arrow shard, memory-mapped: its keys and zero-copy float16 views of its latents, per record batch."""

    def __init__(self, path: Path) -> None:
        from datasets import Dataset

        self.path = path
        self.dataset = Dataset.from_file(str(path))  # memory-mapped; nothing is read until a row is
        table = self.dataset.data
        self.keys: list[str] = table.column("key").to_pylist()
        self.shape = tuple(self.dataset.features["input"].shape)
        self.views = {name: [_float16_view(chunk, self.shape) for chunk in table.column(name).chunks]
                      for name in ("input", "target")}
        lengths = [len(v) for v in self.views["input"]]
        self.starts = [sum(lengths[:i]) for i in range(len(lengths))]

    def row(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        chunk = bisect.bisect_right(self.starts, index) - 1
        offset = index - self.starts[chunk]
        # a copy of the row (the view is read-only: the file's mapped pages), as float32 for the trainer's math
        return tuple(torch.from_numpy(self.views[name][chunk][offset].copy()).float()  # type: ignore[return-value]
                     for name in ("input", "target"))


def _float16_view(chunk: Any, shape: tuple[int, ...]) -> Any:
    """The ``(rows, *shape)`` float16 numpy view of one record batch of an ``ArrayND`` column, without a copy."""
    values = chunk.storage
    for _ in shape:
        values = values.flatten()  # through the nested lists (slicing and offsets respected)
    return values.to_numpy(zero_copy_only=True).reshape(len(chunk), *shape)


class LatentCache:
    """Latents of ``(input, target)`` pairs for one backbone identity, one protocol and one geometry under ``root``."""

    def __init__(self, root: str | os.PathLike, identity: dict[str, Any], geometry: dict[str, Any],
                 protocol: str | None = None, shard_rows: int = SHARD_ROWS) -> None:
        self.root = Path(root)
        self.config = {"format": FORMAT, "identity": identity, "protocol": protocol, "geometry": geometry}
        self.fingerprint = config_hash(self.config, length=16)
        self.folder = self.root / self.fingerprint
        self.shard_rows = shard_rows
        self._shards: dict[Path, _Shard] = {}
        self._where: dict[str, tuple[_Shard, int]] = {}

    # ---- reading ------------------------------------------------------------------------------------------------
    def refresh(self) -> None:
        """Open the shards written since the last look (by this process or another)."""
        for path in sorted(self.folder.glob("shard-*.arrow")):
            if path not in self._shards:
                shard = self._shards[path] = _Shard(path)
                for row, key in enumerate(shard.keys):
                    self._where.setdefault(key, (shard, row))

    def keys(self) -> set[str]:
        self.refresh()
        return set(self._where)

    def __contains__(self, key: str) -> bool:
        if key not in self._where:
            self.refresh()
        return key in self._where

    def get(self, key: str) -> tuple[torch.Tensor, torch.Tensor] | None:
        """``(y, x0)`` of the pair ``key`` (float32 tensors), None when no shard holds it."""
        if key not in self:
            return None
        shard, row = self._where[key]
        return shard.row(row)

    # ---- building -----------------------------------------------------------------------------------------------
    def ensure(self, pairs: Sequence[tuple[PairSide, PairSide]], encode_batch: EncodeBatch,
               keys: Sequence[str] | None = None, batch_size: int = ENCODE_BATCH, progress: bool = True,
               log: Callable[[str], None] | None = print,
               latent_shape: Sequence[int] | None = None) -> list[str]:
        """Encode the ``pairs`` no shard holds yet (``keys``: theirs, when already computed) with ``encode_batch``
        (``batch_size`` pairs per call, through ``Dataset.map``), ``shard_rows`` per new shard; returns the keys
        of ``pairs``. ``log`` gets the size estimate before anything is encoded. ``latent_shape``: one latent's
        shape when the caller knows it (the backbone's posterior shape); else one pair is encoded to learn it."""
        keys = list(keys) if keys is not None else [pair_key(i, t) for i, t in pairs]
        if len(keys) != len(pairs):
            raise UsageError(f"{len(keys)} keys for {len(pairs)} pairs")
        cached = self.keys()
        todo: dict[str, tuple[PairSide, PairSide]] = {}
        for key, pair in zip(keys, pairs):
            if key not in cached:
                todo.setdefault(key, pair)
        if not todo:
            return keys
        self.folder.mkdir(parents=True, exist_ok=True)
        config_file = self.folder / "config.json"
        if not config_file.exists():
            atomic_write_text(config_file, json.dumps(self.config, indent=2, sort_keys=True, default=str))
        items = list(todo.items())
        if latent_shape is None:  # the latent shape, for the estimate and the Arrow features
            latent_shape = encode_batch([items[0][1]])[0].shape[1:]
        shape = tuple(int(n) for n in latent_shape)
        need = len(items) * row_bytes(shape)
        free = shutil.disk_usage(self.folder).free
        if log is not None:
            log(f"latent cache {self.folder}: encoding {len(items)} of {len(keys)} training pair(s) "
                f"({len(cached)} cached), about {format_bytes(need)} as float16 ({format_bytes(row_bytes(shape))} "
                f"per pair, latents {'x'.join(map(str, shape))}); {format_bytes(free)} free")
        if need > free:
            raise UsageError(f"the latent cache needs about {format_bytes(need)} in {self.folder} but only "
                             f"{format_bytes(free)} is free: point $YPT_CACHE (or --cache-dir) at a larger disk")
        self._remove_stale_partials()
        from ypt.progress import RunLog

        done = 0

        def advance(n: int) -> None:
            nonlocal done
            done += n
            run.update(done)

        # a bar on a terminal, plain lines in a cluster's log file (encoding can be one of a run's longest steps)
        with RunLog(f"encoding {len(items)} training pair(s)", len(items), unit="pair", progress=progress) as run:
            for start in range(0, len(items), self.shard_rows):
                chunk = items[start:start + self.shard_rows]
                self._write_shard(chunk, shape, encode_batch, batch_size, advance)
        self.refresh()
        return keys

    def _write_shard(self, items: list[tuple[str, tuple[PairSide, PairSide]]], shape: tuple[int, ...],
                     encode_batch: EncodeBatch, batch_size: int, advance: Callable[[int], None]) -> Path:
        """One shard of ``items`` through a batched ``Dataset.map``, written under ``.partial/`` and moved into
        place when complete."""
        import datasets
        from datasets import Dataset, Features, Value

        array = {2: datasets.Array2D, 3: datasets.Array3D, 4: datasets.Array4D, 5: datasets.Array5D}.get(len(shape))
        if array is None:
            raise UsageError(f"latents of {len(shape)} dimensions {shape} cannot be stored (2 to 5)")
        features = Features({"key": Value("string"), "input": array(shape, "float16"),
                             "target": array(shape, "float16")})
        shard_fp = config_hash({"cache": self.fingerprint, "keys": [k for k, _ in items]}, length=16)
        partial = self.folder / ".partial" / f"shard-{shard_fp}.arrow"
        partial.parent.mkdir(exist_ok=True)
        pairs = [pair for _, pair in items]

        def encode(batch: dict[str, list], indices: list[int]) -> dict[str, Any]:
            y, x0 = encode_batch([pairs[i] for i in indices])
            advance(len(indices))
            return {"input": y.detach().to("cpu", torch.float16).numpy(),
                    "target": x0.detach().to("cpu", torch.float16).numpy()}

        was_enabled = datasets.is_progress_bar_enabled()
        datasets.disable_progress_bars()  # the cache's own bar counts the pairs
        try:
            Dataset.from_dict({"key": [k for k, _ in items]}).map(
                encode, batched=True, batch_size=batch_size, with_indices=True, features=features,
                cache_file_name=str(partial), load_from_cache_file=False, new_fingerprint=shard_fp,
                writer_batch_size=batch_size)
        finally:
            if was_enabled:
                datasets.enable_progress_bars()
        final = self.folder / partial.name
        os.replace(partial, final)
        return final

    def _remove_stale_partials(self) -> None:
        """Partial shards of builds that stopped (a live build keeps writing its file)."""
        for path in (self.folder / ".partial").glob("*"):
            try:
                if time.time() - path.stat().st_mtime > STALE_PARTIAL_S:
                    path.unlink()
            except FileNotFoundError:
                pass


def make_latent_cache(backbone: Backbone, geometry: dict[str, Any], root: str | os.PathLike | None = None,
                      protocol: str | None = None) -> LatentCache:
    """The cache for ``backbone`` (its :meth:`identity`), ``protocol`` and ``geometry`` under ``root`` (default
    ``$YPT_CACHE/latents``)."""
    return LatentCache(Path(root) if root else default_cache_dir(), backbone.identity(), dict(geometry), protocol)
