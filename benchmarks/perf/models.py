"""Build the workload's transformer and VAE from config with random weights, directly on the device.

Random weights are enough to measure speed and memory: no checkpoint is read. The learned prompt is attached with
forward hooks in the residual form of DESIGN.md (one shared tensor ``P`` and one gate per block):
FLUX blocks see ``encoder_hidden_states + a_i * P``; every WAN ``attn2`` becomes
``attn2(h, c) + a_i * attn2(h, c + P)`` (two cross-attention passes, as counted by ``flops.wan_flops``).
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass, field

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


def encode(wl: Workload, vae, pixels):
    """Normalised latents of pixels in [-1, 1] (FLUX: (B,3,H,W); WAN: (B,3,F,H,W)), as the pipelines do."""
    import torch

    with torch.no_grad():
        z = vae.encode(pixels.to(vae.dtype)).latent_dist.mode()
        if wl.backbone == "flux":
            return (z - vae.config.shift_factor) * vae.config.scaling_factor
        mean = torch.tensor(vae.config.latents_mean, device=z.device, dtype=z.dtype).view(1, -1, 1, 1, 1)
        std = torch.tensor(vae.config.latents_std, device=z.device, dtype=z.dtype).view(1, -1, 1, 1, 1)
        return (z - mean) / std


def decode(wl: Workload, vae, latents):
    import torch

    with torch.no_grad():
        if wl.backbone == "flux":
            z = latents / vae.config.scaling_factor + vae.config.shift_factor
        else:
            like = {"device": latents.device, "dtype": latents.dtype}
            mean = torch.tensor(vae.config.latents_mean, **like).view(1, -1, 1, 1, 1)
            std = torch.tensor(vae.config.latents_std, **like).view(1, -1, 1, 1, 1)
            z = latents * std + mean
        return vae.decode(z.to(vae.dtype)).sample


@dataclass
class ResidualPrompt:
    """Learned residual prompts, attached to a transformer by hooks (``applied(transformer)`` or ``attach``).

    ``prompt`` is ``(tokens, inner_dim)`` with ``gates`` ``(n_blocks,)`` for one prompt, or ``(n, tokens, inner_dim)``
    with ``(n, n_blocks)`` for ``n`` prompts evaluated in one batched call (sample ``i`` of the batch uses prompt
    ``i``). The hooks read the attributes at call time, so prompts can be swapped between calls.
    ``applied`` is the context-manager protocol ``ypt.backbones`` adapters call around each velocity.
    """

    backbone: str
    prompt: object
    gates: object
    handles: list = field(default_factory=list)

    def parameters(self) -> list:
        return [self.prompt, self.gates]

    def gate(self, index: int):
        g = self.gates[..., index]
        return g.view(-1, 1, 1) if g.ndim == 1 else g

    def attach(self, model) -> "ResidualPrompt":
        blocks = (list(model.transformer_blocks) + list(model.single_transformer_blocks)
                  if self.backbone == "flux" else list(model.blocks))
        if self.gates.shape[-1] != len(blocks):
            raise ValueError(f"{len(blocks)} blocks in the model, {self.gates.shape[-1]} gates in the prompt")
        for index, block in enumerate(blocks):
            if self.backbone == "flux":
                self.handles.append(block.register_forward_pre_hook(self._flux_hook(index), with_kwargs=True))
            else:
                self.handles.append(block.attn2.register_forward_hook(self._wan_hook(index)))
        return self

    def _flux_hook(self, index: int):
        def pre_hook(module, args, kwargs):
            if "encoder_hidden_states" in kwargs:
                kwargs = dict(kwargs)
                kwargs["encoder_hidden_states"] = kwargs["encoder_hidden_states"] + self.gate(index) * self.prompt
                return args, kwargs
            args = list(args)
            args[1] = args[1] + self.gate(index) * self.prompt
            return tuple(args), kwargs
        return pre_hook

    def _wan_hook(self, index: int):
        def post_hook(module, args, output):
            hidden, context = args[0], args[1]
            extra = module.processor(module, hidden, context + self.prompt.to(context.dtype), None, None)
            return output + self.gate(index) * extra
        return post_hook

    @contextlib.contextmanager
    def applied(self, model):
        """Attached for the block; a no-op when already attached (``attach`` for a whole training step)."""
        if self.handles:
            yield self
            return
        self.attach(model)
        try:
            yield self
        finally:
            self.remove()

    def remove(self) -> None:
        for handle in self.handles:
            handle.remove()
        self.handles.clear()


def new_prompt(wl: Workload, device: str, dtype, n: int | None = None, gate_init: float = 0.0,
               seed: int = 0) -> ResidualPrompt:
    """A residual prompt ~ N(0, 0.02) of shape ([n,] tokens, inner_dim) with gates ``gate_init``, not attached."""
    import torch

    inner = wl.transformer["num_attention_heads"] * wl.transformer["attention_head_dim"]
    n_blocks = (wl.transformer["num_layers"] + wl.transformer.get("num_single_layers", 0)
                if wl.backbone == "flux" else wl.transformer["num_layers"])
    lead = () if n is None else (n,)
    generator = torch.Generator(device="cpu").manual_seed(seed)
    start = 0.02 * torch.randn(*lead, wl.text_tokens, inner, generator=generator)
    prompt = torch.nn.Parameter(start.to(device, dtype))
    gates = torch.nn.Parameter(torch.full((*lead, n_blocks), gate_init, device=device, dtype=dtype))
    return ResidualPrompt(wl.backbone, prompt, gates)


def make_prompt(wl: Workload, transformer, device: str, seed: int = 0):
    """(prompt, implementation): ``ypt.prompts.make_prompt("residual", ...)`` (fp32 parameters, as training keeps
    them) when that package imports, else this module's :class:`ResidualPrompt` in fp32."""
    import torch

    try:
        from ypt.prompts import make_prompt as ypt_make_prompt
    except ImportError:
        return new_prompt(wl, device, torch.float32, seed=seed), "benchmarks.perf residual hooks"
    generator = torch.Generator().manual_seed(seed)
    prompt = ypt_make_prompt("residual", transformer, text_len=wl.text_tokens, generator=generator)
    return prompt.to(device), "ypt.prompts.ResidualPrompt"


