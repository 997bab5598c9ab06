"""Restoration (sampling) time per image / clip: NFE and seconds for the 20-step EBR bridge sampler.

The loop is ``ypt.sampler.sample_bridge`` on the EBR bridge (DESIGN.md's deterministic sampler, one backbone
velocity per grid point and prompt). Mixed degradations average the prompts' predictions at every step, one backbone
call per prompt (``mixed-sequential``, the adapters' ``predictor``, what ``ypt.restore`` runs). Each row times the
whole item (VAE encode of the input, the steps, VAE decode) and the steps alone.
"""
from __future__ import annotations

from benchmarks import protocol
from benchmarks.perf import models as M
from benchmarks.perf.timing import PeakMemory, oom_error, time_fn
from benchmarks.perf.workloads import Workload

MODES = ("single", "mixed-sequential")


def sampler():
    """(sample(predict_x0, y, noise, steps), implementation): ``ypt.sampler.sample_bridge`` on the EBR bridge."""
    from ypt.bridges import make_bridge
    from ypt.sampler import sample_bridge

    bridge = make_bridge("ebr", protocol.T0, protocol.T_MIN)

    def sample(predict_x0, y, noise, steps):
        return sample_bridge(predict_x0, y, bridge, num_inference_steps=steps, noise=noise)

    return sample, "ypt.sampler.sample_bridge"


class SampleBench:
    """Measures each sampling mode on one item with an engine (``models.build_engine``)."""

    def __init__(self, wl: Workload, device: str, dtype_name: str, engine):
        import torch

        self.wl, self.device, self.dtype_name, self.engine = wl, device, dtype_name, engine
        self.dtype = getattr(torch, dtype_name)
        generator = torch.Generator(device="cpu").manual_seed(protocol.SEED)
        self.pixels = torch.rand((1, 3, *wl.pixels), generator=generator).to(device)

    def _predictor(self, n_prompts: int):
        """(predict_x0, prompt implementation): the adapter's ``predictor`` over ``n_prompts`` ``ypt.prompts``
        modules, averaging their predictions with one call each (what ``ypt.restore`` runs)."""
        made = [M.make_prompt(self.wl, self.engine.transformer, self.device, seed=k) for k in range(n_prompts)]
        return self.engine.predictor([p for p, _ in made]), made[0][1]

    def measure(self, mode: str, steps: int, iters: int, warmup: int, n_mixed: int = 2) -> dict:
        import torch

        wl, engine = self.wl, self.engine
        n_prompts = 1 if mode == "single" else n_mixed
        row = {"section": "sampling", "backbone": wl.backbone, "label": mode,
               "config": {**wl.describe(), "batch": 1, "dtype": self.dtype_name, "steps": steps,
                          "prompts": n_prompts, "bridge": "ebr", "vae_dtype": "float32", "engine": engine.impl}}
        predict, row["config"]["prompt"] = self._predictor(n_prompts)
        sample, row["config"]["sampler"] = sampler()
        calls = steps * n_prompts
        try:
            with torch.inference_mode():
                y = engine.encode(self.pixels).float()
                noise = torch.randn(y.shape, generator=torch.Generator(device="cpu").manual_seed(protocol.SEED))
                noise = noise.to(y)

                def steps_only():
                    return sample(predict, y, noise, steps)

                def whole_item():
                    latent = engine.encode(self.pixels).float()
                    return engine.decode(sample(predict, latent, noise, steps))

                with PeakMemory(self.device) as memory:
                    item = time_fn(whole_item, self.device, iters=iters, warmup=warmup)
                denoise = time_fn(steps_only, self.device, iters=iters, warmup=0)
        except oom_error() as exc:
            row.update(status="oom", reason=str(exc).splitlines()[0])
            return row
        flop = wl.flops(cross_attention_passes=2)
        row.update(status="ok", nfe=steps * n_prompts, forward_calls=calls,
                   time_per_item_s=item.seconds, denoise_s=denoise.seconds,
                   time_per_nfe_s=denoise.seconds / (steps * n_prompts),
                   timing=item.as_dict(), peak_memory_bytes=memory.peak_bytes, memory_kind=memory.kind,
                   model_flops=steps * n_prompts * flop.forward)
        return row
