"""Where prompt files live, their JSON sidecars and the variant names: pure path and JSON helpers, no torch (planners and
``python -m baselines list`` check prompt files without importing the model stack)."""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from ypt.defaults import T0
from ypt.errors import MissingPrompt

#: the prompt conditioning variants (paper Table 5 / Fig. 2); a sidecar records which one a file holds
VARIANTS = ("residual", "embedding", "token", "text")


def sidecar_path(path: str | os.PathLike) -> Path:
    return Path(path).with_suffix(".json")


def default_prompt_path(backbone: str, degradation: str, variant: str = "residual", bridge: str = "ebr",
                        t0: float = T0, root: str | os.PathLike | None = None) -> Path:
    """Where training writes a prompt and where ``ypt_flux`` / ``ypt_wan`` look for it.

    ``<root>/<backbone>/<variant>-<bridge>-t0<T0>/<degradation>.safetensors`` with root ``$YPT_PROMPTS`` or
    ``~/.cache/ypt-bench/prompts``.
    """
    base = Path(root or os.environ.get("YPT_PROMPTS") or Path.home() / ".cache" / "ypt-bench" / "prompts")
    return base.expanduser() / backbone / f"{variant}-{bridge}-t0{t0:g}" / f"{degradation}.safetensors"


def read_sidecar(path: str | os.PathLike) -> dict[str, Any]:
    side = sidecar_path(path)
    if not side.is_file():
        raise MissingPrompt(f"prompt file {path} has no JSON sidecar {side}; it was not written by ypt-bench")
    return json.loads(side.read_text())
