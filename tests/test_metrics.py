"""Metrics against their references: scikit-image PSNR/SSIM (with the 512 resize), the pinned difference from
pyiqa's SSIM default, DOVER's fusion math and namesake refusal, missing-weight errors, pyiqa wiring."""
from __future__ import annotations

import math
import sys

import numpy as np
import pytest
import torch
from PIL import Image
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from benchmarks import metrics
from benchmarks.metrics.dover import dover_problem, fuse, write_lossless_video
from benchmarks.metrics.resize import load_pair, protocol_resize


def _images(n=2, h=96, w=128, seed=0):
    rng = np.random.default_rng(seed)
    clean = rng.random((n, h, w, 3))
    noisy = np.clip(clean + rng.normal(0, 0.1, clean.shape), 0, 1)
    return clean, noisy


def _t(a):
    return torch.from_numpy(a).permute(0, 3, 1, 2).float()


def test_psnr_ssim_equal_skimage_at_512():
    clean, noisy = _images(h=512, w=512)
    psnr = metrics.get("psnr", "cpu")(_t(noisy), _t(clean))
    ssim = metrics.get("ssim", "cpu")(_t(noisy), _t(clean))
    for i in range(2):
        c, n = _t(clean)[i].permute(1, 2, 0).numpy(), _t(noisy)[i].permute(1, 2, 0).numpy()
        assert psnr[i].item() == pytest.approx(peak_signal_noise_ratio(c, n, data_range=1), abs=1e-6)
        assert ssim[i].item() == pytest.approx(structural_similarity(c, n, data_range=1, channel_axis=2), abs=1e-6)


def test_psnr_ssim_include_the_protocol_resize():
    """Official inference.py: torch bicubic (align_corners=False) to 512 on float tensors, clamp, then skimage."""
    clean, noisy = _images(n=2, h=300, w=200, seed=1)
    psnr = metrics.get("psnr", "cpu")(_t(noisy), _t(clean))
    ssim = metrics.get("ssim", "cpu")(_t(noisy), _t(clean))
    for i in range(2):
        ref_c, ref_n = (torch.nn.functional.interpolate(_t(a)[i:i + 1], size=(512, 512), mode="bicubic")
                        .clamp(0, 1)[0].permute(1, 2, 0).numpy() for a in (clean, noisy))
        assert psnr[i].item() == pytest.approx(peak_signal_noise_ratio(ref_c, ref_n, data_range=1), abs=1e-6)
        assert ssim[i].item() == pytest.approx(structural_similarity(ref_c, ref_n, data_range=1, channel_axis=2),
                                               abs=1e-6)
    # a no-op at 512x512
    x = torch.rand(1, 3, 512, 512)
    assert torch.equal(protocol_resize(x), x)


def test_saved_files_follow_the_official_loader(tmp_path):
    """Target PIL-bicubic to the output's size (torchvision Resize on PIL, as the official dataset), ToTensor, the
    release's round trip ``(t * 2 - 1 + 1) * 0.5``, then torch bicubic to 512; the output is read at its own size,
    or its float metric view is the prediction when one lies beside it."""
    rng = np.random.default_rng(4)
    out = (rng.random((300, 200, 3)) * 255).round().astype(np.uint8)
    tgt = (rng.random((410, 270, 3)) * 255).round().astype(np.uint8)
    Image.fromarray(out).save(tmp_path / "o.png")
    Image.fromarray(tgt).save(tmp_path / "t.png")
    pred, target = load_pair(tmp_path / "o.png", tmp_path / "t.png")
    assert pred.shape == target.shape == (1, 3, 512, 512)
    tgt_at_out = np.asarray(Image.fromarray(tgt).resize((200, 300), Image.BICUBIC), np.float32) / 255
    round_trip = ((torch.from_numpy(tgt_at_out).permute(2, 0, 1)[None] * 2.0 - 1.0) + 1.0) * 0.5
    expect = torch.nn.functional.interpolate(round_trip, size=(512, 512), mode="bicubic").clamp(0, 1)
    torch.testing.assert_close(target, expect, rtol=0, atol=0)
    from benchmarks.metrics.resize import write_metric_view

    decode = torch.rand(3, 300, 200, generator=torch.Generator().manual_seed(1))  # a float decode at the output size
    write_metric_view(decode, tmp_path / "o.png")
    view, target_again = load_pair(tmp_path / "o.png", tmp_path / "t.png")
    torch.testing.assert_close(view, protocol_resize(decode[None]), rtol=0, atol=0)
    torch.testing.assert_close(target_again, target, rtol=0, atol=0)  # the target still at the output file's size
    (tmp_path / "o.metric.npy").unlink()
    # PIL's bicubic straight to 512 is a different protocol: it must not be swapped in silently
    pil = np.asarray(Image.fromarray(out).resize((512, 512), Image.BICUBIC), np.float32) / 255
    assert (pred[0].permute(1, 2, 0).numpy() - pil).__abs__().mean() > 1e-3


