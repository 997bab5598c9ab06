"""``ypt_flux``: the paper's method on FLUX (frozen FLUX.1-dev + trained prompts, EBR sampler)."""
from __future__ import annotations

from baselines.base import MethodSpec
from baselines.ypt_method import YPTMethod
from benchmarks.protocol import DEGRADATIONS, FLUX_SIZE, NUM_INFERENCE_STEPS, SEED

SPEC = MethodSpec(
    key="ypt_flux",
    display_name="FLUX (Ours)",
    citation="Rajagopalan, Patel. Your Pre-trained Diffusion Model Secretly Knows Restoration",
    modalities=("image",),
    degradations=DEGRADATIONS,
    invocation=f"in-process: ypt.restore.Restorer (FLUX backbone, prompts routed per test set, "
               f"{NUM_INFERENCE_STEPS} EBR steps, seed {SEED})",
    resolution=f"inputs bicubic-resized to {FLUX_SIZE}x{FLUX_SIZE} (protocol); outputs at {FLUX_SIZE}x{FLUX_SIZE}",
    weights_note="prompts trained by this suite (ypt.train), or imported; FLUX prompts were not in the "
                 "authors' release",
)

METHOD = YPTMethod(SPEC, backbone="flux")
