"""WAN 2.1 T2V 1.3B adapter: ``WanTransformer3DModel`` + ``AutoencoderKLWan`` (fp32) + UMT5 null-text context.

Matches diffusers' ``WanPipeline``: video latents normalised as ``(z - latents_mean) / latents_std``; frames
compress 4x in time (``F`` frames, ``F = 4k + 1``, give ``(F - 1) / 4 + 1`` latent frames: 33 -> 9) and 8x in
space; the transformer is fed the scheduler timestep (not divided by 1000); context = UMT5 ``last_hidden_state``
of "" cut at its true length and zero-padded to 226 tokens (``WanPipeline.encode_prompt``'s default and the length
of the official prompts, 226 x 1536; ``WanPipeline.__call__`` itself pads to 512).

A residual prompt enters every cross-attention: ``attn2(h, c) + a_i * attn2(h, c + P)`` where ``c`` is the projected
null-text context the block receives. With diffusers' own ``WanAttnProcessor`` the two passes share one query
projection (:class:`_SharedQueryCrossAttention`); any other processor gets a second call of the whole module.
"""
from __future__ import annotations

from typing import Any

import torch

from ypt.backbones.model_files import MODEL_FILES
from ypt.backbones.base import (
    Backbone,
    Handle,
    ResidualParameters,
    replace_argument,
    scheduler_timestep,
)
from ypt.backbones.loading import freeze
from ypt.defaults import VIDEO_FRAMES
from ypt.errors import BadInput

FILES = MODEL_FILES["wan"]


