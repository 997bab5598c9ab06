"""benchmarks.perf: FLOPs formulas (hand-computed and against torch's FLOP counter), MFU, cost estimate, and a
smoke run of the benchmark in its quickest mode (schema only; no timing assertions)."""
from __future__ import annotations

import json
import math

import pytest

from benchmarks.perf import flops

# A hand-sized FLUX config: d = 1 head x 4 = 4, one double and one single block, 4 image + 2 text tokens.
HAND_FLUX = {"patch_size": 1, "in_channels": 4, "num_layers": 1, "num_single_layers": 1, "attention_head_dim": 4,
             "num_attention_heads": 1, "joint_attention_dim": 8, "pooled_projection_dim": 8, "guidance_embeds": False,
             "axes_dims_rope": (2, 2, 0)}


def test_flux_flops_hand_computed():
    b = flops.flux_flops(HAND_FLUX, image_tokens=4, text_tokens=2)
    # forward, 2 FLOPs per multiply-add, sequence 6, d 4:
    embed = (2 * 4 * 4 * 4          # x_embedder 4 -> 4 on 4 image tokens
             + 2 * 2 * 8 * 4        # context_embedder 8 -> 4 on 2 text tokens
             + 2 * (256 * 4 + 4 * 4 + 8 * 4 + 4 * 4)  # timestep (256 -> 4 -> 4) + pooled text (8 -> 4 -> 4)
             + 2 * 2 * 4 * 24       # double block AdaLayerNormZero 4 -> 24, image and text stream
             + 2 * 4 * 12           # single block AdaLayerNormZeroSingle 4 -> 12
             + 2 * 4 * 8)           # norm_out 4 -> 8
    double = 2 * 6 * (4 * 12 + 4 * 4 + 2 * 4 * 16)   # qkv, out, ff 4 -> 16 -> 4: 2304
    single = 2 * 6 * (4 * 16 + 4 * 12 + 20 * 4)      # proj_mlp, qkv, proj_out 20 -> 4: 2304
    proj_out = 2 * 4 * 4 * 4
    attention = 2 * (4 * 6 * 6 * 4)                  # 4 L^2 d per block: 576 each
    assert embed == 2976 and double == 2304 and single == 2304 and attention == 1152
    assert b.forward == embed + double + single + proj_out + attention == 8864
    # frozen-weight backward: GEMMs 1x (minus the first block's image q/k/v 2*4*4*12 = 384), attention 2x
    assert b.backward_frozen == (double - 384 + single + proj_out) + 2 * attention == 6656
    assert b.train_step(batch=2) == (2 * (8864 + 6656), 2 * (8864 + 6656))
    # checkpointing re-runs the blocks' forward: hardware FLOPs only
    assert b.train_step(batch=2, gradient_checkpointing=True) == (31040, 31040 + 2 * (2304 + 2304 + 128 + 1152))


def test_wan_tokens_and_shapes():
    assert flops.wan_latent_shape(33, 480, 832) == (9, 60, 104)
    assert flops.flux_tokens(1024, 1024) == 4096
    with pytest.raises(ValueError):
        flops.wan_latent_shape(32, 480, 832)
    with pytest.raises(ValueError):
        flops.wan_flops({"num_attention_heads": 1, "attention_head_dim": 4, "patch_size": (1, 2, 2),
                         "in_channels": 4, "text_dim": 8, "ffn_dim": 8, "num_layers": 1}, 1, 3, 4, 2)


def test_mfu():
    assert flops.mfu(989.4e12 * 0.5, 1.0, 989.4e12) == pytest.approx(0.5)
    assert flops.mfu(327e12, 2.0, 989.4e12) == pytest.approx(327 / (2 * 989.4))
    assert flops.mfu(1e12, 0.0, 1e12) is None
    assert flops.mfu(1e12, 1.0, None) is None


def _count(model, call):
    """Counted (forward, forward + backward) FLOPs of ``call()`` with torch's math attention (counted as bmm)."""
    from torch.nn.attention import SDPBackend, sdpa_kernel
    from torch.utils.flop_counter import FlopCounterMode

    with sdpa_kernel(SDPBackend.MATH), FlopCounterMode(display=False) as counter:
        out = call()
        forward = counter.get_total_flops()
        out.square().mean().backward()
    return forward, counter.get_total_flops()


