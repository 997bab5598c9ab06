"""What FLUX and WAN adapters share, and the adapter interface the rest of ``ypt`` is written against.

An adapter (:class:`Backbone`) is a frozen diffusion transformer + VAE in fp32 + cached null-text context, seen as a
velocity field. It loads itself (:mod:`ypt.backbones.loading`: local folder or HF cache, never a download) and owns
the frozen state, the null-text context cache, the timestep convention and the clean-latent prediction ``z - sigma * v``. It also knows
where a prompt enters its transformer: its blocks, gate count (:attr:`Backbone.num_gates`), prompt width
(:attr:`Backbone.prompt_width`), text length (``max_sequence_length``) and text-encoder output widths
(:meth:`Backbone.context_dims`); it installs a residual prompt's hooks (:meth:`Backbone.install_residual`) and
the hook of the prompts that replace the text context (:meth:`Backbone.install_context`). Prompt modules
(:mod:`ypt.prompts`) hold only their parameters and how to combine them.

Latents handed in and out of an adapter are the *normalised* VAE latents in the backbone's natural layout
(FLUX ``(B, C, h, w)``, WAN ``(B, C, F, h, w)``); packing for the transformer happens inside :meth:`velocity`.
Bridges and the sampler are elementwise, so they never need to know the layout.
"""
from __future__ import annotations

import abc
import contextlib
import functools
import os
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ContextManager, Protocol, Union

import torch

from ypt.defaults import TEXT_LEN
from ypt.backbones.loading import cast_module, freeze, load_component
from ypt.backbones.model_files import null_context_path, resolve_model_dir
from ypt.provenance import config_hash

if TYPE_CHECKING:
    from ypt.bridges import Bridge


# ---- what an adapter sees of a prompt ---------------------------------------------------------------------------
class Handle(Protocol):
    """An installed hook: ``remove()`` takes it out again (``torch.utils.hooks.RemovableHandle`` is one)."""

    def remove(self) -> None: ...


class AttachablePrompt(Protocol):
    """A prompt module of :mod:`ypt.prompts`: ``applied(backbone)`` conditions the backbone for a ``with`` block."""

    variant: str

    def applied(self, backbone: Backbone) -> ContextManager[Any]: ...


class ResidualParameters(Protocol):
    """What an adapter reads of a residual prompt to install it: ``P`` (1, L, prompt_width), one gate per block,
    and the prompt's own arithmetic (in which dtype it adds and combines)."""

    prompt: torch.Tensor
    gates: torch.Tensor

    def check_context(self, context: torch.Tensor) -> None: ...

    def gated(self, index: int, dtype: torch.dtype) -> torch.Tensor: ...

    def shifted(self, context: torch.Tensor) -> torch.Tensor: ...

    def combine(self, output: torch.Tensor, extra: torch.Tensor, index: int) -> torch.Tensor: ...


class ContextSource(Protocol):
    """A prompt that replaces the text context the transformer is called with (embedding, token, text)."""

    variant: str

    def context(self) -> dict[str, torch.Tensor]: ...


#: what :meth:`Backbone.predictor` mixes: no prompt (the null text), one prompt, or several (velocities averaged)
Prompts = Union[AttachablePrompt, Sequence[AttachablePrompt], None]


def replace_argument(args: tuple, kwargs: dict[str, Any], index: int, name: str,
                     fn: Callable[[torch.Tensor], torch.Tensor]) -> tuple[tuple, dict[str, Any]]:
    """Apply ``fn`` to the argument passed positionally at ``index`` or as keyword ``name`` (for forward pre-hooks)."""
    if name in kwargs:
        kwargs = {**kwargs, name: fn(kwargs[name])}
    elif len(args) > index:
        args = (*args[:index], fn(args[index]), *args[index + 1:])
    else:
        raise RuntimeError(f"prompt hook: the block was called without {name}")
    return args, kwargs


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


