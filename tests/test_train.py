"""Prompt training on tiny FLUX / WAN backbones: frozen backbone, prompt recovery, exact resume, latent cache."""
from __future__ import annotations

import copy
import pytest
import torch
from test_backbones import (
    TEXT_LEN,
    save_tiny_folder,
    single_thread,  # noqa: F401  (autouse fixture)
    tiny_flux,
    tiny_flux_components,
    tiny_wan,
)

from ypt import bridges
from ypt.backbones.prompting import new_prompt
from ypt.pairs import LatentPairs, cached_latents, pairs_from_dir, pairs_from_json
from ypt.train import PromptTrainer, TrainConfig, save_trained_prompt


def make_prompt(backbone, variant="residual"):
    return new_prompt(variant, backbone)


def make_bridge():
    return bridges.make_bridge("ebr", 0.4, 1e-4)


def random_pairs(shape, n=4, seed=0):
    g = torch.Generator().manual_seed(seed)
    return [(torch.randn(shape, generator=g), torch.randn(shape, generator=g)) for _ in range(n)]


def fixed_eval_loss(backbone, student, teacher_predict, bridge, shape):
    """Mean squared gap between student and teacher x0 predictions on a fixed batch of bridge states."""
    g = torch.Generator().manual_seed(7)
    x0, y = torch.randn(8, *shape, generator=g), torch.randn(8, *shape, generator=g)
    t = torch.linspace(0.05, 0.4, 8)
    z = bridge.state(x0, y, t, torch.randn(x0.shape, generator=g))
    with torch.no_grad():
        return (backbone.predictor(student, bridge)(z, t) - teacher_predict(z, t)).pow(2).mean().item()


def recovery_ratio(backbone, shape, steps=200, lr=2e-2):
    """Targets from the same frozen backbone under a hidden random teacher prompt (gates open); a fresh residual
    prompt (normal init) trained on them. Returns final / initial gap on a fixed evaluation batch."""
    bridge = make_bridge()
    torch.manual_seed(123)
    teacher = make_prompt(backbone)
    with torch.no_grad():
        teacher.prompt.normal_(0, 0.1)
        teacher.gates.fill_(1.0)
    teacher_predict = backbone.predictor(teacher, bridge)
    torch.manual_seed(0)
    student = make_prompt(backbone)
    cfg = TrainConfig(backbone=backbone.name, iterations=steps, lr=lr, weight_decay=0.0, log_every=50, seed=0)
    trainer = PromptTrainer(backbone, student, bridge, LatentPairs(tensors=random_pairs(shape)), cfg,
                            target_fn=teacher_predict)
    before = fixed_eval_loss(backbone, student, teacher_predict, bridge, shape)
    trainer.fit(steps, progress=False)
    return fixed_eval_loss(backbone, student, teacher_predict, bridge, shape) / before, trainer


def test_flux_prompt_recovery_and_frozen_backbone():
    flux = tiny_flux(seed=1)
    before = copy.deepcopy(flux.transformer.state_dict())
    ratio, trainer = recovery_ratio(flux, (4, 4, 4), steps=300)  # measured: 0.042 (0.096 at 200 steps)
    assert ratio <= 0.1, ratio
    after = flux.transformer.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
    assert all(p.grad is None for p in flux.transformer.parameters())
    assert all(p.grad is not None for p in trainer.prompt.parameters())


def test_wan_prompt_recovery():
    ratio, _ = recovery_ratio(tiny_wan(seed=1), (4, 1, 4, 4))  # measured: 0.003
    assert ratio <= 0.1, ratio


def _trainer(backbone, data, iterations=12, **kw):
    torch.manual_seed(5)
    cfg = TrainConfig(backbone=backbone.name, iterations=iterations, seed=3,
                      **{"log_every": 1, "checkpoint_every": 4, **kw})
    return PromptTrainer(backbone, make_prompt(backbone), make_bridge(), data, cfg)


def test_resume_follows_the_uninterrupted_trajectory(tmp_path):
    flux = tiny_flux()
    data = LatentPairs(tensors=random_pairs((4, 4, 4)))
    straight = _trainer(flux, data).fit(12, checkpoint=tmp_path / "a.ckpt", progress=False)
    interrupted = _trainer(flux, data)
    interrupted.fit(12, checkpoint=tmp_path / "b.ckpt", progress=False, stop_after=6)
    assert interrupted.step_count == 6
    torch.manual_seed(999)  # a resumed process starts from another global RNG state
    resumed = _trainer(flux, data)
    losses = resumed.fit(12, checkpoint=tmp_path / "b.ckpt", progress=False)
    assert [s for s, _ in losses] == list(range(1, 13))
    assert losses == straight
    for (k, a), b in zip(resumed.prompt.state_dict().items(), straight and _load_prompt(tmp_path / "a.ckpt")):
        assert torch.equal(a, b), k
    with pytest.raises(ValueError, match="lr differ"):
        _trainer(flux, data, lr=1e-3).fit(12, checkpoint=tmp_path / "a.ckpt", progress=False)


