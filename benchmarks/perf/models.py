"""Build the workload's transformer and VAE from config with random weights, directly on the device, and wrap them
in the ``ypt.backbones`` adapter that training and restoration use; prompts are ``ypt.prompts`` modules.

Random weights are enough to measure speed and memory: no checkpoint is read. The residual prompt is the method's
(DESIGN.md): FLUX attention inputs get ``a_i * P``; every WAN ``attn2`` becomes ``attn2(h, c) + a_i * attn2(h, c + P)``
(two cross-attention passes on one query projection, as counted by ``flops.wan_flops``).
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path

from benchmarks.perf.workloads import Workload


@contextlib.contextmanager
def default_dtype(dtype):
    import torch

    previous = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        yield
    finally:
        torch.set_default_dtype(previous)


def build_transformer(wl: Workload, device: str, dtype):
    """The frozen FLUX / WAN transformer of ``wl`` with random weights, in ``dtype`` on ``device``, eval mode."""
    import torch
    from diffusers import FluxTransformer2DModel, WanTransformer3DModel

    cls = FluxTransformer2DModel if wl.backbone == "flux" else WanTransformer3DModel
    torch.manual_seed(0)
    with torch.device(device), default_dtype(dtype):
        model = cls(**wl.transformer)
    return model.eval().requires_grad_(False)


def build_vae(wl: Workload, device: str, dtype):
    """The frozen VAE of ``wl`` with random weights, built in ``dtype`` on ``device``."""
    import torch
    from diffusers import AutoencoderKL, AutoencoderKLWan

    cls = AutoencoderKL if wl.backbone == "flux" else AutoencoderKLWan
    torch.manual_seed(0)
    with torch.device(device), default_dtype(dtype):
        vae = cls(**wl.vae)
    return vae.eval().requires_grad_(False)


@dataclass
class Conditioning:
    """The frozen null-text conditioning, computed once per run (random stand-ins of the encoders' shapes)."""

    context: object  # FLUX (1, 512, 4096) T5 / WAN (1, Lc, 4096) UMT5
    pooled: object | None  # FLUX (1, 768) CLIP pooled
    img_ids: object | None = None
    txt_ids: object | None = None


def null_conditioning(wl: Workload, device: str, dtype) -> Conditioning:
    import torch

    from ypt.backbones.flux import image_ids

    generator = torch.Generator(device="cpu").manual_seed(1)
    if wl.backbone == "flux":
        ctx = torch.randn(1, wl.text_tokens, wl.transformer["joint_attention_dim"], generator=generator)
        pooled = torch.randn(1, wl.transformer["pooled_projection_dim"], generator=generator)
        _, h, w = wl.latent_shape
        img_ids = image_ids(h // 2, w // 2).to(device, dtype)
        txt_ids = torch.zeros(wl.text_tokens, 3, device=device, dtype=dtype)
        return Conditioning(ctx.to(device, dtype), pooled.to(device, dtype), img_ids, txt_ids)
    ctx = torch.randn(1, wl.text_tokens, wl.transformer["text_dim"], generator=generator)
    return Conditioning(ctx.to(device, dtype), None)


def velocity(wl: Workload, model, z, t, cond: Conditioning):
    """The bare transformer call for latent ``z`` (FLUX packed (B, L, 4C); WAN (B, C, F, H, W)) at noise level ``t``
    (B,), for FLOP counts on the meta device, where the adapter (which maps ``t`` onto the release's scheduler grid
    held on the CPU) cannot run."""
    import torch

    batch = z.shape[0]
    if wl.backbone == "flux":
        return model(hidden_states=z, encoder_hidden_states=cond.context.expand(batch, -1, -1),
                     pooled_projections=cond.pooled.expand(batch, -1), timestep=t.to(z.dtype),
                     img_ids=cond.img_ids, txt_ids=cond.txt_ids,
                     guidance=torch.ones(batch, device=z.device, dtype=z.dtype), return_dict=False)[0]
    return model(hidden_states=z, timestep=(t * 1000).to(z.dtype),
                 encoder_hidden_states=cond.context.expand(batch, -1, -1), return_dict=False)[0]


def make_prompt(wl: Workload, transformer, device: str, seed: int = 0):
    """(prompt, implementation): a fresh residual ``ypt.prompts`` prompt for ``transformer`` (fp32 parameters, as
    training keeps them), gates at their initial zero."""
    import torch

    from ypt.prompts import make_prompt as ypt_make_prompt

    generator = torch.Generator().manual_seed(seed)
    prompt = ypt_make_prompt("residual", transformer, text_len=wl.text_tokens, generator=generator)
    return prompt.to(device), "ypt.prompts.ResidualPrompt"


def write_null_context(wl: Workload, folder) -> Path:
    """The null-text context file the adapters read instead of running their text encoders: random tensors of the
    encoders' output shapes (:func:`null_conditioning`), written to ``folder``."""
    import torch
    from safetensors.torch import save_file

    cond = null_conditioning(wl, "cpu", torch.float32)
    tensors = {"encoder_hidden_states": cond.context.contiguous()}
    if cond.pooled is not None:
        tensors["pooled_projections"] = cond.pooled.contiguous()
    path = Path(folder) / f"null-{wl.backbone}-{wl.size}.safetensors"
    save_file(tensors, str(path))
    return path


def build_engine(wl: Workload, device: str, dtype, scratch_dir):
    """The ``ypt.backbones`` adapter of ``wl.backbone`` around random-weight modules (``engine.impl`` names it),
    reading its null-text context from :func:`write_null_context` in ``scratch_dir``, exactly how it reuses a cached
    context without loading the text encoders.
    """
    import torch

    from ypt.backbones import backbone_class

    cls = backbone_class(wl.backbone)
    transformer = build_transformer(wl, device, dtype)
    vae = build_vae(wl, device, torch.float32)
    engine = cls(transformer, vae, dtype=dtype, device=device, null_context_file=write_null_context(wl, scratch_dir))
    engine.impl = f"ypt.backbones.{cls.__name__}"
    return engine