def test_container_targets_decode_with_the_registry_reader_like_image_files(tmp_path):
    """UDC (TOLED/POLED) targets are ``.mat#k@array`` references, SDSD frames ``.npy``: the metric pair decodes them
    with the dataset registry's reader, and equals the pair of the same pixels stored as PNG."""
    from scipy.io import savemat

    rng = np.random.default_rng(5)
    out = rng.integers(0, 256, (16, 16, 3), dtype=np.uint8)
    gt = rng.integers(0, 256, (3, 20, 24, 3), dtype=np.uint8)
    Image.fromarray(out).save(tmp_path / "o.png")
    Image.fromarray(gt[1]).save(tmp_path / "t.png")
    np.save(tmp_path / "t.npy", gt[1])
    savemat(tmp_path / "poled_test_gt.mat", {"test_gt": gt})
    png = load_pair(tmp_path / "o.png", tmp_path / "t.png")
    for ref in (tmp_path / "t.npy", f"{tmp_path / 'poled_test_gt.mat'}#1@test_gt"):
        pred, target = load_pair(tmp_path / "o.png", ref)
        assert torch.equal(pred, png[0]) and torch.equal(target, png[1]), ref


def test_protocol_differs_from_pyiqa_default_ssim_on_y():
    """pyiqa's 'ssim' scores the Y channel by default; the paper's protocol scores RGB: they must not be swapped."""
    pyiqa = pytest.importorskip("pyiqa")
    clean, _ = _images(n=1, h=512, w=512, seed=2)
    noisy = clean.copy()
    rng = np.random.default_rng(3)
    noisy[..., 2] = np.clip(noisy[..., 2] + rng.normal(0, 0.3, noisy[..., 2].shape), 0, 1)  # blue: small in Y
    ours = metrics.get("ssim", "cpu")(_t(noisy), _t(clean)).item()
    theirs = pyiqa.create_metric("ssim", device="cpu")(_t(noisy), _t(clean)).item()
    assert theirs - ours > 0.05, (ours, theirs)  # measured: 0.895 (RGB) vs 0.989 (Y)


def test_directions_and_reference_needs():
    names = metrics.keys()
    assert names == ["psnr", "ssim", "lpips", "dists", "clipiqa", "musiq", "dover"]
    assert [k for k in names if metrics.spec(k).lower_better] == ["lpips", "dists"]
    assert [k for k in names if not metrics.spec(k).needs_reference] == ["clipiqa", "musiq", "dover"]
    assert metrics.metrics_for("image", False) == ("clipiqa", "musiq")
    assert metrics.metrics_for("video", False) == ("clipiqa", "musiq", "dover")
    assert metrics.metrics_for("video", True) == ("psnr", "ssim", "lpips", "dists", "clipiqa", "musiq", "dover")
    assert metrics.get("ssim", "cpu") is metrics.get("ssim", "cpu")  # created once, cached per device
    with pytest.raises(metrics.UnknownKeyError, match="Did you mean 'lpips'"):
        metrics.get("lpip")
    with pytest.raises(ValueError, match="psnr is a full-reference metric"):
        metrics.get("psnr", "cpu")(torch.zeros(1, 3, 8, 8))


