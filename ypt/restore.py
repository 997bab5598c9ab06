"""Restoration: a frozen backbone + one or more trained prompts, the deterministic bridge sampler.

Defaults (``ypt.defaults``, the paper's protocol): FLUX inputs are bicubic-resized to 1024x1024; WAN clips are the
first 33 frames at 480x832; sampler seed 42, 20 EBR steps (T0 0.4), half-precision autocast with the VAE in fp32.
Several prompts (mixed degradations) average their velocities at every step.

The degraded input is encoded as the authors' release encodes it: a sample of the VAE posterior, drawn from one
stream seeded ``ENCODE_SEED`` (123) on the VAE's device, which their evaluation loop advances by two draws per
sample (the input, then the target it encodes too). A list handed to :meth:`Restorer.restore_images` is such a run;
``encoded_before`` names the samples of the run that came before it (their frame counts, 1 for an image), so any
sample of a run gets its own noise alone, resumed or on another worker. ``posterior="mode"`` encodes the posterior's
mode instead (no stream: each sample's latent is independent of the run).

:class:`Restorer` returns tensors **at the model resolution** (1024x1024 for FLUX, 480x832 frames for WAN):
metrics resize predictions and targets to 512x512 anyway, so resizing back to the input size would only add a
resampling step. ``output_size="input"`` resizes images back to the input size instead (bicubic).
Every sample's start noise comes from a generator seeded with ``seed``, batched or not: ``batch_size`` samples of
equal size go through the sampler together (each still encoded, at its own place in the encode stream, and decoded
alone) and restore as they do one at a time, up to float rounding in the batched transformer calls. :meth:`Restorer.write_image` and :meth:`Restorer.write_clip`
write PNGs where they are told to; the command line below names them ``<out>/<name>.png`` (an image) and
``<out>/<clip>/<index:05d>.png`` (a clip's frames), and writes each clip's frames as ``<out>/<clip>/result.mp4``
too (H.264 at the input's frame rate, 12 fps for a frame folder), as the release's ``run_single.py`` does. A clip
is a frame folder or a video file (.mp4 .mov .avi .mkv .webm): its first ``--frames`` frames (protocol 33; the
release's app allows up to 120), cut to the largest 4k+1 the WAN VAE takes.

CLI::

    python -m ypt.restore --backbone flux --prompts haze.safetensors --input hazy/ --out restored/
    python -m ypt.restore --backbone wan --prompts lowlight.safetensors,blur.safetensors \\
        --input clip.mp4 --out restored/
"""
from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Union

from ypt.cli import add_debug_argument, entry_point
from ypt.defaults import (
    ENCODE_SEED,
    FLUX_SIZE,
    NUM_INFERENCE_STEPS,
    SEED,
    T0,
    T_MIN,
    VIDEO_FRAMES,
    VIDEO_HEIGHT,
    VIDEO_WIDTH,
)
from ypt.errors import BadInput, MissingData, MissingPrompt, UsageError
from ypt.media import IMAGE_EXTENSIONS, natural_key

if TYPE_CHECKING:
    import torch
    from PIL import Image

    from ypt.backbones.base import Backbone
    from ypt.media import ClipSource
    from ypt.prompts.modules import PromptModule

DTYPES = ("fp16", "bf16", "fp32")
#: how the degraded input becomes a latent: a posterior sample from the release's stream, or the posterior's mode
POSTERIORS = ("sample", "mode")
#: posterior draws the release's evaluation loop makes per sample: the degraded input, then the target
DRAWS_PER_SAMPLE = 2
#: an image to restore: a file, a PIL image, or a ``(3, H, W)`` tensor in [0, 1]
ImageInput = Union[str, os.PathLike, "Image.Image", "torch.Tensor"]


