"""What upstream code downloads when it runs, and where it looks for it first.

Compute nodes are offline (the cluster profiles set ``HF_HUB_OFFLINE=1``), so everything an upstream script would
fetch at run time must be in its cache beforehand: ``python -m benchmarks.prefetch`` puts it there on a login node,
and ``python -m baselines check KEY`` reports it missing. Each :class:`RuntimeDownload` names the upstream line that
requests it, and its target follows the variables of the environment upstream runs in (the method's ``env`` table
over ours): a Hugging Face snapshot lands in the hub cache (``$HF_HUB_CACHE``, else ``$HF_HOME/hub``, else
``~/.cache/huggingface/hub``), an OpenAI CLIP file in ``~/.cache/clip`` (``clip.load`` without ``download_root``),
a torch hub checkpoint in ``$TORCH_HOME/hub/checkpoints``.

This module imports nothing heavy: ``check`` and ``list`` call it for every method.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

#: where each cache kind lives, for the listing
CACHES = ("hf", "clip", "torch_hub")


def _home(env: Mapping[str, str]) -> Path:
    return Path(env.get("HOME") or Path.home())


def hf_hub_cache(env: Mapping[str, str]) -> Path:
    """The Hugging Face hub cache of a process with environment ``env`` (huggingface_hub's own rule)."""
    if env.get("HF_HUB_CACHE"):
        return Path(env["HF_HUB_CACHE"]).expanduser()
    if env.get("HF_HOME"):
        return Path(env["HF_HOME"]).expanduser() / "hub"
    xdg = Path(env["XDG_CACHE_HOME"]).expanduser() if env.get("XDG_CACHE_HOME") else _home(env) / ".cache"
    return xdg / "huggingface" / "hub"


def torch_hub_checkpoints(env: Mapping[str, str]) -> Path:
    """``torch.hub.get_dir()/checkpoints`` of a process with environment ``env``."""
    if env.get("TORCH_HOME"):
        return Path(env["TORCH_HOME"]).expanduser() / "hub" / "checkpoints"
    xdg = Path(env["XDG_CACHE_HOME"]).expanduser() if env.get("XDG_CACHE_HOME") else _home(env) / ".cache"
    return xdg / "torch" / "hub" / "checkpoints"


@dataclass(frozen=True)
class RuntimeDownload:
    """One thing upstream fetches from the network when it runs.

    ``kind`` ``hf``: a Hugging Face model snapshot (``source`` = model id; ``files``: what must be in the snapshot,
    ``a|b`` meaning either); ``url``: one file (``source`` = URL) into cache ``cache`` (``clip`` or ``torch_hub``),
    checked against ``sha256`` where upstream checks it. ``when``: ``run`` (inference) or ``train``."""

    name: str
    kind: str
    source: str
    requested_at: str
    cache: str = "hf"
    files: tuple[str, ...] = ()
    sha256: str = ""
    when: str = "run"

    def target(self, env: Mapping[str, str] | None = None) -> Path:
        """Where it must be for upstream to find it without the network."""
        env = os.environ if env is None else env
        if self.kind == "hf":
            return hf_hub_cache(env) / ("models--" + self.source.replace("/", "--"))
        filename = self.source.rsplit("/", 1)[-1]
        if self.cache == "clip":  # clip.load(name) without download_root: os.path.expanduser("~/.cache/clip")
            return _home(env) / ".cache" / "clip" / filename
        if self.cache == "torch_hub":
            return torch_hub_checkpoints(env) / filename
        raise ValueError(f"unknown cache {self.cache!r} for {self.name}")

    def snapshot(self, env: Mapping[str, str] | None = None) -> Path | None:
        """A Hugging Face snapshot's folder (the revision ``refs/main`` names, which offline loading resolves)."""
        ref = self.target(env) / "refs" / "main"
        if not ref.is_file():
            return None
        return self.target(env) / "snapshots" / ref.read_text().strip()

    def present(self, env: Mapping[str, str] | None = None) -> bool:
        """Whether upstream would find it offline (file presence only: cheap enough for ``list``)."""
        if self.kind == "hf":
            folder = self.snapshot(env)
            return folder is not None and all(
                any((folder / alt).is_file() for alt in pattern.split("|")) for pattern in self.files)
        return self.target(env).is_file()

    def corrupt(self, env: Mapping[str, str] | None = None) -> str | None:
        """Why the cached file would not do although it is there (its SHA-256 differs where upstream checks it and
        would re-download), else None; reads the whole file, so it is called before a run, not by ``list``."""
        from ypt.files import file_sha256

        path = self.target(env)
        if self.sha256 and path.is_file() and file_sha256(path) != self.sha256:
            return f"{path} has another SHA-256 than {self.sha256} (upstream would try to download it again)"
        return None

    def describe(self) -> str:
        return f"{self.name} ({self.source}; requested by upstream {self.requested_at})"

    def allow_patterns(self) -> list[str]:
        """The files a snapshot fetches: every alternative of :attr:`files`."""
        return [alt for pattern in self.files for alt in pattern.split("|")]


def fetch(download: RuntimeDownload, env: Mapping[str, str] | None = None) -> Path:
    """Download ``download`` to its target for a process with environment ``env`` (needs the network)."""
    from ypt.errors import RunFailed

    env = os.environ if env is None else env
    target = download.target(env)
    if download.kind == "hf":
        from huggingface_hub import snapshot_download

        snapshot_download(download.source, cache_dir=str(hf_hub_cache(env)), allow_patterns=download.allow_patterns())
        return target
    from torch.hub import download_url_to_file

    from ypt.files import atomic_path, file_sha256

    with atomic_path(target) as tmp:
        download_url_to_file(download.source, str(tmp), progress=True)
        if download.sha256 and file_sha256(tmp) != download.sha256:
            raise RunFailed(f"{download.source}: SHA-256 differs from {download.sha256}; not kept")
    return target
