"""Planner and local executor: content-addressed units, shards, dependency waves, failures with logs."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from benchmarks.runner.execute import dependency_waves, execute, run_local
from benchmarks.runner.units import Needs, WorkUnit, shard_bounds


@dataclass
class FileUnit(WorkUnit):
    kind = "file"
    path: str = ""
    text: str = "x"
    fail: bool = False

    def config(self):
        return {"path": self.path, "text": self.text}

    @property
    def label(self):
        return Path(self.path).name

    def is_done(self):
        p = Path(self.path)
        return p.is_file() and p.read_text() == self.text

    def run(self, progress=True):
        if self.fail:
            raise OSError(f"disk on fire while writing {self.path}")
        Path(self.path).write_text(self.text)


def test_shard_bounds_cover_every_sample_once():
    for n in (0, 1, 7, 10):
        for k in (1, 3, 4):
            spans = [shard_bounds(n, i, k) for i in range(k)]
            assert [i for a, b in spans for i in range(a, b)] == list(range(n))
            assert max(b - a for a, b in spans) - min(b - a for a, b in spans) <= 1
    with pytest.raises(ValueError):
        shard_bounds(5, 3, 3)


def test_key_is_content_addressed(tmp_path):
    a = FileUnit(path=str(tmp_path / "a"), text="1")
    assert a.key == FileUnit(path=str(tmp_path / "a"), text="1").key
    assert a.key != FileUnit(path=str(tmp_path / "a"), text="2").key  # changed config, new unit
    assert a.key.startswith("file-a-") and "/" not in a.key


def test_waves_respect_dependencies_and_reject_cycles(tmp_path):
    a = FileUnit(path=str(tmp_path / "a"))
    b = FileUnit(path=str(tmp_path / "b"), deps=(a.key,))
    c = FileUnit(path=str(tmp_path / "c"), deps=(b.key, "outside-the-plan"))
    assert [[u.label for u in w] for w in dependency_waves([c, b, a])] == [["a"], ["b"], ["c"]]
    a2 = FileUnit(path=str(tmp_path / "a"), deps=(c.key,))
    b2 = FileUnit(path=str(tmp_path / "b"), deps=(a2.key,))
    c2 = FileUnit(path=str(tmp_path / "c"), deps=(b2.key,))
    object.__setattr__(a2, "deps", (c2.key,))
    with pytest.raises(ValueError, match="cycle"):
        dependency_waves([a2, b2, c2])


def test_local_run_skips_done_reports_failure_with_log_and_blocks_dependents(tmp_path):
    good = FileUnit(path=str(tmp_path / "good"))
    bad = FileUnit(path=str(tmp_path / "bad"), fail=True)
    after_bad = FileUnit(path=str(tmp_path / "after"), deps=(bad.key,))
    outcomes = {o.unit: o for o in run_local([after_bad, bad, good], tmp_path / "logs", progress=False)}
    assert outcomes[good.key].status == "done" and (tmp_path / "good").read_text() == "x"
    assert outcomes[bad.key].status == "failed" and "disk on fire" in outcomes[bad.key].error
    log = outcomes[bad.key].log
    assert log == tmp_path / "logs" / bad.key / "local.log" and "OSError: disk on fire" in log.read_text()
    assert outcomes[after_bad.key].status == "blocked" and not (tmp_path / "after").exists()
    # a rerun does no work for what is done
    again = {o.unit: o.status for o in execute([good], "local", tmp_path / "logs", progress=False)}
    assert again == {good.key: "skipped"}


def test_unknown_executor_and_cluster_are_named(tmp_path):
    with pytest.raises(ValueError, match="local, slurm"):
        execute([], "kubernetes", tmp_path)
    with pytest.raises(ValueError, match="--cluster"):
        execute([], "slurm", tmp_path)
    assert Needs().gpus == 0


def test_table2_dry_run_without_data_lists_everything_missing(tmp_path, monkeypatch, capsys):
    """Acceptance: no dataset present -> every missing dataset and checkpoint with how to get it, exit non-zero,
    a summary, no traceback; nothing is run."""
    from benchmarks.run import main
    from benchmarks.tables import get

    monkeypatch.setenv("YPT_DATA", str(tmp_path / "no_data"))
    monkeypatch.setenv("YPT_DATA_CONFIG", str(tmp_path / "datasets.toml"))
    monkeypatch.setenv("YPT_BASELINES_CONFIG", str(tmp_path / "baselines.toml"))
    code = main(["table2", "--dry-run", "--results-dir", str(tmp_path / "results")])
    out, err = capsys.readouterr()
    assert code == 1 and "Traceback" not in out + err
    assert "plan: Table 2" in out and "cost:" in out and "GPU-hours" in out
    for dataset in get("table2").dataset_keys:
        assert f"dataset {dataset}\n" in err, dataset
        assert f"{dataset} not found under" in err or f"({dataset}) not found under" in err
    for train_set in ("reside_ots_train", "snow100k_train", "rain13k_train", "lolv1_train", "gopro_train"):
        assert f"dataset {train_set}\n" in err
    for method in ("dcpt", "dfpir", "autodir", "pixwizard", "foundir"):
        assert f"checkpoint/environment {method}:" in err, method
    assert "summary: missing dataset: 14" in err
    assert not (tmp_path / "results").exists()  # a dry run writes nothing


def test_training_fan_out_units_and_resume_by_prompt_file(tmp_path, monkeypatch):
    """Five prompts per backbone, one unit each; a unit is done exactly when its prompt file exists where the
    ypt_flux / ypt_wan methods look (ypt.prompts.default_prompt_path), so a rerun skips finished prompts."""
    from ypt.prompts import default_prompt_path

    from benchmarks.protocol import DEGRADATIONS
    from benchmarks.runner.training import TRAIN_SETS, training_units
    from slurm.train import main

    monkeypatch.setenv("YPT_PROMPTS", str(tmp_path / "prompts"))
    units = training_units(["flux", "wan"], DEGRADATIONS)
    assert len(units) == 10 and len({u.key for u in units}) == 10
    assert {(u.backbone, u.dataset) for u in units} == {(b, d) for b in ("flux", "wan") for d in TRAIN_SETS[b].values()}
    flux_haze = units[0]
    assert (flux_haze.backbone, flux_haze.degradation, flux_haze.needs.gpus) == ("flux", "haze", 1)
    assert flux_haze.prompt_path() == default_prompt_path("flux", "haze")
    assert not flux_haze.is_done()
    flux_haze.prompt_path().parent.mkdir(parents=True)
    flux_haze.prompt_path().write_bytes(b"prompt")
    assert flux_haze.is_done() and not any(u.is_done() for u in units[1:])
    # another T0 is another prompt, in another file
    (other,) = training_units(["flux"], ["haze"], t0=0.3)
    assert other.key != flux_haze.key and other.prompt_path() != flux_haze.prompt_path()
    # checkpointing / compile change speed and memory, not the prompt: same unit, same file, flags passed on
    (ckpt,) = training_units(["flux"], ["haze"], extra_args=["--gradient-checkpointing", "--compile"])
    assert ckpt.key == flux_haze.key and ckpt.is_done()
    assert ckpt.train_config().gradient_checkpointing and ckpt.train_config().compile
    from benchmarks import datasets

    known = set(datasets.keys())
    assert all(u.dataset in known for u in units)
    assert main(["--backbones", "flux", "--degradations", "haze,fog"]) == 2


def test_training_pairs_come_from_the_registry_and_skip_reference_free_samples(monkeypatch, tmp_path):
    """A training unit trains on the dataset's (input, target) samples that have a reference."""
    from types import SimpleNamespace

    from ypt.errors import MissingData

    from benchmarks import datasets
    from benchmarks.runner.training import TrainUnit

    samples = [SimpleNamespace(input="a_in.png", target="a_gt.png"), SimpleNamespace(input="b.png", target="b.png"),
               SimpleNamespace(input="c.png", target=None)]
    seen = []

    def get(key):
        seen.append(key)
        return SimpleNamespace(samples=lambda root: seen.append(root) or samples)

    monkeypatch.setattr(datasets, "get", get)
    unit = TrainUnit(dataset="lhp", data_root=str(tmp_path))
    assert unit.training_pairs() == [("a_in.png", "a_gt.png")]
    assert seen == ["lhp", tmp_path]
    samples[0] = SimpleNamespace(input="x.png", target="x.png")
    with pytest.raises(MissingData, match="no \\(input, target\\) pairs"):
        unit.training_pairs()


