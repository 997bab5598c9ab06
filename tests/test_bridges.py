"""Bridges (DESIGN.md "The method"): endpoints, hand-computed DDBM coefficients, sampling grid."""
import math

import pytest
import torch

from ypt.bridges import make_bridge

SHAPES = [(2, 16, 8), (2, 4, 6, 6), (1, 4, 3, 4, 4)]  # packed FLUX, image latent, WAN latent


def _pair(shape, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(shape, generator=g), torch.randn(shape, generator=g), torch.randn(shape, generator=g)


def test_ebr_endpoints():
    x0, y, e = _pair((2, 4, 5, 5))
    ebr = make_bridge("ebr", t0=0.4)
    torch.testing.assert_close(ebr.state(x0, y, torch.full((2,), 0.4), e), 0.6 * y + 0.4 * e)
    torch.testing.assert_close(ebr.state(x0, y, torch.zeros(2), e), x0)
    # midway: (1 - 0.2) * (0.5 x0 + 0.5 y) + 0.2 e
    torch.testing.assert_close(ebr.state(x0, y, torch.full((2,), 0.2), e), 0.8 * (0.5 * x0 + 0.5 * y) + 0.2 * e)
    assert float(ebr.sigma(0.3)) == pytest.approx(0.3)


def test_naive_state_is_anchored_at_y():
    x0, y, e = _pair((2, 3, 4))
    naive = make_bridge("naive", t0=0.4)
    torch.testing.assert_close(naive.state(x0, y, torch.full((2,), 0.25), e), 0.75 * y + 0.25 * e)


def test_ddbm_coefficients_by_hand():
    ddbm = make_bridge("ddbm", t0=0.4)
    t = 0.2  # a = (0.2/0.4)^2 = 0.25, std = 0.2 * sqrt(0.75), s = std / (1 + std)
    a, b, std = ddbm.coefficients(t)
    assert float(a) == pytest.approx(0.25) and float(b) == pytest.approx(0.75)
    std_hand = 0.2 * math.sqrt(0.75)
    assert float(std) == pytest.approx(std_hand)
    assert float(ddbm.sigma(t)) == pytest.approx(std_hand / (1 + std_hand), rel=1e-6)
    x0, y, e = _pair((1, 2, 3))
    s = std_hand / (1 + std_hand)
    expected = (1 - s) * (0.25 * y + 0.75 * x0) + s * e
    torch.testing.assert_close(ddbm.state(x0, y, torch.tensor([t]), e), expected)
    # pinned at both ends: z_T = y, z_0 = x0, no noise
    torch.testing.assert_close(ddbm.state(x0, y, torch.tensor([0.4]), e), y)
    torch.testing.assert_close(ddbm.state(x0, y, torch.tensor([0.0]), e), x0)


@pytest.mark.parametrize(("t", "a", "std", "s"), [
    (0.1, 0.0625, 0.0968246, 0.0882772),  # std = 0.1 * sqrt(15/16)
    (0.3, 0.5625, 0.1984313, 0.1655759),  # std = 0.3 * sqrt(7/16)
])
def test_ddbm_std_and_sigma_hand_values(t, a, std, s):
    got_a, got_b, got_std = make_bridge("ddbm", t0=0.4).coefficients(t)
    assert float(got_a) == pytest.approx(a) and float(got_b) == pytest.approx(1 - a)
    assert float(got_std) == pytest.approx(std, abs=1e-7)
    assert float(make_bridge("ddbm", t0=0.4).sigma(t)) == pytest.approx(s, abs=1e-7)


def test_unknown_bridge_names_close_match():
    with pytest.raises(ValueError, match="Did you mean 'ebr'"):
        make_bridge("ebrr")


def test_sample_t_in_range_and_grid():
    ebr = make_bridge("ebr", t0=0.4, t_min=1e-4)
    t = ebr.sample_t(1000, generator=torch.Generator().manual_seed(0))
    assert t.min() >= 1e-4 and t.max() <= 0.4 and t.shape == (1000,)
    grid = ebr.timesteps(20)
    assert len(grid) == 20 and grid[0] == pytest.approx(0.4) and grid[-1] == pytest.approx(1e-4)
    assert bool((grid[1:] < grid[:-1]).all())
