"""Download every weight a table needs, on a login node with internet, into the standard caches.

    python -m benchmarks.prefetch table2 table3 [--backbones] [--dry-run]
    python -m benchmarks.prefetch --metrics lpips,dists

Metric weights go where the metrics look for them (``$TORCH_HOME/hub``: torchvision checkpoints, pyiqa, CLIP);
``--backbones`` also snapshots FLUX.1-dev and/or WAN 2.1 1.3B into the Hugging Face cache (``$HF_HOME``; FLUX.1-dev
is gated: accept its license and ``huggingface-cli login`` first). DOVER comes from its own repository and is
listed with its install step. Compute nodes then run with ``HF_HUB_OFFLINE=1``.
"""
from __future__ import annotations

import argparse
import sys

BACKBONES = {"flux": "black-forest-labs/FLUX.1-dev", "wan": "Wan-AI/Wan2.1-T2V-1.3B-Diffusers"}


def table_needs(tables: list[str]) -> tuple[list[str], list[str]]:
    """(metric keys, backbone keys) the tables need."""
    from benchmarks.tables import get

    metrics: list[str] = []
    backbones: list[str] = []
    for key in tables:
        spec = get(key)
        for group in spec.groups:
            metrics += [m for m in group.metrics if m not in metrics]
        wanted = [spec.backbone] if spec.backbone else ["flux", "wan"]
        backbones += [b for b in wanted if b not in backbones]
    return metrics, backbones


def plan(metrics: list[str]) -> list[tuple[str, str, str]]:
    """``(metric, url, destination)`` for every weight file not yet cached."""
    from benchmarks.metrics.specs import SPECS

    out = []
    for name in metrics:
        for weight in SPECS[name].weights:
            if not weight.path.is_file():
                out.append((name, weight.url, str(weight.path)))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.prefetch", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("tables", nargs="*", help="tables whose weights to fetch (default: all)")
    parser.add_argument("--metrics", default=None, help="comma list of metrics instead of tables")
    parser.add_argument("--backbones", action="store_true", help="also snapshot the FLUX / WAN backbones")
    parser.add_argument("--dry-run", action="store_true", help="list what would be downloaded; download nothing")
    args = parser.parse_args(argv)

    from benchmarks.tables import TABLES

    if args.metrics:
        metrics, backbones = [m for m in args.metrics.split(",") if m], []
    else:
        metrics, backbones = table_needs(args.tables or TABLES.keys())
    todo = plan([m for m in metrics if m != "dover"])
    for name, url, dest in todo:
        print(f"{'would fetch' if args.dry_run else 'fetching'} [{name}] {url} -> {dest}")
    if "dover" in metrics:
        from benchmarks.metrics.dover import INSTALL, dover_problem

        problem = dover_problem()
        print(f"[dover] {'ready' if problem is None else 'not ready: ' + problem}" +
              ("" if problem is None else f"\n        install: {INSTALL}"))
    if args.backbones:
        for key in backbones:
            print(f"{'would snapshot' if args.dry_run else 'snapshotting'} [{key}] {BACKBONES[key]} into the HF cache")
    if not todo and not args.backbones:
        print("every metric weight is already cached")
    if args.dry_run:
        return 0
    from pathlib import Path

    from torch.hub import download_url_to_file

    for _, url, dest in todo:
        Path(dest).parent.mkdir(parents=True, exist_ok=True)
        download_url_to_file(url, dest, progress=True)
    if args.backbones:
        from huggingface_hub import snapshot_download

        for key in backbones:
            snapshot_download(BACKBONES[key])
    return 0


if __name__ == "__main__":
    sys.exit(main())
