"""Analytic model FLOPs of the FLUX and WAN transformers, read off their diffusers configs (no torch import).

Counting rules (one multiply-add = 2 FLOPs; norms, activations, RoPE, softmax and adds are not counted):

* a linear layer ``in -> out`` applied to ``n`` rows costs ``2 * n * in * out`` forward;
* the attention core over ``Lq`` queries and ``Lk`` keys of width ``d = heads * head_dim`` costs
  ``2 * Lq * Lk * d`` for ``Q K^T`` plus ``2 * Lq * Lk * d`` for ``P V``: ``4 * Lq * Lk * d``
  (self-attention: ``4 * L^2 * d`` per layer). Forward of one call ~= ``2 * params * tokens + attention``.

Prompt training freezes the backbone and learns only the prompt tensor injected into every block, so the backward
pass must carry input gradients through the blocks but computes no weight gradients:

* a linear ``Y = X W``: backward ``dX = dY W^T`` costs the same ``2 n k m`` as the forward; the weight gradient
  ``dW = X^T dY`` is skipped because ``W.requires_grad`` is False. Backward = 1x forward (not the usual 2x).
* the attention core ``S = Q K^T, P = softmax(S), O = P V``: backward needs ``dV = P^T dO``, ``dP = dO V^T``,
  ``dQ = dS K`` and ``dK = dS^T Q``: four products of the forward's size, 2x the forward core (``dQ`` or
  ``dK, dV`` drop out where their input needs no gradient).
* no backward where no input needs a gradient: embedders, per-sample modulation linears fed by the time embedding,
  and the part of the first block that runs before the prompt enters (FLUX: the image-stream q/k/v of the first
  double block; WAN: the first block's self-attention and its cross-attention query).

So with ``G`` the forward GEMM FLOPs of the blocks, ``A`` their attention cores and ``E`` the embedders, a step is
``E + 2G + 3A`` per sample minus the first-block terms above: about 2x the forward, since ``G`` dominates
(full fine-tuning with weight gradients would be ``E + 3G + 3A``). Gradient checkpointing re-runs each block's
forward inside the backward: hardware FLOPs add ``G + A``. MFU uses model FLOPs (recomputation is not useful work);
HFU uses hardware FLOPs.

``tests/test_perf.py`` checks these counts exactly against ``torch.utils.flop_counter`` on tiny real models.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

#: backward multiplier per term kind for frozen-weight (input-gradient only) training
BACKWARD_MULTIPLIER = {"embed": 0, "gemm": 1, "attention": 2}


@dataclass(frozen=True)
class FlopTerm:
    name: str
    kind: str  # "embed", "gemm" or "attention"
    forward: int  # FLOPs per sample
    backward: int  # frozen-weight backward FLOPs per sample


@dataclass
class FlopBreakdown:
    """Per-sample forward and frozen-weight backward terms of one transformer call."""

    backbone: str
    tokens: dict[str, int]
    terms: list[FlopTerm] = field(default_factory=list)

    def add(self, name: str, kind: str, flops: int, backward: int | None = None) -> None:
        """Add a term; ``backward`` defaults to the kind's multiplier times ``flops``."""
        if kind not in BACKWARD_MULTIPLIER:
            raise ValueError(f"unknown term kind {kind!r}")
        bwd = BACKWARD_MULTIPLIER[kind] * flops if backward is None else backward
        self.terms.append(FlopTerm(name, kind, int(flops), int(bwd)))

    def total(self, kind: str | None = None) -> int:
        return sum(t.forward for t in self.terms if kind is None or t.kind == kind)

    @property
    def forward(self) -> int:
        return self.total()

    @property
    def backward_frozen(self) -> int:
        """Backward FLOPs with frozen weights (input gradients only)."""
        return sum(t.backward for t in self.terms)

    @property
    def recompute(self) -> int:
        """Extra forward FLOPs gradient checkpointing spends re-running the blocks in the backward."""
        return self.total("gemm") + self.total("attention")

    def train_step(self, batch: int, gradient_checkpointing: bool = False) -> tuple[int, int]:
        """(model FLOPs, hardware FLOPs) of one frozen-backbone prompt-training step on ``batch`` samples."""
        model = batch * (self.forward + self.backward_frozen)
        hardware = model + (batch * self.recompute if gradient_checkpointing else 0)
        return model, hardware

    def as_dict(self) -> dict:
        return {
            "backbone": self.backbone,
            "tokens": dict(self.tokens),
            "forward": self.forward,
            "embed": self.total("embed"),
            "gemm": self.total("gemm"),
            "attention": self.total("attention"),
            "backward_frozen": self.backward_frozen,
        }