class Backbone(abc.ABC):
    """A frozen diffusion transformer + VAE in fp32 + cached null-text context, seen as a velocity field; the
    interface every ``ypt`` module uses for a backbone (FLUX: :class:`ypt.backbones.flux.FluxBackbone`, WAN:
    :class:`ypt.backbones.wan.WanBackbone`)."""

    name = "backbone"
    #: the model id the paper uses; :meth:`from_pretrained` defaults to it
    default_model_id = ""
    download_hint = ""
    #: loading, declared by each backbone: label, diffusers class names, (argument, transformers class, subfolder)
    label = ""
    transformer_class = ""
    vae_class = ""
    text_parts: tuple[tuple[str, str, str], ...] = ()
    #: the attribute holding the text encoder whose input embeddings a token prompt learns
    token_encoder = "text_encoder"
    #: input frames per latent frame (1: an image backbone)
    temporal_compression = 1
    #: whether the text encoders run under the backbone's half-precision autocast when the null-text context is
    #: made (the release: FLUX's is made lazily inside its sampler's autocast, WAN's at load time without it)
    text_autocast = False

    @classmethod
    def default_text_len(cls) -> int:
        """The context length the backbone feeds by default (``ypt.defaults.TEXT_LEN``)."""
        return TEXT_LEN[cls.name]

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
        text_dtype: torch.dtype | None = None,
        vae_load_dtype: torch.dtype | None = None,
    ) -> Backbone:
        """Load from a local diffusers folder or the HF cache (never downloads).

        ``text_encoders="auto"`` loads the text encoders only when the null-text context is not cached yet
        (``null_context_file``, by default under ``$YPT_CACHE/null_context``); they are dropped after use.
        ``True`` loads and keeps them (token/text prompt variants). ``cache_dir``: another HF cache folder.

        Precision follows the authors' release by default (``from_pretrained(..., torch_dtype=dtype)`` for every
        part): the text encoders are loaded in ``dtype`` (``text_dtype`` overrides it, e.g. bf16 against T5 overflow
        in fp16), and the VAE is loaded in ``dtype`` and then upcast to fp32, so its weights carry that rounding
        (``vae_load_dtype=torch.float32`` keeps the full-precision weights).
        """
        import diffusers
        import transformers

        max_sequence_length = max_sequence_length or cls.default_text_len()
        text_dtype = text_dtype or dtype
        vae_load_dtype = vae_load_dtype or dtype
        model_id = str(path_or_id or cls.default_model_id)
        model_dir = resolve_model_dir(model_id, revision, what=cls.label, download_hint=cls.download_hint,
                                      cache_dir=cache_dir)
        if null_context_file == "auto":
            null_context_file = null_context_path(cls.name, model_dir, revision, max_sequence_length,
                                                  _dtype_name(text_dtype))
        what = f"{cls.name.upper()} ({model_dir})"
        transformer = load_component(getattr(diffusers, cls.transformer_class), model_dir, "transformer", what,
                                     torch_dtype=dtype)
        vae = load_component(getattr(diffusers, cls.vae_class), model_dir, "vae", what, torch_dtype=vae_load_dtype)
        need_text = text_encoders is True or (
            text_encoders == "auto" and not (null_context_file and os.path.isfile(null_context_file))
        )
        text: dict[str, Any] = {}
        if need_text:
            for argument, class_name, subfolder in cls.text_parts:
                kwargs = {} if class_name == "AutoTokenizer" else {"torch_dtype": text_dtype}
                text[argument] = load_component(getattr(transformers, class_name), model_dir, subfolder, what,
                                                **kwargs)
        backbone = cls(
            transformer, vae, **text,
            max_sequence_length=max_sequence_length,
            dtype=dtype, device=device, model_id=model_id, revision=revision,
            null_context_file=null_context_file, source=str(model_dir.resolve()),
            text_dtype=text_dtype, vae_load_dtype=vae_load_dtype,
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
        max_sequence_length: int | None = None,
        dtype: torch.dtype = torch.bfloat16,
        device: str | torch.device = "cpu",
        model_id: str = "",
        revision: str | None = None,
        null_context_file: str | os.PathLike | None = None,
        null_context: dict[str, torch.Tensor] | None = None,
        source: str | None = None,
        text_dtype: torch.dtype | None = None,
        vae_load_dtype: torch.dtype | None = None,
    ) -> None:
        """``null_context``: the null-text context when it is known already (e.g. random stand-ins for a model built
        from config); otherwise it is read from ``null_context_file`` or computed by the text encoders.
        ``text_dtype``: the text encoders' dtype (default ``dtype``); ``vae_load_dtype``: the dtype the VAE's weights
        were loaded in before their upcast to fp32 (recorded in :meth:`identity`; default fp32, as built)."""
        self.device = torch.device(device)
        #: the folder the weights were read from (a hub snapshot folder names its commit), None when built in code
        self.source = source
        self.dtype = dtype
        self.text_dtype = text_dtype or dtype
        self.vae_load_dtype = vae_load_dtype or torch.float32
        self.model_id = model_id
        self.revision = revision
        #: the context length the backbone feeds its transformer (and a prompt is made for)
        self.max_sequence_length = int(max_sequence_length or self.default_text_len())
        self.transformer = cast_module(transformer, self.device, dtype)
        self.vae = cast_module(vae, self.device, torch.float32)
        freeze(self.transformer)
        freeze(self.vae)
        self._null: dict[str, torch.Tensor] | None = None
        self._attached: AttachablePrompt | None = None
        self._null_on_device: tuple[tuple[torch.device, torch.dtype] | None, dict[str, torch.Tensor]] = (None, {})
        self.null_context_file = Path(null_context_file) if null_context_file else None
        if null_context is not None:
            self._null = {k: v.detach().to("cpu", torch.float32).contiguous() for k, v in null_context.items()}
        elif self.null_context_file is not None and self.null_context_file.is_file():
            self._null = self._read_null_context(self.null_context_file)

    # ---- identity -------------------------------------------------------------------------------------------
    def identity(self) -> dict[str, Any]:
        """What a cached latent or a prompt file must agree with (backbone, model id, revision, VAE config)."""
        vae_cfg = {k: v for k, v in dict(self.vae.config).items() if not k.startswith("_")}
        identity = {"backbone": self.name, "model_id": self.model_id, "revision": self.revision,
                    "source": self.source, "vae": config_hash(vae_cfg)}
        if self.vae_load_dtype != torch.float32:  # weights rounded through that dtype: other latents
            identity["vae_load_dtype"] = _dtype_name(self.vae_load_dtype)
        return identity

    # ---- null-text context ----------------------------------------------------------------------------------
    @abc.abstractmethod
    def _encode_text(self, texts: list[str]) -> dict[str, torch.Tensor]:
        """The text encoders' raw outputs for ``texts``, keyed by the transformer's argument names."""

    def encode_text(self, text: str | list[str]) -> dict[str, torch.Tensor]:
        """The text encoders' outputs for ``text``, keyed by the transformer's argument names, made as the release
        makes them: under the half-precision autocast of ``text_dtype`` where the backbone's pipeline runs its
        encoders so (:attr:`text_autocast`), and cast to the encoders' dtype as the diffusers pipelines return them."""
        if not self.has_text_encoders():
            raise RuntimeError(f"{self.name}: the text encoders are not loaded (from_pretrained(..., "
                               "text_encoders=True))")
        texts = [text] if isinstance(text, str) else list(text)
        half = self.text_dtype in (torch.float16, torch.bfloat16) and self.device.type != "meta"
        autocast = (torch.autocast(self.device.type, dtype=self.text_dtype) if self.text_autocast and half
                    else contextlib.nullcontext())
        with autocast:
            out = self._encode_text(texts)
        return {k: v.to(self.text_dtype) for k, v in out.items()}

    @abc.abstractmethod
    def _compute_null_context(self) -> dict[str, torch.Tensor]:
        """The "" prompt's context (the text encoders are loaded)."""

    @abc.abstractmethod
    def has_text_encoders(self) -> bool:
        """Whether the text encoders are loaded."""

    @abc.abstractmethod
    def drop_text_encoders(self) -> None:
        """Free the text encoders (the null context stays cached)."""

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
    def encode(self, pixels: torch.Tensor, sample: bool = False,
               generator: torch.Generator | None = None) -> torch.Tensor:
        """Pixels in [0, 1] -> normalised latents (VAE in fp32): the posterior's mode, or with ``sample`` a draw
        ``mean + std * randn`` from ``generator`` (diffusers' ``latent_dist.sample(generator)``, drawn on the
        generator's device; the release encodes its degraded inputs so, from its global RNG)."""
        self.check_pixels(pixels)
        x = pixels.to(self.device, torch.float32) * 2 - 1
        with torch.no_grad(), torch.autocast(self.device.type, enabled=False):
            dist = self.vae.encode(x).latent_dist
            z = dist.sample(generator=generator) if sample else dist.mode()
        return self.normalise(z)

    @abc.abstractmethod
    def check_pixels(self, pixels: torch.Tensor) -> None:
        """Refuse pixels of a shape the VAE and transformer cannot take."""

    @abc.abstractmethod
    def normalise(self, z: torch.Tensor) -> torch.Tensor:
        """Raw VAE latents -> the normalised latents the transformer sees (the pipeline's normalisation)."""

    @abc.abstractmethod
    def posterior_shape(self, pixels_shape: Sequence[int]) -> tuple[int, ...]:
        """The shape of the VAE posterior (one draw of :meth:`encode` with ``sample``) for pixels of this shape."""

    @abc.abstractmethod
    def decode(self, latents: torch.Tensor) -> torch.Tensor:
        """Normalised latents -> pixels in [0, 1] (VAE in fp32)."""

    # ---- where prompts enter ------------------------------------------------------------------------------------
    @abc.abstractmethod
    def transformer_blocks(self) -> list[torch.nn.Module]:
        """The transformer's blocks, in order (one gate of a residual prompt each)."""

    @property
    def num_gates(self) -> int:
        """Gates of a residual prompt: one per transformer block."""
        return len(self.transformer_blocks())

    @property
    def prompt_width(self) -> int:
        """Width of a residual prompt ``P``: the attention width its tokens join (heads x head dim)."""
        config = self.transformer.config
        return int(config.num_attention_heads * config.attention_head_dim)

    @abc.abstractmethod
    def context_dims(self) -> dict[str, int]:
        """Width of each text-encoder output the transformer takes (an embedding prompt learns them)."""

    @abc.abstractmethod
    def install_residual(self, prompt: ResidualParameters) -> list[Handle]:
        """Hook a residual prompt into the transformer's blocks; removing the handles restores it exactly."""

    def install_context(self, prompt: ContextSource) -> list[Handle]:
        """Hook a context-replacing prompt in: the transformer is called with ``prompt.context()`` (broadcast over
        the batch, in the dtype of the context it replaces) instead of the null-text context."""

        def replace(module: torch.nn.Module, args: tuple, kwargs: dict[str, Any]) -> tuple[tuple, dict[str, Any]]:
            context = prompt.context()
            kwargs = dict(kwargs)
            for name, value in context.items():
                if name not in kwargs:
                    raise RuntimeError(f"{prompt.variant} prompt: the transformer must be called with {name}= as a "
                                       "keyword (ypt.backbones does)")
                batch = kwargs[name].shape[0]
                kwargs[name] = value.to(kwargs[name].dtype).expand(batch, *value.shape[1:])
            return args, kwargs

        return [self.transformer.register_forward_pre_hook(replace, with_kwargs=True)]

    # ---- the velocity field ---------------------------------------------------------------------------------
    def _autocast(self) -> contextlib.AbstractContextManager:
        if self.dtype in (torch.float16, torch.bfloat16) and self.device.type != "meta":
            return torch.autocast(self.device.type, dtype=self.dtype)
        return contextlib.nullcontext()

    @abc.abstractmethod
    def _transformer_velocity(self, z: torch.Tensor, sigma: torch.Tensor,
                              context: dict[str, torch.Tensor]) -> torch.Tensor:
        """The transformer's output for latents ``z`` at noise levels ``sigma`` with text ``context``."""

    @contextlib.contextmanager
    def attached(self, prompt: AttachablePrompt | None) -> Iterator[None]:
        """Keep ``prompt`` attached to the transformer for the whole block (no-op for None or when already attached).

        Training wraps forward *and* backward in it: with gradient checkpointing the backward pass recomputes the
        blocks, and the prompt's hooks must still be there then.
        """
        if prompt is None or prompt is self._attached:
            yield
            return
        with prompt.applied(self):  # refuses a second prompt on the transformer itself
            self._attached = prompt
            try:
                yield
            finally:
                self._attached = None

    def velocity(self, z: torch.Tensor, sigma: torch.Tensor | float,
                 prompt: AttachablePrompt | None = None) -> torch.Tensor:
        """Velocity ``v ~ e - x`` at noise level ``sigma`` (1-D, batch size, or a float), in fp32, z's layout.

        ``prompt`` is None (the null-text context) or a prompt module from :mod:`ypt.prompts`, attached for the call
        through ``prompt.applied(self)``.
        """
        sigma = self._sigma_vector(sigma, z)
        context = self.null_context()
        with self.attached(prompt), self._autocast():
            v = self._transformer_velocity(z, sigma, context)
        return v.float()

    def predict_x0(self, z: torch.Tensor, sigma: torch.Tensor | float,
                   prompt: AttachablePrompt | None = None) -> torch.Tensor:
        """Clean-latent estimate ``z - sigma * v(z, sigma)``."""
        sigma = self._sigma_vector(sigma, z)
        v = self.velocity(z, sigma, prompt)
        return z.float() - _expand(sigma, z) * v

    def predictor(self, prompts: Prompts = None,
                  bridge: Bridge | None = None) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
        """``predict_x0(z, t)`` for :func:`ypt.sampler.sample_bridge`.

        ``t`` is the bridge time; the backbone sees the bridge's noise level ``bridge.sigma(t)`` (``t`` itself when
        no bridge is given). Several prompts: their velocities are averaged at every call (mixed degradations), as
        the release does (``torch.stack(velocities).mean(0)``, then ``z - sigma * v``; averaging the clean estimates
        instead is the same in exact arithmetic, not in floats).
        """
        plist = list(prompts) if isinstance(prompts, (list, tuple)) else [prompts]

        def predict(z: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
            sigma = self._sigma_vector(bridge.sigma(t) if bridge is not None else t, z)
            v = torch.stack([self.velocity(z, sigma, p) for p in plist], dim=0).mean(dim=0)
            return z.float() - _expand(sigma, z) * v

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

    def compile_blocks(self) -> None:
        """``torch.compile`` every transformer block in place (the prompt's hooks are compiled with them, so keep
        one prompt attached for the whole run: :meth:`PromptTrainer.fit` does)."""
        for block in self.transformer_blocks():
            block.compile()


def _dtype_name(dtype: torch.dtype) -> str:
    return str(dtype).removeprefix("torch.")


def _expand(sigma: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    return sigma.reshape(-1, *([1] * (like.ndim - 1))).to(like.device, torch.float32)
