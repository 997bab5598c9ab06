"""The method's defaults, from the paper and the authors' release: the bridge's start and end times, the sampler's
steps and seed, the backbones' working geometry and the training recipe.

``ypt`` uses these when a caller gives nothing else. The benchmark pins them for its evaluation protocol
(``benchmarks.protocol`` reads them from here and versions them); nothing else retypes them.
"""
from __future__ import annotations

from ypt.errors import BadInput

#: EBR start noise level (paper Sec. 3.3, Fig. 7) and the bridge's end time
T0 = 0.4
T_MIN = 1e-4
#: deterministic bridge sampler: steps and the seed of its start noise
NUM_INFERENCE_STEPS = 20
SEED = 42
#: the degraded input is encoded with a sample of the VAE posterior drawn from one stream seeded so (the release's
#: global seed, ``inference.py --seed 123``), two draws per sample of a run (the input, then its target)
ENCODE_SEED = 123
#: FLUX works on square images of this side
FLUX_SIZE = 1024
#: WAN clips: the first VIDEO_FRAMES frames at VIDEO_HEIGHT x VIDEO_WIDTH
VIDEO_FRAMES = 33
VIDEO_HEIGHT = 480
VIDEO_WIDTH = 832
#: prompt training (paper Sec. 4.2): AdamW, learning rate, batch size, iterations per backbone
LEARNING_RATE = 5e-4
BATCH_SIZE = 2
TRAIN_ITERATIONS = {"flux": 40_000, "wan": 20_000, "mini": 600}
#: the five degradations the paper trains a prompt for
DEGRADATIONS = ("haze", "rain", "snow", "lowlight", "blur")
#: context lengths of the null-text context and of the paper's prompts (FLUX T5 512 tokens, WAN UMT5 226)
TEXT_LEN = {"flux": 512, "wan": 226, "mini": 64}

#: the miniature backbone (``ypt.backbones.mini``, the built-in demo): its own prompt-training recipe, since at its
#: scale the paper's (lr 5e-4, batch 2, constant) barely moves a prompt in minutes (measured: issue 16), and the
#: side of the square images it works on (its training crops are MINI_CROP x MINI_CROP)
MINI_TRAINING = {"lr": 3e-2, "batch_size": 8, "weight_decay": 0.0, "lr_schedule": "cosine", "warmup": 20,
                 "dtype": "fp32"}
MINI_SIZE = 128
MINI_CROP = 32


def usable_frames(num_frames: int, temporal_compression: int = 4) -> int:
    """Largest ``k * temporal_compression + 1`` not above ``num_frames`` (WAN's VAE needs 4k+1 frames)."""
    if num_frames < 1:
        raise BadInput("a clip needs at least one frame")
    return (num_frames - 1) // temporal_compression * temporal_compression + 1
