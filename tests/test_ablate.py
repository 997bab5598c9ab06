"""T0 ablation: min-max normalisation, flipped lower-is-better metrics, equal weights; checked by hand."""
from __future__ import annotations

import pandas as pd
import pytest

from benchmarks import ablate

# per-metric means for T0 = 0.2, 0.4, 0.6 (values chosen exactly representable in binary)
MEANS = {
    "psnr": (20.0, 22.0, 21.0),      # norm 0, 1, .5
    "ssim": (0.5, 0.625, 0.75),      # norm 0, .5, 1
    "lpips": (0.25, 0.125, 0.1875),  # raw 1, 0, .5 -> flipped 0, 1, .5
    "dists": (0.25, 0.125, 0.125),   # raw 1, 0, 0 -> flipped 0, 1, 1
    "clipiqa": (0.5, 0.5, 0.5),      # constant -> .5 each
    "musiq": (50.0, 60.0, 70.0),     # norm 0, .5, 1
}
T0S = (0.2, 0.4, 0.6)
# hand computation: (0+0+0+0+.5+0)/6, (1+.5+1+1+.5+.5)/6, (.5+1+.5+1+.5+1)/6; tie 0.4 vs 0.6 -> the smaller
HAND_SCORES = (0.5 / 6, 4.5 / 6, 4.5 / 6)


def per_sample_records(backbone="flux"):
    rows = []
    for metric, values in MEANS.items():
        for t0, v in zip(T0S, values):
            for sample, delta in (("a", -1.0), ("b", 1.0)):  # two samples whose mean is v
                rows.append({"method": ablate.variant_label(backbone, t0), "dataset": "lolv1", "sample": sample,
                             "metric": metric, "value": v + delta * 0.0625})
    return pd.DataFrame(rows)


def test_scores_match_hand_computation():
    records = pd.concat([per_sample_records("flux"),
                         pd.DataFrame([{"method": "dcp", "dataset": "lolv1", "sample": "a", "metric": "psnr",
                                        "value": 99.0}])])  # other methods are ignored
    scores = ablate.normalised_scores(ablate.metric_means(records))
    assert list(scores["t0"]) == list(T0S)
    assert list(scores["score"]) == pytest.approx(HAND_SCORES, abs=1e-12)
    assert list(scores["lpips_norm"]) == [0.0, 1.0, 0.5] and list(scores["clipiqa_norm"]) == [0.5] * 3
    assert ablate.chosen_t0(scores) == {"flux": 0.4}


def test_each_backbone_is_normalised_on_its_own():
    wan = per_sample_records("wan")
    wan.loc[wan["metric"] == "psnr", "value"] *= 10  # a scale change must not move wan's normalised scores
    scores = ablate.normalised_scores(ablate.metric_means(pd.concat([per_sample_records("flux"), wan])))
    for _, g in scores.groupby("backbone"):
        assert list(g["score"]) == pytest.approx(HAND_SCORES, abs=1e-12)


def test_missing_metric_is_an_error():
    records = per_sample_records()
    with pytest.raises(ValueError, match="musiq"):
        ablate.normalised_scores(ablate.metric_means(records[records["metric"] != "musiq"]))
    with pytest.raises(ValueError, match="no T0 ablation records"):
        ablate.metric_means(pd.DataFrame([{"method": "dcp", "metric": "psnr", "value": 1.0}]))


def test_cli_from_results_writes_csv_and_plots(tmp_path, capsys):
    records = tmp_path / "records.csv"
    per_sample_records("flux").to_csv(records, index=False)
    out = tmp_path / "t0"
    code = ablate.main(["t0", "--from-results", "--records", str(records), "--backbones", "flux",
                        "--t0", "0.2,0.4,0.6", "--out", str(out)])
    assert code == 0
    assert "chosen T0 for flux: 0.4" in capsys.readouterr().out
    written = pd.read_csv(out / "t0_scores.csv")
    assert list(written["score"]) == pytest.approx(HAND_SCORES, abs=1e-6)
    assert (out / "t0_scores.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (out / "t0_scores.pdf").read_bytes()[:4] == b"%PDF"


def test_cli_rejects_bad_candidates(capsys):
    with pytest.raises(SystemExit):
        ablate.main(["t0", "--from-results", "--t0", "0.4,1.5"])
    assert "(0, 1)" in capsys.readouterr().err


def test_from_the_store_only_this_plans_runs_count(tmp_path, monkeypatch, capsys):
    """Records of an older config under the same label (another prompt, changed settings) stay out: the store is
    filtered by ``plan_records`` to this plan's own run hashes."""
    plan = ablate.plan_t0(("flux",), T0S)
    hashes = {u.record_label: u.run_hash for u in plan.units if u.kind == "score"}
    fresh = per_sample_records("flux")
    fresh["config_hash"] = fresh["method"].map(hashes)
    stale = per_sample_records("flux")
    stale["config_hash"] = "an-older-config"
    stale.loc[stale["method"] == ablate.variant_label("flux", 0.2), "value"] += 100.0  # would make 0.2 win
    monkeypatch.setattr(ablate, "_load_records", lambda args, root: pd.concat([fresh, stale], ignore_index=True))
    out = tmp_path / "t0"
    assert ablate.main(["t0", "--from-results", "--backbones", "flux", "--t0", "0.2,0.4,0.6", "--out", str(out)]) == 0
    assert "chosen T0 for flux: 0.4" in capsys.readouterr().out
    assert list(pd.read_csv(out / "t0_scores.csv")["score"]) == pytest.approx(HAND_SCORES, abs=1e-6)


def test_t0_demo_plans_the_miniature_sweep_on_a_cpu_beside_the_demo(tmp_path):
    """``ablate t0 --demo``: low-light prompts of the miniature prior, one per T0, trained into the demo's prompt
    folder and scored (on a CPU) on the demo's low-light set; the store read back is the demo's own."""
    from benchmarks.ablate import plan_t0
    from benchmarks.runner.training import TrainUnit

    plan = plan_t0(("mini",), (0.2, 0.4), results_dir=str(tmp_path), data_root=str(tmp_path / "data"), demo=True)
    assert plan.layout.root == str(tmp_path / "demo")
    trains = [u for u in plan.units if isinstance(u, TrainUnit)]
    assert [(u.backbone, u.degradation, u.t0, u.dataset) for u in trains] == [
        ("mini", "lowlight", 0.2, "demo_lowlight_train"), ("mini", "lowlight", 0.4, "demo_lowlight_train")]
    assert all(u.prompts_root == str(tmp_path / "demo" / "prompts") for u in trains)
    assert all(u.needs.gpus == 0 for u in plan.units)
    assert trains[1].prompt_path() == tmp_path / "demo/prompts/mini/residual-ebr-t00.4/lowlight.safetensors"
    assert {u.dataset for u in plan.units if not isinstance(u, TrainUnit)} == {"demo_lowlight"}
    assert 0 < plan.cost().cpu_hours_to_run < 0.2
