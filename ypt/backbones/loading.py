"""Loading an adapter's parts from its model folder (:mod:`ypt.backbones.model_files` finds it, never
downloading): its components, their device and dtype, the frozen state."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from ypt.backbones.model_files import MissingModelError


def load_component(cls: Any, model_dir: Path, subfolder: str, what: str, **kwargs: Any) -> Any:
    """``cls.from_pretrained(model_dir, subfolder=...)`` with a clear error naming the missing component."""
    if not (model_dir / subfolder).is_dir():
        raise MissingModelError(f"{what}: {model_dir} has no {subfolder}/ folder (incomplete download?)")
    try:
        return cls.from_pretrained(model_dir, subfolder=subfolder, local_files_only=True, **kwargs)
    except OSError as err:
        raise MissingModelError(f"{what}: cannot load {subfolder}/ from {model_dir} (incomplete download?): {err}") from err


def cast_module(module: torch.nn.Module, device: torch.device, dtype: torch.dtype) -> torch.nn.Module:
    """Move to ``device`` and cast floating tensors to ``dtype``, keeping the model's ``_keep_in_fp32_modules``
    (e.g. WAN's norms and time embedder) in fp32, as diffusers' ``from_pretrained(torch_dtype=...)`` does."""
    keep = tuple(getattr(module, "_keep_in_fp32_modules", None) or ())
    if any(t.device != device for t in [*module.parameters(), *module.buffers()]):
        module.to(device)
    for name, tensor in [*module.named_parameters(), *module.named_buffers()]:
        if not tensor.is_floating_point():
            continue
        target = torch.float32 if any(k in name.split(".") for k in keep) else dtype
        if tensor.dtype != target:
            tensor.data = tensor.data.to(target)
    return module


def freeze(module: torch.nn.Module | None) -> None:
    if module is not None:
        module.requires_grad_(False)
        module.eval()
