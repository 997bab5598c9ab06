"""``lime``: LIME low-light enhancement (Guo, Li, Ling, IEEE TIP 2017), in numpy/scipy. A classic, non-learned
reference for the low-light sets.

Retinex model ``L = R * T``. Initial illumination ``T_hat = max_c L_c``; refined by the paper's sped-up solver
(weighting strategy II): ``(I + alpha * sum_d D_d^T diag(W_d / (|D_d T_hat| + eps)) D_d) t = t_hat`` with
``W_d = 1 / (|D_d T_hat| + eps)`` over horizontal and vertical forward differences, solved exactly (sparse
direct solver); output ``R = L / T^gamma``. The paper's optional BM3D denoising step is not applied. Images above
``max_pixels`` (1 MP) get their illumination solved on a downscaled map and bilinearly upscaled (the map is smooth;
a direct solve at 24 MP would not fit). Videos are enhanced frame by frame.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from baselines.base import MethodSpec
from baselines.classic import ClassicMethod

SPEC = MethodSpec(
    key="lime",
    display_name="LIME",
    citation="Guo, Li, Ling. LIME: Low-Light Image Enhancement via Illumination Map Estimation. IEEE TIP 2017",
    modalities=("image", "video"),
    degradations=("lowlight",),
    invocation="in-process (numpy/scipy)",
    resolution="native (per pixel; no resizing)",
)


@dataclass(frozen=True)
class LIMEParams:
    alpha: float = 0.15
    gamma: float = 0.8
    eps: float = 1e-3
    floor: float = 1e-3  # smallest illumination divided by
    max_pixels: int = 1_000_000


def _difference_operators(h: int, w: int):
    """Forward differences (zero at the far border) along x and y, as sparse (h*w, h*w) matrices."""
    import scipy.sparse as sp

    def forward(n: int):
        main = -np.ones(n)
        main[-1] = 0.0
        return sp.diags([main, np.ones(n - 1)], [0, 1], shape=(n, n), format="csr")

    dx = sp.kron(sp.identity(h), forward(w), format="csr")
    dy = sp.kron(forward(h), sp.identity(w), format="csr")
    return dx, dy


def refine_illumination(t_hat: np.ndarray, params: LIMEParams) -> np.ndarray:
    import scipy.sparse as sp
    from scipy.sparse.linalg import spsolve

    h, w = t_hat.shape
    flat = t_hat.reshape(-1).astype(np.float64)
    dx, dy = _difference_operators(h, w)
    system = sp.identity(h * w, format="csr")
    for d in (dx, dy):
        grad = np.abs(d @ flat) + params.eps
        system = system + params.alpha * (d.T @ sp.diags(1.0 / grad ** 2) @ d)
    return np.asarray(spsolve(system.tocsc(), flat)).reshape(h, w)


def illumination(image: np.ndarray, params: LIMEParams) -> np.ndarray:
    """The refined illumination map of an RGB image (solved at most at ``max_pixels``)."""
    t_hat = image.max(axis=2)
    h, w = t_hat.shape
    if h * w <= params.max_pixels:
        return refine_illumination(t_hat, params)
    from skimage.transform import resize

    scale = (params.max_pixels / (h * w)) ** 0.5
    small = resize(t_hat, (max(2, int(h * scale)), max(2, int(w * scale))), order=1, anti_aliasing=True)
    return resize(refine_illumination(small, params), (h, w), order=1)


def enhance(image: np.ndarray, params: LIMEParams = LIMEParams()) -> tuple[np.ndarray, np.ndarray]:
    """Enhance a float RGB image in [0, 1]; returns (R in [0, 1], refined illumination T)."""
    image = np.asarray(image, dtype=np.float64)
    t = np.clip(illumination(image, params), params.floor, 1.0)
    return np.clip(image / (t ** params.gamma)[..., None], 0.0, 1.0), t


class LIMEMethod(ClassicMethod):
    params_class = LIMEParams

    def restore_image(self, image, params):
        return enhance(image, params)[0]


METHOD = LIMEMethod(SPEC)
