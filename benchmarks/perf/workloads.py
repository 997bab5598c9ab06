"""What a perf run builds: one backbone at one size (the adapter :mod:`ypt.backbones.configs` builds from the
released or tiny configs), the input shape of one item, the context length and the batch.

Full size is FLUX.1-dev (12B transformer, the 16-channel FLUX VAE) at 1024x1024 and WAN 2.1 T2V 1.3B at
33x480x832, exactly the configs of the published checkpoints, built with random weights (nothing is downloaded) in
the run's dtype, directly on the device. Tiny sizes keep every structural feature at a size a CPU runs in seconds.
No torch import at module level: the CLI's ``--help`` and the cost estimate read these tables.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from benchmarks import protocol
from benchmarks.perf import flops as flops_mod
from ypt.backbones.configs import configs

if TYPE_CHECKING:
    import torch
    from ypt.backbones.base import Backbone
    from ypt.prompts.modules import PromptModule

#: pixels of one item: FLUX (H, W); WAN (frames, H, W)
PIXELS = {
    ("flux", "full"): (protocol.FLUX_SIZE, protocol.FLUX_SIZE),
    ("wan", "full"): (protocol.VIDEO_FRAMES, protocol.VIDEO_HEIGHT, protocol.VIDEO_WIDTH),
    ("flux", "tiny"): (128, 128),
    ("wan", "tiny"): (5, 48, 48),
}


@dataclass(frozen=True)
class Workload:
    """One backbone at one size: model configs, pixel shape of one item, context length, batch."""

    backbone: str  # "flux" or "wan"
    size: str  # "full" or "tiny"
    transformer: dict
    vae: dict
    pixels: tuple[int, ...]  # FLUX (H, W); WAN (frames, H, W)
    text_tokens: int
    batch: int = 2
    #: WAN VAE compression (temporal, spatial); FLUX VAE spatial factor 8 and 2x2 packing
    notes: dict = field(default_factory=dict)

    @property
    def latent_channels(self) -> int:
        if self.backbone == "flux":
            return self.vae["latent_channels"]
        return self.vae.get("z_dim", 16)

    @property
    def latent_shape(self) -> tuple[int, ...]:
        """Latent of one item: FLUX (C, H/8, W/8); WAN (C, 1 + (F-1)/4, H/8, W/8)."""
        if self.backbone == "flux":
            h, w = self.pixels
            return (self.latent_channels, h // 8, w // 8)
        f, h, w = flops_mod.wan_latent_shape(*self.pixels)
        return (self.latent_channels, f, h, w)

    def flops(self, cross_attention_passes: int = 2) -> flops_mod.FlopBreakdown:
        """Per-item forward FLOPs; WAN's residual prompt runs cross-attention twice (``passes = 2``)."""
        if self.backbone == "flux":
            h, w = self.pixels
            return flops_mod.flux_flops(self.transformer, flops_mod.flux_tokens(h, w), self.text_tokens)
        _, f, h, w = self.latent_shape
        return flops_mod.wan_flops(self.transformer, f, h, w, self.text_tokens, cross_attention_passes)

    def describe(self) -> dict:
        return {"backbone": self.backbone, "size": self.size, "batch": self.batch, "pixels": list(self.pixels),
                "latent": list(self.latent_shape), "text_tokens": self.text_tokens}

    def build(self, device: str, dtype: torch.dtype) -> Backbone:
        """The real ``ypt.backbones`` adapter of this workload with random weights, built on ``device`` (transformer
        in ``dtype``, VAE in fp32) and a stand-in null-text context (no text encoders are run)."""
        from ypt.backbones.configs import build_backbone

        return build_backbone(self.backbone, self.size, device=device, dtype=dtype, text_len=self.text_tokens)

    def prompt(self, backbone: Backbone, seed: int = 0) -> PromptModule:
        """A fresh residual prompt (``ypt.prompts``; fp32 parameters, as training keeps them) for ``backbone``."""
        import torch

        from ypt.prompts.modules import make_prompt

        prompt = make_prompt("residual", backbone, generator=torch.Generator().manual_seed(seed))
        # made on the CPU; moved only where it runs elsewhere (moving a fake-tensor module would fail)
        return prompt if backbone.device.type == "cpu" else prompt.to(backbone.device)


def workload(backbone: str, size: str) -> Workload:
    transformer, vae, text_len = configs(backbone, size)
    return Workload(backbone, size, transformer, vae, PIXELS[(backbone, size)], text_len)


def implementation(obj: object) -> str:
    """``module.Class`` of the object a row measures (the adapter, the prompt, the trainer)."""
    return f"{type(obj).__module__}.{type(obj).__name__}"


BACKBONES = ("flux", "wan")