def attach_residual_prompt(wl: Workload, model, device: str, dtype, gate_init: float = 0.0,
                           n: int | None = None) -> ResidualPrompt:
    """A new residual prompt, attached to ``model`` until ``remove()``."""
    return new_prompt(wl, device, dtype, n, gate_init).attach(model)


def pack_flux(latents):
    """(B, C, H, W) -> (B, H/2 * W/2, 4C): FLUX's 2x2 latent packing."""
    b, c, h, w = latents.shape
    x = latents.view(b, c, h // 2, 2, w // 2, 2).permute(0, 2, 4, 1, 3, 5)
    return x.reshape(b, (h // 2) * (w // 2), c * 4)


def unpack_flux(packed, height: int, width: int):
    """Inverse of :func:`pack_flux` for a latent of ``height x width``."""
    b, _, c4 = packed.shape
    c = c4 // 4
    x = packed.view(b, height // 2, width // 2, c, 2, 2).permute(0, 3, 1, 4, 2, 5)
    return x.reshape(b, c, height, width)


def flux_ids(height: int, width: int, text_tokens: int, device, dtype):
    """(img_ids, txt_ids) for a latent of ``height x width`` (before packing)."""
    import torch

    h, w = height // 2, width // 2
    ids = torch.zeros(h, w, 3, device=device, dtype=dtype)
    ids[..., 1] = torch.arange(h, device=device, dtype=dtype)[:, None]
    ids[..., 2] = torch.arange(w, device=device, dtype=dtype)[None, :]
    return ids.reshape(h * w, 3), torch.zeros(text_tokens, 3, device=device, dtype=dtype)


@dataclass
class Conditioning:
    """The frozen null-text conditioning, computed once per run (random stand-ins of the encoders' shapes)."""

    context: object  # FLUX (1, 512, 4096) T5 / WAN (1, Lc, 4096) UMT5
    pooled: object | None  # FLUX (1, 768) CLIP pooled
    img_ids: object | None = None
    txt_ids: object | None = None


def null_conditioning(wl: Workload, device: str, dtype) -> Conditioning:
    import torch

    generator = torch.Generator(device="cpu").manual_seed(1)
    if wl.backbone == "flux":
        ctx = torch.randn(1, wl.text_tokens, wl.transformer["joint_attention_dim"], generator=generator)
        pooled = torch.randn(1, wl.transformer["pooled_projection_dim"], generator=generator)
        _, h, w = wl.latent_shape
        img_ids, txt_ids = flux_ids(h, w, wl.text_tokens, device, dtype)
        return Conditioning(ctx.to(device, dtype), pooled.to(device, dtype), img_ids, txt_ids)
    ctx = torch.randn(1, wl.text_tokens, wl.transformer["text_dim"], generator=generator)
    return Conditioning(ctx.to(device, dtype), None)


def velocity(wl: Workload, model, z, t, cond: Conditioning):
    """Backbone velocity for latent ``z`` (FLUX packed (B, L, 4C); WAN (B, C, F, H, W)) at noise level ``t`` (B,)."""
    import torch

    batch = z.shape[0]
    if wl.backbone == "flux":
        return model(hidden_states=z, encoder_hidden_states=cond.context.expand(batch, -1, -1),
                     pooled_projections=cond.pooled.expand(batch, -1), timestep=t.to(z.dtype),
                     img_ids=cond.img_ids, txt_ids=cond.txt_ids,
                     guidance=torch.ones(batch, device=z.device, dtype=z.dtype), return_dict=False)[0]
    return model(hidden_states=z, timestep=(t * 1000).to(z.dtype),
                 encoder_hidden_states=cond.context.expand(batch, -1, -1), return_dict=False)[0]


class DirectEngine:
    """The backbone calls of ``ypt.backbones`` (encode / decode in [0, 1], ``predict_x0``) done directly on the
    diffusers modules, for runs where that package is not importable. Same shapes, layouts and FLOPs."""

    impl = "benchmarks.perf direct (diffusers modules)"

    def __init__(self, wl: Workload, transformer, vae, cond: Conditioning, device: str, dtype):
        self.wl, self.transformer, self.vae, self.cond = wl, transformer, vae, cond
        self.device, self.dtype = device, dtype

    def encode(self, pixels):
        return encode(self.wl, self.vae, pixels * 2 - 1)

    def decode(self, latents):
        return ((decode(self.wl, self.vae, latents) + 1) / 2).clamp(0, 1)

    def predict_x0(self, z, sigma, prompt=None):
        import torch

        sigma = torch.as_tensor(sigma, dtype=torch.float32, device=z.device).reshape(-1).expand(z.shape[0])
        with self.attached(prompt):
            if self.wl.backbone == "flux":
                h, w = z.shape[-2:]
                packed = velocity(self.wl, self.transformer, pack_flux(z.to(self.dtype)), sigma, self.cond)
                v = unpack_flux(packed, h, w)
            else:
                v = velocity(self.wl, self.transformer, z.to(self.dtype), sigma, self.cond)
        return z.float() - sigma.view(-1, *([1] * (z.ndim - 1))) * v.float()

    def enable_gradient_checkpointing(self) -> None:
        self.transformer.enable_gradient_checkpointing()

    @contextlib.contextmanager
    def attached(self, prompt):
        """Keep ``prompt`` attached for a block (forward and backward); a no-op when already attached, as the
        adapters do."""
        if prompt is None or prompt is getattr(self, "_attached", None):
            yield
            return
        with prompt.applied(self.transformer):
            self._attached = prompt
            try:
                yield
            finally:
                self._attached = None

    def predictor(self, prompts=None, bridge=None):
        """``predict_x0(z, t)`` averaging the prompts' predictions, one call per prompt (as the adapters do)."""
        plist = list(prompts) if isinstance(prompts, (list, tuple)) else [prompts]

        def predict(z, t):
            sigma = bridge.sigma(t) if bridge is not None else t
            return sum(self.predict_x0(z, sigma, p) for p in plist) / len(plist)

        return predict


def build_engine(wl: Workload, device: str, dtype, scratch_dir, use_adapter: bool = True):
    """The object the benches call: the ``ypt.backbones`` adapter of ``wl.backbone`` around random-weight modules
    when that package imports (``engine.impl`` names which), else :class:`DirectEngine`.

    The adapter gets its null-text context from a file written to ``scratch_dir`` (random tensors of the
    encoders' output shapes), exactly how it reuses a cached context without loading the text encoders.
    """
    import torch

    transformer = build_transformer(wl, device, dtype)
    vae = build_vae(wl, device, torch.float32)
    cond = null_conditioning(wl, device, dtype)
    if use_adapter:
        try:
            from ypt.backbones import backbone_class
            cls = backbone_class(wl.backbone)
        except ImportError:
            cls = None
        if cls is not None:
            from pathlib import Path

            from safetensors.torch import save_file

            tensors = {"encoder_hidden_states": cond.context.float().cpu().contiguous()}
            if cond.pooled is not None:
                tensors["pooled_projections"] = cond.pooled.float().cpu().contiguous()
            path = Path(scratch_dir) / f"null-{wl.backbone}-{wl.size}.safetensors"
            save_file(tensors, str(path))
            engine = cls(transformer, vae, dtype=dtype, device=device, null_context_file=path)
            engine.impl = f"ypt.backbones.{cls.__name__}"
            return engine
    return DirectEngine(wl, transformer, vae, cond, device, dtype)
