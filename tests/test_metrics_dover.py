"""DOVER wiring on a stand-in of the official package, always run (DOVER itself is not on PyPI).

The stand-in has DOVER's module layout and call signatures and reproduces the three behaviours of DOVER's code the
suite handles: its model build loads the ImageNet ConvNeXt checkpoint through ``torch.hub.load_state_dict_from_url``
(a download when the file is not cached), its dataset swallows every exception of a clip in a bare ``except`` and
returns only the name, and its technical view takes random crop offsets from torch's global generator. The same
checks run against DOVER's real code in tests/test_dover_real.py where DOVER is installed."""
from __future__ import annotations

import sys
import textwrap

import numpy as np
import pytest
import torch

from benchmarks.metrics import dover as dover_module
from benchmarks.metrics.dover import DoverClipError, DoverMetric, DoverUnavailable, fuse, write_lossless_video

CONVNEXT_URL = "https://dl.fbaipublicfiles.com/convnext/convnext_tiny_1k_224_ema.pth"

FAKE_MODELS = f'''
import torch

class DOVER(torch.nn.Module):
    """Stand-in: per-clip branch outputs are scale * (mean of the view), shaped like DOVER's (clips, 1). Its build
    loads the ConvNeXt checkpoint as DOVER's convnext_3d_tiny(pretrained=True) does, and prints as DOVER does."""
    def __init__(self, scale_init=1.0):
        super().__init__()
        print("Setting backbone: aesthetic_backbone")
        checkpoint = torch.hub.load_state_dict_from_url(url="{CONVNEXT_URL}", map_location="cpu", check_hash=True)
        assert "model" in checkpoint
        self.scale = torch.nn.Parameter(torch.tensor(scale_init))
    def forward(self, views, reduce_scores=False):
        assert reduce_scores is False
        out = []
        for branch in ("aesthetic", "technical"):
            v = views[branch]
            out.append(self.scale * v.mean(dim=(1, 2, 3, 4))[:, None])
        return out
'''

FAKE_DATASETS = '''
import av
import numpy as np
import torch

SEEN = {}

def spatial_temporal_view_decomposition(video_path, sample_types, samplers, is_train=False, augment=False):
    """Decodes (errors propagate, as in DOVER); the technical view is a crop at a random offset (torch.randint)."""
    with av.open(video_path) as c:
        s = c.streams.video[0]
        frames = [f.to_ndarray(format="rgb24") for f in c.decode(s)]
        SEEN.update(fps=float(s.average_rate), size=(s.width, s.height), frames=len(frames))
    video = torch.from_numpy(np.stack(frames)).permute(3, 0, 1, 2).float() / 255  # C,T,H,W
    y, x = (int(v) for v in torch.randint(0, 480, (2,)))
    tech = torch.cat([video[:, :2, y:y + 32, x:x + 32]] * 3, dim=1)   # 3 clips of 2 frames
    aes = video[:, :2, ::16, ::16]                                      # 1 clip of 2 frames
    return {"technical": tech, "aesthetic": aes}, {}

class ViewDecompositionDataset:
    def __init__(self, opt):
        print("technical branch sampled frames:", np.random.randint(0, 240, 4))
        self.video_infos = opt["anno_file"]
        self.sample_types = opt["sample_types"]
        self.samplers = {}
    def __getitem__(self, index):
        filename = self.video_infos[index]["filename"]
        try:
            data, _ = spatial_temporal_view_decomposition(filename, self.sample_types, self.samplers)
            data["num_clips"] = {"technical": 3, "aesthetic": 1}
        except:  # noqa: E722 - DOVER's own bare except
            return {"name": filename}
        return data
'''


@pytest.fixture()
def fake_dover(tmp_path, monkeypatch):
    """The stand-in clone with its weights, and a torch hub cache holding the ConvNeXt checkpoint."""
    clone = tmp_path / "DOVER"
    pkg = clone / "dover"
    (pkg / "models").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "models" / "__init__.py").write_text(textwrap.dedent(FAKE_MODELS))
    (pkg / "datasets.py").write_text(textwrap.dedent(FAKE_DATASETS))
    (clone / "dover.yml").write_text(textwrap.dedent('''
        model: {args: {scale_init: 1.0}}
        data: {val-l1080p: {args: {anno_file: ./labels.txt, data_prefix: ../datasets/L1080P/,
                                   sample_types: {technical: {}, aesthetic: {}}}}}
        test_load_path: ./pretrained_weights/DOVER.pth
    '''))
    (clone / "pretrained_weights").mkdir()
    torch.save({"scale": torch.tensor(0.5)}, clone / "pretrained_weights" / "DOVER.pth")
    hub = tmp_path / "torch" / "hub" / "checkpoints"
    hub.mkdir(parents=True)
    torch.save({"model": {}}, hub / "convnext_tiny_1k_224_ema.pth")
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setattr(dover_module, "RUNTIME_MODULES", {"av": "av"})  # the stand-in decodes with PyAV
    monkeypatch.syspath_prepend(str(clone))
    monkeypatch.setenv("YPT_DOVER_DIR", str(clone))
    for name in [m for m in sys.modules if m == "dover" or m.startswith("dover.")]:
        monkeypatch.delitem(sys.modules, name)

    def no_network(url, *args, **kwargs):
        raise AssertionError(f"download attempted: {url}")

    monkeypatch.setattr(torch.hub, "download_url_to_file", no_network)
    yield clone
    for name in [m for m in sys.modules if m == "dover" or m.startswith("dover.")]:
        sys.modules.pop(name, None)


def _metric():
    from benchmarks import metrics

    return DoverMetric(metrics.spec("dover"), "cpu")


