"""The result store: append-only tidy records, one per (method, dataset, sample, metric).

Layout: ``<results root>/store/<method>/<dataset>/<config_hash>/<sample>.jsonl``, one small JSON-lines shard per
evaluated sample, written atomically. A crash therefore loses at most the sample in flight, shards of different
jobs never collide (SLURM array tasks write disjoint samples), and reading is a glob. Every record carries the
protocol version, the metric's implementation version, the sha256 of the scored output file, the run's config
hash and the code version, so an unchanged output is never scored twice and a changed one is re-scored.
"""
from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from ypt.files import atomic_write_text

if TYPE_CHECKING:
    import pandas as pd

COLUMNS = ["method", "dataset", "sample", "metric", "value", "protocol", "metric_version", "output_sha256",
           "config_hash", "code_version", "time"]
NO_CONFIG = "none"
#: what one record is about; two records with the same key are versions of one value (the latest wins)
KEY = ["method", "dataset", "config_hash", "sample", "metric"]


def _safe(part: str) -> str:
    """A path component for a key or sample id (ids may contain ``/``)."""
    return part.replace(os.sep, "__").replace("/", "__") or "_"


def default_results_root() -> Path:
    return Path(os.environ.get("YPT_RESULTS", "results"))


class ResultStore:
    """Records under ``<root>/store``; ``root`` is the results root (``results/`` by default, ``$YPT_RESULTS``)."""

    def __init__(self, root: str | os.PathLike | None = None):
        self.root = Path(root) if root is not None else default_results_root()
        self.path = self.root / "store"

    def shard(self, method: str, dataset: str, config_hash: str, sample: str) -> Path:
        return self.path / _safe(method) / _safe(dataset) / _safe(config_hash or NO_CONFIG) / f"{_safe(sample)}.jsonl"

    @staticmethod
    def _read(path: Path) -> list[dict]:
        try:
            text = path.read_text()
        except FileNotFoundError:
            return []
        return [json.loads(line) for line in text.splitlines() if line.strip()]

    def write_sample(self, records: Iterable[dict]) -> Path | None:
        """Add records of one (method, dataset, config, sample); a record replaces one of the same metric."""
        records = list(records)
        if not records:
            return None
        first = records[0]
        keys = {(r["method"], r["dataset"], r.get("config_hash") or NO_CONFIG, r["sample"]) for r in records}
        if len(keys) != 1:
            raise ValueError("write_sample takes the records of one (method, dataset, config_hash, sample)")
        path = self.shard(first["method"], first["dataset"], first.get("config_hash") or NO_CONFIG, first["sample"])
        merged = {(r["sample"], r["metric"]): r for r in self._read(path)}  # ids "a/b" and "a__b" share a shard
        now = time.time()
        for record in records:
            missing = [c for c in COLUMNS if c not in record and c != "time"]
            if missing:
                raise ValueError(f"record lacks {missing}: {record}")
            merged[(record["sample"], record["metric"])] = {**{c: record.get(c) for c in COLUMNS}, "time": record.get("time") or now}
        atomic_write_text(path, "".join(json.dumps(r, sort_keys=True) + "\n" for r in merged.values()))
        return path

    def records(self, method: str | None = None, dataset: str | None = None,
                config_hash: str | None = None) -> list[dict]:
        base = self.path
        parts = [method, dataset, config_hash]
        pattern = "/".join(_safe(p) if p else "*" for p in parts) + "/*.jsonl"
        if not base.is_dir():
            return []
        out: list[dict] = []
        for shard in sorted(base.glob(pattern)):
            out.extend(self._read(shard))
        return out

    def load(self, **filters: str) -> pd.DataFrame:
        """Every record (optionally of one method / dataset / config hash) as a DataFrame with :data:`COLUMNS`,
        deduplicated on (method, dataset, config_hash, sample, metric): the latest record wins."""
        import pandas as pd

        frame = pd.DataFrame(self.records(**filters), columns=COLUMNS)
        frame = frame.sort_values("time", kind="stable")
        frame = frame.drop_duplicates(KEY, keep="last")
        return frame.sort_values(KEY, kind="stable").reset_index(drop=True)

    def scored(self, method: str, dataset: str, config_hash: str | None = None,
               metric_versions: dict[str, str] | None = None) -> set[tuple[str, str]]:
        """``{(sample, metric)}`` already recorded for this run under the current protocol (and, when given, these
        metric versions)."""
        from benchmarks.protocol import PROTOCOL_VERSION

        done = set()
        for r in self.records(method, dataset, config_hash or NO_CONFIG):
            if r["protocol"] != PROTOCOL_VERSION:
                continue
            if metric_versions and metric_versions.get(r["metric"], r["metric_version"]) != r["metric_version"]:
                continue
            done.add((r["sample"], r["metric"]))
        return done

    def existing(self, method: str, dataset: str, config_hash: str | None = None) -> dict[tuple[str, str], dict]:
        """``{(sample, metric): record}`` of this run, for skipping unchanged outputs."""
        return {(r["sample"], r["metric"]): r for r in self.records(method, dataset, config_hash or NO_CONFIG)}
