"""Loading an adapter's parts: the model folder (a local diffusers folder or the Hugging Face cache, never a
download), its components, their device and dtype, the frozen state; and where ypt-bench keeps its own caches."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch

from ypt.errors import MissingModel


class MissingModelError(MissingModel):
    """A backbone's weights are neither a local folder nor in the Hugging Face cache."""


def cache_root() -> Path:
    """Root of ypt-bench's own caches (null-text contexts, VAE latents): ``$YPT_CACHE`` or ``~/.cache/ypt-bench``."""
    return Path(os.environ.get("YPT_CACHE", Path.home() / ".cache" / "ypt-bench")).expanduser()


def resolve_model_dir(path_or_id: str | os.PathLike, revision: str | None, *, what: str, download_hint: str,
                      cache_dir: str | os.PathLike | None = None) -> Path:
    """A local folder holding the diffusers layout of ``path_or_id``; never downloads.

    ``path_or_id`` is a folder (used as is) or a Hub repo id looked up in the local HF cache only
    (``HF_HOME``/``HF_HUB_CACHE`` respected, or ``cache_dir``). Anything missing raises :class:`MissingModelError` naming the
    model and the command that fetches it.
    """
    path = Path(path_or_id).expanduser()
    if path.is_dir():
        if not (path / "model_index.json").is_file() and not (path / "transformer").is_dir():
            raise MissingModelError(
                f"{path} is not a diffusers folder of {what} (no model_index.json or transformer/ inside). "
                f"Get it with: {download_hint}"
            )
        return path
    looks_like_path = str(path_or_id).startswith((".", "/", "~")) or str(path_or_id).count("/") != 1
    if looks_like_path:
        raise MissingModelError(f"{what}: no folder at {path}. Get it with: {download_hint}")
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    try:
        return Path(snapshot_download(str(path_or_id), revision=revision, cache_dir=cache_dir, local_files_only=True))
    except (LocalEntryNotFoundError, FileNotFoundError, OSError) as err:
        raise MissingModelError(
            f"{what} ({path_or_id}{'@' + revision if revision else ''}) is not in the Hugging Face cache "
            f"and ypt-bench never downloads weights at run time. Get it with: {download_hint} "
            f"(or pass the local folder instead of the repo id)."
        ) from err


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


def text_dtype(dtype: torch.dtype) -> torch.dtype:
    """Text encoders in bf16 when the backbone runs in fp16: T5-family encoders overflow in fp16 (NaNs)."""
    return torch.bfloat16 if dtype == torch.float16 else dtype


def freeze(module: torch.nn.Module | None) -> None:
    if module is not None:
        module.requires_grad_(False)
        module.eval()
