"""The built-in demo: scikit-image photos with haze, rain, low light, blur and noise of known parameters, built on
first use (:mod:`benchmarks.datasets.synthetic`). Role ``demo``: never part of a paper table."""
from benchmarks.datasets.synthetic import SPECS  # noqa: F401
