"""DOVER wiring on a stand-in of the official package (same module layout and call signatures): option file, weights
loaded with weights_only, the clip written for it, the view reshaping of calc_dover.py, and the fused score."""
from __future__ import annotations

import sys
import textwrap

import numpy as np
import pytest
import torch

from benchmarks.metrics.dover import DoverMetric, fuse

FAKE_MODELS = '''
import torch

class DOVER(torch.nn.Module):
    """Stand-in: per-clip branch outputs are scale * (mean of the view), shaped like DOVER's (clips, 1)."""
    def __init__(self, scale_init=1.0):
        super().__init__()
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
import os
import av
import torch

SEEN = {}

class ViewDecompositionDataset:
    def __init__(self, opt):
        assert opt["anno_file"] is None
        self.files = sorted(os.path.join(opt["data_prefix"], f) for f in os.listdir(opt["data_prefix"]))
        self.opt = opt
    def __getitem__(self, i):
        with av.open(self.files[i]) as c:
            s = c.streams.video[0]
            frames = [f.to_ndarray(format="rgb24") for f in c.decode(s)]
            SEEN.update(fps=float(s.average_rate), size=(s.width, s.height), frames=len(frames))
        video = torch.from_numpy(__import__("numpy").stack(frames)).permute(3, 0, 1, 2).float() / 255  # C,T,H,W
        tech = torch.cat([video[:, :2, :32, :32]] * 3, dim=1)   # 3 clips of 2 frames
        aes = video[:, :2, ::16, ::16]                          # 1 clip of 2 frames
        return {"technical": tech, "aesthetic": aes, "num_clips": {"technical": 3, "aesthetic": 1}}
'''


@pytest.fixture()
def fake_dover(tmp_path, monkeypatch):
    clone = tmp_path / "DOVER"
    pkg = clone / "dover"
    (pkg / "models").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "models" / "__init__.py").write_text(textwrap.dedent(FAKE_MODELS))
    (pkg / "datasets.py").write_text(textwrap.dedent(FAKE_DATASETS))
    (clone / "dover.yml").write_text(textwrap.dedent('''
        model: {args: {scale_init: 1.0}}
        data: {val-l1080p: {args: {anno_file: ./labels.txt, data_prefix: ../datasets/L1080P/}}}
        test_load_path: ./pretrained_weights/DOVER.pth
    '''))
    (clone / "pretrained_weights").mkdir()
    torch.save({"scale": torch.tensor(0.5)}, clone / "pretrained_weights" / "DOVER.pth")
    monkeypatch.syspath_prepend(str(clone))
    monkeypatch.setenv("YPT_DOVER_DIR", str(clone))
    for name in [m for m in sys.modules if m == "dover" or m.startswith("dover.")]:
        monkeypatch.delitem(sys.modules, name)
    yield clone
    for name in [m for m in sys.modules if m == "dover" or m.startswith("dover.")]:
        sys.modules.pop(name, None)


def test_score_clip_follows_calc_dover(fake_dover, tmp_path):
    pytest.importorskip("av")
    from benchmarks import metrics

    assert metrics.weights_problem("dover") is None
    level = [60, 120, 180]
    frames = [np.full((40, 30, 3), v, np.uint8) for v in level]
    metric = DoverMetric(metrics.spec("dover"), "cpu")
    score = metric.score_clip(frames)

    import dover.datasets as seen

    assert seen.SEEN == {"fps": 15.0, "size": (512, 512), "frames": 3}
    # views: the first two frames (flat grey); weights scale 0.5 loaded over the option's 1.0
    mean = (level[0] + level[1]) / 2 / 255
    expected = fuse(0.5 * mean, 0.5 * mean)["overall"]
    assert score == pytest.approx(expected, abs=2e-3)  # 8-bit grey survives yuv444p within a level
    assert 0.0 < score < 1.0
