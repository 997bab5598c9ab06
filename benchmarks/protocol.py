"""The evaluation protocol of the paper's official release, versioned.

Every result record carries :data:`PROTOCOL_VERSION`. Change any constant here and the version must change
with it, so that records computed under different protocols are never mixed in one table.
"""
from __future__ import annotations

from ypt import defaults

PROTOCOL_VERSION = "ypt-v1"

#: the method's defaults (``ypt.defaults``) that the evaluation protocol pins: FLUX inputs are bicubic-resized to
#: FLUX_SIZE x FLUX_SIZE; WAN clips are the first VIDEO_FRAMES frames at VIDEO_HEIGHT x VIDEO_WIDTH; the sampler's
#: seed, steps, T0 and t_min; prompt-training iterations per backbone (paper Sec. 4.2: AdamW, batch 2)
FLUX_SIZE = defaults.FLUX_SIZE
VIDEO_FRAMES = defaults.VIDEO_FRAMES
VIDEO_HEIGHT = defaults.VIDEO_HEIGHT
VIDEO_WIDTH = defaults.VIDEO_WIDTH
SEED = defaults.SEED
NUM_INFERENCE_STEPS = defaults.NUM_INFERENCE_STEPS
T0 = defaults.T0
T_MIN = defaults.T_MIN
TRAIN_ITERATIONS = defaults.TRAIN_ITERATIONS
#: predictions and targets are bicubic-resized to METRIC_SIZE x METRIC_SIZE before every metric.
METRIC_SIZE = 512
#: DOVER scores a lossless video written at this frame rate and METRIC_SIZE.
DOVER_FPS = 15
#: DOVER's views take random crops (the technical fragments' offsets, and the frame sampling of clips of 96 frames
#: or more) from the global torch and numpy generators, which the release never seeds; the suite draws them from
#: this seed, so a clip always gets the same score. Part of DOVER's metric version (benchmarks.metrics.specs).
DOVER_SEED = 0
#: SICE: only inputs with exposure index <= this are evaluated.
SICE_MAX_EXPOSURE_INDEX = 3

#: the metrics, their directions and which sets get which: the metric table, benchmarks.metrics.specs

#: the five degradations a prompt is trained for
DEGRADATIONS = defaults.DEGRADATIONS
usable_frames = defaults.usable_frames
