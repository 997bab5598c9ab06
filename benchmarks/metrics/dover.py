"""DOVER video quality, from its official repository (VQAssessment/DOVER), as the paper's release scores it.

The score is DOVER's *overall* fused score in [0, 1]: the aesthetic and technical branch outputs ``a``, ``t`` are
standardised and fused as ``x = 0.6104 * (t - 0.1107) / 0.07355 + 0.3896 * (a + 0.08285) / 0.03774`` and mapped
by a sigmoid (the paper release's ``calc_dover.py`` multiplies by 100; the paper prints it in [0, 1]). It is
computed on a video written from the frames as the release's ``frames_to_vid.py --lossless`` writes it: 15 fps,
lanczos-scaled to 512x512, H.264 CRF 0 in yuv444p (through PyAV here, no ffmpeg binary needed).

Setup (:data:`INSTALL`): DOVER is not on PyPI (the PyPI package named ``dover`` is an unrelated version-bumping
tool: it is detected and refused) and its own ``requirements.txt`` pins ``torch~=1.13``, so ``pip install -e DOVER``
cannot resolve next to a current torch. The suite's ``[dover]`` extra declares what DOVER really imports (decord,
OpenCV, scikit-video, timm, einops, tqdm, PyYAML); the checkout is then installed with ``--no-deps``. Its model
build loads an ImageNet ConvNeXt-T checkpoint through ``torch.hub`` and its weights are ``DOVER.pth``:
``python -m benchmarks.prefetch --metrics dover`` fetches both, and :func:`dover_problem` checks both, so an offline
node never reaches DOVER's download.

Two behaviours of DOVER's code are handled here:

- its dataset catches every exception of a clip (a bare ``except``) and returns only the file name, which surfaced
  as ``KeyError: 'aesthetic'``; a clip DOVER cannot read is :class:`DoverClipError` naming the clip and the cause
  (the decomposition is asked again for the exception the dataset swallowed);
- its views take random crops from the global torch/numpy generators (the technical fragments' offsets inside
  their grid cells; frame sampling for clips of 96 frames or more), which the release never seeds, so its scores
  carry sampling noise; here they are drawn from ``benchmarks.protocol.DOVER_SEED`` inside a forked generator
  state (the caller's generators are untouched), and the seed is part of the metric's version.
"""
from __future__ import annotations

import contextlib
import io
import math
import os
from pathlib import Path

from benchmarks.metrics.base import Metric
from benchmarks.metrics.specs import missing_weights
from benchmarks.protocol import DOVER_FPS, DOVER_SEED, METRIC_SIZE
from ypt.errors import BadInput, MissingResource

INSTALL = ("pip install -e '.[dover]' (CPU machines: make env EXTRAS=test,dover), then git clone "
           "https://github.com/VQAssessment/DOVER && pip install --no-deps -e DOVER, then "
           "python -m benchmarks.prefetch --metrics dover; never `pip install dover` (an unrelated PyPI tool)")
#: modules ``import dover`` needs (``dover/__init__`` imports its datasets and models), by the distribution of the
#: ``[dover]`` extra that provides them
RUNTIME_MODULES = {"decord": "decord", "cv2": "opencv-python-headless", "skvideo": "scikit-video", "timm": "timm",
                   "einops": "einops", "tqdm": "tqdm", "yaml": "pyyaml", "torchvision": "torchvision"}
WEIGHTS_URL = "https://huggingface.co/teowu/DOVER/resolve/main/DOVER.pth"
#: the option block of ``dover.yml`` the release's ``calc_dover.py`` scores with
OPTION_BLOCK = "val-l1080p"


class DoverUnavailable(MissingResource):
    """DOVER (the official package, its clone, its run-time dependencies or its weights) is not installed here."""


class DoverClipError(BadInput):
    """A clip DOVER cannot score: no frames, unreadable frames, or a video DOVER's reader cannot decode."""


