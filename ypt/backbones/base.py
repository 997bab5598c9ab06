"""What FLUX and WAN adapters share: model resolution (local folder or HF cache, never a download), the frozen
state, the null-text context cache, the timestep convention and the clean-latent prediction ``z - sigma * v``.

Latents handed in and out of an adapter are the *normalised* VAE latents in the backbone's natural layout
(FLUX ``(B, C, h, w)``, WAN ``(B, C, F, h, w)``); packing for the transformer happens inside :meth:`velocity`.
Bridges and the sampler are elementwise, so they never need to know the layout.
"""
from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import torch

from ypt.provenance import config_hash


class MissingModelError(FileNotFoundError):
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


@functools.lru_cache(maxsize=8)
def _official_grid(backbone: str, device: str) -> tuple[torch.Tensor, torch.Tensor]:
    """The release's grid, built once per backbone and device: copying it to the GPU at every backbone call would
    be an unpinned host-to-device copy, i.e. a host sync, per forward."""
    from ypt.sampler import scheduler_grid

    return tuple(t.to(device) for t in scheduler_grid(backbone))


def scheduler_timestep(sigma: torch.Tensor, backbone: str = "flux") -> torch.Tensor:
    """The timestep the official sampler feeds the backbone at noise level ``sigma``: the timestep of the nearest
    sigma on the release's scheduler grid (FLUX: FlowMatchEuler, ``1000 * sigma`` rounded; WAN: UniPC flow sigmas,
    whose integer timesteps truncate, e.g. 0.4 -> 399). See :func:`ypt.sampler.nearest_timestep`."""
    from ypt.sampler import nearest_timestep

    sigmas, timesteps = _official_grid(backbone, str(sigma.device))
    return nearest_timestep(sigma.float().reshape(-1), sigmas, timesteps).float()


