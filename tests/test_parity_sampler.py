"""Release parity, the sampler alone: the release's ``utils.ebr_custom_multistep_sample`` (its EBR bridge, fp32 time
grid, start and step) against :func:`ypt.sampler.sample_bridge` with the EBR bridge, the same deterministic stand-in
predictor on both sides (no network), so only the sampler's arithmetic is compared. Bit-exact: the same operations
in the same order (the same math in another order differed by 3.9e-7)."""
from __future__ import annotations

import pytest
import torch
from release_oracle import maxdiff

from ypt.bridges import make_bridge
from ypt.sampler import sample_bridge


def _stand_in(z: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    return torch.tanh(z) * (1 - t.view(-1, *([1] * (z.ndim - 1)))) + 0.1 * z


@pytest.mark.parametrize("shape", [(2, 16, 8, 8), (1, 4, 3, 4, 4)], ids=["flux", "wan"])
def test_ebr_sampler_is_the_releases(release, shape):
    y = torch.randn(shape, generator=torch.Generator().manual_seed(1))
    seen = {"release": [], "suite": []}

    def recorded(side):
        def predict(z, t):
            seen[side].append((t.clone(), z.clone()))
            return _stand_in(z, t)
        return predict

    from ypt.sampler import scheduler_grid

    class Grid:  # the release's sampler reads only sigmas / timesteps of its scheduler (for the t_idx it drops here)
        sigmas, timesteps = scheduler_grid("flux")

    bridge = release.utils.EBRCustomBridge(T0=0.4, sigma_max=1.0, sigma_min=1e-4)
    theirs = release.utils.ebr_custom_multistep_sample(bridge=bridge, denoiser=recorded("release"), scheduler=Grid,
                                                       Y_latents=y, steps=20, T0=0.4, t_min=1e-4)
    ours = sample_bridge(recorded("suite"), y, make_bridge("ebr", 0.4, 1e-4), num_inference_steps=20,
                         generator=torch.Generator().manual_seed(42))
    assert len(seen["suite"]) == len(seen["release"]) == 20
    for (t_r, z_r), (t_s, z_s) in zip(seen["release"], seen["suite"]):
        assert torch.equal(t_r, t_s) and maxdiff(z_r, z_s) == 0
    assert maxdiff(theirs, ours) == 0
