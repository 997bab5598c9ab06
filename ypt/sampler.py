"""The deterministic bridge sampler (the method; with the ``naive`` bridge, the SDEdit control).

Bridge sampler (DESIGN.md, DDIM-like on the bridge): grid ``T0 = t_0 > ... > t_{K-1} = t_min`` (fp32); seeded
start ``z = m_T0(y) + s_T0 * e``. At each grid time: ``x0_hat = predict_x0(z, t)``; re-estimate the noise
``e_hat = (z - m_t(x0_hat, y)) / max(s_t, t_min)`` (kept from the previous step where ``s_t = 0``, the DDBM end
point); move to ``z = m_t'(x0_hat, y) + s_t' * e_hat`` (:meth:`ypt.bridges.Bridge.step`; the EBR bridge computes
start and step in the release's operation order, bit-identical to it). The last ``x0_hat`` (at ``t_min``) is
returned, so with a perfect ``predict_x0`` the sampler lands on ``x0`` and every intermediate state lies on the
training bridge.

Mixed degradations: the backbone adapter's ``predictor(prompts, bridge)`` averages the prompts' velocities at
every step, as the release does (:meth:`ypt.backbones.base.Backbone.predictor`).
"""
from __future__ import annotations

from collections.abc import Callable

import torch

from ypt.bridges import Bridge
from ypt.defaults import NUM_INFERENCE_STEPS
from ypt.registry import check_key

