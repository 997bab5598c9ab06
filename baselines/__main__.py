"""``python -m baselines``: list methods, check a method's setup, scaffold a new one, restore a dataset.

    python -m baselines list
    python -m baselines check autodir
    python -m baselines new mymethod
    python -m baselines restore dcp --dataset hazerd --out runs/dcp/hazerd [--data-root DIR] [--outputs DIR]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ypt.cli import add_debug_argument, entry_point


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m baselines", description="Compared methods behind one interface.")
    p.add_argument("--config", help="baselines TOML config (default $YPT_BASELINES_CONFIG or "
                                    "~/.config/ypt-bench/baselines.toml)")
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="methods, what they cover, and whether they are ready to run")
    c = sub.add_parser("check", help="repository, environment and checkpoints of one method, with fixes")
    c.add_argument("method")
    n = sub.add_parser("new", help="scaffold baselines/methods/NAME.py and its test")
    n.add_argument("name")
    n.add_argument("--methods-dir", type=Path, default=None, help="default: the baselines/methods folder")
    n.add_argument("--tests-dir", type=Path, default=None, help="default: <repository>/tests")
    r = sub.add_parser("restore", help="restore every sample of a dataset into a folder (one output per id)")
    r.add_argument("method")
    r.add_argument("--dataset", required=True, help="dataset key of benchmarks.datasets")
    r.add_argument("--out", required=True, type=Path)
    r.add_argument("--data-root", type=Path, default=None, help="root folder of the dataset")
    r.add_argument("--outputs", type=Path, default=None,
                   help="import precomputed outputs from this folder (matched by sample id) instead of running")
    r.add_argument("--keep-work", action="store_true", help="keep the staging folder <out>/_work")
    r.add_argument("--resume", action="store_true", help="restore only samples without an output in --out")
    add_debug_argument(p)
    return p


def _settings(key: str, config: str | None) -> dict:
    from baselines.config import method_settings

    return method_settings(key, config)


def cmd_list(args) -> int:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    import baselines

    table = Table(title="methods (python -m baselines check KEY for details)")
    for col in ("key", "name", "modalities", "trained for", "runs", "ready"):
        table.add_column(col)
    for key in baselines.keys():
        try:
            method = baselines.get(key)
        except Exception as exc:  # one broken file must not hide the others; say which and why
            table.add_row(key, "-", "-", "-", "-", f"[red]cannot import: {escape(f'{type(exc).__name__}: {exc}')}[/red]")
            continue
        spec = method.spec
        problems = method.readiness(_settings(key, args.config))
        ready = f"[yellow]no ({len(problems)} missing)[/yellow]" if problems else "[green]yes[/green]"
        runs = f"upstream {spec.upstream_repo}" if spec.external else spec.invocation.split(":")[0]
        table.add_row(key, spec.display_name, ",".join(spec.modalities), ",".join(spec.degradations), runs, ready)
    Console(width=160).print(table)
    return 0


def cmd_check(args) -> int:
    import baselines
    from baselines.config import config_path

    method = baselines.get(args.method)
    spec = method.spec
    print(f"{spec.key}: {spec.display_name}" + (f"  ({spec.upstream_repo} @ {spec.upstream_commit})"
                                               if spec.upstream_repo else ""))
    print(f"  invocation: {spec.invocation}")
    print(f"  resolution: {spec.resolution}")
    if spec.weights_note:
        print(f"  weights: {spec.weights_note}")
    settings = _settings(spec.key, args.config)
    if spec.external:
        print(f"  config: [{spec.key}] in {args.config or config_path()}")
        head = method.repo_head(settings)
        if head and head != spec.upstream_commit:
            print(f"  warning: the clone is at {head}, the wrapper was written against {spec.upstream_commit} "
                  f"(git -C {settings.get('repo')} checkout {spec.upstream_commit})")
    problems = method.readiness(settings)
    if not problems and spec.external:  # everything is there: the checksums and keys, in upstream's environment
        problems = method.verify(settings)
    if not problems:
        print("  ready")
        return 0
    print(f"  not ready ({len(problems)} missing):")
    for problem in problems:
        print(f"  - {problem.what}\n      fix: {problem.fix}")
    return 1


def cmd_new(args) -> int:
    from baselines import METHODS_DIR
    from baselines.scaffold import scaffold

    methods_dir = args.methods_dir or METHODS_DIR
    tests_dir = args.tests_dir or METHODS_DIR.parents[1] / "tests"
    method_file, test_file = scaffold(args.name, methods_dir, tests_dir)
    print(f"created {method_file}\ncreated {test_file}\n"
          f"next: adapt SPEC, the argument list and the output naming to the upstream script; "
          f"run pytest {test_file}")
    return 0


def cmd_restore(args) -> int:
    import baselines
    from baselines.base import RestoreConfig

    from benchmarks import datasets

    method = baselines.get(args.method)
    dataset = datasets.get(args.dataset)
    samples = list(dataset.samples(args.data_root))  # missing data / wrong layout: the registry says where to get it
    config = RestoreConfig(settings=_settings(method.key, args.config), precomputed=args.outputs,
                           keep_work=args.keep_work, resume=args.resume)
    report = method.restore(samples, args.out, config)
    print(f"{method.key}: {len(report.outputs)} outputs in {report.out_dir} ({report.seconds:.1f} s)"
          + (f"; log {report.log}" if report.log else ""))
    return 0


@entry_point
def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    handler = {"list": cmd_list, "check": cmd_check, "new": cmd_new, "restore": cmd_restore}[args.command]
    return handler(args)


if __name__ == "__main__":
    sys.exit(main())
