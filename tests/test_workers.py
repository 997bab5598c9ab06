"""One backbone load per worker: the restore units of one backbone at one setting run in one worker (a process, a
SLURM job) that loads the backbone once, each unit keeping its own resume, outcome and records; the records are
those of units run one by one, each loading its own backbone."""
from __future__ import annotations

from pathlib import Path

import pytest
from test_backbones import save_tiny_folder, single_thread, tiny_flux, tiny_flux_components  # noqa: F401
from test_baselines_ypt import _write_prompts

from benchmarks.runner.execute import run_local
from benchmarks.runner.planning import Cell, plan_cells
from benchmarks.runner.units import ResultsLayout, RestoreUnit, ScoreUnit, open_store
from benchmarks.runner.worker import bundles

SETS = ("demo_haze", "demo_rain", "demo_lowlight")


@pytest.fixture
def loads(monkeypatch):
    """Every backbone load of :meth:`ypt.restore.BackboneRequest.load`, counted (the backbone it loaded)."""
    from ypt.restore import BackboneRequest

    seen: list[str] = []
    real = BackboneRequest.load

    def counting(request):
        seen.append(request.backbone)
        return real(request)

    monkeypatch.setattr(BackboneRequest, "load", counting)
    return seen


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    """Tiny FLUX on disk, its five prompts, and three demo sets (32 px)."""
    from benchmarks.datasets import synthetic

    root = tmp_path_factory.mktemp("workers")
    save_tiny_folder(tiny_flux_components(), root / "flux")
    _write_prompts("flux", tiny_flux(), root / "prompts")
    synthetic.build_demo(root / "data", size=32, sets=SETS)
    return root


def _plan(root: Path, results: Path, shards: int = 2):
    settings = {"model": str(root / "flux"), "prompts_root": str(root / "prompts"), "device": "cpu", "dtype": "fp32",
                "image_size": [16, 16], "num_inference_steps": 2}
    cells = [Cell("ypt_flux", s, ("psnr",), settings=tuple(sorted(settings.items()))) for s in SETS]
    cells += [Cell("input", s, ("psnr",)) for s in SETS]
    return plan_cells("workers", cells, layout=ResultsLayout(str(results)), data_root=str(root / "data"), limit=3,
                      num_shards=shards)


def _records(results: Path):
    frame = open_store(str(results)).load()
    cols = ["method", "dataset", "sample", "metric", "value", "config_hash", "output_sha256"]
    return frame.sort_values(cols[:4])[cols].reset_index(drop=True)


def test_a_local_plan_loads_its_backbone_once_with_the_records_of_one_by_one_units(setup, loads, tmp_path):
    shared = _plan(setup, tmp_path / "shared")
    restores = [u for u in shared.units if isinstance(u, RestoreUnit) and u.method == "ypt_flux"]
    assert len(restores) == 6  # 3 sets x 2 shards
    outcomes = run_local(shared.units, tmp_path / "logs", progress=False)
    assert {o.status for o in outcomes} == {"done"}
    assert loads == ["flux"]  # one load for six units

    # before: every unit on its own loads its backbone
    alone = _plan(setup, tmp_path / "alone")
    loads.clear()
    for unit in [u for u in alone.units if isinstance(u, RestoreUnit)] + \
            [u for u in alone.units if isinstance(u, ScoreUnit)]:
        unit.run(progress=False)
    assert loads == ["flux"] * 6
    shared_records, alone_records = _records(tmp_path / "shared"), _records(tmp_path / "alone")
    assert len(shared_records) == 2 * 3 * 3  # two methods, three sets, three samples
    assert shared_records.equals(alone_records)
    for unit in restores:  # and byte-equal outputs
        other = next(u for u in alone.units if u.key == unit.key)
        for path in sorted(unit.out_dir.glob("**/*.png")):
            assert path.read_bytes() == (other.out_dir / path.relative_to(unit.out_dir)).read_bytes()

    # a rerun finds everything done: no load
    loads.clear()
    assert {o.status for o in run_local(shared.units, tmp_path / "logs", progress=False)} == {"skipped"}
    assert loads == []


