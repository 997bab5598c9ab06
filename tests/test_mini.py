"""The miniature backbone of the built-in demo: its committed prior (hash and quality), the photo split behind it,
its windowed attention, and the training recipe it brings (which must leave the paper's prompts' hashes alone)."""
from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import torch

from test_backbones import single_thread  # noqa: F401 (autouse: the sidecar's quality was measured on one thread)
from ypt.backbones.mini_weights import PRIOR_PATH, sidecar_path
from ypt.errors import MissingModel

#: the committed prior's clean-estimate MSE at noise 0.4 on the held-out crops must stay below this (an untrained
#: model: ~0.25; the committed prior: ~0.022, its sidecar says exactly)
QUALITY_BOUND = 0.03


@pytest.fixture(scope="module")
def sidecar():
    return json.loads(sidecar_path(PRIOR_PATH).read_text())


def test_committed_prior_matches_its_recorded_hash_and_quality(sidecar):
    from ypt.backbones.mini import MiniBackbone
    from ypt.files import file_sha256
    from ypt.mini_prior import PRETRAIN_TEXT_LEN, clean_mse, heldout_crops

    assert PRIOR_PATH.stat().st_size < 10 * 2 ** 20
    assert file_sha256(PRIOR_PATH) == sidecar["sha256"]
    backbone = MiniBackbone.from_pretrained(max_sequence_length=PRETRAIN_TEXT_LEN)
    mse = clean_mse(backbone, heldout_crops())
    assert mse < QUALITY_BOUND
    # the sidecar's last evaluation is this very measurement (same crops, noise and context length)
    assert mse == pytest.approx(sidecar["quality"]["evals"][-1]["clean_mse"], rel=1e-4)
    assert sidecar["quality"]["evals"][0]["clean_mse"] > 0.2  # where the recipe started: no prior at all
    from benchmarks.tables import DEMO_MINIATURE

    assert sum(p.numel() for p in backbone.transformer.parameters()) == sidecar["parameters"]
    assert f"{sidecar['parameters'] / 1e6:.2f}M-parameter" in DEMO_MINIATURE  # the size the demo tables state


def test_changed_prior_is_refused_with_the_rebuild_command(tmp_path):
    from ypt.backbones.mini import MiniBackbone
    from ypt.backbones.model_files import weights_problem

    copy = tmp_path / "mini_prior.safetensors"
    shutil.copy(PRIOR_PATH, copy)
    shutil.copy(sidecar_path(PRIOR_PATH), sidecar_path(copy))
    assert weights_problem("mini", copy) is None
    data = bytearray(copy.read_bytes())
    data[-1] ^= 1
    copy.write_bytes(bytes(data))
    with pytest.raises(MissingModel, match=r"sha256 .*python -m ypt\.mini_prior --out"):
        MiniBackbone.from_pretrained(copy)
    assert "python -m ypt.mini_prior" in weights_problem("mini", copy)
    sidecar_path(copy).unlink()
    assert "not found" in weights_problem("mini", copy)


def test_photo_split_keeps_the_demo_test_photos_out(sidecar):
    import skimage.data

    from benchmarks.datasets.synthetic import IMAGES
    from ypt.mini_prior import HELDOUT_PHOTOS, PRETRAIN_PHOTOS, RESERVED_PHOTOS, photo, photo_hashes

    assert not set(PRETRAIN_PHOTOS) & set(HELDOUT_PHOTOS)
    assert set(IMAGES) <= set(RESERVED_PHOTOS)
    tests = [np.asarray(getattr(skimage.data, name)())[..., :3] for name in IMAGES]
    for name in PRETRAIN_PHOTOS + HELDOUT_PHOTOS:
        pixels = np.round(photo(name) * 255).astype(np.uint8)
        assert not any(t.shape == pixels.shape and np.array_equal(t, pixels) for t in tests), name
    # the installed packages still ship the photos the prior was pretrained on: the recipe regenerates it
    assert photo_hashes(PRETRAIN_PHOTOS) == sidecar["pretrain_photos"]
    assert photo_hashes(HELDOUT_PHOTOS) == sidecar["heldout_photos"]


def test_windowed_attention_places_each_window_and_is_a_partition_of_unity(monkeypatch):
    from ypt.backbones.configs import build_transformer
    from ypt.backbones.flux import FluxBackbone
    from ypt.backbones.mini import TRANSFORMER_CONFIG, MiniBackbone

    torch.manual_seed(0)
    backbone = MiniBackbone(build_transformer("flux", TRANSFORMER_CONFIG, seed=1))
    z = backbone.encode(torch.rand(2, 3, 48, 48))  # latent 24x24: windows at 0 and 8 in each direction
    windowed = backbone.velocity(z, 0.4)
    backbone.window = None
    # each corner is covered by one window only: there the blend is that window's plain transformer output
    assert torch.allclose(windowed[..., :8, :8], backbone.velocity(z[..., :16, :16], 0.4)[..., :8, :8], atol=1e-6)
    assert torch.allclose(windowed[..., -8:, -8:], backbone.velocity(z[..., 8:, 8:], 0.4)[..., -8:, -8:], atol=1e-6)
    assert not torch.allclose(windowed, backbone.velocity(z, 0.4), atol=1e-3)  # whole-image attention differs
    # an elementwise "transformer": blending the overlapping windows must give it back exactly
    monkeypatch.setattr(FluxBackbone, "_transformer_velocity", lambda self, z, sigma, context: z * 2 + 1)
    backbone.window = 16
    big = backbone.encode(torch.rand(1, 3, 80, 112))
    assert torch.allclose(backbone.velocity(big, 0.3), big * 2 + 1, atol=1e-6)


def test_training_recipes_leave_the_paper_prompts_hashes_alone():
    from ypt.provenance import config_hash
    from ypt.train import TrainConfig

    # measured on the tree before schedules and per-backbone recipes existed (git archive of efd8028)
    assert config_hash(TrainConfig(backbone="flux").hashable()) == "9cb544838725"
    assert config_hash(TrainConfig(backbone="wan").hashable()) == "7b5ebac94348"
    mini = TrainConfig(backbone="mini")
    assert (mini.lr, mini.batch_size, mini.lr_schedule, mini.iterations, mini.dtype) == (3e-2, 8, "cosine", 600, "fp32")
    assert [round(mini.lr_at(s), 6) for s in (0, 19, 20, 599)] == [0.0015, 0.03, 0.03, 0.003]
    assert TrainConfig(backbone="flux", lr=1e-3).lr == 1e-3
