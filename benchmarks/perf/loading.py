"""Backbone load time: what a worker pays once, and every work unit paid before one load per worker.

The row saves the workload's adapter (transformer in the run's dtype, VAE in fp32, as ``save_pretrained`` folders)
and its null-text context to a scratch folder, then times ``ypt.backbones.load_backbone`` on that folder: the path
``ypt.restore.Restorer.from_pretrained`` takes for a local model (``text_encoders="auto"`` with the null context
cached, so no text encoder is loaded), ending with the weights on the run's device. The folder was written just
before, so its pages are in the page cache: the figure is a lower bound of a cold load from disk (a full-size FLUX
reads ~24 GB of weights from storage first). The ratio to the sampling row's time per restored item
(:func:`benchmarks.perf.report.ratios`) says how many items one load costs.
"""
from __future__ import annotations

from pathlib import Path

from benchmarks.perf.timing import time_fn
from benchmarks.perf.workloads import Workload


def measure(wl: Workload, engine, device: str, dtype_name: str, scratch_dir, iters: int, warmup: int = 1) -> dict:
    import torch
    from safetensors.torch import save_file

    from ypt.backbones import load_backbone

    folder = Path(scratch_dir) / f"load-{wl.backbone}-{wl.size}"
    engine.transformer.save_pretrained(folder / "transformer")
    engine.vae.save_pretrained(folder / "vae")
    (folder / "model_index.json").write_text("{}")
    null = folder / "null_context.safetensors"
    save_file({k: v.contiguous() for k, v in engine.null_context().items()}, str(null))
    weights = sum(f.stat().st_size for f in folder.rglob("*.safetensors") if f != null)

    def load():
        loaded = load_backbone(wl.backbone, str(folder), dtype=getattr(torch, dtype_name), device=device,
                               text_encoders="auto", null_context_file=null, max_sequence_length=wl.text_tokens)
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        return loaded

    timing = time_fn(load, "cpu", iters=iters, warmup=warmup)  # host wall time: the load ends with a sync
    return {"section": "loading", "backbone": wl.backbone, "label": "from folder",
            "config": {**wl.describe(), "dtype": dtype_name, "device": device, "weights_bytes": weights,
                       "source": "folder written by this run (page cache warm): a lower bound of a cold load",
                       "loader": "ypt.backbones.load_backbone (text_encoders='auto', null context cached)"},
            "status": "ok", "load_s": timing.seconds, "weights_bytes": weights, "timing": timing.as_dict()}
