"""``python -m benchmarks.parity``: the authors' release and this suite on the same samples, per-sample differences.

    python -m benchmarks.parity --release ~/YPT --release-python ~/envs/ypt-release/bin/python \\
        --backbone flux --dataset hazerd --limit 4 [--ckpts ~/YPT/ckpts] [--model DIR] [--out DIR]

For users with the weights and a GPU. It runs the release's own ``inference.py`` (its ``main``, unchanged, in the
release's environment: ``--release-python``, which must hold the release's ``requirements.txt`` with diffusers
0.33.1, because under newer diffusers the release's WAN prompt wrappers silently do nothing) and this suite (the
registry's list, ``ypt_flux`` / ``ypt_wan`` through the method library, ``benchmarks.evaluate``) on the same first
``--limit`` samples of a set, then prints and writes (``<out>/parity.csv``, ``parity.json``) one row per sample:
the largest difference between the two predictions as the metrics see them (512 px, float) and the difference of
every metric.

How the same samples are run: the suite's list is the authors' manifest's (its data root must hold it, or
``$YPT_MANIFESTS``); the release is handed a manifest of exactly those samples, arranged so that its own loader
(``random.Random(42)`` shuffles clips) runs them in the suite's order, so both encode stream draws line up. Nothing
of the release is modified: a small driver imports its ``inference`` module, observes ``MetricComputer.compute_video``
(the 512 px prediction and the metric values it computes per sample) and calls its ``main``.

Expect bit-identical predictions on the GPU the authors used; on other GPUs the posterior draws of the encode stream
depend on the GPU's SM count (PyTorch's CUDA ``randn`` launch grid), so FLUX inputs match on GPUs with at least 128
SMs (H100, H200) but WAN's only on the same GPU model: the report names the GPU. SSIM on CUDA is the suite's batched
torch port (within 1e-6 of scikit-image).
"""
from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks.protocol import NUM_INFERENCE_STEPS, T0, T_MIN
from ypt.cli import add_debug_argument, entry_point
from ypt.errors import MissingResource, UsageError

#: the release's name of each metric the suite scores
RELEASE_METRICS = {"psnr": "psnr", "ssim": "ssim", "lpips": "lpips", "dists": "dists", "clipiqa": "clipiqa_plus",
                   "musiq": "musiq"}
#: the diffusers release the authors' code needs (its requirements.txt); its WAN wrappers are inactive under others
RELEASE_DIFFUSERS = "0.33.1"

DRIVER = r'''
"""Runs the authors' inference.py main() unchanged, recording what its MetricComputer sees (written by
benchmarks.parity)."""
import json, sys
from pathlib import Path

import numpy as np

dump = Path(sys.argv[1])
sys.argv = ["inference.py", *sys.argv[2:]]
import inference

original = inference.MetricComputer.compute_video
seen = []


def compute_video(self, pred_bcthw, gt_bcthw):
    values = original(self, pred_bcthw, gt_bcthw)
    pred = inference._clamp01(inference._to_bcthw(pred_bcthw)).float().cpu().numpy()
    np.save(dump / f"{len(seen):05d}.npy", pred)
    seen.append({k: float(v) for k, v in values.items()})
    (dump / "metrics.json").write_text(json.dumps(seen))
    return values


inference.MetricComputer.compute_video = compute_video
inference.main()
'''


class ParityError(UsageError):
    """The comparison cannot run as asked (release, its environment, checkpoints or samples)."""


def release_arrangement(items: list[dict[str, Any]], video: bool) -> list[dict[str, Any]]:
    """``items`` (the suite's order) arranged so that the release's loader runs them in this order: its video
    dataset class shuffles the manifest with ``random.Random(42)``, a permutation fixed by the length alone."""
    if not video:
        return list(items)
    positions = list(range(len(items)))
    random.Random(42).shuffle(positions)  # the release's loader reads arranged[positions[k]] k-th
    arranged: list[dict[str, Any]] = [{}] * len(items)
    for k, position in enumerate(positions):
        arranged[position] = items[k]
    return arranged


def release_manifest(samples: Sequence[Any], dataset: str) -> list[dict[str, Any]]:
    """The samples as entries of the release's manifest format (absolute paths; a no-reference sample's target is
    its input, as in the authors' manifests)."""
    entries = []
    for s in samples:
        target = s.target if s.target is not None else s.input
        entries.append({"image_path": s.input, "target_path": target, "dataset": dataset})
    return entries


