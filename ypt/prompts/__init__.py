"""Prompt conditioning for frozen FLUX / WAN transformers, and prompt files.

``make_prompt(variant, backbone)`` builds a module (``residual``, ``embedding``, ``token``, ``text``) sized for a backbone
adapter (:mod:`ypt.backbones`); ``with prompt.applied(backbone): ...`` conditions its transformer for the block.
``save_prompt`` / ``load_prompt`` read and write prompt files, ``load_official`` the authors' ``flux_*.pt`` /
``wan_*.pt``; ``default_prompt_path`` says where training writes and the ``ypt_flux`` / ``ypt_wan`` methods look.

Names are resolved lazily (PEP 562) so ``python -m ypt.prompts --help`` does not import torch, and the path
helpers (``default_prompt_path``, ``read_sidecar``) never do.
"""
from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "ypt.prompts.files": ("load_official", "load_prompt", "read_official", "save_prompt"),
    "ypt.prompts.paths": ("VARIANTS", "default_prompt_path", "read_sidecar"),
    "ypt.prompts.modules": ("EmbeddingPrompt", "PromptModule", "PromptShapeError", "ResidualPrompt", "TextPrompt",
                            "TokenPrompt", "make_prompt"),
}
_WHERE = {name: module for module, names in _EXPORTS.items() for name in names}

__all__ = [
    "VARIANTS", "EmbeddingPrompt", "PromptModule", "PromptShapeError", "ResidualPrompt", "TextPrompt", "TokenPrompt",
    "default_prompt_path", "load_official", "load_prompt", "make_prompt", "read_official", "read_sidecar",
    "save_prompt",
]
assert sorted(__all__) == sorted(_WHERE)


def __getattr__(name: str) -> Any:
    try:
        module = _WHERE[name]
    except KeyError:
        raise AttributeError(f"module 'ypt.prompts' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
