"""``ypt_mini``: the paper's method on the miniature prior (the built-in demo): frozen 1.16M-parameter FLUX-architecture
transformer pretrained on bundled photos (``ypt.backbones.mini``), one residual prompt per demo degradation trained by
``ypt.train``, the EBR bridge sampler; a mixed set is restored with two prompts averaged. Runs on a CPU."""
from __future__ import annotations

from baselines.ypt_method import YPTMethod, ypt_spec
from benchmarks.datasets.synthetic import DEMO_DEGRADATIONS
from ypt.defaults import MINI_SIZE

SPEC = ypt_spec(
    "ypt_mini", "miniature FLUX-architecture", "YPT (mini prior)", "image",
    resolution=f"inputs bicubic-resized to {MINI_SIZE}x{MINI_SIZE}; attention in overlapping 32x32-pixel windows",
    weights_note="the packaged miniature prior (ypt/assets/mini_prior.safetensors, python -m ypt.mini_prior); "
                 "prompts trained by the demo (python -m benchmarks.run table2 --demo)",
    degradations=DEMO_DEGRADATIONS,
)

METHOD = YPTMethod(SPEC, backbone="mini", defaults={"image_size": (MINI_SIZE, MINI_SIZE), "dtype": "fp32"},
                   prompt_fix="the demo trains it (make demo, i.e. python -m benchmarks.run table2 --demo, writes "
                              "results/demo/prompts); or set prompts_root = \"results/demo/prompts\" in [{key}]")
