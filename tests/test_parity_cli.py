"""``python -m benchmarks.parity`` wired end to end on a CPU: a stand-in clone of the release whose
``inference.py`` keeps the release's command line and runs the release's own ``test()`` loop (imported from
../shared) on a tiny FLUX with the CPU substitutions of the parity harness (its ``main`` hard-codes CUDA and
downloads LPIPS/pyiqa weights), against the suite on the same first samples of a set. The command must hand the
release exactly the suite's samples in the suite's order and report zero differences."""
from __future__ import annotations

import json
import random
import sys
from pathlib import Path

import pytest
from official import write_official_checkpoint
from release_oracle import RELEASE, SKIP_REASON

from benchmarks.parity import ParityError, main, release_arrangement

TESTS = Path(__file__).resolve().parent

STANDIN_INFERENCE = '''
"""Stand-in of the release's inference.py for a CPU: the release's arguments, then its own test() loop."""
import argparse, os, sys

import torch

sys.path.insert(0, os.environ["YPT_TEST_DIR"])
from release_oracle import PsnrSsimRecorder, load_checkpoint_as_inference_does, load_release, release_model

R = load_release("model_prompts", "utils", "dataset", "dataset_images", "inference", "metric_utils.val_utils")
_clamp01, _to_bcthw = R.inference._clamp01, R.inference._to_bcthw


class MetricComputer:
    def __init__(self, device):
        self.recorder = PsnrSsimRecorder(R)

    def compute_video(self, pred_bcthw, gt_bcthw):
        return self.recorder.compute_video(pred_bcthw, gt_bcthw)


def main():
    p = argparse.ArgumentParser()
    for name in ("--model_id", "--backend", "--output_dir", "--json_path", "--resume_path", "--mixed_precision"):
        p.add_argument(name)
    p.add_argument("--mixed_paths", nargs="+", default=None)
    p.add_argument("--bridge_sampler_steps", type=int)
    p.add_argument("--t0", type=float)
    p.add_argument("--t_min", type=float)
    args = p.parse_args()
    size = int(os.environ["YPT_TEST_SIZE"])
    model = release_model(R, args.model_id, args.backend, torch.float16)
    if args.mixed_paths:
        model.load_learned_prompts_from_paths(args.mixed_paths)
    else:
        load_checkpoint_as_inference_does(model, args.resume_path)
    dataset = R.dataset_images.JsonlDataset_paired_image_test(args.json_path, size=(size, size))
    loader = torch.utils.data.DataLoader(dataset, batch_size=1, num_workers=0, generator=torch.Generator())
    args.output_dir = f"{args.output_dir}/{args.backend}/{dataset.dataset_name}"
    R.inference.MetricComputer = MetricComputer
    torch.manual_seed(123)
    R.inference.test(args=args, bridge=R.utils.EBRCustomBridge(T0=args.t0, sigma_max=1.0, sigma_min=args.t_min),
                     vae=model.vae, model=model, scheduler=model.scheduler, test_loader_img=loader, device="cpu",
                     autocast_ctx=lambda: torch.autocast("cpu", dtype=torch.float16),
                     bridge_steps=args.bridge_sampler_steps, mixed_inference=bool(args.mixed_paths),
                     deg_ids=list(range(len(args.mixed_paths))) if args.mixed_paths else None)
'''


def test_release_arrangement_runs_in_the_suites_order():
    """The release's video loader shuffles its manifest with random.Random(42): the arranged list comes out of that
    shuffle in the suite's order, for any length."""
    for n in (1, 2, 5, 9, 30):
        items = [{"id": k} for k in range(n)]
        arranged = release_arrangement(items, video=True)
        random.Random(42).shuffle(arranged)
        assert arranged == items
    assert release_arrangement([{"id": 1}, {"id": 0}], video=False) == [{"id": 1}, {"id": 0}]


@pytest.mark.skipif(not RELEASE.is_dir(), reason=SKIP_REASON)
def test_parity_command_reports_no_difference_on_a_cpu(release_models, tmp_path, monkeypatch, capsys):
    from test_parity_loop import _hazerd

    root = tmp_path / "data"
    _hazerd(root, n=3)
    clone = tmp_path / "standin-release"
    clone.mkdir()
    (clone / "inference.py").write_text(STANDIN_INFERENCE)
    folder = release_models["flux"]
    config = json.loads((folder / "transformer" / "config.json").read_text())
    width = config["num_attention_heads"] * config["attention_head_dim"]
    gates = config["num_layers"] + config["num_single_layers"]
    (clone / "ckpts").mkdir()
    write_official_checkpoint(clone / "ckpts" / "flux_haze.pt", "flux", 512, width, gates)
    monkeypatch.setenv("YPT_TEST_DIR", str(TESTS))
    monkeypatch.setenv("YPT_TEST_SIZE", "32")
    monkeypatch.setenv("YPT_CACHE", str(tmp_path / "cache"))
    argv = ["--release", str(clone), "--release-python", sys.executable, "--backbone", "flux", "--dataset", "hazerd",
            "--limit", "2", "--model", str(folder), "--data-root", str(root), "--metrics", "psnr,ssim",
            "--device", "cpu", "--out", str(tmp_path / "parity"), "--image-size", "32", "32", "--steps", "4"]
    assert main(argv) == 0
    report = json.loads((tmp_path / "parity" / "flux-hazerd" / "parity.json").read_text())
    handed = json.loads((tmp_path / "parity" / "flux-hazerd" / "release_manifest.json").read_text())
    assert [Path(e["image_path"]).name for e in handed] == ["IMG_0000_100.png", "IMG_0001_100.png"]
    assert [r["sample"] for r in report["rows"]] == ["IMG_0000_100", "IMG_0001_100"]
    for row in report["rows"]:
        assert row["prediction_max_abs_diff"] == 0
        assert row["psnr_diff"] == 0 and row["ssim_diff"] == 0 and row["psnr_release"] > 0
    assert "release vs suite: flux on hazerd, 2 sample(s), cpu" in capsys.readouterr().out.replace("\n", " ")


@pytest.mark.skipif(not RELEASE.is_dir(), reason=SKIP_REASON)
def test_parity_command_refuses_wan_under_another_diffusers(tmp_path, capsys):
    import diffusers

    if diffusers.__version__ == "0.33.1":
        pytest.skip("this environment is the release's own (diffusers 0.33.1)")
    clone = tmp_path / "clone"
    clone.mkdir()
    (clone / "inference.py").write_text("")
    assert main(["--release", str(clone), "--backbone", "wan", "--dataset", "rhvd"]) == ParityError.exit_code
    err = capsys.readouterr().err
    assert f"has diffusers {diffusers.__version__}: the release's WAN prompts only act under diffusers 0.33.1" in err
    assert err.count("\n") == 1
    with pytest.raises(ParityError, match="holds no inference.py"):
        main(["--release", str(tmp_path / "none"), "--backbone", "flux", "--dataset", "hazerd", "--debug"])
