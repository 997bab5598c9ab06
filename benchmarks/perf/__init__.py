"""Measured speed and memory of prompt training, sampling and evaluation (``python -m benchmarks.perf``).

Modules: :mod:`~benchmarks.perf.flops` (analytic model FLOPs and MFU), :mod:`~benchmarks.perf.device` (device and
peak FLOP/s), :mod:`~benchmarks.perf.timing` (synchronised timing, peak memory), :mod:`~benchmarks.perf.workloads`
(which adapter at which size: the real ``ypt.backbones`` adapters built from config), :mod:`~benchmarks.perf.training`
(``ypt.train.PromptTrainer.step``), :mod:`~benchmarks.perf.memory` (the same step traced at full size),
:mod:`~benchmarks.perf.sampling` (``ypt.restore.Restorer``), :mod:`~benchmarks.perf.evaluation` (metrics and tables),
:mod:`~benchmarks.perf.report` (table and JSON), :mod:`~benchmarks.perf.cost` (``estimate_gpu_hours`` for the planner), :mod:`~benchmarks.perf.run` (one run, used by ``__main__``).
Nothing here imports torch at import time.
"""
