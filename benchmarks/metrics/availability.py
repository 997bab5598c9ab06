"""Whether a metric can run on this machine: its weight files are in the local caches (and, for DOVER, its official
package and clone are installed). Nothing is downloaded at run time: a missing file is named with the command that
fetches it."""
from __future__ import annotations

from benchmarks.metrics.specs import PREFETCH_HINT, SPECS, missing_weights
from ypt.errors import MissingResource
from ypt.registry import import_object


class MissingWeightsError(MissingResource):
    """A metric's weights are not in the local caches (compute nodes are offline; nothing is downloaded)."""


def weights_problem(name: str) -> str | None:
    """None when ``name`` can run here, else one sentence naming the missing files and the fix."""
    spec = SPECS[name]
    if spec.availability:  # a package of its own (DOVER): its own check
        return import_object(spec.availability)()
    missing = missing_weights(name)
    if not missing:
        return None
    files = ", ".join(str(w.path) for w in missing)
    return (f"{name}: weights not in the local cache: {files}. Fetch them on a machine with internet with "
            f"`{PREFETCH_HINT} --metrics {name}` (same TORCH_HOME), or copy the files there")


def require_weights(name: str) -> None:
    problem = weights_problem(name)
    if problem:
        raise MissingWeightsError(problem)
