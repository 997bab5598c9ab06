"""Prompt files: safetensors plus a JSON sidecar, the official ``flux_*.pt`` / ``wan_*.pt`` checkpoints, and default
locations.

Our format: ``<name>.safetensors`` (the prompt module's state dict) beside ``<name>.json`` holding
``format``, ``variant``, ``arch`` (the backbone's name), tensor ``shapes`` and whatever the writer adds (backbone, model id / revision,
T0, bridge, degradation, training config and its hash, code version). Writes are atomic.

The authors' release (github sudraj2002/YPT) ships its prompts as torch pickles: a dict with ``backend`` (``"flux"`` or
``"wan"``), ``deep_prompt_bank`` -> ``prompts`` (1, L, D) and ``alphas`` (one scalar gate per prompted block, in the
order its wrappers are collected: FLUX.1-dev 1 x 512 x 3072 and 19 double-stream then 38 single-stream gates;
WAN 2.1 1.3B 1 x 226 x 1536 and 30 gates). They load into the same :class:`~ypt.prompts.modules.ResidualPrompt`,
always with ``weights_only=True``, checked against the adapter's numbers (``prompt_width``, ``num_gates``).
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from ypt.errors import MissingPrompt, UsageError
from ypt.files import atomic_path, atomic_write_text
from ypt.prompts.modules import PromptModule, PromptShapeError, ResidualPrompt, prompt_from_state
from ypt.prompts.paths import read_sidecar, sidecar_path

if TYPE_CHECKING:
    from ypt.backbones.base import Backbone

FORMAT = "ypt-prompt/1"


def save_prompt(prompt: PromptModule, path: str | os.PathLike, meta: dict[str, Any] | None = None) -> Path:
    """Write ``prompt`` (safetensors) and its sidecar atomically; returns the safetensors path."""
    from safetensors.torch import save_file

    from ypt.provenance import code_version

    path = Path(path)
    if path.suffix != ".safetensors":
        path = path.with_suffix(".safetensors")
    state = {k: v.detach().to("cpu").contiguous() for k, v in prompt.state_dict().items()}
    if not state:
        raise UsageError(f"a {prompt.variant} prompt has nothing to save")
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


def load_prompt(path: str | os.PathLike, backbone: Backbone, **kwargs: Any) -> PromptModule:
    """Load a prompt file (ours, or an official ``wan_*.pt``) into a module sized for ``backbone``: the file's text
    length, the adapter's widths and gates (a mismatch is a :class:`PromptShapeError` naming both shapes)."""
    path = Path(path)
    if not path.is_file():
        raise MissingPrompt(f"no prompt file at {path}: train it with `python -m ypt.train` or import the authors' "
                            "released prompts with `python -m ypt.prompts import-official`")
    if path.suffix == ".pt":
        return load_official(path, backbone)
    from safetensors.torch import load_file

    meta = read_sidecar(path)
    if meta.get("arch") and meta["arch"] != backbone.name:
        raise PromptShapeError(f"prompt {path} was trained for {meta['arch']}, not for a {backbone.name} transformer")
    state = load_file(str(path))
    prompt = prompt_from_state(meta["variant"], backbone, state, **kwargs)
    _check_shapes(path, {k: tuple(v.shape) for k, v in prompt.state_dict().items()},
                  {k: tuple(v.shape) for k, v in state.items()})
    prompt.load_state_dict(state)
    prompt.meta = meta
    return prompt


#: the backends the release ships prompts for (its checkpoints' ``backend`` field)
OFFICIAL_BACKENDS = ("flux", "wan")


def read_official(path: str | os.PathLike) -> dict[str, Any]:
    """``{"backend": "flux" | "wan", "prompt": (1, L, D), "gates": (n,)}`` from an official checkpoint (safe
    unpickling only)."""
    if not Path(path).is_file():
        raise MissingPrompt(f"no official prompt checkpoint at {path} (the authors' release, github "
                            "sudraj2002/YPT, ckpts/flux_<degradation>.pt or wan_<degradation>.pt)")
    raw = torch.load(str(path), map_location="cpu", weights_only=True)
    bank = raw.get("deep_prompt_bank") if isinstance(raw, dict) else None
    prompts = bank.get("prompts") if isinstance(bank, dict) else (raw.get("deep_prompt_bank.prompts")
                                                                  if isinstance(raw, dict) else None)
    if prompts is None or "alphas" not in raw:
        keys = sorted(raw) if isinstance(raw, dict) else type(raw).__name__
        raise PromptShapeError(f"{path} is not an official YPT prompt checkpoint (expected keys "
                               f"'deep_prompt_bank.prompts' and 'alphas'; found {keys})")
    backend = raw.get("backend", "wan")
    if backend not in OFFICIAL_BACKENDS:
        raise PromptShapeError(f"{path} is a {backend!r} checkpoint; the release ships {' and '.join(OFFICIAL_BACKENDS)} "
                               "prompts")
    alphas = raw["alphas"]
    gates = torch.stack([torch.as_tensor(a).reshape(()) for a in alphas]) if isinstance(alphas, (list, tuple)) \
        else torch.as_tensor(alphas).reshape(-1)
    return {"backend": backend, "prompt": prompts.float(), "gates": gates.float()}


def official_shapes(backbone: Backbone, text_len: int) -> dict[str, tuple[int, ...]]:
    """The tensor shapes an official checkpoint must have for ``backbone``: ``P`` (1, L, prompt width) and one gate
    per prompted block."""
    return {"prompt": (1, text_len, backbone.prompt_width), "gates": (backbone.num_gates,)}


def load_official(path: str | os.PathLike, backbone: Backbone) -> ResidualPrompt:
    """An official ``flux_*.pt`` / ``wan_*.pt`` as a residual prompt for ``backbone``: its backend must be the
    backbone's, and its prompt and gate count must fit the backbone's prompt width and blocks (a mismatch is a
    :class:`PromptShapeError` naming the file's and the model's shapes). Gate ``i`` is the release's wrapper ``i``:
    FLUX's double-stream blocks first, then its single-stream blocks, as :meth:`Backbone.transformer_blocks`."""
    state = read_official(path)
    backend = state.pop("backend")
    if backend != backbone.name:
        raise PromptShapeError(f"{path} is a {backend.upper()} prompt; it cannot attach to a {backbone.name} "
                               "transformer")
    text_len = state["prompt"].shape[1]
    _check_shapes(Path(path), official_shapes(backbone, text_len), {k: tuple(v.shape) for k, v in state.items()})
    prompt = ResidualPrompt.for_backbone(backbone, text_len)
    prompt.load_state_dict(state)
    prompt.meta = {"variant": "residual", "arch": backbone.name, "source": f"official release: {Path(path).name}"}
    return prompt
