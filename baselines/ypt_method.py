"""Our own method as a registry entry: a frozen backbone (FLUX or WAN 2.1) restoring with the trained prompts,
through the method library (:mod:`ypt.restore`), routed per test set by :mod:`baselines.prompt_routing`
(several prompts = velocity mixing).

Config section ``[ypt_flux]`` / ``[ypt_wan]`` (all optional): ``model`` (local folder or hub id of the
backbone, resolved offline from the HF cache), ``prompts_root`` (default: ``ypt.prompts.default_prompt_path``'s
root, env ``YPT_PROMPTS``), ``variant`` (residual), ``bridge`` (ebr), ``t0`` (0.4), ``device``, ``dtype`` (fp16);
protocol overrides (``num_inference_steps``, ``image_size``, ``video_frames``, ``video_size``, ...) are passed to
``Restorer`` and enter the run's identity; ``batch_size`` (samples of equal size through the sampler at a time,
default 1) is passed on too but left out of the identity: a batch restores as one sample at a time does. The suite's
own ways kept as options (``posterior = "mode"``,
``text_dtype``, ``vae_load_dtype``; :data:`benchmarks.protocol.RELEASE_WAYS`) also name the protocol its records
carry.

Each sample is restored as the release's evaluation restores it: its posterior noise is the draw of the set's
encode stream at its place in the set's evaluation order (``Sample.encoded_before``); images are written as PNG,
WAN frames as the release saves them (truncated to 8 bits, PIL JPEG: DOVER's input), and beside each file the
float metric view the metrics score (:func:`benchmarks.outputs.write_metric_view`).
Restore calls given ``RestoreConfig.models`` take the backbone from it, so calls with equal :meth:`YPTMethod.load_key`
in one process load it once.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

from baselines.base import Method, MethodSpec, Problem, RestoreConfig, RestoreReport, Sample, progress
from benchmarks.protocol import DEGRADATIONS, NUM_INFERENCE_STEPS, SEED, T0, VIDEO_FRAMES, usable_frames

if TYPE_CHECKING:
    from ypt.restore import Restorer


CITATION = "Rajagopalan, Patel. Your Pre-trained Diffusion Model Secretly Knows Restoration"


def ypt_spec(key: str, backbone_label: str, display_name: str, modality: str, resolution: str,
             weights_note: str, degradations: tuple[str, ...] = DEGRADATIONS) -> MethodSpec:
    """The spec of the paper's method on one backbone: its own prompts (one per degradation of ``degradations``)
    routed per test set, the protocol's sampler."""
    return MethodSpec(
        key=key, display_name=display_name, citation=CITATION, modalities=(modality,), degradations=degradations,
        invocation=f"in-process: ypt.restore.Restorer ({backbone_label} backbone, prompts routed per test set, "
                   f"{NUM_INFERENCE_STEPS} EBR steps, seed {SEED})",
        resolution=resolution, weights_note=weights_note)