def fuse(aesthetic: float, technical: float) -> dict[str, float]:
    """DOVER's branch fusion: sigmoid-mapped aesthetic, technical and overall scores in [0, 1]."""
    t = (technical - 0.1107) / 0.07355
    a = (aesthetic + 0.08285) / 0.03774
    x = t * 0.6104 + a * 0.3896

    def sigmoid(v: float) -> float:
        return 1.0 / (1.0 + math.exp(-v))

    return {"aesthetic": sigmoid(a), "technical": sigmoid(t), "overall": sigmoid(x)}


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
    """None when the official DOVER package, its run-time dependencies, its option file, its weights and the
    ConvNeXt checkpoint its build loads are all here; else what is missing, with the fix. Imports nothing."""
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
    absent = [dist for module, dist in RUNTIME_MODULES.items() if importlib.util.find_spec(module) is None]
    if absent:
        note = " (decord has wheels for x86-64 only)" if "decord" in absent else ""
        return f"dover: DOVER's run-time dependencies are missing: {', '.join(absent)}{note}. Install: {INSTALL}"
    root = dover_dir()
    if root is None:
        return (f"dover: set YPT_DOVER_DIR to the DOVER clone holding dover.yml and pretrained_weights/DOVER.pth "
                f"({INSTALL})")
    if not (root / "dover.yml").is_file():
        return f"dover: {root / 'dover.yml'} is missing: YPT_DOVER_DIR must name the DOVER clone ({INSTALL})"
    absent = [p for p in [weights_path()] if not p.is_file()] + [w.path for w in missing_weights("dover")]
    if absent:
        return (f"dover: {absent[0]} is missing: fetch it on a machine with internet with "
                "`python -m benchmarks.prefetch --metrics dover` (same TORCH_HOME and YPT_DOVER_DIR)")
    return None


def write_lossless_video(frames, path: str | Path, fps: int = DOVER_FPS, size: int = METRIC_SIZE,
                         preset: str = "ultrafast") -> Path:
    """Frames (image files, or HxWx3 uint8 arrays) -> the clip DOVER scores, as the release's ``frames_to_vid.py
    --fps 15 --size 512 --lossless`` makes it with the ffmpeg command line: ``-r fps`` over the frame files,
    ``-vf scale=size:size:flags=lanczos,setsar=1``, ``libx264 -crf 0 -pix_fmt yuv444p``. Written through PyAV
    (libavcodec / libswscale, no shell), each file decoded as ffmpeg decodes it (a JPEG as yuvj420p, a PNG as rgb24)
    and scaled by the same filter graph; ``out_range=tv`` is the full-to-limited range conversion the command line
    makes into yuv444p (PyAV's FFmpeg 8 keeps full range otherwise). Every frame is kept (the release's README runs
    it with ``--min_frames 1``: a clip shorter than 33 frames is scored too). Against the ffmpeg command line the
    planes differ by at most one level (libswscale's lanczos rounding differs across versions).

    The release encodes with ``-preset veryslow``; at CRF 0 x264 is lossless whatever the preset, so the decoded
    frames (all DOVER sees) are identical and only the file size and the time differ (a test checks the frames);
    ``ultrafast`` saves 10-15 s per 33-frame clip on two cores."""
    from fractions import Fraction

    import av
    import numpy as np

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    graph, key = None, None
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width = stream.height = size
        stream.pix_fmt = "yuv444p"
        stream.options = {"crf": "0", "preset": preset}
        for index, source in enumerate(frames):
            if isinstance(source, (str, Path)):
                with av.open(str(source)) as image:
                    frame = next(image.decode(video=0))
            else:
                frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(source[..., :3], dtype=np.uint8),
                                                   format="rgb24")
            if (frame.width, frame.height, frame.format.name) != key:
                key = (frame.width, frame.height, frame.format.name)
                graph = av.filter.Graph()
                chain = [graph.add_buffer(width=frame.width, height=frame.height, format=frame.format.name,
                                          time_base=Fraction(1, fps)),
                         graph.add("scale", f"{size}:{size}:flags=lanczos:out_range=tv"), graph.add("setsar", "1"),
                         graph.add("format", "yuv444p"), graph.add("buffersink")]
                for upstream, downstream in zip(chain, chain[1:]):
                    upstream.link_to(downstream)
                graph.configure()
            frame.pts, frame.time_base = index, Fraction(1, fps)
            graph.push(frame)
            for packet in stream.encode(graph.pull()):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def decodable_frames(path: str | Path) -> int:
    """How many frames of the video at ``path`` decode (0 for a file that is no video or does not exist)."""
    import av

    try:
        with av.open(str(path)) as container:
            return sum(1 for _ in container.decode(video=0))
    except (av.FFmpegError, OSError, ValueError, IndexError):
        return 0


def clip_name(frames) -> str:
    """A clip's name for messages: the folder of its frame files, else ``<N frames>``."""
    paths = [Path(f) for f in frames if isinstance(f, (str, Path))]
    return str(paths[0].parent) if paths else f"<{len(frames)} frames>"