Predictor = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def _noise_like(y: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    device = generator.device if generator is not None else y.device
    return torch.randn(y.shape, generator=generator, device=device, dtype=torch.float32).to(y.device)


def sample_bridge(
    predict_x0: Predictor,
    y: torch.Tensor,
    bridge: Bridge,
    num_inference_steps: int = NUM_INFERENCE_STEPS,
    generator: torch.Generator | None = None,
    noise: torch.Tensor | None = None,
    callback: Callable[[int, torch.Tensor, torch.Tensor], None] | None = None,
    clip_denoised: float | None = None,
) -> torch.Tensor:
    """Restore ``y`` (a degraded latent, batch first) along ``bridge``; returns the final clean estimate.

    ``predict_x0(z, t) -> x0_hat`` with ``t`` a 1-D tensor of batch size. ``noise`` overrides the seeded start
    noise. ``callback(step, t, z)`` sees every state.
    ``clip_denoised=c`` clamps every clean estimate to ``[-c, c]``; off by default, as in the official evaluation
    (its ``inference.py`` calls ``bridge_sample(..., clip_denoised=False)``).
    NFE = ``num_inference_steps`` per prompt of the predictor.
    """
    y = y.float()
    e = (noise.to(y.device, torch.float32) if noise is not None else _noise_like(y, generator))
    z = bridge.start(y, e)
    grid = bridge.timesteps(num_inference_steps).to(y.device)
    ones = y.new_ones([y.shape[0]])
    x0_hat = z
    for i in range(len(grid)):
        if callback is not None:
            callback(i, grid[i], z)
        t = grid[i] * ones
        x0_hat = predict_x0(z, t).float()
        if clip_denoised is not None:
            x0_hat = x0_hat.clamp(-clip_denoised, clip_denoised)
        if i == len(grid) - 1:
            break
        z, e = bridge.step(z, x0_hat, y, t, grid[i + 1] * ones, e)
    return x0_hat


# ---- the timestep the backbone is fed ------------------------------------------------------------------------------
#: the schedulers of the authors' release (``model_prompts.py``), both with 1000 training steps and shift 1, and
#: re-gridded with ``set_timesteps(1000)`` before every sample
OFFICIAL_SCHEDULERS = {
    "flux": ("FlowMatchEulerDiscreteScheduler", {"num_train_timesteps": 1000, "shift": 1.0}),
    "wan": ("UniPCMultistepScheduler", {"prediction_type": "flow_prediction", "use_flow_sigmas": True,
                                        "num_train_timesteps": 1000, "flow_shift": 1.0}),
}
#: the diffusers release the authors' code pins (its ``requirements.txt``): the grids below are that version's
GRID_DIFFUSERS_VERSION = "0.33.1"


def _flux_grid(num_steps: int, num_train: int, shift: float) -> tuple[torch.Tensor, torch.Tensor]:
    """``FlowMatchEulerDiscreteScheduler(num_train, shift).set_timesteps(num_steps)`` as diffusers 0.33.1 computes it:
    ``__init__``'s fp32 grid gives ``sigma_max``/``sigma_min``; ``set_timesteps`` spaces the timesteps in float64,
    shifts, casts the sigmas to fp32 and takes ``timesteps = sigmas * num_train`` in fp32; a terminal 0 is appended."""
    import numpy as np

    init = torch.from_numpy(np.linspace(1, num_train, num_train, dtype=np.float32)[::-1].copy()) / num_train
    init = shift * init / (1 + (shift - 1) * init)
    sigma_max, sigma_min = init[0].item(), init[-1].item()
    sigmas = np.linspace(sigma_max * num_train, sigma_min * num_train, num_steps) / num_train
    sigmas = torch.from_numpy(shift * sigmas / (1 + (shift - 1) * sigmas)).to(torch.float32)
    return torch.cat([sigmas, torch.zeros(1)]), sigmas * num_train


def _unipc_flow_grid(num_steps: int, num_train: int, flow_shift: float) -> tuple[torch.Tensor, torch.Tensor]:
    """``UniPCMultistepScheduler(use_flow_sigmas=True, flow_shift, final_sigmas_type="zero").set_timesteps(num_steps)``
    as diffusers 0.33.1 computes it (float64): ``alphas = linspace(1, 1/num_train, num_steps + 1)``,
    ``s = flip(shift (1-alphas) / (1 + (shift-1)(1-alphas)))[:-1]``, timesteps ``int64(s * num_train)`` (truncated),
    sigmas ``fp32(s + [0])``. Later diffusers releases space the grid differently (0.42: ``linspace(1, 1/N, N+1)[:-1]``
    with the first sigma nudged below 1), which moves the protocol's last timestep from 0 to 1."""
    import numpy as np

    alphas = np.linspace(1, 1 / num_train, num_steps + 1)
    s = 1.0 - alphas
    s = np.flip(flow_shift * s / (1 + (flow_shift - 1) * s))[:-1].copy()
    timesteps = torch.from_numpy(s * num_train).to(torch.int64)
    return torch.from_numpy(np.concatenate([s, [0]]).astype(np.float32)), timesteps


#: backbone -> its scheduler's grid from that scheduler's config
_GRIDS = {
    "flux": lambda n, config: _flux_grid(n, config["num_train_timesteps"], config["shift"]),
    "wan": lambda n, config: _unipc_flow_grid(n, config["num_train_timesteps"], config["flow_shift"]),
}


def scheduler_grid(backbone: str, num_steps: int = 1000) -> tuple[torch.Tensor, torch.Tensor]:
    """``(sigmas, timesteps)`` of the official scheduler for ``backbone`` (``flux`` or ``wan``) after
    ``set_timesteps(num_steps)``, computed as diffusers :data:`GRID_DIFFUSERS_VERSION` (the release's pin) computes
    them, whatever diffusers is installed. FLUX: timesteps ``1000, 999, ..., 1`` (fp32); WAN (UniPC flow sigmas): integer
    timesteps ``floor(1000 * sigma)`` on a grid spaced 0.999/1000, so they differ from ``round(1000 * sigma)``."""
    _, config = OFFICIAL_SCHEDULERS[check_key("backbone", backbone, OFFICIAL_SCHEDULERS)]
    return _GRIDS[backbone](num_steps, config)


def nearest_timestep(sigma: torch.Tensor, scheduler_sigmas: torch.Tensor,
                     scheduler_timesteps: torch.Tensor) -> torch.Tensor:
    """The scheduler timestep whose sigma is nearest to each entry of ``sigma`` (1-D, batch size).

    The official sampler feeds the backbone this discrete timestep rather than ``1000 * sigma`` (FLUX then divides
    it by 1000, WAN takes it as is). ``scheduler_sigmas`` may be one longer than ``scheduler_timesteps`` (the
    terminal zero); indices are clamped to the last timestep, as the release does.
    """
    grid = scheduler_sigmas.to(device=sigma.device, dtype=torch.float32)
    index = (grid.view(1, -1) - sigma.float().reshape(-1, 1)).abs().argmin(dim=1)
    index = index.clamp(max=len(scheduler_timesteps) - 1)
    return scheduler_timesteps.to(sigma.device).index_select(0, index)

