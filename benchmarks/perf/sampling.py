"""Restoration (sampling) time per image / clip: NFE and seconds for the 20-step EBR bridge sampler.

Every row runs ``ypt.restore.Restorer``, what ``ypt_flux`` / ``ypt_wan`` and ``python -m ypt.restore`` run, on the
real ``ypt.backbones`` adapter built from config: ``restore_latents`` (the adapter's ``predictor`` inside
``ypt.sampler.sample_bridge`` on the EBR bridge, one backbone velocity per grid point and prompt) for the steps
alone, and ``restore_images`` / ``restore_clip`` on an in-memory item (VAE encode, the steps, VAE decode) for the
whole item. Mixed degradations average the prompts' predictions at every step, one backbone call per prompt
(``mixed-sequential``). ``batch-4`` restores four items with ``Restorer(batch_size=4)`` (the sampler runs them as one
batch, each item encoded and decoded alone) and reports the time per item, beside ``single``'s one item at a time.
"""
from __future__ import annotations

from benchmarks import protocol
from benchmarks.perf.timing import PeakMemory, oom_error, time_fn
from benchmarks.perf.workloads import Workload, implementation

MODES = ("single", "mixed-sequential", "batch-4")
#: items per call of the batched mode
BATCH = 4


class SampleBench:
    """Measures each sampling mode on one item with an adapter (``Workload.build``)."""

    def __init__(self, wl: Workload, device: str, dtype_name: str, engine):
        import torch

        self.wl, self.device, self.dtype_name, self.engine = wl, device, dtype_name, engine
        self.dtype = getattr(torch, dtype_name)
        generator = torch.Generator(device="cpu").manual_seed(protocol.SEED)
        self.pixels = torch.rand((3, *wl.pixels), generator=generator).to(device)  # FLUX (3, H, W); WAN (3, F, H, W)

    def restorer(self, n_prompts: int, steps: int, batch_size: int = 1):
        """``ypt.restore.Restorer`` with ``n_prompts`` fresh residual prompts at the workload's geometry."""
        from ypt.restore import Restorer

        geometry = ({"image_size": self.wl.pixels} if self.wl.backbone == "flux"
                    else {"video_frames": self.wl.pixels[0], "video_size": self.wl.pixels[1:]})
        prompts = [self.wl.prompt(self.engine, seed=k) for k in range(n_prompts)]
        return Restorer(self.engine, prompts, bridge="ebr", t0=protocol.T0, t_min=protocol.T_MIN,
                        num_inference_steps=steps, seed=protocol.SEED, batch_size=batch_size, **geometry)

    def measure(self, mode: str, steps: int, iters: int, warmup: int, n_mixed: int = 2) -> dict:
        import torch

        wl, engine = self.wl, self.engine
        n_prompts = n_mixed if mode == "mixed-sequential" else 1
        items = BATCH if mode == "batch-4" else 1
        restorer = self.restorer(n_prompts, steps, batch_size=items)
        row = {"section": "sampling", "backbone": wl.backbone, "label": mode,
               "config": {**wl.describe(), "batch": items, "dtype": self.dtype_name, "steps": steps,
                          "prompts": n_prompts, "bridge": restorer.bridge.name, "vae_dtype": "float32",
                          "engine": implementation(engine), "prompt": implementation(restorer.prompts[0]),
                          "sampler": "ypt.restore.Restorer.restore_latents (ypt.sampler.sample_bridge)"}}
        calls = steps * n_prompts
        try:
            with torch.inference_mode():
                y = engine.encode(self.pixels[None]).float().repeat(items, *([1] * (self.pixels.ndim)))

                def steps_only():
                    return restorer.restore_latents(y)

                def whole_item():
                    if wl.backbone == "flux":
                        return restorer.restore_images([self.pixels] * items)
                    return restorer.restore_clips([self.pixels] * items)

                with PeakMemory(self.device) as memory:
                    item = time_fn(whole_item, self.device, iters=iters, warmup=warmup)
                denoise = time_fn(steps_only, self.device, iters=iters, warmup=0)
        except oom_error() as exc:
            row.update(status="oom", reason=str(exc).splitlines()[0])
            return row
        flop = wl.flops(cross_attention_passes=2)
        # per item: a batched call's times divided by its items (the spreads too)
        item_t, denoise_t = (_per_item(t.as_dict(), items) for t in (item, denoise))
        row.update(status="ok", nfe=steps * n_prompts, forward_calls=calls,
                   time_per_item_s=item_t["seconds"], denoise_s=denoise_t["seconds"],
                   time_per_nfe_s=denoise_t["seconds"] / (steps * n_prompts),
                   timing=item_t, denoise_timing=denoise_t, peak_memory_bytes=memory.peak_bytes,
                   memory_kind=memory.kind, model_flops=steps * n_prompts * flop.forward)
        return row


def _per_item(timing: dict, items: int) -> dict:
    """A timing record of calls of ``items`` items as one of single items (every time divided by ``items``)."""
    out = {k: (v / items if k.endswith("_s") or k == "seconds" else v) for k, v in timing.items() if k != "times_s"}
    out["times_s"] = [t / items for t in timing["times_s"]]
    out["items_per_call"] = items
    return out
