"""Prompt conditioning modules that attach to a frozen diffusers transformer (FLUX or WAN 2.1).

Variants (DESIGN.md "Prompt conditioning variants"; paper Tables 5 and Fig. 2):

* ``residual`` (default, the official design): one shared tensor ``P`` (init N(0, 0.02)) and one scalar gate per
  block (init 0). WAN: every cross-attention becomes ``attn2(h, c) + a_i * attn2(h, c + P)`` where ``c`` is the
  projected null-text context the block receives. FLUX: the attention of every double-stream block gets
  ``encoder_hidden_states + a_i * P`` and the attention of every single-stream block gets ``a_i * P`` added to the
  first ``L`` (text) tokens of its joint input. As in the authors' release (``prompt_helpers.CrossAttnAddPromptsFlux``
  wraps ``block.attn``), ``P`` enters the attention inputs (after the blocks' adaptive norms) and never the text
  residual stream, so each gate acts on its own block only.
* ``embedding``: the full text-encoder output is learned (WAN ``L x text_dim``; FLUX the T5 sequence plus the
  pooled CLIP vector) and fed through the frozen input projections of the transformer.
* ``token``: token embeddings at the text encoder's input are learned (textual-inversion style) and encoded by the
  frozen text encoder at every forward pass (the control the paper shows fails).
* ``text``: a fixed natural-language instruction's context; nothing is trained.

A module never changes the transformer's parameters: :meth:`PromptModule.applied` registers hooks for the
duration of a ``with`` block and removes them afterwards. With every gate at zero a residual prompt leaves the
transformer's output unchanged.
"""
from __future__ import annotations

import contextlib
import difflib
import weakref
from collections.abc import Callable, Iterator
from typing import Any

import torch
from torch import nn

from ypt.prompts.paths import VARIANTS

#: transformers that currently carry a prompt's hooks (a second prompt would stack on the first)
_ATTACHED: weakref.WeakSet = weakref.WeakSet()
INIT_STD = 0.02


def transformer_arch(transformer: nn.Module) -> str:
    """``"wan"`` or ``"flux"`` from the module's structure."""
    if hasattr(transformer, "blocks") and all(hasattr(b, "attn2") for b in transformer.blocks):
        return "wan"
    if hasattr(transformer, "transformer_blocks") and hasattr(transformer, "single_transformer_blocks"):
        return "flux"
    raise TypeError(f"{type(transformer).__name__} is neither a WAN nor a FLUX transformer; prompts attach to "
                    "diffusers' WanTransformer3DModel or FluxTransformer2DModel")


def inner_dim(transformer: nn.Module) -> int:
    config = transformer.config
    return int(config.num_attention_heads * config.attention_head_dim)


def num_gates(transformer: nn.Module) -> int:
    if transformer_arch(transformer) == "wan":
        return len(transformer.blocks)
    return len(transformer.transformer_blocks) + len(transformer.single_transformer_blocks)


class PromptModule(nn.Module):
    """Base class: trainable prompt parameters plus :meth:`applied`."""

    variant = "prompt"

    def __init__(self, arch: str):
        super().__init__()
        self.arch = arch

    def _hooks(self, transformer: nn.Module) -> list[torch.utils.hooks.RemovableHandle]:
        raise NotImplementedError

    @contextlib.contextmanager
    def applied(self, transformer: nn.Module) -> Iterator[PromptModule]:
        """Attach to ``transformer`` for the block; the transformer is restored exactly afterwards."""
        arch = transformer_arch(transformer)
        if arch != self.arch:
            raise ValueError(f"this {self.variant} prompt was made for {self.arch}, not for a {arch} transformer")
        if transformer in _ATTACHED:
            raise RuntimeError("a prompt is already attached to this transformer; leave its `applied` block first "
                               "(mixed degradations run the prompts one after another and average their velocities)")
        handles = self._hooks(transformer)
        _ATTACHED.add(transformer)
        try:
            yield self
        finally:
            _ATTACHED.discard(transformer)
            for handle in handles:
                handle.remove()

    def num_trainable(self) -> int:
        return sum(p.numel() for p in self.parameters() if p.requires_grad)