@dataclass(frozen=True)
class BackboneRequest:
    """The backbone a set of prompts restores with: which model, on which device, at which precisions, and what of
    its text side the prompts need (the text encoders, the context length they were made for). Equal requests load
    equal backbones; :attr:`key` names a request, so a caller restoring several prompt sets can load each distinct
    backbone once (the benchmark's workers do)."""

    backbone: str
    model: str | None = None
    revision: str | None = None
    device: str = "cpu"
    dtype: str = "fp16"
    text_dtype: str | None = None
    vae_load_dtype: str | None = None
    text_encoders: bool | str = "auto"
    max_sequence_length: int | None = None

    @classmethod
    def for_prompts(cls, backbone: str, prompts: Sequence[str | os.PathLike] = (), model: str | None = None,
                    revision: str | None = None, device: str | None = None, dtype: str = "fp16",
                    texts: Sequence[str] = (), text_dtype: str | None = None,
                    vae_load_dtype: str | None = None) -> BackboneRequest:
        """The request of :meth:`Restorer.from_pretrained` for these prompt files and text instructions (missing
        files, an unknown dtype and a device this machine lacks are refused here, before anything loads)."""
        for name, value in (("dtype", dtype), ("text_dtype", text_dtype), ("vae_load_dtype", vae_load_dtype)):
            if value is not None and value not in DTYPES:
                raise UsageError(f"{name} must be one of {DTYPES}, got {value!r}")
        if not prompts and not texts:
            raise UsageError("give at least one prompt file or text instruction")
        paths = [Path(p) for p in prompts]
        missing = [str(p) for p in paths if not p.exists()]
        if missing:
            raise MissingPrompt(f"prompt file(s) not found: {', '.join(missing)} (train them with "
                                "python -m ypt.train, or convert the official wan_*.pt with ypt.prompts)")
        from ypt.backbones.prompting import common_text_len, needs_text_encoders
        from ypt.device import resolve_device

        return cls(backbone=backbone, model=None if model is None else str(model), revision=revision,
                   device=resolve_device(device), dtype=dtype, text_dtype=text_dtype, vae_load_dtype=vae_load_dtype,
                   text_encoders=True if texts else needs_text_encoders(paths),
                   # the backbone must feed the context length the prompts were made for
                   max_sequence_length=common_text_len(paths))

    @property
    def key(self) -> str:
        from ypt.provenance import config_hash

        return f"{self.backbone}-{config_hash(asdict(self))}"

    def load(self) -> Backbone:
        """Load the backbone (HF cache or local folder, offline)."""
        import torch

        from ypt.backbones import load_backbone

        dtypes = {"fp16": torch.float16, "bf16": torch.bfloat16, "fp32": torch.float32}
        extra = {"max_sequence_length": self.max_sequence_length} if self.max_sequence_length else {}
        return load_backbone(self.backbone, self.model, revision=self.revision, dtype=dtypes[self.dtype],
                             device=self.device, text_encoders=self.text_encoders,
                             text_dtype=dtypes.get(self.text_dtype), vae_load_dtype=dtypes.get(self.vae_load_dtype),
                             **extra)


