"""``dcp``: dark-channel-prior dehazing (He, Sun, Tang, CVPR 2009) with guided-filter refinement of the
transmission (He, Sun, Tang, ECCV 2010), in numpy/scipy. A classic, non-learned reference that runs anywhere.

Haze model ``I = J t + A (1 - t)``. Dark channel ``dark(I)(x) = min_{y in patch(x)} min_c I_c(y)``; atmospheric
light ``A`` = the brightest input pixel among the 0.1% haziest (largest dark channel); transmission
``t = 1 - omega * dark(I / A)``, refined by a guided filter on the grey input; ``J = (I - A) / max(t, t0) + A``.
Videos are dehazed frame by frame.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from baselines.base import MethodSpec
from baselines.classic import ClassicMethod

SPEC = MethodSpec(
    key="dcp",
    display_name="Dark channel prior",
    citation="He, Sun, Tang. Single Image Haze Removal Using Dark Channel Prior. CVPR 2009; "
             "guided filter: He, Sun, Tang. Guided Image Filtering. ECCV 2010",
    modalities=("image", "video"),
    degradations=("haze",),
    invocation="in-process (numpy/scipy)",
    resolution="native (per pixel; no resizing)",
)


@dataclass(frozen=True)
class DCPParams:
    """The papers' defaults: 15x15 patches, omega 0.95, t0 0.1, top 0.1% for A, guided filter r=60, eps=1e-4."""

    patch: int = 15
    omega: float = 0.95
    t0: float = 0.1
    top_fraction: float = 0.001
    radius: int = 60
    eps: float = 1e-4


def dark_channel(image: np.ndarray, patch: int) -> np.ndarray:
    from scipy.ndimage import minimum_filter

    return minimum_filter(image.min(axis=2), size=patch, mode="nearest")


def atmospheric_light(image: np.ndarray, dark: np.ndarray, top_fraction: float) -> np.ndarray:
    """The brightest input pixel (sum of RGB) among the ``top_fraction`` largest dark-channel values."""
    flat_dark = dark.reshape(-1)
    n = max(1, int(round(flat_dark.size * top_fraction)))
    candidates = np.argpartition(flat_dark, -n)[-n:]
    pixels = image.reshape(-1, 3)[candidates]
    return pixels[np.argmax(pixels.sum(axis=1))].astype(np.float64)


def guided_filter(guide: np.ndarray, source: np.ndarray, radius: int, eps: float) -> np.ndarray:
    """Grey-guide guided filter: ``q = mean(a) * I + mean(b)`` with ``a = cov(I, p) / (var(I) + eps)``."""
    from scipy.ndimage import uniform_filter

    def box(x: np.ndarray) -> np.ndarray:
        return uniform_filter(x, size=2 * radius + 1, mode="reflect")

    mean_i, mean_p = box(guide), box(source)
    cov_ip = box(guide * source) - mean_i * mean_p
    var_i = box(guide * guide) - mean_i * mean_i
    a = cov_ip / (var_i + eps)
    b = mean_p - a * mean_i
    return box(a) * guide + box(b)


def transmission(image: np.ndarray, airlight: np.ndarray, params: DCPParams) -> np.ndarray:
    raw = 1.0 - params.omega * dark_channel(image / airlight[None, None, :], params.patch)
    grey = image @ np.array([0.299, 0.587, 0.114])
    return guided_filter(grey, raw, params.radius, params.eps)


def dehaze(image: np.ndarray, params: DCPParams = DCPParams(), airlight: np.ndarray | None = None
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Dehaze a float RGB image in [0, 1]; returns (J in [0, 1], refined transmission, atmospheric light)."""
    image = np.asarray(image, dtype=np.float64)
    if airlight is None:
        airlight = atmospheric_light(image, dark_channel(image, params.patch), params.top_fraction)
    airlight = np.maximum(np.asarray(airlight, dtype=np.float64), 1e-6)
    t = transmission(image, airlight, params)
    restored = (image - airlight) / np.maximum(t, params.t0)[..., None] + airlight
    return np.clip(restored, 0.0, 1.0), t, airlight


class DCPMethod(ClassicMethod):
    params_class = DCPParams

    def restore_image(self, image, params):
        return dehaze(image, params)[0]


METHOD = DCPMethod(SPEC)
