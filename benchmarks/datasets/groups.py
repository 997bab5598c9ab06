"""Dataset groups the paper averages over, as data.

Table 1 reports, per method, the mean over the within-distribution (WD) test sets: the test splits of the datasets
the prompts were trained on (paper sec. 4.2: RESIDE, Snow100K, Rain13K, LOLv1, GoPro for FLUX; REVIDE, NTU-Rain
synthetic, RVSD, SDSD, GoPro for WAN). Rain13K's WD tests are Rain100H and Rain100L; RESIDE's is SOTS-outdoor.
Raindrop (in the authors' bundle) is not a test split of a training set and is not part of the mean.
"""
from __future__ import annotations

#: group key -> (title, member dataset keys); keys are DESIGN.md's stable Table 1 column names
GROUPS: dict[str, tuple[str, tuple[str, ...]]] = {
    "wd_image": ("Image restoration, within-distribution (mean)",
                 ("reside_sots", "snow100k_l", "rain100h", "rain100l", "lolv1", "gopro")),
    "wd_video": ("Video restoration, within-distribution (mean)",
                 ("revide", "nturain_synthetic", "rvsd", "sdsd", "gopro_video")),
}


def group_members(key: str) -> tuple[str, ...]:
    """The dataset keys of group ``key``; unknown groups raise naming the valid ones."""
    try:
        return GROUPS[key][1]
    except KeyError:
        raise KeyError(f"unknown dataset group {key!r}; valid: {', '.join(GROUPS)}") from None
