"""``ypt_flux``: the paper's method on FLUX (frozen FLUX.1-dev + trained prompts, EBR sampler)."""
from __future__ import annotations

from baselines.base import MethodSpec
from baselines.ypt_method import YPTMethod

SPEC = MethodSpec(
    key="ypt_flux",
    display_name="Ours (FLUX)",
    citation="Rajagopalan, Patel. Your Pre-trained Diffusion Model Secretly Knows Restoration",
    modalities=("image",),
    degradations=("haze", "rain", "snow", "lowlight", "blur"),
    invocation="in-process: ypt.restore.Restorer (FLUX backbone, prompts routed per test set, 20 EBR steps, "
               "seed 42)",
    resolution="inputs bicubic-resized to 1024x1024 (protocol); outputs at 1024x1024",
    weights_note="prompts trained by this suite (ypt.train), or imported; FLUX prompts were not in the "
                 "authors' release",
)

METHOD = YPTMethod(SPEC, backbone="flux")