def test_slurm_without_a_usable_profile_is_a_clear_error(tmp_path, capsys):
    from benchmarks.run import main

    base = ["table2", "--demo", "--results-dir", str(tmp_path), "--methods", "input", "--datasets", "demo_haze",
            "--limit", "1", "--executor", "slurm"]
    assert main(base) == 2
    assert "--executor slurm needs --cluster NAME (profiles: ci, h100" in capsys.readouterr().err
    assert main(base + ["--cluster", "nope"]) == 2
    err = capsys.readouterr().err
    assert "no cluster profile 'nope'" in err and "Traceback" not in err


def test_missing_items_print_their_brackets_literally():
    """Fix instructions name TOML sections (``[viwsnet]``, ``[roots]``): rich must print them, not read them as
    markup and drop them."""
    import io

    from rich.console import Console

    from benchmarks.runner.report import print_missing
    from benchmarks.runner.units import Missing

    out = io.StringIO()
    print_missing([Missing("checkpoint/environment", "viwsnet: no environment [x]",
                           'set python = "/env/bin/python" in [viwsnet] in /cfg/baselines.toml')],
                  Console(file=out, width=200))
    text = out.getvalue()
    assert "in [viwsnet] in /cfg/baselines.toml" in text and "no environment [x]" in text


def test_a_score_unit_without_any_runnable_metric_is_blocked_not_done(tmp_path, monkeypatch, capsys):
    """A set whose every metric lacks its weights (RHVD: CLIPIQA, MUSIQ, DOVER) is "missing" with the prefetch
    command, in the dry run and in the run; the run's runnable work succeeds and exits 0 with the summary."""
    from benchmarks.datasets import synthetic
    from benchmarks.runner.execute import run_plan
    from benchmarks.runner.planning import Cell, plan_cells
    from benchmarks.runner.units import ResultsLayout

    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "no-weights"))
    data = tmp_path / "data"
    synthetic.build_demo(data, size=32, sets=("demo_haze",))
    plan = plan_cells("x", [Cell("input", "demo_haze", ("lpips", "dists"))], data_root=str(data), limit=1,
                      layout=ResultsLayout(str(tmp_path / "r")))
    status, missing = plan.survey()
    score = plan.units[-1]
    assert status[score.key] == "missing" and status[plan.units[0].key] == "todo"
    (blocked,) = [m for m in missing if m.name.startswith("no runnable metric")]
    assert blocked.how == "python -m benchmarks.prefetch --metrics dists,lpips (on a node with internet)"
    assert blocked.blocks == 1
    assert run_plan(plan, dry_run=True, progress=False) == 1
    assert run_plan(plan, progress=False) == 0  # the restore ran; the blocked score unit is summarised
    err = capsys.readouterr().err
    assert "no runnable metric of dists,lpips" in err and "blocks 1 unit" in err
    assert plan.status()[score.key] == "missing"


