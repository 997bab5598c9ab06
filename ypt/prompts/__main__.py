"""``python -m ypt.prompts``: inspect prompt files and import the authors' released WAN prompts.

    python -m ypt.prompts import-official --src DIR [--root DIR]   # wan_<degradation>.pt -> our format
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


def wan_1_3b_on_meta() -> Backbone:
    """The WAN 2.1 1.3B adapter with no weights (meta device): its numbers check the official prompts' shapes."""
    from ypt.backbones.configs import build_backbone

    return build_backbone("wan", "full", device="meta")


def import_official(src: Path, root: str | None, t0: float) -> list[Path]:
    from ypt.prompts import default_prompt_path, load_official_wan, save_prompt

    files = sorted(src.glob("wan_*.pt"))
    if not files:
        raise MissingPrompt(f"no wan_*.pt in {src}: download the authors' release (github sudraj2002/YPT, ckpts/)")
    backbone = wan_1_3b_on_meta()
    written = []
    for file in files:
        degradation = file.stem.removeprefix("wan_")
        prompt = load_official_wan(file, backbone)
        out = default_prompt_path("wan", degradation, "residual", "ebr", t0, root=root)
        meta = {"backbone": "wan", "model_id": backbone.default_model_id, "variant": "residual",
                "bridge": "ebr", "t0": t0, "degradation": degradation, "source": f"official release {file.name}"}
        written.append(save_prompt(prompt, out, meta))
    return written


@entry_point
def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ypt.prompts", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_debug_argument(parser)
    sub = parser.add_subparsers(dest="command", required=True)
    imp = sub.add_parser("import-official", help="convert the authors' wan_*.pt prompts to ypt-bench prompt files")
    imp.add_argument("--src", required=True, type=Path, help="folder holding wan_haze.pt, wan_rain.pt, ...")
    imp.add_argument("--root", default=None, help="prompt root (default $YPT_PROMPTS or ~/.cache/ypt-bench/prompts)")
    imp.add_argument("--t0", type=float, default=T0, help=f"T0 the prompts were trained with (paper: {T0})")
    show = sub.add_parser("show", help="print a prompt file's sidecar and tensor shapes")
    show.add_argument("file", type=Path)
    for command in (imp, show):
        add_debug_argument(command)
    args = parser.parse_args(argv)
    if args.command == "import-official":
        for path in import_official(args.src, args.root, args.t0):
            print(path)
    else:
        import json

        from ypt.prompts import read_official, read_sidecar
        if args.file.suffix == ".pt":
            print({k: tuple(v.shape) for k, v in read_official(args.file).items()})
        else:
            print(json.dumps(read_sidecar(args.file), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
