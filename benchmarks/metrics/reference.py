"""PSNR and SSIM exactly as the official evaluation computes them: scikit-image on RGB in [0, 1], data range 1,
SSIM over the channel axis (not pyiqa's default of SSIM on the Y channel: a test pins the difference)."""
from __future__ import annotations

from benchmarks.metrics.base import Metric


def _hwc(images):
    import numpy as np

    return np.clip(images.detach().to("cpu", dtype=images.dtype).numpy().transpose(0, 2, 3, 1), 0.0, 1.0)


class PSNR(Metric):
    def compute(self, pred, target):
        import torch
        from skimage.metrics import peak_signal_noise_ratio

        p, t = _hwc(pred), _hwc(target)
        return torch.tensor([peak_signal_noise_ratio(t[i], p[i], data_range=1) for i in range(len(p))],
                            dtype=torch.float64)


def ssim_torch(pred, target, data_range: float = 1.0, win_size: int = 7):
    """scikit-image's ``structural_similarity(channel_axis=...)`` with its defaults (7x7 uniform window, sample
    covariance, K1 0.01, K2 0.03, borders cropped), batched in torch: (N, C, H, W) -> (N,). Used on CUDA, where it
    runs batched on the GPU; the tests hold it to skimage within 1e-6 on CPU. The convolutions run without TF32
    (cuDNN's default would round their inputs to 10 mantissa bits)."""
    import torch
    import torch.nn.functional as F

    p, t = pred.clamp(0, 1), target.clamp(0, 1)
    channels = p.shape[1]
    kernel = torch.full((channels, 1, win_size, win_size), 1.0 / win_size ** 2, dtype=p.dtype, device=p.device)

    def box(x):  # valid convolution == skimage's filtered map with its (win_size - 1) // 2 border cropped
        with torch.backends.cudnn.flags(enabled=torch.backends.cudnn.enabled, allow_tf32=False):
            return F.conv2d(x, kernel, groups=channels)

    ux, uy = box(p), box(t)
    n = win_size * win_size
    cov_norm = n / (n - 1)
    vx = cov_norm * (box(p * p) - ux * ux)
    vy = cov_norm * (box(t * t) - uy * uy)
    vxy = cov_norm * (box(p * t) - ux * uy)
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    s = ((2 * ux * uy + c1) * (2 * vxy + c2)) / ((ux * ux + uy * uy + c1) * (vx + vy + c2))
    return s.mean(dim=(1, 2, 3)).to(torch.float64)


class SSIM(Metric):
    """scikit-image on the CPU (the reference); its batched torch port on CUDA."""

    def compute(self, pred, target):
        import torch
        from skimage.metrics import structural_similarity

        if str(self.device).startswith("cuda"):
            return ssim_torch(pred.to(self.device, torch.float32), target.to(self.device, torch.float32)).cpu()

        p, t = _hwc(pred), _hwc(target)
        return torch.tensor([structural_similarity(t[i], p[i], data_range=1, channel_axis=2) for i in range(len(p))],
                            dtype=torch.float64)