def test_flops_match_torch_flop_counter_flux():
    """Forward and frozen-weight backward of a FLUX with the ypt.prompts residual prompt count exactly what
    ``flux_flops`` says."""
    import torch
    from ypt.backbones.configs import build_backbone
    from ypt.prompts import make_prompt

    cfg = dict(HAND_FLUX, in_channels=8, attention_head_dim=8, num_attention_heads=2, joint_attention_dim=16,
               pooled_projection_dim=12, guidance_embeds=True, axes_dims_rope=(2, 2, 4))
    batch, li, lt = 2, 16, 6
    engine = build_backbone("flux", "tiny", transformer_config=cfg, text_len=lt)
    model = engine.transformer
    prompt = make_prompt("residual", engine)
    x, ctx, pooled = torch.randn(batch, li, 8), torch.randn(batch, lt, 16), torch.randn(batch, 12)
    ids, txt = torch.zeros(li, 3), torch.zeros(lt, 3)
    with prompt.applied(engine):
        forward, total = _count(model, lambda: model(
            hidden_states=x, encoder_hidden_states=ctx, pooled_projections=pooled, timestep=torch.full((batch,), 0.5),
            img_ids=ids, txt_ids=txt, guidance=torch.ones(batch), return_dict=False)[0])
    b = flops.flux_flops(cfg, li, lt)
    assert forward == batch * b.forward
    assert total == b.train_step(batch)[0]


def test_flops_match_torch_flop_counter_wan():
    """The residual prompt runs attn2 twice on one query projection: ``cross_attention_passes=2``."""
    import torch
    from ypt.backbones.configs import build_backbone
    from ypt.prompts import make_prompt

    cfg = dict(patch_size=(1, 2, 2), num_attention_heads=2, attention_head_dim=8, in_channels=4, out_channels=4,
               text_dim=12, freq_dim=16, ffn_dim=24, num_layers=2, cross_attn_norm=True,
               qk_norm="rms_norm_across_heads", eps=1e-6, rope_max_seq_len=32)
    batch, f, h, w, lc = 2, 2, 4, 6, 5
    engine = build_backbone("wan", "tiny", transformer_config=cfg, text_len=lc)
    model = engine.transformer
    prompt = make_prompt("residual", engine)
    x, ctx = torch.randn(batch, 4, f, h, w), torch.randn(batch, lc, 12)
    with prompt.applied(engine):
        forward, total = _count(model, lambda: model(hidden_states=x, timestep=torch.full((batch,), 500.0),
                                                     encoder_hidden_states=ctx, return_dict=False)[0])
    b = flops.wan_flops(cfg, f, h, w, lc, cross_attention_passes=2)
    assert forward == batch * b.forward
    assert total == b.train_step(batch)[0]


def test_cost_defaults_follow_the_flops_formula(tmp_path):
    from benchmarks.perf import cost
    from benchmarks.perf.workloads import workload

    est = cost.estimate_gpu_hours("train", "flux", 5, directory=tmp_path)
    assert not est.measured and "DEFAULT" in est.describe()
    step_flops = workload("flux", "full").flops(2).train_step(2)[0]
    assert float(est) == pytest.approx(5 * 40_000 * step_flops / (0.35 * 989.4e12) / 3600)
    with pytest.raises(ValueError, match="unknown cost kind"):
        cost.estimate_gpu_hours("finetune", "flux", 1, directory=tmp_path)


