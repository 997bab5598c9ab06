"""Orchestration: tables and ablations become content-addressed work units, planned, costed, reported and run.

The layer above the methods (``baselines``) and below the SLURM backend (``slurm``, which registers its executor
through the ``ypt_bench.executors`` entry point, so nothing here imports it):

* :mod:`benchmarks.runner.units`: the unit model (restore, score) and the resources a unit needs;
* :mod:`benchmarks.runner.training`: prompt-training units and the paper's training sets;
* :mod:`benchmarks.runner.planning`: a table spec (or an ablation's cells) becomes a :class:`Plan`;
* :mod:`benchmarks.runner.cost`: GPU-hours of a unit;
* :mod:`benchmarks.runner.report`: printing plans, missing resources and failures;
* :mod:`benchmarks.runner.execute`: dependency waves, the local executor, the executor registry, ``run_plan``;
* :mod:`benchmarks.runner.worker`: workers, which run the units that load the same backbone with one load;
* :mod:`benchmarks.runner.options`: the command-line options every planning command shares.

Nothing here imports torch, diffusers or pyiqa at import time.
"""
