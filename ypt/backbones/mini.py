"""The miniature backbone: a 1.16M-parameter diffusers ``FluxTransformer2DModel`` behind the FLUX adapter, in pixel
space, small enough to pretrain and to train prompts on a CPU (the built-in demo, ``make demo``).

Everything the paper's method touches is FLUX's own code path (:class:`ypt.backbones.flux.FluxBackbone`): 2x2 latent
patches packed into tokens, the FLUX timestep grid, residual prompts hooked into every double- and single-stream
block's attention, ``z - sigma * v``. Only three things differ, all fixed, none trained with a prompt:

* the "VAE" (:class:`SpaceToDepthVAE`) has no parameters: pixels ``2x - 1`` rearranged 2x2 -> channels (pixel
  unshuffle), so one transformer token is a 4x4 pixel patch;
* there are no text encoders: the null-text context is all zeros (``max_sequence_length`` tokens);
* the transformer attends within windows of :attr:`MiniBackbone.window` latent pixels (32x32 image pixels: the
  crop size of its pretraining and of prompt training), overlapping by half and blended with a raised-cosine
  weight, as patch-trained diffusion models are run on larger images (MultiDiffusion). A 32x32 crop is one window,
  so training sees the plain transformer; ``window=None`` attends over the whole image.

The prior's weights are one safetensors file with a JSON sidecar (recipe, sha256): :mod:`ypt.backbones.mini_weights`
finds and verifies them; ``python -m ypt.mini_prior`` pretrains them.
"""
from __future__ import annotations

import math
import os
from types import SimpleNamespace
from typing import Any

import torch

from ypt.backbones.flux import FluxBackbone
from ypt.backbones.mini_weights import PRIOR_LABEL, verified_prior

# diffusers' config machinery, so the adapter reads the VAE's config as it reads AutoencoderKL's
from diffusers.configuration_utils import ConfigMixin, register_to_config
from diffusers.models.modeling_utils import ModelMixin

#: the transformer (diffusers ``FluxTransformer2DModel`` keyword arguments): 2 double + 3 single blocks, 3 heads of 32
TRANSFORMER_CONFIG: dict[str, Any] = {
    "patch_size": 1, "in_channels": 48, "num_layers": 2, "num_single_layers": 3, "attention_head_dim": 32,
    "num_attention_heads": 3, "joint_attention_dim": 16, "pooled_projection_dim": 16, "guidance_embeds": False,
    "axes_dims_rope": (8, 12, 12),
}
#: pixel-unshuffle factor of the fixed "VAE" (a token is a 2*FACTOR x 2*FACTOR pixel patch)
FACTOR = 2
#: attention window in latent pixels (32 image pixels)
WINDOW = 16


class SpaceToDepthVAE(ModelMixin, ConfigMixin):
    """Fixed "autoencoder": ``x`` in [-1, 1] ``(B, 3, H, W)`` <-> ``(B, 3 f^2, H/f, W/f)`` by pixel (un)shuffle.

    ``block_out_channels`` only carries the downsampling factor in diffusers' convention
    (``vae_scale_factor = 2 ** (len(block_out_channels) - 1)``), which the FLUX adapter reads; the posterior has no
    noise (its sample is its mode)."""

    @register_to_config
    def __init__(self, factor: int = FACTOR, in_channels: int = 3, shift_factor: float = 0.0,
                 scaling_factor: float = 1.0, block_out_channels: tuple[int, ...] | None = None,
                 latent_channels: int | None = None):
        super().__init__()
        if factor < 1 or factor & (factor - 1):
            raise ValueError("factor must be a power of two")
        self.register_to_config(block_out_channels=[in_channels] * (int(math.log2(factor)) + 1),
                                latent_channels=in_channels * factor ** 2)
        self.factor = factor

    def encode(self, x: torch.Tensor, return_dict: bool = True):
        z = torch.nn.functional.pixel_unshuffle(x, self.factor) if self.factor > 1 else x
        dist = SimpleNamespace(mode=lambda: z, sample=lambda generator=None: z, mean=z)
        return SimpleNamespace(latent_dist=dist) if return_dict else (dist,)

    def decode(self, z: torch.Tensor, return_dict: bool = True):
        x = torch.nn.functional.pixel_shuffle(z, self.factor) if self.factor > 1 else z
        return SimpleNamespace(sample=x) if return_dict else (x,)