def test_cost_uses_the_newest_measured_gpu_document(tmp_path):
    from benchmarks.perf import cost

    def doc(created, step, kind="cuda"):
        return {"created": created, "device": {"kind": kind, "name": "NVIDIA H100 80GB HBM3"},
                "settings": {"size": "full"},
                "rows": [{"section": "training", "backbone": "wan", "label": "no-ckpt cached", "status": "ok",
                          "config": {"latents": "cached"}, "step_time_s": step},
                         {"section": "training", "backbone": "wan", "label": "no-ckpt encode-each-step",
                          "status": "ok", "config": {"latents": "encode_each_step"}, "step_time_s": 0.1},
                         {"section": "sampling", "backbone": "wan", "label": "single", "status": "ok",
                          "config": {"prompts": 1}, "time_per_item_s": 30.0, "denoise_s": 20.0}]}

    (tmp_path / "gpu-old.json").write_text(json.dumps(doc("20260101T000000Z", 9.0)))
    (tmp_path / "gpu-new.json").write_text(json.dumps(doc("20260201T000000Z", 1.8)))
    (tmp_path / "cpu-newest.json").write_text(json.dumps(doc("20260301T000000Z", 0.01, kind="cpu")))
    est = cost.estimate_gpu_hours("train", "wan", 2, directory=tmp_path)
    assert est.measured and est.source.startswith("gpu-new.json")
    assert float(est) == pytest.approx(2 * 20_000 * 1.8 / 3600)  # cached rows only
    mixed = cost.estimate_gpu_hours("sample", "wan", 10, prompts=2, directory=tmp_path)
    assert mixed.seconds_per_item == pytest.approx(10.0 + 2 * 20.0)  # encode/decode once, denoising per prompt
    # the step a training run executes (latents from the on-disk cache) wins over the device-cached one
    doc_trainer = doc("20260401T000000Z", 1.8)
    doc_trainer["rows"].append({"section": "training", "backbone": "wan", "label": "ckpt datasets-cache",
                                "status": "ok",
                                "config": {"latents": "datasets-cache", "trainer": "ypt.train.PromptTrainer"},
                                "step_time_s": 2.5})
    (tmp_path / "gpu-newest.json").write_text(json.dumps(doc_trainer))
    est = cost.estimate_gpu_hours("train", "wan", 1, directory=tmp_path)
    assert est.seconds_per_item == pytest.approx(2.5 * 20_000)
    # nothing measured for FLUX: documented default
    assert not cost.estimate_gpu_hours("train", "flux", 1, directory=tmp_path).measured


def test_quick_run_writes_a_schema_valid_document(tmp_path):
    from benchmarks.perf import report, training
    from benchmarks.perf.__main__ import main
    from benchmarks.protocol import PROTOCOL_VERSION

    assert main(["--quick", "--device", "cpu", "--iters", "1", "--warmup", "0", "--steps", "2",
                 "--only", "training,sampling,loading,cache", "--out", str(tmp_path)]) == 0
    # a quick run is a smoke run: its own file, never latest.json (nor a document the cost model reads)
    assert not (tmp_path / "latest.json").exists() and not list(tmp_path.glob("*.json"))
    stamped = list(tmp_path.glob("quick/*.json"))
    assert len(stamped) == 1
    latest = json.loads(stamped[0].read_text())
    assert report.validate(latest) == []
    assert latest["device"]["kind"] == "cpu" and latest["device"]["torch_version"]
    assert latest["protocol_version"] == PROTOCOL_VERSION and latest["settings"]["size"] == "tiny"
    train = [r for r in latest["rows"] if r["section"] == "training"]
    assert {(r["backbone"], r["label"]) for r in train} == {
        (b, f"{c} {s}") for b in ("flux", "wan") for c in ("no-ckpt", "ckpt") for s in training.LATENT_SOURCES}
    engines = {"flux": "ypt.backbones.flux.FluxBackbone", "wan": "ypt.backbones.wan.WanBackbone"}
    for r in train:  # every row times the real trainer on the real adapter
        assert r["status"] == "ok" and r["step_time_s"] > 0
        assert r["mfu"] == pytest.approx(r["model_flops"] / (r["step_time_s"] * latest["device"]["peak_flops"]))
        assert r["config"]["trainer"] == "ypt.train.PromptTrainer" and r["config"]["engine"] == engines[r["backbone"]]
        assert r["config"]["prompt"] == "ypt.prompts.modules.ResidualPrompt"
    sample = {(r["backbone"], r["label"]): r for r in latest["rows"] if r["section"] == "sampling"}
    assert all(r["config"]["engine"] == engines[b] for (b, _), r in sample.items())
    assert sample[("flux", "single")]["nfe"] == 2 and sample[("flux", "mixed-sequential")]["forward_calls"] == 4
    assert sample[("wan", "mixed-sequential")]["nfe"] == 4
    assert sample[("flux", "batch-4")]["config"]["batch"] == 4 and sample[("flux", "batch-4")]["nfe"] == 2
    loads = {r["backbone"]: r for r in latest["rows"] if r["section"] == "loading"}
    assert set(loads) == {"flux", "wan"} and all(r["load_s"] > 0 and r["weights_bytes"] > 0 for r in loads.values())
    built = {(r["backbone"], r["label"]): r for r in latest["rows"] if r["section"] == "cache"}
    from ypt.latent_cache import row_bytes

    for backbone, full in (("flux", (16, 128, 128)), ("wan", (16, 9, 60, 104))):
        arrow, files = built[(backbone, "datasets-cache")], built[(backbone, "safetensors-cache")]
        assert arrow["full_size_latent"] == list(full)
        # float16 Arrow rows: the estimate the cache prints before a build, up to the shard's own few KiB
        assert row_bytes(full) <= arrow["full_size_bytes_per_pair"] < row_bytes(full) + 8 * 1024
        assert 2 * 4 * math.prod(full) < files["full_size_bytes_per_pair"] < 2 * 4 * math.prod(full) + 1024
    for name in ("training flux no-ckpt: encode-each-step / cached step time",
                 "training wan ckpt: safetensors-cache / datasets-cache step time",
                 "cache flux: safetensors-cache / datasets-cache build time per pair",
                 "sampling wan: mixed (2 prompts) / single steps time", "sampling flux: batch 1 / batch 4 time per item",
                 "loading wan: one backbone load / one restored item time"):
        r = latest["ratios"][name]
        assert r["value"] > 0 and r["low"] is None and r["noise"] is None  # one timed iteration: no spread


