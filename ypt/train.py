"""Prompt training: one prompt per degradation on a frozen backbone, loss ``|| x0_hat(z_t, t; prompt) - x0 ||^2``.

``z_t`` comes from the bridge (EBR by default: ``t`` in ``[t_min, T0]``); the backbone, VAE and text encoders are
frozen; only the prompt's parameters train (AdamW, ``ypt.defaults``: lr 5e-4, batch 2). VAE latents of the pairs
come from the :mod:`ypt.latent_cache`, encoded once and only for the pairs the run's :class:`PairSchedule` draws.
Checkpoints are atomic and hold the prompt, the optimizer, the RNG state, the step and the logged losses, so a
resumed run follows the uninterrupted run's trajectory exactly.
The loss is only brought to the host every ``log_every`` steps (no device sync per step).

Library::

    from ypt.pairs import pairs_from_dir
    from ypt.train import TrainConfig, train_prompt
    path = train_prompt(TrainConfig(backbone="wan", degradation="haze"), pairs_from_dir("DATA/haze"))

Training pairs (:mod:`ypt.pairs`) are ``(input, target)`` with each side an image path, a clip (frame folder or list
of frame paths) or a ``[0, 1]`` tensor.

CLI::

    python -m ypt.train --backbone wan --degradation haze --pairs-dir DATA/haze --iterations 20000
    python -m ypt.train --backbone flux --degradation rain --pairs pairs.json
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ypt.cli import add_debug_argument, entry_point
from ypt.defaults import (
    BATCH_SIZE,
    FLUX_SIZE,
    LEARNING_RATE,
    MINI_CROP,
    MINI_TRAINING,
    T0,
    T_MIN,
    TEXT_LEN,
    TRAIN_ITERATIONS,
    VIDEO_FRAMES,
    VIDEO_HEIGHT,
    VIDEO_WIDTH,
)
from ypt.errors import MissingData, UsageError
from ypt.pairs import Pair, PairSource, cached_latents, pairs_from_dir, pairs_from_json
from ypt.signals import HeldSignals
from ypt.registry import check_key

if TYPE_CHECKING:
    import torch

    from ypt.backbones.base import Backbone
    from ypt.bridges import Bridge
    from ypt.media import ImageReader
    from ypt.prompts.modules import PromptModule

#: training geometry per backbone (the method's default sizes, ``ypt.defaults``; see :mod:`ypt.media`)
DEFAULT_GEOMETRY = {"flux": {"size": [FLUX_SIZE, FLUX_SIZE]},
                    "wan": {"frames": VIDEO_FRAMES, "size": [VIDEO_HEIGHT, VIDEO_WIDTH]},
                    "mini": {"size": [MINI_CROP, MINI_CROP]}}
#: the paper's recipe (Sec. 4.2); a backbone may declare its own (the miniature one: ``ypt.defaults.MINI_TRAINING``)
PAPER_TRAINING = {"lr": LEARNING_RATE, "batch_size": BATCH_SIZE, "weight_decay": 0.01, "lr_schedule": "constant",
                  "warmup": 0, "dtype": "bf16"}
TRAINING_RECIPES = {"flux": PAPER_TRAINING, "wan": PAPER_TRAINING, "mini": {**PAPER_TRAINING, **MINI_TRAINING}}
LR_SCHEDULES = ("constant", "cosine")
#: backbone weight / autocast dtypes of training (no fp16: it would need loss scaling)
DTYPES = ("bf16", "fp32")


@dataclass
class TrainConfig:
    backbone: str = "flux"
    degradation: str = "haze"
    variant: str = "residual"
    bridge: str = "ebr"
    t0: float = T0
    t_min: float = T_MIN
    iterations: int | None = None  # None: the paper's for the backbone (ypt.defaults.TRAIN_ITERATIONS)
    # None: the backbone's recipe (TRAINING_RECIPES: the paper's AdamW, lr 5e-4, batch 2, constant lr, bf16)
    batch_size: int | None = None
    lr: float | None = None
    weight_decay: float | None = None
    seed: int = 0
    dtype: str | None = None
    gradient_checkpointing: bool = False
    compile: bool = False
    log_every: int = 50
    checkpoint_every: int = 1000
    geometry: dict[str, Any] = field(default_factory=dict)
    #: learning-rate schedule: constant (the paper), or linear warmup over ``warmup`` steps then cosine to 10%
    lr_schedule: str | None = None
    warmup: int | None = None

    def __post_init__(self) -> None:
        check_key("backbone", self.backbone, TRAIN_ITERATIONS)
        for name, value in TRAINING_RECIPES[self.backbone].items():
            if getattr(self, name) is None:
                setattr(self, name, value)
        check_key("training dtype", self.dtype, DTYPES)
        check_key("learning-rate schedule", self.lr_schedule, LR_SCHEDULES)
        if self.iterations is None:
            self.iterations = TRAIN_ITERATIONS[self.backbone]
        if not self.geometry:
            self.geometry = json.loads(json.dumps(DEFAULT_GEOMETRY[self.backbone]))

    def hashable(self) -> dict[str, Any]:
        """What defines the trained prompt: logging and checkpoint cadence, and the execution options that change
        speed and memory but not the prompt (``gradient_checkpointing``, ``compile``), excluded."""
        return defining_fields(asdict(self))

    def lr_at(self, step: int) -> float:
        """The learning rate of step ``step`` (0-based) under :attr:`lr_schedule`."""
        if self.lr_schedule == "constant" and step >= self.warmup:
            return self.lr
        return warmup_cosine(step, self.iterations, self.lr, self.warmup, COSINE_FLOOR)

    def prompt_path(self, root: str | os.PathLike | None = None) -> Path:
        """Where training writes the prompt by default and ``ypt_flux`` / ``ypt_wan`` look for it
        (:func:`ypt.prompts.default_prompt_path`)."""
        from ypt.prompts.paths import default_prompt_path

        return default_prompt_path(self.backbone, self.degradation, variant=self.variant, bridge=self.bridge,
                                   t0=self.t0, root=root)


#: the cosine schedule's learning rate at its last step, as a fraction of ``lr``
COSINE_FLOOR = 0.1


def warmup_cosine(step: int, total: int, lr: float, warmup: int, floor: float) -> float:
    """Learning rate of step ``step`` (0-based) of ``total``: linear warmup over ``warmup`` steps, then a cosine decay
    from ``lr`` to ``floor * lr``."""
    import math

    if step < warmup:
        return lr * (step + 1) / warmup
    progress = (step - warmup) / max(1, total - warmup)
    return lr * (floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * progress)))


#: config fields that do not define the trained prompt: logging and checkpoint cadence, and the execution options
#: that change speed and memory but not the prompt
NOT_DEFINING = ("log_every", "checkpoint_every", "compile", "gradient_checkpointing")


def defining_fields(config: dict[str, Any]) -> dict[str, Any]:
    """The fields of a config (``asdict``) that define the trained prompt; a constant learning rate without warmup
    (the paper's) is left out, so prompts trained before schedules existed keep their hash."""
    d = {k: v for k, v in config.items() if k not in NOT_DEFINING}
    if d.get("lr_schedule", "constant") == "constant" and not d.get("warmup"):
        d.pop("lr_schedule", None)
        d.pop("warmup", None)
    return d


# ---- the trainer ----------------------------------------------------------------------------------------------
class PairSchedule:
    """Which pairs each training step draws: ``batch_size`` indices per step, uniformly with replacement, from a
    generator of their own seeded by the run's ``seed`` (apart from the generator of ``t`` and the noise). So the
    pairs a run of ``n`` steps touches are known before its first step (:meth:`touched`: the latent cache encodes
    only those), and step ``k`` draws the same pairs however the run was interrupted and resumed."""

    def __init__(self, n_pairs: int, batch_size: int, seed: int) -> None:
        import torch

        from ypt.provenance import config_hash

        if n_pairs < 1:
            raise MissingData("a training run needs at least one pair")
        self.n_pairs, self.batch_size = n_pairs, batch_size
        stream = int(config_hash({"seed": seed, "stream": "training pairs"}, length=15), 16)
        self._generator = torch.Generator("cpu").manual_seed(stream)
        self._drawn: list[list[int]] = []

    def step(self, k: int) -> list[int]:
        """The pair indices of step ``k`` (0-based)."""
        import torch

        while len(self._drawn) <= k:
            self._drawn.append(torch.randint(self.n_pairs, (self.batch_size,), generator=self._generator).tolist())
        return self._drawn[k]

    def touched(self, steps: int) -> list[int]:
        """The indices steps ``0 .. steps-1`` draw, each once, sorted."""
        if steps > 0:
            self.step(steps - 1)
        return sorted({i for drawn in self._drawn[:steps] for i in drawn})


class PromptTrainer:
    """Trains ``prompt`` on a frozen ``backbone``.

    ``target_fn(z_t, t) -> x0 target`` replaces the pair's clean latent in the loss when given (distillation
    from a teacher, e.g. the prompt-recovery test); by default the target is ``x0``.
    """

    def __init__(self, backbone: Backbone, prompt: PromptModule, bridge: Bridge, data: PairSource,
                 config: TrainConfig,
                 target_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
                 schedule: PairSchedule | None = None) -> None:
        import torch

        self.backbone, self.prompt, self.bridge, self.data, self.config = backbone, prompt, bridge, data, config
        if any(p.device != backbone.device for p in prompt.parameters()):
            prompt.to(backbone.device)  # parameters stay fp32 (master weights); autocast casts them per op
        self.target_fn = target_fn
        self.params = [p for p in prompt.parameters() if p.requires_grad]
        if not self.params:
            raise UsageError(f"prompt variant {config.variant!r} has no trainable parameters")
        # fused: one kernel for all prompt tensors, and the step count stays a device tensor (the for-loop AdamW
        # reads it back with .item(), a host sync per step on a GPU)
        fused = {"fused": True} if backbone.device.type in ("cuda", "cpu") else {}
        self.optimizer = torch.optim.AdamW(self.params, lr=config.lr, weight_decay=config.weight_decay, **fused)
        self.generator = torch.Generator("cpu").manual_seed(config.seed)
        # the run's pair draws (``train_prompt`` hands in the one it drew to know which pairs to encode)
        self.schedule = schedule or PairSchedule(len(data), config.batch_size, config.seed)
        self.step_count = 0
        self.losses: list[tuple[int, float]] = []
        self._pending: list[torch.Tensor] = []
        if config.gradient_checkpointing:
            backbone.enable_gradient_checkpointing()
        if config.compile:
            backbone.compile_blocks()

    def _draw(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        import torch

        g, b = self.generator, self.config.batch_size
        y, x0 = self.data.batch(self.schedule.step(self.step_count))
        t = self.bridge.sample_t(b, generator=g)
        noise = torch.randn(x0.shape, generator=g)
        dev = self.backbone.device
        if dev.type != "cuda":
            return x0, y, t, noise
        # pinned host memory + non_blocking: the host queues the copies and goes on; no sync per step. The draws
        # stay on the seeded CPU generator so a resumed run continues the same trajectory. Latents a pair source
        # already holds on the device stay there.
        return tuple(x.to(dev, non_blocking=True) if x.is_cuda else x.pin_memory().to(dev, non_blocking=True)
                     for x in (x0, y, t, noise))

    def step(self) -> torch.Tensor:
        """One optimisation step; returns the loss as a device tensor (no host sync)."""
        x0, y, t, noise = self._draw()
        z = self.bridge.state(x0, y, t, noise)
        target = x0 if self.target_fn is None else self.target_fn(z, t).detach()
        if self.config.lr_schedule != "constant" or self.config.warmup:
            for group in self.optimizer.param_groups:
                group["lr"] = self.config.lr_at(self.step_count)
        self.optimizer.zero_grad(set_to_none=True)
        with self.backbone.attached(self.prompt):  # through backward: checkpointed blocks recompute with it
            x0_hat = self.backbone.predictor(self.prompt, self.bridge)(z, t)
            loss = (x0_hat - target.float()).pow(2).mean()
            loss.backward()
        self.optimizer.step()
        self.step_count += 1
        return loss.detach()

    def fit(self, iterations: int, checkpoint: str | os.PathLike | None = None, progress: bool = True,
            stop_after: int | None = None, log_dir: str | os.PathLike | None = None,
            tensorboard: bool = False) -> list[tuple[int, float]]:
        """Train up to ``iterations`` total steps (resuming from ``checkpoint`` if it exists); return logged losses.

        Every ``log_every`` steps the mean loss is reported (:class:`ypt.progress.RunLog`: a bar on a terminal,
        a plain line with it/s and ETA otherwise) and, with ``log_dir``, appended to ``<log_dir>/metrics.csv``
        (and written as TensorBoard scalars with ``tensorboard``). ``stop_after``: stop after that many steps of
        this call (simulates an interruption in tests).
        """
        from ypt.progress import RunLog

        if checkpoint is not None and Path(checkpoint).is_file():
            self.load_checkpoint(checkpoint)
        cfg = self.config
        done_here = 0
        # compiled blocks trace the prompt's hooks: keep them attached for the whole run (eager attaches per step,
        # so a target_fn may use another prompt on the same backbone)
        keep = self.backbone.attached(self.prompt) if cfg.compile else contextlib.nullcontext()
        log = RunLog(f"{cfg.backbone}/{cfg.degradation}", iterations, self.step_count, folder=log_dir,
                     tensorboard=tensorboard, progress=progress)
        with log, keep, HeldSignals() as held:
            while self.step_count < iterations:
                if stop_after is not None and done_here >= stop_after:
                    break
                self._pending.append(self.step())
                done_here += 1
                if self.step_count % cfg.log_every == 0 or self.step_count == iterations:
                    self._flush()
                    log.update(self.step_count, loss=self.losses[-1][1], lr=self.optimizer.param_groups[0]["lr"])
                if checkpoint is not None and (self.step_count % cfg.checkpoint_every == 0 or held.pending):
                    self.save_checkpoint(checkpoint)
                if held.pending:  # preempted, timed out or interrupted: the step is saved, now the signal acts
                    log.close()
                    held.release()
            self._flush()
        if checkpoint is not None:
            self.save_checkpoint(checkpoint)
        return self.losses

    def _flush(self) -> None:
        """Bring the pending per-step losses to the host as one mean per logging window."""
        if self._pending:
            import torch

            self.losses.append((self.step_count, float(torch.stack(self._pending).mean().item())))
            self._pending = []

    # ---- checkpoints ----------------------------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        return {
            "step": self.step_count,
            "prompt": {k: v.detach().cpu().clone() for k, v in self.prompt.state_dict().items()},
            "optimizer": self.optimizer.state_dict(),
            "rng": self.generator.get_state(),
            "losses": [list(x) for x in self.losses],
            # the losses of the logging window in progress: a checkpoint between log points (a preemption) resumes
            # into the same window, so the logged means equal an uninterrupted run's
            "pending": [float(x) for x in self._pending],
            "config": json.dumps(asdict(self.config), sort_keys=True),
        }

    def save_checkpoint(self, path: str | os.PathLike) -> Path:
        import torch

        from ypt.files import atomic_path

        with atomic_path(path) as tmp:
            torch.save(self.state(), tmp)
        return Path(path)

    def load_checkpoint(self, path: str | os.PathLike) -> None:
        import torch

        state = torch.load(path, map_location="cpu", weights_only=True)
        saved = json.loads(state["config"])
        free = ("iterations",)  # may change between runs (a longer run continues a shorter one)
        saved, mine = defining_fields(saved), self.config.hashable()
        differs = sorted(k for k in set(saved) | set(mine) if saved.get(k) != mine.get(k) and k not in free)
        if differs:
            raise UsageError(f"checkpoint {path} was trained with another config ({', '.join(differs)} differ); "
                             "use another --out or delete it")
        self.prompt.load_state_dict(state["prompt"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.generator.set_state(state["rng"])
        self.step_count = int(state["step"])
        self.losses = [(int(s), float(v)) for s, v in state["losses"]]
        self._pending = [torch.tensor(v, dtype=torch.float32) for v in state.get("pending", [])]


def save_trained_prompt(prompt: PromptModule, path: str | os.PathLike, backbone: Backbone, config: TrainConfig,
                        extra: dict[str, Any] | None = None) -> Path:
    """Prompt file (safetensors + JSON sidecar) with the backbone identity, the training config and ``extra``
    (e.g. steps trained and the logged losses)."""
    from ypt.prompts.files import save_prompt
    from ypt.provenance import config_hash

    meta = {
        **backbone.identity(),
        "variant": config.variant, "bridge": config.bridge, "t0": config.t0, "degradation": config.degradation,
        "train_config": config.hashable(), "train_config_hash": config_hash(config.hashable()), **(extra or {}),
    }
    return save_prompt(prompt, path, meta)


# ---- the library entry point ------------------------------------------------------------------------------------
def run_dir(prompt_path: str | os.PathLike) -> Path:
    """The run's log folder beside its prompt file: ``haze.safetensors`` -> ``haze.run/`` (``metrics.csv``,
    TensorBoard events); the resumable checkpoint is ``haze.safetensors.ckpt``."""
    return Path(prompt_path).with_suffix(".run")


def train_prompt(config: TrainConfig, pairs: Sequence[Pair], *, model: str | os.PathLike | None = None,
                 revision: str | None = None, device: str | None = None, out: str | os.PathLike | None = None,
                 cache_dir: str | os.PathLike | None = None, read_image: ImageReader | None = None,
                 text_len: int | None = None, protocol: str | None = None, progress: bool = True,
                 tensorboard: bool = False) -> Path:
    """Train one prompt on ``pairs`` and write it; returns the prompt file's path.

    Loads the frozen backbone ``config.backbone`` (``model``: a local diffusers folder or hub id found in the HF
    cache, default the paper's model; never downloads) on ``device`` (default cuda when available), encodes the
    pairs its steps draw once into the latent cache (``cache_dir``, default ``$YPT_CACHE/latents``, fingerprinted
    with ``protocol`` among others; ``read_image`` decodes inputs that are not image files), trains for
    ``config.iterations`` steps, resuming from the checkpoint ``<out>.ckpt`` beside the prompt when one exists, and
    writes ``out`` (default
    :meth:`TrainConfig.prompt_path`) with its JSON sidecar. ``text_len``: the context length the backbone feeds
    and the prompt is made for (default the backbone's, ``ypt.defaults.TEXT_LEN``). The run's log goes into
    :func:`run_dir` (``metrics.csv``; TensorBoard scalars with ``tensorboard``). A ``device`` that is not here
    (``cuda`` on a node without a GPU) is an error before anything loads.
    """
    import torch

    from ypt.backbones import load_backbone, prompting
    from ypt.bridges import make_bridge
    from ypt.device import resolve_device

    if not pairs:
        raise MissingData("train_prompt needs at least one (input, target) pair")
    device = resolve_device(device)
    dtype = {"bf16": torch.bfloat16, "fp32": torch.float32}[config.dtype]
    backbone = load_backbone(config.backbone, model, revision=revision, dtype=dtype, device=device,
                             text_encoders=prompting.needs_text_encoders(config.variant),
                             max_sequence_length=text_len)
    out = Path(out) if out else config.prompt_path()
    # only the pairs this run's steps draw are encoded (a longer run later extends the cache)
    schedule = PairSchedule(len(pairs), config.batch_size, config.seed)
    data = cached_latents(backbone, pairs, config.geometry, cache_dir, progress=progress, read_image=read_image,
                          touched=schedule.touched(config.iterations), protocol=protocol)
    # seeded: the same config trains the same prompt
    prompt = prompting.new_prompt(config.variant, backbone, generator=torch.Generator("cpu").manual_seed(config.seed))
    trainer = PromptTrainer(backbone, prompt, make_bridge(config.bridge, config.t0, config.t_min), data, config,
                            schedule=schedule)
    losses = trainer.fit(config.iterations, checkpoint=out.with_name(out.name + ".ckpt"), progress=progress,
                         log_dir=run_dir(out), tensorboard=tensorboard)
    return save_trained_prompt(prompt, out, backbone, config, {"steps": trainer.step_count, "losses": losses})


# ---- CLI ------------------------------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m ypt.train", description=(
        "Train one prompt (one degradation) on a frozen FLUX or WAN 2.1 backbone with the bridge loss "
        "|| x0_hat(z_t, t; prompt) - x0 ||^2. Writes the prompt file where ypt.prompts.default_prompt_path says "
        "(or --out), a resumable checkpoint beside it and the run's metrics.csv in <prompt>.run/; progress is a "
        "bar on a terminal and plain lines (step, loss, it/s, ETA) in a log file."))
    p.add_argument("--backbone", choices=sorted(TRAIN_ITERATIONS), required=True)
    p.add_argument("--degradation", required=True, help="haze, rain, snow, lowlight or blur")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--pairs-dir", help="folder with input/ and target/ (same names; images or frame folders)")
    src.add_argument("--pairs", metavar="FILE.json",
                     help='JSON list of {"input": ..., "target": ...} (or the manifests\' image_path / target_path); '
                          "each side an image path or a list of frame paths, relative to the file's folder")
    p.add_argument("--model", help="local diffusers folder or hub id (default: the paper's model, from HF cache)")
    p.add_argument("--revision")
    p.add_argument("--variant", default="residual", help="prompt variant (residual, embedding, token)")
    p.add_argument("--bridge", default="ebr", choices=["naive", "ddbm", "ebr"])
    p.add_argument("--t0", type=float, default=T0)
    p.add_argument("--t-min", type=float, default=T_MIN)
    p.add_argument("--iterations", type=int, help="default: the paper's ("
                   + ", ".join(f"{k.upper()} {v}" for k, v in TRAIN_ITERATIONS.items()) + ")")
    recipe = "; default: the backbone's recipe (paper: " + ", ".join(f"{k} {v}" for k, v in PAPER_TRAINING.items()) \
        + "; mini: " + ", ".join(f"{k} {v}" for k, v in MINI_TRAINING.items()) + ")"
    p.add_argument("--batch-size", type=int, help="pairs per step" + recipe)
    p.add_argument("--lr", type=float, help="AdamW learning rate" + recipe)
    p.add_argument("--lr-schedule", choices=LR_SCHEDULES, help="constant, or warmup then cosine to 10%%" + recipe)
    p.add_argument("--warmup", type=int, help="linear warmup steps" + recipe)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--dtype", choices=DTYPES,
                   help="backbone weights and autocast dtype (prompt parameters stay fp32; no fp16: it would need "
                        "loss scaling); default bf16, fp32 for mini")
    p.add_argument("--gradient-checkpointing", action="store_true",
                   help="recompute each block in the backward: far less activation memory for more FLOPs "
                        "(python -m benchmarks.perf --only memory traces both at full size)")
    p.add_argument("--compile", action="store_true",
                   help="torch.compile each transformer block (the prompt stays attached for the whole run)")
    p.add_argument("--size", type=int, nargs=2, metavar=("H", "W"), help="training resolution (default protocol)")
    p.add_argument("--frames", type=int, help=f"WAN clip length (default {VIDEO_FRAMES})")
    p.add_argument("--text-len", type=int, help="context length (default: "
                   + ", ".join(f"{k.upper()} {v}" for k, v in TEXT_LEN.items()) + "; the prompt's length)")
    p.add_argument("--log-every", type=int, default=50)
    p.add_argument("--checkpoint-every", type=int, default=1000)
    p.add_argument("--cache-dir", help="latent cache root (default $YPT_CACHE/latents)")
    p.add_argument("--out", help="prompt file (default: ypt.prompts.default_prompt_path)")
    p.add_argument("--device", default=None,
                   help="cuda, cuda:N or cpu; a device that is not here is an error (default: cuda if available, "
                        "else cpu, said on stderr)")
    p.add_argument("--tensorboard", action="store_true",
                   help="also write the logged metrics as TensorBoard scalars into the run folder (needs the "
                        "tensorboard package)")
    add_debug_argument(p)
    return p


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    geometry = json.loads(json.dumps(DEFAULT_GEOMETRY[args.backbone]))
    if args.size:
        geometry["size"] = list(args.size)
    if args.frames and args.backbone == "wan":
        geometry["frames"] = args.frames
    return TrainConfig(
        backbone=args.backbone, degradation=args.degradation, variant=args.variant, bridge=args.bridge,
        t0=args.t0, t_min=args.t_min, iterations=args.iterations or None,
        batch_size=args.batch_size, lr=args.lr, seed=args.seed, dtype=args.dtype, lr_schedule=args.lr_schedule,
        warmup=args.warmup,
        gradient_checkpointing=args.gradient_checkpointing, compile=args.compile, log_every=args.log_every,
        checkpoint_every=args.checkpoint_every, geometry=geometry,
    )


@entry_point
def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    config = config_from_args(args)
    pairs = pairs_from_dir(args.pairs_dir) if args.pairs_dir else pairs_from_json(args.pairs)
    out = train_prompt(config, pairs, model=args.model, revision=args.revision, device=args.device, out=args.out,
                       cache_dir=args.cache_dir, text_len=args.text_len, tensorboard=args.tensorboard)
    from ypt.prompts.paths import read_sidecar

    meta = read_sidecar(out)
    print(f"prompt written to {out} (step {meta['steps']}, last logged loss {meta['losses'][-1][1]:.5f}); "
          f"metrics in {run_dir(out) / 'metrics.csv'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
