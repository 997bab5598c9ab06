"""Release parity end to end: the release's own evaluation loop (``inference.test``: its dataset classes on its
manifest format, its model wrappers, its EBR bridge and sampler, ``encode_frames`` / ``preview_decode_from_latent``,
its metric geometry and ``compute_psnr_ssim``) against the suite's whole path on the same tiny model folder and
data (the registry reading the manifest beside the data, ``ypt_flux`` / ``ypt_wan`` restoring through the method
library, ``benchmarks.evaluate`` scoring into the store). Compared bit for bit: every transformer call (its
timestep and its input), the 512 px predictions and targets the metrics see, PSNR and SSIM per sample.

CPU stand-ins for the release's GPU run, the same on both sides: ``torch.autocast("cpu", fp16)`` as its
``autocast_ctx`` (``test`` takes it as an argument); the release's global stream seeded 123 right before ``test``
(on its GPU the model build never touches the CUDA generator its VAE draws from; on a CPU it would), and its
DataLoader given its own generator with ``num_workers=0`` (a DataLoader iterator draws its base seed from the
default CPU generator). ``inference.MetricComputer`` is :class:`release_oracle.PsnrSsimRecorder`. What ``main``
does before ``test`` is restated with ``release_oracle``'s helpers (checkpoint loading, the VAE's fp32 upcast).
For WAN, the release's wrappers get the keyword shim (diffusers newer than 0.33.1, see test_parity_prompts) and its
scheduler the grid diffusers 0.33.1 gives it (pinned in test_parity_timesteps).
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch
from test_backbones import single_thread  # noqa: F401 (autouse: one thread, restored afterwards)
from official import write_official_checkpoint
from PIL import Image
from release_oracle import (
    PsnrSsimRecorder,
    keyword_shim,
    load_checkpoint_as_inference_does,
    maxdiff,
    quiet,
    record_transformer_calls,
    release_model,
    wan_wrappers_are_vacuous,
)

SIZE = 32
STEPS = 20  # the protocol's


def _png(path: Path, rng, shape=(40, 48)) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(rng.integers(0, 256, (*shape, 3), dtype=np.uint8)).save(path)
    return str(path)


def _hazerd(root: Path, n: int = 3) -> None:
    """HazeRD in the release's layout: test_img_data/ and the manifest beside it (paths relative to root)."""
    rng = np.random.default_rng(5)
    items = []
    for i in range(n):
        hazy, clean = f"test_img_data/HazeRD/Test/Hazy/IMG_{i:04d}_100.png", f"test_img_data/HazeRD/Test/GT/IMG_{i:04d}_RGB.png"
        _png(root / hazy, rng), _png(root / clean, rng)
        items.append({"image_path": hazy, "target_path": clean, "degradation": "Haze", "dataset": "HazeRD"})
    (root / "test_img_jsons").mkdir(parents=True)
    (root / "test_img_jsons" / "HazeRD.json").write_text(json.dumps(items))


def _toled(root: Path, n: int = 2) -> None:
    """TOLED (restored with the low-light and blur prompts mixed)."""
    rng = np.random.default_rng(6)
    items = []
    for i in range(n):
        inp, gt = f"test_img_data/TOLED/input/input_{i:04d}.png", f"test_img_data/TOLED/gt/gt_{i:04d}.png"
        _png(root / inp, rng), _png(root / gt, rng)
        items.append({"image_path": inp, "target_path": gt, "degradation": "LowLight", "dataset": "TOLED"})
    (root / "test_img_jsons").mkdir(parents=True)
    (root / "test_img_jsons" / "TOLED.json").write_text(json.dumps(items))


def _4krd_clips(root: Path, lengths=(5, 9, 7)) -> None:
    """4KRD clips (``input300/VID_<n>_<frame>``) of 5, 9 and 7 frames: 7 is not 4k+1 (the VAE reads 5)."""
    rng = np.random.default_rng(7)
    items = []
    for c, length in enumerate(lengths, 1):
        names = [f"VID_{c:03d}_{f:05d}.png" for f in range(length)]
        inputs = [f"test_vid_data/4KRD/test/input300/{n}" for n in names]
        targets = [f"test_vid_data/4KRD/test/gt300/{n}" for n in names]
        for p in inputs + targets:
            _png(root / p, rng, (36, 40))
        items.append({"image_path": inputs, "target_path": targets, "dataset": "4KRD", "clip_id": f"VID_{c:03d}"})
    (root / "test_vid_jsons").mkdir(parents=True)
    (root / "test_vid_jsons" / "4KRD_test.json").write_text(json.dumps(items))