def test_imported_prompts_make_training_units_done_without_training_data(tmp_path, monkeypatch):
    from benchmarks.runner.planning import Plan
    from benchmarks.runner.training import training_units

    monkeypatch.setenv("YPT_PROMPTS", str(tmp_path / "prompts"))
    monkeypatch.setenv("YPT_DATA", str(tmp_path / "no-data"))
    units = training_units(["wan"], ["haze", "rain"])
    imported = units[0].prompt_path()
    imported.parent.mkdir(parents=True)
    imported.write_bytes(b"prompt")  # as `python -m ypt.prompts import-official` leaves it
    status, missing = Plan("train", units).survey()
    assert status == {units[0].key: "done", units[1].key: "missing"}
    # only the prompt still to train needs its data (and the backbone's weights, absent here)
    assert [m.name for m in missing] == ["nturain_synthetic_train", "wan backbone"]


def test_readiness_names_missing_backbone_weights(tmp_path, monkeypatch, capsys):
    """Prompts present but no FLUX/WAN weights: ``baselines check`` is not ready and names the model and the
    prefetch command; a training unit in ``slurm.train --dry-run`` is missing them too; with the weights in place
    (a local diffusers folder holding every subfolder) the same checks pass."""
    from baselines.__main__ import main as baselines_main
    from benchmarks.runner.training import training_units
    from slurm.train import main as train_main

    monkeypatch.setenv("YPT_PROMPTS", str(tmp_path / "prompts"))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf"))
    monkeypatch.setenv("YPT_BASELINES_CONFIG", str(tmp_path / "baselines.toml"))
    for degradation in ("haze", "rain", "snow", "lowlight", "blur"):  # as import-official leaves them
        path = tmp_path / "prompts" / "wan" / "residual-ebr-t00.4" / f"{degradation}.safetensors"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x")
    assert baselines_main(["check", "ypt_wan"]) == 1
    out = capsys.readouterr().out
    assert "not in the Hugging Face cache" in out and "python -m benchmarks.prefetch table3 --backbones" in out
    (unit,) = training_units(["wan"], ["rain"], t0=0.3)  # a prompt not trained yet
    assert any(m.name == "wan backbone" and "prefetch table3 --backbones" in m.how for m in unit.missing_resources())
    assert train_main(["--backbone", "wan", "--degradations", "rain", "--t0", "0.3", "--dry-run"]) == 1
    assert "wan backbone" in capsys.readouterr().err
    # a local folder with every subfolder WAN loads (the text encoder too: no null context is cached yet)
    model = tmp_path / "wan-model"
    for sub in ("transformer", "vae", "text_encoder", "tokenizer"):
        (model / sub).mkdir(parents=True)
        (model / sub / "config.json").write_text("{}")
    (tmp_path / "baselines.toml").write_text(f'[ypt_wan]\nmodel = "{model}"\n')
    assert baselines_main(["check", "ypt_wan"]) == 0
    (model / "text_encoder" / "config.json").unlink()
    assert baselines_main(["check", "ypt_wan"]) == 1
    assert "lacks text_encoder/" in capsys.readouterr().out