class Preempted(Exception):
    """What a scheduler's handler does here: submitit's requeues the job and exits."""


@pytest.mark.parametrize("signame", ["SIGUSR2", "SIGTERM"])
def test_a_signal_mid_step_saves_that_step_and_the_resumed_run_follows_the_trajectory(tmp_path, signame):
    """A preemption (SIGUSR2, submitit's) or termination (SIGTERM) arriving in the middle of step 7 of 12 (inside the
    backward pass, say): the trainer finishes the step, saves it (between two checkpoints and inside a logging window
    of 3), then hands the signal on; the resumed run continues at step 7 with the uninterrupted losses and prompt."""
    import os
    import signal

    flux = tiny_flux()
    data = LatentPairs(tensors=random_pairs((4, 4, 4)))
    straight = _trainer(flux, data, log_every=3, checkpoint_every=100)
    expected = straight.fit(12, progress=False)
    number = getattr(signal, signame)

    def scheduler(signum, frame):
        raise Preempted(signum)

    previous = signal.signal(number, scheduler)
    try:
        run = _trainer(flux, data, log_every=3, checkpoint_every=100)
        step = run.step

        def step_with_a_signal():
            if run.step_count == 6:  # step 7 is running
                os.kill(os.getpid(), number)
            return step()

        run.step = step_with_a_signal
        with pytest.raises(Preempted):
            run.fit(12, checkpoint=tmp_path / "p.ckpt", progress=False)
    finally:
        signal.signal(number, previous)
    assert run.step_count == 7 and signal.getsignal(number) is previous  # the trainer's hold is gone
    assert torch.load(tmp_path / "p.ckpt", weights_only=True)["step"] == 7  # saved at the signal, not at a multiple
    torch.manual_seed(999)
    resumed = _trainer(flux, data, log_every=3, checkpoint_every=100)
    steps = []
    resumed_step = resumed.step
    resumed.step = lambda: steps.append(resumed.step_count) or resumed_step()
    assert resumed.fit(12, checkpoint=tmp_path / "p.ckpt", progress=False) == expected
    assert steps == [7, 8, 9, 10, 11]  # it continued at step 8: no step lost, none repeated
    for name, value in resumed.prompt.state_dict().items():
        assert torch.equal(value, straight.prompt.state_dict()[name]), name


#: ops that make the host wait for the device on CUDA (a Python number or a data-dependent shape)
HOST_SYNC_OPS = ("aten._local_scalar_dense", "aten.nonzero", "aten.is_nonzero", "aten.equal", "aten.masked_select")


@pytest.mark.parametrize("which", ["flux", "wan"])
def test_training_step_asks_the_device_for_no_host_values(which):
    """After the host-side draws (seeded CPU generator), ``PromptTrainer.step`` issues none of the ops that block the
    host on a GPU: no ``.item()``, ``float(tensor)``, ``if tensor``, ``nonzero`` in the prompt hooks, the adapter, the
    bridge, the loss or AdamW; the loss comes back as a device tensor."""
    from torch.utils._python_dispatch import TorchDispatchMode

    class Watch(TorchDispatchMode):
        def __init__(self):
            super().__init__()
            self.seen = []

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            if str(func.overloadpacket).startswith(HOST_SYNC_OPS) or str(func).startswith(HOST_SYNC_OPS):
                self.seen.append(str(func))
            return func(*args, **(kwargs or {}))

    backbone = tiny_flux() if which == "flux" else tiny_wan()
    shape = (4, 4, 4) if which == "flux" else (4, 3, 4, 4)
    trainer = _trainer(backbone, LatentPairs(tensors=random_pairs(shape)), gradient_checkpointing=True)
    trainer.step()  # the first step creates AdamW's state
    draw = trainer._draw
    watch = Watch()

    def draw_then_watch():
        drawn = draw()
        watch.__enter__()
        return drawn

    trainer._draw = draw_then_watch
    try:
        loss = trainer.step()
    finally:
        watch.__exit__(None, None, None)
    assert isinstance(loss, torch.Tensor) and loss.ndim == 0
    assert watch.seen == []
    with watch:  # the detector itself sees what it should
        float(loss)
    assert watch.seen == ["aten._local_scalar_dense.default"]