def test_score_clip_follows_calc_dover(fake_dover, capsys):
    from benchmarks import metrics

    assert metrics.weights_problem("dover") is None
    level = [60, 120, 180]
    frames = [np.full((40, 30, 3), v, np.uint8) for v in level]
    score = _metric().score_clip(frames, name="rhvd/clip_07")

    import dover.datasets as seen

    assert seen.SEEN == {"fps": 15.0, "size": (512, 512), "frames": 3}
    # views: the first two frames (flat grey); weights scale 0.5 loaded over the option's 1.0
    mean = (level[0] + level[1]) / 2 / 255
    expected = fuse(0.5 * mean, 0.5 * mean)["overall"]
    assert score == pytest.approx(expected, abs=2e-3)  # 8-bit grey survives yuv444p within a level
    assert 0.0 < score < 1.0
    assert capsys.readouterr().out == ""  # DOVER's prints stay out of the suite's output


def test_random_crops_are_seeded_and_leave_the_callers_generators_alone(fake_dover):
    rng = np.random.default_rng(0)
    frames = [rng.integers(0, 256, (64, 64, 3), dtype=np.uint8) for _ in range(3)]
    metric = _metric()
    torch.manual_seed(123)
    np.random.seed(123)
    before = torch.get_rng_state(), np.random.get_state()[1].copy()
    first = metric.score_clip(frames)
    assert torch.equal(torch.get_rng_state(), before[0]) and np.array_equal(np.random.get_state()[1], before[1])
    torch.manual_seed(7)  # another global state: the same crops, the same score
    assert metric.score_clip(frames) == first
    metric.seed += 1  # the crops do depend on the seed (a textured clip gives another score)
    assert metric.score_clip(frames) != first


def test_convnext_checkpoint_is_prefetched_and_checked(fake_dover, tmp_path, monkeypatch, capsys):
    from benchmarks import metrics
    from benchmarks.prefetch import main

    checkpoint = tmp_path / "torch/hub/checkpoints/convnext_tiny_1k_224_ema.pth"
    checkpoint.unlink()
    problem = metrics.weights_problem("dover")
    assert str(checkpoint) in problem and "python -m benchmarks.prefetch --metrics dover" in problem
    with pytest.raises(DoverUnavailable, match="convnext_tiny_1k_224_ema.pth"):
        _metric().score_clip([np.zeros((8, 8, 3), np.uint8)])  # refused before DOVER's build could download
    assert main(["--metrics", "dover", "--dry-run"]) == 0
    assert capsys.readouterr().out.splitlines() == [f"would fetch [dover] {CONVNEXT_URL} -> {checkpoint}"]


def test_a_clip_dover_cannot_read_names_the_clip_and_the_cause(fake_dover, tmp_path):
    metric = _metric()
    bad = tmp_path / "clip.mp4"
    bad.write_bytes(np.random.default_rng(0).bytes(4096))
    with pytest.raises(DoverClipError, match=r"cannot score clip lasvr/rain_03: InvalidDataError: .*Invalid data"):
        metric.views(bad, "lasvr/rain_03")


def test_bad_frames_are_errors_naming_the_clip(fake_dover, tmp_path):
    from PIL import Image

    metric = _metric()
    with pytest.raises(DoverClipError, match="clip rhvd/a has no frames"):
        metric.score_clip([], name="rhvd/a")
    folder = tmp_path / "pred" / "clip_01"
    folder.mkdir(parents=True)
    Image.fromarray(np.zeros((16, 16, 3), np.uint8)).save(folder / "00000.png")
    (folder / "00001.png").write_bytes(b"not a png")
    frames = [folder / "00000.png", folder / "00001.png"]
    # the frame files are decoded as the release's ffmpeg decodes them (PyAV): its decoder names the cause
    with pytest.raises(DoverClipError, match=rf"clip {folder}: its frames cannot be made into a video: "
                                             r"InvalidDataError: .*Invalid data found"):
        metric.score_clip(frames)
    with pytest.raises(DoverClipError, match=r"1 frame files do not exist, e\.g\. .*00002\.png"):
        metric.score_clip(frames[:1] + [folder / "00002.png"], name="x")


def test_lossless_presets_decode_to_the_same_frames(tmp_path):
    """The release encodes with -preset veryslow, the suite with ultrafast: at CRF 0 DOVER sees the same frames."""
    import av

    rng = np.random.default_rng(1)
    frames = [rng.integers(0, 256, (48, 64, 3), dtype=np.uint8) for _ in range(4)]
    decoded = {}
    for preset in ("veryslow", "ultrafast"):
        path = write_lossless_video(frames, tmp_path / f"{preset}.mp4", size=64, preset=preset)
        with av.open(str(path)) as container:
            decoded[preset] = np.stack([f.to_ndarray(format="rgb24") for f in container.decode(video=0)])
    assert decoded["veryslow"].shape == (4, 64, 64, 3)
    assert np.array_equal(decoded["veryslow"], decoded["ultrafast"])


def test_missing_run_time_dependencies_name_the_extra(fake_dover, monkeypatch):
    import importlib.util

    from benchmarks.metrics.dover import dover_problem

    monkeypatch.setattr(dover_module, "RUNTIME_MODULES", {"decord": "decord", "skvideo": "scikit-video", "av": "av"})
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name in ("decord", "skvideo") else real(name, *a))
    problem = dover_problem()
    assert problem.startswith("dover: DOVER's run-time dependencies are missing: decord, scikit-video (decord has "
                              "wheels for x86-64 only). Install: pip install -e '.[dover]'")
