"""Which trained prompts restore which test set (DESIGN.md "Prompt routing"), as data.

Several prompts listed for one set are mixed: their velocities are averaged at every sampler step (TOLED, POLED
and LOLBlur: lowlight + blur; CDD haze_snow: snow + haze). Dataset keys are matched after normalisation
(lower case, no ``_``/``-``/spaces, no ``video`` suffix), so ``LOLBlur``, ``lolblur`` and ``4krd_video`` resolve.
"""
from __future__ import annotations

from typing import Iterable

from benchmarks.protocol import DEGRADATIONS

#: (dataset names, prompts) rows, verbatim from DESIGN.md
ROUTES: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = (
    (("hazerd", "reside", "revide", "rhvd"), ("haze",)),
    (("lhp", "rain100l", "rain100h", "lasvr", "nturain_real", "ntu_rain_real"), ("rain",)),
    (("weatherbench_snow", "snow100k", "rvsd", "aaurainsnow"), ("snow",)),
    (("4krd", "gopro"), ("blur",)),
    (("sice", "lolv1", "sdsd", "lol_iphone"), ("lowlight",)),
    (("toled", "poled", "lolblur"), ("lowlight", "blur")),
    (("cdd_haze_snow",), ("snow", "haze")),
)


def normalise(dataset: str) -> str:
    key = "".join(ch for ch in dataset.lower() if ch.isalnum())
    return key[: -len("video")] if key.endswith("video") and len(key) > len("video") else key


ROUTING: dict[str, tuple[str, ...]] = {normalise(name): prompts for names, prompts in ROUTES for name in names}


class RoutingError(ValueError):
    pass


def prompts_for(dataset: str, degradation: Iterable[str] = ()) -> tuple[str, ...]:
    """The prompts for a sample of ``dataset``: the routing table's entry, else the sample's own degradation
    tuple when every entry is a trained prompt; otherwise an error naming the table."""
    route = ROUTING.get(normalise(dataset))
    if route is not None:
        return route
    degradation = tuple(degradation)
    if degradation and all(d in DEGRADATIONS for d in degradation):
        return degradation
    raise RoutingError(f"no prompt route for dataset {dataset!r} (degradation {degradation!r}); routed sets: "
                       + "; ".join(f"{'/'.join(n)} -> {'+'.join(p)}" for n, p in ROUTES))
