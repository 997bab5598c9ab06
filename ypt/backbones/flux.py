"""FLUX.1-dev adapter: ``FluxTransformer2DModel`` + ``AutoencoderKL`` (fp32) + CLIP/T5 null-text context.

Matches diffusers' ``FluxPipeline``: latents normalised as ``(z - shift_factor) * scaling_factor``; 2x2 patches
packed into tokens with image ids ``(0, row, col)`` and all-zero text ids; the transformer is fed
``timestep / 1000`` (it scales by 1000 inside) and, for the guidance-distilled dev model, guidance 1.0;
context = T5 ``last_hidden_state`` of "" padded to ``max_sequence_length`` tokens (``ypt.defaults.TEXT_LEN``: 512)
and CLIP's pooled output of "".

A residual prompt enters the attention of every block, as the authors' release does
(``prompt_helpers.CrossAttnAddPromptsFlux`` wraps ``block.attn``): double-stream blocks attend to
``encoder_hidden_states + a_i * P``, single-stream blocks get ``a_i * P`` added to the first ``L`` (text) tokens of
their joint input. ``P`` enters the attention inputs (after the blocks' adaptive norms) and never the text residual
stream, so each gate acts on its own block only.
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
from ypt.errors import BadInput
from ypt.sampler import OFFICIAL_SCHEDULERS

FILES = MODEL_FILES["flux"]


def pack_latents(latents: torch.Tensor) -> torch.Tensor:
    """``(B, C, h, w)`` -> ``(B, h/2 * w/2, 4C)``: FLUX's 2x2 patch tokens (as ``FluxPipeline._pack_latents``)."""
    b, c, h, w = latents.shape
    if h % 2 or w % 2:
        raise BadInput(f"FLUX latents need even height and width, got {h}x{w}")
    x = latents.view(b, c, h // 2, 2, w // 2, 2).permute(0, 2, 4, 1, 3, 5)
    return x.reshape(b, (h // 2) * (w // 2), c * 4)


def unpack_latents(tokens: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """Inverse of :func:`pack_latents` for a latent of ``height x width``."""
    b, n, c4 = tokens.shape
    if n != (height // 2) * (width // 2):
        raise ValueError(f"{n} tokens do not tile a {height}x{width} latent")
    x = tokens.view(b, height // 2, width // 2, c4 // 4, 2, 2).permute(0, 3, 1, 4, 2, 5)
    return x.reshape(b, c4 // 4, height, width)


def image_ids(packed_height: int, packed_width: int, device: torch.device | str = "cpu") -> torch.Tensor:
    """``(h*w, 3)`` position ids ``(0, row, col)`` of the packed tokens (as ``_prepare_latent_image_ids``)."""
    ids = torch.zeros(packed_height, packed_width, 3)
    ids[..., 1] = torch.arange(packed_height)[:, None]
    ids[..., 2] = torch.arange(packed_width)[None, :]
    return ids.reshape(packed_height * packed_width, 3).to(device)


class FluxBackbone(Backbone):
    name = "flux"
    token_encoder = "text_encoder_2"  # T5 (text_encoder is CLIP)
    label, transformer_class, vae_class = FILES.label, FILES.transformer_class, FILES.vae_class
    text_parts, default_model_id, download_hint = FILES.text_parts, FILES.model_id, FILES.download_hint
    text_autocast = FILES.text_autocast  # the release makes FLUX's null context inside its sampler's autocast

    def __init__(
        self,
        transformer: torch.nn.Module,
        vae: torch.nn.Module,
        text_encoder: torch.nn.Module | None = None,
        tokenizer: Any = None,
        text_encoder_2: torch.nn.Module | None = None,
        tokenizer_2: Any = None,
        *,
        guidance_scale: float = 1.0,
        **kwargs: Any,
    ) -> None:
        """``kwargs``: those of :class:`ypt.backbones.base.Backbone` (``max_sequence_length``, ``dtype``, ...)."""
        super().__init__(transformer, vae, **kwargs)
        self.text_encoder = text_encoder
        self.tokenizer = tokenizer
        self.text_encoder_2 = text_encoder_2
        self.tokenizer_2 = tokenizer_2
        for enc in (text_encoder, text_encoder_2):
            if enc is not None:
                enc.to(self.device)
                freeze(enc)
        self.guidance_scale = guidance_scale
        self.vae_scale_factor = 2 ** (len(self.vae.config.block_out_channels) - 1)
        self._ids: dict[tuple[int, int], torch.Tensor] = {}

    # ---- where prompts enter ------------------------------------------------------------------------------------
    def transformer_blocks(self) -> list[torch.nn.Module]:
        """The double-stream blocks, then the single-stream blocks."""
        return [*self.transformer.transformer_blocks, *self.transformer.single_transformer_blocks]

    def context_dims(self) -> dict[str, int]:
        config = self.transformer.config
        return {"encoder_hidden_states": int(config.joint_attention_dim),
                "pooled_projections": int(config.pooled_projection_dim)}

    def install_residual(self, prompt: ResidualParameters) -> list[Handle]:
        """Double-stream block ``i``: its attention gets ``encoder_hidden_states + a_i * P``; single-stream block
        ``j``: ``a_(n_double + j) * P`` added to the first ``L`` (text) tokens of its joint input. ``a_i * P`` is
        formed in fp32 and added in the input's dtype."""
        handles = []
        n_double = len(self.transformer.transformer_blocks)
        for i, block in enumerate(self.transformer.transformer_blocks):
            def shift_context(module: torch.nn.Module, args: tuple, kwargs: dict[str, Any], i: int = i):
                def shifted(context: torch.Tensor) -> torch.Tensor:
                    prompt.check_context(context)
                    return context + prompt.gated(i, context.dtype)
                return replace_argument(args, kwargs, 1, "encoder_hidden_states", shifted)
            handles.append(block.attn.register_forward_pre_hook(shift_context, with_kwargs=True))
        for j, block in enumerate(self.transformer.single_transformer_blocks):
            def shift_text_tokens(module: torch.nn.Module, args: tuple, kwargs: dict[str, Any], i: int = n_double + j):
                def shifted(joint: torch.Tensor) -> torch.Tensor:
                    text_len, dim = prompt.prompt.shape[1:]
                    if joint.shape[1] < text_len or joint.shape[-1] != dim:
                        raise BadInput(f"residual prompt of shape {(text_len, dim)} does not fit the joint "
                                       f"sequence of shape {tuple(joint.shape[1:])}")
                    text = joint[:, :text_len] + prompt.gated(i, joint.dtype)
                    return torch.cat([text, joint[:, text_len:]], dim=1)
                return replace_argument(args, kwargs, 0, "hidden_states", shifted)
            handles.append(block.attn.register_forward_pre_hook(shift_text_tokens, with_kwargs=True))
        return handles

    # ---- text -------------------------------------------------------------------------------------------------

    def has_text_encoders(self) -> bool:
        return self.text_encoder is not None and self.text_encoder_2 is not None

    def drop_text_encoders(self) -> None:
        self.text_encoder = self.text_encoder_2 = self.tokenizer = self.tokenizer_2 = None

    def _encode_text(self, texts: list[str]) -> dict[str, torch.Tensor]:
        """T5 sequence (padded to ``max_sequence_length``) and CLIP pooled embedding, as ``FluxPipeline``."""
        clip_len = getattr(self.tokenizer, "model_max_length", 77)
        clip_len = 77 if clip_len is None or clip_len > 10_000 else clip_len
        ids = self.tokenizer(texts, padding="max_length", max_length=clip_len, truncation=True,
                             return_tensors="pt").input_ids
        pooled = self.text_encoder(ids.to(self.device), output_hidden_states=False).pooler_output
        ids2 = self.tokenizer_2(texts, padding="max_length", max_length=self.max_sequence_length, truncation=True,
                                return_tensors="pt").input_ids
        seq = self.text_encoder_2(ids2.to(self.device), output_hidden_states=False)[0]
        return {"encoder_hidden_states": seq, "pooled_projections": pooled}

    def _compute_null_context(self) -> dict[str, torch.Tensor]:
        return self.encode_text("")

    # ---- latents ----------------------------------------------------------------------------------------------
    def _shift_scale(self) -> tuple[float, float]:
        cfg = self.vae.config
        shift = getattr(cfg, "shift_factor", None) or 0.0
        scale = getattr(cfg, "scaling_factor", None) or 1.0
        return float(shift), float(scale)

    def check_size(self, height: int, width: int) -> None:
        multiple = self.vae_scale_factor * 2
        if height % multiple or width % multiple:
            raise BadInput(f"FLUX needs image sides divisible by {multiple}, got {height}x{width}")

    def check_pixels(self, pixels: torch.Tensor) -> None:
        """``(B, 3, H, W)`` with sides divisible by 16."""
        self.check_size(*pixels.shape[-2:])

    def normalise(self, z: torch.Tensor) -> torch.Tensor:
        """``(z - shift_factor) * scaling_factor``: latent ``(B, C, H/8, W/8)``."""
        shift, scale = self._shift_scale()
        return (z - shift) * scale

    def posterior_shape(self, pixels_shape) -> tuple[int, ...]:
        b, _, h, w = pixels_shape
        return (b, int(self.vae.config.latent_channels), h // self.vae_scale_factor, w // self.vae_scale_factor)

    def decode(self, latents: torch.Tensor) -> torch.Tensor:
        """Normalised latent -> ``(B, 3, H, W)`` pixels in [0, 1] (VAE in fp32)."""
        shift, scale = self._shift_scale()
        z = latents.to(self.device, torch.float32) / scale + shift
        with torch.no_grad(), torch.autocast(self.device.type, enabled=False):
            x = self.vae.decode(z, return_dict=False)[0]
        return ((x + 1) / 2).clamp(0, 1)

    # ---- transformer ------------------------------------------------------------------------------------------
    def _image_ids(self, ph: int, pw: int) -> torch.Tensor:
        if (ph, pw) not in self._ids:
            self._ids[(ph, pw)] = image_ids(ph, pw, self.device)
        return self._ids[(ph, pw)]

    def _transformer_velocity(self, z: torch.Tensor, sigma: torch.Tensor, context: dict[str, torch.Tensor]) -> torch.Tensor:
        b, _, h, w = z.shape
        tokens = pack_latents(z.to(self.device, self.dtype))
        text = context["encoder_hidden_states"].expand(b, -1, -1)
        pooled = context["pooled_projections"].expand(b, -1)
        # FLUX takes the release grid's timestep over that grid's num_train_timesteps
        timestep = scheduler_timestep(sigma, "flux") / OFFICIAL_SCHEDULERS["flux"][1]["num_train_timesteps"]
        guidance = None
        if getattr(self.transformer.config, "guidance_embeds", False):
            guidance = torch.full((b,), self.guidance_scale, device=self.device, dtype=torch.float32)
        out = self.transformer(
            hidden_states=tokens,
            encoder_hidden_states=text,
            pooled_projections=pooled,
            timestep=timestep.to(self.device),
            img_ids=self._image_ids(h // 2, w // 2),
            txt_ids=torch.zeros(text.shape[1], 3, device=self.device),
            guidance=guidance,
            return_dict=False,
        )[0]
        return unpack_latents(out, h, w)

