"""Peak memory of a full-size prompt-training step, traced with fake tensors: no GPU and no memory needed.

The full FLUX.1-dev / WAN 2.1 1.3B transformer and VAE are built under ``FakeTensorMode`` (tensors with shapes,
dtypes and storages but no data), wrapped in the real ``ypt.backbones`` adapter with a residual prompt from
``ypt.prompts``, and one training step runs exactly as the perf training rows run it (EBR bridge state from cached
latents, ``predict_x0`` with the prompt attached through the backward, MSE loss, AdamW on the prompt). A
dispatch mode follows every storage the step creates and frees and records the peak of the live bytes, on top of
the weights, the null context and the prompt that exist before the step.

What it counts: every tensor storage, as the step's kernels allocate them (attention through torch's fused SDPA,
whose backward keeps only ``q, k, v, out`` and the log-sum-exp, as flash attention on a GPU does). What it does not
count: the CUDA context, cuBLAS/cuDNN workspaces, and the caching allocator's rounding and fragmentation (what
``torch.cuda.max_memory_reserved`` adds over the allocated peak); none of these is measured here. The traced step
runs the adapter's bf16 autocast on the CPU dispatcher, whose cast lists differ slightly from CUDA's. A GPU run of
``python -m benchmarks.perf`` prints the measured peak (``max_memory_allocated``) next to this trace, and
``pytest -m gpu`` holds the two within 15%.
"""
from __future__ import annotations

import tempfile
import time

from benchmarks import protocol
from benchmarks.perf.workloads import Workload

#: the devices the targets are stated for (bytes): issue 8's "FLUX batch 2 at 1024 px fits in 80 GB"
TARGET_DEVICE_BYTES = 80 * 10**9


def _live_bytes_mode():
    """A ``TorchDispatchMode`` following the bytes of live tensor storages (peak and current)."""
    import torch
    from torch.multiprocessing.reductions import StorageWeakRef
    from torch.utils._python_dispatch import TorchDispatchMode
    from torch.utils._pytree import tree_leaves

    class LiveBytes(TorchDispatchMode):
        """``resident`` storages (weights, inputs) are counted once and never swept; the step's storages are
        swept for freed ones only when the running total passes the peak, so the peak is exact at every op while
        most ops cost no sweep at all."""

        def __init__(self):
            super().__init__()
            self.resident: dict[int, int] = {}
            self.live: dict[int, tuple[StorageWeakRef, int]] = {}
            self.current = self.peak = 0

        def add_resident(self, tensor) -> None:
            storage = tensor.untyped_storage()
            if storage._cdata not in self.resident:
                self.resident[storage._cdata] = storage.nbytes()
                self.current += storage.nbytes()
                self.peak = max(self.peak, self.current)

        def _add(self, tensor) -> None:
            storage = tensor.untyped_storage()
            key = storage._cdata
            if key in self.resident:
                return
            held = self.live.get(key)
            if held is not None:
                if not held[0].expired():
                    return  # a view of a live storage
                self.current -= held[1]  # the address of a freed storage, reused
            self.live[key] = (StorageWeakRef(storage), storage.nbytes())
            self.current += storage.nbytes()

        def _sweep(self) -> None:
            for key in [k for k, (ref, _) in self.live.items() if ref.expired()]:
                self.current -= self.live.pop(key)[1]

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            out = func(*args, **(kwargs or {}))
            for leaf in tree_leaves(out):
                if isinstance(leaf, torch.Tensor):
                    self._add(leaf)
            if self.current > self.peak:  # an over-count until swept: sweep, then it is exact
                self._sweep()
                self.peak = max(self.peak, self.current)
            return out

    return LiveBytes()


def trace_training_step(wl: Workload, gradient_checkpointing: bool, dtype_name: str = "bfloat16") -> dict:
    """One perf row (section ``memory``): the traced peak of a training step of ``wl`` and what it is made of."""
    import torch
    from torch._subclasses.fake_tensor import FakeTensorMode

    from benchmarks.perf import models as M
    from ypt.backbones import backbone_class
    from ypt.backbones.base import scheduler_timestep
    from ypt.bridges import make_bridge
    from ypt.prompts import make_prompt

    dtype = getattr(torch, dtype_name)
    started = time.perf_counter()
    row = {"section": "memory", "backbone": wl.backbone, "label": "ckpt" if gradient_checkpointing else "no-ckpt",
           "config": {**wl.describe(), "dtype": dtype_name, "gradient_checkpointing": gradient_checkpointing,
                      "latents": "cached", "optimizer": "AdamW(lr=5e-4, fused)", "method": "FakeTensorMode trace",
                      "prompt": "ypt.prompts.ResidualPrompt"}}
    bridge = make_bridge("ebr", protocol.T0, protocol.T_MIN)
    with tempfile.TemporaryDirectory(prefix="ypt-perf-memory-") as scratch:
        null_file = M.write_null_context(wl, scratch)  # real (small) tensors, as the adapter reads its cache
        fake = FakeTensorMode(allow_non_fake_inputs=True)  # the real null context mixes with fake weights
        with fake:
            transformer = M.build_transformer(wl, "cpu", dtype)
            vae = M.build_vae(wl, "cpu", torch.float32)
        # outside the mode: the adapter reads its null context from the file as real tensors
        engine = backbone_class(wl.backbone)(transformer, vae, dtype=dtype, device="cpu", null_context_file=null_file)
        scheduler_timestep(torch.tensor([0.5]), wl.backbone)  # the release's timestep grid, built once with data
        with fake:
            if gradient_checkpointing:
                engine.transformer.enable_gradient_checkpointing()
            prompt = make_prompt("residual", engine.transformer, text_len=wl.text_tokens)
            optimizer = torch.optim.AdamW(prompt.parameters(), lr=5e-4, fused=True)  # as ypt.train
            x0 = torch.randn(wl.batch, *wl.latent_shape)
            y = torch.randn(wl.batch, *wl.latent_shape)
            resident = {
                "transformer": sum(t.nbytes for t in engine.transformer.state_dict().values()),
                "vae": sum(t.nbytes for t in engine.vae.state_dict().values()),
                "prompt": sum(p.nbytes for p in prompt.parameters()),
                "latents": x0.nbytes + y.nbytes,
            }
            mode = _live_bytes_mode()
            for tensor in [*engine.transformer.state_dict().values(), *engine.vae.state_dict().values(),
                           *prompt.parameters(), x0, y]:
                mode.add_resident(tensor)
            before = mode.current
            with mode:
                t = bridge.sample_t(wl.batch)
                z = bridge.state(x0, y, t, torch.randn_like(x0))
                with engine.attached(prompt):  # the adapter runs the transformer under its own bf16 autocast
                    x0_hat = engine.predict_x0(z, t, prompt)
                    loss = torch.nn.functional.mse_loss(x0_hat.float(), x0)
                    forward_peak = mode.peak
                    loss.backward()
                optimizer.step()
                optimizer.zero_grad(set_to_none=True)
            peak = mode.peak
    row.update(status="ok", peak_memory_bytes=peak, memory_kind="traced (fake tensors)",
               resident_bytes=resident, step_bytes=peak - before, forward_peak_bytes=forward_peak,
               fits_80gb=peak < TARGET_DEVICE_BYTES, trace_s=time.perf_counter() - started)
    return row