def test_imported_official_prompts_make_the_table_plans_training_done(tmp_path, monkeypatch, capsys):
    """REPRODUCE's first route: the authors' flux_*.pt and wan_*.pt imported, Table 1's plan (both backbones) finds
    every prompt-training unit done and says so in its dry run; their training sets are not asked for."""
    from official import write_official_checkpoint

    from benchmarks.protocol import DEGRADATIONS
    from benchmarks.run import main
    from ypt.prompts.__main__ import main as prompts_main

    monkeypatch.setenv("YPT_PROMPTS", str(tmp_path / "prompts"))
    monkeypatch.setenv("YPT_DATA", str(tmp_path / "no_data"))
    monkeypatch.setenv("YPT_DATA_CONFIG", str(tmp_path / "datasets.toml"))
    monkeypatch.setenv("YPT_BASELINES_CONFIG", str(tmp_path / "baselines.toml"))
    monkeypatch.setenv("COLUMNS", "250")
    src = tmp_path / "ckpts"
    src.mkdir()
    for seed, degradation in enumerate(DEGRADATIONS):
        write_official_checkpoint(src / f"flux_{degradation}.pt", "flux", 512, 3072, 57, seed=seed)
        write_official_checkpoint(src / f"wan_{degradation}.pt", "wan", 226, 1536, 30, seed=seed)
    assert prompts_main(["import-official", "--src", str(src)]) == 0
    capsys.readouterr()
    main(["table1", "--dry-run", "--results-dir", str(tmp_path / "results")])
    out, err = capsys.readouterr()
    for backbone in ("flux", "wan"):
        for degradation in DEGRADATIONS:
            assert f"done (imported: {backbone}_{degradation}.pt)" in out, (backbone, degradation)
    for train_set in ("reside_ots_train", "snow100k_train", "rain13k_train", "lolv1_train", "gopro_train"):
        assert f"dataset {train_set}\n" not in err  # FLUX's prompt-training sets: needed by nothing else
