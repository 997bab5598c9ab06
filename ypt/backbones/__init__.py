"""Backbone adapters: frozen FLUX.1-dev and WAN 2.1 T2V 1.3B seen as velocity fields over normalised latents.

Lazy: importing this package does not import torch or diffusers.

    from ypt.backbones import load_backbone
    flux = load_backbone("flux")                 # HF cache / local folder, bf16, VAE fp32
    z = flux.encode(pixels)                      # (B, 3, H, W) in [0, 1] -> normalised latent
    x0_hat = flux.predict_x0(z, sigma, prompt)   # z - sigma * v
"""
from __future__ import annotations

import difflib
import importlib
from typing import Any

#: backbone key -> "module:class"
BACKBONES = {
    "flux": "ypt.backbones.flux:FluxBackbone",
    "wan": "ypt.backbones.wan:WanBackbone",
}
#: the model each backbone loads by default
DEFAULT_MODEL_IDS = {
    "flux": "black-forest-labs/FLUX.1-dev",
    "wan": "Wan-AI/Wan2.1-T2V-1.3B-Diffusers",
}


def backbone_class(name: str) -> Any:
    if name not in BACKBONES:
        close = difflib.get_close_matches(name, BACKBONES, n=3)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        raise ValueError(f"unknown backbone {name!r}.{hint} Valid: {', '.join(BACKBONES)}")
    module, attr = BACKBONES[name].split(":")
    return getattr(importlib.import_module(module), attr)


def load_backbone(name: str, path_or_id: str | None = None, **kwargs: Any) -> Any:
    """``<Backbone>.from_pretrained(path_or_id or the paper's model id, **kwargs)``."""
    return backbone_class(name).from_pretrained(path_or_id, **kwargs)
