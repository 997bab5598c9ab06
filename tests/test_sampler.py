"""Samplers (DESIGN.md "Sampler"): a perfect clean estimate lands on x0 for every bridge, seeded starts, mixed
prompts average velocities, the flow-Euler control, clamping."""
import pytest
import torch

from ypt.bridges import make_bridge
from ypt.sampler import sample_bridge

SHAPES = [(2, 16, 8), (2, 4, 6, 6), (1, 4, 3, 4, 4)]  # packed FLUX, image latent, WAN latent


def _pair(shape, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(shape, generator=g), torch.randn(shape, generator=g), torch.randn(shape, generator=g)


@pytest.mark.parametrize("name", ["naive", "ddbm", "ebr"])
@pytest.mark.parametrize("shape", SHAPES)
def test_oracle_sampler_lands_on_x0_and_stays_on_the_bridge(name, shape):
    x0, y, e = _pair(shape, seed=3)
    bridge = make_bridge(name, t0=0.4)
    seen = []

    def oracle(z, t):
        seen.append((t.clone(), z.clone()))
        return x0

    out = sample_bridge(oracle, y, bridge, num_inference_steps=20, noise=e)
    torch.testing.assert_close(out, x0, rtol=0, atol=1e-6)
    assert len(seen) == 20
    # every visited state is the sampling-path state of (x0, y) with the start noise
    start = {"ebr": 0.6 * y + 0.4 * e, "naive": 0.6 * y + 0.4 * e, "ddbm": y}[name]  # T0 = 0.4
    torch.testing.assert_close(seen[0][1], start, rtol=1e-6, atol=1e-6)
    if name == "naive":
        return  # naive's start is anchored at y, not on the clean path: the trajectory mismatch of paper Sec. 3.1
    for t, z in seen[1:]:  # the training state of (x0, y) at t with the start noise (pinned in test_bridges)
        torch.testing.assert_close(z, bridge.state(x0, y, t, e), rtol=1e-5, atol=1e-5)


def test_seeded_start_is_reproducible_and_starts_at_noisy_degraded():
    _, y, _ = _pair((2, 4, 4, 4))
    ebr = make_bridge("ebr", t0=0.4)
    starts = []
    sample_bridge(lambda z, t: z * 0, y, ebr, num_inference_steps=2,
                  generator=torch.Generator().manual_seed(42), callback=lambda i, t, z: starts.append(z) if i == 0 else None)
    e = torch.randn(y.shape, generator=torch.Generator().manual_seed(42))
    torch.testing.assert_close(starts[0], 0.6 * y + 0.4 * e)


def test_clip_denoised_clamps_every_estimate():
    x0, y, e = _pair((1, 2, 3, 3), seed=11)
    ebr = make_bridge("ebr")
    clamped = (3 * x0).clamp(-1, 1)
    for clip, estimate in ((1.0, clamped), (None, 3 * x0)):
        seen = []

        def oracle(z, t):
            seen.append((t.clone(), z.clone()))
            return 3 * x0

        out = sample_bridge(oracle, y, ebr, num_inference_steps=4, noise=e, clip_denoised=clip)
        torch.testing.assert_close(out, estimate)
        # every later state was built from the (un)clamped estimate, not only the returned one
        for t, z in seen[1:]:
            torch.testing.assert_close(z, ebr.state(estimate, y, t, e), rtol=1e-5, atol=1e-5)


def test_nearest_timestep_matches_the_official_schedulers():
    from ypt.sampler import nearest_timestep, scheduler_grid

    sigma = torch.tensor([0.4, 0.25, 1e-4, 0.0004, 1.0])
    flux_sigmas, flux_steps = scheduler_grid("flux")
    # FLUX grid: sigmas 1, 0.999, ..., 0.001 (+ terminal 0), timesteps 1000 * sigma; 1e-4 and 0 clamp to the last
    assert flux_steps.tolist()[:2] == [1000.0, 999.0] and len(flux_sigmas) == 1001
    assert nearest_timestep(sigma, flux_sigmas, flux_steps).tolist() == [400.0, 250.0, 1.0, 1.0, 1000.0]
    # WAN UniPC flow grid is spaced 0.999/1000 and its integer timesteps truncate: 0.4 -> sigma 0.3996 -> 399; as
    # diffusers 0.33.1 computes it (the release's pin) its last timestep is 0 (1 under diffusers 0.42)
    wan_sigmas, wan_steps = scheduler_grid("wan")
    assert wan_steps.dtype == torch.int64
    assert nearest_timestep(sigma, wan_sigmas, wan_steps).tolist() == [399, 249, 0, 0, 999]
    with pytest.raises(ValueError, match="unknown backbone"):
        scheduler_grid("sdxl")


def test_clip_denoised_is_off_by_default():
    x0, y, e = _pair((1, 2, 3, 3), seed=12)
    out = sample_bridge(lambda z, t: 3 * x0, y, make_bridge("ebr"), num_inference_steps=3, noise=e)
    torch.testing.assert_close(out, 3 * x0)