@pytest.mark.gpu
def test_training_step_runs_under_cuda_sync_error_mode():
    """On a GPU, torch's own detector: with ``set_sync_debug_mode("error")`` any synchronising call in the step
    (including the host-to-device copies of the draws) raises."""
    if not torch.cuda.is_available():
        pytest.skip("needs a CUDA device")
    from test_backbones import tiny_flux_components

    from ypt.backbones.flux import FluxBackbone

    backbone = FluxBackbone(**tiny_flux_components(0), max_sequence_length=TEXT_LEN, dtype=torch.float32,
                            device="cuda")
    trainer = _trainer(backbone, LatentPairs(tensors=random_pairs((4, 4, 4))))
    trainer.step()
    torch.cuda.set_sync_debug_mode("error")
    try:
        for _ in range(3):
            loss = trainer.step()
    finally:
        torch.cuda.set_sync_debug_mode("default")
    assert loss.is_cuda and torch.isfinite(loss)


def _load_prompt(path):
    return list(torch.load(path, weights_only=True)["prompt"].values())


def test_gradient_checkpointing_gives_the_same_gradients():
    flux = tiny_flux()
    data = LatentPairs(tensors=random_pairs((4, 4, 4)))
    plain = _trainer(flux, data)
    plain.fit(2, progress=False)
    ckpt = _trainer(tiny_flux(), data, gradient_checkpointing=True)
    assert ckpt.backbone.transformer.gradient_checkpointing
    ckpt.fit(2, progress=False)
    for a, b in zip(plain.prompt.parameters(), ckpt.prompt.parameters()):
        torch.testing.assert_close(a, b)
        torch.testing.assert_close(a.grad, b.grad)


def _write_pairs(root, n=3, size=16):
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    for side in ("input", "target"):
        (root / side).mkdir(parents=True)
        for i in range(n):
            arr = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
            Image.fromarray(arr).save(root / side / f"img{i}.png")
    return root


def test_a_run_encodes_only_the_pairs_it_draws_as_float16_and_the_next_runs_reuse_and_extend_them(tmp_path,
                                                                                                 monkeypatch):
    """``train_prompt`` caches the latents of the pairs its schedule draws (not the others) in a ``datasets`` Arrow
    shard of float16; a second run with the same pairs encodes nothing and trains on the cached latents alone; a
    longer run adds only the pairs it draws beyond them; another geometry is another cache."""
    from datasets import Dataset

    from ypt.backbones.flux import FluxBackbone
    from ypt.latent_cache import LatentCache, pair_key
    from ypt.media import load_image
    from ypt.train import PairSchedule, train_prompt

    encoded = []  # images through the VAE encoder
    real_encode = FluxBackbone.encode
    monkeypatch.setattr(FluxBackbone, "encode", lambda self, x: encoded.append(x.shape[0]) or real_encode(self, x))
    model = save_tiny_folder(tiny_flux_components(), tmp_path / "flux")
    pairs = pairs_from_dir(_write_pairs(tmp_path / "pairs", n=12))
    keys = [pair_key(i, t) for i, t in pairs]
    config = TrainConfig(backbone="flux", iterations=2, dtype="fp32", geometry={"size": [16, 16]}, log_every=1)
    common = dict(model=str(model), device="cpu", cache_dir=tmp_path / "cache", text_len=TEXT_LEN, progress=False)
    touched = PairSchedule(len(pairs), config.batch_size, config.seed).touched(2)
    assert 0 < len(touched) <= 4 < len(pairs)

    train_prompt(config, pairs, out=tmp_path / "a.safetensors", **common)
    (folder,) = (tmp_path / "cache").iterdir()
    (shard,) = folder.glob("shard-*.arrow")
    stored = Dataset.from_file(str(shard))
    assert stored.features["input"].dtype == stored.features["target"].dtype == "float16"
    assert sorted(stored["key"]) == sorted(keys[i] for i in touched)  # the drawn pairs, no other
    assert sum(encoded) == 2 * len(touched)  # both sides of each, once (the latent shape comes from the backbone)
    flux = FluxBackbone.from_pretrained(str(model), dtype=torch.float32, max_sequence_length=TEXT_LEN)
    cache = LatentCache(tmp_path / "cache", flux.identity(), {"size": [16, 16]})
    i = touched[0]
    y, x0 = cache.get(keys[i])
    assert y.dtype == torch.float32  # served as float32 to the trainer's math
    torch.testing.assert_close(x0, real_encode(flux, load_image(pairs[i][1])[None])[0], rtol=2e-3, atol=2e-3)

    # a second run reuses them: nothing encoded, the same trained prompt
    encoded.clear()
    train_prompt(config, pairs, out=tmp_path / "b.safetensors", **common)
    assert encoded == []
    from safetensors.torch import load_file

    a, b = load_file(str(tmp_path / "a.safetensors")), load_file(str(tmp_path / "b.safetensors"))
    assert all(torch.equal(a[k], b[k]) for k in a)
    # the trainer reads only cached pairs: a pair the run never drew is not there
    served = cached_latents(flux, pairs, {"size": [16, 16]}, tmp_path / "cache", progress=False, touched=touched)
    never = next(j for j in range(len(pairs)) if j not in touched)
    with pytest.raises(FileNotFoundError, match="not in the latent cache"):
        served.batch([never])

    # a longer run extends the cache with the pairs it draws beyond the first run's, in a new shard
    longer = TrainConfig(backbone="flux", iterations=8, dtype="fp32", geometry={"size": [16, 16]}, log_every=1)
    more = PairSchedule(len(pairs), 2, longer.seed).touched(8)
    assert set(touched) < set(more)
    encoded.clear()
    train_prompt(longer, pairs, out=tmp_path / "c.safetensors", **common)
    assert sum(encoded) == 2 * len(set(more) - set(touched))  # only the new pairs, no probe
    assert len(list(folder.glob("shard-*.arrow"))) == 2
    assert LatentCache(tmp_path / "cache", flux.identity(), {"size": [16, 16]}).keys() == {keys[j] for j in more}
    # another geometry is another cache
    cached_latents(flux, pairs, {"size": [8, 8]}, tmp_path / "cache", progress=False, touched=[0])
    assert len(list((tmp_path / "cache").iterdir())) == 2


