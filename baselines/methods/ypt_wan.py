"""``ypt_wan``: the paper's method on WAN 2.1 (frozen T2V 1.3B + trained prompts, EBR sampler)."""
from __future__ import annotations

from baselines.base import MethodSpec
from baselines.ypt_method import YPTMethod

SPEC = MethodSpec(
    key="ypt_wan",
    display_name="Ours (WAN)",
    citation="Rajagopalan, Patel. Your Pre-trained Diffusion Model Secretly Knows Restoration",
    modalities=("video",),
    degradations=("haze", "rain", "snow", "lowlight", "blur"),
    invocation="in-process: ypt.restore.Restorer (WAN 2.1 backbone, prompts routed per test set, 20 EBR steps, "
               "seed 42)",
    resolution="clips: first 33 frames (fewer: the largest 4k+1) at 480x832 (protocol); outputs at that size",
    weights_note="prompts trained by this suite, or the authors' released wan_*.pt converted by ypt.prompts",
)

METHOD = YPTMethod(SPEC, backbone="wan")
