"""Prompt-training step time, peak memory, model FLOPs and MFU for one backbone and one configuration.

Every row times ``ypt.train.PromptTrainer.step``, the step ``python -m ypt.train`` runs, on the real
``ypt.backbones`` adapter built from config: EBR bridge state from ``ypt.bridges`` (``t`` and noise drawn on the
trainer's seeded CPU generator), ``x0_hat`` from the adapter's ``predictor`` with a ``ypt.prompts`` residual prompt
attached through the backward, MSE loss, fused AdamW on the prompt only; the backbone is frozen (no weight
gradients). The configurations vary what the trainer is given: where the latents come from (``LatentPairs`` held
on the device; ``LatentPairs`` read from the ``ypt.latent_cache`` Arrow shards as ``ypt.train`` does; the
float32-file-per-pair cache it replaced, :class:`benchmarks.perf.cache.SafetensorsCache`; or a pair source that
runs the VAE encoder every step), gradient checkpointing, and ``torch.compile`` of the blocks.
"""
from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from benchmarks.perf.flops import mfu
from benchmarks.perf.timing import PeakMemory, oom_error, time_fn
from benchmarks.perf.workloads import Workload, implementation

#: where a step's latents come from
LATENT_SOURCES = ("cached", "datasets-cache", "safetensors-cache", "encode-each-step")
#: the trainer every row runs
TRAINER = "ypt.train.PromptTrainer"


@dataclass(frozen=True)
class RowConfig:
    gradient_checkpointing: bool
    latents: str  # one of LATENT_SOURCES
    compile: bool = False

    @property
    def label(self) -> str:
        parts = ["ckpt" if self.gradient_checkpointing else "no-ckpt", self.latents]
        if self.compile:
            parts.append("compiled")
        return " ".join(parts)


def configurations(compile_: bool = False) -> list[RowConfig]:
    """Checkpointing off/on x latent source; with ``compile_`` also both device-cached ones compiled."""
    configs = [RowConfig(ckpt, source) for ckpt in (False, True) for source in LATENT_SOURCES]
    if compile_:
        configs += [RowConfig(ckpt, "cached", compile=True) for ckpt in (False, True)]
    return configs


class EncodedPairs:
    """A pair source (``ypt.pairs.PairSource``) that encodes the pixels of the drawn pairs with the adapter's VAE at
    every batch: the cost the latent cache saves."""

    def __init__(self, backbone, degraded, clean):
        self.backbone, self.degraded, self.clean = backbone, degraded, clean

    def __len__(self) -> int:
        return self.clean.shape[0]

    def batch(self, indices: Iterable[int]):
        index = list(indices)
        return self.backbone.encode(self.degraded[index]).float(), self.backbone.encode(self.clean[index]).float()


@contextlib.contextmanager
def eager_afterwards(backbone) -> Iterator[None]:
    """``compile=True`` makes the trainer ``torch.compile`` the adapter's blocks in place (``nn.Module.compile``);
    afterwards drop the compiled call again so the run's other rows measure the eager blocks."""
    try:
        yield
    finally:
        for block in backbone.transformer_blocks():
            block._compiled_call_impl = None


