"""The training latent cache: bytes per pair and build throughput of ``ypt.latent_cache`` (HF ``datasets`` Arrow
shards of float16, pairs encoded in batches through ``Dataset.map``) against the cache it replaced, kept here as the
baseline: one safetensors file of float32 latents per pair, pairs encoded one at a time (``SafetensorsCache``, the
suite's cache up to issue 18). The training section times ``PromptTrainer.step`` reading from each
(``latents="datasets-cache"`` / ``"safetensors-cache"``).

A build row encodes ``pairs`` random pixel pairs at the workload's geometry with the workload's adapter into a fresh
folder and reports the seconds per pair (encode + write) and the bytes per pair on disk.
"""
from __future__ import annotations

import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path

from benchmarks.perf.timing import time_fn
from benchmarks.perf.workloads import Workload

LAYOUTS = ("safetensors-cache", "datasets-cache")


class SafetensorsCache:
    """The baseline layout: ``<folder>/<key>.safetensors`` holding ``input`` and ``target`` as float32, one file per
    pair, each pair encoded alone; a pair source for ``PromptTrainer`` (``len``, ``batch``)."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        self.keys: list[str] = []

    def build(self, pairs: Sequence, encode_pair) -> None:
        from safetensors.torch import save_file

        self.folder.mkdir(parents=True, exist_ok=True)
        for n, (inp, tgt) in enumerate(pairs):
            y, x0 = encode_pair(inp, tgt)
            key = f"pair-{n}"
            save_file({"input": y.detach().to("cpu").float().contiguous(),
                       "target": x0.detach().to("cpu").float().contiguous()}, str(self.folder / f"{key}.safetensors"))
            self.keys.append(key)

    def __len__(self) -> int:
        return len(self.keys)

    def batch(self, indices: Iterable[int]):
        import torch
        from safetensors.torch import load_file

        rows = [load_file(str(self.folder / f"{self.keys[i]}.safetensors")) for i in indices]
        return torch.stack([r["input"] for r in rows]), torch.stack([r["target"] for r in rows])


def build(layout: str, folder: Path, engine, degraded, clean):
    """A cache of ``layout`` under ``folder`` holding the pairs ``(degraded[i], clean[i])`` (pixels batch-first,
    on the engine's device), encoded by ``engine``; returns the pair source ``PromptTrainer`` reads."""
    pairs = [(degraded[i], clean[i]) for i in range(degraded.shape[0])]
    if layout == "safetensors-cache":
        cache = SafetensorsCache(folder)
        cache.build(pairs, lambda i, t: (engine.encode(i[None])[0], engine.encode(t[None])[0]))
        return cache
    import torch

    from ypt.latent_cache import LatentCache
    from ypt.pairs import LatentPairs

    def encode_batch(chunk):
        return (engine.encode(torch.stack([i for i, _ in chunk])), engine.encode(torch.stack([t for _, t in chunk])))

    cache = LatentCache(folder, engine.identity(), {"perf": True})
    keys = [f"pair-{n}" for n in range(len(pairs))]
    cache.ensure(pairs, encode_batch, keys=keys, progress=False, log=None)
    return LatentPairs(cache=cache, keys=keys)


def stored_bytes_per_pair(layout: str, folder: Path, latent_shape: tuple[int, ...], pairs: int = 4) -> float:
    """Bytes per pair on disk of ``pairs`` random latent pairs of ``latent_shape`` written in ``layout`` (no VAE:
    the size of a full-size latent measured without encoding a full-size image)."""
    import torch

    generator = torch.Generator("cpu").manual_seed(0)
    latents = [(torch.randn(latent_shape, generator=generator), torch.randn(latent_shape, generator=generator))
               for _ in range(pairs)]
    if layout == "safetensors-cache":
        SafetensorsCache(folder).build(latents, lambda y, x0: (y, x0))
    else:
        from ypt.latent_cache import LatentCache

        LatentCache(folder, {"perf": "stored bytes"}, {"shape": list(latent_shape)}).ensure(
            latents, lambda chunk: (torch.stack([y for y, _ in chunk]), torch.stack([x for _, x in chunk])),
            keys=[f"pair-{n}" for n in range(pairs)], progress=False, log=None)
    return _written(folder) / pairs


def _written(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and p.suffix in (".arrow", ".safetensors"))


def measure(wl: Workload, engine, device: str, scratch_dir, iters: int, warmup: int, pairs: int) -> list[dict]:
    """One build row per layout: ``pairs`` random pixel pairs encoded and written, ``iters`` timed builds; and the
    bytes per pair of the full-size latent in the same layout."""
    from benchmarks.perf.workloads import workload
    import torch

    from benchmarks import protocol
    from ypt.latent_cache import ENCODE_BATCH

    generator = torch.Generator("cpu").manual_seed(protocol.SEED)
    shape = (pairs, 3, *wl.pixels)
    degraded, clean = (torch.rand(shape, generator=generator).to(device) for _ in range(2))
    rows = []
    for layout in LAYOUTS:
        folders: list[Path] = []

        def one_build(layout=layout, folders=folders):
            # a fresh folder per build, also across the run's rounds (a built cache would make the build a no-op)
            folder = Path(tempfile.mkdtemp(prefix=f"cache-{wl.backbone}-{layout}-", dir=scratch_dir))
            folders.append(folder)
            with torch.inference_mode():
                build(layout, folder, engine, degraded, clean)

        timing = time_fn(one_build, device, iters=iters, warmup=warmup)
        written = _written(folders[-1])
        full_shape = workload(wl.backbone, "full").latent_shape
        full_bytes = stored_bytes_per_pair(
            layout, Path(tempfile.mkdtemp(prefix=f"cache-{wl.backbone}-{layout}-full-", dir=scratch_dir)), full_shape)
        per_pair = {k: (v / pairs if k.endswith("_s") or k == "seconds" else v) for k, v in timing.as_dict().items()
                    if k != "times_s"}
        per_pair["times_s"] = [t / pairs for t in timing.times_s]
        rows.append({"section": "cache", "backbone": wl.backbone, "label": layout,
                     "config": {**wl.describe(), "pairs": pairs, "layout": layout,
                                "storage": "float32 safetensors file per pair" if layout == "safetensors-cache"
                                else "float16 Arrow shard (datasets ArrayND) per build",
                                "encode": "one pair at a time" if layout == "safetensors-cache"
                                else f"batches of {ENCODE_BATCH} through Dataset.map"},
                     "status": "ok", "build_s_per_pair": per_pair["seconds"], "pairs_per_s": 1 / per_pair["seconds"],
                     "bytes_per_pair": written / pairs, "full_size_latent": list(full_shape),
                     "full_size_bytes_per_pair": full_bytes, "timing": per_pair})
    return rows