class Restorer:
    """Restore images (FLUX) or clips (WAN) with ``prompts`` (prompt modules from :mod:`ypt.prompts`)."""

    def __init__(
        self,
        backbone: Backbone,
        prompts: Sequence[PromptModule],
        *,
        bridge: str = "ebr",
        t0: float = T0,
        t_min: float = T_MIN,
        num_inference_steps: int = NUM_INFERENCE_STEPS,
        seed: int = SEED,
        image_size: tuple[int, int] = (FLUX_SIZE, FLUX_SIZE),
        video_frames: int = VIDEO_FRAMES,
        video_size: tuple[int, int] = (VIDEO_HEIGHT, VIDEO_WIDTH),
        output_size: str = "model",
        batch_size: int = 1,
        clip_denoised: float | None = None,
        posterior: str = "sample",
        encode_seed: int = ENCODE_SEED,
    ) -> None:
        from ypt.bridges import make_bridge

        if not prompts:
            raise UsageError("Restorer needs at least one prompt")
        if output_size not in ("model", "input"):
            raise UsageError("output_size is 'model' or 'input'")
        if posterior not in POSTERIORS:
            raise UsageError(f"posterior is one of {', '.join(POSTERIORS)}, got {posterior!r}")
        if int(batch_size) < 1:
            raise UsageError(f"batch_size must be at least 1, got {batch_size}")
        self.backbone = backbone
        self.prompts = list(prompts)
        self.bridge = make_bridge(bridge, t0, t_min)
        self.num_inference_steps = num_inference_steps
        self.seed = seed
        self.image_size = tuple(image_size)
        self.video_frames = video_frames
        self.video_size = tuple(video_size)
        self.output_size = output_size
        self.batch_size = int(batch_size)
        #: clamp of every clean estimate (off, as the official evaluation: ``bridge_sample(..., clip_denoised=False)``)
        self.clip_denoised = clip_denoised
        self.posterior = posterior
        self.encode_seed = encode_seed
        #: the encode stream after the draws of a run's samples so far: (their pixel shapes, generator state)
        self._stream: tuple[tuple[tuple[int, ...], ...], Any] | None = None

    @classmethod
    def from_pretrained(
        cls,
        backbone: str,
        prompts: Sequence[str | os.PathLike] = (),
        model: str | None = None,
        revision: str | None = None,
        device: str | None = None,
        dtype: str = "fp16",
        texts: Sequence[str] = (),
        text_dtype: str | None = None,
        vae_load_dtype: str | None = None,
        load: Callable[[BackboneRequest], Backbone] | None = None,
        **kwargs: Any,
    ) -> Restorer:
        """Load the backbone (HF cache or local folder, offline) and the prompt files; ``dtype`` per protocol fp16.

        ``texts``: natural-language instructions used as (untrained) text prompts, the paper's text control
        (Fig. 1; with ``bridge="naive"`` this is SDEdit). They need the text encoders, which are then loaded.
        ``text_dtype`` / ``vae_load_dtype`` (one of :data:`DTYPES`): the text encoders' dtype and the dtype the VAE
        is loaded in before its upcast to fp32; both default to ``dtype``, as the release loads every part.
        ``load``: how the backbone the prompts need (a :class:`BackboneRequest`) is obtained (default
        :meth:`BackboneRequest.load`); a caller restoring several prompt sets passes a loader that keeps backbones
        by :attr:`BackboneRequest.key`, so equal requests load once.
        """
        request = BackboneRequest.for_prompts(backbone, prompts, model=model, revision=revision, device=device,
                                              dtype=dtype, texts=texts, text_dtype=text_dtype,
                                              vae_load_dtype=vae_load_dtype)
        bb = (load or BackboneRequest.load)(request)
        return cls.from_backbone(bb, prompts, texts=texts, **kwargs)

    @classmethod
    def from_backbone(cls, backbone: Backbone, prompts: Sequence[str | os.PathLike] = (), texts: Sequence[str] = (),
                      **kwargs: Any) -> Restorer:
        """A restorer on an already loaded ``backbone`` (from :meth:`BackboneRequest.load`) with the prompt files
        ``prompts`` and text instructions ``texts``; ``kwargs`` as :class:`Restorer`."""
        import torch

        from ypt.backbones.prompting import load_prompts, new_prompt

        loaded = load_prompts([Path(p) for p in prompts], backbone)
        with torch.no_grad():
            loaded += [new_prompt("text", backbone, instruction=text).to(backbone.device) for text in texts]
        return cls(backbone, loaded, **kwargs)

    # ---- latents --------------------------------------------------------------------------------------------
    def start_noise(self, y: torch.Tensor) -> torch.Tensor:
        """The sampler's start noise for degraded latents ``y`` (batch first): every row is what a single-sample run
        draws (a generator on ``y``'s device seeded with ``seed``), so a batch restores each sample as batch 1
        does."""
        import torch

        generator = torch.Generator(y.device).manual_seed(self.seed)
        one = torch.randn((1, *y.shape[1:]), generator=generator, device=y.device, dtype=torch.float32)
        return one.repeat(y.shape[0], *([1] * (y.ndim - 1)))

    def restore_latents(self, y: torch.Tensor) -> torch.Tensor:
        """Clean latents from degraded latents ``y`` with the bridge sampler (per-sample seeded start noise)."""
        import torch

        from ypt.sampler import sample_bridge

        predict = self.backbone.predictor(self.prompts, self.bridge)
        with torch.no_grad():
            return sample_bridge(predict, y.float(), self.bridge, num_inference_steps=self.num_inference_steps,
                                 noise=self.start_noise(y), clip_denoised=self.clip_denoised)

    def _sample_batched(self, latents: Sequence[torch.Tensor]) -> list[torch.Tensor]:
        """Degraded latents (one sample each, batch dim first) -> restored pixels on the CPU, each decoded alone (the
        VAE's peak memory stays one sample's); the sampler runs ``batch_size`` samples of equal shape at a time."""
        import torch

        restored: list[torch.Tensor] = []
        start = 0
        while start < len(latents):
            stop = start + 1
            while stop < len(latents) and stop - start < self.batch_size and \
                    latents[stop].shape == latents[start].shape:
                stop += 1
            batch = self.restore_latents(torch.cat(list(latents[start:stop])))
            restored += [self.backbone.decode(z[None]).cpu() for z in batch]
            start = stop
        return restored

    # ---- encoding ---------------------------------------------------------------------------------------------
    def encode_stream(self, earlier: Sequence[tuple[int, ...]]) -> torch.Generator:
        """The release's encode stream as its loop finds it after the samples of pixel shapes ``earlier``: a
        generator on the VAE's device seeded :attr:`encode_seed`, advanced by :data:`DRAWS_PER_SAMPLE` posterior
        draws of each (exactly the ``randn`` calls diffusers' ``latent_dist.sample()`` makes). The state after
        the longest prefix seen before is reused, so a run restored in order replays each draw once."""
        import torch

        shapes = tuple(tuple(self.backbone.posterior_shape(s)) for s in earlier)
        generator = torch.Generator(self.backbone.device)
        done: tuple[tuple[int, ...], ...] = ()
        if self._stream is not None and shapes[:len(self._stream[0])] == self._stream[0]:
            done = self._stream[0]
            generator.set_state(self._stream[1])
        else:
            generator.manual_seed(self.encode_seed)
        for shape in shapes[len(done):]:
            for _ in range(DRAWS_PER_SAMPLE):
                torch.randn(shape, generator=generator, device=generator.device, dtype=torch.float32)
        self._stream = (shapes, generator.get_state())
        return generator

    def encode(self, pixels: torch.Tensor, earlier: Sequence[tuple[int, ...]] = ()) -> torch.Tensor:
        """Degraded pixels ``(1, 3, [F,] H, W)`` -> their latent: a posterior sample from :meth:`encode_stream`
        after ``earlier`` (the pixel shapes of the run's samples before it), or the mode (``posterior="mode"``)."""
        if self.posterior == "mode":
            return self.backbone.encode(pixels)
        return self.backbone.encode(pixels, sample=True, generator=self.encode_stream(earlier))

    def _clip_shape(self, frames: int) -> tuple[int, ...]:
        """The pixel shape a clip of ``frames`` frames is encoded at (the first ``video_frames``, cut to 4k+1)."""
        from ypt.defaults import usable_frames

        used = usable_frames(min(frames, self.video_frames), self.backbone.temporal_compression)
        return (1, 3, used, *self.video_size)

    # ---- images (FLUX) --------------------------------------------------------------------------------------
    def restore_images(self, images: Sequence[ImageInput],
                       encoded_before: int | Sequence[int] = 0) -> list[torch.Tensor]:
        """Images (PIL, path, or ``(3, H, W)`` tensors in [0, 1]) -> restored ``(3, H', W')`` tensors in [0, 1];
        ``batch_size`` of them at a time through the sampler.

        The images are one run of the release's evaluation, preceded by ``encoded_before`` images of the same
        run (their posterior draws come first in the encode stream); or, a list, each image's own count of images
        before it in its run."""
        from ypt import media

        before = ([encoded_before + k for k in range(len(images))] if isinstance(encoded_before, int)
                  else list(encoded_before))
        if len(before) != len(images):
            raise UsageError(f"restore_images: {len(before)} positions for {len(images)} images")
        shape = (1, 3, *self.image_size)
        out: list[torch.Tensor] = []
        for start in range(0, len(images), self.batch_size):
            chunk = [_prepare_image(im, self.image_size) for im in images[start:start + self.batch_size]]
            latents = [self.encode(pixels[None], [shape] * before[start + k]) for k, (pixels, _) in enumerate(chunk)]
            for (_, size), res in zip(chunk, self._sample_batched(latents)):
                out.append(media.resize(res[0], size) if self.output_size == "input" else res[0])
        return out

    # ---- clips (WAN) ----------------------------------------------------------------------------------------
    def restore_clip(self, clip: ClipSource | torch.Tensor, encoded_before: Sequence[int] = ()) -> torch.Tensor:
        """A clip (frame folder, list of frame paths, video file, or ``(3, F, H, W)`` tensor in [0, 1]) ->
        restored ``(3, F', H, W)``: the first ``video_frames`` frames (fewer: the largest 4k+1) at ``video_size``.

        ``encoded_before``: the frame counts of the clips of the same run restored before it (the release's encode
        stream holds their posterior draws first)."""
        return self.restore_clips([clip], [encoded_before])[0]

    def restore_clips(self, clips: Sequence[ClipSource | torch.Tensor],
                      encoded_before: Sequence[Sequence[int]] | None = None) -> list[torch.Tensor]:
        """Several clips (as :meth:`restore_clip`); ``batch_size`` clips of equal length at a time through the
        sampler. ``encoded_before``: per clip, the frame counts of the clips before it in its run (default: the
        clips are one run, each after the ones before it in the list)."""
        from ypt import media

        out: list[torch.Tensor] = []
        frames: list[int] = []  # of the clips so far, for the default run order
        for start in range(0, len(clips), self.batch_size):
            latents, sizes = [], []
            for k, clip in enumerate(clips[start:start + self.batch_size]):
                x, size, count = self._prepare_clip(clip)
                earlier = encoded_before[start + k] if encoded_before is not None else frames
                latents.append(self.encode(x, [self._clip_shape(n) for n in earlier]))
                sizes.append(size)
                frames = [*frames, count]
            for size, res in zip(sizes, self._sample_batched(latents)):
                res = res[0]
                if size is not None:
                    res = media.resize(res.permute(1, 0, 2, 3), size).permute(1, 0, 2, 3)
                out.append(res)
        return out

    def _prepare_clip(self, clip: ClipSource | torch.Tensor) -> tuple[torch.Tensor, tuple[int, int] | None, int]:
        """``((1, 3, F, H, W) pixels at the model geometry, the size to resize back to or None, the frames read)``."""
        import torch

        from ypt import media

        if self.output_size != "input":
            size = None
        elif isinstance(clip, torch.Tensor):
            size = tuple(clip.shape[-2:])
        else:
            size = media.clip_size(clip)
        if not isinstance(clip, torch.Tensor):
            clip = media.load_clip(clip, self.video_frames, self.video_size)  # PIL bicubic per frame
        x = media.prepare_clip(clip, self.video_frames, self.video_size, self.backbone.temporal_compression)[None]
        return x, size, int(clip.shape[1])

    # ---- files ----------------------------------------------------------------------------------------------
    def write_image(self, image: torch.Tensor, path: str | os.PathLike) -> Path:
        """``(3, H, W)`` in [0, 1] as an 8-bit PNG at ``path`` (atomic; folders created)."""
        from ypt.media import save_png

        return save_png(image, path)

    def write_clip(self, clip: torch.Tensor, target: str | os.PathLike | Sequence[str | os.PathLike],
                   release_jpeg: bool = False) -> list[Path]:
        """``(3, F, H, W)`` in [0, 1] as one 8-bit PNG per frame: into the folder ``target`` as
        ``<index:05d>.png``, or at the ``F`` paths ``target`` lists. ``release_jpeg``: each frame as the release
        saves its WAN frames (:func:`ypt.media.save_release_jpeg`: truncated to 8 bits, PIL's default JPEG; the files
        its DOVER videos are made from), ``<index:05d>.jpg`` in a folder."""
        from ypt.media import save_png, save_release_jpeg

        frames = clip.shape[1]
        if isinstance(target, (str, os.PathLike)):
            suffix = ".jpg" if release_jpeg else ".png"
            paths = [Path(target) / f"{i:05d}{suffix}" for i in range(frames)]
        else:
            paths = [Path(p) for p in target]
            if len(paths) != frames:
                raise UsageError(f"write_clip: {len(paths)} paths for a clip of {frames} frames")
        save = save_release_jpeg if release_jpeg else save_png
        return [save(clip[:, i], path) for i, path in enumerate(paths)]


