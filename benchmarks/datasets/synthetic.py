"""The built-in demo's datasets: natural photos shipped inside scikit-image, degraded with known parameters.

``build_demo(root)`` writes one dataset per degradation in a real on-disk layout::

    <root>/<set>/target/<image>.png     clean photo (centre crop, resized to ``size`` x ``size``)
    <root>/<set>/input/<image>.png      the same photo degraded
    <root>/<set>/manifest.json          generator version, degradation, and every sample's exact parameters

The photos (``skimage.data``: astronaut, coffee, chelsea, rocket) are part of the scikit-image wheel, so the demo
needs no download. Degradations (images in [0, 1], float64, quantised to 8 bits when written):

* haze: atmospheric scattering ``I = J t + A (1 - t)``, ``t = exp(-beta d)``, depth ``d`` a vertical ramp from
  ``depth_far`` (top row) to ``depth_near`` (bottom row), grey airlight ``A``.
* rain: streaks: Bernoulli(density) seeds, each drawn as a line of ``length`` px at ``angle`` degrees from the
  horizontal (a normalised line kernel), scaled so a streak pixel adds ``intensity``; ``I = min(J + S, 1)``.
* lowlight: ``I = gain * J ** gamma + N(0, sigma^2)``, clipped to [0, 1].
* blur: ``I = J * k`` (per channel, ``mode="reflect"``), ``k`` a normalised isotropic Gaussian (``sigma``,
  ``radius``).
* noise: ``I = J + N(0, sigma^2)``, clipped.
* lowlight_blur (a mixed set, the paper's LOLBlur in miniature): blur, then low light, as above, written to 8 bits
  in between as files would be; the miniature YPT restores it with its blur and low-light prompts averaged.

Training sets (``demo_<degradation>_train``, role ``train``: the miniature YPT's prompt training) are built the same
way from other photos (:data:`ypt.mini_prior.PRETRAIN_PHOTOS`, bundled with scikit-image, pyiqa and matplotlib;
never a test photo): random squares of each photo resized to ``size``, degraded, then :data:`TRAIN_PAIRS` random
``MINI_CROP`` x ``MINI_CROP`` crops of aligned (degraded, clean) pairs::

    <root>/demo_haze_train/input/00000.png, target/00000.png, manifest.json

Every random draw comes from ``numpy.random.default_rng([seed, set index, image index])``, so the demo is the same
on every machine. The sets are registered as the ``demo`` family of the dataset registry
(:class:`SyntheticDatasetSpec`: listed from the manifest; built on first use by :meth:`~SyntheticDatasetSpec.prepare`);
the demo's table is data in :mod:`benchmarks.tables`, run by the ordinary planner.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.datasets.sample import DatasetMissing, Sample
from ypt.defaults import MINI_CROP, MINI_SIZE

GENERATOR_VERSION = "ypt-demo-v2"
IMAGES = ("astronaut", "coffee", "chelsea", "rocket")
#: the demo's image side: the miniature backbone's working size
DEFAULT_SIZE = MINI_SIZE
SEED = 42
#: (degraded, clean) crop pairs per training set, and squares taken from each training photo
TRAIN_PAIRS = 1024
TRAIN_SQUARES = 3


@dataclass(frozen=True)
class DemoSet:
    key: str
    degradation: tuple[str, ...]
    params: dict[str, Any]
    #: a mixed set: the single sets whose degradations it applies, in order
    parts: tuple[str, ...] = ()


#: the demo's datasets, with the degradation parameters they are generated with
DEMO_SETS: tuple[DemoSet, ...] = (
    DemoSet("demo_haze", ("haze",), {"beta": 1.6, "airlight": 0.9, "depth_far": 1.0, "depth_near": 0.15}),
    DemoSet("demo_rain", ("rain",), {"density": 0.004, "length": 15, "angle": 75.0, "intensity": 0.55}),
    DemoSet("demo_lowlight", ("lowlight",), {"gamma": 1.8, "gain": 0.3, "sigma": 0.01}),
    DemoSet("demo_blur", ("blur",), {"sigma": 2.0, "radius": 6}),
    DemoSet("demo_noise", ("noise",), {"sigma": 0.08}),
)
#: a mixed set's parameters are its parts' (blur, then low light)
DEMO_SETS += (DemoSet("demo_lowlight_blur", ("lowlight", "blur"),
                      {s.key: s.params for s in DEMO_SETS if s.key in ("demo_blur", "demo_lowlight")},
                      parts=("demo_blur", "demo_lowlight")),)
DEMO_KEYS = tuple(s.key for s in DEMO_SETS)
#: the single degradations of the demo (one trained prompt each for the miniature YPT)
DEMO_DEGRADATIONS = tuple(s.degradation[0] for s in DEMO_SETS if not s.parts)


def demo_set(key: str) -> DemoSet:
    from ypt.registry import check_key

    return DEMO_SETS[DEMO_KEYS.index(check_key("demo dataset", key, DEMO_KEYS))]


# -- degradations (numpy; images HxWx3 float64 in [0, 1]) ---------------------------------------------------------
def haze_transmission(height: int, width: int, beta: float, depth_far: float, depth_near: float):
    import numpy as np

    depth = np.linspace(depth_far, depth_near, height)[:, None] * np.ones((1, width))
    return np.exp(-beta * depth)


def add_haze(clean, beta: float, airlight: float, depth_far: float, depth_near: float):
    t = haze_transmission(clean.shape[0], clean.shape[1], beta, depth_far, depth_near)[..., None]
    return clean * t + airlight * (1.0 - t)


def line_kernel(length: int, angle: float):
    """A normalised 2-D line of ``length`` px at ``angle`` degrees (anti-clockwise from the horizontal)."""
    import numpy as np

    size = length if length % 2 else length + 1
    kernel = np.zeros((size, size))
    c = size // 2
    theta = np.deg2rad(angle)
    for s in np.linspace(-(length - 1) / 2, (length - 1) / 2, 4 * length):
        x, y = int(round(c + s * np.cos(theta))), int(round(c - s * np.sin(theta)))
        kernel[y, x] = 1.0
    return kernel / kernel.sum()


def rain_layer(height: int, width: int, rng, density: float, length: int, angle: float, intensity: float):
    import numpy as np
    from scipy.ndimage import convolve

    seeds = (rng.random((height, width)) < density).astype(np.float64)
    kernel = line_kernel(length, angle)
    return np.clip(convolve(seeds, kernel / kernel.max(), mode="constant") * intensity, 0.0, intensity)


def add_rain(clean, rng, density: float, length: int, angle: float, intensity: float):
    import numpy as np

    streaks = rain_layer(clean.shape[0], clean.shape[1], rng, density, length, angle, intensity)
    return np.minimum(clean + streaks[..., None], 1.0)


def low_light(clean, rng, gamma: float, gain: float, sigma: float):
    import numpy as np

    return np.clip(gain * clean ** gamma + rng.normal(0.0, sigma, clean.shape), 0.0, 1.0)


def gaussian_kernel(sigma: float, radius: int):
    import numpy as np

    ax = np.arange(-radius, radius + 1, dtype=np.float64)
    g = np.exp(-(ax ** 2) / (2 * sigma ** 2))
    k = np.outer(g, g)
    return k / k.sum()


def blur(clean, sigma: float, radius: int):
    import numpy as np
    from scipy.ndimage import convolve

    k = gaussian_kernel(sigma, radius)
    return np.stack([convolve(clean[..., c], k, mode="reflect") for c in range(clean.shape[2])], axis=2)


def add_noise(clean, rng, sigma: float):
    import numpy as np

    return np.clip(clean + rng.normal(0.0, sigma, clean.shape), 0.0, 1.0)


def degrade(set_key: str, clean, rng):
    s = demo_set(set_key)
    if s.parts:  # a mixed set: each part in turn, 8-bit in between
        out = clean
        for part in s.parts:
            out = quantised(degrade(part, out, rng))
        return out
    p = s.params
    kind = s.degradation[0]
    if kind == "haze":
        return add_haze(clean, **p)
    if kind == "rain":
        return add_rain(clean, rng, **p)
    if kind == "lowlight":
        return low_light(clean, rng, **p)
    if kind == "blur":
        return blur(clean, **p)
    return add_noise(clean, rng, **p)


# -- the photos and the on-disk layout ------------------------------------------------------------------------------
def clean_photo(name: str, size: int = DEFAULT_SIZE):
    """``skimage.data.<name>()`` centre-cropped to a square and resized (antialiased) to ``size``, in [0, 1]."""
    import numpy as np
    import skimage.data
    from skimage.transform import resize

    if name not in IMAGES:
        raise ValueError(f"unknown demo photo {name!r}; choose from {', '.join(IMAGES)}")
    img = np.asarray(getattr(skimage.data, name)())[..., :3].astype(np.float64) / 255.0
    h, w = img.shape[:2]
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    img = img[top:top + side, left:left + side]
    return np.clip(resize(img, (size, size), order=3, anti_aliasing=True), 0.0, 1.0)


def to_uint8(image):
    import numpy as np

    return np.round(np.clip(image, 0.0, 1.0) * 255.0).astype(np.uint8)


def quantised(image):
    """``image`` as its 8-bit file holds it, back in [0, 1] floats."""
    import numpy as np

    return to_uint8(image).astype(np.float64) / 255.0


def up_to_date(manifest_path: Path, manifest: dict[str, Any]) -> bool:
    """Whether a set was written with exactly ``manifest`` (generator version, parameters, size, ...)."""
    return manifest_path.is_file() and \
        {k: v for k, v in json.loads(manifest_path.read_text()).items() if k != "samples"} == manifest


def manifest_for(set_key: str, size: int) -> dict[str, Any]:
    s = demo_set(set_key)
    return {"generator": GENERATOR_VERSION, "dataset": s.key, "degradation": list(s.degradation),
            "params": s.params, "size": size, "seed": SEED, "images": list(IMAGES),
            "source": "scikit-image skimage.data (bundled with the wheel)"}


def _write_png(path: Path, image) -> None:
    from ypt.files import atomic_write_png

    atomic_write_png(to_uint8(image), path)


def build_demo(root: str | Path, size: int = DEFAULT_SIZE, sets: tuple[str, ...] = DEMO_KEYS) -> Path:
    """Write the demo datasets under ``root`` (skipping sets already written with the same manifest)."""
    import numpy as np

    root = Path(root)
    cleans: dict[str, Any] = {}
    for set_index, key in enumerate(DEMO_KEYS):
        if key not in sets:
            continue
        folder = root / key
        manifest = manifest_for(key, size)
        manifest_path = folder / "manifest.json"
        if up_to_date(manifest_path, manifest):
            continue
        samples = []
        for image_index, name in enumerate(IMAGES):
            if name not in cleans:
                cleans[name] = clean_photo(name, size)
            rng = np.random.default_rng([SEED, set_index, image_index])
            _write_png(folder / "target" / f"{name}.png", cleans[name])
            _write_png(folder / "input" / f"{name}.png", degrade(key, cleans[name], rng))
            samples.append({"id": name, "input": f"input/{name}.png", "target": f"target/{name}.png"})
        from ypt.files import atomic_write_text

        atomic_write_text(manifest_path, json.dumps({**manifest, "samples": samples}, indent=2))
    return root


# -- training sets (the miniature YPT's prompts) --------------------------------------------------------------------
def train_key(degradation: str) -> str:
    return f"demo_{degradation}_train"


def train_manifest(degradation: str, size: int) -> dict[str, Any]:
    from ypt.mini_prior import PRETRAIN_PHOTOS

    key = train_key(degradation)
    return {"generator": GENERATOR_VERSION, "dataset": key, "degradation": [degradation],
            "params": demo_set(f"demo_{degradation}").params, "size": size, "crop": MINI_CROP, "seed": SEED,
            "pairs": TRAIN_PAIRS, "squares": TRAIN_SQUARES, "photos": list(PRETRAIN_PHOTOS),
            "source": "photos bundled with scikit-image, pyiqa and matplotlib (ypt.mini_prior.PRETRAIN_PHOTOS)"}


def build_training_set(root: str | Path, degradation: str, size: int = DEFAULT_SIZE) -> Path:
    """Write ``demo_<degradation>_train`` under ``root`` (skipped when its manifest is there and equal)."""
    import numpy as np
    from skimage.transform import resize

    from ypt.files import atomic_write_text
    from ypt.mini_prior import PRETRAIN_PHOTOS, photo, random_crops

    folder = Path(root) / train_key(degradation)
    manifest = train_manifest(degradation, size)
    manifest_path = folder / "manifest.json"
    if up_to_date(manifest_path, manifest):
        return folder
    index = DEMO_DEGRADATIONS.index(degradation)
    rng = np.random.default_rng([SEED, 1000 + index])
    cleans, degraded = [], []
    for name in PRETRAIN_PHOTOS:
        img = photo(name)
        h, w = img.shape[:2]
        for _ in range(TRAIN_SQUARES):
            side = int(min(h, w) * rng.uniform(0.6, 1.0))
            top, left = rng.integers(h - side + 1), rng.integers(w - side + 1)
            square = resize(img[top:top + side, left:left + side], (size, size), order=3, anti_aliasing=True)
            clean = quantised(square)
            cleans.append(clean)
            degraded.append(quantised(degrade(f"demo_{degradation}", clean, rng)))
    targets, inputs = random_crops(cleans, TRAIN_PAIRS, MINI_CROP, rng, partners=degraded)
    samples = []
    for i in range(TRAIN_PAIRS):
        name = f"{i:05d}"
        _write_png(folder / "input" / f"{name}.png", inputs[i].transpose(1, 2, 0))
        _write_png(folder / "target" / f"{name}.png", targets[i].transpose(1, 2, 0))
        samples.append({"id": name, "input": f"input/{name}.png", "target": f"target/{name}.png"})
    atomic_write_text(manifest_path, json.dumps({**manifest, "samples": samples}, indent=1))
    return folder


# -- the demo sets as datasets --------------------------------------------------------------------------------------
#: where the demo's data is built when no data root is given (``$YPT_DEMO_DATA`` overrides)
DEMO_DATA = Path("results/demo/data")
DEMO_DATA_ENV = "YPT_DEMO_DATA"


@dataclass(frozen=True)
class SyntheticDatasetSpec:
    """A demo set as a dataset of the registry: ``samples(root)`` lists it from its manifest under ``root`` (else
    ``$YPT_DEMO_DATA``, else :data:`DEMO_DATA`); :meth:`prepare` builds it there first when it is missing."""

    key: str
    degradation: tuple[str, ...]
    modality: str = "image"
    role: str = "demo"
    paired: bool = True
    expected_count: int = len(IMAGES)
    source_url: str = "generated by benchmarks.datasets.synthetic from scikit-image's bundled photos"
    notes: str = ""
    layouts: tuple = ()

    @property
    def display_name(self) -> str:
        return "Demo " + self.key.removeprefix("demo_")

    @property
    def metrics(self) -> tuple[str, ...]:
        from benchmarks.metrics.specs import metrics_for

        return metrics_for(self.modality, self.paired)

    def root_for(self, root: str | Path | None = None) -> Path:
        import os

        return Path(root or os.environ.get(DEMO_DATA_ENV) or DEMO_DATA)

    def prepare(self, root: str | Path | None = None) -> Path:
        """Build the set under its root unless its manifest is already there (any size); returns the root."""
        base = self.root_for(root)
        if not (base / self.key / "manifest.json").is_file():
            if self.role == "train":
                build_training_set(base, self.degradation[0])
            else:
                build_demo(base, sets=(self.key,))
        return base

    def samples(self, root: str | Path | None = None) -> list[Sample]:
        folder = self.root_for(root) / self.key
        manifest_path = folder / "manifest.json"
        if not manifest_path.is_file():
            raise DatasetMissing(f"demo dataset {self.key} is not built: no {manifest_path}; "
                                 f"`python -m benchmarks.run table2 --demo` builds it")
        manifest = json.loads(manifest_path.read_text())
        return [Sample(x["id"], str(folder / x["input"]), str(folder / x["target"]), self.degradation,
                       "image", self.key) for x in manifest["samples"]]


SPECS = tuple(SyntheticDatasetSpec(s.key, s.degradation) for s in DEMO_SETS) + tuple(
    SyntheticDatasetSpec(train_key(d), (d,), role="train", expected_count=TRAIN_PAIRS,
                         source_url="generated by benchmarks.datasets.synthetic from photos bundled with "
                                    "scikit-image, pyiqa and matplotlib (never a demo test photo)")
    for d in DEMO_DEGRADATIONS)
