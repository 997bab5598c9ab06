"""Prompt-training step time, peak memory, model FLOPs and MFU for one backbone and one configuration.

The step is the method's (DESIGN.md): EBR bridge state ``z_t = (1-t)((1-t/T0) x0 + (t/T0) y) + t e`` with
``t ~ U[t_min, T0]``, ``x0_hat = z_t - t v``, loss ``||x0_hat - x0||^2``, AdamW on the prompt and gates only; the
backbone is frozen (no weight gradients). Latents are either cached (encoded once, as the latent cache does) or
encoded by the VAE every step. The loop has no host-device synchronisation (no ``.item()``).
"""
from __future__ import annotations

from dataclasses import dataclass

from benchmarks import protocol
from benchmarks.perf import models as M
from benchmarks.perf.flops import mfu
from benchmarks.perf.timing import PeakMemory, time_fn
from benchmarks.perf.workloads import Workload


@dataclass(frozen=True)
class TrainConfig:
    gradient_checkpointing: bool
    cached_latents: bool
    compile: bool = False

    @property
    def label(self) -> str:
        parts = ["ckpt" if self.gradient_checkpointing else "no-ckpt",
                 "cached" if self.cached_latents else "encode-each-step"]
        if self.compile:
            parts.append("compiled")
        return " ".join(parts)


def configurations(compile_: bool = False) -> list[TrainConfig]:
    """Checkpointing off/on x cached/encoded latents; with ``compile_`` also both cached ones compiled."""
    configs = [TrainConfig(ckpt, cached) for ckpt in (False, True) for cached in (True, False)]
    if compile_:
        configs += [TrainConfig(ckpt, True, compile=True) for ckpt in (False, True)]
    return configs


class TrainBench:
    """Builds the workload's models once and measures each configuration on them."""

    def __init__(self, wl: Workload, device: str, dtype_name: str):
        import torch

        self.wl, self.device, self.dtype_name = wl, device, dtype_name
        self.dtype = getattr(torch, dtype_name)
        self.model = M.build_transformer(wl, device, self.dtype)
        # the VAE stays fp32 (protocol: "VAE in fp32"); it runs only without the latent cache
        self.vae = M.build_vae(wl, device, torch.float32)
        self.cond = M.null_conditioning(wl, device, self.dtype)
        generator = torch.Generator(device="cpu").manual_seed(protocol.SEED)
        shape = (wl.batch, 3, *wl.pixels)  # FLUX (B, 3, H, W); WAN (B, 3, F, H, W)
        self.clean_px = (torch.rand(shape, generator=generator) * 2 - 1).to(device)
        self.degraded_px = (torch.rand(shape, generator=generator) * 2 - 1).to(device)
        self.cached = (M.encode(wl, self.vae, self.clean_px).to(self.dtype),
                       M.encode(wl, self.vae, self.degraded_px).to(self.dtype))

    def _step_fn(self, cfg: TrainConfig, prompt: M.ResidualPrompt, forward):
        import torch

        wl, device, dtype = self.wl, self.device, self.dtype
        optimizer = torch.optim.AdamW(prompt.parameters(), lr=5e-4, fused=device.startswith("cuda") or None)
        t0, t_min = protocol.T0, protocol.T_MIN
        view = (-1,) + (1,) * (len(wl.latent_shape))

        def step():
            if cfg.cached_latents:
                x0, y = self.cached
            else:
                x0 = M.encode(wl, self.vae, self.clean_px).to(dtype)
                y = M.encode(wl, self.vae, self.degraded_px).to(dtype)
            t = torch.rand(wl.batch, device=device, dtype=torch.float32) * (t0 - t_min) + t_min
            tv = t.view(view).to(dtype)
            e = torch.randn_like(x0)
            z = (1 - tv) * ((1 - tv / t0) * x0 + (tv / t0) * y) + tv * e
            if wl.backbone == "flux":
                z, x0 = M.pack_flux(z), M.pack_flux(x0)
                tv = t.view(-1, 1, 1).to(dtype)
            v = forward(z, t)
            x0_hat = z - tv * v
            loss = torch.nn.functional.mse_loss(x0_hat.float(), x0.float())
            loss.backward()
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)

        return step

    def measure(self, cfg: TrainConfig, iters: int, warmup: int, peak_flops: float | None) -> dict:
        import torch

        wl = self.wl
        row = {"section": "training", "backbone": wl.backbone, "label": cfg.label,
               "config": {**wl.describe(), "dtype": self.dtype_name, "gradient_checkpointing": cfg.gradient_checkpointing,
                          "latents": "cached" if cfg.cached_latents else "encode_each_step",
                          "compile": cfg.compile, "prompt": "residual", "optimizer": "AdamW(lr=5e-4)",
                          "attention": "diffusers default (torch SDPA)"}}
        flop = wl.flops(cross_attention_passes=2)
        model_flops, hardware_flops = flop.train_step(wl.batch, cfg.gradient_checkpointing)
        row.update(model_flops=model_flops, hardware_flops=hardware_flops)
        if cfg.gradient_checkpointing:
            self.model.enable_gradient_checkpointing()
        else:
            self.model.disable_gradient_checkpointing()
        prompt = M.attach_residual_prompt(wl, self.model, self.device, self.dtype)
        forward = lambda z, t: M.velocity(wl, self.model, z, t, self.cond)  # noqa: E731
        if cfg.compile:
            compiled = torch.compile(self.model)
            forward = lambda z, t: M.velocity(wl, compiled, z, t, self.cond)  # noqa: E731
        try:
            step = self._step_fn(cfg, prompt, forward)
            with PeakMemory(self.device) as memory:
                timing = time_fn(step, self.device, iters=iters, warmup=warmup)
        except torch.OutOfMemoryError as exc:
            row.update(status="oom", reason=str(exc).splitlines()[0])
            return row
        finally:
            prompt.remove()
            if self.device.startswith("cuda"):
                torch.cuda.empty_cache()
        seconds = timing.median_s
        row.update(status="ok", step_time_s=seconds, timing=timing.as_dict(),
                   peak_memory_bytes=memory.peak_bytes, memory_kind=memory.kind,
                   mfu=mfu(model_flops, seconds, peak_flops), hfu=mfu(hardware_flops, seconds, peak_flops),
                   items_per_s=wl.batch / seconds)
        return row