def _prepare_image(image: ImageInput, size: tuple[int, int]) -> tuple[torch.Tensor, tuple[int, int]]:
    """``(pixels at size, original (H, W))``: files and PIL images resized with PIL bicubic (the protocol),
    tensors ``(3, H, W)`` in [0, 1] with antialiased bicubic interpolation."""
    import torch

    from ypt import media

    if isinstance(image, torch.Tensor):
        if image.ndim != 3 or image.shape[0] != 3:
            raise BadInput(f"image tensors are (3, H, W) in [0, 1], got {tuple(image.shape)}")
        return media.resize(image.float(), size), tuple(image.shape[-2:])
    if isinstance(image, (str, os.PathLike)):
        with media.open_image(image) as img:  # decoded once: pixels and original size from the same image
            return media.pil_to_tensor(img, size), (img.height, img.width)
    return media.pil_to_tensor(image, size), (image.height, image.width)


# ---- CLI ------------------------------------------------------------------------------------------------------
def _inputs(source: Path, video: bool) -> list[tuple[str, Path]]:
    """(name, input) for a single file/clip or every image / clip inside ``source``; a clip is a frame folder or a
    video file (:data:`ypt.media.VIDEO_EXTENSIONS`)."""
    from ypt.media import VIDEO_EXTENSIONS

    if not source.exists():
        raise MissingData(f"input not found: {source}")
    if source.is_file() and source.suffix.lower() in VIDEO_EXTENSIONS:
        return [(source.stem, source)]
    if video:
        if source.is_file():
            raise BadInput(f"{source} is neither a video ({', '.join(VIDEO_EXTENSIONS)}) nor a frame folder")
        clips = [p for p in source.iterdir() if p.is_dir() or p.suffix.lower() in VIDEO_EXTENSIONS]
        clips = sorted(clips, key=lambda p: natural_key(p.name))
        return [(p.stem if p.is_file() else p.name, p) for p in clips] or [(source.name, source)]
    if source.is_file():
        return [(source.stem, source)]
    files = [p for p in source.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS]
    if not files:
        raise MissingData(f"no images ({', '.join(IMAGE_EXTENSIONS)}) in {source}")
    return [(p.stem, p) for p in sorted(files, key=lambda p: natural_key(p.name))]