def test_ratios_carry_their_spread_and_say_when_noise_dominates():
    from benchmarks.perf.report import exact, format_ratio, ratio

    def row(*times):
        return {"t": min(times), "timing": {"times_s": list(times)}}

    # quartiles (inclusive): 2.0, 2.2, 2.4, 9.0 (one stall) -> 2.15 and 4.05; 1.0, 1.1 -> 1.025 and 1.075
    apart = ratio(row(2.0, 2.2, 2.4, 9.0), "t", row(1.0, 1.1), "t")
    assert apart["value"] == pytest.approx(2.0) and not apart["noise"]
    assert (apart["low"], apart["high"]) == (pytest.approx(2.15 / 1.075), pytest.approx(4.05 / 1.025))
    assert format_ratio(apart) == "2.00x (2.00-3.95)"
    overlap = ratio(row(1.05, 1.3), "t", row(1.0, 1.25), "t")
    assert overlap["noise"] and format_ratio(overlap).endswith("noise dominates: the rows' middle iteration times "
                                                               "overlap")
    disturbed = ratio({"t": 1.0, "timing": {"times_s": [1.0, 3.0, 3.1, 3.2]}}, "t", row(1.0, 1.1), "t")
    assert disturbed["low"] > 1 and disturbed["noise"]  # best times 1:1, middle halves ~3:1
    assert format_ratio(disturbed).endswith("the ratio of the rows' best times lies outside it")
    once = ratio(row(1.5), "t", row(1.0, 1.2), "t")
    assert once["low"] is None and once["noise"] is None and "spread unknown" in format_ratio(once)
    assert format_ratio(exact(1.97)) == "1.97x (counted: exact)"


def test_live_bytes_tracker_counts_storages_once_and_frees_them():
    """Analytic: views cost nothing, a freed tensor's bytes come back before the next allocation, and the peak is
    the largest simultaneous total (4 kB per 1000-float tensor)."""
    import torch
    from torch._subclasses.fake_tensor import FakeTensorMode

    from benchmarks.perf.memory import _live_bytes_mode

    with FakeTensorMode():
        x = torch.empty(1000)
        mode = _live_bytes_mode()
        mode.add_resident(x)
        with mode:
            view = x.view(10, 100).t()  # noqa: F841 - a view of a resident storage
            y = x + 1
            del y
            z = x * 2  # reuses y's bytes: x + z live
            w = z.view(-1) + 1  # x + z + w
            del z, w
            for _ in range(5):
                t = x - 1  # noqa: F841 - each assignment frees the previous t
        assert mode.peak == 3 * 4000
        mode._sweep()
        assert mode.current == 2 * 4000  # x and the last t


