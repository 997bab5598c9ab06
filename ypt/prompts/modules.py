"""Prompt conditioning modules for a frozen backbone adapter (:class:`ypt.backbones.base.Backbone`, FLUX or WAN 2.1).

Variants (DESIGN.md "Prompt conditioning variants"; paper Tables 5 and Fig. 2):

* ``residual`` (default, the official design): one shared tensor ``P`` (init N(0, 0.02)) and one scalar gate per
  block (init 0). Where ``a_i * P`` enters each block is the adapter's knowledge
  (:meth:`~ypt.backbones.base.Backbone.install_residual`): WAN's cross-attentions become
  ``attn2(h, c) + a_i * attn2(h, c + P)``; FLUX's attention inputs get ``a_i * P`` on the text tokens.
* ``embedding``: the full text-encoder output is learned (WAN ``L x text_dim``; FLUX the T5 sequence plus the
  pooled CLIP vector) and fed through the frozen input projections of the transformer.
* ``token``: token embeddings at the text encoder's input are learned (textual-inversion style) and encoded by the
  frozen text encoder at every forward pass (the control the paper shows fails).
* ``text``: a fixed natural-language instruction's context; nothing is trained.

A module holds only its parameters and how they combine; it is sized by the adapter's numbers (``num_gates``,
``prompt_width``, ``context_dims``, the text length) and never changes the transformer's parameters:
:meth:`PromptModule.applied` has the adapter install its hooks for the duration of a ``with`` block and removes them
afterwards. With every gate at zero a residual prompt leaves the transformer's output unchanged.
"""
from __future__ import annotations

import abc
import contextlib
import weakref
from collections.abc import Iterator
from typing import Any

import torch
from torch import nn

from ypt.backbones.base import Backbone, Handle
from ypt.errors import BadInput, UsageError
from ypt.prompts.paths import VARIANTS
from ypt.registry import check_key

#: transformers that currently carry a prompt's hooks (a second prompt would stack on the first)
_ATTACHED: weakref.WeakSet = weakref.WeakSet()
INIT_STD = 0.02


class PromptShapeError(BadInput):
    """A prompt (file) does not fit the backbone it is loaded into or the context it is added to."""


class PromptModule(nn.Module, abc.ABC):
    """Base class: trainable prompt parameters plus :meth:`applied`; ``arch`` is the backbone's name."""

    variant = "prompt"

    def __init__(self, arch: str):
        super().__init__()
        self.arch = arch

    @abc.abstractmethod
    def install(self, backbone: Backbone) -> list[Handle]:
        """Have ``backbone`` hook this prompt into its transformer; the handles take the hooks out again."""

    @contextlib.contextmanager
    def applied(self, backbone: Backbone) -> Iterator[PromptModule]:
        """Attach to ``backbone``'s transformer for the block; the transformer is restored exactly afterwards."""
        if backbone.name != self.arch:
            raise PromptShapeError(f"this {self.variant} prompt was made for {self.arch}, not for a {backbone.name} "
                                   "transformer")
        transformer = backbone.transformer
        if transformer in _ATTACHED:
            raise RuntimeError("a prompt is already attached to this transformer; leave its `applied` block first "
                               "(mixed degradations run the prompts one after another and average their velocities)")
        handles = self.install(backbone)
        _ATTACHED.add(transformer)
        try:
            yield self
        finally:
            _ATTACHED.discard(transformer)
            for handle in handles:
                handle.remove()

    def num_trainable(self) -> int:
        return sum(p.numel() for p in self.parameters() if p.requires_grad)


class ResidualPrompt(PromptModule):
    """Shared prompt ``P`` (1, L, prompt_width) and one zero-initialised gate per block."""

    variant = "residual"

    def __init__(self, arch: str, text_len: int, dim: int, n_gates: int, generator: torch.Generator | None = None):
        super().__init__(arch)
        self.prompt = nn.Parameter(torch.randn(1, text_len, dim, generator=generator) * INIT_STD)
        self.gates = nn.Parameter(torch.zeros(n_gates))

    @classmethod
    def for_backbone(cls, backbone: Backbone, text_len: int | None = None,
                     generator: torch.Generator | None = None) -> ResidualPrompt:
        """Sized by the adapter: ``text_len`` (default the backbone's) x ``prompt_width``, ``num_gates`` gates."""
        return cls(backbone.name, int(text_len or backbone.max_sequence_length), backbone.prompt_width,
                   backbone.num_gates, generator)

    def install(self, backbone: Backbone) -> list[Handle]:
        return backbone.install_residual(self)

    def check_context(self, context: torch.Tensor) -> None:
        """``context`` (B, L, D) must have the prompt's text length and width."""
        if context.shape[-2:] != self.prompt.shape[-2:]:
            raise PromptShapeError(f"residual prompt of shape {tuple(self.prompt.shape[1:])} cannot be added to a "
                                   f"context of shape {tuple(context.shape[1:])}: the backbone's text length or width "
                                   "differs")

    def gated(self, index: int, dtype: torch.dtype) -> torch.Tensor:
        """``a_i * P`` for block ``index``, formed in fp32 and cast to ``dtype``."""
        return (self.gates[index] * self.prompt).to(dtype)

    def shifted(self, context: torch.Tensor) -> torch.Tensor:
        """The null context plus the prompt, ``c + P`` (added in fp32, back to the context's dtype)."""
        self.check_context(context)
        return (context.float() + self.prompt.float()).to(context.dtype)

    def combine(self, output: torch.Tensor, extra: torch.Tensor, index: int) -> torch.Tensor:
        """``out(c) + a_i * out(c + P)``, combined in fp32 like the release, in the output's dtype."""
        return (output.float() + self.gates[index].float() * extra.float()).to(output.dtype)


