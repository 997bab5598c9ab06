"""``ypt_wan``: the paper's method on WAN 2.1 (frozen T2V 1.3B + trained prompts, EBR sampler)."""
from __future__ import annotations

from baselines.base import MethodSpec
from baselines.ypt_method import YPTMethod
from benchmarks.protocol import DEGRADATIONS, NUM_INFERENCE_STEPS, SEED, VIDEO_FRAMES, VIDEO_HEIGHT, VIDEO_WIDTH

SPEC = MethodSpec(
    key="ypt_wan",
    display_name="WAN (Ours)",
    citation="Rajagopalan, Patel. Your Pre-trained Diffusion Model Secretly Knows Restoration",
    modalities=("video",),
    degradations=DEGRADATIONS,
    invocation=f"in-process: ypt.restore.Restorer (WAN 2.1 backbone, prompts routed per test set, "
               f"{NUM_INFERENCE_STEPS} EBR steps, seed {SEED})",
    resolution=f"clips: first {VIDEO_FRAMES} frames (fewer: the largest 4k+1) at {VIDEO_HEIGHT}x{VIDEO_WIDTH} "
               "(protocol); outputs at that size",
    weights_note="prompts trained by this suite, or the authors' released wan_*.pt converted by ypt.prompts",
)

METHOD = YPTMethod(SPEC, backbone="wan")
