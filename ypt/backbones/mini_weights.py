"""Where the miniature backbone's prior lives and whether it is the one its sidecar records (no torch import).

The prior is ``ypt/assets/mini_prior.safetensors`` (the transformer's weights) with ``mini_prior.json`` beside it:
the pretraining recipe (photos and their sha256, steps, batch, learning rate, seed, code version), the transformer's
config, its quality on held-out photos and the weights' sha256. A file whose sha256 differs from its sidecar is
refused, with the command that rebuilds it (:mod:`ypt.mini_prior`).
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from ypt.errors import MissingModel
from ypt.files import file_sha256

PRIOR_LABEL = "miniature FLUX-architecture prior (pixel space, CPU)"
#: the packaged prior
PRIOR_PATH = Path(__file__).resolve().parent.parent / "assets" / "mini_prior.safetensors"
REBUILD = "python -m ypt.mini_prior --out {path}"


def sidecar_path(weights: str | os.PathLike) -> Path:
    return Path(weights).with_suffix(".json")


def verified_prior(path: str | os.PathLike | None = None) -> tuple[Path, dict[str, Any]]:
    """``(weights file, sidecar)`` of the prior at ``path`` (default :data:`PRIOR_PATH`) after checking the weights'
    sha256 against the sidecar's; :class:`MissingModel` naming the rebuild command otherwise."""
    weights = Path(path) if path else PRIOR_PATH
    fix = f"rebuild it with `{REBUILD.format(path=weights)}` (about 40 min on one CPU core)"
    side = sidecar_path(weights)
    if not weights.is_file() or not side.is_file():
        missing = weights if not weights.is_file() else side
        raise MissingModel(f"miniature prior: {missing} not found; {fix}")
    try:
        sidecar = json.loads(side.read_text())
    except json.JSONDecodeError as err:
        raise MissingModel(f"miniature prior: {side} is not valid JSON ({err}); {fix}") from None
    actual = file_sha256(weights)
    if actual != sidecar.get("sha256"):
        raise MissingModel(f"miniature prior: {weights} has sha256 {actual[:12]}..., its sidecar records "
                                f"{str(sidecar.get('sha256'))[:12]}... (changed or damaged); {fix}")
    return weights, sidecar


def prior_problem(path: str | os.PathLike | None = None) -> str | None:
    """None when the prior verifies; else the sentence saying what is wrong and how to rebuild it."""
    try:
        verified_prior(path)
    except MissingModel as err:
        return str(err)
    return None
