"""Which trained prompts restore which test set (DESIGN.md "Prompt routing"): the dataset registry's
``degradation`` of the set, the one place routing is written (``benchmarks/datasets/families``).

Several prompts listed for one set are mixed: their velocities are averaged at every sampler step (TOLED, POLED
and LOLBlur: lowlight + blur; CDD haze_snow: snow + haze). Dataset keys are matched case-insensitively
(``LOLBlur`` is ``lolblur``); a set the registry does not know is routed by its samples' own degradation when
every entry is a trained prompt.
"""
from __future__ import annotations

from typing import Iterable

from benchmarks.protocol import DEGRADATIONS
from ypt.errors import UsageError


class RoutingError(UsageError):
    """No trained prompt restores a set (unknown dataset whose degradation is no trained prompt)."""


def routes() -> dict[str, tuple[str, ...]]:
    """Registered dataset key -> the prompts that restore it (a set registered at run time may name none: it is
    then routed by its samples' own degradation)."""
    from benchmarks import datasets

    return {key: tuple(getattr(datasets.get(key), "degradation", ())) for key in datasets.keys()}


def prompts_for(dataset: str, degradation: Iterable[str] = (),
                trained: tuple[str, ...] = DEGRADATIONS) -> tuple[str, ...]:
    """The prompts for a sample of ``dataset``: its registry entry's degradation, else the sample's own degradation
    tuple when every entry is a trained prompt (``trained``: the degradations the method has prompts for, the
    paper's five by default); otherwise an error naming the routed test sets."""
    table = routes()
    route = table.get(dataset, table.get(dataset.lower()))
    if route and all(d in trained for d in route):
        return route
    degradation = tuple(degradation)
    if degradation and all(d in trained for d in degradation):
        return degradation
    from benchmarks import datasets

    routed = "; ".join(f"{k} -> {'+'.join(p)}" for k, p in table.items()
                       if p and getattr(datasets.get(k), "role", "") not in ("train", "demo"))
    raise RoutingError(f"no prompt route for dataset {dataset!r} (degradation {degradation!r}): the trained prompts "
                       f"are {', '.join(trained)}; routed test sets: {routed}")
