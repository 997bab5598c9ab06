"""What a perf run builds: FLUX / WAN transformer and VAE configs (full-size and tiny) and the input shapes.

Full size is FLUX.1-dev (12B transformer, the 16-channel FLUX VAE) at 1024x1024 and WAN 2.1 T2V 1.3B at
33x480x832, exactly the configs of the published checkpoints; the models are built from these configs with random
weights (nothing is downloaded) in the run's dtype, directly on the device. Tiny sizes keep every structural
feature (double and single stream blocks, 3D patching, causal video VAE) at a size a CPU runs in seconds.
No torch import at module level: the CLI's ``--help`` and the cost estimate read these tables.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from benchmarks import protocol
from benchmarks.perf import flops as flops_mod
from ypt.backbones.configs import FLUX_DEV_TRANSFORMER, WAN_1_3B_TRANSFORMER

#: diffusers ``AutoencoderKL`` config of FLUX.1-dev (vae/config.json)
FLUX_DEV_VAE = {
    "in_channels": 3, "out_channels": 3, "latent_channels": 16, "block_out_channels": (128, 256, 512, 512),
    "down_block_types": ("DownEncoderBlock2D",) * 4, "up_block_types": ("UpDecoderBlock2D",) * 4,
    "layers_per_block": 2, "norm_num_groups": 32, "sample_size": 1024, "scaling_factor": 0.3611,
    "shift_factor": 0.1159, "use_quant_conv": False, "use_post_quant_conv": False, "mid_block_add_attention": True,
}
#: ``AutoencoderKLWan`` of WAN 2.1 (its class defaults are the released config)
WAN_VAE: dict = {}

FLUX_TINY_TRANSFORMER = {
    "patch_size": 1, "in_channels": 16, "num_layers": 1, "num_single_layers": 2, "attention_head_dim": 16,
    "num_attention_heads": 2, "joint_attention_dim": 32, "pooled_projection_dim": 32, "guidance_embeds": True,
    "axes_dims_rope": (4, 6, 6),
}
FLUX_TINY_VAE = {
    "in_channels": 3, "out_channels": 3, "latent_channels": 4, "block_out_channels": (8, 16, 16, 16),
    "down_block_types": ("DownEncoderBlock2D",) * 4, "up_block_types": ("UpDecoderBlock2D",) * 4,
    "layers_per_block": 1, "norm_num_groups": 4, "sample_size": 128, "scaling_factor": 0.3611,
    "shift_factor": 0.1159, "use_quant_conv": False, "use_post_quant_conv": False,
}
WAN_TINY_TRANSFORMER = {
    "patch_size": (1, 2, 2), "num_attention_heads": 2, "attention_head_dim": 16, "in_channels": 4,
    "out_channels": 4, "text_dim": 32, "freq_dim": 32, "ffn_dim": 64, "num_layers": 2,
    "cross_attn_norm": True, "qk_norm": "rms_norm_across_heads", "eps": 1e-6, "rope_max_seq_len": 64,
}
WAN_TINY_VAE = {
    "base_dim": 8, "z_dim": 4, "dim_mult": [1, 2, 2, 2], "num_res_blocks": 1,
    "temperal_downsample": [False, True, True], "latents_mean": [0.0] * 4, "latents_std": [1.0] * 4,
}

#: learned prompt length = text context tokens: FLUX 512 x 3072, WAN 226 x 1536 (DESIGN.md, paper sizes)
FLUX_TEXT_TOKENS = 512
WAN_TEXT_TOKENS = 226


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


def workload(backbone: str, size: str) -> Workload:
    if (backbone, size) == ("flux", "full"):
        return Workload("flux", "full", FLUX_DEV_TRANSFORMER, FLUX_DEV_VAE,
                        (protocol.FLUX_SIZE, protocol.FLUX_SIZE), FLUX_TEXT_TOKENS)
    if (backbone, size) == ("wan", "full"):
        return Workload("wan", "full", WAN_1_3B_TRANSFORMER, WAN_VAE,
                        (protocol.VIDEO_FRAMES, protocol.VIDEO_HEIGHT, protocol.VIDEO_WIDTH), WAN_TEXT_TOKENS)
    if (backbone, size) == ("flux", "tiny"):
        return Workload("flux", "tiny", FLUX_TINY_TRANSFORMER, FLUX_TINY_VAE, (128, 128), 16)
    if (backbone, size) == ("wan", "tiny"):
        return Workload("wan", "tiny", WAN_TINY_TRANSFORMER, WAN_TINY_VAE, (5, 48, 48), 16)
    raise ValueError(f"unknown workload {backbone!r}/{size!r}: backbones flux, wan; sizes full, tiny")


BACKBONES = ("flux", "wan")