def _release_run(release, model, manifest: Path, backend: str, out: Path, mixed: int = 0) -> tuple[list, list]:
    """``inference.test`` on ``manifest`` with the release's dataset class at SIZE; returns (transformer calls,
    recorded samples)."""
    if backend == "flux":
        dataset = release.dataset_images.JsonlDataset_paired_image_test(str(manifest), size=(SIZE, SIZE))
    else:
        with quiet():
            dataset = release.dataset.JsonlDataset_paired_test(str(manifest), size=(SIZE, SIZE))
    loader = torch.utils.data.DataLoader(dataset, batch_size=1, num_workers=0, shuffle=False,
                                         generator=torch.Generator())
    recorder = PsnrSsimRecorder(release)
    calls: list = []
    handle = record_transformer_calls(model.unet, calls)
    saved = release.inference.MetricComputer
    release.inference.MetricComputer = recorder
    bridge = release.utils.EBRCustomBridge(T0=0.4, sigma_max=1.0, sigma_min=1e-4, power=1.0)
    args = argparse.Namespace(backend=backend, t0=0.4, t_min=1e-4, output_dir=str(out))
    try:
        torch.manual_seed(123)
        with quiet():
            release.inference.test(args=args, bridge=bridge, vae=model.vae, model=model, scheduler=model.scheduler,
                                   test_loader_img=loader, device="cpu",
                                   autocast_ctx=lambda: torch.autocast("cpu", dtype=torch.float16),
                                   bridge_steps=STEPS, mixed_inference=bool(mixed),
                                   deg_ids=list(range(mixed)) if mixed else None)
    finally:
        release.inference.MetricComputer = saved
        handle.remove()
    return calls, recorder.seen


def _suite_run(method: str, dataset: str, root: Path, folder: Path, prompts: dict, tmp: Path, monkeypatch,
               **settings):
    """The suite's own path: registry samples, the method's restore, evaluate's records; returns (transformer calls,
    samples, records by sample id, output folder)."""
    import baselines
    from baselines.base import RestoreConfig
    from benchmarks import datasets
    from benchmarks.evaluate import evaluate
    from benchmarks.protocol import PROTOCOL_VERSION
    from benchmarks.store import ResultStore
    from ypt.backbones import backbone_class
    from ypt.prompts import default_prompt_path, load_prompt, save_prompt

    backbone = method.removeprefix("ypt_")
    cls = backbone_class(backbone)
    calls: list = []
    init = cls.__init__

    def recording_init(self, *args, **kwargs):
        init(self, *args, **kwargs)
        record_transformer_calls(self.transformer, calls)

    monkeypatch.setattr(cls, "__init__", recording_init)
    loaded = cls.from_pretrained(folder, dtype=torch.float16, device="cpu", null_context_file=None,
                                 max_sequence_length=512 if backbone == "flux" else 226)
    for degradation, path in prompts.items():  # the release's files in our format, where ypt_<backbone> looks
        save_prompt(load_prompt(path, loaded), default_prompt_path(backbone, degradation, root=tmp / "prompts"),
                    {"source": f"official structure {path.name}"})
    calls.clear()
    samples = datasets.get(dataset).samples(root)
    settings = {"model": str(folder), "prompts_root": str(tmp / "prompts"), "device": "cpu", "dtype": "fp16",
                **settings}
    out = tmp / "suite_out"
    baselines.get(method).restore(samples, out, RestoreConfig(settings=settings, progress=False))
    store = ResultStore(tmp / "results")
    evaluate(method, dataset, out, store, metrics=["psnr", "ssim"], data_root=root, samples=samples,
             progress=False, protocol=PROTOCOL_VERSION)
    records = {}
    for r in store.records(method, dataset):
        records.setdefault(r["sample"], {})[r["metric"]] = r["value"]
    return calls, samples, records, out


def _compare_calls(theirs: list, ours: list) -> None:
    assert len(ours) == len(theirs) and len(ours) % STEPS == 0
    for k, ((t_r, x_r), (t_s, x_s)) in enumerate(zip(theirs, ours)):
        assert maxdiff(t_r, t_s) == 0, f"call {k}: timestep {t_r.tolist()} vs {t_s.tolist()}"
        assert maxdiff(x_r.half().float(), x_s) == 0, f"call {k}: transformer input differs"  # fed in fp16


def _metric_views(out: Path, sample) -> list[torch.Tensor]:
    from benchmarks.metrics.resize import read_metric_view
    from benchmarks.outputs import find_video_frames, image_output_path, metric_view_path

    files = find_video_frames(out, sample.id) if sample.modality == "video" else [image_output_path(out, sample.id)]
    return [read_metric_view(metric_view_path(f)) for f in files]


def _targets(sample, out: Path) -> list[torch.Tensor]:
    from benchmarks.metrics.resize import load_pair
    from benchmarks.outputs import find_video_frames, image_output_path

    files = find_video_frames(out, sample.id) if sample.modality == "video" else [image_output_path(out, sample.id)]
    targets = sample.target if isinstance(sample.target, list) else [sample.target]
    return [load_pair(f, t)[1] for f, t in zip(files, targets)]


