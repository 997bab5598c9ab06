"""The paper's backbones built from config, with random weights and no download: the released transformer and VAE
configs (diffusers ``transformer/config.json`` and ``vae/config.json``) and tiny ones that keep every structural
feature (double and single stream blocks, 3D patching, causal video VAE) at a size a CPU runs in seconds.

Full size on the ``meta`` device checks shapes (prompt files against WAN 2.1 1.3B); full size on a GPU measures
speed and memory (``benchmarks.perf``); tiny adapters run the method end to end on a CPU (tests). An adapter built
here has no text encoders: its null-text context is a seeded random stand-in of the encoders' output shapes.
"""
from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from ypt.defaults import TEXT_LEN

if TYPE_CHECKING:
    import torch

    from ypt.backbones.base import Backbone

#: ``FluxTransformer2DModel`` of black-forest-labs/FLUX.1-dev
FLUX_DEV_TRANSFORMER = {
    "patch_size": 1, "in_channels": 64, "num_layers": 19, "num_single_layers": 38, "attention_head_dim": 128,
    "num_attention_heads": 24, "joint_attention_dim": 4096, "pooled_projection_dim": 768, "guidance_embeds": True,
    "axes_dims_rope": (16, 56, 56),
}
#: ``AutoencoderKL`` of black-forest-labs/FLUX.1-dev
FLUX_DEV_VAE = {
    "in_channels": 3, "out_channels": 3, "latent_channels": 16, "block_out_channels": (128, 256, 512, 512),
    "down_block_types": ("DownEncoderBlock2D",) * 4, "up_block_types": ("UpDecoderBlock2D",) * 4,
    "layers_per_block": 2, "norm_num_groups": 32, "sample_size": 1024, "scaling_factor": 0.3611,
    "shift_factor": 0.1159, "use_quant_conv": False, "use_post_quant_conv": False, "mid_block_add_attention": True,
}
#: ``WanTransformer3DModel`` of Wan-AI/Wan2.1-T2V-1.3B-Diffusers
WAN_1_3B_TRANSFORMER = {
    "patch_size": (1, 2, 2), "num_attention_heads": 12, "attention_head_dim": 128, "in_channels": 16,
    "out_channels": 16, "text_dim": 4096, "freq_dim": 256, "ffn_dim": 8960, "num_layers": 30,
    "cross_attn_norm": True, "qk_norm": "rms_norm_across_heads", "eps": 1e-6, "rope_max_seq_len": 1024,
}
#: ``AutoencoderKLWan`` of WAN 2.1 (its class defaults are the released config)
WAN_VAE: dict[str, Any] = {}

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
#: context length of the tiny models
TINY_TEXT_LEN = 16

SIZES = ("full", "tiny")
#: (backbone, size) -> (transformer config, VAE config, context length)
CONFIGS = {
    ("flux", "full"): (FLUX_DEV_TRANSFORMER, FLUX_DEV_VAE, TEXT_LEN["flux"]),
    ("wan", "full"): (WAN_1_3B_TRANSFORMER, WAN_VAE, TEXT_LEN["wan"]),
    ("flux", "tiny"): (FLUX_TINY_TRANSFORMER, FLUX_TINY_VAE, TINY_TEXT_LEN),
    ("wan", "tiny"): (WAN_TINY_TRANSFORMER, WAN_TINY_VAE, TINY_TEXT_LEN),
}
#: diffusers classes of each backbone's transformer and VAE
CLASSES = {"flux": ("FluxTransformer2DModel", "AutoencoderKL"), "wan": ("WanTransformer3DModel", "AutoencoderKLWan")}


def configs(backbone: str, size: str) -> tuple[dict[str, Any], dict[str, Any], int]:
    """(transformer config, VAE config, context length) of ``backbone`` (flux, wan) at ``size`` (full, tiny)."""
    from ypt.registry import check_key

    check_key("backbone", backbone, CLASSES)
    return CONFIGS[(backbone, check_key("model size", size, SIZES))]


@contextlib.contextmanager
def _building(device: str | torch.device, dtype: torch.dtype, seed: int) -> Iterator[None]:
    """Modules built directly on ``device`` in ``dtype`` (no full-size fp32 copy on the host), seeded."""
    import torch

    previous = torch.get_default_dtype()
    torch.manual_seed(seed)
    torch.set_default_dtype(dtype)
    try:
        with torch.device(device):
            yield
    finally:
        torch.set_default_dtype(previous)


def build_transformer(backbone: str, config: dict[str, Any], device: str | torch.device = "cpu",
                      dtype: torch.dtype | None = None, seed: int = 0) -> torch.nn.Module:
    """``backbone``'s diffusers transformer from ``config`` with random weights (seeded), frozen, in eval mode."""
    import diffusers
    import torch

    with _building(device, dtype or torch.float32, seed):
        model = getattr(diffusers, CLASSES[backbone][0])(**config)
    return model.eval().requires_grad_(False)


def build_vae(backbone: str, config: dict[str, Any], device: str | torch.device = "cpu", seed: int = 0) -> torch.nn.Module:
    """``backbone``'s diffusers VAE from ``config`` with random weights (seeded), fp32, frozen, in eval mode."""
    import diffusers
    import torch

    with _building(device, torch.float32, seed):
        vae = getattr(diffusers, CLASSES[backbone][1])(**config)
    return vae.eval().requires_grad_(False)


def random_null_context(backbone: str, transformer_config: dict[str, Any], text_len: int,
                        seed: int = 1) -> dict[str, torch.Tensor]:
    """A stand-in null-text context of the text encoders' output shapes (CPU, fp32, seeded): FLUX the T5 sequence
    ``(1, L, joint_attention_dim)`` and the CLIP pooled vector; WAN the UMT5 sequence ``(1, L, text_dim)``."""
    import torch

    generator = torch.Generator("cpu").manual_seed(seed)
    if backbone == "flux":
        return {"encoder_hidden_states": torch.randn(1, text_len, transformer_config["joint_attention_dim"],
                                                     generator=generator),
                "pooled_projections": torch.randn(1, transformer_config["pooled_projection_dim"], generator=generator)}
    return {"encoder_hidden_states": torch.randn(1, text_len, transformer_config["text_dim"], generator=generator)}


def build_backbone(backbone: str, size: str = "tiny", *, device: str | torch.device = "cpu",
                   dtype: torch.dtype | None = None, text_len: int | None = None, seed: int = 0,
                   transformer_config: dict[str, Any] | None = None,
                   vae_config: dict[str, Any] | None = None) -> Backbone:
    """The adapter of ``backbone`` at ``size`` with random weights: transformer in ``dtype`` (default fp32), VAE in
    fp32, built on ``device`` (``"meta"``: shapes only), the random null context of :func:`random_null_context`.
    ``transformer_config`` / ``vae_config`` / ``text_len`` replace the size's."""
    import torch

    from ypt.backbones import backbone_class

    transformer_default, vae_default, text_default = configs(backbone, size)
    transformer_config = transformer_config or transformer_default
    text_len = text_len or text_default
    dtype = dtype or torch.float32
    return backbone_class(backbone)(
        build_transformer(backbone, transformer_config, device, dtype, seed),
        build_vae(backbone, vae_config if vae_config is not None else vae_default, device, seed),
        dtype=dtype, device=device, max_sequence_length=text_len,
        null_context=random_null_context(backbone, transformer_config, text_len, seed + 1))