class TrainBench:
    """Builds the workload's adapter and pixels once and measures each configuration on them."""

    def __init__(self, wl: Workload, device: str, dtype_name: str, scratch_dir):
        import torch

        from benchmarks import protocol

        self.wl, self.device, self.dtype_name = wl, device, dtype_name
        self.dtype = getattr(torch, dtype_name)
        self.scratch_dir = scratch_dir
        self.engine = wl.build(device, self.dtype)
        generator = torch.Generator(device="cpu").manual_seed(protocol.SEED)
        shape = (wl.batch, 3, *wl.pixels)  # FLUX (B, 3, H, W); WAN (B, 3, F, H, W), pixels in [0, 1]
        self.clean_px = torch.rand(shape, generator=generator).to(device)
        self.degraded_px = torch.rand(shape, generator=generator).to(device)
        self.cached = (self.engine.encode(self.clean_px).float(), self.engine.encode(self.degraded_px).float())
        self._caches: dict = {}

    def pairs(self, latents: str):
        """The trainer's pair source for a latent source of :data:`LATENT_SOURCES`."""
        from ypt.pairs import LatentPairs

        if latents == "cached":  # on the device already: the trainer copies nothing
            x0, y = self.cached
            return LatentPairs(tensors=[(y[i], x0[i]) for i in range(self.wl.batch)])
        if latents == "encode-each-step":
            return EncodedPairs(self.engine, self.degraded_px, self.clean_px)
        if latents not in self._caches:  # this batch's pairs in a cache of that layout, under the scratch folder
            import torch

            from benchmarks.perf.cache import build

            folder = Path(self.scratch_dir) / f"train-{self.wl.backbone}-{latents}"
            with torch.inference_mode():
                self._caches[latents] = build(latents, folder, self.engine, self.degraded_px, self.clean_px)
        return self._caches[latents]

    def trainer(self, cfg: RowConfig):
        """``ypt.train.PromptTrainer`` for ``cfg`` on this bench's adapter, with a fresh residual prompt."""
        from ypt.bridges import make_bridge
        from ypt.train import PromptTrainer, TrainConfig

        from benchmarks import protocol

        self.engine.transformer.disable_gradient_checkpointing()  # PromptTrainer only ever enables it
        config = TrainConfig(backbone=self.wl.backbone, iterations=10**9, batch_size=self.wl.batch,
                             gradient_checkpointing=cfg.gradient_checkpointing, compile=cfg.compile)
        bridge = make_bridge(config.bridge, protocol.T0, protocol.T_MIN)
        return PromptTrainer(self.engine, self.wl.prompt(self.engine), bridge, self.pairs(cfg.latents), config)

    def measure(self, cfg: RowConfig, iters: int, warmup: int, peak_flops: float | None) -> dict:
        import torch

        wl, engine = self.wl, self.engine
        row = {"section": "training", "backbone": wl.backbone, "label": cfg.label,
               "config": {**wl.describe(), "dtype": self.dtype_name,
                          "gradient_checkpointing": cfg.gradient_checkpointing,
                          "latents": cfg.latents, "compile": cfg.compile, "trainer": TRAINER,
                          "attention": "diffusers default (torch SDPA)", "engine": implementation(engine)}}
        flop = wl.flops(cross_attention_passes=2)
        model_flops, hardware_flops = flop.train_step(wl.batch, cfg.gradient_checkpointing)
        row.update(model_flops=model_flops, hardware_flops=hardware_flops)
        try:
            with eager_afterwards(engine) if cfg.compile else contextlib.nullcontext():
                trainer = self.trainer(cfg)
                row["config"].update(prompt=implementation(trainer.prompt), bridge=implementation(trainer.bridge),
                                     optimizer=f"{type(trainer.optimizer).__name__}(lr={trainer.config.lr:g}, "
                                               f"fused={trainer.optimizer.defaults.get('fused')})")
                # as PromptTrainer.fit: compiled blocks keep the prompt attached for the whole run, eager attaches
                # per step (inside step())
                keep = engine.attached(trainer.prompt) if cfg.compile else contextlib.nullcontext()
                with keep, PeakMemory(self.device) as memory:
                    timing = time_fn(trainer.step, self.device, iters=iters, warmup=warmup)
        except oom_error() as exc:
            row.update(status="oom", reason=str(exc).splitlines()[0])
            return row
        finally:
            if self.device.startswith("cuda"):
                torch.cuda.empty_cache()
        return _measured_row(row, timing, memory, model_flops, hardware_flops, peak_flops, wl.batch)


def _measured_row(row: dict, timing, memory, model_flops: float, hardware_flops: float, peak_flops: float | None,
                  batch: int) -> dict:
    """Fill a training row from a timed run: step time, peak memory, MFU (model FLOPs) and HFU (hardware FLOPs)."""
    seconds = timing.seconds
    row.update(status="ok", step_time_s=seconds, timing=timing.as_dict(),
               peak_memory_bytes=memory.peak_bytes, memory_kind=memory.kind,
               mfu=mfu(model_flops, seconds, peak_flops), hfu=mfu(hardware_flops, seconds, peak_flops),
               items_per_s=batch / seconds)
    return row
