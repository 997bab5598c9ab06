"""The built-in demo: generated degradations follow their analytic models with the recorded parameters."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from benchmarks.datasets import synthetic as demo
from demo_plans import demo_plan


def _read(path):
    return np.asarray(Image.open(path), dtype=np.float64) / 255.0


@pytest.fixture(scope="module")
def demo_root(tmp_path_factory):
    return demo.build_demo(tmp_path_factory.mktemp("demo"), size=64)


def test_layout_and_manifest(demo_root):
    for s in demo.DEMO_SETS:
        manifest = json.loads((demo_root / s.key / "manifest.json").read_text())
        assert manifest["params"] == s.params and manifest["degradation"] == list(s.degradation)
        assert [x["id"] for x in manifest["samples"]] == list(demo.IMAGES)
        for x in manifest["samples"]:
            assert _read(demo_root / s.key / x["input"]).shape == (64, 64, 3)
            assert _read(demo_root / s.key / x["target"]).shape == (64, 64, 3)


def test_haze_is_atmospheric_scattering_with_known_transmission(demo_root):
    p = demo.demo_set("demo_haze").params
    clean = _read(demo_root / "demo_haze/target/coffee.png")
    hazy = _read(demo_root / "demo_haze/input/coffee.png")
    t = np.exp(-p["beta"] * np.linspace(p["depth_far"], p["depth_near"], 64))[:, None, None]
    # both PNGs are 8-bit: the model holds to within one quantisation step of each
    assert np.abs(hazy - (clean * t + p["airlight"] * (1 - t))).max() <= 1.01 / 255
    assert hazy[0].mean() > hazy[-1].mean() - 0.2  # far rows are greyer


def test_blur_is_the_known_gaussian_kernel(demo_root):
    from scipy.ndimage import convolve

    p = demo.demo_set("demo_blur").params
    k = demo.gaussian_kernel(**p)
    assert k.shape == (13, 13) and abs(k.sum() - 1) < 1e-12 and k[6, 6] == k.max()
    clean = _read(demo_root / "demo_blur/target/chelsea.png")
    blurred = _read(demo_root / "demo_blur/input/chelsea.png")
    expect = np.stack([convolve(clean[..., c], k, mode="reflect") for c in range(3)], axis=2)
    assert np.abs(blurred - expect).max() <= 1.01 / 255


def test_noise_and_lowlight_statistics(demo_root):
    sigma = demo.demo_set("demo_noise").params["sigma"]
    clean = _read(demo_root / "demo_noise/target/astronaut.png")
    noisy = _read(demo_root / "demo_noise/input/astronaut.png")
    inner = (clean > 0.25) & (clean < 0.75)  # no clipping there
    assert abs((noisy - clean)[inner].std() - sigma) < 0.1 * sigma
    p = demo.demo_set("demo_lowlight").params
    low = _read(demo_root / "demo_lowlight/input/astronaut.png")
    clean = _read(demo_root / "demo_lowlight/target/astronaut.png")
    assert abs(low.mean() - (p["gain"] * clean ** p["gamma"]).mean()) < 0.01


def test_rain_kernel_and_layer():
    k = demo.line_kernel(15, 90.0)
    assert np.allclose(k.sum(axis=0)[7], 1.0)  # a vertical line: every weight in the centre column
    layer = demo.rain_layer(64, 64, np.random.default_rng(0), density=0.0, length=15, angle=75.0, intensity=0.5)
    assert layer.max() == 0.0
    layer = demo.rain_layer(64, 64, np.random.default_rng(0), density=0.01, length=15, angle=75.0, intensity=0.5)
    assert layer.max() == pytest.approx(0.5)


def test_rebuild_is_a_no_op(demo_root):
    path = demo_root / "demo_rain/input/rocket.png"
    before = path.stat().st_mtime_ns
    demo.build_demo(demo_root, size=64)
    assert path.stat().st_mtime_ns == before


# -- the pipeline on the demo: restore, score, render; a rerun does no work ----------------------------------------
@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    from benchmarks.runner.execute import run_local

    base = tmp_path_factory.mktemp("demo_run")
    kwargs = dict(methods=("input", "dcp", "lime"), sets=("demo_haze", "demo_lowlight"), metrics=("psnr", "ssim"),
                  limit=2, data_root=base / "data", results=base / "results", size=64)
    plan = demo_plan(**kwargs)
    outcomes = run_local(plan.units, base / "logs", progress=False)
    return base, kwargs, plan, outcomes


def test_demo_pipeline_runs_every_unit(demo_run):
    _, _, plan, outcomes = demo_run
    assert len(plan.units) == 3 * 2 * 2  # (restore + score) per method x set
    assert [o.status for o in outcomes] == ["done"] * len(plan.units), [o.error for o in outcomes]
    assert plan.todo() == []


def test_second_run_does_no_restoration_or_metric_work(demo_run, monkeypatch):
    from benchmarks.runner.execute import run_local

    base, kwargs, _, _ = demo_run
    again = demo_plan(**kwargs)
    assert again.todo() == []  # the planner finds every unit done
    calls = []
    import baselines.base
    import benchmarks.evaluate

    monkeypatch.setattr(baselines.base.Method, "restore", lambda *a, **k: calls.append("restore"))
    monkeypatch.setattr(benchmarks.evaluate, "evaluate", lambda *a, **k: calls.append("evaluate"))
    outcomes = run_local(again.units, base / "logs", progress=False)
    assert {o.status for o in outcomes} == {"skipped"} and calls == []


def test_classic_restorers_beat_the_input_on_their_degradation(demo_run):
    from benchmarks.runner.render import versus_input
    from benchmarks.runner.units import open_store

    _, _, plan, _ = demo_run
    records = plan.records(open_store(plan.layout.root).load())
    assert len(records) == 3 * 2 * 2 * 2  # methods x sets x samples x metrics
    vs = versus_input(records).set_index(["method", "dataset", "metric"])
    # known physics: DCP inverts the haze model, LIME brightens low light
    assert vs.loc[("dcp", "demo_haze", "psnr"), "delta"] > 3
    assert vs.loc[("lime", "demo_lowlight", "psnr"), "delta"] > 3
    assert vs.loc[("dcp", "demo_haze", "ssim"), "improves"]


def test_changed_config_gets_new_units_and_folder(demo_run):
    from benchmarks.runner.planning import Cell, plan_cells
    from benchmarks.runner.units import ResultsLayout

    base, kwargs, plan, _ = demo_run
    layout = ResultsLayout(str(kwargs["results"]))
    same = plan_cells("x", [Cell("dcp", "demo_haze", ("psnr", "ssim"))], layout=layout, limit=2,
                      data_root=str(Path(kwargs["data_root"]).resolve()))
    changed = plan_cells("x", [Cell("dcp", "demo_haze", ("psnr", "ssim"), settings=(("omega", 0.8),))],
                         layout=layout, limit=2, data_root=str(Path(kwargs["data_root"]).resolve()))
    assert same.todo() == []
    assert {u.key for u in same.units} <= {u.key for u in plan.units}
    assert len(changed.todo()) == 2 and changed.units[0].out_dir != same.units[0].out_dir


def test_cli_demo_writes_its_own_tables(tmp_path, capsys):
    from benchmarks.run import main

    code = main(["table2", "--demo", "--results-dir", str(tmp_path), "--methods", "input,dcp",
                 "--datasets", "demo_haze", "--limit", "1"])
    assert code == 0
    out = capsys.readouterr().out
    assert "Built-in demo" in out and "not the paper" in out
    for name in ("demo_table.csv", "demo_table.md", "demo_table.tex", "demo_vs_input.csv"):
        assert (tmp_path / "demo" / "tables" / name).is_file()
    assert not (tmp_path / "tables").exists()  # nothing next to the paper's tables


def test_failed_unit_is_reported_with_its_log_and_its_cells_render_missing(tmp_path, capsys):
    from benchmarks.run import main

    args = ["table2", "--demo", "--results-dir", str(tmp_path), "--methods", "input,dcp",
            "--datasets", "demo_haze,demo_blur", "--limit", "1"]
    demo.build_demo(tmp_path / "demo" / "data", sets=("demo_haze", "demo_blur"))
    (tmp_path / "demo" / "data" / "demo_blur" / "input" / "astronaut.png").unlink()  # a broken input
    assert main(args) == 1
    captured = capsys.readouterr()
    text = " ".join((captured.out + captured.err).split())
    assert "failed restore-input_demo_blur-" in text and "blocked score-input_demo_blur-" in text
    log = next((tmp_path / "demo" / "slurm" / "demo").glob("restore-input_demo_blur-*/local.log"))
    assert "astronaut" in log.read_text() and str(log) in text
    import pandas as pd

    frame = pd.read_csv(tmp_path / "demo" / "tables" / "demo_table.csv", index_col=0)
    assert list(frame.index) == ["input", "dcp"]
    assert frame[["demo_blur/psnr", "demo_blur/ssim"]].isna().all().all()  # the failed cells: missing
    assert frame[["demo_haze/psnr", "demo_haze/ssim"]].notna().all().all()


def test_a_cell_over_fewer_samples_than_its_set_prints_n_of_n(tmp_path, capsys):
    """One truncated input of four: that sample fails alone (one line naming it), the other three are restored and
    scored, and the table's cells of that method and set print ``value (3/4)``."""
    from benchmarks.run import main

    data = tmp_path / "demo" / "data"
    demo.build_demo(data, size=32, sets=("demo_blur",))
    bad = data / "demo_blur" / "input" / "coffee.png"
    bad.write_bytes(bad.read_bytes()[:100])
    assert main(["table2", "--demo", "--results-dir", str(tmp_path), "--methods", "input,dcp",
                 "--datasets", "demo_blur"]) == 1
    captured = capsys.readouterr()
    failures = [line for line in (captured.out + captured.err).splitlines() if "sample coffee" in line]
    assert len(failures) == 2 and all(str(bad) in line for line in failures)  # one per method
    md = (tmp_path / "demo" / "tables" / "demo_table.md").read_text()
    assert "(3/4)" in md.split("| Input (degraded)")[1].split("\n")[0]  # the input row's cells say 3 of 4
    assert "(3/4)" in md.split("| Dark channel prior")[1].split("\n")[0]
    import pandas as pd

    frame = pd.read_csv(tmp_path / "demo" / "tables" / "demo_table.csv", index_col=0)
    assert frame.notna().all().all()  # the numbers themselves are in the CSV, over the three samples
