"""One backbone load per worker: the restore units of one backbone at one setting run in one worker (a process, a
SLURM job) that loads the backbone once, each unit keeping its own resume, outcome and records; the records are
those of units run one by one, each loading its own backbone."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from test_backbones import save_tiny_folder, single_thread, tiny_flux, tiny_flux_components  # noqa: F401
from test_baselines_ypt import _write_prompts

from benchmarks.runner.execute import run_local
from benchmarks.runner.planning import Cell, plan_cells
from benchmarks.runner.units import Needs, ResultsLayout, RestoreUnit, ScoreUnit, WorkUnit, open_store
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
    failed = [(o.unit, o.error, o.log.read_text() if o.log else "") for o in outcomes if o.status != "done"]
    assert not failed, failed
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


@dataclass
class KeyedFile(WorkUnit):
    """Writes ``path``; shares ``share`` as its load key (None: nothing shared)."""

    kind = "keyed"
    path: str = ""
    share: str | None = None
    shard: int = 0
    needs: Needs = field(default_factory=lambda: Needs(cpus=1, mem_gb=1, minutes=5))

    def config(self):
        return {"path": self.path}

    @property
    def label(self):
        return Path(self.path).name

    def load_key(self):
        return self.share

    def is_done(self):
        return Path(self.path).is_file()

    def run(self, progress=True, models=None):
        if models is not None:
            models.get(self.share, lambda: object())
        Path(self.path).write_text("x")


class FakeJob:
    def __init__(self, job_id, units, folder):
        self.job_id, self.units = job_id, units
        self.paths = type("P", (), {"stdout": folder / f"{job_id}.out", "stderr": folder / f"{job_id}.err"})()
        self.state, self._result, self._error = "COMPLETED", None, None

    def finish(self, die_after=None):
        """Run the job's units in one worker (``die_after``: the job is killed after that many units)."""
        from slurm.jobs import run_units

        if die_after is None:
            self._result = {"attempts": 1, "units": run_units(self.units)}
        else:
            run_units(self.units[:die_after])
            self.state, self._error = "CANCELLED", RuntimeError("cancelled")

    def done(self, force_check=False):
        return True

    def exception(self):
        return self._error

    def result(self):
        return self._result


def test_slurm_submission_makes_one_job_per_worker_bundle_and_one_outcome_per_unit(tmp_path, monkeypatch):
    """Without a cluster (submitit's executor replaced by a recorder): the units of one load key and shard index
    go into one job asking for their summed time; every unit gets its job.json; a job killed half-way reports its
    finished units done and the others failed."""
    import submitit

    from slurm.executor import SlurmRunner
    from slurm.profiles import load_profile

    arrays = []

    class Recorder:
        def __init__(self, folder, cluster, slurm_max_num_timeout):
            self.folder, self.jobs = tmp_path / "jobs", []
            self.folder.mkdir(exist_ok=True)
            arrays.append(self)

        def update_parameters(self, **params):
            self.params = params

        def batch(self):
            import contextlib

            return contextlib.nullcontext()

        def submit(self, job):
            fake = FakeJob(f"{len(arrays)}_{len(self.jobs)}", job.units, self.folder)
            self.jobs.append(fake)
            return fake

    monkeypatch.setattr(submitit, "AutoExecutor", Recorder)
    units = [KeyedFile(path=str(tmp_path / f"{k}{s}"), share=k, shard=s) for s in (0, 1) for k in ("flux", "flux2")]
    units += [KeyedFile(path=str(tmp_path / "alone"))]
    submitted = SlurmRunner(load_profile("ci"), tmp_path / "logs", progress=False).submit(units)
    jobs = {s.unit.label: s.job for s in submitted}
    # one job per (key, shard): flux0, flux1, flux20, flux21 share nothing across keys or shards; "alone" is alone
    assert len({id(j) for j in jobs.values()}) == 5
    assert {len(j.units) for j in jobs.values()} == {1}
    both = [KeyedFile(path=str(tmp_path / f"b{i}"), share="flux") for i in range(3)]
    arrays.clear()
    submitted = SlurmRunner(load_profile("ci"), tmp_path / "logs", progress=False).submit(both)
    (array,) = arrays
    assert len(array.jobs) == 1 and array.jobs[0].units == both
    assert array.params["timeout_min"] == 10  # 3 x 5 min asked, clipped to the profile's limit (then requeues)
    for unit in both:
        history = json.loads((tmp_path / "logs" / unit.key / "job.json").read_text())
        assert [j["job_id"] for j in history["jobs"]] == [array.jobs[0].job_id]
    array.jobs[0].finish(die_after=2)
    runner = SlurmRunner(load_profile("ci"), tmp_path / "logs", progress=False)
    assert [o.status for o in runner.wait(submitted)] == ["done", "done", "failed"]
    array.jobs[0].finish()
    assert [o.status for o in runner.wait(submitted)] == ["done", "done", "done"]
