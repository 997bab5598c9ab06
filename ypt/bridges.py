"""Diffusion bridges between a clean latent ``x0`` and a degraded latent ``y`` for a rectified-flow backbone.

Every bridge gives, at bridge time ``t``, a state ``z_t = m_t(x0, y) + s_t * e`` with ``e ~ N(0, I)`` and the
noise level ``s_t`` fed to the backbone (which predicts the velocity, so ``x0_hat = z - s_t * v``). Formulas are
DESIGN.md's "The method" (paper Eq. 1, 5-6 and 9):

* ``naive``: ``z_t = (1-t) * y + t * e``, ``t in [t_min, T0]``: SDEdit-style, the signal stays anchored at ``y``
  (paper Eq. 1). Sampling walks the plain flow path ``(1-t) * x0_hat + t * e_hat`` from the same start.
* ``ddbm``: the VE DDBM bridge ``a_t * y + b_t * x0 + std_t * e`` with ``a_t = t^2/T^2``, ``b_t = 1 - a_t``,
  ``std_t = t * sqrt(1 - t^2/T^2)``, reparameterised for the flow backbone: ``s_t = std_t / (1 + std_t)``,
  ``z_t = (1-s_t) * (a_t * y + b_t * x0) + s_t * e``. Its end time ``T`` is the bridge's ``t0``, so all three bridges
  share one time range ``[t_min, T0]``; it is pinned at both ends (``z_T = y``, no noise).
* ``ebr`` (default): ``z_t = (1-t) * ((1 - t/T0) * x0 + (t/T0) * y) + t * e``, ``t in [t_min, T0]``; at ``T0`` it is
  ``(1-T0) * y + T0 * e`` and at 0 it is ``x0``.

``t`` is a 1-D tensor (one time per batch item) or a scalar; it broadcasts over the latent's other dimensions, so
a bridge never needs to know the layout (packed FLUX ``(B, L, C)``, ``(B, C, H, W)`` or WAN ``(B, C, F, H, W)``).
"""
from __future__ import annotations

from collections.abc import Callable

import torch

from ypt.defaults import T0, T_MIN
from ypt.errors import UsageError
from ypt.registry import check_key

BRIDGES = ("naive", "ddbm", "ebr")


def _expand(t: torch.Tensor | float, like: torch.Tensor) -> torch.Tensor:
    """``t`` as a tensor broadcastable against ``like`` (batch on dim 0)."""
    t = torch.as_tensor(t, dtype=like.dtype if like.is_floating_point() else torch.float32, device=like.device)
    if t.ndim == 0:
        return t
    return t.reshape(-1, *([1] * (like.ndim - 1)))


