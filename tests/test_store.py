"""The result store: per-sample atomic JSONL shards, records replaced not duplicated, dedupe on read, queries."""
from __future__ import annotations

import json

import pytest

from benchmarks.protocol import PROTOCOL_VERSION
from benchmarks.store import COLUMNS, ResultStore, of_protocol


def test_store_write_is_per_sample_and_atomic(tmp_path):
    store = ResultStore(tmp_path)
    base = {"method": "m", "dataset": "d", "sample": "a/b", "protocol": PROTOCOL_VERSION, "metric_version": "v",
            "output_sha256": "x", "config_hash": "c", "code_version": "0"}
    path = store.write_sample([{**base, "metric": "psnr", "value": 1.0}])
    store.write_sample([{**base, "metric": "ssim", "value": 0.5}])
    store.write_sample([{**base, "metric": "psnr", "value": 2.0}])
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert sorted((r["metric"], r["value"]) for r in lines) == [("psnr", 2.0), ("ssim", 0.5)]
    assert path.name == "a__b.jsonl" and [p.name for p in path.parent.iterdir()] == ["a__b.jsonl"]
    with pytest.raises(ValueError, match="one \\(method, dataset, config_hash, sample\\)"):
        store.write_sample([{**base, "metric": "psnr", "value": 1.0}, {**base, "sample": "z", "metric": "psnr",
                                                                         "value": 1.0}])


def _record(**kw):
    base = {"method": "m", "dataset": "d", "sample": "s1", "metric": "psnr", "value": 1.0, "protocol": PROTOCOL_VERSION,
            "metric_version": "skimage-psnr-rgb/1", "output_sha256": "h", "config_hash": "c", "code_version": "0"}
    return {**base, **kw}


def test_load_dedupes_latest_wins_and_filters(tmp_path):
    store = ResultStore(tmp_path)
    store.write_sample([_record(value=1.0, time=10.0), _record(metric="ssim", value=0.4, time=10.0)])
    store.write_sample([_record(sample="s2", value=3.0, time=11.0)])
    store.write_sample([_record(method="other", value=9.0, time=12.0)])
    # a stray duplicate shard line (e.g. from a copied folder): the later record wins on read
    shard = store.shard("m", "d", "c", "s1")
    shard.write_text(shard.read_text() + json.dumps(_record(value=5.0, time=20.0)) + "\n")
    frame = store.load()
    assert list(frame.columns) == COLUMNS and len(frame) == 4
    assert frame.query("method == 'm' and sample == 's1' and metric == 'psnr'")["value"].tolist() == [5.0]
    mine = store.load(method="m")
    assert sorted(mine["sample"] + ":" + mine["metric"]) == ["s1:psnr", "s1:ssim", "s2:psnr"]
    assert ResultStore(tmp_path / "empty").load().empty


def test_scored_respects_protocol_and_metric_versions(tmp_path):
    store = ResultStore(tmp_path)
    store.write_sample([_record(), _record(metric="lpips", metric_version="pyiqa-lpips-alex-0.1/1")])
    store.write_sample([_record(sample="old", protocol="ypt-v0")])
    assert store.scored("m", "d", "c") == {("s1", "psnr"), ("s1", "lpips")}
    assert store.scored("m", "d", "c", metric_versions={"lpips": "pyiqa-lpips-alex-0.1/2"}) == {("s1", "psnr")}
    assert store.scored("m", "d", "other-config") == set()
    store.write_sample([_record(sample="mode", protocol=f"{PROTOCOL_VERSION}+posterior=mode")])
    assert ("mode", "psnr") not in store.scored("m", "d", "c")  # a run of another protocol is not this run's record
    assert store.scored("m", "d", "c", protocol=f"{PROTOCOL_VERSION}+posterior=mode") == {("mode", "psnr")}


def test_a_table_takes_one_protocols_records(tmp_path):
    """Records of an earlier protocol (or of the suite's own ways) are never mixed into a table with the current
    one: of_protocol keeps one protocol and counts what it left out."""
    store = ResultStore(tmp_path)
    store.write_sample([_record(value=30.0)])
    store.write_sample([_record(sample="s2", value=10.0, protocol="ypt-v1")])
    store.write_sample([_record(sample="s3", value=20.0, protocol=f"{PROTOCOL_VERSION}+posterior=mode")])
    kept, left_out = of_protocol(store.load())
    assert kept["value"].tolist() == [30.0]
    assert left_out == {"ypt-v1": 1, f"{PROTOCOL_VERSION}+posterior=mode": 1}
    assert of_protocol(store.load(), "ypt-v1")[0]["value"].tolist() == [10.0]


def test_sample_ids_that_share_a_shard_name_keep_both(tmp_path):
    store = ResultStore(tmp_path)
    store.write_sample([_record(sample="a/b", value=1.0)])
    store.write_sample([_record(sample="a__b", value=2.0)])
    assert sorted(store.load()["value"]) == [1.0, 2.0]


def test_root_from_env(tmp_path, monkeypatch):
    monkeypatch.setenv("YPT_RESULTS", str(tmp_path / "elsewhere"))
    assert ResultStore().path == tmp_path / "elsewhere" / "store"
    monkeypatch.delenv("YPT_RESULTS")
    assert ResultStore().path.as_posix() == "results/store"


def test_a_damaged_line_is_named_skipped_rescored_and_repaired(tmp_path, capsys):
    """A torn or hand-edited shard line costs that sample's record alone: reading names the file and line and skips
    it, the sample counts as unscored (so the next run scores it again), and ``verify --repair`` drops the line."""
    from benchmarks.store import main

    store = ResultStore(tmp_path)
    store.write_sample([_record(sample="s1", value=1.0)])
    shard = store.write_sample([_record(sample="s2", value=2.0)])
    shard.write_text(shard.read_text()[:-20] + "\n")  # a torn write: half a JSON object
    frame = store.load()
    assert list(frame["sample"]) == ["s1"]
    assert f"{shard}:1 (not JSON" in capsys.readouterr().err
    assert store.scored("m", "d", "c") == {("s1", "psnr")}  # s2 is scored again by the next run
    assert main(["verify", "--results-dir", str(tmp_path)]) == 1
    assert f"{shard}:1: not JSON" in capsys.readouterr().out
    assert main(["verify", "--results-dir", str(tmp_path), "--repair"]) == 0
    assert shard.read_text() == "" and main(["verify", "--results-dir", str(tmp_path)]) == 0
    # a line that is JSON but no record is damaged too
    shard.write_text(json.dumps({"method": "m"}) + "\n")
    assert ResultStore(tmp_path).verify()[0].problem.startswith("lacks dataset")
