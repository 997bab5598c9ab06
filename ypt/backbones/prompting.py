"""Prompts (:mod:`ypt.prompts`) on an adapter: create one for a backbone, save it with the training metadata,
load prompt files (ours or the official ``wan_*.pt``) for restoration, and where training writes by default."""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Sequence

#: variants that need the text encoders at run time (the others only need the cached null-text context)
TEXT_VARIANTS = ("token", "text")


def prompts_module() -> Any:
    try:
        import ypt.prompts as prompts
    except ImportError as err:
        raise RuntimeError("ypt.prompts (the prompt conditioning modules, issue 3 part A) is not in this checkout; "
                           "update the checkout") from err
    return prompts


def file_variant(path: str | os.PathLike) -> str:
    """The variant recorded in a prompt file's JSON sidecar (official ``.pt`` files are residual prompts)."""
    path = Path(path)
    if path.suffix == ".pt":
        return "residual"
    for sidecar in (path.with_suffix(".json"), path.with_name(path.name + ".json")):
        if sidecar.is_file():
            return str(json.loads(sidecar.read_text()).get("variant", "residual"))
    return "residual"


def needs_text_encoders(variants_or_paths: str | Sequence[Any]) -> bool | str:
    """``True`` when a variant needs the text encoders loaded and kept, else ``"auto"`` (null context only)."""
    items = [variants_or_paths] if isinstance(variants_or_paths, str) else list(variants_or_paths)
    variants = [v if v in TEXT_VARIANTS or not Path(str(v)).suffix else file_variant(v) for v in items]
    return True if any(v in TEXT_VARIANTS for v in variants) else "auto"


def new_prompt(variant: str, backbone: Any) -> Any:
    """A fresh prompt module of ``variant`` sized for ``backbone``'s transformer and text length."""
    return prompts_module().make_prompt(variant, backbone.transformer, text_len=backbone.max_sequence_length)


def default_path(config: Any) -> Path:
    """Where training writes (and ``ypt_flux``/``ypt_wan`` look): ``ypt.prompts.default_prompt_path``."""
    return Path(prompts_module().default_prompt_path(config.backbone, config.degradation, variant=config.variant,
                                                     bridge=config.bridge, t0=config.t0))


def save(prompt: Any, path: str | os.PathLike, backbone: Any, config: Any) -> Path:
    """Prompt file (safetensors + JSON sidecar) with the backbone identity and the training config."""
    from ypt.provenance import config_hash

    meta = {
        **backbone.identity(),
        "variant": config.variant, "bridge": config.bridge, "t0": config.t0, "degradation": config.degradation,
        "train_config": config.hashable(), "train_config_hash": config_hash(config.hashable()),
    }
    return Path(prompts_module().save_prompt(prompt, path, meta))


def load_prompts(paths: Sequence[str | os.PathLike], backbone: Any) -> list[Any]:
    """Prompt modules for ``backbone`` from prompt files (shape-checked by :mod:`ypt.prompts`)."""
    module = prompts_module()
    return [module.load_prompt(p, backbone.transformer) for p in paths]
