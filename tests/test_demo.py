"""The built-in demo: generated degradations follow their analytic models with the recorded parameters."""
from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from benchmarks import demo


def _read(path):
    return np.asarray(Image.open(path), dtype=np.float64) / 255.0


@pytest.fixture(scope="module")
def demo_root(tmp_path_factory):
    return demo.build_demo(tmp_path_factory.mktemp("demo"), size=64)


def test_layout_and_manifest(demo_root):
    for s in demo.DEMO_SETS:
        manifest = json.loads((demo_root / s.key / "manifest.json").read_text())
        assert manifest["params"] == s.params and manifest["degradation"] == list(s.degradation)
        assert [x["id"] for x in manifest["samples"]] == list(demo.IMAGES)
        for x in manifest["samples"]:
            assert _read(demo_root / s.key / x["input"]).shape == (64, 64, 3)
            assert _read(demo_root / s.key / x["target"]).shape == (64, 64, 3)


def test_haze_is_atmospheric_scattering_with_known_transmission(demo_root):
    p = demo.demo_set("demo_haze").params
    clean = _read(demo_root / "demo_haze/target/coffee.png")
    hazy = _read(demo_root / "demo_haze/input/coffee.png")
    t = np.exp(-p["beta"] * np.linspace(p["depth_far"], p["depth_near"], 64))[:, None, None]
    # both PNGs are 8-bit: the model holds to within one quantisation step of each
    assert np.abs(hazy - (clean * t + p["airlight"] * (1 - t))).max() <= 1.01 / 255
    assert hazy[0].mean() > hazy[-1].mean() - 0.2  # far rows are greyer


def test_blur_is_the_known_gaussian_kernel(demo_root):
    from scipy.ndimage import convolve

    p = demo.demo_set("demo_blur").params
    k = demo.gaussian_kernel(**p)
    assert k.shape == (13, 13) and abs(k.sum() - 1) < 1e-12 and k[6, 6] == k.max()
    clean = _read(demo_root / "demo_blur/target/chelsea.png")
    blurred = _read(demo_root / "demo_blur/input/chelsea.png")
    expect = np.stack([convolve(clean[..., c], k, mode="reflect") for c in range(3)], axis=2)
    assert np.abs(blurred - expect).max() <= 1.01 / 255


def test_noise_and_lowlight_statistics(demo_root):
    sigma = demo.demo_set("demo_noise").params["sigma"]
    clean = _read(demo_root / "demo_noise/target/astronaut.png")
    noisy = _read(demo_root / "demo_noise/input/astronaut.png")
    inner = (clean > 0.25) & (clean < 0.75)  # no clipping there
    assert abs((noisy - clean)[inner].std() - sigma) < 0.1 * sigma
    p = demo.demo_set("demo_lowlight").params
    low = _read(demo_root / "demo_lowlight/input/astronaut.png")
    clean = _read(demo_root / "demo_lowlight/target/astronaut.png")
    assert abs(low.mean() - (p["gain"] * clean ** p["gamma"]).mean()) < 0.01


def test_rain_kernel_and_layer():
    k = demo.line_kernel(15, 90.0)
    assert np.allclose(k.sum(axis=0)[7], 1.0)  # a vertical line: every weight in the centre column
    layer = demo.rain_layer(64, 64, np.random.default_rng(0), density=0.0, length=15, angle=75.0, intensity=0.5)
    assert layer.max() == 0.0
    layer = demo.rain_layer(64, 64, np.random.default_rng(0), density=0.01, length=15, angle=75.0, intensity=0.5)
    assert layer.max() == pytest.approx(0.5)


def test_rebuild_is_a_no_op(demo_root):
    path = demo_root / "demo_rain/input/rocket.png"
    before = path.stat().st_mtime_ns
    demo.build_demo(demo_root, size=64)
    assert path.stat().st_mtime_ns == before
