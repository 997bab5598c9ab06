"""FLUX.1-dev adapter: ``FluxTransformer2DModel`` + ``AutoencoderKL`` (fp32) + CLIP/T5 null-text context.

Matches diffusers' ``FluxPipeline``: latents normalised as ``(z - shift_factor) * scaling_factor``; 2x2 patches
packed into tokens with image ids ``(0, row, col)`` and all-zero text ids; the transformer is fed
``timestep / 1000`` (it scales by 1000 inside) and, for the guidance-distilled dev model, guidance 1.0;
context = T5 ``last_hidden_state`` of "" padded to 512 tokens and CLIP's pooled output of "".
"""
from __future__ import annotations

import os
from typing import Any

import torch

from ypt.backbones.base import (
    Backbone,
    cache_root,
    freeze,
    load_component,
    num_train_timesteps,
    resolve_model_dir,
    scheduler_timestep,
    text_dtype,
)
from ypt.provenance import config_hash

FLUX_MODEL_ID = "black-forest-labs/FLUX.1-dev"


def pack_latents(latents: torch.Tensor) -> torch.Tensor:
    """``(B, C, h, w)`` -> ``(B, h/2 * w/2, 4C)``: FLUX's 2x2 patch tokens (as ``FluxPipeline._pack_latents``)."""
    b, c, h, w = latents.shape
    if h % 2 or w % 2:
        raise ValueError(f"FLUX latents need even height and width, got {h}x{w}")
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
    default_model_id = FLUX_MODEL_ID
    download_hint = (
        f"hf download {FLUX_MODEL_ID} --exclude 'flux1-dev.safetensors' on a node with internet, or "
        "python -m benchmarks.prefetch table2 --backbones (gated: accept the license on the Hub and "
        "`hf auth login` first)"
    )

    def __init__(
        self,
        transformer: torch.nn.Module,
        vae: torch.nn.Module,
        text_encoder: torch.nn.Module | None = None,
        tokenizer: Any = None,
        text_encoder_2: torch.nn.Module | None = None,
        tokenizer_2: Any = None,
        *,
        max_sequence_length: int = 512,
        num_train_timesteps: int = 1000,
        guidance_scale: float = 1.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(transformer, vae, **kwargs)
        self.text_encoder = text_encoder
        self.tokenizer = tokenizer
        self.text_encoder_2 = text_encoder_2
        self.tokenizer_2 = tokenizer_2
        for enc in (text_encoder, text_encoder_2):
            if enc is not None:
                enc.to(self.device)
                freeze(enc)
        self.max_sequence_length = max_sequence_length
        self.num_train_timesteps = num_train_timesteps
        self.guidance_scale = guidance_scale
        self.vae_scale_factor = 2 ** (len(self.vae.config.block_out_channels) - 1)
        self._ids: dict[tuple[int, int], torch.Tensor] = {}

    # ---- loading ----------------------------------------------------------------------------------------------
    @classmethod
    def from_pretrained(
        cls,
        path_or_id: str | os.PathLike | None = None,
        revision: str | None = None,
        dtype: torch.dtype = torch.bfloat16,
        device: str | torch.device = "cpu",
        *,
        text_encoders: bool | str = "auto",
        null_context_file: str | os.PathLike | None = "auto",
        max_sequence_length: int = 512,
        cache_dir: str | os.PathLike | None = None,
    ) -> FluxBackbone:
        """Load from a local diffusers folder or the HF cache (never downloads).

        ``text_encoders="auto"`` loads CLIP and T5 only when the null-text context is not cached yet
        (``null_context_file``, by default under ``$YPT_CACHE/null_context``); they are dropped after use.
        ``True`` loads and keeps them (token/text prompt variants). ``cache_dir``: another HF cache folder.
        """
        from diffusers import AutoencoderKL, FluxTransformer2DModel

        model_id = str(path_or_id or FLUX_MODEL_ID)
        model_dir = resolve_model_dir(model_id, revision, what="FLUX.1-dev", download_hint=cls.download_hint,
                                      cache_dir=cache_dir)
        if null_context_file == "auto":
            key = config_hash({"dir": str(model_dir.resolve()), "revision": revision, "len": max_sequence_length})
            null_context_file = cache_root() / "null_context" / f"flux-{key}.safetensors"
        what = f"FLUX ({model_dir})"
        transformer = load_component(FluxTransformer2DModel, model_dir, "transformer", what, torch_dtype=dtype)
        vae = load_component(AutoencoderKL, model_dir, "vae", what, torch_dtype=torch.float32)
        need_text = text_encoders is True or (
            text_encoders == "auto" and not (null_context_file and os.path.isfile(null_context_file))
        )
        enc = tok = enc2 = tok2 = None
        if need_text:
            from transformers import AutoTokenizer, CLIPTextModel, T5EncoderModel

            enc = load_component(CLIPTextModel, model_dir, "text_encoder", what, torch_dtype=text_dtype(dtype))
            tok = load_component(AutoTokenizer, model_dir, "tokenizer", what)
            enc2 = load_component(T5EncoderModel, model_dir, "text_encoder_2", what, torch_dtype=text_dtype(dtype))
            tok2 = load_component(AutoTokenizer, model_dir, "tokenizer_2", what)
        backbone = cls(
            transformer, vae, enc, tok, enc2, tok2,
            max_sequence_length=max_sequence_length,
            num_train_timesteps=num_train_timesteps(model_dir),
            dtype=dtype, device=device, model_id=model_id, revision=revision,
            null_context_file=null_context_file, source=str(model_dir.resolve()),
        )
        if text_encoders == "auto":
            backbone.null_context()
            backbone.drop_text_encoders()
        return backbone

    # ---- text -------------------------------------------------------------------------------------------------
    def has_text_encoders(self) -> bool:
        return self.text_encoder is not None and self.text_encoder_2 is not None

    def drop_text_encoders(self) -> None:
        self.text_encoder = self.text_encoder_2 = self.tokenizer = self.tokenizer_2 = None

    def encode_text(self, text: str | list[str]) -> dict[str, torch.Tensor]:
        """T5 sequence (padded to ``max_sequence_length``) and CLIP pooled embedding, as ``FluxPipeline``."""
        if not self.has_text_encoders():
            raise RuntimeError("FLUX text encoders are not loaded (from_pretrained(..., text_encoders=True))")
        texts = [text] if isinstance(text, str) else list(text)
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
            raise ValueError(f"FLUX needs image sides divisible by {multiple}, got {height}x{width}")

    def encode(self, pixels: torch.Tensor) -> torch.Tensor:
        """``(B, 3, H, W)`` in [0, 1] -> normalised latent ``(B, C, H/8, W/8)`` (posterior mode, VAE in fp32)."""
        self.check_size(*pixels.shape[-2:])
        shift, scale = self._shift_scale()
        x = pixels.to(self.device, torch.float32) * 2 - 1
        with torch.no_grad(), torch.autocast(self.device.type, enabled=False):
            z = self.vae.encode(x).latent_dist.mode()
        return (z - shift) * scale

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
        timestep = scheduler_timestep(sigma, "flux") / self.num_train_timesteps
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

