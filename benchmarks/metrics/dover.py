"""DOVER video quality, from its official repository (VQAssessment/DOVER), as the paper's release scores it.

The score is DOVER's *overall* fused score in [0, 1]: the aesthetic and technical branch outputs ``a``, ``t`` are
standardised and fused as ``x = 0.6104 * (t - 0.1107) / 0.07355 + 0.3896 * (a + 0.08285) / 0.03774`` and mapped
by a sigmoid (the paper release's ``calc_dover.py`` multiplies by 100; the paper prints it in [0, 1]). It is
computed on a video written from the frames as the release's ``frames_to_vid.py --lossless`` writes it: 15 fps,
lanczos-scaled to 512x512, H.264 CRF 0 in yuv444p (through PyAV here, no ffmpeg binary needed).

Setup: clone https://github.com/VQAssessment/DOVER, ``pip install -e .`` inside it, put ``DOVER.pth`` in its
``pretrained_weights/`` and point ``YPT_DOVER_DIR`` at the clone. The PyPI package named ``dover`` is an unrelated
version-bumping tool: it is detected and refused.
"""
from __future__ import annotations

import math
import os
from pathlib import Path

from benchmarks.metrics.base import Metric
from benchmarks.protocol import DOVER_FPS, METRIC_SIZE
from ypt.errors import MissingResource

INSTALL = ("git clone https://github.com/VQAssessment/DOVER && pip install -e DOVER && export YPT_DOVER_DIR=$PWD/DOVER "
           "&& python -m benchmarks.prefetch --metrics dover (fetches DOVER.pth into DOVER/pretrained_weights/); "
           "never `pip install dover` (that PyPI name is an unrelated tool)")


class DoverUnavailable(MissingResource):
    """DOVER (the official package, its clone or its weights) is not installed here."""


def fuse(aesthetic: float, technical: float) -> dict[str, float]:
    """DOVER's branch fusion: sigmoid-mapped aesthetic, technical and overall scores in [0, 1]."""
    t = (technical - 0.1107) / 0.07355
    a = (aesthetic + 0.08285) / 0.03774
    x = t * 0.6104 + a * 0.3896

    def sigmoid(v: float) -> float:
        return 1.0 / (1.0 + math.exp(-v))

    return {"aesthetic": sigmoid(a), "technical": sigmoid(t), "overall": sigmoid(x)}


WEIGHTS_URL = "https://huggingface.co/teowu/DOVER/resolve/main/DOVER.pth"


def dover_dir() -> Path | None:
    """The DOVER clone: ``$YPT_DOVER_DIR``, else the folder above an editable install's ``dover`` package when it
    holds ``dover.yml`` (``pip install -e`` of the clone), else None."""
    value = os.environ.get("YPT_DOVER_DIR")
    if value:
        return Path(value).expanduser()
    import importlib.util

    try:
        spec = importlib.util.find_spec("dover")
    except (ImportError, ValueError):
        return None
    for location in (spec.submodule_search_locations or []) if spec else []:
        if (Path(location).parent / "dover.yml").is_file():
            return Path(location).parent
    return None


def weights_path() -> Path | None:
    root = dover_dir()
    return None if root is None else root / "pretrained_weights" / "DOVER.pth"


def dover_problem() -> str | None:
    """None when the official DOVER package, its option file and its weights are all here; else what is missing."""
    import importlib.util

    spec = importlib.util.find_spec("dover")
    if spec is None:
        return f"dover: the DOVER package is not installed. Install: {INSTALL}"
    # DOVER is a package with a ``models`` subpackage; looked up on disk so that nothing is imported here
    locations = [Path(p) for p in (spec.submodule_search_locations or [])]
    if not any((loc / "models").is_dir() or (loc / "models.py").is_file() for loc in locations):
        origin = spec.origin or (locations or ["?"])[0]
        return (f"dover: the installed 'dover' ({origin}) is the unrelated PyPI tool, not DOVER "
                f"(no dover.models). `pip uninstall dover`, then: {INSTALL}")
    root = dover_dir()
    if root is None:
        return f"dover: set YPT_DOVER_DIR to the DOVER clone holding dover.yml and pretrained_weights/DOVER.pth ({INSTALL})"
    for needed in (root / "dover.yml", root / "pretrained_weights" / "DOVER.pth"):
        if not needed.is_file():
            return f"dover: {needed} is missing ({INSTALL})"
    return None


def write_lossless_video(frames, path: str | Path, fps: int = DOVER_FPS, size: int = METRIC_SIZE) -> Path:
    """Frames (paths or HxWx3 uint8 arrays) -> the clip DOVER scores, as the official ``frames_to_vid.py --lossless``
    makes it with ffmpeg: ``fps`` frames/s, swscale lanczos to ``size`` x ``size`` in RGB, then H.264 CRF 0
    (lossless) in yuv444p. Written through PyAV (the same libavcodec / libswscale), no shell."""
    import av
    import numpy as np
    from PIL import Image

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width = stream.height = size
        stream.pix_fmt = "yuv444p"
        stream.options = {"crf": "0", "preset": "veryslow"}
        for frame in frames:
            rgb = np.asarray(Image.open(frame).convert("RGB")) if isinstance(frame, (str, Path)) else frame
            video_frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb[..., :3], dtype=np.uint8),
                                                     format="rgb24")
            if (video_frame.width, video_frame.height) != (size, size):
                video_frame = video_frame.reformat(width=size, height=size, format="rgb24", interpolation="LANCZOS")
            for packet in stream.encode(video_frame.reformat(format="yuv444p")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


class DoverMetric(Metric):
    """Scores whole clips: ``score_clip(frame_paths) -> float`` (overall, [0, 1])."""

    def __init__(self, spec, device="cpu"):
        super().__init__(spec, device)
        self._model = None
        self._opt = None

    def _load(self):
        if self._model is None:
            problem = dover_problem()
            if problem:
                raise DoverUnavailable(problem)
            import torch
            import yaml
            from dover.models import DOVER

            root = dover_dir()
            self._opt = yaml.safe_load((root / "dover.yml").read_text())
            model = DOVER(**self._opt["model"]["args"]).to(self.device)
            state = torch.load(root / "pretrained_weights" / "DOVER.pth", map_location=self.device, weights_only=True)
            model.load_state_dict(state)
            self._model = model.eval()
        return self._model

    def score_clip(self, frames) -> float:
        import tempfile

        import numpy as np
        import torch
        from dover.datasets import ViewDecompositionDataset

        model = self._load()
        with tempfile.TemporaryDirectory(prefix="ypt-dover-") as folder:
            write_lossless_video(frames, Path(folder) / "clip.mp4")
            options = dict(self._opt["data"]["val-l1080p"]["args"])
            options["anno_file"] = None
            options["data_prefix"] = folder
            data = ViewDecompositionDataset(options)[0]
            views = {}
            for branch in ("aesthetic", "technical"):
                x = data[branch].unsqueeze(0).to(self.device)
                b, c, t, h, w = x.shape
                clips = int(data["num_clips"][branch])
                views[branch] = (x.reshape(b, c, clips, t // clips, h, w).permute(0, 2, 1, 3, 4, 5)
                                 .reshape(b * clips, c, t // clips, h, w))
            with torch.no_grad():
                outputs = model(views, reduce_scores=False)
            aesthetic, technical = (float(np.mean(o.detach().cpu().numpy())) for o in outputs)
        Metric.images_scored["dover"] = Metric.images_scored.get("dover", 0) + 1
        return fuse(aesthetic, technical)["overall"]

    def compute(self, pred, target):
        raise TypeError("dover scores whole clips: call score_clip(frames)")
