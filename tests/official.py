"""Where the authors' release lies for the tests (``../shared/reference/ypt-official`` beside the checkout, or
``$YPT_SHARED/reference/ypt-official``): read in place, never copied into the repository."""
from __future__ import annotations

import os
from pathlib import Path

SHARED = Path(os.environ.get("YPT_SHARED") or Path(__file__).resolve().parents[2] / "shared")
OFFICIAL = SHARED / "reference" / "ypt-official"


def write_official_checkpoint(path, backend: str, text_len: int, dim: int, n_gates: int, seed: int = 1):
    """A prompt checkpoint of exactly the release's structure (``inference.py`` loads it; ``model_prompts.py`` saves
    it): ``{backend, deep_prompt_bank: OrderedDict(prompts=(1, L, D)), alphas: [n scalar fp32 tensors]}``, with
    random non-zero values (FLUX.1-dev: L 512, D 3072, 19 + 38 gates; WAN 2.1 1.3B: 226, 1536, 30)."""
    from collections import OrderedDict

    import torch

    generator = torch.Generator().manual_seed(seed)
    payload = {
        "backend": backend,
        "deep_prompt_bank": OrderedDict(prompts=torch.randn(1, text_len, dim, generator=generator) * 0.5),
        "alphas": [torch.tensor(float(v)) for v in torch.rand(n_gates, generator=generator) * 0.6 - 0.3],
    }
    torch.save(payload, str(path))
    return Path(path)
