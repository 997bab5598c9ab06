"""``ypt_flux``: the paper's method on FLUX (frozen FLUX.1-dev + trained prompts, EBR sampler)."""
from __future__ import annotations

from baselines.ypt_method import YPTMethod, ypt_spec
from benchmarks.protocol import FLUX_SIZE

SPEC = ypt_spec(
    "ypt_flux", "FLUX", "FLUX (Ours)", "image",
    resolution=f"inputs bicubic-resized to {FLUX_SIZE}x{FLUX_SIZE} (protocol); outputs at {FLUX_SIZE}x{FLUX_SIZE}",
    weights_note="prompts trained by this suite (ypt.train), or imported (python -m ypt.prompts import-official)",
)

METHOD = YPTMethod(SPEC, backbone="flux")