class WanBackbone(Backbone):
    name = "wan"
    label, transformer_class, vae_class = FILES.label, FILES.transformer_class, FILES.vae_class
    text_parts, default_model_id, download_hint = FILES.text_parts, FILES.model_id, FILES.download_hint

    def __init__(
        self,
        transformer: torch.nn.Module,
        vae: torch.nn.Module,
        text_encoder: torch.nn.Module | None = None,
        tokenizer: Any = None,
        **kwargs: Any,
    ) -> None:
        """``kwargs``: those of :class:`ypt.backbones.base.Backbone` (``max_sequence_length``, ``dtype``, ...)."""
        super().__init__(transformer, vae, **kwargs)
        self.text_encoder = text_encoder
        self.tokenizer = tokenizer
        if text_encoder is not None:
            text_encoder.to(self.device)
            freeze(text_encoder)
        cfg = self.vae.config
        self.temporal_compression = int(getattr(cfg, "scale_factor_temporal", None) or 4)
        self.spatial_compression = int(getattr(cfg, "scale_factor_spatial", None) or 8)
        z_dim = cfg.z_dim
        self._mean = torch.tensor(cfg.latents_mean, dtype=torch.float32).view(1, z_dim, 1, 1, 1)
        self._std = torch.tensor(cfg.latents_std, dtype=torch.float32).view(1, z_dim, 1, 1, 1)

    # ---- where prompts enter ------------------------------------------------------------------------------------
    def transformer_blocks(self) -> list[torch.nn.Module]:
        return list(self.transformer.blocks)

    def context_dims(self) -> dict[str, int]:
        return {"encoder_hidden_states": int(self.transformer.config.text_dim)}

    def install_residual(self, prompt: ResidualParameters) -> list[Handle]:
        """Every ``attn2`` becomes ``attn2(h, c) + a_i * attn2(h, c + P)``: through the shared-query processor where
        the block runs diffusers' ``WanAttnProcessor``, else as a second call of the whole module."""
        handles: list[Handle] = []
        for i, block in enumerate(self.transformer.blocks):
            if _SharedQueryCrossAttention.supports(block.attn2):
                handles.append(_SharedQueryCrossAttention(prompt, i).install(block.attn2))
                continue

            def cross_attention(module: torch.nn.Module, args: tuple, kwargs: dict[str, Any],
                                output: torch.Tensor, i: int = i) -> torch.Tensor:
                new_args, new_kwargs = replace_argument(args, kwargs, 1, "encoder_hidden_states", prompt.shifted)
                extra = module.forward(*new_args, **new_kwargs)
                return prompt.combine(output, extra, i)
            handles.append(block.attn2.register_forward_hook(cross_attention, with_kwargs=True))
        return handles

    # ---- text -------------------------------------------------------------------------------------------------

    def has_text_encoders(self) -> bool:
        return self.text_encoder is not None

    def drop_text_encoders(self) -> None:
        self.text_encoder = self.tokenizer = None

    def _encode_text(self, texts: list[str]) -> dict[str, torch.Tensor]:
        """UMT5 output cut at each prompt's length and zero-padded to ``max_sequence_length`` (as ``WanPipeline``)."""
        texts = [t.strip() for t in texts]
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
            raise BadInput(f"WAN needs 4k+1 frames (e.g. {VIDEO_FRAMES}), got {num_frames}")
        multiple = self.spatial_compression * self.transformer.config.patch_size[1]
        if height % multiple or width % multiple:
            raise BadInput(f"WAN needs frame sides divisible by {multiple}, got {height}x{width}")

    def check_pixels(self, pixels: torch.Tensor) -> None:
        """``(B, 3, F, H, W)`` with ``F = 4k + 1`` and sides divisible by 16."""
        self.check_size(*pixels.shape[-3:])

    def normalise(self, z: torch.Tensor) -> torch.Tensor:
        """``(z - latents_mean) / latents_std``: latent ``(B, C, (F-1)/4+1, H/8, W/8)``."""
        return (z - self._mean.to(z.device)) / self._std.to(z.device)

    def posterior_shape(self, pixels_shape) -> tuple[int, ...]:
        b, _, f, h, w = pixels_shape
        return (b, int(self.vae.config.z_dim), self.latent_frames(f), h // self.spatial_compression,
                w // self.spatial_compression)

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


class _SharedQueryCrossAttention:
    """A WAN ``attn2`` processor computing ``attn2(h, c) + a_i * attn2(h, c + P)`` with the query of ``h`` projected
    and normalised once for both passes (the two passes differ only in their keys and values).

    Installed in place of diffusers' own ``WanAttnProcessor`` (text-to-video cross-attention, no image context) while
    a residual prompt is applied; the handle returned by :meth:`install` puts the original processor back. Each pass
    is otherwise the original processor's computation: ``norm_k`` on the keys, the same attention backend
    (``dispatch_attention_fn`` with the processor's backend) and ``to_out`` applied per pass, so the result equals
    the two-call form up to float rounding; the saving is one ``to_q`` and ``norm_q`` per block, forward and
    backward (``benchmarks.perf.flops.wan_flops`` counts it).
    """

    def __init__(self, prompt: ResidualParameters, index: int):
        self.prompt, self.index = prompt, index
        self.module: torch.nn.Module | None = None
        self.original: Any = None

    @staticmethod
    def supports(attn: torch.nn.Module) -> bool:
        try:
            from diffusers.models.transformers.transformer_wan import WanAttnProcessor
        except ImportError:  # diffusers without WanAttention: the generic two-call hook
            return False
        return type(getattr(attn, "processor", None)) is WanAttnProcessor and getattr(attn, "add_k_proj", 0) is None

    def install(self, attn: torch.nn.Module) -> _SharedQueryCrossAttention:
        self.module, self.original = attn, attn.processor
        attn.processor = self
        return self

    def remove(self) -> None:
        """Put the original processor back (the :class:`ypt.backbones.base.Handle` protocol)."""
        if self.module is not None and self.module.processor is self:
            self.module.processor = self.original
        self.module = None

    def __call__(self, attn: torch.nn.Module, hidden_states: torch.Tensor,
                 encoder_hidden_states: torch.Tensor | None = None, attention_mask: torch.Tensor | None = None,
                 rotary_emb: Any = None) -> torch.Tensor:
        from diffusers.models.attention_dispatch import dispatch_attention_fn

        if encoder_hidden_states is None or rotary_emb is not None:
            raise RuntimeError("the residual prompt's processor is for WAN's cross-attention (attn2) only")
        query = attn.norm_q(attn.to_q(hidden_states)).unflatten(2, (attn.heads, -1))

        def attend(context: torch.Tensor) -> torch.Tensor:
            if attn.fused_projections:
                key, value = attn.to_kv(context).chunk(2, dim=-1)
            else:
                key, value = attn.to_k(context), attn.to_v(context)
            key = attn.norm_k(key).unflatten(2, (attn.heads, -1))
            out = dispatch_attention_fn(query, key, value.unflatten(2, (attn.heads, -1)), attn_mask=attention_mask,
                                        dropout_p=0.0, is_causal=False, backend=self.original._attention_backend)
            out = out.flatten(2, 3).type_as(query)
            return attn.to_out[1](attn.to_out[0](out))

        base = attend(encoder_hidden_states)
        extra = attend(self.prompt.shifted(encoder_hidden_states))
        return self.prompt.combine(base, extra, self.index)
