"""Prompt-training step time, peak memory, model FLOPs and MFU for one backbone and one configuration.

The step is the method's (DESIGN.md): EBR bridge state ``z_t = (1-t)((1-t/T0) x0 + (t/T0) y) + t e`` with
``t ~ U[t_min, T0]``, ``x0_hat = z_t - t v`` (the backbone adapter's ``predict_x0``), loss ``||x0_hat - x0||^2``,
AdamW on the prompt and gates only; the backbone is frozen (no weight gradients). Latents are either cached on the
device, read every step from the on-disk latent cache (``ypt.latent_cache``), or encoded by the VAE every step.
The loop has no host-device synchronisation (no ``.item()``).
"""
from __future__ import annotations

from dataclasses import dataclass

from benchmarks import protocol
from benchmarks.perf import models as M
from benchmarks.perf.flops import mfu
from benchmarks.perf.timing import PeakMemory, oom_error, time_fn
from benchmarks.perf.workloads import Workload

#: where a step's latents come from
LATENT_SOURCES = ("cached", "disk-cache", "encode-each-step")


@dataclass(frozen=True)
class TrainConfig:
    gradient_checkpointing: bool
    latents: str  # one of LATENT_SOURCES
    compile: bool = False

    @property
    def label(self) -> str:
        parts = ["ckpt" if self.gradient_checkpointing else "no-ckpt", self.latents]
        if self.compile:
            parts.append("compiled")
        return " ".join(parts)


def ebr_bridge():
    """The method's EBR bridge at the protocol's ``T0`` and ``t_min`` (``ypt.bridges``)."""
    from ypt.bridges import make_bridge

    return make_bridge("ebr", protocol.T0, protocol.T_MIN)


def configurations(compile_: bool = False) -> list[TrainConfig]:
    """Checkpointing off/on x latent source; with ``compile_`` also both device-cached ones compiled."""
    configs = [TrainConfig(ckpt, source) for ckpt in (False, True) for source in LATENT_SOURCES]
    if compile_:
        configs += [TrainConfig(ckpt, "cached", compile=True) for ckpt in (False, True)]
    return configs


