"""The paper's Tables 1-5 and Fig. 7, declared as data.

A :class:`TableSpec` names its rows (methods), its column groups (a dataset, or a mean over several datasets such
as Table 1's within-distribution columns), the metrics of each group and whether it prints an Average. Averages
follow DESIGN.md: each metric is averaged over the groups that have it (Table 2: PSNR..DISTS over the 8 paired
sets, CLIPIQA and MUSIQ over all 9). Metric lists and directions come from the metric table
(:mod:`benchmarks.metrics.specs`). A method row's label is its method's ``display_name`` (filled in by the runner,
:func:`benchmarks.runner.render.labelled`); rows that are not methods (ablation variants) carry their own.

The built-in demo's tables are data here too (:data:`DEMO_TABLES`): each names the paper table it miniaturises
(``demo_of``), and ``python -m benchmarks.run table2 --demo`` runs it through the ordinary planner.

Nothing here imports pandas or torch: ``python -m benchmarks.run list`` and ``--help`` stay instant.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from benchmarks.datasets.groups import group_members
from benchmarks.datasets.synthetic import DEMO_SETS
from benchmarks.metrics.specs import (
    IMAGE_METRICS,
    NO_REFERENCE_IMAGE_METRICS,
    NO_REFERENCE_VIDEO_METRICS,
    VIDEO_METRICS,
)
from ypt.registry import Registry

AVERAGE = "average"
ABLATION = "ablation"

#: within-distribution test sets behind Table 1's mean columns (one per training set of paper Sec. 4.2); the
#: dataset registry's groups are the one place that lists them
WD_IMAGE_SETS = group_members("wd_image")
WD_VIDEO_SETS = group_members("wd_video")


@dataclass(frozen=True)
class Group:
    """A column group: one dataset (``members`` empty) or the mean over ``members`` (dataset means averaged)."""

    key: str
    label: str
    metrics: tuple[str, ...]
    members: tuple[str, ...] = ()

    @property
    def datasets(self) -> tuple[str, ...]:
        return self.members or (self.key,)


@dataclass(frozen=True)
class Row:
    """A table row; ``groups`` limits it to some column groups (Table 1: image methods have no video columns).
    ``label``: how the row is printed; empty for a method row until the runner fills in the method's display name
    (an ablation variant's row, which is no method, carries its own)."""

    key: str
    groups: tuple[str, ...] | None = None
    label: str = ""

    @property
    def printed(self) -> str:
        return self.label or self.key


@dataclass(frozen=True)
class TableSpec:
    key: str
    title: str
    rows: tuple[Row, ...]
    groups: tuple[Group, ...]
    average: bool = False
    backbone: str | None = None
    note: str = ""
    #: Tables 4-5 compare training variants of one backbone; these settings distinguish the rows
    variants: dict[str, dict] = field(default_factory=dict)
    #: a demo table: the paper table it miniaturises (its runs, store and tables live under ``<results>/demo``,
    #: it scores on a CPU, and metrics this machine cannot run are left out instead of reported missing)
    demo_of: str = ""
    #: the stem of the saved CSV/MD/TeX files (default: the key)
    stem: str = ""

    @property
    def is_demo(self) -> bool:
        return bool(self.demo_of)

    @property
    def file_stem(self) -> str:
        return self.stem or self.key

    def metrics(self) -> tuple[str, ...]:
        """Every metric of the table, in table order."""
        return tuple(m for m in VIDEO_METRICS if any(m in g.metrics for g in self.groups))

    def narrowed(self, methods=None, datasets=None, without_metrics=()) -> TableSpec:
        """The table as a run restricted to ``methods`` rows and ``datasets`` prints it: only those rows, the column
        groups that hold one of those datasets, and no column of ``without_metrics``."""
        import dataclasses

        rows = tuple(r for r in self.rows if not methods or r.key in methods)
        groups = tuple(dataclasses.replace(g, metrics=tuple(m for m in g.metrics if m not in without_metrics))
                       for g in self.groups if not datasets or set(g.datasets) & set(datasets))
        return dataclasses.replace(self, rows=rows, groups=tuple(g for g in groups if g.metrics))

    @property
    def methods(self) -> tuple[str, ...]:
        return tuple(r.key for r in self.rows)

    @property
    def dataset_keys(self) -> tuple[str, ...]:
        """Every dataset a run of this table restores (members of mean groups included), in order."""
        seen: list[str] = []
        for g in self.groups:
            seen += [d for d in g.datasets if d not in seen]
        return tuple(seen)

    def group(self, key: str) -> Group:
        for g in self.groups:
            if g.key == key:
                return g
        raise KeyError(f"{self.key} has no column group {key!r}; groups: {', '.join(g.key for g in self.groups)}")

    def row(self, key: str) -> Row:
        for r in self.rows:
            if r.key == key:
                return r
        raise KeyError(f"{self.key} has no row {key!r}; rows: {', '.join(self.methods)}")

    def groups_of(self, method: str) -> tuple[Group, ...]:
        allowed = self.row(method).groups
        return tuple(g for g in self.groups if allowed is None or g.key in allowed)

    def average_metrics(self, method: str | None = None) -> tuple[str, ...]:
        groups = self.groups_of(method) if method else self.groups
        return tuple(m for m in VIDEO_METRICS if any(m in g.metrics for g in groups))

    def expected_cells(self, with_average: bool = True) -> set[tuple[str, str, str]]:
        """Every (method, group, metric) the printed table holds, the Average column included."""
        cells = {(r.key, g.key, m) for r in self.rows for g in self.groups_of(r.key) for m in g.metrics}
        if self.average and with_average:
            cells |= {(r.key, AVERAGE, m) for r in self.rows for m in self.average_metrics(r.key)}
        return cells

    def columns(self) -> list[tuple[str, str]]:
        """(group, metric) columns in print order, the Average last."""
        cols = [(g.key, m) for g in self.groups for m in g.metrics]
        if self.average:
            cols += [(AVERAGE, m) for m in self.average_metrics()]
        return cols

    def group_label(self, key: str) -> str:
        return "Average" if key == AVERAGE else self.group(key).label


@dataclass(frozen=True)
class SweepSpec:
    """Fig. 7: the T0 sweep (min-max normalised, equal-weight score over the six image metrics)."""

    key: str
    title: str
    values: tuple[float, ...]
    backbones: tuple[str, ...]
    metrics: tuple[str, ...]
    eval_set: dict[str, str]
    degradation: str
    note: str = ""


def _paired(key: str, label: str, video: bool = False) -> Group:
    return Group(key, label, VIDEO_METRICS if video else IMAGE_METRICS)


def _no_reference(key: str, label: str, video: bool = False) -> Group:
    return Group(key, label, NO_REFERENCE_VIDEO_METRICS if video else NO_REFERENCE_IMAGE_METRICS)


IMAGE_BASELINES = ("dcpt", "dfpir", "autodir", "pixwizard", "foundir")
VIDEO_ONLY = ("viwsnet", "avernet")

TABLE1 = TableSpec(
    key="table1",
    title="Table 1: mean within-distribution performance (image: FLUX; video: WAN)",
    rows=tuple(Row(m) for m in IMAGE_BASELINES) + (Row("ypt_flux", ("wd_image",)),)
    + tuple(Row(m, ("wd_video",)) for m in VIDEO_ONLY) + (Row("ypt_wan", ("wd_video",)),),
    groups=(Group("wd_image", "Image restoration (mean)", IMAGE_METRICS, WD_IMAGE_SETS),
            Group("wd_video", "Video restoration (mean)", VIDEO_METRICS, WD_VIDEO_SETS)),
    note="Each mean column averages the per-dataset means of its within-distribution test sets.",
)

TABLE2 = TableSpec(
    key="table2",
    title="Table 2: FLUX on OOD, mixed and unseen image degradations",
    rows=tuple(Row(m) for m in IMAGE_BASELINES) + (Row("ypt_flux"),),
    groups=(_paired("hazerd", "HazeRD (H)"), _paired("lhp", "LHP (R)"), _paired("weatherbench_snow", "WeatherBench (S)"),
            _paired("4krd", "4KRD (B)"), _paired("sice", "SICE (L)"), _paired("toled", "TOLED (U)"),
            _paired("poled", "POLED (U)"), _paired("cdd_haze_snow", "CDD (S+H)"),
            _no_reference("lolblur", "LOLBlur (L+B)")),
    average=True,
    backbone="flux",
)

TABLE3 = TableSpec(
    key="table3",
    title="Table 3: WAN on OOD video degradations",
    rows=tuple(Row(m) for m in IMAGE_BASELINES + VIDEO_ONLY) + (Row("ypt_wan"),),
    groups=(_no_reference("rhvd", "RHVD (H)", True), _paired("lasvr", "LasVR (R)", True),
            _no_reference("nturain_real", "NTURain (R)", True), _no_reference("aaurainsnow", "AAURainSnow (S)", True),
            _paired("4krd_video", "4KRD (B)", True), _no_reference("lol_iphone", "Lol-iPhone (L)", True)),
    average=True,
    backbone="wan",
)

TABLE4 = TableSpec(
    key="table4",
    title="Table 4: naive prompt tuning vs. DDBM-like vs. EBR-like bridge",
    rows=(Row("naive", label="Naive"), Row("ddbm", label="DDBM bridge"), Row("ebr", label="EBR bridge")),
    groups=(Group("ablation", "Ablation (mean)", IMAGE_METRICS, WD_IMAGE_SETS),),
    backbone="flux",
    variants={"naive": {"bridge": "naive"}, "ddbm": {"bridge": "ddbm"}, "ebr": {"bridge": "ebr"}},
    note="The paper does not name the backbone or test sets of Table 4; Fig. 6 shows images, so the suite trains "
         "FLUX prompts with each bridge and reports the mean over the within-distribution image test sets.",
)

TABLE5 = TableSpec(
    key="table5",
    title="Table 5: embedding-space prompt vs. residual prompt (WAN)",
    rows=(Row("embedding", label="Embedding-space"), Row("residual", label="Residual prompt")),
    groups=(Group("ablation", "Ablation (mean)", IMAGE_METRICS, WD_VIDEO_SETS),),
    backbone="wan",
    variants={"embedding": {"variant": "embedding"}, "residual": {"variant": "residual"}},
    note="The paper does not name Table 5's test sets and prints no DOVER; the suite reports the six image metrics "
         "as the mean over the within-distribution video test sets.",
)

FIG7 = SweepSpec(
    key="fig7",
    title="Fig. 7: normalised score over start noise level T0",
    values=(0.1, 0.2, 0.3, 0.4, 0.5, 0.6),
    backbones=("flux", "wan"),
    metrics=IMAGE_METRICS,
    eval_set={"flux": "lolv1", "wan": "sdsd"},
    degradation="lowlight",
    note="T0 is tuned on low light, the most severe training degradation (paper Sec. 3.3, 4.4); each metric is "
         "min-max normalised across the candidates (LPIPS and DISTS flipped) and the six are averaged equally.",
)

TABLES: Registry[TableSpec] = Registry("table")
for _spec in (TABLE1, TABLE2, TABLE3, TABLE4, TABLE5):
    TABLES.register(_spec.key, _spec)
FIGURES: Registry[SweepSpec] = Registry("figure")
FIGURES.register(FIG7.key, FIG7)

# -- the built-in demo ---------------------------------------------------------------------------------------------
DEMO_TITLE = "Built-in demo (synthetic degradations of scikit-image photos; not the paper's numbers)"
#: the methods that run on a CPU, compared in the demo tables: the classic ones and the paper's method on the
#: miniature prior (prompts trained by the demo itself)
DEMO_METHODS = ("input", "dcp", "lime", "ypt_mini")

DEMO_MINIATURE = "Miniature numbers (a 1.16M-parameter prior pretrained on a CPU), not the paper's. "

DEMO = TableSpec(
    key="demo",
    title=DEMO_TITLE,
    rows=tuple(Row(m) for m in DEMO_METHODS),
    groups=tuple(Group(s.key, "Demo " + s.key.removeprefix("demo_"), IMAGE_METRICS) for s in DEMO_SETS),
    average=True,
    note="Synthetic degradations of known parameters (benchmarks/datasets/synthetic.py). YPT (mini prior): the "
         "paper's method (residual prompts, EBR sampler; two prompts averaged on the mixed set). " + DEMO_MINIATURE,
    demo_of="table2",
    stem="demo_table",
)

#: the sets Tables 4-5 are miniaturised on: those where the miniature prompts change the most (one prompt each)
DEMO_ABLATION_SETS = ("demo_haze", "demo_rain", "demo_lowlight")

def _demo_ablation(paper: TableSpec, title: str, note: str) -> TableSpec:
    """Paper Table 4 or 5 in miniature: its rows (training variants) with ``ypt_mini``, on :data:`DEMO_ABLATION_SETS`."""
    return TableSpec(key=f"demo_{paper.key}", title=f"{title} (mini prior; not the paper's numbers)", rows=paper.rows,
                     groups=(Group(ABLATION, "Demo haze, rain, low light (mean)", IMAGE_METRICS,
                                   DEMO_ABLATION_SETS),),
                     backbone="mini", variants=paper.variants, note=DEMO_MINIATURE + note, demo_of=paper.key,
                     stem=f"demo_{paper.key}")


DEMO_TABLE4 = _demo_ablation(TABLE4, "Table 4 in miniature: naive prompt tuning vs. DDBM-like vs. EBR-like bridge",
                             "One prompt per bridge and degradation, trained with the miniature recipe.")
DEMO_TABLE5 = _demo_ablation(TABLE5, "Table 5 in miniature: embedding-space prompt vs. residual prompt",
                             "The paper's Table 5 is on WAN; in miniature both variants train on the image prior.")

#: Fig. 7 in miniature: ``python -m benchmarks.ablate t0 --demo``
FIG7_DEMO = SweepSpec(
    key="fig7_demo",
    title="Fig. 7 in miniature: normalised score over T0 (mini prior; not the paper's numbers)",
    values=FIG7.values,
    backbones=("mini",),
    metrics=IMAGE_METRICS,
    eval_set={"mini": "demo_lowlight"},
    degradation="lowlight",
    note=DEMO_MINIATURE + "Metrics whose weights are not on this machine are left out of the score.",
)

DEMO_TABLES: Registry[TableSpec] = Registry("demo table")
for _spec in (DEMO, DEMO_TABLE4, DEMO_TABLE5):
    DEMO_TABLES.register(_spec.key, _spec)


def get(key: str) -> TableSpec:
    """The table spec ``key`` (``table1``..``table5``); unknown names raise with close matches."""
    return TABLES.get(key)


def demo_of(key: str) -> TableSpec:
    """The demo table that miniaturises paper table ``key`` (``--demo``)."""
    get(key)  # an unknown table is named as such
    for _, spec in DEMO_TABLES.items():
        if spec.demo_of == key:
            return spec
    from ypt.errors import UsageError

    raise UsageError(f"{key} has no built-in demo; demo versions exist for "
                     + ", ".join(s.demo_of for _, s in DEMO_TABLES.items()))