class Bridge:
    """Common interface; subclasses define :meth:`signal`, :meth:`sigma` and optionally :meth:`sampling_mean`."""

    name = "bridge"

    def __init__(self, t0: float = T0, t_min: float = T_MIN):
        if not 0.0 < t_min < t0 <= 1.0:
            raise UsageError(f"{self.name} bridge needs 0 < t_min < t0 <= 1, got t_min={t_min}, t0={t0}")
        self.t0 = float(t0)
        self.t_min = float(t_min)

    # --- the three quantities every bridge defines -------------------------------------------------------------
    def sigma(self, t: torch.Tensor | float) -> torch.Tensor:
        """Noise level ``s_t`` fed to the backbone."""
        raise NotImplementedError

    def mean(self, x0: torch.Tensor, y: torch.Tensor, t: torch.Tensor | float) -> torch.Tensor:
        """Signal mean ``m_t(x0, y)`` of the training state."""
        raise NotImplementedError

    def state(self, x0: torch.Tensor, y: torch.Tensor, t: torch.Tensor | float, noise: torch.Tensor) -> torch.Tensor:
        """Training state ``z_t = m_t(x0, y) + s_t * noise``."""
        return self.mean(x0, y, t) + _expand(self.sigma(t), x0) * noise

    def sampling_mean(self, x0_hat: torch.Tensor, y: torch.Tensor, t: torch.Tensor | float) -> torch.Tensor:
        """Signal mean of the state the sampler moves to; the training mean for a true bridge."""
        return self.mean(x0_hat, y, t)

    # --- time ---------------------------------------------------------------------------------------------------
    @property
    def t_max(self) -> float:
        return self.t0

    def sample_t(self, batch: int, generator: torch.Generator | None = None,
                 device: torch.device | str | None = None) -> torch.Tensor:
        """Training times, uniform in ``[t_min, t_max]`` (drawn on the generator's device, then moved)."""
        u = torch.rand(batch, generator=generator, dtype=torch.float64,
                       device=generator.device if generator is not None else "cpu")
        return (self.t_min + (self.t_max - self.t_min) * u).to(device=device or "cpu", dtype=torch.float32)

    def timesteps(self, num_inference_steps: int) -> torch.Tensor:
        """Sampling grid ``T0 = t_0 > ... > t_{K-1} = t_min`` (K network evaluations), an fp32 ``linspace`` as the
        release's sampler spaces it (``utils.ebr_custom_multistep_sample``)."""
        if num_inference_steps < 1:
            raise UsageError("num_inference_steps must be >= 1")
        return torch.linspace(self.t_max, self.t_min, num_inference_steps, dtype=torch.float32)

    def start(self, y: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        """Sampler start at ``t_max``; the signal there depends on ``y`` only (x0 drops out of every bridge)."""
        return self.sampling_mean(y, y, self.t_max) + _expand(self.sigma(self.t_max), y) * noise

    def step(self, z: torch.Tensor, x0_hat: torch.Tensor, y: torch.Tensor, t: torch.Tensor, t_next: torch.Tensor,
             noise: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """One sampler move from ``z`` at ``t`` to ``t_next`` (1-D, batch size) given the clean estimate ``x0_hat``:
        the noise is re-estimated as ``e_hat = (z - m_t(x0_hat, y)) / max(s_t, t_min)`` (``noise``, the previous
        estimate, is kept where ``s_t = 0``: the DDBM end point) and ``z' = m_t'(x0_hat, y) + s_t' * e_hat``.
        Returns ``(z', e_hat)``."""
        s = _expand(self.sigma(t).to(z.device, torch.float32), z)
        fresh = (z - self.sampling_mean(x0_hat, y, t)) / s.clamp(min=self.t_min)
        e = torch.where(s > 0, fresh, noise)
        return self.sampling_mean(x0_hat, y, t_next) + _expand(self.sigma(t_next).to(z.device, torch.float32), z) * e, e

    def config(self) -> dict:
        return {"bridge": self.name, "t0": self.t0, "t_min": self.t_min}

    def __repr__(self) -> str:
        return f"{type(self).__name__}(t0={self.t0}, t_min={self.t_min})"


class NaiveBridge(Bridge):
    """SDEdit-style states anchored at ``y``: ``(1-t) * y + t * e`` (paper Eq. 1)."""

    name = "naive"

    def sigma(self, t):
        return torch.as_tensor(t, dtype=torch.float32)

    def mean(self, x0, y, t):
        return (1 - _expand(t, y)) * y

    def sampling_mean(self, x0_hat, y, t):
        # the sampler walks the backbone's own flow path from the noisy degraded start (DDIM on the flow)
        return (1 - _expand(t, x0_hat)) * x0_hat


class DDBMBridge(Bridge):
    """VE DDBM bridge reparameterised for a flow backbone (paper Eq. 5-6), end time ``T = t0``."""

    name = "ddbm"

    def coefficients(self, t):
        """``(a_t, b_t, std_t)`` of the VE bridge."""
        t = torch.as_tensor(t, dtype=torch.float64)
        a = (t / self.t0) ** 2
        b = 1 - a
        std = t * torch.sqrt(torch.clamp(1 - a, min=0.0))
        return a, b, std

    def sigma(self, t):
        _, _, std = self.coefficients(t)
        return (std / (1 + std)).to(torch.float32)

    def mean(self, x0, y, t):
        a, b, _ = self.coefficients(t)
        s = self.sigma(t)
        a, b, s = (_expand(v.to(torch.float32), x0) for v in (a, b, s))
        return (1 - s) * (a * y + b * x0)


class EBRBridge(Bridge):
    """Energy-oriented bridge (paper Eq. 9): monotone noisy-degraded -> clean.

    Its sampler start and step are the generic ones written in the release's operation order and dtypes
    (``utils.ebr_custom_multistep_sample`` and ``EBRCustomBridge``: fp32 coefficients ``A = (1-t) t/T0``, ``B = t``,
    ``C = 1 - A``), so that a sample is bit-identical to the release's, not only equal in exact arithmetic."""

    name = "ebr"

    def sigma(self, t):
        return torch.as_tensor(t, dtype=torch.float32)

    def mean(self, x0, y, t):
        t = _expand(t, x0)
        lam = t / self.t0
        return (1 - t) * ((1 - lam) * x0 + lam * y)

    def start(self, y: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        """``(1 - T0) * y + T0 * e`` (the release's ``x = (1.0 - T0) * Y_latents + T0 * XT0``)."""
        return (1.0 - self.t0) * y + self.t0 * noise

    def _coefficients(self, t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(lam, alpha, beta) = (t/T0, 1-t, t)``, each clamped to [0, 1], in fp32 (``EBRCustomBridge._coeffs``)."""
        t = t.to(torch.float32)
        t0 = torch.tensor(self.t0, device=t.device, dtype=torch.float32)
        return (t / t0).clamp(0.0, 1.0), (1.0 - t).clamp(0.0, 1.0), t.clamp(0.0, 1.0)

    def step(self, z, x0_hat, y, t, t_next, noise):
        """The generic step in the release's arithmetic: ``e_hat = (z - (C - B) x0_hat - A y) / max(B, t_min)``,
        then ``z' = alpha' ((1 - lam') x0_hat + lam' y) + beta' e_hat`` at ``t_next``."""
        lam, alpha, beta = self._coefficients(t)
        a = alpha * lam
        c = 1.0 - a
        e = (z - _expand(c - beta, z) * x0_hat - _expand(a, z) * y) / _expand(
            torch.clamp(beta, min=max(self.t_min, 1e-6)), z)
        lam, alpha, beta = self._coefficients(t_next)
        mixed = _expand(1.0 - lam, x0_hat) * x0_hat + _expand(lam, x0_hat) * y
        return _expand(alpha, z) * mixed + _expand(beta, z) * e, e


_FACTORIES: dict[str, Callable[..., Bridge]] = {"naive": NaiveBridge, "ddbm": DDBMBridge, "ebr": EBRBridge}


def make_bridge(name: str, t0: float = T0, t_min: float = T_MIN) -> Bridge:
    """The bridge ``name`` (``naive``, ``ddbm`` or ``ebr``) with start time ``t0`` and end time ``t_min``."""
    return _FACTORIES[check_key("bridge", name, BRIDGES)](t0=t0, t_min=t_min)