def _compare_samples(seen: list, samples: list, records: dict, out: Path) -> None:
    assert len(seen) == len(samples)
    for theirs, sample in zip(seen, samples):  # the registry's order is the release's
        views, targets = _metric_views(out, sample), _targets(sample, out)
        assert theirs["pred"].shape[2] == len(views)
        for t, (view, target) in enumerate(zip(views, targets)):
            assert maxdiff(theirs["pred"][:, :, t], view) == 0, f"{sample.id} frame {t}: prediction"
            assert maxdiff(theirs["gt"][:, :, t], target) == 0, f"{sample.id} frame {t}: target"
        assert records[sample.id]["psnr"] == theirs["psnr"] and records[sample.id]["ssim"] == theirs["ssim"]


def _checkpoints(model, tmp: Path, backend: str, names: tuple[str, ...]) -> dict[str, Path]:
    text = model.deep_prompt_bank.prompts.shape[1]
    dim = model.deep_prompt_bank.prompts.shape[-1]
    return {name: write_official_checkpoint(tmp / f"{backend}_{name}.pt", backend, text, dim,
                                            len(model._deep_prompt_wrappers), seed=seed)
            for seed, name in enumerate(names, 1)}


def test_flux_evaluation_is_the_releases(release, release_models, tmp_path, monkeypatch):
    root = tmp_path / "data"
    _hazerd(root)
    model = release_model(release, release_models["flux"], "flux", torch.float16)
    files = _checkpoints(model, tmp_path, "flux", ("haze",))
    load_checkpoint_as_inference_does(model, files["haze"])
    monkeypatch.chdir(root)  # the manifest's paths are relative to the bundle root, as the release runs them
    theirs, seen = _release_run(release, model, root / "test_img_jsons" / "HazeRD.json", "flux", tmp_path / "r")
    ours, samples, records, out = _suite_run("ypt_flux", "hazerd", root, release_models["flux"], files, tmp_path,
                                             monkeypatch, image_size=[SIZE, SIZE])
    assert [s.id for s in samples] == ["IMG_0000_100", "IMG_0001_100", "IMG_0002_100"]
    _compare_calls(theirs, ours)
    _compare_samples(seen, samples, records, out)


def test_flux_mixed_prompts_are_the_releases(release, release_models, tmp_path, monkeypatch):
    """TOLED: the low-light and blur prompts, velocities averaged at every step (the release's mixed inference)."""
    root = tmp_path / "data"
    _toled(root)
    model = release_model(release, release_models["flux"], "flux", torch.float16)
    files = _checkpoints(model, tmp_path, "flux", ("lowlight", "blur"))
    with quiet():
        model.load_learned_prompts_from_paths([str(files["lowlight"]), str(files["blur"])])
    monkeypatch.chdir(root)
    theirs, seen = _release_run(release, model, root / "test_img_jsons" / "TOLED.json", "flux", tmp_path / "r",
                                mixed=2)
    ours, samples, records, out = _suite_run("ypt_flux", "toled", root, release_models["flux"], files, tmp_path,
                                             monkeypatch, image_size=[SIZE, SIZE])
    assert len(ours) == 2 * STEPS * len(samples)
    _compare_calls(theirs, ours)
    _compare_samples(seen, samples, records, out)


def test_wan_evaluation_is_the_releases(release, release_models, tmp_path, monkeypatch):
    from ypt.sampler import scheduler_grid

    root = tmp_path / "data"
    _4krd_clips(root)
    model = release_model(release, release_models["wan"], "wan", torch.float16)
    files = _checkpoints(model, tmp_path, "wan", ("blur",))
    load_checkpoint_as_inference_does(model, files["blur"])
    probe = torch.randn(1, 4, 2, 4, 4, generator=torch.Generator().manual_seed(0))

    def run_probe():
        with torch.no_grad(), torch.autocast("cpu", dtype=torch.float16):
            return model(x_in=probe, t_idx=torch.tensor([300]))

    counters = keyword_shim(model) if wan_wrappers_are_vacuous(model, run_probe) else None
    set_timesteps = model.scheduler.set_timesteps

    def set_timesteps_0331(n, *args, **kwargs):  # the grid diffusers 0.33.1 gives the release
        set_timesteps(n, *args, **kwargs)
        model.scheduler.sigmas, model.scheduler.timesteps = scheduler_grid("wan", n)

    model.scheduler.set_timesteps = set_timesteps_0331
    monkeypatch.chdir(root)
    theirs, seen = _release_run(release, model, root / "test_vid_jsons" / "4KRD_test.json", "wan", tmp_path / "r")
    if counters is not None:
        assert all(c["context"] >= len(theirs) for c in counters)  # every wrapper acted at every call
    ours, samples, records, out = _suite_run("ypt_wan", "4krd_video", root, release_models["wan"], files, tmp_path,
                                             monkeypatch, video_size=[SIZE, SIZE])
    assert sorted(len(s.input) for s in samples) == [5, 7, 9]
    assert theirs[STEPS - 1][0].tolist() == [0.0]  # the last step's timestep on 0.33.1's grid
    _compare_calls(theirs, ours)
    _compare_samples(seen, samples, records, out)