class _ContextReplacingPrompt(PromptModule):
    """Replaces the transformer's text inputs (``encoder_hidden_states`` and, for FLUX, ``pooled_projections``)."""

    @abc.abstractmethod
    def context(self) -> dict[str, torch.Tensor]:
        """The text context the transformer is called with instead of the null-text one."""

    def install(self, backbone: Backbone) -> list[Handle]:
        return backbone.install_context(self)


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
    def for_backbone(cls, backbone: Backbone, text_len: int | None = None,
                     init: dict[str, torch.Tensor] | None = None,
                     generator: torch.Generator | None = None) -> EmbeddingPrompt:
        """Sized by the adapter's text-encoder output widths (``context_dims``)."""
        dims = backbone.context_dims()
        return cls(backbone.name, int(text_len or backbone.max_sequence_length), dims["encoder_hidden_states"],
                   dims.get("pooled_projections"), init, generator)

    def context(self) -> dict[str, torch.Tensor]:
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

    def context(self) -> dict[str, torch.Tensor]:
        encoder = self.text_encoder
        dtype = next(encoder.parameters()).dtype
        hidden = encoder(inputs_embeds=self.tokens.to(dtype)).last_hidden_state
        pad = self.text_len - hidden.shape[1]
        if pad < 0:
            raise PromptShapeError(f"{hidden.shape[1]} learned tokens exceed the context length {self.text_len}")
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

    def context(self) -> dict[str, torch.Tensor]:
        return {name: getattr(self, name) for name in self._names}


def make_prompt(variant: str, backbone: Backbone, text_len: int | None = None, *,
                generator: torch.Generator | None = None, init: dict[str, torch.Tensor] | None = None,
                text_encoder: nn.Module | None = None, num_tokens: int | None = None,
                context: dict[str, torch.Tensor] | None = None, instruction: str = "") -> PromptModule:
    """A prompt module of ``variant`` sized for ``backbone`` (its gates, prompt width and text-encoder widths).

    ``text_len`` is the context length the prompt is made for (default the backbone's ``max_sequence_length``).
    ``embedding`` may start from ``init`` (e.g. the null context); ``token`` needs the frozen ``text_encoder``
    (and ``num_tokens``); ``text`` needs the instruction's ``context``.
    """
    check_key("prompt variant", variant, VARIANTS)
    text_len = int(text_len or backbone.max_sequence_length)
    if variant == "residual":
        return ResidualPrompt.for_backbone(backbone, text_len, generator)
    if variant == "embedding":
        return EmbeddingPrompt.for_backbone(backbone, text_len, init, generator)
    if variant == "token":
        if text_encoder is None:
            raise UsageError("a token prompt needs the frozen text encoder (load the backbone with text encoders)")
        needs_pooled = "pooled_projections" in backbone.context_dims()
        pooled = context.get("pooled_projections") if needs_pooled and context is not None else None
        if needs_pooled and pooled is None:
            raise UsageError(f"a {backbone.name} token prompt needs context={{'pooled_projections': ...}} (the null "
                             "pooled vector)")
        return TokenPrompt(backbone.name, text_encoder, int(num_tokens or min(text_len, 32)), text_len, pooled,
                           generator)
    if context is None:
        raise UsageError("a text prompt needs the instruction's context: backbone.encode_text(instruction)")
    return TextPrompt(backbone.name, context, instruction)


def prompt_from_state(variant: str, backbone: Backbone, state: dict[str, torch.Tensor],
                      **kwargs: Any) -> PromptModule:
    """A module of ``variant`` for ``backbone`` made for the text length a saved state dict has."""
    if variant == "residual":
        text_len = state["prompt"].shape[1]
    elif variant == "embedding":
        text_len = state["embedding"].shape[1]
    else:
        text_len = kwargs.pop("text_len", None)
    return make_prompt(variant, backbone, text_len, **kwargs)