def test_dover_fusion_math():
    a, t = 0.02, 0.15
    tt, aa = (t - 0.1107) / 0.07355, (a + 0.08285) / 0.03774
    x = 0.6104 * tt + 0.3896 * aa
    out = fuse(a, t)
    assert out["overall"] == pytest.approx(1 / (1 + math.exp(-x)))
    assert out["technical"] == pytest.approx(1 / (1 + math.exp(-tt)))
    assert out["aesthetic"] == pytest.approx(1 / (1 + math.exp(-aa)))
    # the branch means at the standardisation centre give exactly 0.5
    assert fuse(-0.08285, 0.1107)["overall"] == pytest.approx(0.5)


def test_dover_pypi_namesake_is_refused(tmp_path, monkeypatch):
    fake = tmp_path / "dover"
    fake.mkdir()
    (fake / "__init__.py").write_text("__version__ = '0.5'  # a version-bumping tool\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in [m for m in sys.modules if m == "dover" or m.startswith("dover.")]:
        monkeypatch.delitem(sys.modules, name)
    problem = dover_problem()
    assert "unrelated PyPI tool" in problem and "VQAssessment/DOVER" in problem
    assert metrics.weights_problem("dover") == problem


def test_lossless_video_is_written_at_15_fps_512(tmp_path):
    av = pytest.importorskip("av")
    frames = [np.full((64, 48, 3), 20 * i, np.uint8) for i in range(3)]
    path = write_lossless_video(frames, tmp_path / "clip.mp4")
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        decoded = [f.to_ndarray(format="rgb24") for f in container.decode(stream)]
        assert (stream.width, stream.height) == (512, 512) and float(stream.average_rate) == 15
    assert len(decoded) == 3
    # lossless up to the RGB -> yuv444p conversion the official clips also have (8-bit grey survives it exactly)
    assert [int(d[5, 5, 0]) for d in decoded] == [0, 20, 40]
    with av.open(str(path)) as container:
        assert container.streams.video[0].codec_context.pix_fmt == "yuv444p"


def test_missing_weights_give_one_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    problem = metrics.weights_problem("lpips")
    assert str(tmp_path / "hub/checkpoints/alexnet-owt-7be5be79.pth") in problem
    assert "LPIPS_v0.1_alex-df73285e.pth" in problem and "python -m benchmarks.prefetch --metrics lpips" in problem
    metric = metrics.get("lpips", "cpu")
    metric._net = None
    with pytest.raises(metrics.MissingWeightsError, match="weights not in the local cache"):
        metric(torch.rand(1, 3, 16, 16), torch.rand(1, 3, 16, 16))


def test_pyiqa_metrics_are_batched_through_pyiqa(monkeypatch):
    """The wiring: pyiqa.create_metric with the right name, once; batches of 8; values come back per image."""
    import pyiqa

    from benchmarks.metrics import pyiqa_metrics

    created = []

    class FakeNet:
        def __init__(self):
            self.batches = []

        def __call__(self, x, y=None):
            self.batches.append(x.shape[0])
            return x.mean(dim=(1, 2, 3), keepdim=False)[:, None]

    def fake_create(name, device, as_loss):
        created.append(name)
        return FakeNet()

    monkeypatch.setattr(pyiqa, "create_metric", fake_create)
    monkeypatch.setattr(pyiqa_metrics, "require_weights", lambda name: None)
    metric = pyiqa_metrics.PyiqaMetric(metrics.spec("clipiqa"), "cpu")
    x = torch.rand(10, 3, 512, 512)
    values = metric(x)
    assert created == ["clipiqa+"] and metric._net.batches == [8, 2]
    torch.testing.assert_close(values, x.mean(dim=(1, 2, 3)).double())
    metric(x[:1])
    assert created == ["clipiqa+"]  # created once


def test_batched_torch_ssim_equals_skimage():
    """The CUDA path of the ssim metric (a torch port of skimage's defaults) against skimage itself."""
    from benchmarks.metrics.reference import ssim_torch

    clean, noisy = _images(n=3, h=128, w=96, seed=5)
    ours = ssim_torch(_t(noisy), _t(clean))
    for i in range(3):
        c, n = _t(clean)[i].permute(1, 2, 0).numpy(), _t(noisy)[i].permute(1, 2, 0).numpy()
        assert ours[i].item() == pytest.approx(structural_similarity(c, n, data_range=1, channel_axis=2), abs=1e-6)
