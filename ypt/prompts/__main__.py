"""``python -m ypt.prompts``: inspect prompt files and import the authors' released prompts (FLUX and WAN).

    python -m ypt.prompts import-official --src DIR [--root DIR]   # flux_<degradation>.pt, wan_<degradation>.pt -> ours
    python -m ypt.prompts show FILE
"""
from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ypt.cli import add_debug_argument, entry_point
from ypt.defaults import T0
from ypt.errors import MissingPrompt

if TYPE_CHECKING:
    from ypt.backbones.base import Backbone

#: the release's checkpoint names: ``<backbone>_<degradation>.pt``
OFFICIAL_PATTERN = "{backbone}_*.pt"


def paper_backbone_on_meta(backbone: str) -> Backbone:
    """The paper's ``backbone`` (FLUX.1-dev, WAN 2.1 1.3B) with no weights (meta device): its real block counts and
    prompt width check the official prompts' shapes."""
    from ypt.backbones.configs import build_backbone

    return build_backbone(backbone, "full", device="meta")


def official_files(src: Path) -> dict[str, list[Path]]:
    """``{backbone: [checkpoints]}`` of the release's ``flux_*.pt`` / ``wan_*.pt`` in ``src``."""
    from ypt.prompts.files import OFFICIAL_BACKENDS

    found = {b: sorted(src.glob(OFFICIAL_PATTERN.format(backbone=b))) for b in OFFICIAL_BACKENDS}
    return {b: files for b, files in found.items() if files}


def import_official(src: Path, root: str | None, t0: float) -> list[Path]:
    """Convert every ``flux_*.pt`` / ``wan_*.pt`` in ``src`` (each checked against the paper's backbone) into our
    prompt files where ``ypt_flux`` / ``ypt_wan`` and the training plan look."""
    from ypt.prompts import default_prompt_path, load_official, save_prompt

    files = official_files(src)
    if not files:
        raise MissingPrompt(f"no flux_*.pt or wan_*.pt in {src}: download the authors' release (github "
                            "sudraj2002/YPT, ckpts/)")
    written = []
    for backbone_name, paths in files.items():
        backbone = paper_backbone_on_meta(backbone_name)
        for file in paths:
            degradation = file.stem.removeprefix(f"{backbone_name}_")
            prompt = load_official(file, backbone)
            out = default_prompt_path(backbone_name, degradation, "residual", "ebr", t0, root=root)
            meta = {"backbone": backbone_name, "model_id": backbone.default_model_id, "variant": "residual",
                    "bridge": "ebr", "t0": t0, "degradation": degradation, "source": f"official release {file.name}"}
            written.append(save_prompt(prompt, out, meta))
    return written


def show_official(path: Path) -> str:
    """An official checkpoint's backend and shapes, checked against the paper's backbone of that backend."""
    from ypt.prompts.files import load_official, read_official

    state = read_official(path)
    backbone = paper_backbone_on_meta(state["backend"])
    load_official(path, backbone)  # refuses a mismatch, naming the file's and the model's shapes
    shapes = {k: tuple(v.shape) for k, v in state.items() if k != "backend"}
    return (f"{path.name}: backend {state['backend']}, {shapes}; fits {backbone.label} "
            f"({backbone.num_gates} prompted blocks, prompt width {backbone.prompt_width})")


@entry_point
def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ypt.prompts", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    imp = sub.add_parser("import-official",
                         help="convert the authors' flux_*.pt and wan_*.pt prompts to ypt-bench prompt files")
    imp.add_argument("--src", required=True, type=Path, help="folder holding flux_haze.pt, wan_haze.pt, ...")
    imp.add_argument("--root", default=None, help="prompt root (default $YPT_PROMPTS or ~/.cache/ypt-bench/prompts)")
    imp.add_argument("--t0", type=float, default=T0, help=f"T0 the prompts were trained with (paper: {T0})")
    show = sub.add_parser("show", help="print a prompt file's sidecar, or an official .pt's shapes checked against "
                                       "the paper's backbone")
    show.add_argument("file", type=Path)
    add_debug_argument(parser)  # after the subcommands: it adds --debug to each of them too
    args = parser.parse_args(argv)
    if args.command == "import-official":
        for path in import_official(args.src, args.root, args.t0):
            print(path)
    else:
        import json

        from ypt.prompts import read_sidecar
        if args.file.suffix == ".pt":
            print(show_official(args.file))
        else:
            print(json.dumps(read_sidecar(args.file), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