def release_diffusers(python: str) -> str:
    """The diffusers version of the release's environment."""
    try:
        out = subprocess.run([python, "-c", "import diffusers; print(diffusers.__version__)"], capture_output=True,
                             text=True, check=True, timeout=300)
    except (OSError, subprocess.CalledProcessError) as err:
        raise ParityError(f"{python} cannot import diffusers ({err}): give --release-python of an environment made "
                          "from the release's requirements.txt") from None
    return out.stdout.strip()


def release_command(args: argparse.Namespace, checkpoints: list[Path], manifest: Path, out: Path) -> list[str]:
    """The release's own command line (its README's), on the prepared manifest."""
    prompt = (["--resume_path", str(checkpoints[0])] if len(checkpoints) == 1
              else ["--mixed_paths", *map(str, checkpoints)])
    return ["--model_id", args.model, "--backend", args.backbone, "--mixed_precision", "fp16", *prompt,
            "--json_path", str(manifest), "--t0", str(args.t0), "--t_min", str(args.t_min),
            "--bridge_sampler_steps", str(args.steps), "--output_dir", str(out)]


def run_release(args: argparse.Namespace, samples: Sequence[Any], checkpoints: list[Path], out: Path) -> list[dict]:
    """The release's inference on the samples; per sample (the suite's order) its metric values and prediction."""
    import numpy as np

    video = samples[0].modality == "video"
    manifest = out / "release_manifest.json"
    manifest.write_text(json.dumps(release_arrangement(release_manifest(samples, args.dataset), video)))
    dump = out / "release_dump"
    dump.mkdir(parents=True, exist_ok=True)
    driver = out / "release_driver.py"
    driver.write_text(DRIVER)
    command = [args.release_python, str(driver), str(dump), *release_command(args, checkpoints, manifest,
                                                                              out / "release_outputs")]
    env = {**os.environ, "PYTHONPATH": str(args.release)}
    with open(out / "release.log", "w") as log:
        code = subprocess.run(command, cwd=args.release, env=env, stdout=log, stderr=subprocess.STDOUT).returncode
    if code:
        raise ParityError(f"the release's inference.py failed (exit {code}); its log: {out / 'release.log'}")
    values = json.loads((dump / "metrics.json").read_text())
    if len(values) != len(samples):
        raise ParityError(f"the release scored {len(values)} of the {len(samples)} samples ({out / 'release.log'})")
    return [{"metrics": v, "pred": np.load(dump / f"{k:05d}.npy")} for k, v in enumerate(values)]


def run_suite(args: argparse.Namespace, samples: Sequence[Any], out: Path, prompts_root: Path) -> dict[str, dict]:
    """The suite's restoration and scoring of the samples; per sample id its records and metric views."""
    import baselines
    from baselines.base import RestoreConfig
    from benchmarks.evaluate import evaluate
    from benchmarks.protocol import PROTOCOL_VERSION
    from benchmarks.store import ResultStore

    method = f"ypt_{args.backbone}"
    settings = {"model": args.model, "prompts_root": str(prompts_root), "device": args.device, "dtype": "fp16",
                "num_inference_steps": args.steps, "t0": args.t0, **_geometry(args)}
    outputs = out / "suite_outputs"
    baselines.get(method).restore(samples, outputs, RestoreConfig(settings=settings, progress=False))
    store = ResultStore(out / "suite_results")
    evaluate(method, args.dataset, outputs, store, metrics=args.metrics, data_root=args.data_root or None,
             samples=list(samples), progress=False, protocol=PROTOCOL_VERSION, strict=True)
    found: dict[str, dict] = {}
    for record in store.records(method, args.dataset):
        found.setdefault(record["sample"], {})[record["metric"]] = record["value"]
    return {"outputs": outputs, "metrics": found}


def _geometry(args: argparse.Namespace) -> dict[str, Any]:
    geometry = {}
    if args.image_size:
        geometry["image_size"] = list(args.image_size)
    if args.video_size:
        geometry["video_size"] = list(args.video_size)
    return geometry


def suite_views(outputs: Path, sample: Any):
    """The suite's metric views of a sample as one ``(1, 3, T, 512, 512)`` array (T = 1 for an image)."""
    import numpy as np

    from benchmarks.metrics.resize import read_metric_view
    from benchmarks.outputs import find_video_frames, image_output_path, metric_view_path

    files = find_video_frames(outputs, sample.id) if sample.modality == "video" else [
        image_output_path(outputs, sample.id)]
    return np.stack([read_metric_view(metric_view_path(f)).numpy() for f in files], axis=2)


