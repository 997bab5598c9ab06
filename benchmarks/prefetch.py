"""Download every weight a table needs, on a login node with internet, into the standard caches.

    python -m benchmarks.prefetch table2 table3 [--backbones flux,wan] [--dry-run]
    python -m benchmarks.prefetch --metrics lpips,dists,dover
    python -m benchmarks.prefetch --baselines autodir,dfpir,viwsnet

Metric weights go where the metrics look for them (``$TORCH_HOME/hub``: torchvision checkpoints in
``checkpoints/``, pyiqa's in ``pyiqa/``, OpenAI CLIP in ``clip/``). DOVER's ``DOVER.pth`` goes into the DOVER
clone's ``pretrained_weights/`` (the clone itself must be installed first: the command prints how), and the ImageNet
ConvNeXt its model build downloads into ``$TORCH_HOME/hub/checkpoints/``. What the tables' external baselines
download when they run (AutoDIR's CLIP ViT-L/14 into the Hugging Face cache, DFPIR's CLIP ViT-B/32 into
``~/.cache/clip``, PixWizard's CLIP ViT-L/14-336 unless ``clip_path`` is set) goes where each baseline's own
environment looks (its ``env`` table in the baselines config over ours); ``--baselines`` names methods instead of
tables and adds what their training downloads (ViWS-Net's VGG16).
``--backbones flux,wan`` also snapshots FLUX.1-dev and/or WAN 2.1 T2V 1.3B into the Hugging Face cache (``$HF_HOME``;
FLUX.1-dev is gated: accept its license and ``huggingface-cli login`` first). Compute nodes then run with
``HF_HUB_OFFLINE=1`` and the same ``TORCH_HOME`` / ``HF_HOME``. Tables come from :mod:`benchmarks.tables`.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ypt.cli import add_debug_argument, entry_point
from ypt.errors import RunFailed, UsageError

OFFLINE_HINT = ("Run prefetch on a node with internet (a login node) with the same TORCH_HOME / HF_HOME, or copy "
                "the files there; --dry-run lists them with their URLs")


def table_needs(tables) -> tuple[list[str], list[str]]:
    """(metric keys, backbone keys) the tables need, from their specs in :mod:`benchmarks.tables`."""
    from benchmarks.tables import get

    metrics: list[str] = []
    backbones: list[str] = []
    for key in tables:
        spec = get(key)
        for group in spec.groups:
            metrics += [m for m in group.metrics if m not in metrics]
        wanted = [spec.backbone] if getattr(spec, "backbone", None) else ["flux", "wan"]
        backbones += [b for b in wanted if b not in backbones]
    return metrics, backbones


def table_methods(tables) -> list[str]:
    """The method rows of the tables (ablation rows, which are not methods, left out)."""
    import baselines
    from benchmarks.tables import get

    found: list[str] = []
    for key in tables:
        spec = get(key)
        found += [m for m in getattr(spec, "methods", ()) if m in baselines.METHODS and m not in found]
    return found


def plan(metrics: list[str]) -> list[tuple[str, str, Path]]:
    """``(metric, url, destination)`` for every weight file not yet cached (DOVER's ConvNeXt checkpoint always,
    its ``DOVER.pth`` when its clone is known)."""
    from benchmarks.metrics import missing_weights
    from benchmarks.metrics.dover import WEIGHTS_URL, weights_path

    out = []
    for name in metrics:
        out += [(name, w.url, w.path) for w in missing_weights(name)]
        if name == "dover":  # DOVER.pth goes into the clone, found only once it is installed
            dest = weights_path()
            if dest is not None and not dest.is_file():
                out.append((name, WEIGHTS_URL, dest))
    return out


def baseline_plan(methods, training: bool = False, config: str | None = None) -> list[tuple[str, object, dict, bool]]:
    """``(method, RuntimeDownload, environment, cached)`` for everything the methods' upstream code downloads when
    it runs (and trains, with ``training``), in the environment each runs in (baselines config ``env`` over ours)."""
    import baselines
    from baselines.config import method_settings, run_environment

    out = []
    for key in methods:
        method = baselines.get(key)
        if not method.spec.external:
            continue
        settings = method_settings(key, config)
        env = run_environment(settings)
        wanted = method.runtime_downloads(settings) + (method.runtime_downloads(settings, "train") if training else [])
        out += [(key, d, env, d.present(env)) for d in wanted]
    return out


@entry_point
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.prefetch", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("tables", nargs="*", help="tables whose weights to fetch (default: every table)")
    parser.add_argument("--metrics", default=None, help="comma list of metrics instead of tables")
    parser.add_argument("--baselines", default=None,
                        help="comma list of methods instead of tables: what their upstream code downloads when it "
                             "runs or trains")
    parser.add_argument("--config", default=None, help="baselines TOML config (default $YPT_BASELINES_CONFIG or "
                                                       "~/.config/ypt-bench/baselines.toml)")
    parser.add_argument("--backbones", default=None,
                        help="comma list of backbones (flux, wan) to snapshot into the Hugging Face cache too")
    parser.add_argument("--dry-run", action="store_true", help="list what would be downloaded; download nothing")
    add_debug_argument(parser)
    args = parser.parse_args(argv)

    from benchmarks.metrics import spec as metric_spec
    from benchmarks.runner.options import split_list
    from ypt.backbones import DEFAULT_MODEL_IDS

    import baselines

    backbones = list(split_list(args.backbones) or ())
    unknown = [b for b in backbones if b not in DEFAULT_MODEL_IDS]
    if unknown:
        raise UsageError(f"unknown backbone {', '.join(unknown)}: --backbones takes a comma list of "
                         f"{', '.join(DEFAULT_MODEL_IDS)}")
    needed: list[str] = []
    methods: list[str] = []
    if args.metrics or args.baselines:
        metrics = list(split_list(args.metrics) or ())
        for name in metrics:
            metric_spec(name)  # unknown names: UnknownKeyError with close matches
        methods = list(split_list(args.baselines) or ())
        for name in methods:
            baselines.get(name)  # likewise
    else:
        from benchmarks.tables import TABLES

        tables = args.tables or list(TABLES)
        metrics, needed = table_needs(tables)
        methods = table_methods(tables)
    verb = "would fetch" if args.dry_run else "fetching"
    todo = plan(metrics)
    for name, url, dest in todo:
        print(f"{verb} [{name}] {url} -> {dest}")
    downloads = baseline_plan(methods, training=bool(args.baselines), config=args.config)
    for key, d, env, cached in downloads:
        what = f"{d.source} ({'Hugging Face snapshot' if d.kind == 'hf' else 'file'}; {d.requested_at})"
        print(f"{'cached' if cached else verb} [{key}] {what} -> {d.target(env)}")
    if "dover" in metrics:
        from benchmarks.metrics.dover import dover_problem

        problem = dover_problem()
        if problem and not any(str(dest) in problem for _, _, dest in todo):  # not a file this command fetches
            print(f"[dover] not a download this command does: {problem}")
    for key in backbones:
        print(f"{'would snapshot' if args.dry_run else 'snapshotting'} [{key}] {DEFAULT_MODEL_IDS[key]} "
              "into the Hugging Face cache")
    if [b for b in needed if b not in backbones]:
        print(f"the tables also run the backbones {','.join(needed)}: add --backbones {','.join(needed)} to "
              "snapshot them")
    missing_downloads = [(d, env) for _, d, env, cached in downloads if not cached]
    if not todo and not backbones and not missing_downloads:
        print("every weight is already cached")
    if args.dry_run:
        return 0
    from torch.hub import download_url_to_file

    from baselines.downloads import fetch

    for _, url, dest in todo:
        dest.parent.mkdir(parents=True, exist_ok=True)
        try:
            download_url_to_file(url, str(dest), progress=True)
        except OSError as err:  # offline (a compute node), refused, or the disk
            raise RunFailed(f"cannot fetch {url} -> {dest}: {err}. {OFFLINE_HINT}") from None
    for d, env in missing_downloads:
        try:
            fetch(d, env)
        except OSError as err:  # offline (a compute node), refused, or the disk
            raise RunFailed(f"cannot fetch {d.source} -> {d.target(env)}: {err}. {OFFLINE_HINT}") from None
    if backbones:
        from huggingface_hub import snapshot_download

        for key in backbones:
            try:
                snapshot_download(DEFAULT_MODEL_IDS[key])
            except (OSError, ValueError) as err:  # offline (HF_HUB_OFFLINE=1 or no network), gated, refused
                raise RunFailed(f"cannot snapshot {DEFAULT_MODEL_IDS[key]}: {type(err).__name__}: {err}. "
                                f"{OFFLINE_HINT}") from None
    return 0


if __name__ == "__main__":
    sys.exit(main())