class YPTMethod(Method):
    """``backbone``: ``"flux"``, ``"wan"`` or ``"mini"`` (the demo's miniature prior); ``defaults``: settings this
    row runs with unless the config says otherwise (the miniature backbone: its image size and fp32)."""

    #: how this method runs, not what it computes: a batch restores as one sample at a time does (``ypt.restore``)
    RUNTIME_SETTINGS = Method.RUNTIME_SETTINGS | {"batch_size"}

    #: how a missing prompt is obtained (``{backbone}``, ``{degradation}``, ``{key}`` filled in)
    PROMPT_FIX = ("import the authors' release (python -m ypt.prompts import-official --src DIR_WITH_{backbone}_*.pt) "
                  "or train it (python -m slurm.train --backbones {backbone} --degradations {degradation}), or set "
                  "prompts_root in [{key}] / env YPT_PROMPTS")

    def __init__(self, spec: MethodSpec, backbone: str, defaults: dict[str, Any] | None = None,
                 prompt_fix: str = PROMPT_FIX):
        from ypt.backbones import CPU_BACKBONES

        super().__init__(spec)
        self.backbone = backbone
        self.prompt_fix = prompt_fix
        self.defaults = {"device": "cpu"} if backbone in CPU_BACKBONES else {}
        self.defaults.update(defaults or {})

    def with_defaults(self, settings: dict[str, Any]) -> dict[str, Any]:
        return {**self.defaults, **settings}

    def expected_frames(self, sample: Sample, settings: dict[str, Any] | None = None) -> int | None:
        """WAN restores the first ``video_frames`` (default ``VIDEO_FRAMES``) frames, cut to the largest 4k+1."""
        if sample.modality != "video":
            return None
        return usable_frames(min(len(sample.input), int((settings or {}).get("video_frames", VIDEO_FRAMES))))

    def prompt_options(self, settings: dict[str, Any]) -> dict[str, Any]:
        return {"variant": settings.get("variant", "residual"), "bridge": settings.get("bridge", "ebr"),
                "t0": float(settings.get("t0", T0)), "root": settings.get("prompts_root")}

    def prompt_path(self, degradation: str, settings: dict[str, Any]) -> Path:
        from ypt.prompts import default_prompt_path

        return Path(default_prompt_path(self.backbone, degradation, **self.prompt_options(settings)))

    def setup_problems(self, settings: dict[str, Any], samples: Sequence[Sample]) -> list[Problem]:
        """Only the prompts these samples are routed to must exist (the T0 sweep trains the low-light one alone)."""
        needed = sorted({d for prompts in self.routes(samples) for d in prompts})
        return self.problems(settings, degradations=needed)

    def problems(self, settings: dict[str, Any], degradations: Sequence[str] | None = None) -> list[Problem]:
        """The backbone's weights (every subfolder it loads, offline) and the prompts ``degradations`` (default:
        every degradation the method has a prompt for) need."""
        from ypt.backbones.model_files import weights_problem
        from ypt.backbones.prompting import needs_text_encoders

        settings = self.with_defaults(settings)
        degradations = self.spec.degradations if degradations is None else degradations
        found = []
        variant = self.prompt_options(settings)["variant"]
        text_dtype = {"fp16": "float16", "bf16": "bfloat16", "fp32": "float32"}[
            settings.get("text_dtype") or settings.get("dtype", "fp16")]
        missing_model = weights_problem(self.backbone, settings.get("model"), settings.get("revision"),
                                        text_encoders=needs_text_encoders(variant), text_dtype=text_dtype)
        if missing_model:
            what, _, fix = missing_model.partition(" Get it with: ")
            found.append(Problem(f"{self.backbone} backbone: {what}", fix or missing_model, kind="weights"))
        for degradation in degradations:
            path = self.prompt_path(degradation, settings)
            if not path.exists():
                found.append(Problem(f"{self.backbone} prompt for {degradation} not found at {path}",
                                     self.prompt_fix.format(backbone=self.backbone, degradation=degradation,
                                                            key=self.key), kind="prompt"))
        return found

    def routes(self, samples: Sequence[Sample]) -> dict[tuple[str, ...], list[Sample]]:
        from baselines.prompt_routing import prompts_for

        groups: dict[tuple[str, ...], list[Sample]] = {}
        for s in samples:
            groups.setdefault(prompts_for(s.dataset, s.degradation, self.spec.degradations), []).append(s)
        return groups

    def run(self, samples: Sequence[Sample], out_dir: Path, config: RestoreConfig, report: RestoreReport) -> None:
        settings = self.with_defaults(config.settings)
        groups = self.routes(samples)
        report.weights = {"backbone": self.backbone, "model": settings.get("model"),
                          **{k: v for k, v in self.prompt_options(settings).items() if k != "root"}, "prompts": {}}
        for prompts, group in groups.items():
            paths = [self.prompt_path(d, settings) for d in prompts]  # present: restore() checked setup_problems
            report.weights["prompts"]["+".join(prompts)] = [str(p) for p in paths]
            report.notes.append(f"{'+'.join(prompts)}: {len(group)} sample(s)"
                                + (" (mixed prompts)" if len(prompts) > 1 else ""))
            self.restore_group(group, paths, out_dir, settings, config)

    def restore_group(self, group: Sequence[Sample], prompt_paths: list[Path], out_dir: Path,
                      settings: dict[str, Any], config: RestoreConfig) -> None:
        from ypt.restore import Restorer  # heavy: torch/diffusers

        options = self.prompt_options(settings)
        load = None
        if config.models is not None:  # a backbone this process loaded for an earlier call is reused
            def load(request):
                return config.models.get(request.key, request.load)
        restorer = Restorer.from_pretrained(self.backbone, prompt_paths, bridge=options["bridge"], t0=options["t0"],
                                            load=load, **restorer_settings(settings))
        size = restorer.batch_size
        batches = [group[i:i + size] for i in range(0, len(group), size)]
        for batch in progress(batches, len(batches), f"{self.key} (batches of {size})", config.progress):
            restore_samples(restorer, batch, out_dir)

    def load_key(self, settings: dict[str, Any]) -> str:
        """The backbone this method loads: backbone, model, revision, device and precisions (the prompt files, the
        sampler settings and the batch size vary freely between the calls that share it)."""
        from ypt.provenance import config_hash

        settings = self.with_defaults(settings)
        loaded = {k: settings.get(k) for k in ("model", "revision", "device", "dtype", "text_dtype", "vae_load_dtype")}
        return f"{self.backbone}-{config_hash({'backbone': self.backbone, **loaded})}"


