"""The built-in demo benchmark: natural photos shipped inside scikit-image, degraded with known parameters.

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

Every random draw comes from ``numpy.random.default_rng([seed, set index, image index])``, so the demo is the same
on every machine. Demo results live under ``results/demo/`` and are titled "demo": never mixed with paper tables.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.datasets.spec import Sample

GENERATOR_VERSION = "ypt-demo-v1"
IMAGES = ("astronaut", "coffee", "chelsea", "rocket")
DEFAULT_SIZE = 256
SEED = 42


@dataclass(frozen=True)
class DemoSet:
    key: str
    degradation: tuple[str, ...]
    params: dict[str, Any]


#: the demo's datasets, with the degradation parameters they are generated with
DEMO_SETS: tuple[DemoSet, ...] = (
    DemoSet("demo_haze", ("haze",), {"beta": 1.6, "airlight": 0.9, "depth_far": 1.0, "depth_near": 0.15}),
    DemoSet("demo_rain", ("rain",), {"density": 0.004, "length": 15, "angle": 75.0, "intensity": 0.55}),
    DemoSet("demo_lowlight", ("lowlight",), {"gamma": 1.8, "gain": 0.3, "sigma": 0.01}),
    DemoSet("demo_blur", ("blur",), {"sigma": 2.0, "radius": 6}),
    DemoSet("demo_noise", ("noise",), {"sigma": 0.08}),
)
DEMO_KEYS = tuple(s.key for s in DEMO_SETS)
#: the methods that run on a CPU, compared in the demo table
DEMO_METHODS = ("input", "dcp", "lime")


def demo_set(key: str) -> DemoSet:
    for s in DEMO_SETS:
        if s.key == key:
            return s
    from ypt.registry import UnknownKeyError

    raise UnknownKeyError("demo dataset", key, list(DEMO_KEYS))


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
        if manifest_path.is_file() and json.loads(manifest_path.read_text())["generator"] == GENERATOR_VERSION \
                and {k: v for k, v in json.loads(manifest_path.read_text()).items() if k != "samples"} == manifest:
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


# -- the demo sets as datasets --------------------------------------------------------------------------------------
#: where ``--demo`` writes and reads everything: data, runs, store, tables (never ``results/tables`` of the paper)
DEMO_RESULTS = Path("results/demo")
DEMO_DATA_ENV = "YPT_DEMO_DATA"


def demo_data_root() -> Path:
    import os

    return Path(os.environ.get(DEMO_DATA_ENV) or DEMO_RESULTS / "data")


@dataclass(frozen=True)
class DemoDataset:
    """A demo set as a dataset: ``samples(root)`` lists it from its manifest under ``root`` (default
    :func:`demo_data_root`)."""

    key: str
    degradation: tuple[str, ...]
    modality: str = "image"
    role: str = "demo"
    paired: bool = True
    expected_count: int = len(IMAGES)

    @property
    def display_name(self) -> str:
        return "Demo " + self.key.removeprefix("demo_")

    def samples(self, root: str | Path | None = None) -> list[Sample]:
        folder = Path(root or demo_data_root()) / self.key
        manifest_path = folder / "manifest.json"
        if not manifest_path.is_file():
            raise FileNotFoundError(f"demo dataset {self.key} is not built: no {manifest_path}; "
                                    f"`python -m benchmarks.run table2 --demo` builds it")
        manifest = json.loads(manifest_path.read_text())
        return [Sample(x["id"], str(folder / x["input"]), str(folder / x["target"]), self.degradation,
                           "image", self.key) for x in manifest["samples"]]


DEMO_DATASETS = {s.key: DemoDataset(s.key, s.degradation) for s in DEMO_SETS}


# -- registering and running the demo ---------------------------------------------------------------------------------
def register_datasets() -> None:
    """Register the demo sets in the dataset registry (idempotent; run in every process that looks them up)."""
    from benchmarks import datasets

    for key, spec in DEMO_DATASETS.items():
        if key not in datasets.keys():
            datasets.register(spec)


DEMO_HOOK = "benchmarks.demo:register_datasets"
DEMO_TITLE = "Built-in demo (synthetic degradations of scikit-image photos; not the paper's numbers)"


def demo_plan(methods: tuple[str, ...] = DEMO_METHODS, sets: tuple[str, ...] = DEMO_KEYS,
              metrics: tuple[str, ...] = ("psnr", "ssim", "lpips", "dists", "clipiqa", "musiq"),
              limit: int | None = None, results: Path = DEMO_RESULTS, data_root: Path | None = None,
              size: int = DEFAULT_SIZE):
    """Build the demo data (if needed) and plan restore + score of ``methods`` x ``sets``."""
    from benchmarks.plan import Layout, plan_cells

    root = Path(data_root or demo_data_root())
    build_demo(root, size=size, sets=sets)
    register_datasets()
    cells = [(m, d, metrics) for m in methods for d in sets]
    return plan_cells("demo", cells, layout=Layout(str(results)), data_root=str(root.resolve()), limit=limit,
                      hook=DEMO_HOOK, title=DEMO_TITLE, expected={d: len(IMAGES) for d in sets})


def demo_table_spec(methods: tuple[str, ...], sets: tuple[str, ...], metrics: tuple[str, ...]):
    """A table spec for the demo (its own title and key: never one of the paper's tables)."""
    from benchmarks.tables import Group, Row, TableSpec

    groups = tuple(Group(k, DEMO_DATASETS[k].display_name, metrics) for k in sets)
    return TableSpec(key="demo", title=DEMO_TITLE, rows=tuple(Row(m) for m in methods), groups=groups,
                     average=True, note="Synthetic degradations of known parameters (benchmarks/demo.py).")


def versus_input(records):
    """Per (method, dataset, metric): the method's mean, the degraded input's mean, the delta, and whether the
    method improved on the input (direction-aware)."""
    from benchmarks.protocol import METRIC_LOWER_BETTER
    from benchmarks.table_engine import dataset_means

    means = dataset_means(records)
    base = means[means["method"] == "input"].set_index(["dataset", "metric"])["value"]
    rows = means[means["method"] != "input"].copy()
    rows["input"] = [base.get((d, m)) for d, m in zip(rows["dataset"], rows["metric"])]
    rows["delta"] = rows["value"] - rows["input"]
    rows["improves"] = [(d < 0) if METRIC_LOWER_BETTER[m] else (d > 0) for d, m in zip(rows["delta"], rows["metric"])]
    return rows.reset_index(drop=True)


def print_versus_input(comparison, spec, console) -> None:
    from rich.table import Table

    table = Table(title="Demo: each method against the degraded input")
    for col in ("method", "dataset", "metric", "method value", "input value", "delta"):
        table.add_column(col, justify="right" if "value" in col or col == "delta" else "left")
    for _, r in comparison.iterrows():
        colour = "green" if r["improves"] else "red"
        table.add_row(spec.row(r["method"]).label, r["dataset"], r["metric"], f"{r['value']:.4g}",
                      f"{r['input']:.4g}", f"[{colour}]{r['delta']:+.4g}[/{colour}]")
    console.print(table)


def render_demo(plan, methods, sets, metrics, out_dir: Path, console=None) -> dict:
    """Render the demo table from the result store (this plan's records only), save CSV/MD/TeX, and compare each
    method with the degraded input (the delta a restorer achieves)."""
    from benchmarks import table_engine as engine
    from benchmarks.plan import open_store, plan_records, wide_console

    console = console or wide_console()
    spec = demo_table_spec(methods, sets, metrics)
    records = plan_records(plan, open_store(plan.layout.root).load())
    if records.empty:
        console.print("[red]no demo records to render[/red]: every score unit failed (see the logs above)")
        return {}
    table = engine.build_table(records, spec)
    engine.render(table, spec, console, title=DEMO_TITLE)
    written = engine.save_table(table, spec, out_dir, stem="demo_table", title=DEMO_TITLE)
    if "input" in methods and len(methods) > 1:
        comparison = versus_input(records)
        print_versus_input(comparison, spec, console)
        from ypt.files import atomic_write_text

        written["comparison"] = atomic_write_text(out_dir / "demo_vs_input.csv",
                                                  comparison.to_csv(index=False, float_format="%.6g"))
    console.print("saved " + ", ".join(str(p) for p in written.values()))
    return written


def run_demo(key: str, args) -> int:
    """``python -m benchmarks.run table2 --demo``: build the demo data, plan, run what is missing, render."""
    import os

    from rich.markup import escape

    from benchmarks.plan import run_plan, split_list, wide_console

    console = wide_console()
    methods = split_list(getattr(args, "methods", None)) or DEMO_METHODS
    sets = split_list(getattr(args, "datasets", None)) or DEMO_KEYS
    unknown = [s for s in sets if s not in DEMO_DATASETS]
    if unknown:
        console.print(f"error: unknown demo dataset(s) {', '.join(unknown)}; demo sets: {', '.join(DEMO_KEYS)}")
        return 2
    from benchmarks.plan import metric_problems
    from benchmarks.tables import IMAGE_METRICS

    absent = metric_problems(IMAGE_METRICS)
    metrics = tuple(m for m in IMAGE_METRICS if m not in absent)
    for name, why in absent.items():
        console.print(f"[yellow]demo without {name}[/yellow]: {escape(why)}", highlight=False)
    results = Path(getattr(args, "results_dir", "results")) / "demo"
    data_root = Path(os.environ.get(DEMO_DATA_ENV) or results / "data")
    console.print(f"demo for {key}: methods {', '.join(methods)} on {', '.join(sets)}; results under {results}/ "
                  f"(the paper's tables are not touched)")
    plan = demo_plan(methods, sets, metrics, limit=args.limit, results=results, data_root=data_root)
    code = run_plan(plan, executor=args.executor, cluster=args.cluster, dry_run=args.dry_run)
    if args.dry_run or code == 2:  # 2: the run could not start (executor or cluster profile)
        return code
    render_demo(plan, methods, sets, metrics, Path(getattr(args, "out", None) or results / "tables"), console)
    return code
