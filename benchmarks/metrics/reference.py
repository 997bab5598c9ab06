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


class SSIM(Metric):
    def compute(self, pred, target):
        import torch
        from skimage.metrics import structural_similarity

        p, t = _hwc(pred), _hwc(target)
        return torch.tensor([structural_similarity(t[i], p[i], data_range=1, channel_axis=2) for i in range(len(p))],
                            dtype=torch.float64)
