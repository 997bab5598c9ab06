"""Prompt conditioning for frozen FLUX / WAN transformers, and prompt files.

``make_prompt(variant, transformer, text_len)`` builds a module (``residual``, ``embedding``, ``token``, ``text``);
``with prompt.applied(transformer): ...`` conditions the transformer for the block. ``save_prompt`` /
``load_prompt`` / ``load_official_wan`` read and write prompt files; ``default_prompt_path`` says where training
writes and the ``ypt_flux`` / ``ypt_wan`` methods look.
"""
from ypt.prompts.files import (
    PromptShapeError,
    default_prompt_path,
    load_official_wan,
    load_prompt,
    read_official,
    read_sidecar,
    save_prompt,
)
from ypt.prompts.modules import (
    VARIANTS,
    EmbeddingPrompt,
    PromptModule,
    ResidualPrompt,
    TextPrompt,
    TokenPrompt,
    make_prompt,
    transformer_arch,
)

__all__ = [
    "VARIANTS", "EmbeddingPrompt", "PromptModule", "PromptShapeError", "ResidualPrompt", "TextPrompt", "TokenPrompt",
    "default_prompt_path", "load_official_wan", "load_prompt", "make_prompt", "read_official", "read_sidecar",
    "save_prompt", "transformer_arch",
]
