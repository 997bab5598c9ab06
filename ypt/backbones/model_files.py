"""Which files each backbone needs and where they are, without importing torch: the model folder (a local diffusers
folder or the Hugging Face cache, never a download), its subfolders, the cached null-text context, and one check
(:func:`weights_problem`) that readiness reports (``baselines check``, the planner's dry run) call.

The adapters (:mod:`ypt.backbones.flux`, :mod:`ypt.backbones.wan`) read their labels, model ids, classes and text
parts from :data:`MODEL_FILES`: the one place these facts are written.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ypt.defaults import TEXT_LEN
from ypt.errors import MissingModel
from ypt.provenance import config_hash


@dataclass(frozen=True)
class ModelFiles:
    """A backbone's model: its label, default repo id, how to get it, and the diffusers / transformers classes and
    subfolders it is loaded from (``text_parts``: (argument, class, subfolder) of each text encoder and tokenizer)."""

    name: str
    label: str
    model_id: str
    download_hint: str
    transformer_class: str
    vae_class: str
    text_parts: tuple[tuple[str, str, str], ...]
    #: whether the release runs the text encoders under the backbone's half-precision autocast when it makes the
    #: null-text context (FLUX: lazily, inside its sampler's autocast; WAN: at load time, without)
    text_autocast: bool = False

    @property
    def weight_subfolders(self) -> tuple[str, ...]:
        return ("transformer", "vae")

    @property
    def text_subfolders(self) -> tuple[str, ...]:
        return tuple(subfolder for _, _, subfolder in self.text_parts)


FLUX_MODEL_ID = "black-forest-labs/FLUX.1-dev"
WAN_MODEL_ID = "Wan-AI/Wan2.1-T2V-1.3B-Diffusers"
MODEL_FILES: dict[str, ModelFiles] = {
    "flux": ModelFiles(
        name="flux", label="FLUX.1-dev", model_id=FLUX_MODEL_ID,
        download_hint=(f"hf download {FLUX_MODEL_ID} --exclude 'flux1-dev.safetensors' on a node with internet, or "
                       "python -m benchmarks.prefetch table2 --backbones (gated: accept the license on the Hub and "
                       "`hf auth login` first)"),
        transformer_class="FluxTransformer2DModel", vae_class="AutoencoderKL",
        text_parts=(("text_encoder", "CLIPTextModel", "text_encoder"), ("tokenizer", "AutoTokenizer", "tokenizer"),
                    ("text_encoder_2", "T5EncoderModel", "text_encoder_2"),
                    ("tokenizer_2", "AutoTokenizer", "tokenizer_2")),
        text_autocast=True),
    "wan": ModelFiles(
        name="wan", label="WAN 2.1 T2V 1.3B", model_id=WAN_MODEL_ID,
        download_hint=(f"hf download {WAN_MODEL_ID} on a node with internet, or "
                       "python -m benchmarks.prefetch table3 --backbones"),
        transformer_class="WanTransformer3DModel", vae_class="AutoencoderKLWan",
        text_parts=(("text_encoder", "UMT5EncoderModel", "text_encoder"), ("tokenizer", "AutoTokenizer", "tokenizer"))),
}


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


def text_policy(name: str, text_dtype: str) -> str:
    """How backbone ``name`` makes its null-text context with encoders in ``text_dtype`` (``float16``, ...): the
    dtype, and ``+autocast`` where the release runs them under the half-precision autocast (a cache key)."""
    autocast = MODEL_FILES[name].text_autocast and text_dtype in ("float16", "bfloat16")
    return f"{text_dtype}{'+autocast' if autocast else ''}"


def null_context_path(name: str, model_dir: Path, revision: str | None, max_sequence_length: int,
                      text_dtype: str = "float16") -> Path:
    """Where the null-text context of this model folder, context length and text-encoder policy is cached."""
    key = config_hash({"dir": str(Path(model_dir).resolve()), "revision": revision, "len": max_sequence_length,
                       "text": text_policy(name, text_dtype)})
    return cache_root() / "null_context" / f"{name}-{key}.safetensors"


def weights_problem(name: str, model: str | os.PathLike | None = None, revision: str | None = None,
                    text_encoders: bool | str = "auto", max_sequence_length: int | None = None,
                    text_dtype: str = "float16") -> str | None:
    """None when backbone ``name`` can be loaded here (its folder or HF-cache snapshot holds every subfolder it
    needs: the transformer and VAE, and the text encoders unless ``text_encoders="auto"`` finds the null-text context
    cached); else one sentence naming what is missing and the command that fetches it. No torch import. The
    miniature backbone (``mini``) has no text side: its packaged prior must verify against its sidecar."""
    if name == "mini":
        from ypt.backbones.mini_weights import prior_problem

        return prior_problem(model)
    files = MODEL_FILES[name]
    try:
        model_dir = resolve_model_dir(str(model or files.model_id), revision, what=files.label,
                                      download_hint=files.download_hint)
    except MissingModelError as err:
        return str(err)
    needed = list(files.weight_subfolders)
    length = max_sequence_length or TEXT_LEN[name]
    if text_encoders is True or not null_context_path(name, model_dir, revision, length, text_dtype).is_file():
        needed += list(files.text_subfolders)
    absent = [s for s in needed if not (model_dir / s).is_dir() or not any((model_dir / s).iterdir())]
    if absent:
        return (f"{files.label} at {model_dir} lacks {', '.join(f'{s}/' for s in absent)} (incomplete download?). "
                f"Get it with: {files.download_hint}")
    return None