class TrainBench:
    """Builds the workload's engine once and measures each configuration on it."""

    def __init__(self, wl: Workload, device: str, dtype_name: str, scratch_dir):
        import torch

        self.wl, self.device, self.dtype_name = wl, device, dtype_name
        self.dtype = getattr(torch, dtype_name)
        self.scratch_dir = scratch_dir
        self.engine = M.build_engine(wl, device, self.dtype, scratch_dir)
        generator = torch.Generator(device="cpu").manual_seed(protocol.SEED)
        shape = (wl.batch, 3, *wl.pixels)  # FLUX (B, 3, H, W); WAN (B, 3, F, H, W), pixels in [0, 1]
        self.clean_px = torch.rand(shape, generator=generator).to(device)
        self.degraded_px = torch.rand(shape, generator=generator).to(device)
        self.cached = (self.engine.encode(self.clean_px).float(), self.engine.encode(self.degraded_px).float())
        self._disk = None

    def _disk_cache(self):
        """A ``ypt.latent_cache.LatentCache`` under the scratch folder holding this batch's pairs, one per item."""
        if self._disk is None:
            from ypt.latent_cache import LatentCache

            cache = LatentCache(self.scratch_dir, {"perf": self.wl.backbone, "size": self.wl.size}, {"perf": True})
            keys = []
            for i in range(self.wl.batch):
                key = f"perf-{self.wl.backbone}-{i}"
                cache.put(key, self.cached[1][i], self.cached[0][i])
                keys.append(key)
            self._disk = (cache, keys)
        return self._disk

    def _latents(self, cfg: TrainConfig):
        import torch

        if cfg.latents == "cached":
            return self.cached
        if cfg.latents == "encode-each-step":
            return self.engine.encode(self.clean_px).float(), self.engine.encode(self.degraded_px).float()
        cache, keys = self._disk_cache()
        pairs = [cache.get(k) for k in keys]
        y = torch.stack([p[0] for p in pairs]).to(self.device, non_blocking=True)
        x0 = torch.stack([p[1] for p in pairs]).to(self.device, non_blocking=True)
        return x0, y

    def _step_fn(self, cfg: TrainConfig, prompt):
        import torch

        wl, device = self.wl, self.device
        optimizer = torch.optim.AdamW(prompt.parameters(), lr=5e-4, fused=True)  # as ypt.train
        t0, t_min = protocol.T0, protocol.T_MIN
        view = (-1,) + (1,) * len(wl.latent_shape)

        def step():
            x0, y = self._latents(cfg)
            t = torch.rand(wl.batch, device=device, dtype=torch.float32) * (t0 - t_min) + t_min
            tv = t.view(view)
            e = torch.randn_like(x0)
            z = (1 - tv) * ((1 - tv / t0) * x0 + (tv / t0) * y) + tv * e
            with self.engine.attached(prompt):  # through backward: checkpointing recomputes the blocks with it
                x0_hat = self.engine.predict_x0(z, t, prompt)
                loss = torch.nn.functional.mse_loss(x0_hat, x0)
                loss.backward()
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)

        return step

    def measure(self, cfg: TrainConfig, iters: int, warmup: int, peak_flops: float | None) -> dict:
        import torch

        wl, engine = self.wl, self.engine
        row = {"section": "training", "backbone": wl.backbone, "label": cfg.label,
               "config": {**wl.describe(), "dtype": self.dtype_name,
                          "gradient_checkpointing": cfg.gradient_checkpointing,
                          "latents": cfg.latents, "compile": cfg.compile,
                          "optimizer": "AdamW(lr=5e-4, fused)", "attention": "diffusers default (torch SDPA)",
                          "engine": engine.impl}}
        flop = wl.flops(cross_attention_passes=2)
        model_flops, hardware_flops = flop.train_step(wl.batch, cfg.gradient_checkpointing)
        row.update(model_flops=model_flops, hardware_flops=hardware_flops)
        transformer = engine.transformer
        if cfg.gradient_checkpointing:
            transformer.enable_gradient_checkpointing()
        else:
            transformer.disable_gradient_checkpointing()
        prompt, row["config"]["prompt"] = M.make_prompt(wl, transformer, self.device)
        if cfg.compile:
            engine.transformer = torch.compile(transformer)
        try:
            step = self._step_fn(cfg, prompt)
            # attached once around the whole loop (the step's own attach is then a no-op): hooks stay fixed, which
            # torch.compile needs, and per-step hook registration is not part of a training step's cost
            with engine.attached(prompt), PeakMemory(self.device) as memory:
                timing = time_fn(step, self.device, iters=iters, warmup=warmup)
        except oom_error() as exc:
            row.update(status="oom", reason=str(exc).splitlines()[0])
            return row
        finally:
            engine.transformer = transformer
            if self.device.startswith("cuda"):
                torch.cuda.empty_cache()
        return _measured_row(row, timing, memory, model_flops, hardware_flops, peak_flops, wl.batch)

    def measure_trainer(self, gradient_checkpointing: bool, iters: int, warmup: int,
                        peak_flops: float | None) -> dict:
        """``ypt.train.PromptTrainer.step`` as training runs it: latents from the on-disk cache, the adapter's
        ``predictor``, CPU generator for indices, ``t`` and noise. The trainer itself keeps the prompt attached
        through the backward (``backbone.attached``): hooks present only around the forward would be gone when
        gradient checkpointing recomputes the blocks, and torch raises "A different number of tensors was saved
        during the original forward and recomputation".
        """
        import torch
        from ypt.train import LatentPairs, PromptTrainer
        from ypt.train import TrainConfig as YptTrainConfig

        wl, engine = self.wl, self.engine
        bridge = ebr_bridge()
        label = f"{'ckpt' if gradient_checkpointing else 'no-ckpt'} ypt.train"
        row = {"section": "training", "backbone": wl.backbone, "label": label,
               "config": {**wl.describe(), "dtype": self.dtype_name, "gradient_checkpointing": gradient_checkpointing,
                          "latents": "ypt.train disk cache", "compile": False,
                          "optimizer": "ypt.train AdamW", "engine": engine.impl, "trainer": "ypt.train.PromptTrainer",
                          "bridge": f"{type(bridge).__module__}.{type(bridge).__name__}"}}
        flop = wl.flops(cross_attention_passes=2)
        model_flops, hardware_flops = flop.train_step(wl.batch, gradient_checkpointing)
        row.update(model_flops=model_flops, hardware_flops=hardware_flops)
        cache, keys = self._disk_cache()
        config = YptTrainConfig(backbone=wl.backbone, iterations=10**9, batch_size=wl.batch,
                                gradient_checkpointing=gradient_checkpointing)
        engine.transformer.disable_gradient_checkpointing()  # PromptTrainer only ever enables it
        prompt, row["config"]["prompt"] = M.make_prompt(wl, engine.transformer, self.device)
        trainer = PromptTrainer(engine, prompt, bridge, LatentPairs(cache=cache, keys=keys), config)
        try:
            with PeakMemory(self.device) as memory:
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
