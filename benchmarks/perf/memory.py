"""Peak memory of a full-size prompt-training step, traced with fake tensors: no GPU and no memory needed.

The full FLUX.1-dev / WAN 2.1 1.3B transformer and VAE are built from their released configs
(:mod:`ypt.backbones.configs`) under ``FakeTensorMode`` (tensors with shapes, dtypes and storages but no data),
wrapped in the real ``ypt.backbones`` adapter, and one ``ypt.train.PromptTrainer.step`` runs on device-held
``LatentPairs`` with a ``ypt.prompts`` residual prompt, exactly the step the perf training rows time (EBR bridge
state, ``x0_hat`` from the adapter's predictor with the prompt attached through the backward, MSE loss, fused AdamW on
the prompt). A dispatch mode follows every storage the step creates and frees and records the peak of the live
bytes, on top of the weights, the null context, the prompt and the latents that exist before the step.

What it counts: every tensor storage, as the step's kernels allocate them (attention through torch's fused SDPA,
whose backward keeps only ``q, k, v, out`` and the log-sum-exp, as flash attention on a GPU does). What it does not
count: the CUDA context, cuBLAS/cuDNN workspaces, and the caching allocator's rounding and fragmentation (what
``torch.cuda.max_memory_reserved`` adds over the allocated peak); none of these is measured here. The traced step
runs the adapter's bf16 autocast on the CPU dispatcher, whose cast lists differ slightly from CUDA's. A GPU run of
``python -m benchmarks.perf`` prints the measured peak (``max_memory_allocated``) next to this trace, and
``pytest -m gpu`` holds the two within 15%.
"""
from __future__ import annotations

import time

from benchmarks import protocol
from benchmarks.perf.training import TRAINER
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
    from ypt.backbones import backbone_class
    from ypt.backbones.base import scheduler_timestep
    from ypt.backbones.configs import build_transformer, build_vae, random_null_context
    from ypt.bridges import make_bridge
    from ypt.pairs import LatentPairs
    from ypt.train import PromptTrainer, TrainConfig

    dtype = getattr(torch, dtype_name)
    started = time.perf_counter()
    row = {"section": "memory", "backbone": wl.backbone, "label": "ckpt" if gradient_checkpointing else "no-ckpt",
           "config": {**wl.describe(), "dtype": dtype_name, "gradient_checkpointing": gradient_checkpointing,
                      "latents": "cached", "method": "FakeTensorMode trace", "trainer": TRAINER}}
    fake = FakeTensorMode(allow_non_fake_inputs=True)  # the real null context and draws mix with fake weights
    with fake:
        transformer = build_transformer(wl.backbone, wl.transformer, "cpu", dtype)
        vae = build_vae(wl.backbone, wl.vae, "cpu")
    # outside the mode: the adapter holds its null context as real (small) tensors, as it reads its cache
    engine = backbone_class(wl.backbone)(transformer, vae, dtype=dtype, device="cpu", max_sequence_length=wl.text_tokens,
                                         null_context=random_null_context(wl.backbone, wl.transformer, wl.text_tokens))
    scheduler_timestep(torch.tensor([0.5]), wl.backbone)  # the release's timestep grid, built once with data
    with fake:
        x0 = torch.randn(wl.batch, *wl.latent_shape)
        y = torch.randn(wl.batch, *wl.latent_shape)
        config = TrainConfig(backbone=wl.backbone, iterations=1, batch_size=wl.batch,
                             gradient_checkpointing=gradient_checkpointing)
        bridge = make_bridge(config.bridge, protocol.T0, protocol.T_MIN)
        trainer = PromptTrainer(engine, wl.prompt(engine), bridge,
                                LatentPairs(tensors=[(y[i], x0[i]) for i in range(wl.batch)]), config)
    row["config"]["optimizer"] = (f"{type(trainer.optimizer).__name__}(lr={config.lr:g}, "
                                  f"fused={trainer.optimizer.defaults.get('fused')})")
    prompt = trainer.prompt
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
    forward = ForwardPeak(engine, mode)
    # the step runs outside the fake mode: the trainer's host-side draws (pair indices, t, noise on its seeded CPU
    # generator) are real, as on a GPU; every op on the fake weights and latents dispatches as fake
    with mode, forward:
        trainer.step()
    peak = mode.peak
    row.update(status="ok", peak_memory_bytes=peak, memory_kind="traced (fake tensors)",
               resident_bytes=resident, step_bytes=peak - before, forward_peak_bytes=forward.peak,
               fits_80gb=peak < TARGET_DEVICE_BYTES, trace_s=time.perf_counter() - started)
    return row


class ForwardPeak:
    """The live-bytes peak at the end of the forward pass: read when the transformer's output hook fires (the last
    forward op before the loss and the backward)."""

    def __init__(self, engine, mode):
        self.engine, self.mode, self.peak = engine, mode, 0
        self._handle = None

    def __enter__(self):
        def record(module, args, output):
            self.peak = max(self.peak, self.mode.peak)

        self._handle = self.engine.transformer.register_forward_hook(record)
        return self

    def __exit__(self, *exc):
        self._handle.remove()
