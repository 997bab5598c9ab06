"""The released transformer configs of the paper's backbones (diffusers ``transformer/config.json``), so full-size
models can be built without weights: on the meta device for shape checks, or with random weights for timings."""
from __future__ import annotations

#: ``FluxTransformer2DModel`` of black-forest-labs/FLUX.1-dev
FLUX_DEV_TRANSFORMER = {
    "patch_size": 1, "in_channels": 64, "num_layers": 19, "num_single_layers": 38, "attention_head_dim": 128,
    "num_attention_heads": 24, "joint_attention_dim": 4096, "pooled_projection_dim": 768, "guidance_embeds": True,
    "axes_dims_rope": (16, 56, 56),
}
#: ``WanTransformer3DModel`` of Wan-AI/Wan2.1-T2V-1.3B-Diffusers
WAN_1_3B_TRANSFORMER = {
    "patch_size": (1, 2, 2), "num_attention_heads": 12, "attention_head_dim": 128, "in_channels": 16,
    "out_channels": 16, "text_dim": 4096, "freq_dim": 256, "ffn_dim": 8960, "num_layers": 30,
    "cross_attn_norm": True, "qk_norm": "rms_norm_across_heads", "eps": 1e-6, "rope_max_seq_len": 1024,
}


def transformer_on_meta(backbone: str):
    """The full-size ``flux`` or ``wan`` transformer with no weights (meta device)."""
    import torch
    from diffusers import FluxTransformer2DModel, WanTransformer3DModel

    cls, config = {"flux": (FluxTransformer2DModel, FLUX_DEV_TRANSFORMER),
                   "wan": (WanTransformer3DModel, WAN_1_3B_TRANSFORMER)}[backbone]
    with torch.device("meta"):
        return cls(**config)
