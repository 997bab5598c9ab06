"""Prompt files: safetensors plus a JSON sidecar, the official ``wan_*.pt`` checkpoints, and default locations.

Our format: ``<name>.safetensors`` (the prompt module's state dict) beside ``<name>.json`` holding
``format``, ``variant``, ``arch``, tensor ``shapes`` and whatever the writer adds (backbone, model id / revision,
T0, bridge, degradation, training config and its hash, code version). Writes are atomic.

The authors' release (github sudraj2002/YPT) ships WAN prompts as torch pickles: a dict with ``backend`` ("wan"),
``deep_prompt_bank`` -> ``prompts`` (1, 226, 1536) and ``alphas`` (one scalar gate per block, 30 for WAN 2.1 1.3B). They
load into the same :class:`~ypt.prompts.modules.ResidualPrompt`, always with ``weights_only=True``.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import torch

from ypt.files import atomic_path, atomic_write_text
from ypt.prompts.paths import default_prompt_path, read_sidecar, sidecar_path  # noqa: F401  (re-exported)
from ypt.prompts.modules import (
    PromptModule,
    ResidualPrompt,
    inner_dim,
    num_gates,
    prompt_from_state,
    transformer_arch,
)

FORMAT = "ypt-prompt/1"


class PromptShapeError(ValueError):
    """A prompt file does not fit the transformer it is loaded into."""


def save_prompt(prompt: PromptModule, path: str | os.PathLike, meta: dict[str, Any] | None = None) -> Path:
    """Write ``prompt`` (safetensors) and its sidecar atomically; returns the safetensors path."""
    from safetensors.torch import save_file

    from ypt.provenance import code_version

    path = Path(path)
    if path.suffix != ".safetensors":
        path = path.with_suffix(".safetensors")
    state = {k: v.detach().to("cpu").contiguous() for k, v in prompt.state_dict().items()}
    if not state:
        raise ValueError(f"a {prompt.variant} prompt has nothing to save")
    with atomic_path(path) as tmp:
        save_file(state, str(tmp))
    sidecar = {
        "format": FORMAT,
        "variant": prompt.variant,
        "arch": prompt.arch,
        "shapes": {k: list(v.shape) for k, v in state.items()},
        "code_version": code_version(),
        **(meta or {}),
    }
    atomic_write_text(sidecar_path(path), json.dumps(sidecar, indent=2, sort_keys=True, default=str))
    return path


def _check_shapes(path: Path, expected: dict[str, tuple[int, ...]], found: dict[str, tuple[int, ...]]) -> None:
    problems = [f"{name}: file {tuple(found.get(name, ()))} vs model {tuple(shape)}"
                for name, shape in expected.items() if tuple(found.get(name, ())) != tuple(shape)]
    extra = sorted(set(found) - set(expected))
    if problems or extra:
        detail = "; ".join(problems + [f"unexpected tensor {name}" for name in extra])
        raise PromptShapeError(f"prompt {path} does not fit this transformer ({detail}). Was it trained for another "
                               "backbone or model size?")


def load_prompt(path: str | os.PathLike, transformer: torch.nn.Module, **kwargs: Any) -> PromptModule:
    """Load a prompt file (ours, or an official ``wan_*.pt``) into a module sized for ``transformer``."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no prompt file at {path}: train it with `python -m ypt.train` or, for WAN, import "
                                "the authors' release with `python -m ypt.prompts import-official`")
    if path.suffix == ".pt":
        return load_official_wan(path, transformer)
    from safetensors.torch import load_file

    meta = read_sidecar(path)
    arch = transformer_arch(transformer)
    if meta.get("arch") and meta["arch"] != arch:
        raise PromptShapeError(f"prompt {path} was trained for {meta['arch']}, not for a {arch} transformer")
    state = load_file(str(path))
    prompt = prompt_from_state(meta["variant"], transformer, state, **kwargs)
    _check_shapes(path, {k: tuple(v.shape) for k, v in prompt.state_dict().items()},
                  {k: tuple(v.shape) for k, v in state.items()})
    prompt.load_state_dict(state)
    prompt.meta = meta
    return prompt


def read_official(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """``{"prompt": (1, L, D), "gates": (n,)}`` from an official checkpoint (safe unpickling only)."""
    raw = torch.load(str(path), map_location="cpu", weights_only=True)
    bank = raw.get("deep_prompt_bank") if isinstance(raw, dict) else None
    prompts = bank.get("prompts") if isinstance(bank, dict) else (raw.get("deep_prompt_bank.prompts")
                                                                  if isinstance(raw, dict) else None)
    if prompts is None or "alphas" not in raw:
        keys = sorted(raw) if isinstance(raw, dict) else type(raw).__name__
        raise PromptShapeError(f"{path} is not an official YPT prompt checkpoint (expected keys "
                               f"'deep_prompt_bank.prompts' and 'alphas'; found {keys})")
    if raw.get("backend", "wan") != "wan":
        raise PromptShapeError(f"{path} is a {raw['backend']!r} checkpoint; only the WAN release is supported")
    alphas = raw["alphas"]
    gates = torch.stack([torch.as_tensor(a).reshape(()) for a in alphas]) if isinstance(alphas, (list, tuple)) \
        else torch.as_tensor(alphas).reshape(-1)
    return {"prompt": prompts.float(), "gates": gates.float()}


def load_official_wan(path: str | os.PathLike, transformer: torch.nn.Module) -> ResidualPrompt:
    """An official ``wan_*.pt`` as a residual prompt for ``transformer`` (shape-checked)."""
    arch = transformer_arch(transformer)
    if arch != "wan":
        raise PromptShapeError(f"{path} is a WAN prompt; it cannot attach to a {arch} transformer")
    state = read_official(path)
    text_len = state["prompt"].shape[1]
    expected = {"prompt": (1, text_len, inner_dim(transformer)), "gates": (num_gates(transformer),)}
    _check_shapes(Path(path), expected, {k: tuple(v.shape) for k, v in state.items()})
    prompt = ResidualPrompt.for_transformer(transformer, text_len)
    prompt.load_state_dict(state)
    prompt.meta = {"variant": "residual", "arch": "wan", "source": f"official release: {Path(path).name}"}
    return prompt