def _replace_arg(args: tuple, kwargs: dict, index: int, name: str, fn: Callable[[torch.Tensor], torch.Tensor]):
    """Apply ``fn`` to the argument passed positionally at ``index`` or as keyword ``name``."""
    if name in kwargs:
        kwargs = {**kwargs, name: fn(kwargs[name])}
    elif len(args) > index:
        args = (*args[:index], fn(args[index]), *args[index + 1:])
    else:
        raise RuntimeError(f"prompt hook: the block was called without {name}")
    return args, kwargs


class ResidualPrompt(PromptModule):
    """Shared prompt ``P`` (1, L, inner_dim) and one zero-initialised gate per block."""

    variant = "residual"

    def __init__(self, arch: str, text_len: int, dim: int, n_gates: int, generator: torch.Generator | None = None):
        super().__init__(arch)
        self.prompt = nn.Parameter(torch.randn(1, text_len, dim, generator=generator) * INIT_STD)
        self.gates = nn.Parameter(torch.zeros(n_gates))

    @classmethod
    def for_transformer(cls, transformer: nn.Module, text_len: int, generator: torch.Generator | None = None):
        return cls(transformer_arch(transformer), text_len, inner_dim(transformer), num_gates(transformer), generator)

    def _check_context(self, context: torch.Tensor) -> None:
        if context.shape[-2:] != self.prompt.shape[-2:]:
            raise ValueError(f"residual prompt of shape {tuple(self.prompt.shape[1:])} cannot be added to a context "
                             f"of shape {tuple(context.shape[1:])}: the backbone's text length or width differs")

    def shifted(self, context: torch.Tensor) -> torch.Tensor:
        """WAN: the null context plus the prompt, ``c + P`` (added in fp32, back to the context's dtype)."""
        self._check_context(context)
        return (context.float() + self.prompt.float()).to(context.dtype)

    def combine(self, output: torch.Tensor, extra: torch.Tensor, i: int) -> torch.Tensor:
        """WAN: ``attn2(h, c) + a_i * attn2(h, c + P)``, combined in fp32 like the release, in the output's dtype."""
        return (output.float() + self.gates[i].float() * extra.float()).to(output.dtype)

    def _hooks(self, transformer):
        handles = []
        if self.arch == "wan":
            for i, block in enumerate(transformer.blocks):
                if _SharedQueryCrossAttention.supports(block.attn2):
                    handles.append(_SharedQueryCrossAttention(self, i).install(block.attn2))
                    continue

                def cross_attention(module, args, kwargs, output, i=i):
                    # any other attention processor: the second pass is a second call of the whole module
                    new_args, new_kwargs = _replace_arg(args, kwargs, 1, "encoder_hidden_states", self.shifted)
                    extra = module.forward(*new_args, **new_kwargs)
                    return self.combine(output, extra, i)
                handles.append(block.attn2.register_forward_hook(cross_attention, with_kwargs=True))
        else:
            n_double = len(transformer.transformer_blocks)
            for i, block in enumerate(transformer.transformer_blocks):
                def shift_context(module, args, kwargs, i=i):
                    def shifted(context):
                        self._check_context(context)
                        return context + (self.gates[i] * self.prompt).to(context.dtype)  # a_i * P in fp32
                    return _replace_arg(args, kwargs, 1, "encoder_hidden_states", shifted)
                handles.append(block.attn.register_forward_pre_hook(shift_context, with_kwargs=True))
            for j, block in enumerate(transformer.single_transformer_blocks):
                def shift_text_tokens(module, args, kwargs, i=n_double + j):
                    def shifted(joint):
                        text_len, dim = self.prompt.shape[1:]
                        if joint.shape[1] < text_len or joint.shape[-1] != dim:
                            raise ValueError(f"residual prompt of shape {(text_len, dim)} does not fit the joint "
                                             f"sequence of shape {tuple(joint.shape[1:])}")
                        text = joint[:, :text_len] + (self.gates[i] * self.prompt).to(joint.dtype)
                        return torch.cat([text, joint[:, text_len:]], dim=1)
                    return _replace_arg(args, kwargs, 0, "hidden_states", shifted)
                handles.append(block.attn.register_forward_pre_hook(shift_text_tokens, with_kwargs=True))
        return handles


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

    def __init__(self, prompt: ResidualPrompt, index: int):
        self.prompt, self.index = prompt, index
        self.module = self.original = None

    @staticmethod
    def supports(attn: nn.Module) -> bool:
        try:
            from diffusers.models.transformers.transformer_wan import WanAttnProcessor
        except ImportError:  # diffusers without WanAttention: the generic two-call hook
            return False
        return type(getattr(attn, "processor", None)) is WanAttnProcessor and getattr(attn, "add_k_proj", 0) is None

    def install(self, attn: nn.Module) -> _SharedQueryCrossAttention:
        self.module, self.original = attn, attn.processor
        attn.processor = self
        return self

    def remove(self) -> None:
        """Put the original processor back (the handle protocol of :meth:`PromptModule._hooks`)."""
        if self.module is not None and self.module.processor is self:
            self.module.processor = self.original
        self.module = None

    def __call__(self, attn, hidden_states, encoder_hidden_states=None, attention_mask=None, rotary_emb=None):
        from diffusers.models.attention_dispatch import dispatch_attention_fn

        if encoder_hidden_states is None or rotary_emb is not None:
            raise RuntimeError("the residual prompt's processor is for WAN's cross-attention (attn2) only")
        query = attn.norm_q(attn.to_q(hidden_states)).unflatten(2, (attn.heads, -1))

        def attend(context):
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


