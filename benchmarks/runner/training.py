"""Prompt-training units: one prompt per (backbone, degradation) on the paper's training set for it (Sec. 4.2).

A :class:`TrainUnit` trains through :func:`ypt.train.train_prompt`; it is done when the prompt file exists where
:func:`ypt.prompts.default_prompt_path` puts it (where ``ypt_flux`` / ``ypt_wan`` look), and an interrupted unit
resumes from the trainer's checkpoint beside the prompt. Table rows of our method wait for these units.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from benchmarks.datasets.synthetic import DEMO_DEGRADATIONS, train_key
from benchmarks.protocol import T0
from benchmarks.runner.units import CPU_NEEDS, Missing, Needs, WorkUnit, missing_dataset
from ypt.backbones import CPU_BACKBONES

#: the paper's training set per backbone and degradation (Sec. 4.2), as dataset registry keys
TRAIN_SETS = {
    "flux": {"haze": "reside_ots_train", "snow": "snow100k_train", "rain": "rain13k_train",
             "lowlight": "lolv1_train", "blur": "gopro_train"},
    "wan": {"haze": "revide_train", "rain": "nturain_synthetic_train", "snow": "rvsd_train",
            "lowlight": "sdsd_train", "blur": "gopro_video_train"},
    # the built-in demo's miniature prior: generated training sets (benchmarks.datasets.synthetic)
    "mini": {d: train_key(d) for d in DEMO_DEGRADATIONS},
}
#: time limit asked per training job: a chosen ceiling, not an estimate (the dry-run's cost line estimates; a job
#: cut short by it, or by the cluster profile's limit, requeues and resumes from its checkpoint); ``--hours``
DEFAULT_HOURS = {"flux": 24, "wan": 24, "mini": 1}


@dataclass
class TrainUnit(WorkUnit):
    """Train one prompt (:func:`ypt.train.train_prompt`); done when the prompt file exists where
    :meth:`ypt.train.TrainConfig.prompt_path` puts it. Resumes from the trainer's checkpoint beside the prompt."""

    kind = "train"
    backbone: str = "flux"
    degradation: str = "haze"
    dataset: str = ""
    data_root: str = ""
    variant: str = "residual"
    bridge: str = "ebr"
    t0: float = T0
    iterations: int | None = None
    extra_args: tuple[str, ...] = ()
    #: where the prompt is written ("" : ypt.prompts.default_prompt_path's root; the demo: results/demo/prompts)
    prompts_root: str = ""

    @property
    def label(self) -> str:
        return f"{self.backbone}/{self.degradation}/{self.variant}/{self.bridge}/t0={self.t0:g}"

    def train_config(self):
        from ypt.train import TrainConfig

        flags = {"--gradient-checkpointing": "gradient_checkpointing", "--compile": "compile"}  # speed/memory only
        return TrainConfig(backbone=self.backbone, degradation=self.degradation, variant=self.variant,
                           bridge=self.bridge, t0=self.t0, iterations=self.iterations or None,
                           **{flags[a]: True for a in self.extra_args})

    def config(self) -> dict[str, Any]:
        return {"kind": "train", "train": self.train_config().hashable(), "dataset": self.dataset}

    def prompt_path(self):
        return self.train_config().prompt_path(self.prompts_root or None)

    def is_done(self) -> bool:
        return self.prompt_path().is_file()

    def source(self) -> str:
        """Where its prompt came from when it was not trained here (the authors' release, imported by
        ``python -m ypt.prompts import-official``), else ""."""
        from ypt.errors import MissingPrompt
        from ypt.prompts import read_sidecar

        try:
            origin = str(read_sidecar(self.prompt_path()).get("source", ""))
        except MissingPrompt:
            return ""
        return origin if origin.startswith("official release") else ""

    def training_pairs(self) -> list:
        """``(input, target)`` of the dataset's samples that have a reference (``target`` set and not the input)."""
        from benchmarks import datasets
        from benchmarks.datasets.roots import dataset_root
        from ypt.errors import MissingData

        spec = datasets.get(self.dataset)
        if hasattr(spec, "prepare"):  # a generated training set (the demo's) is built on first use
            spec.prepare(self.data_root or None)
        root = dataset_root(self.dataset, self.data_root or None)
        pairs = [(s.input, s.target) for s in spec.samples(root)
                 if s.target is not None and s.target != s.input]
        if not pairs:
            raise MissingData(f"dataset {self.dataset!r} at {root} has no (input, target) pairs with a reference")
        return pairs

    def run(self, progress: bool = True) -> None:
        from benchmarks.datasets import read_image
        from ypt.train import train_prompt

        from benchmarks.protocol import PROTOCOL_VERSION

        train_prompt(self.train_config(), self.training_pairs(), read_image=read_image, protocol=PROTOCOL_VERSION,
                     progress=progress, out=self.prompt_path(),
                     device="cpu" if self.backbone in CPU_BACKBONES else None)

    def missing_resources(self) -> list[Missing]:
        """The training set and the backbone's weights (every subfolder training loads, offline)."""
        from ypt.backbones.model_files import weights_problem
        from ypt.backbones.prompting import needs_text_encoders

        found = missing_dataset(self.dataset, self.data_root)
        problem = weights_problem(self.backbone, text_encoders=needs_text_encoders(self.variant))
        if problem:
            found.append(Missing("weights", f"{self.backbone} backbone", problem))
        return found


def training_units(backbones: Sequence[str], degradations: Sequence[str], data_root: str = "",
                   iterations: int | None = None, gpus: int = 1, hours: float | None = None,
                   variant: str = "residual", bridge: str = "ebr", t0: float = T0,
                   extra_args: Sequence[str] = (), prompts_root: str = "") -> list[TrainUnit]:
    """One :class:`TrainUnit` per (backbone, degradation); ``extra_args`` go to ``python -m ypt.train`` as they are
    (``--gradient-checkpointing``, ``--compile``: options that change speed and memory, not the prompt). The
    miniature backbone's units run on a CPU."""
    units = []
    for backbone in backbones:
        for degradation in degradations:
            minutes = int(60 * (hours if hours is not None else DEFAULT_HOURS[backbone]))
            needs = (dataclasses.replace(CPU_NEEDS, minutes=minutes) if backbone in CPU_BACKBONES
                     else Needs(gpus=gpus, cpus=8 * gpus, mem_gb=64 * gpus, minutes=minutes))
            units.append(TrainUnit(backbone=backbone, degradation=degradation,
                                   dataset=TRAIN_SETS[backbone][degradation], data_root=data_root,
                                   variant=variant, bridge=bridge, t0=t0, iterations=iterations,
                                   extra_args=tuple(extra_args), prompts_root=prompts_root, needs=needs))
    return units
