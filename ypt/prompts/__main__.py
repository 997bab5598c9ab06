"""``python -m ypt.prompts``: inspect prompt files and import the authors' released WAN prompts.

    python -m ypt.prompts import-official --src DIR [--root DIR]   # wan_<degradation>.pt -> our format
    python -m ypt.prompts show FILE
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path


def wan_1_3b_on_meta():
    """WAN 2.1 1.3B transformer with no weights (meta device): enough to check prompt shapes."""
    from ypt.backbones.configs import transformer_on_meta

    return transformer_on_meta("wan")


def import_official(src: Path, root: str | None, t0: float) -> list[Path]:
    from ypt.prompts import default_prompt_path, load_official_wan, save_prompt

    transformer = wan_1_3b_on_meta()
    written = []
    files = sorted(src.glob("wan_*.pt"))
    if not files:
        raise FileNotFoundError(f"no wan_*.pt in {src}: download the authors' release (github sudraj2002/YPT, ckpts/)")
    for file in files:
        degradation = file.stem.removeprefix("wan_")
        prompt = load_official_wan(file, transformer)
        out = default_prompt_path("wan", degradation, "residual", "ebr", t0, root=root)
        meta = {"backbone": "wan", "model_id": "Wan-AI/Wan2.1-T2V-1.3B-Diffusers", "variant": "residual",
                "bridge": "ebr", "t0": t0, "degradation": degradation, "source": f"official release {file.name}"}
        written.append(save_prompt(prompt, out, meta))
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ypt.prompts", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    imp = sub.add_parser("import-official", help="convert the authors' wan_*.pt prompts to ypt-bench prompt files")
    imp.add_argument("--src", required=True, type=Path, help="folder holding wan_haze.pt, wan_rain.pt, ...")
    imp.add_argument("--root", default=None, help="prompt root (default $YPT_PROMPTS or ~/.cache/ypt-bench/prompts)")
    imp.add_argument("--t0", type=float, default=0.4, help="T0 the prompts were trained with (paper: 0.4)")
    show = sub.add_parser("show", help="print a prompt file's sidecar and tensor shapes")
    show.add_argument("file", type=Path)
    args = parser.parse_args(argv)
    try:
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
    except (FileNotFoundError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
