"""The perf run's JSON document (schema ``ypt-perf/2``) and its rich tables.

File layout: ``<out>/<device slug>-<UTC timestamp>.json`` per run plus ``<out>/latest.json`` (same content); a
``--quick`` run (fewest iterations: a smoke run) writes ``<out>/quick/<device slug>-<UTC timestamp>.json`` only,
never ``latest.json``, and the cost model never reads it.
Document keys: ``schema``, ``created``, ``protocol_version``, ``code_version``, ``device`` (kind, name,
torch_version, peak_flops, peak_source, dtype, ...), ``settings``, ``rows`` (one dict per measurement, each with
``section`` in training / memory / sampling / loading / evaluation / table, ``backbone`` or ``metric``, ``label``,
``config``, ``status`` ("ok", "skipped", "oom", "error") and the section's numbers; a timed figure's iterations in
``timing``), ``ratios`` (name -> ``value``, its spread ``low``-``high`` over the timed iterations, and ``noise``:
the spread includes 1, so the run cannot tell the two apart) and ``wall_s``.
"""
from __future__ import annotations

import datetime as _dt
import json
import sys
from pathlib import Path

from ypt.files import atomic_write_text

SCHEMA = "ypt-perf/2"
SECTIONS = ("training", "memory", "sampling", "loading", "cache", "evaluation", "table")
#: keys every row has, and the numbers an "ok" row of each section has
ROW_KEYS = ("section", "label", "config", "status")
OK_KEYS = {
    "training": ("step_time_s", "peak_memory_bytes", "memory_kind", "model_flops", "hardware_flops", "mfu", "hfu"),
    "memory": ("peak_memory_bytes", "memory_kind", "resident_bytes", "step_bytes", "fits_80gb"),
    "sampling": ("nfe", "forward_calls", "time_per_item_s", "denoise_s", "time_per_nfe_s", "peak_memory_bytes"),
    "loading": ("load_s", "weights_bytes"),
    "cache": ("build_s_per_pair", "pairs_per_s", "bytes_per_pair", "full_size_bytes_per_pair"),
    "evaluation": ("metric", "mode", "images", "seconds", "images_per_s"),
    "table": ("seconds", "records"),
}


def validate(doc: dict) -> list[str]:
    """Problems with a perf document (empty when it follows the schema)."""
    problems = []
    for key in ("schema", "created", "protocol_version", "code_version", "device", "settings", "rows", "ratios"):
        if key not in doc:
            problems.append(f"missing key {key!r}")
    if doc.get("schema") != SCHEMA:
        problems.append(f"schema {doc.get('schema')!r} != {SCHEMA!r}")
    for key in ("kind", "name", "torch_version", "peak_flops", "peak_source", "dtype"):
        if key not in doc.get("device", {}):
            problems.append(f"device lacks {key!r}")
    for i, row in enumerate(doc.get("rows", [])):
        for key in ROW_KEYS:
            if key not in row:
                problems.append(f"row {i} lacks {key!r}")
        if row.get("section") not in SECTIONS:
            problems.append(f"row {i}: unknown section {row.get('section')!r}")
        elif row.get("status") == "ok":
            problems += [f"row {i} ({row['section']}) lacks {k!r}" for k in OK_KEYS[row["section"]] if k not in row]
        elif "reason" not in row:
            problems.append(f"row {i}: status {row.get('status')!r} without a reason")
    for name, r in (doc.get("ratios") or {}).items():
        if not isinstance(r, dict) or not {"value", "low", "high", "noise"} <= set(r):
            problems.append(f"ratio {name!r} lacks value, low, high or noise")
    return problems


def timestamp() -> str:
    return _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def write(doc: dict, out_dir: str | Path) -> Path:
    """Write ``<slug>-<timestamp>.json`` and ``latest.json`` atomically (a quick run: ``quick/<slug>-<timestamp>.json``
    alone); returns the timestamped path."""
    out = Path(out_dir)
    text = json.dumps(doc, indent=1, sort_keys=False, default=str) + "\n"
    quick = doc["settings"].get("quick")
    path = (out / "quick" if quick else out) / f"{doc['device']['slug']}-{doc['created_stamp']}.json"
    atomic_write_text(path, text)
    if not quick:
        atomic_write_text(out / "latest.json", text)
    return path


def _fmt_bytes(n) -> str:
    if n is None:
        return "n/a"
    if n >= 2**30:
        return f"{n / 2**30:.2f} GiB"
    return f"{n / 2**20:.3f} MiB" if n >= 2**20 else f"{n / 2**10:.1f} KiB"