class _ContextReplacingPrompt(PromptModule):
    """Replaces the transformer's text inputs (``encoder_hidden_states`` and, for FLUX, ``pooled_projections``)."""

    def context(self) -> dict[str, torch.Tensor]:
        raise NotImplementedError

    def _hooks(self, transformer):
        def replace(module, args, kwargs):
            context = self.context()
            kwargs = dict(kwargs)
            for name, value in context.items():
                if name not in kwargs:
                    raise RuntimeError(f"{self.variant} prompt: the transformer must be called with {name}= as a "
                                       "keyword (ypt.backbones does)")
                batch = kwargs[name].shape[0]
                kwargs[name] = value.to(kwargs[name].dtype).expand(batch, *value.shape[1:])
            return args, kwargs
        return [transformer.register_forward_pre_hook(replace, with_kwargs=True)]


class EmbeddingPrompt(_ContextReplacingPrompt):
    """The whole text-encoder output is learned (plus FLUX's pooled CLIP vector)."""

    variant = "embedding"

    def __init__(self, arch: str, text_len: int, text_dim: int, pooled_dim: int | None = None,
                 init: dict[str, torch.Tensor] | None = None, generator: torch.Generator | None = None):
        super().__init__(arch)
        if init is not None and "encoder_hidden_states" in init:
            start = init["encoder_hidden_states"].detach().float().reshape(1, text_len, text_dim).clone()
        else:
            start = torch.randn(1, text_len, text_dim, generator=generator) * INIT_STD
        self.embedding = nn.Parameter(start)
        if pooled_dim:
            pooled = (init["pooled_projections"].detach().float().reshape(1, pooled_dim).clone()
                      if init is not None and "pooled_projections" in init
                      else torch.randn(1, pooled_dim, generator=generator) * INIT_STD)
            self.pooled = nn.Parameter(pooled)
        else:
            self.pooled = None

    @classmethod
    def for_transformer(cls, transformer, text_len: int, init=None, generator=None):
        arch = transformer_arch(transformer)
        config = transformer.config
        if arch == "wan":
            return cls(arch, text_len, int(config.text_dim), None, init, generator)
        return cls(arch, text_len, int(config.joint_attention_dim), int(config.pooled_projection_dim), init, generator)

    def context(self):
        out = {"encoder_hidden_states": self.embedding}
        if self.pooled is not None:
            out["pooled_projections"] = self.pooled
        return out


