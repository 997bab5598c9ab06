"""``python -m benchmarks.datasets``: list the registry and check what is on disk (no torch import).

    python -m benchmarks.datasets list [--role ood]
    python -m benchmarks.datasets check [--deep] [--data-root DIR] [KEY|GROUP ...]
"""
from __future__ import annotations

import argparse
import sys

from ypt.cli import add_debug_argument, entry_point


def _list(role: str | None) -> int:
    from rich.console import Console
    from rich.table import Table

    from benchmarks import datasets

    table = Table(title="Datasets", header_style="bold")
    table.add_column("key", no_wrap=True)
    for col in ("name", "role", "modality", "degradation", "reference", "expected"):
        table.add_column(col)
    for key in datasets.keys():  # noqa: SIM118  (a module function, not a dict)
        s = datasets.get(key)
        if role and s.role != role:
            continue
        table.add_row(key, s.display_name, s.role, s.modality, "+".join(s.degradation), "yes" if s.paired else "no",
                      str(s.expected_count or "?"))
    console = Console()
    console.print(table)
    for key, (title, members) in datasets.GROUPS.items():
        console.print(f"group [bold]{key}[/bold] ({title}): {' '.join(members)}")
    return 0


def check_one(spec, root, deep: bool = False) -> tuple[str, str]:
    """(status, detail): status is found, missing, mismatch or error (expected failures are reported, not raised).
    ``deep``: also decode every input and target file and compare each target's size with its input's."""
    from ypt.errors import MissingData, YPTError

    try:
        samples = spec.samples(root)
    except YPTError as err:
        return ("missing" if isinstance(err, MissingData) else "error"), str(err)
    except OSError as err:
        return "error", f"{spec.key}: cannot read the dataset folder: {err}"
    except Exception as err:  # noqa: BLE001  (a bug in one spec is named by its type; the other sets are checked)
        return "error", f"{spec.key}: {type(err).__name__}: {err}"
    manifest, differences = manifest_report(spec, root, samples)  # how the folder differs explains a mismatch too
    if spec.expected_count is not None and len(samples) != spec.expected_count:
        return "mismatch", "\n".join([f"{len(samples)} samples, expected {spec.expected_count}"
                                       + (f" ({spec.notes})" if spec.notes else ""), *differences])
    found = f"{len(samples)} samples" + (f" (the authors' manifest {manifest})" if manifest else "")
    if deep:
        problems = deep_problems(samples)
        if problems:
            shown = "\n".join(problems[:10]) + (f"\n... and {len(problems) - 10} more" if len(problems) > 10 else "")
            return "error", f"{found}, {len(problems)} with a file problem:\n{shown}"
        found += ", every file decodes and every target matches its input's size"
    return "found", "\n".join([found, *differences])


def manifest_report(spec, root, samples) -> tuple[str, list[str]]:
    """(the manifest the samples come from, or "", and how the folder walk differs from it: samples only in the
    folder, only in the manifest, clips with other frames, manifest files missing)."""
    from benchmarks.datasets.manifests import differences

    if not hasattr(spec, "manifest_path"):  # a set registered at run time without layouts
        return "", []
    layout, base = spec.find_layout(root)
    manifest = spec.manifest_path(layout, base)
    if manifest is None:
        return "", []
    return str(manifest), differences(samples, spec.walk(layout, base))


def deep_problems(samples) -> list[str]:
    """One line per sample file that does not decode, and per target whose size differs from its input's."""
    from benchmarks.datasets import SAMPLE_FAULTS, read_image

    problems = []
    for sample in samples:
        inputs = sample.input if sample.modality == "video" else [sample.input]
        targets = (sample.target if sample.modality == "video" else [sample.target]) if sample.target else []
        sizes = {}
        for role, files in (("input", inputs), ("target", targets)):
            for index, path in enumerate(files):
                try:
                    sizes[(role, index)] = read_image(path).shape[:2]
                except SAMPLE_FAULTS as err:
                    problems.append(f"sample {sample.id}: {role} {path}: {err}")
        for index, path in enumerate(targets):
            source, target = sizes.get(("input", index)), sizes.get(("target", index))
            if source is not None and target is not None and source != target:
                problems.append(f"sample {sample.id}: target {path} is {target[1]}x{target[0]}, its input "
                                f"{inputs[index]} {source[1]}x{source[0]}")
    return problems


def _check(keys: list[str], root: str | None, deep: bool = False) -> int:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from benchmarks import datasets
    from benchmarks.datasets.roots import data_root, overrides

    console = Console()
    keys = [m for k in keys for m in (datasets.GROUPS[k][1] if k in datasets.GROUPS else (k,))]  # groups expand
    specs = [datasets.get(k) for k in keys] if keys else [datasets.get(k) for k in datasets.keys()]  # noqa: SIM118
    if not any(getattr(s, "home", None) for s in specs) and not set(overrides()) & {s.key for s in specs}:
        data_root(root)  # every set needs the data root: one message instead of one per set
    table = Table(title="Dataset check", header_style="bold", show_lines=True)
    table.add_column("key", no_wrap=True)
    table.add_column("status", no_wrap=True)
    table.add_column("detail", overflow="fold")
    bad = 0
    colours = {"found": "green", "missing": "red", "mismatch": "yellow", "error": "red"}
    with console.status("") as status_line:   # large sets (Snow100K, RESIDE OTS) take seconds to walk
        for spec in specs:
            status_line.update(f"checking {spec.key} ...")
            status, detail = check_one(spec, root, deep)
            bad += status != "found"
            table.add_row(spec.key, f"[{colours[status]}]{status}[/]", escape(detail))
    console.print(table)
    console.print(f"{len(specs) - bad} of {len(specs)} datasets found as expected")
    return 1 if bad else 0


@entry_point
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.datasets", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    lst = sub.add_parser("list", help="every dataset: key, role, modality, expected count")
    lst.add_argument("--role", choices=("train", "wd-test", "ood", "mixed", "unseen", "demo"))
    chk = sub.add_parser("check", help="found / missing / count mismatch per dataset, with where to get it")
    chk.add_argument("keys", nargs="*", metavar="KEY", help="dataset keys or groups (wd_image, wd_video); default all")
    chk.add_argument("--deep", action="store_true",
                     help="also decode every file and compare each target's size with its input's (slow)")
    chk.add_argument("--data-root", default=None,
                     help="data root (default: $YPT_DATA); per-dataset folders in $YPT_DATA_CONFIG "
                          "(default ~/.config/ypt-bench/datasets.toml) under [roots]")
    add_debug_argument(parser)
    args = parser.parse_args(argv)
    if args.command == "list":
        return _list(args.role)
    return _check(args.keys, args.data_root, args.deep)


if __name__ == "__main__":
    sys.exit(main())
