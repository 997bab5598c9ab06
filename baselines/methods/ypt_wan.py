"""``ypt_wan``: the paper's method on WAN 2.1 (frozen T2V 1.3B + trained prompts, EBR sampler)."""
from __future__ import annotations

from baselines.ypt_method import YPTMethod, ypt_spec
from benchmarks.protocol import VIDEO_FRAMES, VIDEO_HEIGHT, VIDEO_WIDTH

SPEC = ypt_spec(
    "ypt_wan", "WAN 2.1", "WAN (Ours)", "video",
    resolution=f"clips: first {VIDEO_FRAMES} frames (fewer: the largest 4k+1) at {VIDEO_HEIGHT}x{VIDEO_WIDTH} "
               "(protocol); outputs at that size",
    weights_note="prompts trained by this suite, or the authors' released wan_*.pt converted by ypt.prompts",
)

METHOD = YPTMethod(SPEC, backbone="wan")
