"""The evaluation protocol of the paper's official release, versioned.

Every result record carries :data:`PROTOCOL_VERSION`. Change any constant here and the version must change
with it, so that records computed under different protocols are never mixed in one table.
"""
from __future__ import annotations

PROTOCOL_VERSION = "ypt-v1"

#: FLUX inputs are bicubic-resized to this square size before restoration.
FLUX_SIZE = 1024
#: WAN clips: the first VIDEO_FRAMES frames at VIDEO_HEIGHT x VIDEO_WIDTH.
VIDEO_FRAMES = 33
VIDEO_HEIGHT = 480
VIDEO_WIDTH = 832
#: predictions and targets are bicubic-resized to METRIC_SIZE x METRIC_SIZE before every metric.
METRIC_SIZE = 512
#: DOVER scores a lossless video written at this frame rate and METRIC_SIZE.
DOVER_FPS = 15
#: sampler settings
SEED = 42
NUM_INFERENCE_STEPS = 20
T0 = 0.4
T_MIN = 1e-4
#: prompt-training iterations per backbone (paper Sec. 4.2: AdamW, batch 2)
TRAIN_ITERATIONS = {"flux": 40_000, "wan": 20_000}
#: SICE: only inputs with exposure index <= this are evaluated.
SICE_MAX_EXPOSURE_INDEX = 3

#: metric key -> True when lower is better
METRIC_LOWER_BETTER = {
    "psnr": False,
    "ssim": False,
    "lpips": True,
    "dists": True,
    "clipiqa": False,
    "musiq": False,
    "dover": False,
}
METRICS = tuple(METRIC_LOWER_BETTER)
FULL_REFERENCE_METRICS = ("psnr", "ssim", "lpips", "dists")
NO_REFERENCE_IMAGE_METRICS = ("clipiqa", "musiq")
NO_REFERENCE_VIDEO_METRICS = ("clipiqa", "musiq", "dover")

#: the five degradations a prompt is trained for
DEGRADATIONS = ("haze", "rain", "snow", "lowlight", "blur")


def usable_frames(num_frames: int, temporal_compression: int = 4) -> int:
    """Largest ``k * temporal_compression + 1`` not above ``num_frames`` (WAN's VAE needs 4k+1 frames)."""
    if num_frames < 1:
        raise ValueError("a clip needs at least one frame")
    return (num_frames - 1) // temporal_compression * temporal_compression + 1
