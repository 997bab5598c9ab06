"""WAN 2.1 T2V 1.3B adapter: ``WanTransformer3DModel`` + ``AutoencoderKLWan`` (fp32) + UMT5 null-text context.

Matches diffusers' ``WanPipeline``: video latents normalised as ``(z - latents_mean) / latents_std``; frames
compress 4x in time (``F`` frames, ``F = 4k + 1``, give ``(F - 1) / 4 + 1`` latent frames: 33 -> 9) and 8x in
space; the transformer is fed the scheduler timestep (not divided by 1000); context = UMT5 ``last_hidden_state``
of "" cut at its true length and zero-padded to 226 tokens (``WanPipeline.encode_prompt``'s default and the length
of the official prompts, 226 x 1536; ``WanPipeline.__call__`` itself pads to 512).
"""
from __future__ import annotations

from typing import Any

import torch

from ypt.backbones.base import (
    Backbone,
    freeze,
    scheduler_timestep,
)

WAN_MODEL_ID = "Wan-AI/Wan2.1-T2V-1.3B-Diffusers"


class WanBackbone(Backbone):
    name = "wan"
    label = "WAN 2.1 T2V 1.3B"
    default_text_len = 226
    transformer_class = "WanTransformer3DModel"
    vae_class = "AutoencoderKLWan"
    text_parts = (("text_encoder", "UMT5EncoderModel", "text_encoder"), ("tokenizer", "AutoTokenizer", "tokenizer"))
    default_model_id = WAN_MODEL_ID
    download_hint = (f"hf download {WAN_MODEL_ID} on a node with internet, or "
                     "python -m benchmarks.prefetch table3 --backbones")

    def __init__(
        self,
        transformer: torch.nn.Module,
        vae: torch.nn.Module,
        text_encoder: torch.nn.Module | None = None,
        tokenizer: Any = None,
        *,
        max_sequence_length: int = 226,
        **kwargs: Any,
    ) -> None:
        super().__init__(transformer, vae, **kwargs)
        self.text_encoder = text_encoder
        self.tokenizer = tokenizer
        if text_encoder is not None:
            text_encoder.to(self.device)
            freeze(text_encoder)
        self.max_sequence_length = max_sequence_length
        cfg = self.vae.config
        self.temporal_compression = int(getattr(cfg, "scale_factor_temporal", None) or 4)
        self.spatial_compression = int(getattr(cfg, "scale_factor_spatial", None) or 8)
        z_dim = cfg.z_dim
        self._mean = torch.tensor(cfg.latents_mean, dtype=torch.float32).view(1, z_dim, 1, 1, 1)
        self._std = torch.tensor(cfg.latents_std, dtype=torch.float32).view(1, z_dim, 1, 1, 1)

    # ---- text -------------------------------------------------------------------------------------------------
    def transformer_blocks(self) -> list[torch.nn.Module]:
        return list(self.transformer.blocks)

    def has_text_encoders(self) -> bool:
        return self.text_encoder is not None

    def drop_text_encoders(self) -> None:
        self.text_encoder = self.tokenizer = None

    def encode_text(self, text: str | list[str]) -> dict[str, torch.Tensor]:
        """UMT5 output cut at each prompt's length and zero-padded to ``max_sequence_length`` (as ``WanPipeline``)."""
        if not self.has_text_encoders():
            raise RuntimeError("WAN text encoder is not loaded (from_pretrained(..., text_encoders=True))")
        texts = [text.strip()] if isinstance(text, str) else [t.strip() for t in text]
        tokens = self.tokenizer(texts, padding="max_length", max_length=self.max_sequence_length, truncation=True,
                                add_special_tokens=True, return_attention_mask=True, return_tensors="pt")
        ids, mask = tokens.input_ids.to(self.device), tokens.attention_mask.to(self.device)
        hidden = self.text_encoder(ids, mask).last_hidden_state
        keep = (mask > 0).unsqueeze(-1)
        return {"encoder_hidden_states": torch.where(keep, hidden, torch.zeros_like(hidden))}

    def _compute_null_context(self) -> dict[str, torch.Tensor]:
        return self.encode_text("")

    # ---- latents ----------------------------------------------------------------------------------------------
    def latent_frames(self, num_frames: int) -> int:
        return (num_frames - 1) // self.temporal_compression + 1

    def check_size(self, num_frames: int, height: int, width: int) -> None:
        if (num_frames - 1) % self.temporal_compression:
            raise ValueError(f"WAN needs 4k+1 frames (e.g. 33), got {num_frames}")
        multiple = self.spatial_compression * self.transformer.config.patch_size[1]
        if height % multiple or width % multiple:
            raise ValueError(f"WAN needs frame sides divisible by {multiple}, got {height}x{width}")

    def encode(self, pixels: torch.Tensor) -> torch.Tensor:
        """``(B, 3, F, H, W)`` in [0, 1] -> normalised latent ``(B, C, (F-1)/4+1, H/8, W/8)`` (posterior mode)."""
        self.check_size(*pixels.shape[-3:])
        x = pixels.to(self.device, torch.float32) * 2 - 1
        with torch.no_grad(), torch.autocast(self.device.type, enabled=False):
            z = self.vae.encode(x).latent_dist.mode()
        return (z - self._mean.to(z.device)) / self._std.to(z.device)

    def decode(self, latents: torch.Tensor) -> torch.Tensor:
        """Normalised latent -> ``(B, 3, F, H, W)`` pixels in [0, 1] (VAE in fp32)."""
        z = latents.to(self.device, torch.float32)
        z = z * self._std.to(z.device) + self._mean.to(z.device)
        with torch.no_grad(), torch.autocast(self.device.type, enabled=False):
            x = self.vae.decode(z, return_dict=False)[0]
        return ((x + 1) / 2).clamp(0, 1)

    # ---- transformer ------------------------------------------------------------------------------------------
    def _transformer_velocity(self, z: torch.Tensor, sigma: torch.Tensor, context: dict[str, torch.Tensor]) -> torch.Tensor:
        b = z.shape[0]
        text = context["encoder_hidden_states"].expand(b, -1, -1)
        timestep = scheduler_timestep(sigma, "wan")
        return self.transformer(
            hidden_states=z.to(self.device, self.dtype),
            timestep=timestep.to(self.device),
            encoder_hidden_states=text,
            return_dict=False,
        )[0]
