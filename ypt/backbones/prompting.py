"""Prompts (:mod:`ypt.prompts`) on an adapter: create one for a backbone and load prompt files (ours or the official
``wan_*.pt``) for restoration; which variants need the text encoders and which context length prompt files need.

Light to import (torch is imported by the functions that build or load prompts), so planners and ``--help`` paths
may ask :func:`needs_text_encoders` without the model stack.
"""
from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ypt.errors import UsageError
from ypt.prompts.paths import VARIANTS, read_sidecar, sidecar_path

if TYPE_CHECKING:
    import torch

    from ypt.backbones.base import Backbone
    from ypt.prompts.modules import PromptModule

#: variants that need the text encoders at run time (the others only need the cached null-text context)
TEXT_VARIANTS = ("token", "text")


def file_variant(path: str | os.PathLike) -> str:
    """The variant recorded in a prompt file's JSON sidecar (official ``.pt`` files are residual prompts)."""
    path = Path(path)
    if path.suffix == ".pt":
        return "residual"
    sidecar = sidecar_path(path)
    if sidecar.is_file():
        return str(json.loads(sidecar.read_text()).get("variant", "residual"))
    return "residual"


def needs_text_encoders(variants_or_paths: str | Sequence[str | os.PathLike]) -> bool | str:
    """``True`` when a variant needs the text encoders loaded and kept, else ``"auto"`` (null context only)."""
    items = [variants_or_paths] if isinstance(variants_or_paths, str) else list(variants_or_paths)
    variants = [str(v) if str(v) in VARIANTS else file_variant(v) for v in items]
    return True if any(v in TEXT_VARIANTS for v in variants) else "auto"


def prompt_text_len(path: str | os.PathLike) -> int | None:
    """The context length a prompt file was made for (None when it does not fix one, e.g. token prompts)."""
    path = Path(path)
    if path.suffix == ".pt":
        from ypt.prompts.files import read_official

        return int(read_official(path)["prompt"].shape[1])
    shapes = read_sidecar(path).get("shapes", {})
    for name in ("prompt", "embedding"):
        if name in shapes:
            return int(shapes[name][1])
    return None


def common_text_len(paths: Sequence[str | os.PathLike]) -> int | None:
    """The one context length all ``paths`` agree on (error when they differ)."""
    lengths = {n for n in (prompt_text_len(p) for p in paths) if n is not None}
    if len(lengths) > 1:
        raise UsageError(f"prompt files made for different context lengths {sorted(lengths)}: "
                         f"{', '.join(map(str, paths))}")
    return lengths.pop() if lengths else None


def _text_encoder(backbone: Backbone) -> torch.nn.Module:
    """The encoder whose input embeddings a token prompt learns (the adapter's ``token_encoder``)."""
    encoder = getattr(backbone, backbone.token_encoder, None)
    if encoder is None:
        raise UsageError(f"a token prompt needs the {backbone.name} text encoder: load the backbone with "
                         "text_encoders=True")
    return encoder


def variant_kwargs(variant: str, backbone: Backbone, instruction: str | None = None) -> dict[str, Any]:
    """What :func:`ypt.prompts.make_prompt` needs beyond the backbone's numbers, from the backbone."""
    kwargs: dict[str, Any] = {}
    if variant == "embedding":
        kwargs["init"] = backbone.null_context()  # start from the "" context
    elif variant == "token":
        kwargs["text_encoder"] = _text_encoder(backbone)
        kwargs["context"] = backbone.null_context()  # FLUX keeps the null pooled CLIP vector
    elif variant == "text":
        if instruction is None:
            raise UsageError("a text prompt needs an instruction")
        kwargs["context"] = backbone.encode_text(instruction)
        kwargs["instruction"] = instruction
    return kwargs


def new_prompt(variant: str, backbone: Backbone, instruction: str | None = None,
               generator: torch.Generator | None = None) -> PromptModule:
    """A fresh prompt module of ``variant`` sized for ``backbone`` (its numbers and text length)."""
    from ypt.prompts.modules import make_prompt

    return make_prompt(variant, backbone, generator=generator, **variant_kwargs(variant, backbone, instruction))


def load_prompts(paths: Sequence[str | os.PathLike], backbone: Backbone) -> list[PromptModule]:
    """Prompt modules for ``backbone`` from prompt files (shape-checked by :mod:`ypt.prompts`)."""
    from ypt.prompts.files import load_prompt

    loaded = []
    for path in paths:
        kwargs: dict[str, Any] = {}
        if file_variant(path) == "token":
            meta = read_sidecar(path)
            kwargs = {"text_len": backbone.max_sequence_length, "text_encoder": _text_encoder(backbone),
                      "num_tokens": int(meta["shapes"]["tokens"][1]), "context": backbone.null_context()}
        prompt = load_prompt(path, backbone, **kwargs)
        loaded.append(prompt.to(backbone.device))
    return loaded