def window_starts(size: int, window: int, stride: int) -> list[int]:
    """Window offsets covering ``size``: every ``stride``, and the last window flush with the end."""
    starts = list(range(0, size - window + 1, stride))
    return starts if starts[-1] == size - window else [*starts, size - window]


class MiniBackbone(FluxBackbone):
    """The FLUX adapter on the miniature transformer and :class:`SpaceToDepthVAE`; zero null-text context."""

    name = "mini"
    label = PRIOR_LABEL
    default_model_id = "ypt-mini (packaged prior)"

    def __init__(self, transformer: torch.nn.Module, vae: torch.nn.Module | None = None, *,
                 window: int | None = WINDOW, **kwargs: Any) -> None:
        kwargs.setdefault("dtype", torch.float32)
        super().__init__(transformer, vae if vae is not None else SpaceToDepthVAE(), **kwargs)
        self.window = window
        config = transformer.config
        self._null = {"encoder_hidden_states": torch.zeros(1, self.max_sequence_length, config.joint_attention_dim),
                      "pooled_projections": torch.zeros(1, config.pooled_projection_dim)}

    @classmethod
    def from_pretrained(cls, path_or_id: str | os.PathLike | None = None, revision: str | None = None,
                        dtype: torch.dtype = torch.float32, device: str | torch.device = "cpu", *,
                        max_sequence_length: int | None = None, window: int | None = WINDOW,
                        **ignored: Any) -> MiniBackbone:
        """The packaged prior (or the prior file ``path_or_id``), its sha256 checked against its sidecar; the text
        options of the big backbones (``text_encoders``, ``text_dtype``, ...) do not apply and are ignored."""
        from safetensors.torch import load_file

        from ypt.backbones.configs import build_transformer

        weights, sidecar = verified_prior(path_or_id)
        transformer = build_transformer("flux", sidecar["transformer_config"])
        transformer.load_state_dict(load_file(str(weights)))
        return cls(transformer, SpaceToDepthVAE(factor=int(sidecar.get("factor", FACTOR))), window=window,
                   dtype=dtype, device=device, max_sequence_length=max_sequence_length,
                   model_id=f"ypt-mini@{sidecar['sha256'][:12]}", source=str(weights))

    # ---- no text side ---------------------------------------------------------------------------------------
    def has_text_encoders(self) -> bool:
        return False

    def _encode_text(self, texts: list[str]) -> dict[str, torch.Tensor]:
        raise RuntimeError("the miniature backbone has no text encoders (its null-text context is all zeros)")

    def _compute_null_context(self) -> dict[str, torch.Tensor]:  # pragma: no cover - set at construction
        return self._null

    # ---- windowed attention ---------------------------------------------------------------------------------
    def _transformer_velocity(self, z: torch.Tensor, sigma: torch.Tensor,
                              context: dict[str, torch.Tensor]) -> torch.Tensor:
        b, c, h, w = z.shape
        win = self.window
        if win is None or (h <= win and w <= win):
            return super()._transformer_velocity(z, sigma, context)
        rows, cols = window_starts(h, win, win // 2), window_starts(w, win, win // 2)
        tiles = torch.stack([z[:, :, r:r + win, q:q + win] for r in rows for q in cols], 1)  # (B, n, C, win, win)
        n = tiles.shape[1]
        out = super()._transformer_velocity(tiles.reshape(b * n, c, win, win), sigma.repeat_interleave(n), context)
        out = out.reshape(b, n, c, win, win)
        ramp = torch.hann_window(win + 2, periodic=False, device=out.device, dtype=out.dtype)[1:-1]
        weight = ramp[:, None] * ramp[None, :]
        acc = torch.zeros(b, c, h, w, device=out.device, dtype=out.dtype)
        norm = torch.zeros(1, 1, h, w, device=out.device, dtype=out.dtype)
        k = 0
        for r in rows:
            for q in cols:
                acc[:, :, r:r + win, q:q + win] += out[:, k] * weight
                norm[:, :, r:r + win, q:q + win] += weight
                k += 1
        return acc / norm