def build_parser() -> argparse.ArgumentParser:
    from ypt.media import RESULT_VIDEO, VIDEO_EXTENSIONS

    p = argparse.ArgumentParser(prog="python -m ypt.restore", description=(
        "Restore images (FLUX) or clips (WAN 2.1) with trained prompts and the EBR bridge sampler, per the "
        f"paper's protocol (seed {SEED}, {NUM_INFERENCE_STEPS} steps, FLUX {FLUX_SIZE}x{FLUX_SIZE}, WAN first "
        f"{VIDEO_FRAMES} frames at {VIDEO_HEIGHT}x{VIDEO_WIDTH}). Outputs: <out>/<name>.png for images; for a "
        f"clip (a video file {' '.join(VIDEO_EXTENSIONS)} or a frame folder), its frames "
        f"<out>/<clip>/<index:05d>.png and <out>/<clip>/{RESULT_VIDEO} (H.264 at the input's frame rate)."))
    p.add_argument("--backbone", choices=["flux", "wan"], required=True)
    p.add_argument("--prompts", default="",
                   help="comma list of prompt files; several mix degradations (velocities averaged)")
    p.add_argument("--text", default="",
                   help="a natural-language instruction as an untrained prompt (the paper's text control; "
                        "with --bridge naive this is SDEdit); needs the text encoders")
    p.add_argument("--input", required=True,
                   help="an image, a folder of images, a video file, a frame folder, or a folder of videos and "
                        "frame folders (with --video)")
    p.add_argument("--video", action="store_true",
                   help="inputs are clips (videos or frame folders); default for --backbone wan")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--model", help="local diffusers folder or hub id (default: the paper's model, from HF cache)")
    p.add_argument("--revision")
    p.add_argument("--bridge", default="ebr", choices=["naive", "ddbm", "ebr"])
    p.add_argument("--t0", type=float, default=T0)
    p.add_argument("--steps", type=int, default=NUM_INFERENCE_STEPS)
    p.add_argument("--seed", type=int, default=SEED)
    p.add_argument("--dtype", choices=DTYPES, default="fp16", help="autocast/weights dtype; VAE stays fp32")
    p.add_argument("--image-size", type=int, nargs=2, metavar=("H", "W"), default=[FLUX_SIZE, FLUX_SIZE],
                   help=f"FLUX model resolution (protocol: {FLUX_SIZE} {FLUX_SIZE})")
    p.add_argument("--video-size", type=int, nargs=2, metavar=("H", "W"), default=[VIDEO_HEIGHT, VIDEO_WIDTH],
                   help=f"WAN frame size (protocol: {VIDEO_HEIGHT} {VIDEO_WIDTH})")
    p.add_argument("--frames", type=int, default=VIDEO_FRAMES,
                   help=f"WAN: the first N frames of each clip, cut to the largest 4k+1 (protocol: {VIDEO_FRAMES}; "
                        "the release's app allows up to 120)")
    p.add_argument("--output-size", choices=["model", "input"], default="model")
    p.add_argument("--skip-existing", action="store_true", help="skip samples whose output already exists")
    p.add_argument("--device", help="cuda, cuda:N or cpu; a device that is not here is an error (default: cuda if "
                                    "available, else cpu, said on stderr)")
    add_debug_argument(p)
    return p


@entry_point
def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    prompts = [x.strip() for x in args.prompts.split(",") if x.strip()]
    if not prompts and not args.text:
        parser.error("give --prompts FILE[,FILE...] and/or --text INSTRUCTION")
    video = args.video or args.backbone == "wan"
    inputs = _inputs(Path(args.input), video)
    from ypt import media
    from ypt.progress import RunLog

    restorer = Restorer.from_pretrained(
        args.backbone, prompts, texts=[args.text] if args.text else [], model=args.model, revision=args.revision,
        device=args.device, dtype=args.dtype, bridge=args.bridge, t0=args.t0, num_inference_steps=args.steps,
        seed=args.seed, output_size=args.output_size, image_size=tuple(args.image_size),
        video_size=tuple(args.video_size), video_frames=args.frames)
    out = Path(args.out)
    with RunLog("restoring", len(inputs), unit="sample") as log:
        for index, (name, src) in enumerate(inputs, 1):
            target = out / name if video else out / f"{name}.png"
            done = target / media.RESULT_VIDEO if video else target
            if not (args.skip_existing and done.exists()):
                if video:
                    clip = restorer.restore_clip(src)
                    restorer.write_clip(clip, target)
                    media.write_video(clip, target / media.RESULT_VIDEO, media.clip_fps(src))
                else:
                    restorer.write_image(restorer.restore_images([src])[0], target)
            log.update(index)
    print(f"{len(inputs)} sample(s) written to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