def test_an_interrupted_build_keeps_its_finished_shards_and_resumes(tmp_path):
    """Shards of ``shard_rows`` pairs are moved into place when complete: an encoder that fails on the third shard
    leaves the first two, and the next build encodes only the rest."""
    from ypt.latent_cache import LatentCache

    pairs = [(torch.full((3, 4, 4), i / 10), torch.full((3, 4, 4), i / 20)) for i in range(10)]
    calls = []

    def encode_batch(chunk, fail_at=None):
        calls.append(len(chunk))
        if fail_at is not None and len(calls) == fail_at:
            raise RuntimeError("node went away")
        return torch.stack([i[:1] for i, _ in chunk]), torch.stack([t[:1] for _, t in chunk])

    cache = LatentCache(tmp_path, {"backbone": "test"}, {"size": [4, 4]}, shard_rows=4)
    with pytest.raises(RuntimeError, match="node went away"):
        cache.ensure(pairs, lambda c: encode_batch(c, fail_at=1 + 2 + 2 + 1), batch_size=2, log=None, progress=False)
    assert len(list(cache.folder.glob("shard-*.arrow"))) == 2 and len(cache.keys()) == 8
    calls.clear()
    keys = cache.ensure(pairs, encode_batch, batch_size=2, log=None, progress=False)
    assert calls == [1, 2]  # the probe, then the two pairs still missing
    assert len(cache.keys()) == 10
    y, x0 = cache.get(keys[7])
    torch.testing.assert_close(y, torch.full((1, 4, 4), 0.7), rtol=1e-3, atol=1e-3)


def test_pairs_dir_errors_name_the_problem(tmp_path):
    with pytest.raises(FileNotFoundError, match="input/ and target/"):
        pairs_from_dir(tmp_path)
    root = _write_pairs(tmp_path / "p", n=2)
    (root / "target" / "img1.png").unlink()
    with pytest.raises(FileNotFoundError, match="no target .* img1.png"):
        pairs_from_dir(root)


