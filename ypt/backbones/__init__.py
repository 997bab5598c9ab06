"""Backbone adapters: frozen FLUX.1-dev and WAN 2.1 T2V 1.3B seen as velocity fields over normalised latents.

Lazy: importing this package does not import torch or diffusers.

    from ypt.backbones import load_backbone
    flux = load_backbone("flux")                 # HF cache / local folder, bf16, VAE fp32
    z = flux.encode(pixels)                      # (B, 3, H, W) in [0, 1] -> normalised latent
    x0_hat = flux.predict_x0(z, sigma, prompt)   # z - sigma * v

Every adapter implements :class:`ypt.backbones.base.Backbone`; :mod:`ypt.backbones.configs` builds them from the
released configs without weights (shape checks, timings, tests).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ypt.backbones.model_files import MODEL_FILES
from ypt.registry import check_key, import_object

if TYPE_CHECKING:
    from ypt.backbones.base import Backbone

#: backbone key -> "module:class"
BACKBONES = {
    "flux": "ypt.backbones.flux:FluxBackbone",
    "wan": "ypt.backbones.wan:WanBackbone",
    "mini": "ypt.backbones.mini:MiniBackbone",  # the demo's miniature prior (CPU), FLUX's architecture
}
#: backbones made to run on a CPU (the demo's miniature prior): their training and restoration ask for no GPU
CPU_BACKBONES = frozenset({"mini"})
#: the model each backbone loads by default
DEFAULT_MODEL_IDS = {name: files.model_id for name, files in MODEL_FILES.items()}


def backbone_class(name: str) -> type[Backbone]:
    """The adapter class of ``name`` (``flux`` or ``wan``); unknown names raise with the close matches."""
    return import_object(BACKBONES[check_key("backbone", name, BACKBONES)])


def load_backbone(name: str, path_or_id: str | None = None, **kwargs: Any) -> Backbone:
    """``<Backbone>.from_pretrained(path_or_id or the paper's model id, **kwargs)``."""
    return backbone_class(name).from_pretrained(path_or_id, **kwargs)