def compare(samples: Sequence[Any], theirs: list[dict], ours: dict, metrics: Sequence[str]) -> list[dict]:
    """One row per sample: the largest prediction difference and each metric's difference (suite - release)."""
    import numpy as np

    rows = []
    for sample, release in zip(samples, theirs):
        view = suite_views(ours["outputs"], sample)
        pred = release["pred"]
        row: dict[str, Any] = {"sample": sample.id}
        if pred.shape != view.shape:
            row["prediction"] = f"shapes differ: release {pred.shape}, suite {view.shape}"
        else:
            row["prediction_max_abs_diff"] = float(np.abs(pred.astype(np.float64) - view).max())
        mine = ours["metrics"].get(sample.id, {})
        for metric in metrics:
            name = RELEASE_METRICS[metric]
            if metric in mine and name in release["metrics"]:
                row[f"{metric}_release"] = release["metrics"][name]
                row[f"{metric}_suite"] = mine[metric]
                row[f"{metric}_diff"] = mine[metric] - release["metrics"][name]
        rows.append(row)
    return rows


def checkpoints_for(ckpts: Path, backbone: str, prompts: Sequence[str]) -> list[Path]:
    """The release's checkpoint of every prompt a set is routed to, in routing order."""
    paths = [ckpts / f"{backbone}_{p}.pt" for p in prompts]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise MissingResource(f"the release's checkpoints {', '.join(missing)} are missing (its ckpts/ folder: "
                              "--ckpts DIR)")
    return paths


def import_prompts(checkpoints: list[Path], backbone: str, root: Path, model: str) -> None:
    """The checkpoints in the suite's format where ``ypt_<backbone>`` looks, checked against the model's shapes (a
    local folder's config, else the paper's backbone), both built on the meta device."""
    from ypt.prompts import default_prompt_path, load_official, save_prompt
    from ypt.prompts.__main__ import paper_backbone_on_meta

    shapes = _local_backbone(backbone, model) if Path(model).is_dir() else paper_backbone_on_meta(backbone)
    for path in checkpoints:
        degradation = path.stem.removeprefix(f"{backbone}_")
        save_prompt(load_official(path, shapes), default_prompt_path(backbone, degradation, root=root),
                    {"source": f"official release {path.name}", "degradation": degradation})


