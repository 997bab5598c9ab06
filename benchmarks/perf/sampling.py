"""Restoration (sampling) time per image / clip: NFE and seconds for the 20-step EBR bridge sampler.

The loop is DESIGN.md's deterministic sampler: grid ``T0 = t_0 > ... > t_{K-1} = t_min`` (one backbone velocity
per grid point and prompt), ``x0_hat = z - t v``, ``e_hat = (z - m_t(x0_hat, y)) / max(t, t_min)``,
``z' = m_t'(x0_hat, y) + t' e_hat``, with ``m_t(x, y) = (1-t)((1-t/T0) x + (t/T0) y)``. Mixed degradations average
the prompts' predictions at every step, either one call per prompt (``mixed-sequential``, the adapters'
``predictor``) or all prompts in one batched call (``mixed-batched``: same NFE, half the calls, each twice as large).
Each row times the whole item (VAE encode of the input, the steps, VAE decode) and the steps alone.
"""
from __future__ import annotations

from benchmarks import protocol
from benchmarks.perf import models as M
from benchmarks.perf.timing import PeakMemory, oom_error, time_fn
from benchmarks.perf.workloads import Workload

MODES = ("single", "mixed-sequential", "mixed-batched")


def ebr_mean(x0, y, t: float, t0: float):
    return (1 - t) * ((1 - t / t0) * x0 + (t / t0) * y)


def time_grid(steps: int, t0: float = protocol.T0, t_min: float = protocol.T_MIN) -> list[float]:
    """``steps`` times from ``t0`` down to ``t_min`` inclusive (one NFE per time and prompt)."""
    if steps < 2:
        raise ValueError("steps must be >= 2")
    return [t0 + (t_min - t0) * k / (steps - 1) for k in range(steps)]


def bridge_sample(predict_x0, y, noise, steps: int, t0: float = protocol.T0, t_min: float = protocol.T_MIN):
    """Run the EBR sampler from ``z = (1-T0) y + T0 e``; ``predict_x0(z, t)`` returns the clean estimate.
    Used only where ``ypt.sampler`` is not importable (see :func:`sampler`)."""
    grid = time_grid(steps, t0, t_min)
    z = (1 - t0) * y + t0 * noise
    x0_hat = z
    for k, t in enumerate(grid):
        x0_hat = predict_x0(z, t)
        if k + 1 == len(grid):
            break
        e_hat = (z - ebr_mean(x0_hat, y, t, t0)) / max(t, t_min)
        t_next = grid[k + 1]
        z = ebr_mean(x0_hat, y, t_next, t0) + t_next * e_hat
    return x0_hat


def sampler():
    """(sample(predict_x0, y, noise, steps), implementation): ``ypt.sampler.sample_bridge`` on the EBR bridge of
    ``ypt.bridges`` when importable, else :func:`bridge_sample` (the same algorithm)."""
    try:
        from ypt.bridges import make_bridge
        from ypt.sampler import sample_bridge
    except ImportError:
        return bridge_sample, "benchmarks.perf EBR loop"
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

    def _predictor(self, mode: str, n_prompts: int):
        """(predict_x0, prompt implementation). Single and sequential: the adapter's ``predictor`` over
        ``ypt.prompts`` modules (what ``ypt.restore`` runs). Batched: per-sample prompts in one call, which
        ``ypt.prompts`` does not offer, so this module's hooks with ``(n, L, D)`` prompts and ``(n, blocks)`` gates."""
        engine, wl = self.engine, self.wl
        if mode == "mixed-batched":
            batched = M.new_prompt(wl, self.device, self.dtype, n=n_prompts, gate_init=0.1)

            def predict(z, t):
                t = t.expand(n_prompts) if hasattr(t, "expand") else t
                return engine.predict_x0(z.expand(n_prompts, *z.shape[1:]), t, batched).mean(dim=0, keepdim=True)

            return predict, "benchmarks.perf batched residual hooks"
        made = [M.make_prompt(wl, engine.transformer, self.device, seed=k) for k in range(n_prompts)]
        return engine.predictor([p for p, _ in made]), made[0][1]

    def measure(self, mode: str, steps: int, iters: int, warmup: int, n_mixed: int = 2) -> dict:
        import torch

        wl, engine = self.wl, self.engine
        n_prompts = 1 if mode == "single" else n_mixed
        row = {"section": "sampling", "backbone": wl.backbone, "label": mode,
               "config": {**wl.describe(), "batch": 1, "dtype": self.dtype_name, "steps": steps,
                          "prompts": n_prompts, "bridge": "ebr", "vae_dtype": "float32", "engine": engine.impl}}
        predict, row["config"]["prompt"] = self._predictor(mode, n_prompts)
        sample, row["config"]["sampler"] = sampler()
        calls = steps * (n_prompts if mode == "mixed-sequential" else 1)
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
