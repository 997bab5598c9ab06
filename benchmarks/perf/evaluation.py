"""Evaluation throughput (placeholder until benchmarks.metrics lands; see measure())."""
from __future__ import annotations


def measure(device: str, quick: bool = False) -> list[dict]:
    return []