def test_traced_memory_of_full_size_flux_training_fits_80gb(tmp_path):
    """``--only memory`` traces the full FLUX.1-dev step (batch 2, 1024 px, bf16) with fake tensors: the weights are
    exactly the 11.9B bf16 parameters, both configurations fit in 80 GB, checkpointing keeps < 1/5 of the step's
    activation memory."""
    from benchmarks.perf import report
    from benchmarks.perf.__main__ import main

    assert main(["--only", "memory", "--backbones", "flux", "--device", "cpu", "--out", str(tmp_path)]) == 0
    doc = json.loads((tmp_path / "latest.json").read_text())
    assert report.validate(doc) == []
    rows = {r["label"]: r for r in doc["rows"] if r["section"] == "memory"}
    assert set(rows) == {"ckpt", "no-ckpt"}
    for r in rows.values():
        assert r["config"]["size"] == "full" and r["config"]["batch"] == 2 and r["config"]["pixels"] == [1024, 1024]
        assert 11.85e9 * 2 < r["resident_bytes"]["transformer"] < 11.95e9 * 2
        assert r["fits_80gb"] and sum(r["resident_bytes"].values()) < r["peak_memory_bytes"] < 80e9
    assert rows["ckpt"]["step_bytes"] * 5 < rows["no-ckpt"]["step_bytes"]


@pytest.mark.parametrize("backbone, params", [
    ("flux", (11.85e9, 11.95e9)),  # FLUX.1-dev transformer: 11.9B ("12B" on the model card)
    ("wan", (1.40e9, 1.45e9)),     # WAN 2.1 T2V 1.3B transformer: 1.42B
])
def test_full_size_configs_match_published_models_and_flops(backbone, params):
    """The full-size configs build (on the meta device: no memory) into the published parameter counts, and torch's
    FLOP counter over one real forward at protocol size equals the analytic count exactly."""
    import torch
    from torch.nn.attention import SDPBackend, sdpa_kernel
    from torch.utils.flop_counter import FlopCounterMode

    from benchmarks.perf.workloads import workload

    wl = workload(backbone, "full")
    engine = wl.build("meta", torch.bfloat16)  # the adapter itself, on the meta device
    n = sum(p.numel() for p in engine.transformer.parameters())
    assert params[0] < n < params[1]
    latent = torch.empty(1, *wl.latent_shape, device="meta")
    with torch.no_grad(), sdpa_kernel(SDPBackend.MATH), FlopCounterMode(display=False) as counter:
        engine.velocity(latent, torch.full((1,), 0.5, device="meta"))
    assert counter.get_total_flops() == wl.flops(cross_attention_passes=1).forward
    # FLUX 1024 px: 4096 image + 512 text tokens; WAN 33x480x832: 9 x 30 x 52 video tokens
    assert wl.flops().tokens["sequence"] == {"flux": 4608, "wan": 14040}[backbone]


def test_metric_throughput_rows_run_the_suites_metrics(monkeypatch):
    """Batched and one-by-one rows of ``benchmarks.metrics`` (real PSNR), images/s, exactly the images each mode
    scored (the registry's counter), and skipped rows naming the weights a metric lacks."""
    import torch

    from benchmarks import metrics
    from benchmarks.metrics.base import Metric
    from benchmarks.perf import evaluation

    monkeypatch.setattr(metrics, "weights_problem",
                        lambda name: None if name == "psnr" else f"{name}.pth not in the pyiqa cache")
    before = Metric.images_scored.get("psnr", 0)
    rows = evaluation.measure_metrics("cpu", quick=True, metrics=("psnr", "lpips"))
    by = {(r["metric"], r["mode"]): r for r in rows}
    assert set(by) == {("psnr", "batched"), ("psnr", "one-by-one"), ("lpips", "batched"), ("lpips", "one-by-one")}
    assert by[("lpips", "batched")]["status"] == "skipped" and "pyiqa cache" in by[("lpips", "batched")]["reason"]
    for mode in ("batched", "one-by-one"):
        row = by[("psnr", mode)]
        assert row["status"] == "ok" and row["images"] == 4
        assert row["images_per_s"] == pytest.approx(4 / row["seconds"])
    # one warm-up image, the batch of 4 twice (warm-up + timed), then 4 images one by one
    assert Metric.images_scored["psnr"] - before == 1 + 2 * 4 + 4
    pred, target = evaluation.synthetic_pairs(2, size=64)
    assert pred.shape == (2, 3, 64, 64) and 0 <= float(pred.min()) and float(pred.max()) <= 1
    mse = ((pred - target) ** 2).flatten(1).mean(1)
    assert 20 < float((-10 * torch.log10(mse)).mean()) < 35  # noise sigma 0.05 -> about 26 dB before clamping


