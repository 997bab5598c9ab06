"""CI's check of `make demo` (the README's first command): the miniature YPT row restores what the issue asks.

Reads ``<results>/demo/tables/demo_vs_input.csv`` and the ypt_mini restore report of the mixed set; exits 1 naming
what failed. Gates: >= 5 dB PSNR over the input on demo_haze; PSNR improved on at least 3 demo sets; the mixed
set (demo_lowlight_blur) restored with two prompts averaged.
"""
import csv
import json
import sys
from pathlib import Path

root = Path(sys.argv[1] if len(sys.argv) > 1 else "results") / "demo"
rows = [r for r in csv.DictReader(open(root / "tables" / "demo_vs_input.csv"))
        if r["method"] == "ypt_mini" and r["metric"] == "psnr"]
gain = {r["dataset"]: float(r["delta"]) for r in rows}
improved = sorted(d for d, g in gain.items() if g > 0)
reports = sorted((root / "runs" / "ypt_mini").glob("*/demo_lowlight_blur/restore_report-*.json"))
mixed = [json.loads(p.read_text())["weights"]["prompts"] for p in reports]
problems = []
if gain.get("demo_haze", float("-inf")) < 5.0:
    problems.append(f"ypt_mini gains {gain.get('demo_haze')} dB PSNR on demo_haze (gate: >= 5)")
if len(improved) < 3:
    problems.append(f"ypt_mini improves PSNR on {len(improved)} demo sets ({', '.join(improved)}; gate: >= 3)")
if not mixed or any(len(paths) != 2 for m in mixed for paths in m.values()):
    problems.append(f"demo_lowlight_blur was not restored with two prompts: {mixed}")
print("demo: ypt_mini PSNR gain over the input: " + ", ".join(f"{d} {g:+.2f} dB" for d, g in sorted(gain.items())))
for p in problems:
    print("demo check failed: " + p)
sys.exit(1 if problems else 0)
