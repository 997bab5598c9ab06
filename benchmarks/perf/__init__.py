"""Measured speed and memory of prompt training, sampling and evaluation (``python -m benchmarks.perf``).

Modules: :mod:`~benchmarks.perf.flops` (analytic model FLOPs and MFU), :mod:`~benchmarks.perf.device` (device and
peak FLOP/s), :mod:`~benchmarks.perf.timing` (synchronised timing, peak memory), :mod:`~benchmarks.perf.workloads`
(full-size and tiny configs), :mod:`~benchmarks.perf.models` (random-weight models, residual prompt hooks),
:mod:`~benchmarks.perf.training`, :mod:`~benchmarks.perf.sampling`, :mod:`~benchmarks.perf.evaluation` (the three
measured sections), :mod:`~benchmarks.perf.report` (table and JSON), :mod:`~benchmarks.perf.cost`
(``estimate_gpu_hours`` for the planner), :mod:`~benchmarks.perf.run` (one run, used by ``__main__``).
Nothing here imports torch at import time.
"""