def linear(rows: int, d_in: int, d_out: int) -> int:
    return 2 * rows * d_in * d_out


def attention_core(l_q: int, l_k: int, width: int) -> int:
    return 4 * l_q * l_k * width


def flux_tokens(height: int, width: int, vae_scale: int = 8, patch: int = 2) -> int:
    """Image tokens of FLUX at ``height x width`` pixels: VAE /8, then 2x2 latent packing."""
    if height % (vae_scale * patch) or width % (vae_scale * patch):
        raise ValueError(f"FLUX needs sides divisible by {vae_scale * patch}, got {height}x{width}")
    return (height // (vae_scale * patch)) * (width // (vae_scale * patch))


def wan_latent_shape(frames: int, height: int, width: int, temporal: int = 4, spatial: int = 8) -> tuple[int, int, int]:
    """WAN VAE latent (frames, height, width): causal temporal /4 keeps the first frame, spatial /8."""
    if (frames - 1) % temporal:
        raise ValueError(f"WAN needs frames = 1 + {temporal}k, got {frames}")
    if height % spatial or width % spatial:
        raise ValueError(f"WAN needs sides divisible by {spatial}, got {height}x{width}")
    return (frames - 1) // temporal + 1, height // spatial, width // spatial


def flux_flops(config: dict, image_tokens: int, text_tokens: int) -> FlopBreakdown:
    """Forward FLOPs of ``FluxTransformer2DModel(**config)`` on one sample."""
    d = config["num_attention_heads"] * config["attention_head_dim"]
    p = config.get("patch_size", 1)
    c_in = config["in_channels"]
    c_out = (config.get("out_channels") or config["in_channels"]) * p * p
    li, lt = image_tokens, text_tokens
    seq = li + lt
    freq = 256  # sinusoidal timestep projection width in FLUX's CombinedTimestep*Embeddings
    out = FlopBreakdown("flux", {"image": li, "text": lt, "sequence": seq})
    out.add("x_embedder", "embed", linear(li, c_in, d))
    out.add("context_embedder", "embed", linear(lt, config["joint_attention_dim"], d))
    time_embed = linear(1, freq, d) + linear(1, d, d)
    time_embed += linear(1, config["pooled_projection_dim"], d) + linear(1, d, d)
    if config.get("guidance_embeds", False):
        time_embed += linear(1, freq, d) + linear(1, d, d)
    out.add("time_text_embed", "embed", time_embed)
    n_double, n_single = config["num_layers"], config["num_single_layers"]
    # double-stream: AdaLayerNormZero (d -> 6d) for image and text stream, per sample
    out.add("double.modulation", "embed", n_double * 2 * linear(1, d, 6 * d))
    # q, k, v, out (4 d^2) + feed-forward d -> 4d -> d (8 d^2), separate weights per stream: 12 d^2 per token
    double_linears = n_double * (linear(seq, d, 3 * d) + linear(seq, d, d) + 2 * linear(seq, d, 4 * d))
    # the prompt enters the text stream, so the first block's image q/k/v inputs need no gradient
    first_image_qkv = linear(li, d, 3 * d) if n_double else 0
    out.add("double.linears", "gemm", double_linears, backward=double_linears - first_image_qkv)
    out.add("double.attention", "attention", n_double * attention_core(seq, seq, d))
    # single-stream: AdaLayerNormZeroSingle (d -> 3d) per sample; proj_mlp d->4d, qkv 3d^2, proj_out 5d->d
    out.add("single.modulation", "embed", n_single * linear(1, d, 3 * d))
    single_linears = linear(seq, d, 4 * d) + linear(seq, d, 3 * d) + linear(seq, 5 * d, d)
    out.add("single.linears", "gemm", n_single * single_linears)
    out.add("single.attention", "attention", n_single * attention_core(seq, seq, d))
    out.add("norm_out.modulation", "embed", linear(1, d, 2 * d))
    out.add("proj_out", "gemm", linear(li, d, c_out))
    return out


def wan_flops(config: dict, latent_frames: int, latent_height: int, latent_width: int, text_tokens: int,
              cross_attention_passes: int = 1) -> FlopBreakdown:
    """Forward FLOPs of ``WanTransformer3DModel(**config)`` on one clip of latent size ``(F, H, W)``.

    ``cross_attention_passes = 2`` counts the residual prompt variant, which runs every ``attn2`` twice
    (``attn2(h, c_null) + a_i * attn2(h, c_null + P)``) on one shared query projection.
    """
    d = config["num_attention_heads"] * config["attention_head_dim"]
    pt, ph, pw = config.get("patch_size", (1, 2, 2))
    if latent_frames % pt or latent_height % ph or latent_width % pw:
        raise ValueError(f"latent {latent_frames}x{latent_height}x{latent_width} not divisible by patch {(pt, ph, pw)}")
    lv = (latent_frames // pt) * (latent_height // ph) * (latent_width // pw)
    lc = text_tokens
    patch = pt * ph * pw
    out_ch = config.get("out_channels") or config["in_channels"]
    n = config["num_layers"]
    ffn = config["ffn_dim"]
    freq = config.get("freq_dim", 256)
    out = FlopBreakdown("wan", {"video": lv, "text": lc, "sequence": lv})
    out.add("patch_embedding", "embed", linear(lv, config["in_channels"] * patch, d))
    out.add("condition_embedder.time", "embed", linear(1, freq, d) + linear(1, d, d) + linear(1, d, 6 * d))
    out.add("condition_embedder.text", "embed", linear(lc, config["text_dim"], d) + linear(lc, d, d))
    # block 0's self-attention runs before the prompt enters: no backward there
    self_lin, self_core = 4 * linear(lv, d, d), attention_core(lv, lv, d)
    out.add("self_attn.linears", "gemm", n * self_lin, backward=(n - 1) * self_lin)
    out.add("self_attn.attention", "attention", n * self_core, backward=(n - 1) * 2 * self_core)
    q_o, k_v, core = 2 * linear(lv, d, d), 2 * linear(lc, d, d), attention_core(lv, lc, d)
    q = q_o // 2
    # the pass whose context carries the prompt: full input-gradient backward, except block 0's query
    # (its input needs no gradient: dQ and the query projection drop out, 3 of the 4 core products remain)
    lin_fwd, core_fwd = n * (q_o + k_v), n * core
    lin_bwd = n * (q_o + k_v) - q
    core_bwd = n * 2 * core - core // 2
    if cross_attention_passes == 2:
        # the null-context pass attn2(h, c_null) shares the prompt pass's query (ypt.prompts projects it once), so
        # it adds its k/v and output projections and its core; c_null is constant: no dK, dV, no k/v backward;
        # dQ (summed into the shared query's gradient) and the output projection remain in blocks >= 1
        lin_fwd += n * (q_o - q + k_v)
        core_fwd += n * core
        lin_bwd += (n - 1) * (q_o - q)
        core_bwd += (n - 1) * core
    elif cross_attention_passes != 1:
        raise ValueError(f"cross_attention_passes must be 1 or 2, got {cross_attention_passes}")
    out.add("cross_attn.linears", "gemm", lin_fwd, backward=lin_bwd)
    out.add("cross_attn.attention", "attention", core_fwd, backward=core_bwd)
    out.add("ffn", "gemm", n * (linear(lv, d, ffn) + linear(lv, ffn, d)))
    out.add("proj_out", "gemm", linear(lv, d, out_ch * patch))
    return out


def mfu(flops: float, seconds: float, peak_flops_per_s: float) -> float | None:
    """Achieved fraction of peak: ``flops / (seconds * peak)``; None when time or peak is unknown."""
    if not seconds or not peak_flops_per_s or seconds <= 0 or peak_flops_per_s <= 0 or math.isnan(seconds):
        return None
    return flops / (seconds * peak_flops_per_s)