def test_slurm_jobs_bundle_a_backbone_per_shard_and_report_each_unit(setup, loads, tmp_path):
    from slurm.jobs import run_units

    plan = _plan(setup, tmp_path / "results")
    restores = [u for u in plan.units if isinstance(u, RestoreUnit)]
    jobs = bundles(restores, per_shard=True)
    flux_jobs = [b for b in jobs if b[0].method == "ypt_flux"]
    assert [[(u.dataset, u.shard) for u in b] for b in flux_jobs] == [[(s, k) for s in SETS] for k in (0, 1)]
    assert all(len(b) == 1 for b in jobs if b[0].method == "input")  # nothing to share: one unit per job

    # one job's run: one load for its three units, each unit reported on its own; a unit that fails does not stop
    # the others, and a requeued job skips the units already done
    units = list(flux_jobs[0])
    units[1] = RestoreUnit(**{**{f: getattr(units[1], f) for f in ("method", "dataset", "runs_root", "shard",
                                                                     "num_shards", "limit")},
                              "data_root": str(tmp_path / "nowhere"), "settings": units[1].settings})
    report = run_units(units)
    assert loads == ["flux"]
    assert [report[u.key]["error"] is None for u in units] == [True, False, True]
    assert "demo_rain" in report[units[1].key]["error"], report[units[1].key]["error"]
    assert units[0].is_done() and units[2].is_done()
    loads.clear()
    again = run_units([units[0], units[2]])
    assert loads == [] and all(r["error"] is None and not r["failures"] for r in again.values())


def test_table2_plan_loads_flux_once_per_worker():
    """Table 2's plan: nine FLUX restore units, one worker locally (one load), one per shard on SLURM."""
    from benchmarks import tables
    from benchmarks.runner.planning import plan_table
    from benchmarks.runner.report import load_lines

    for shards in (1, 4):
        plan = plan_table(tables.get("table2"), methods=["ypt_flux", "dcpt"], num_shards=shards)
        restores = [u for u in plan.units if isinstance(u, RestoreUnit)]
        flux = [u for u in restores if u.method == "ypt_flux"]
        assert len(flux) == 9 * shards
        assert len({u.load_key() for u in flux}) == 1
        assert all(u.load_key() is None for u in restores if u.method == "dcpt")
        local = [b for b in bundles(restores) if b[0].method == "ypt_flux"]
        assert len(local) == 1 and len(local[0]) == 9 * shards
        per_job = [b for b in bundles(restores, per_shard=True) if b[0].method == "ypt_flux"]
        assert len(per_job) == shards and all(len(b) == 9 for b in per_job)
        (line,) = load_lines(plan.units)  # what --dry-run prints
        assert f"ypt_flux (ypt_flux): {9 * shards} restore units, 1 load in a local run, {shards} on SLURM" in line


def test_batch_size_leaves_the_run_hash_alone_and_the_outputs_equal(setup, tmp_path):
    """``batch_size`` changes how many samples go through the sampler at a time, not what they restore to: the run
    folder (hash) is the same, and batch 3 writes what batch 1 writes (8-bit, up to one level)."""
    import numpy as np
    from PIL import Image

    plan1, plan3 = _plan(setup, tmp_path / "one", shards=1), _plan(setup, tmp_path / "three", shards=1)
    unit1 = next(u for u in plan1.units if isinstance(u, RestoreUnit) and u.method == "ypt_flux")
    unit3 = next(u for u in plan3.units if u.key == unit1.key)
    unit3.settings = {**unit3.settings, "batch_size": 3}
    assert unit3.run_hash == unit1.run_hash and unit3.key == unit1.key
    steps = {**unit1.settings, "num_inference_steps": 3}
    assert RestoreUnit(method="ypt_flux", dataset=unit1.dataset, settings=steps).run_hash != unit1.run_hash
    unit1.run(progress=False)
    unit3.run(progress=False)
    ones, threes = sorted(unit1.out_dir.glob("**/*.png")), sorted(unit3.out_dir.glob("**/*.png"))
    assert len(ones) == len(threes) == 3
    for a, b in zip(ones, threes):
        diff = np.abs(np.asarray(Image.open(a), dtype=int) - np.asarray(Image.open(b), dtype=int))
        assert diff.max() <= 1