def _local_backbone(backbone: str, model: str):
    """The adapter of a local model folder, built on the meta device from its config (shapes only)."""
    from ypt.backbones.configs import build_backbone

    config = {k: v for k, v in json.loads((Path(model) / "transformer" / "config.json").read_text()).items()
              if not k.startswith("_")}
    return build_backbone(backbone, "full", device="meta", transformer_config=config)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.parity", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--release", required=True, type=Path, help="a clone of the authors' release (github "
                                                                     "sudraj2002/YPT), holding inference.py")
    parser.add_argument("--release-python", default=sys.executable,
                        help="the python of an environment made from the release's requirements.txt (diffusers "
                             f"{RELEASE_DIFFUSERS}; default: this python)")
    parser.add_argument("--backbone", choices=("flux", "wan"), required=True)
    parser.add_argument("--dataset", required=True, help="dataset key (python -m benchmarks.datasets list)")
    parser.add_argument("--limit", type=int, default=4, help="the first N samples of the set (default 4)")
    parser.add_argument("--ckpts", type=Path, default=None, help="the release's checkpoints (default <release>/ckpts)")
    parser.add_argument("--model", default=None, help="local diffusers folder or hub id (default: the paper's)")
    parser.add_argument("--data-root", default="", help="data root (default: $YPT_DATA)")
    parser.add_argument("--metrics", default="psnr,ssim,lpips,dists,clipiqa,musiq",
                        help="comma list of metrics compared (default: every image metric the release computes)")
    parser.add_argument("--device", default="cuda", help="the suite's device (the release runs on cuda)")
    parser.add_argument("--out", type=Path, default=Path("results/parity"), help="where both runs and the report go")
    parser.add_argument("--steps", type=int, default=NUM_INFERENCE_STEPS, help=argparse.SUPPRESS)
    parser.add_argument("--t0", type=float, default=T0, help=argparse.SUPPRESS)
    parser.add_argument("--t-min", type=float, default=T_MIN, help=argparse.SUPPRESS)
    parser.add_argument("--image-size", type=int, nargs=2, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--video-size", type=int, nargs=2, default=None, help=argparse.SUPPRESS)
    add_debug_argument(parser)
    return parser


@entry_point
def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from baselines.prompt_routing import prompts_for
    from benchmarks import datasets
    from ypt.backbones import DEFAULT_MODEL_IDS

    args.metrics = [m for m in args.metrics.split(",") if m]
    unknown = sorted(set(args.metrics) - set(RELEASE_METRICS))
    if unknown:
        raise ParityError(f"the release computes no {', '.join(unknown)}; choose from {', '.join(RELEASE_METRICS)}")
    if not (args.release / "inference.py").is_file():
        raise ParityError(f"{args.release} holds no inference.py: give --release a clone of github sudraj2002/YPT")
    version = release_diffusers(args.release_python)
    if args.backbone == "wan" and version != RELEASE_DIFFUSERS:
        raise ParityError(f"{args.release_python} has diffusers {version}: the release's WAN prompts only act under "
                          f"diffusers {RELEASE_DIFFUSERS} (newer WAN blocks call attn2 positionally and its wrappers "
                          "fall back to the unprompted attention); make its environment from its requirements.txt")
    args.model = args.model or DEFAULT_MODEL_IDS[args.backbone]
    spec = datasets.get(args.dataset)
    if spec.modality != ("video" if args.backbone == "wan" else "image"):
        raise ParityError(f"{args.dataset} is a {spec.modality} set; the {args.backbone} release restores "
                          f"{'clips' if args.backbone == 'wan' else 'images'}")
    samples = spec.samples(args.data_root or None)[: args.limit]
    if not samples:
        raise ParityError(f"no samples of {args.dataset} found")
    layout = next((found for found in spec.layouts if found.name == samples[0].layout), None)
    if layout is None or spec.manifest_path(layout, spec.root_for(args.data_root or None)) is None:
        print(f"note: no authors' manifest for {args.dataset} was found: both sides run the folder walk's first "
              f"{len(samples)} samples, which need not be the authors' first ones")
    checkpoints = checkpoints_for(args.ckpts or args.release / "ckpts", args.backbone,
                                  prompts_for(args.dataset, samples[0].degradation))
    out = args.out.resolve() / f"{args.backbone}-{args.dataset}"
    out.mkdir(parents=True, exist_ok=True)
    import_prompts(checkpoints, args.backbone, out / "prompts", args.model)
    theirs = run_release(args, samples, checkpoints, out)
    ours = run_suite(args, samples, out, out / "prompts")
    rows = compare(samples, theirs, ours, args.metrics)
    report = {"release": str(args.release), "release_diffusers": version, "backbone": args.backbone,
              "dataset": args.dataset, "samples": len(samples), "device": _device_name(args.device), "rows": rows}
    _write(out, rows, report)
    _print(rows, report)
    return 0


def _device_name(device: str) -> str:
    import torch

    if device.startswith("cuda") and torch.cuda.is_available():
        props = torch.cuda.get_device_properties(torch.device(device))
        return f"{props.name} ({props.multi_processor_count} SMs)"
    return device


def _write(out: Path, rows: list[dict], report: dict) -> None:
    import pandas as pd

    from ypt.files import atomic_write_text

    atomic_write_text(out / "parity.json", json.dumps(report, indent=2))
    atomic_write_text(out / "parity.csv", pd.DataFrame(rows).to_csv(index=False, float_format="%.9g"))


def _print(rows: list[dict], report: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    columns = ["sample", "prediction_max_abs_diff", *sorted({k for r in rows for k in r if k.endswith("_diff")
                                                             and k != "prediction_max_abs_diff"})]
    table = Table(title=f"release vs suite: {report['backbone']} on {report['dataset']}, {report['samples']} "
                        f"sample(s), {report['device']}")
    for column in columns:
        table.add_column(column, justify="left" if column == "sample" else "right")
    for row in rows:
        table.add_row(*[row.get(c, row.get("prediction", "")) if c == "prediction_max_abs_diff" and c not in row
                        else (f"{row[c]:.3g}" if isinstance(row.get(c), float) else str(row.get(c, "")))
                        for c in columns])
    Console().print(table)


if __name__ == "__main__":
    raise SystemExit(main())
