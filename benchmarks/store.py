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
import sys
import time
from dataclasses import dataclass
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from ypt.cli import add_debug_argument, entry_point
from ypt.files import atomic_write_text

if TYPE_CHECKING:
    import pandas as pd

COLUMNS = ["method", "dataset", "sample", "metric", "value", "protocol", "metric_version", "output_sha256",
           "config_hash", "code_version", "time"]
NO_CONFIG = "none"
#: what one record is about; two records with the same key are versions of one value (the latest wins)
KEY = ["method", "dataset", "config_hash", "sample", "metric"]


def of_protocol(records: pd.DataFrame, protocol: str | None = None) -> tuple[pd.DataFrame, dict[str, int]]:
    """``(the records of protocol, {other protocol: how many records left out})``: a table is built from one
    protocol's records only (default the current :data:`~benchmarks.protocol.PROTOCOL_VERSION`, the release's)."""
    from benchmarks.protocol import PROTOCOL_VERSION

    protocol = protocol or PROTOCOL_VERSION
    if "protocol" not in getattr(records, "columns", ()) or not len(records):
        return records, {}
    keep = records["protocol"] == protocol
    left_out = records.loc[~keep, "protocol"].value_counts().to_dict()
    return records[keep], {str(k): int(v) for k, v in left_out.items()}


def _safe(part: str) -> str:
    """A path component for a key or sample id (ids may contain ``/``)."""
    return part.replace(os.sep, "__").replace("/", "__") or "_"


@dataclass(frozen=True)
class Damage:
    """A line of a shard that is no record: its file, line number and what is wrong with it."""

    path: Path
    line: int
    problem: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.problem}"


def warn(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr)


def default_results_root() -> Path:
    return Path(os.environ.get("YPT_RESULTS", "results"))


class ResultStore:
    """Records under ``<root>/store``; ``root`` is the results root (``results/`` by default, ``$YPT_RESULTS``)."""

    def __init__(self, root: str | os.PathLike | None = None):
        self.root = Path(root) if root is not None else default_results_root()
        self.path = self.root / "store"
        #: damaged lines met while reading (each reported once)
        self.damaged: list[Damage] = []

    def shard(self, method: str, dataset: str, config_hash: str, sample: str) -> Path:
        return self.path / _safe(method) / _safe(dataset) / _safe(config_hash or NO_CONFIG) / f"{_safe(sample)}.jsonl"

    def _read(self, path: Path, warn_damage: bool = True) -> list[dict]:
        """The shard's records; a damaged line (torn write on a full disk, a hand edit) is skipped and reported
        once with its file and line, so its sample counts as unscored and is scored again by the next run."""
        try:
            text = path.read_text(errors="replace")
        except FileNotFoundError:
            return []
        out = []
        for number, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            problem = None
            try:
                record = json.loads(line)
            except ValueError as exc:
                problem = f"not JSON ({exc.msg})"
            else:
                missing = [c for c in COLUMNS if c not in record] if isinstance(record, dict) else COLUMNS
                if missing:
                    problem = f"lacks {', '.join(missing)}"
            if problem is None:
                out.append(record)
                continue
            damage = Damage(path, number, problem)
            if damage not in self.damaged:
                self.damaged.append(damage)
                if warn_damage:
                        warn(f"result store: skipped damaged line {path}:{number} ({problem}); its sample is scored "
                         f"again by the next run (`python -m benchmarks.store verify --repair` drops such lines)")
        return out

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
               metric_versions: dict[str, str] | None = None, protocol: str | None = None) -> set[tuple[str, str]]:
        """``{(sample, metric)}`` already recorded for this run under ``protocol`` (default the current
        :data:`~benchmarks.protocol.PROTOCOL_VERSION`; and, when given, these metric versions)."""
        from benchmarks.protocol import PROTOCOL_VERSION

        protocol = protocol or PROTOCOL_VERSION
        done = set()
        for r in self.records(method, dataset, config_hash or NO_CONFIG):
            if r["protocol"] != protocol:
                continue
            if metric_versions and metric_versions.get(r["metric"], r["metric_version"]) != r["metric_version"]:
                continue
            done.add((r["sample"], r["metric"]))
        return done

    def existing(self, method: str, dataset: str, config_hash: str | None = None) -> dict[tuple[str, str], dict]:
        """``{(sample, metric): record}`` of this run, for skipping unchanged outputs."""
        return {(r["sample"], r["metric"]): r for r in self.records(method, dataset, config_hash or NO_CONFIG)}

    def shards(self) -> list[Path]:
        return sorted(self.path.glob("*/*/*/*.jsonl")) if self.path.is_dir() else []

    def verify(self, repair: bool = False) -> list[Damage]:
        """Every damaged line of every shard; with ``repair`` each damaged shard is rewritten (atomically) without
        them, so its samples are scored again by the next run."""
        self.damaged = []
        for shard in self.shards():
            before = len(self.damaged)
            good = self._read(shard, warn_damage=False)
            if repair and len(self.damaged) > before:
                atomic_write_text(shard, "".join(json.dumps(r, sort_keys=True) + "\n" for r in good))
        return list(self.damaged)


@entry_point
def main(argv: list[str] | None = None) -> int:
    """``python -m benchmarks.store verify [--results-dir DIR] [--repair]``."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m benchmarks.store", description="Check the result store.")
    sub = parser.add_subparsers(dest="command", required=True)
    verify = sub.add_parser("verify", help="list damaged shard lines (file:line: what is wrong)")
    verify.add_argument("--results-dir", default=None, help="results root holding store/ (default: $YPT_RESULTS "
                                                               "or results/)")
    verify.add_argument("--repair", action="store_true",
                        help="rewrite damaged shards without their damaged lines (those samples are scored again)")
    add_debug_argument(parser)
    args = parser.parse_args(argv)
    store = ResultStore(args.results_dir)
    damaged = store.verify(repair=args.repair)
    shards = len(store.shards())
    if not damaged:
        print(f"{shards} shard(s) under {store.path}: no damaged line")
        return 0
    for damage in damaged:
        print(damage)
    verb = "dropped from their shards" if args.repair else "found (rerun with --repair to drop them)"
    print(f"{len(damaged)} damaged line(s) in {len({d.path for d in damaged})} of {shards} shard(s) {verb}")
    return 0 if args.repair else 1


if __name__ == "__main__":
    raise SystemExit(main())