class Backbone:
    """A frozen diffusion transformer + VAE in fp32 + cached null-text context, seen as a velocity field."""

    name = "backbone"
    #: the model id the paper uses; :meth:`from_pretrained` defaults to it
    default_model_id = ""
    download_hint = ""
    #: loading, declared by each backbone: label, diffusers class names, (argument, transformers class, subfolder)
    label = ""
    default_text_len = 512
    transformer_class = ""
    vae_class = ""
    text_parts: tuple[tuple[str, str, str], ...] = ()
    #: the attribute holding the text encoder whose input embeddings a token prompt learns
    token_encoder = "text_encoder"

    @classmethod
    def from_pretrained(
        cls,
        path_or_id: str | os.PathLike | None = None,
        revision: str | None = None,
        dtype: torch.dtype = torch.bfloat16,
        device: str | torch.device = "cpu",
        *,
        text_encoders: bool | str = "auto",
        null_context_file: str | os.PathLike | None = "auto",
        max_sequence_length: int | None = None,
        cache_dir: str | os.PathLike | None = None,
    ) -> Backbone:
        """Load from a local diffusers folder or the HF cache (never downloads).

        ``text_encoders="auto"`` loads the text encoders only when the null-text context is not cached yet
        (``null_context_file``, by default under ``$YPT_CACHE/null_context``); they are dropped after use.
        ``True`` loads and keeps them (token/text prompt variants). ``cache_dir``: another HF cache folder.
        """
        import diffusers
        import transformers

        max_sequence_length = max_sequence_length or cls.default_text_len
        model_id = str(path_or_id or cls.default_model_id)
        model_dir = resolve_model_dir(model_id, revision, what=cls.label, download_hint=cls.download_hint,
                                      cache_dir=cache_dir)
        if null_context_file == "auto":
            key = config_hash({"dir": str(model_dir.resolve()), "revision": revision, "len": max_sequence_length})
            null_context_file = cache_root() / "null_context" / f"{cls.name}-{key}.safetensors"
        what = f"{cls.name.upper()} ({model_dir})"
        transformer = load_component(getattr(diffusers, cls.transformer_class), model_dir, "transformer", what,
                                     torch_dtype=dtype)
        vae = load_component(getattr(diffusers, cls.vae_class), model_dir, "vae", what, torch_dtype=torch.float32)
        need_text = text_encoders is True or (
            text_encoders == "auto" and not (null_context_file and os.path.isfile(null_context_file))
        )
        text: dict[str, Any] = {}
        if need_text:
            for argument, class_name, subfolder in cls.text_parts:
                kwargs = {} if class_name == "AutoTokenizer" else {"torch_dtype": text_dtype(dtype)}
                text[argument] = load_component(getattr(transformers, class_name), model_dir, subfolder, what,
                                                **kwargs)
        backbone = cls(
            transformer, vae, **text,
            max_sequence_length=max_sequence_length,
            dtype=dtype, device=device, model_id=model_id, revision=revision,
            null_context_file=null_context_file, source=str(model_dir.resolve()),
        )
        if text_encoders == "auto":
            backbone.null_context()
            backbone.drop_text_encoders()
        return backbone


    def __init__(
        self,
        transformer: torch.nn.Module,
        vae: torch.nn.Module,
        *,
        dtype: torch.dtype = torch.bfloat16,
        device: str | torch.device = "cpu",
        model_id: str = "",
        revision: str | None = None,
        null_context_file: str | os.PathLike | None = None,
        source: str | None = None,
    ) -> None:
        self.device = torch.device(device)
        #: the folder the weights were read from (a hub snapshot folder names its commit), None when built in code
        self.source = source
        self.dtype = dtype
        self.model_id = model_id
        self.revision = revision
        self.transformer = cast_module(transformer, self.device, dtype)
        self.vae = cast_module(vae, self.device, torch.float32)
        freeze(self.transformer)
        freeze(self.vae)
        self._null: dict[str, torch.Tensor] | None = None
        self._attached: Any = None
        self._null_on_device: tuple[Any, dict[str, torch.Tensor]] = (None, {})
        self.null_context_file = Path(null_context_file) if null_context_file else None
        if self.null_context_file is not None and self.null_context_file.is_file():
            self._null = self._read_null_context(self.null_context_file)

    # ---- identity -------------------------------------------------------------------------------------------
    def identity(self) -> dict[str, Any]:
        """What a cached latent or a prompt file must agree with (backbone, model id, revision, VAE config)."""
        vae_cfg = {k: v for k, v in dict(self.vae.config).items() if not k.startswith("_")}
        return {"backbone": self.name, "model_id": self.model_id, "revision": self.revision,
                "source": self.source, "vae": config_hash(vae_cfg)}

    # ---- null-text context ----------------------------------------------------------------------------------
    def _compute_null_context(self) -> dict[str, torch.Tensor]:
        raise NotImplementedError

    def has_text_encoders(self) -> bool:
        raise NotImplementedError

    def drop_text_encoders(self) -> None:
        raise NotImplementedError

    def null_context(self) -> dict[str, torch.Tensor]:
        """The "" prompt's encoder outputs, computed once (then also written to ``null_context_file`` if set)."""
        if self._null is None:
            if not self.has_text_encoders():
                raise RuntimeError(
                    f"{self.name}: the null-text context is not cached and the text encoders are not loaded; "
                    "load the backbone with its text encoders once (from_pretrained(..., text_encoders=True))."
                )
            with torch.no_grad():
                null = self._compute_null_context()
            self._null = {k: v.detach().to("cpu", torch.float32).contiguous() for k, v in null.items()}
            if self.null_context_file is not None:
                self._write_null_context(self.null_context_file, self._null)
        key = (self.device, self.dtype)
        if self._null_on_device[0] != key:  # one host->device copy, not one per step
            self._null_on_device = (key, {k: v.to(self.device, self.dtype) for k, v in self._null.items()})
        return self._null_on_device[1]

    @staticmethod
    def _read_null_context(path: Path) -> dict[str, torch.Tensor]:
        from safetensors.torch import load_file

        return load_file(str(path))

    @staticmethod
    def _write_null_context(path: Path, tensors: dict[str, torch.Tensor]) -> None:
        from safetensors.torch import save_file

        from ypt.files import atomic_path

        with atomic_path(path) as tmp:
            save_file(tensors, str(tmp))

    # ---- latents --------------------------------------------------------------------------------------------
    def encode(self, pixels: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def decode(self, latents: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    # ---- the velocity field ---------------------------------------------------------------------------------
    def _autocast(self) -> contextlib.AbstractContextManager:
        if self.dtype in (torch.float16, torch.bfloat16) and self.device.type != "meta":
            return torch.autocast(self.device.type, dtype=self.dtype)
        return contextlib.nullcontext()

    def _transformer_velocity(self, z: torch.Tensor, sigma: torch.Tensor, context: dict[str, torch.Tensor]) -> torch.Tensor:
        raise NotImplementedError

    @contextlib.contextmanager
    def attached(self, prompt: Any) -> Iterator[None]:
        """Keep ``prompt`` attached to the transformer for the whole block (no-op for None or when already attached).

        Training wraps forward *and* backward in it: with gradient checkpointing the backward pass recomputes the
        blocks, and the prompt's hooks must still be there then.
        """
        if prompt is None or prompt is self._attached:
            yield
            return
        with prompt.applied(self.transformer):  # refuses a second prompt on the transformer itself
            self._attached = prompt
            try:
                yield
            finally:
                self._attached = None

    def velocity(self, z: torch.Tensor, sigma: torch.Tensor | float, prompt: Any = None) -> torch.Tensor:
        """Velocity ``v ~ e - x`` at noise level ``sigma`` (1-D, batch size, or a float), in fp32, z's layout.

        ``prompt`` is None (the null-text context) or a prompt module from :mod:`ypt.prompts` that attaches to the
        transformer through ``prompt.applied(transformer)``.
        """
        sigma = self._sigma_vector(sigma, z)
        context = self.null_context()
        with self.attached(prompt), self._autocast():
            v = self._transformer_velocity(z, sigma, context)
        return v.float()

    def predict_x0(self, z: torch.Tensor, sigma: torch.Tensor | float, prompt: Any = None) -> torch.Tensor:
        """Clean-latent estimate ``z - sigma * v(z, sigma)``."""
        sigma = self._sigma_vector(sigma, z)
        v = self.velocity(z, sigma, prompt)
        return z.float() - _expand(sigma, z) * v

    def predictor(self, prompts: Any = None, bridge: Any = None) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
        """``predict_x0(z, t)`` for :func:`ypt.sampler.sample_bridge`.

        ``t`` is the bridge time; the backbone sees the bridge's noise level ``bridge.sigma(t)`` (``t`` itself when
        no bridge is given). Several prompts: their velocities are averaged at every call (mixed degradations;
        ``x0_hat`` is affine in ``v`` at fixed ``z`` and ``sigma``, so this is the velocity mean).
        """
        plist = list(prompts) if isinstance(prompts, (list, tuple)) else [prompts]

        def predict(z: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
            sigma = bridge.sigma(t) if bridge is not None else t
            return sum(self.predict_x0(z, sigma, p) for p in plist) / len(plist)

        return predict

    # ---- helpers --------------------------------------------------------------------------------------------
    def _sigma_vector(self, sigma: torch.Tensor | float, z: torch.Tensor) -> torch.Tensor:
        sigma = torch.as_tensor(sigma, dtype=torch.float32, device=z.device)
        if sigma.ndim == 0:
            sigma = sigma.expand(z.shape[0])
        return sigma.reshape(-1).float()

    def parameters_frozen(self) -> Iterator[torch.nn.Parameter]:
        yield from self.transformer.parameters()
        yield from self.vae.parameters()

    def enable_gradient_checkpointing(self) -> None:
        self.transformer.enable_gradient_checkpointing()

    def transformer_blocks(self) -> list[torch.nn.Module]:
        raise NotImplementedError

    def compile_blocks(self) -> None:
        """``torch.compile`` every transformer block in place (the prompt's hooks are compiled with them, so keep
        one prompt attached for the whole run: :meth:`PromptTrainer.fit` does)."""
        for block in self.transformer_blocks():
            block.compile()


def _expand(sigma: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    return sigma.reshape(-1, *([1] * (like.ndim - 1))).to(like.device, torch.float32)