def test_help_and_cost_paths_import_no_torch():
    import subprocess
    import sys

    code = ("import sys, benchmarks.perf.options as m, benchmarks.perf.cost as c; m.parse_args(['--quick']); "
            "c.estimate_gpu_hours('sample', 'wan', 3, directory='/nonexistent'); "
            "print(sorted(k for k in sys.modules if k.split('.')[0] in ('torch', 'diffusers', 'pyiqa')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
    help_out = subprocess.run([sys.executable, "-m", "benchmarks.perf", "--help"], capture_output=True, text=True,
                              check=True)
    assert "--quick" in help_out.stdout and "latest.json" in help_out.stdout


def test_timing_statistics_and_warmup():
    from benchmarks.perf.timing import Timing, time_fn

    assert Timing([0.3, 0.1, 0.2], 0, "min").seconds == 0.1
    assert Timing([0.3, 0.1, 0.2], 0, "median").seconds == 0.2
    calls = []
    timing = time_fn(lambda: calls.append(1), "cpu", iters=4, warmup=2)
    assert len(calls) == 6 and len(timing.times_s) == 4 and timing.statistic == "min"
    assert timing.as_dict()["seconds"] == min(timing.times_s)


def test_table_rerender_row():
    from benchmarks.perf import evaluation

    rows = evaluation.measure_table("cpu", quick=True, samples_per_dataset=2)
    render = rows[0]
    assert render["label"] == "re-render" and render["status"] == "ok" and render["seconds"] > 0
    # Table 2: 6 rows x (8 datasets x 6 metrics + 2 no-reference cells) x 2 samples
    assert render["records"] == 6 * (8 * 6 + 2) * 2
    assert rows[1]["label"] == "store load" and rows[1]["status"] == "ok" and rows[1]["records"] == 600


@pytest.mark.gpu
@pytest.mark.parametrize("backbone", ["wan", "flux"])
def test_traced_memory_matches_the_measured_cuda_peak(backbone, tmp_path):
    """On a GPU: the fake-tensor trace of the full-size step (checkpointing on) is within 15% of
    ``torch.cuda.max_memory_allocated`` of the same step run for real (the bench also keeps its input pixels on the
    device, which the trace leaves out)."""
    import torch

    if not torch.cuda.is_available():
        pytest.skip("needs a CUDA device")
    from benchmarks.perf import memory, training
    from benchmarks.perf.workloads import workload

    wl = workload(backbone, "full")
    traced = memory.trace_training_step(wl, gradient_checkpointing=True)["peak_memory_bytes"]
    bench = training.TrainBench(wl, "cuda", "bfloat16", tmp_path)
    row = bench.measure(training.RowConfig(True, "cached"), iters=2, warmup=1, peak_flops=None)
    assert row["status"] == "ok", row.get("reason")
    measured = row["peak_memory_bytes"]
    assert abs(measured - traced) < 0.15 * measured, (measured / 2**30, traced / 2**30)


def test_slurm_job_repeats_the_runs_options_and_is_keyed_by_them(tmp_path, capsys):
    """``--executor slurm`` hands the job exactly this run's options (executor options and --out aside); another
    option is another unit; ``--dry-run`` shows the one GPU job and submits nothing."""
    from benchmarks.perf.__main__ import main
    from benchmarks.perf.options import job_args, parse_args
    from benchmarks.perf.unit import perf_unit

    argv = ["--only", "training,memory", "--backbones", "wan", "--iters", "5", "--compile", "--executor", "slurm",
            "--cluster", "x", "--out", str(tmp_path)]
    args = parse_args(argv)
    again = parse_args(job_args(args))
    for name in ("only", "backbones", "iters", "compile", "quick", "device", "size", "dtype", "steps", "rounds"):
        assert getattr(again, name) == getattr(args, name), name
    unit = perf_unit(job_args(args), tmp_path)
    assert unit.needs.gpus == 1 and unit.key != perf_unit(job_args(parse_args(["--quick"])), tmp_path).key
    (tmp_path / "cuda-x.json").write_text(json.dumps({"settings": {"unit": unit.key}}))
    assert unit.is_done()
    assert main(["--executor", "slurm", "--dry-run", "--out", str(tmp_path / "none")]) == 0
    out = capsys.readouterr().out
    assert "benchmarks.perf" in out and "todo" in out and "1 units" in out
