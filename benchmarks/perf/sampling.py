"""Restoration (sampling) time per image / clip: NFE and seconds for the 20-step EBR bridge sampler.

The loop is DESIGN.md's deterministic sampler: grid ``T0 = t_0 > ... > t_{K-1} = t_min`` (one backbone velocity
per grid point and prompt), ``x0_hat = z - t v``, ``e_hat = (z - m_t(x0_hat, y)) / max(t, t_min)``,
``z' = m_t'(x0_hat, y) + t' e_hat``, with ``m_t(x, y) = (1-t)((1-t/T0) x + (t/T0) y)``. Mixed degradations average
the velocities of the prompts at every step, either one call per prompt (``mixed-sequential``) or all prompts in
one batched call (``mixed-batched``: same NFE, fewer and larger calls).
Each row times the whole item (VAE encode of the input, the steps, VAE decode) and the steps alone.
"""
from __future__ import annotations

from benchmarks import protocol
from benchmarks.perf import models as M
from benchmarks.perf.timing import PeakMemory, time_fn
from benchmarks.perf.workloads import Workload

MODES = ("single", "mixed-sequential", "mixed-batched")


def ebr_mean(x0, y, t: float, t0: float):
    return (1 - t) * ((1 - t / t0) * x0 + (t / t0) * y)


def time_grid(steps: int, t0: float = protocol.T0, t_min: float = protocol.T_MIN) -> list[float]:
    """``steps`` noise levels from ``t0`` down to ``t_min`` inclusive (one NFE per level and prompt)."""
    if steps < 2:
        raise ValueError("steps must be >= 2")
    return [t0 + (t_min - t0) * k / (steps - 1) for k in range(steps)]


def bridge_sample(velocity_fn, y, noise, steps: int, t0: float = protocol.T0, t_min: float = protocol.T_MIN):
    """Run the EBR sampler from ``z = (1-T0) y + T0 e``; ``velocity_fn(z, t)`` returns the (mixed) velocity."""
    grid = time_grid(steps, t0, t_min)
    z = (1 - t0) * y + t0 * noise
    x0_hat = z
    for k, t in enumerate(grid):
        x0_hat = z - t * velocity_fn(z, t)
        if k + 1 == len(grid):
            break
        e_hat = (z - ebr_mean(x0_hat, y, t, t0)) / max(t, t_min)
        t_next = grid[k + 1]
        z = ebr_mean(x0_hat, y, t_next, t0) + t_next * e_hat
    return x0_hat


class SampleBench:
    """Builds the workload's models once (inference only) and measures each sampling mode on one item."""

    def __init__(self, wl: Workload, device: str, dtype_name: str, model=None, vae=None):
        import torch

        self.wl, self.device, self.dtype_name = wl, device, dtype_name
        self.dtype = getattr(torch, dtype_name)
        self.model = model if model is not None else M.build_transformer(wl, device, self.dtype)
        self.vae = vae if vae is not None else M.build_vae(wl, device, torch.float32)
        self.cond = M.null_conditioning(wl, device, self.dtype)
        generator = torch.Generator(device="cpu").manual_seed(protocol.SEED)
        self.pixels = (torch.rand((1, 3, *wl.pixels), generator=generator) * 2 - 1).to(device)

    def _velocity_fn(self, mode: str, prompts: M.ResidualPrompt, singles: list[tuple]):
        import torch

        wl = self.wl

        def call(z, t, batch):
            tt = torch.full((batch,), t, device=self.device, dtype=torch.float32)
            return M.velocity(wl, self.model, z, tt, self.cond)

        if mode == "single":
            return lambda z, t: call(z, t, z.shape[0])
        if mode == "mixed-batched":
            n = prompts.prompt.shape[0]
            return lambda z, t: call(z.expand(n, *z.shape[1:]), t, n).mean(dim=0, keepdim=True)

        def sequential(z, t):
            total = None
            for prompt, gates in singles:
                prompts.prompt, prompts.gates = prompt, gates
                v = call(z, t, z.shape[0])
                total = v if total is None else total + v
            return total / len(singles)

        return sequential

    def measure(self, mode: str, steps: int, iters: int, warmup: int, n_mixed: int = 2) -> dict:
        import torch

        wl = self.wl
        n_prompts = 1 if mode == "single" else n_mixed
        row = {"section": "sampling", "backbone": wl.backbone, "label": mode,
               "config": {**wl.describe(), "batch": 1, "dtype": self.dtype_name, "steps": steps,
                          "prompts": n_prompts, "bridge": "ebr", "vae_dtype": "float32"}}
        singles = [M.new_prompt(wl, self.device, self.dtype, gate_init=0.1, seed=k) for k in range(n_prompts)]
        if mode == "mixed-batched":
            state = M.attach_residual_prompt(wl, self.model, self.device, self.dtype, gate_init=0.1, n=n_prompts)
        else:
            state = M.attach_residual_prompt(wl, self.model, self.device, self.dtype, gate_init=0.1)
            state.prompt, state.gates = singles[0]
        velocity_fn = self._velocity_fn(mode, state, singles)
        calls = steps * (n_prompts if mode == "mixed-sequential" else 1)
        try:
            with torch.inference_mode():
                y = M.encode(wl, self.vae, self.pixels).to(self.dtype)
                if wl.backbone == "flux":
                    y = M.pack_flux(y)
                noise = torch.randn(y.shape, generator=torch.Generator(device="cpu").manual_seed(protocol.SEED)).to(y)

                def steps_only():
                    return bridge_sample(velocity_fn, y, noise, steps)

                def whole_item():
                    latent = M.encode(wl, self.vae, self.pixels).to(self.dtype)
                    if wl.backbone == "flux":
                        latent = M.pack_flux(latent)
                    x0 = bridge_sample(velocity_fn, latent, noise, steps)
                    if wl.backbone == "flux":
                        x0 = M.unpack_flux(x0, *wl.latent_shape[1:])
                    return M.decode(wl, self.vae, x0.float())

                with PeakMemory(self.device) as memory:
                    item = time_fn(whole_item, self.device, iters=iters, warmup=warmup)
                denoise = time_fn(steps_only, self.device, iters=iters, warmup=0)
        except torch.OutOfMemoryError as exc:
            row.update(status="oom", reason=str(exc).splitlines()[0])
            return row
        finally:
            state.remove()
        flop = wl.flops(cross_attention_passes=2)
        row.update(status="ok", nfe=steps * n_prompts, forward_calls=calls,
                   time_per_item_s=item.median_s, denoise_s=denoise.median_s,
                   time_per_nfe_s=denoise.median_s / (steps * n_prompts),
                   timing=item.as_dict(), peak_memory_bytes=memory.peak_bytes, memory_kind=memory.kind,
                   model_flops=steps * n_prompts * flop.forward)
        return row
