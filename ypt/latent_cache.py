"""VAE latents of training pairs, computed once and stored on disk, so a training step never runs the VAE encoder.

Layout: ``<root>/<config key>/<pair key>.safetensors`` holding ``input`` and ``target`` (the normalised latents
``y`` and ``x0``), one file per pair, written atomically; ``<root>/<config key>/config.json`` records what the
key covers: backbone, model id/revision, VAE config hash and the resize config. The pair key hashes the
absolute input/target paths with their sizes and modification times (an edited image is re-encoded), or the
pixel content for in-memory tensors.
"""
from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from ypt.files import atomic_path, atomic_write_text
from ypt.media import PixelSource as PairSide
from ypt.provenance import config_hash

if TYPE_CHECKING:
    from ypt.backbones.base import Backbone


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


@dataclass
class LatentCache:
    """Latents of ``(input, target)`` pairs for one backbone identity and one resize config."""

    root: Path
    identity: dict[str, Any]
    resize: dict[str, Any]

    def __post_init__(self) -> None:
        self.root = Path(self.root)
        self.config = {"identity": self.identity, "resize": self.resize}
        self.folder = self.root / config_hash(self.config, length=16)

    def path(self, key: str) -> Path:
        return self.folder / f"{key}.safetensors"

    def get(self, key: str) -> tuple[torch.Tensor, torch.Tensor] | None:
        path = self.path(key)
        if not path.is_file():
            return None
        from safetensors.torch import load_file

        tensors = load_file(str(path))
        return tensors["input"], tensors["target"]

    def put(self, key: str, y: torch.Tensor, x0: torch.Tensor) -> Path:
        from safetensors.torch import save_file

        self.folder.mkdir(parents=True, exist_ok=True)
        config_file = self.folder / "config.json"
        if not config_file.exists():
            atomic_write_text(config_file, json.dumps(self.config, indent=2, sort_keys=True, default=str))
        path = self.path(key)
        with atomic_path(path) as tmp:
            save_file({"input": y.detach().to("cpu", torch.float32).contiguous(),
                       "target": x0.detach().to("cpu", torch.float32).contiguous()}, str(tmp))
        return path

    def ensure(
        self,
        pairs: Sequence[tuple[PairSide, PairSide]],
        encode_pair: Callable[[PairSide, PairSide], tuple[torch.Tensor, torch.Tensor]],
        progress: bool = True,
    ) -> list[str]:
        """Keys of all ``pairs``, encoding (with ``encode_pair``) only those not cached yet."""
        keys = [pair_key(i, t) for i, t in pairs]
        missing = [(k, p) for k, p in zip(keys, pairs) if not self.path(k).is_file()]
        if missing:
            from rich.progress import Progress

            with Progress(disable=not progress, transient=True) as bar:
                task = bar.add_task(f"encoding {len(missing)} training pair(s)", total=len(missing))
                for key, (inp, tgt) in missing:
                    y, x0 = encode_pair(inp, tgt)
                    self.put(key, y, x0)
                    bar.advance(task)
        return keys


def make_latent_cache(backbone: Backbone, resize: dict[str, Any], root: str | os.PathLike | None = None) -> LatentCache:
    """The cache for ``backbone`` (its :meth:`identity`) and ``resize`` under ``root`` (default ``$YPT_CACHE/latents``)."""
    return LatentCache(Path(root) if root else default_cache_dir(), backbone.identity(), dict(resize))