def restore_samples(restorer: Restorer, samples: Sequence[Sample], out_dir: Path) -> list[Path]:
    """``samples`` restored by ``restorer`` together (``restorer.batch_size`` at a time through its sampler), each
    at its place in its set's run (the release's encode stream), and written under ``out_dir`` per the benchmark's
    naming contract (:mod:`benchmarks.outputs`: ``<out>/<id>.png``, ``<out>/<id>/<index:05d>.jpg``), each file with
    its float metric view beside it."""
    from benchmarks.metrics.resize import write_metric_view
    from benchmarks.outputs import image_output_path, video_frame_path

    def before(sample: Sample) -> list[int]:
        return sample.frames_before() if hasattr(sample, "frames_before") else []

    device = restorer.backbone.device  # the metric view is resized where the release resizes: on the model's device
    written: list[Path] = []
    videos = [s for s in samples if s.modality == "video"]
    for sample, clip in zip(videos, restorer.restore_clips([s.input for s in videos], [before(s) for s in videos])):
        paths = restorer.write_clip(clip, [video_frame_path(out_dir, sample.id, i, ".jpg")
                                           for i in range(clip.shape[1])], release_jpeg=True)
        frames = clip.to(device)
        for i, path in enumerate(paths):
            write_metric_view(frames[:, i], path)
        written += paths
    images = [s for s in samples if s.modality != "video"]
    for sample, image in zip(images, restorer.restore_images([s.input for s in images],
                                                             [len(before(s)) for s in images])):
        path = restorer.write_image(image, image_output_path(out_dir, sample.id))
        write_metric_view(image.to(device), path)
        written.append(path)
    return written


#: settings passed on to ``Restorer.from_pretrained`` (each changes the run's identity hash when set, except the
#: runtime ones, ``YPTMethod.RUNTIME_SETTINGS``: ``device``, ``batch_size``)
RESTORER_SETTINGS = ("model", "revision", "device", "dtype", "num_inference_steps", "seed", "image_size",
                     "video_frames", "video_size", "output_size", "batch_size", "posterior", "text_dtype",
                     "vae_load_dtype")


def restorer_settings(settings: dict[str, Any]) -> dict[str, Any]:
    return {k: tuple(v) if isinstance(v, list) else v for k, v in settings.items() if k in RESTORER_SETTINGS}