def test_pairs_file_resolves_relative_paths_and_accepts_the_manifest_keys(tmp_path):
    """``--pairs FILE.json``: our keys or the authors' manifest keys; image paths or frame lists; relative paths
    against the file's folder; missing files and malformed entries named."""
    import json

    from ypt.errors import MissingData, UsageError

    root = _write_pairs(tmp_path / "data", n=2)
    frames = tmp_path / "data" / "clip"
    frames.mkdir()
    for i in range(2):
        (frames / f"{i}.png").write_bytes((root / "input" / "img0.png").read_bytes())
    entries = [{"input": "data/input/img0.png", "target": "data/target/img0.png"},
               {"image_path": str(root / "input/img1.png"), "target_path": "data/target/img1.png"},
               {"input": ["data/clip/0.png", "data/clip/1.png"], "target": ["data/clip/1.png", "data/clip/0.png"]}]
    file = tmp_path / "pairs.json"
    file.write_text(json.dumps(entries))
    pairs = pairs_from_json(file)
    assert pairs[0] == (tmp_path / "data/input/img0.png", tmp_path / "data/target/img0.png")
    assert pairs[1] == (root / "input/img1.png", tmp_path / "data/target/img1.png")
    assert pairs[2][0] == [frames / "0.png", frames / "1.png"]
    file.write_text(json.dumps([{"input": "data/input/img0.png", "target": "data/target/nope.png"}]))
    with pytest.raises(MissingData, match="1 file\\(s\\) not found, e.g. .*nope.png"):
        pairs_from_json(file)
    file.write_text(json.dumps([{"input": "data/input/img0.png"}]))
    with pytest.raises(UsageError, match="pair 0 needs the keys 'input' and 'target'"):
        pairs_from_json(file)
    with pytest.raises(MissingData, match="no pairs file"):
        pairs_from_json(tmp_path / "none.json")


def test_bf16_training_keeps_fp32_prompt_and_gradients_reach_it_through_checkpointed_wan():
    from test_backbones import TEXT_LEN, tiny_wan_components

    from ypt.backbones.wan import WanBackbone

    wan = WanBackbone(**tiny_wan_components(), max_sequence_length=TEXT_LEN, dtype=torch.bfloat16)
    data = LatentPairs(tensors=random_pairs((4, 1, 4, 4)))
    trainer = _trainer(wan, data, iterations=3, dtype="bf16", gradient_checkpointing=True)
    losses = trainer.fit(3, progress=False)
    assert all(torch.isfinite(torch.tensor(v)) for _, v in losses)
    assert all(p.dtype == torch.float32 and p.grad is not None for p in trainer.prompt.parameters())
    assert float(trainer.prompt.gates.detach().abs().sum()) > 0  # the zero-initialised gates moved
    assert all(p.grad is None for p in wan.transformer.parameters())


@pytest.mark.parametrize("variant", ["residual", "embedding", "token"])
def test_each_trainable_variant_trains_saves_and_loads_exactly(variant, tmp_path):
    from ypt.backbones import prompting

    flux = tiny_flux()
    torch.manual_seed(0)
    prompt = make_prompt(flux, variant)
    cfg = TrainConfig(backbone="flux", variant=variant, iterations=2, log_every=1, seed=0)
    trainer = PromptTrainer(flux, prompt, make_bridge(), LatentPairs(tensors=random_pairs((4, 4, 4))), cfg)
    trainer.fit(2, progress=False)
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in prompt.parameters() if p.requires_grad)
    path = save_trained_prompt(prompt, tmp_path / f"{variant}.safetensors", flux, cfg, {"steps": 2})
    assert prompting.needs_text_encoders([path]) == (True if variant == "token" else "auto")
    assert prompting.common_text_len([path]) == (None if variant == "token" else TEXT_LEN)
    (loaded,) = prompting.load_prompts([path], flux)
    for (k, a), (_, b) in zip(prompt.state_dict().items(), loaded.state_dict().items()):
        assert torch.equal(a, b), k
    z = torch.randn(1, 4, 4, 4)
    torch.testing.assert_close(flux.velocity(z, 0.3, loaded), flux.velocity(z, 0.3, prompt), rtol=0, atol=0)


@pytest.mark.slow
@pytest.mark.parametrize("which", ["flux", "wan"])
def test_compiled_blocks_follow_the_eager_trajectory(which):
    """``--compile``: every transformer block torch.compile'd in place, the prompt attached for the whole run (WAN:
    through the residual prompt's shared-query attn2 processor); the loss trajectory matches eager execution
    (inductor reorders float ops: close, not bit-identical)."""
    make, shape = (tiny_flux, (4, 4, 4)) if which == "flux" else (tiny_wan, (4, 3, 4, 4))
    data = LatentPairs(tensors=random_pairs(shape))
    eager = _trainer(make(), data, iterations=6).fit(6, progress=False)
    compiled_backbone = make()
    trainer = _trainer(compiled_backbone, data, iterations=6, compile=True)
    assert all(hasattr(b, "_compiled_call_impl") and b._compiled_call_impl is not None
               for b in compiled_backbone.transformer_blocks())
    compiled = trainer.fit(6, progress=False)
    assert [s for s, _ in compiled] == [s for s, _ in eager]
    for (_, a), (_, b) in zip(compiled, eager):
        assert a == pytest.approx(b, rel=1e-4)
