"""The evaluation protocol of the paper's official release, versioned.

Every result record carries its protocol: :data:`PROTOCOL_VERSION`, followed by the suite's own ways a run chose
instead of the release's (:func:`protocol_tag`, e.g. ``ypt-v2+posterior=mode``). Change any constant here and the
version must change with it, so that records computed under different protocols are never mixed in one table.

Versions:

* ``ypt-v1``: the suite's first protocol (posterior mode, bf16 text encoders beside an fp16 backbone, fp32 VAE
  weights, the installed diffusers' scheduler grid, metrics on the saved 8-bit PNGs, DOVER on the PNG frames,
  folder walks).
* ``ypt-v2``: the release's own behaviour: the degraded input encoded with a posterior sample of the release's
  seeded stream (seed ``ENCODE_SEED``, in each set's evaluation order); text encoders and the VAE's weights in the
  backbone's dtype (the VAE then upcast to fp32); the scheduler grids of diffusers 0.33.1 whatever is installed;
  metrics on the float decode (the "metric view" written beside each output) with the release's target round trip;
  the WAN frames saved as the release saves them (8 bits by truncation, PIL JPEG) and DOVER's clip made as its
  ``frames_to_vid.py`` makes it; the authors' manifests as the sample lists when they are found.
"""
from __future__ import annotations

from typing import Any

from ypt import defaults

PROTOCOL_VERSION = "ypt-v2"
#: the posterior draws' seed (the release's global seed) and, per sample, where the sampler starts: SEED
ENCODE_SEED = defaults.ENCODE_SEED

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

#: the suite's own ways, kept as settings of our methods (``[ypt_flux]`` / ``[ypt_wan]``): setting -> what the
#: release does. ``None``: the release uses the run's ``dtype`` (default fp16) for it.
RELEASE_WAYS: dict[str, Any] = {
    "posterior": "sample",      # "mode": the posterior's mode, independent of the run order
    "text_dtype": None,         # e.g. "bf16" beside an fp16 backbone (T5 overflows less)
    "vae_load_dtype": None,     # "fp32": the VAE's full-precision weights
}
DEFAULT_DTYPE = "fp16"


def protocol_tag(settings: dict[str, Any] | None = None) -> str:
    """The protocol a run with ``settings`` follows: :data:`PROTOCOL_VERSION`, plus ``+name=value,...`` for every
    way of :data:`RELEASE_WAYS` it takes other than the release's (written into each of its records)."""
    settings = settings or {}
    own = {}
    for name, release in RELEASE_WAYS.items():
        value = settings.get(name)
        if value is None:
            continue
        if value != (release if release is not None else settings.get("dtype", DEFAULT_DTYPE)):
            own[name] = value
    return PROTOCOL_VERSION + ("+" + ",".join(f"{k}={v}" for k, v in sorted(own.items())) if own else "")