class TokenPrompt(_ContextReplacingPrompt):
    """Learned token embeddings at the input of a frozen text encoder (``inputs_embeds``)."""

    variant = "token"

    def __init__(self, arch: str, text_encoder: nn.Module, num_tokens: int, text_len: int,
                 pooled: torch.Tensor | None = None, generator: torch.Generator | None = None):
        super().__init__(arch)
        embed = text_encoder.get_input_embeddings()
        start = embed.weight[torch.randint(0, embed.weight.shape[0], (num_tokens,), generator=generator)]
        self.tokens = nn.Parameter(start.detach().float().unsqueeze(0).clone())
        self.text_len = text_len
        object.__setattr__(self, "text_encoder", text_encoder)  # frozen, not a submodule: never saved or trained
        self.register_buffer("pooled", None if pooled is None else pooled.detach().float().clone(), persistent=False)

    def context(self):
        encoder = self.text_encoder
        dtype = next(encoder.parameters()).dtype
        hidden = encoder(inputs_embeds=self.tokens.to(dtype)).last_hidden_state
        pad = self.text_len - hidden.shape[1]
        if pad < 0:
            raise ValueError(f"{hidden.shape[1]} learned tokens exceed the context length {self.text_len}")
        hidden = torch.nn.functional.pad(hidden, (0, 0, 0, pad))  # zero-padded like the pipelines' null context
        out = {"encoder_hidden_states": hidden}
        if self.pooled is not None:
            out["pooled_projections"] = self.pooled
        return out


class TextPrompt(_ContextReplacingPrompt):
    """A fixed instruction's context (from the backbone's ``encode_text``); nothing trains."""

    variant = "text"

    def __init__(self, arch: str, context: dict[str, torch.Tensor], instruction: str = ""):
        super().__init__(arch)
        self.instruction = instruction
        self._names = sorted(context)
        for name, value in context.items():
            self.register_buffer(name, value.detach().clone(), persistent=False)

    def context(self):
        return {name: getattr(self, name) for name in self._names}


def make_prompt(variant: str, transformer: nn.Module, text_len: int | None = None, *,
                generator: torch.Generator | None = None, init: dict[str, torch.Tensor] | None = None,
                text_encoder: nn.Module | None = None, num_tokens: int | None = None,
                context: dict[str, torch.Tensor] | None = None, instruction: str = "") -> PromptModule:
    """A prompt module of ``variant`` sized for ``transformer``.

    ``text_len`` is the context length the backbone feeds (FLUX 512, WAN 226). ``embedding`` may start from
    ``init`` (e.g. the null context); ``token`` needs the frozen ``text_encoder`` (and ``num_tokens``); ``text``
    needs the instruction's ``context``.
    """
    if variant not in VARIANTS:
        close = difflib.get_close_matches(str(variant), VARIANTS, n=2, cutoff=0.4)
        hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
        raise ValueError(f"unknown prompt variant {variant!r}.{hint} Valid: {', '.join(VARIANTS)}")
    arch = transformer_arch(transformer)
    text_len = int(text_len or (512 if arch == "flux" else 226))
    if variant == "residual":
        return ResidualPrompt.for_transformer(transformer, text_len, generator)
    if variant == "embedding":
        return EmbeddingPrompt.for_transformer(transformer, text_len, init, generator)
    if variant == "token":
        if text_encoder is None:
            raise ValueError("a token prompt needs the frozen text encoder (load the backbone with text encoders)")
        pooled = None if arch == "wan" or context is None else context.get("pooled_projections")
        if arch == "flux" and pooled is None:
            raise ValueError("a FLUX token prompt needs context={'pooled_projections': ...} (the null CLIP vector)")
        return TokenPrompt(arch, text_encoder, int(num_tokens or min(text_len, 32)), text_len, pooled, generator)
    if context is None:
        raise ValueError("a text prompt needs the instruction's context: backbone.encode_text(instruction)")
    return TextPrompt(arch, context, instruction)


def prompt_from_state(variant: str, transformer: nn.Module, state: dict[str, torch.Tensor], **kwargs: Any) -> PromptModule:
    """A module of ``variant`` whose shapes are read from ``state`` (a saved state dict)."""
    if variant == "residual":
        text_len = state["prompt"].shape[1]
    elif variant == "embedding":
        text_len = state["embedding"].shape[1]
    else:
        text_len = kwargs.pop("text_len", None)
    return make_prompt(variant, transformer, text_len, **kwargs)