@contextlib.contextmanager
def seeded(seed: int):
    """Run with torch's CPU generator and numpy's global generator seeded, restoring both afterwards."""
    import numpy as np
    import torch

    state = np.random.get_state()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        np.random.seed(seed)
        try:
            yield
        finally:
            np.random.set_state(state)


class DoverMetric(Metric):
    """Scores whole clips: ``score_clip(frames, name) -> float`` (overall, [0, 1])."""

    #: x264 preset of the clip written for DOVER (decoded frames do not depend on it at CRF 0)
    preset = "ultrafast"

    def __init__(self, spec, device="cpu"):
        super().__init__(spec, device)
        self._model = None
        self._opt = None
        self.seed = DOVER_SEED

    def _options(self) -> dict:
        if self._opt is None:
            problem = dover_problem()
            if problem:
                raise DoverUnavailable(problem)
            import yaml

            self._opt = yaml.safe_load((dover_dir() / "dover.yml").read_text())
        return self._opt

    def _load(self):
        if self._model is None:
            options = self._options()
            import torch

            with contextlib.redirect_stdout(io.StringIO()):  # DOVER's build prints ~190 lines of its own
                from dover.models import DOVER

                # loads the ConvNeXt checkpoint through torch.hub: cached (dover_problem checked it), no network
                model = DOVER(**options["model"]["args"])
            state = torch.load(weights_path(), map_location="cpu", weights_only=True)
            model.load_state_dict(state)
            self._model = model.to(self.device).eval()
        return self._model

    def views(self, video: str | Path, name: str) -> dict:
        """DOVER's own dataset item for the video at ``video`` (normalised views and their clip counts), with its
        random crops drawn from :attr:`seed`; a video it cannot read is :class:`DoverClipError` with the cause."""
        options = dict(self._options()["data"][OPTION_BLOCK]["args"])
        # a one-clip annotation list: the dataset indexes exactly this file (the release walks a folder of one clip)
        options["anno_file"] = [{"filename": str(video), "label": -1}]
        # DOVER's constructor prints and draws from numpy's generator too
        with contextlib.redirect_stdout(io.StringIO()), seeded(self.seed):
            from dover.datasets import ViewDecompositionDataset

            dataset = ViewDecompositionDataset(options)
            item = dataset[0]
        if "aesthetic" in item and "technical" in item:
            return item
        # DOVER's dataset swallowed the failure (a bare except returning only the name): ask for it again
        from dover.datasets import spatial_temporal_view_decomposition

        try:
            with contextlib.redirect_stdout(io.StringIO()), seeded(self.seed):
                spatial_temporal_view_decomposition(str(video), dataset.sample_types, dataset.samplers)
        except Exception as error:  # whatever DOVER raised is the cause reported
            raise DoverClipError(f"dover: cannot score clip {name}: {type(error).__name__}: {error}") from error
        raise DoverClipError(f"dover: cannot score clip {name}: DOVER's dataset returned no views (keys: "
                             f"{sorted(item)})")

    def score_clip(self, frames, name: str | None = None) -> float:
        """DOVER's overall score of the clip made from ``frames`` (paths or HxWx3 uint8 arrays); ``name`` (the
        sample id) names the clip in errors."""
        import tempfile

        import av
        import numpy as np
        import torch

        frames = list(frames)
        name = name or clip_name(frames)
        if not frames:
            raise DoverClipError(f"dover: clip {name} has no frames to score")
        absent = [str(f) for f in frames if isinstance(f, (str, Path)) and not Path(f).is_file()]
        if absent:
            raise DoverClipError(f"dover: clip {name}: {len(absent)} frame files do not exist, e.g. {absent[0]}")
        model = self._load()
        with tempfile.TemporaryDirectory(prefix="ypt-dover-") as folder:
            video = Path(folder) / "clip.mp4"
            try:
                write_lossless_video(frames, video, preset=self.preset)
            except (OSError, ValueError, av.FFmpegError) as error:
                raise DoverClipError(f"dover: clip {name}: its frames cannot be made into a video: "
                                     f"{type(error).__name__}: {error}") from error
            decoded = decodable_frames(video)
            if decoded != len(frames):
                raise DoverClipError(f"dover: clip {name}: {len(frames)} frames written, {decoded} decodable")
            data = self.views(video, name)
        views = {}
        for branch in ("aesthetic", "technical"):  # calc_dover.py: clips stacked along the batch
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

