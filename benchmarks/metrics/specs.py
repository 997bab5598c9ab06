"""The metric table, the one place every metric fact lives (no heavy imports): key, label, direction, range, whether
it needs a reference, whether it scores whole videos only, the pyiqa name behind it, implementation, version, weight
files. The metric lists everyone else uses (full-reference, no-reference image/video, image, video) are derived
from it below.

Weight locations follow the caches the implementations use: torchvision backbones in
``<torch hub>/checkpoints``, pyiqa's own weights in ``<torch hub>/pyiqa``, OpenAI CLIP in ``<torch hub>/clip``,
where ``<torch hub>`` is ``$TORCH_HOME/hub`` (default ``$XDG_CACHE_HOME/torch/hub`` or ``~/.cache/torch/hub``),
exactly as ``torch.hub.get_dir()`` resolves it. DOVER's own weights (``DOVER.pth``) live in its clone
(``$YPT_DOVER_DIR``); the ImageNet ConvNeXt-T checkpoint its model build loads through ``torch.hub`` is listed here.
The files are those pyiqa's architectures and torchvision request at creation (read from pyiqa's ``archs/``:
``lpips_arch``, ``dists_arch``, ``clipiqa_arch`` + ``clip_model``, ``musiq_arch``).

LPIPS: the official release computes it with torchmetrics' ``LearnedPerceptualImagePatchSimilarity(net_type="alex")``
on ``2x - 1``; pyiqa's ``lpips`` is the same network (AlexNet features + the v0.1 linear heads of the LPIPS
authors) and maps [0, 1] inputs to [-1, 1] the same way. DISTS, CLIPIQA+ and MUSIQ are pyiqa's, as in the release.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.protocol import DOVER_SEED

PYIQA_BASE = "https://huggingface.co/chaofengc/IQA-PyTorch-Weights/resolve/main/"
PREFETCH_HINT = "python -m benchmarks.prefetch"


def torch_hub_dir() -> Path:
    """``torch.hub.get_dir()`` without importing torch."""
    if os.environ.get("TORCH_HOME"):
        return Path(os.environ["TORCH_HOME"]).expanduser() / "hub"
    xdg = os.environ.get("XDG_CACHE_HOME", str(Path.home() / ".cache"))
    return Path(xdg).expanduser() / "torch" / "hub"


@dataclass(frozen=True)
class WeightFile:
    """A file a metric needs: its cache location (relative to the torch hub dir) and its download URL."""

    relative: str
    url: str

    @property
    def path(self) -> Path:
        return torch_hub_dir() / self.relative


@dataclass(frozen=True, kw_only=True)
class MetricSpec:
    key: str
    label: str
    lower_better: bool
    value_range: tuple[float, float]
    needs_reference: bool
    implementation: str
    version: str
    weights: tuple[WeightFile, ...] = field(default_factory=tuple)
    video_only: bool = False
    #: the pyiqa metric behind the key (``clipiqa`` is pyiqa's ``clipiqa+``); None when not computed by pyiqa
    pyiqa_name: str | None = None
    #: ``"module:function"`` returning None when the metric can run here, else what is missing; default: its
    #: weight files are in the local caches
    availability: str = ""

    @property
    def arrow_label(self) -> str:
        """``PSNR↑`` / ``LPIPS↓``: the label with its direction, as the paper prints it."""
        return self.label + ("↓" if self.lower_better else "↑")

    @property
    def latex_label(self) -> str:
        return self.label + (r"$\downarrow$" if self.lower_better else r"$\uparrow$")


def _pyiqa(name: str) -> WeightFile:
    return WeightFile(f"pyiqa/{name}", PYIQA_BASE + name)


ALEXNET = WeightFile("checkpoints/alexnet-owt-7be5be79.pth", "https://download.pytorch.org/models/alexnet-owt-7be5be79.pth")
VGG16 = WeightFile("checkpoints/vgg16-397923af.pth", "https://download.pytorch.org/models/vgg16-397923af.pth")
CLIP_RN50 = WeightFile(
    "clip/RN50.pt",
    "https://openaipublic.azureedge.net/clip/models/afeb0e10f9e5a86da6080e35cf09123aca3b358a0c3e3b6c78a7b63bc04b6762/RN50.pt")
#: DOVER's aesthetic branch builds an ImageNet ConvNeXt-T through torch.hub (DOVER ``dover/models/evaluator.py:81``,
#: ``conv_backbone.py:584-591``; its weights are then overwritten by DOVER.pth): offline it must be in the hub cache
CONVNEXT_TINY = WeightFile("checkpoints/convnext_tiny_1k_224_ema.pth",
                           "https://dl.fbaipublicfiles.com/convnext/convnext_tiny_1k_224_ema.pth")

_TABLE = (
    MetricSpec(key="psnr", label="PSNR", lower_better=False, value_range=(0.0, float("inf")), needs_reference=True,
               implementation="skimage.metrics.peak_signal_noise_ratio(data_range=1) on RGB",
               version="skimage-psnr-rgb/1"),
    MetricSpec(key="ssim", label="SSIM", lower_better=False, value_range=(-1.0, 1.0), needs_reference=True,
               implementation="skimage.metrics.structural_similarity(data_range=1, channel_axis=2) on RGB",
               version="skimage-ssim-rgb/1"),
    MetricSpec(key="lpips", label="LPIPS", lower_better=True, value_range=(0.0, 1.0), needs_reference=True,
               implementation="pyiqa 'lpips' (AlexNet, v0.1)", version="pyiqa-lpips-alex-0.1/1",
               weights=(ALEXNET, _pyiqa("LPIPS_v0.1_alex-df73285e.pth")), pyiqa_name="lpips"),
    MetricSpec(key="dists", label="DISTS", lower_better=True, value_range=(0.0, 1.0), needs_reference=True,
               implementation="pyiqa 'dists'", version="pyiqa-dists/1",
               weights=(VGG16, _pyiqa("DISTS_weights-f5e65c96.pth")), pyiqa_name="dists"),
    MetricSpec(key="clipiqa", label="CLIPIQA", lower_better=False, value_range=(0.0, 1.0), needs_reference=False,
               implementation="pyiqa 'clipiqa+' (RN50, learned prompts)", version="pyiqa-clipiqa+/1",
               weights=(CLIP_RN50, _pyiqa("CLIP-IQA+_learned_prompts-603f3273.pth")), pyiqa_name="clipiqa+"),
    MetricSpec(key="musiq", label="MUSIQ", lower_better=False, value_range=(0.0, 100.0), needs_reference=False,
               implementation="pyiqa 'musiq' (KonIQ-10k)", version="pyiqa-musiq-koniq/1",
               weights=(_pyiqa("musiq_koniq_ckpt-e95806b9.pth"),), pyiqa_name="musiq"),
    MetricSpec(key="dover", label="DOVER", lower_better=False, value_range=(0.0, 1.0), needs_reference=False,
               implementation="DOVER (VQAssessment/DOVER) overall fused score of a 15 fps 512x512 lossless video",
               version=f"dover-overall-15fps-512-seed{DOVER_SEED}/2", video_only=True, weights=(CONVNEXT_TINY,),
               availability="benchmarks.metrics.dover:dover_problem"),
)
SPECS: dict[str, MetricSpec] = {m.key: m for m in _TABLE}

# -- derived lists (table order) ----------------------------------------------------------------------------------
#: every metric key
METRICS = tuple(SPECS)
#: metrics that compare with a reference (paired sets only)
FULL_REFERENCE_METRICS = tuple(k for k, m in SPECS.items() if m.needs_reference)
#: no-reference metrics of an image set, and of a video set (which adds the clip-level ones)
NO_REFERENCE_IMAGE_METRICS = tuple(k for k, m in SPECS.items() if not m.needs_reference and not m.video_only)
NO_REFERENCE_VIDEO_METRICS = tuple(k for k, m in SPECS.items() if not m.needs_reference)
#: every metric of a paired image set, and of a paired video set
IMAGE_METRICS = tuple(k for k, m in SPECS.items() if not m.video_only)
VIDEO_METRICS = METRICS
#: the pyiqa metric name behind each pyiqa-computed key
PYIQA_NAMES = {k: m.pyiqa_name for k, m in SPECS.items() if m.pyiqa_name}


def lower_better(key: str) -> bool:
    return SPECS[key].lower_better


def metrics_for(modality: str, paired: bool) -> tuple[str, ...]:
    """The protocol's metric list for a dataset: paired sets get every metric, no-reference sets only the NR ones;
    video sets add DOVER."""
    nr = NO_REFERENCE_VIDEO_METRICS if modality == "video" else NO_REFERENCE_IMAGE_METRICS
    return (FULL_REFERENCE_METRICS + nr) if paired else nr


def missing_weights(name: str) -> list[WeightFile]:
    """The weight files of metric ``name`` absent from the local caches."""
    return [w for w in SPECS[name].weights if not w.path.is_file()]