def _fmt_s(s) -> str:
    if s is None:
        return "-"
    return f"{s:.3f} s" if s >= 0.1 else f"{s * 1e3:.2f} ms"


def _fmt_flops(n) -> str:
    for unit, scale in (("P", 1e15), ("T", 1e12), ("G", 1e9), ("M", 1e6)):
        if n >= scale:
            return f"{n / scale:.3g} {unit}"
    return f"{n:.3g}"


def _fmt_pct(x) -> str:
    return "n/a" if x is None else f"{100 * x:.1f}%"


def render(doc: dict, console=None) -> None:
    """Print the run as rich tables (one per section) and the ratios."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = console or Console(width=None if sys.stdout.isatty() else 132)
    dev = doc["device"]
    peak = dev.get("peak_flops")
    console.print(f"[bold]device[/] {dev['name']} ({dev['kind']}, {dev['dtype']}), torch {dev['torch_version']}, "
                  f"peak {peak / 1e12 if peak else float('nan'):.3g} TFLOP/s ({dev['peak_source']})")
    rows = doc["rows"]

    def status(row) -> str:
        if row["status"] == "ok":
            return "ok"
        reason = " ".join(str(row.get("reason", "")).split())
        reason = reason if len(reason) <= 60 else reason[:57] + "..."
        return f"[yellow]{row['status']}[/]: {escape(reason)}"

    table = Table(title="prompt training step (batch %s)" % next((r["config"].get("batch") for r in rows
                                                                  if r["section"] == "training"), "-"))
    for col in ("backbone", "configuration", "step", "peak mem", "model FLOP", "MFU", "HFU", "status"):
        table.add_column(col, justify="left" if col in ("backbone", "configuration", "status") else "right")
    for r in (r for r in rows if r["section"] == "training"):
        table.add_row(r["backbone"], r["label"], _fmt_s(r.get("step_time_s")), _fmt_bytes(r.get("peak_memory_bytes")),
                      _fmt_flops(r["model_flops"]) if "model_flops" in r else "-", _fmt_pct(r.get("mfu")),
                      _fmt_pct(r.get("hfu")), status(r))
    if any(r["section"] == "training" for r in rows):
        console.print(table)

    traced = [r for r in rows if r["section"] == "memory"]
    if traced:
        table = Table(title="full-size training step memory, traced with fake tensors (batch %s, %s)" % (
            traced[0]["config"].get("batch", "-"), traced[0]["config"].get("dtype", "-")))
        for col in ("backbone", "configuration", "peak", "weights", "step", "measured peak", "< 80 GB", "status"):
            table.add_column(col, justify="left" if col in ("backbone", "configuration", "status") else "right")
        for r in traced:
            measured = next((m for m in rows if m["section"] == "training" and m["status"] == "ok"
                             and m["backbone"] == r["backbone"]
                             and m["config"].get("size") == "full" and m["config"].get("latents") == "cached"
                             and not m["config"].get("compile")
                             and m["config"].get("gradient_checkpointing") == r["config"]["gradient_checkpointing"]),
                            None)
            resident = r.get("resident_bytes") or {}
            table.add_row(r["backbone"], r["label"], _fmt_bytes(r.get("peak_memory_bytes")),
                          _fmt_bytes(sum(resident.values())) if resident else "-", _fmt_bytes(r.get("step_bytes")),
                          _fmt_bytes(measured["peak_memory_bytes"]) if measured else "-",
                          {True: "yes", False: "[red]no[/]"}.get(r.get("fits_80gb"), "-"), status(r))
        console.print(table)

    table = Table(title="sampling (one item, %s bridge steps)" % next((r["config"].get("steps") for r in rows
                                                                       if r["section"] == "sampling"), "-"))
    for col in ("backbone", "prompts", "NFE", "calls", "per item", "steps only", "per NFE", "peak mem", "status"):
        table.add_column(col, justify="left" if col in ("backbone", "prompts", "status") else "right")
    for r in (r for r in rows if r["section"] == "sampling"):
        table.add_row(r["backbone"], r["label"], str(r.get("nfe", "-")), str(r.get("forward_calls", "-")),
                      _fmt_s(r.get("time_per_item_s")), _fmt_s(r.get("denoise_s")), _fmt_s(r.get("time_per_nfe_s")),
                      _fmt_bytes(r.get("peak_memory_bytes")), status(r))
    if any(r["section"] == "sampling" for r in rows):
        console.print(table)

    loads = [r for r in rows if r["section"] == "loading"]
    if loads:
        table = Table(title="backbone load from a folder (page cache warm: a lower bound of a cold load)")
        for col in ("backbone", "weights", "load", "status"):
            table.add_column(col, justify="left" if col in ("backbone", "status") else "right")
        for r in loads:
            table.add_row(r["backbone"], _fmt_bytes(r.get("weights_bytes")), _fmt_s(r.get("load_s")), status(r))
        console.print(table)

    built = [r for r in rows if r["section"] == "cache"]
    if built:
        table = Table(title="training latent cache: build and size (%s pairs)" % built[0]["config"].get("pairs"))
        for col in ("backbone", "layout", "storage", "per pair", "pairs/s", "bytes per pair", "full-size pair",
                    "status"):
            table.add_column(col, justify="left" if col in ("backbone", "layout", "storage", "status") else "right")
        for r in built:
            table.add_row(r["backbone"], r["label"], r["config"].get("storage", ""), _fmt_s(r.get("build_s_per_pair")),
                          f"{r['pairs_per_s']:.1f}" if r.get("pairs_per_s") else "-",
                          _fmt_bytes(r.get("bytes_per_pair")), _fmt_bytes(r.get("full_size_bytes_per_pair")),
                          status(r))
        console.print(table)

    table = Table(title="evaluation")
    for col in ("metric", "mode", "images", "images/s | time", "status"):
        table.add_column(col, justify="left" if col in ("metric", "mode", "status") else "right")
    for r in (r for r in rows if r["section"] in ("evaluation", "table")):
        ips = r.get("images_per_s")
        if r["section"] == "table":
            table.add_row(f"table {r['config'].get('table', '')}".strip(), r["label"], str(r.get("records", "-")),
                          _fmt_s(r.get("seconds")) if r["status"] == "ok" else "-", status(r))
        else:
            table.add_row(r.get("metric", r["label"]), r.get("mode", "-"), str(r.get("images", "-")),
                          f"{ips:.1f}" if ips else "-", status(r))
    if any(r["section"] in ("evaluation", "table") for r in rows):
        console.print(table)
    if doc["ratios"]:
        console.print("[bold]ratios (same run; in brackets the range between the rows' iteration-time quartiles)[/]")
        for key, r in doc["ratios"].items():
            text = escape(format_ratio(r))
            console.print(f"  {escape(key)}: " + (f"[yellow]{text}[/]" if r.get("noise") else text))


#: the timing record of each timed figure of a row (``timing`` unless named here)
TIMING_OF = {"denoise_s": "denoise_timing"}


#: how far (relative) the headline ratio may lie outside the quartile range before the ratio is marked noise (with few
#: iterations the best times sit just below the lower quartiles)
OUTSIDE = 0.05


def ratio(slow: dict, slow_key: str, fast: dict, fast_key: str) -> dict:
    """``slow[slow_key] / fast[fast_key]`` (both seconds: each row's headline time, the minimum on a CPU and the
    median on CUDA) with its spread over the rows' timed iterations: ``low = slow q25 / fast q75`` and
    ``high = slow q75 / fast q25`` (quartiles: one stalled iteration on a shared machine does not decide it).
    ``noise``: the range includes 1 (the middle halves of the two rows' times overlap: this run cannot tell which is
    faster), or the headline ratio lies more than :data:`OUTSIDE` outside it (the rows' least disturbed iterations
    disagree with their middle halves: most iterations were disturbed). Under 2 timed iterations (or without them) the spread is None: unknown,
    printed as such."""
    value = slow[slow_key] / fast[fast_key]
    a, b = slow.get(TIMING_OF.get(slow_key, "timing")), fast.get(TIMING_OF.get(fast_key, "timing"))
    if not a or not b or len(a.get("times_s", ())) < 2 or len(b.get("times_s", ())) < 2:
        return {"value": value, "low": None, "high": None, "noise": None}
    (a25, a75), (b25, b75) = _quartiles(a["times_s"]), _quartiles(b["times_s"])
    low, high = a25 / b75, a75 / b25
    outside = not low / (1 + OUTSIDE) <= value <= high * (1 + OUTSIDE)
    return {"value": value, "low": low, "high": high, "noise": low <= 1.0 <= high or outside}


def _quartiles(times: list[float]) -> tuple[float, float]:
    import statistics

    q = statistics.quantiles(times, n=4, method="inclusive")
    return q[0], q[2]


def exact(value: float) -> dict:
    """A ratio of counted (not timed) figures, e.g. bytes: no spread, never noise."""
    return {"value": value, "low": value, "high": value, "noise": False}


def format_ratio(r: dict) -> str:
    """``2.92x (2.51-3.30)``, ``1.04x (0.93-1.20) noise dominates`` (plain text)."""
    text = f"{r['value']:.2f}x"
    if r.get("low") is None:
        text += " (spread unknown: under 2 timed runs)"
    elif r["low"] == r["high"]:
        text += " (counted: exact)"
    else:
        text += f" ({r['low']:.2f}-{r['high']:.2f})"
    if r.get("noise"):
        text += " noise dominates: " + ("the rows' middle iteration times overlap" if r["low"] <= 1.0 <= r["high"]
                                        else "the ratio of the rows' best times lies outside it")
    return text


def ratios(rows: list[dict]) -> dict[str, dict]:
    """Speed ratios between rows of the same run (>1: the first-named variant is slower), each with its spread
    (:func:`ratio`)."""
    out: dict[str, dict] = {}
    ok = [r for r in rows if r["status"] == "ok"]

    def find(section, **match):
        for r in ok:
            if r["section"] == section and all(r.get(k) == v or r["config"].get(k) == v for k, v in match.items()):
                return r
        return None

    def add(name: str, slow, fast, key: str, fast_key: str | None = None) -> None:
        if slow and fast:
            out[name] = ratio(slow, key, fast, fast_key or key)

    for backbone in sorted({r["backbone"] for r in ok if r["section"] == "training"}):
        cached_by_ckpt = {}
        for ckpt in (False, True):
            tag = "ckpt" if ckpt else "no-ckpt"
            step = {latents: find("training", backbone=backbone, gradient_checkpointing=ckpt, latents=latents,
                                  compile=False)
                    for latents in ("cached", "encode-each-step", "datasets-cache", "safetensors-cache")}
            for other in ("encode-each-step", "datasets-cache"):
                add(f"training {backbone} {tag}: {other} / cached step time", step[other], step["cached"],
                    "step_time_s")
            add(f"training {backbone} {tag}: safetensors-cache / datasets-cache step time",
                step["safetensors-cache"], step["datasets-cache"], "step_time_s")
            compiled = find("training", backbone=backbone, gradient_checkpointing=ckpt, latents="cached", compile=True)
            add(f"training {backbone} {tag}: eager / compiled step time", step["cached"], compiled, "step_time_s")
            cached_by_ckpt[ckpt] = step["cached"]
        add(f"training {backbone} cached: checkpointing / no checkpointing step time", cached_by_ckpt[True],
            cached_by_ckpt[False], "step_time_s")
    for backbone in sorted({r["backbone"] for r in ok if r["section"] == "sampling"}):
        mixed = find("sampling", backbone=backbone, label="mixed-sequential")
        single = find("sampling", backbone=backbone, label="single")
        if mixed:
            add(f"sampling {backbone}: mixed ({mixed['config']['prompts']} prompts) / single steps time", mixed,
                single, "denoise_s")
        add(f"sampling {backbone}: batch 1 / batch 4 time per item", single,
            find("sampling", backbone=backbone, label="batch-4"), "time_per_item_s")
    for backbone in sorted({r["backbone"] for r in ok if r["section"] == "cache"}):
        old = find("cache", backbone=backbone, label="safetensors-cache")
        arrow = find("cache", backbone=backbone, label="datasets-cache")
        if old and arrow:
            out[f"cache {backbone}: safetensors-cache / datasets-cache bytes per pair"] = exact(
                old["bytes_per_pair"] / arrow["bytes_per_pair"])
            out[f"cache {backbone}: safetensors-cache / datasets-cache bytes per full-size pair"] = exact(
                old["full_size_bytes_per_pair"] / arrow["full_size_bytes_per_pair"])
            out[f"cache {backbone}: safetensors-cache / datasets-cache build time per pair"] = ratio(
                old, "build_s_per_pair", arrow, "build_s_per_pair")
    for backbone in sorted({r["backbone"] for r in ok if r["section"] == "loading"}):
        add(f"loading {backbone}: one backbone load / one restored item time", find("loading", backbone=backbone),
            find("sampling", backbone=backbone, label="single"), "load_s", "time_per_item_s")
    for metric in sorted({r["metric"] for r in ok if r["section"] == "evaluation"}):
        add(f"evaluation {metric}: one-by-one / batched time", find("evaluation", metric=metric, mode="one-by-one"),
            find("evaluation", metric=metric, mode="batched"), "seconds")
    return out
