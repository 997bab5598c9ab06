"""Every command's expected failures, as a user meets them in a shell: one or two lines on stderr naming the thing
and the fix, exit 2 when the command cannot start (bad usage, unknown key, missing resource) and 1 when work
failed; no traceback unless ``--debug`` (or ``YPT_DEBUG=1``) asks for it."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run(args, tmp_path, **env):
    environ = {key: value for key, value in os.environ.items() if key != "YPT_DEBUG"}
    environ.update({"YPT_DATA": str(tmp_path / "no-data"), "YPT_DATA_CONFIG": str(tmp_path / "d.toml"),
                    "YPT_BASELINES_CONFIG": str(tmp_path / "b.toml"), "TORCH_HOME": str(tmp_path / "torch"),
                    "YPT_PROMPTS": str(tmp_path / "prompts"), "HF_HUB_OFFLINE": "1", **env})
    return subprocess.run([sys.executable, "-m", *args], cwd=tmp_path, env=environ, capture_output=True, text=True,
                          timeout=300)


CASES = [
    # (command line, exit code, what stderr names)
    (["benchmarks.run", "tabel2"], 2, "unknown table 'tabel2'. Did you mean 'table2'"),
    (["benchmarks.run", "table1", "--demo"], 2, "table1 has no built-in demo"),
    (["benchmarks.run", "table2", "--demo", "--executor", "slurm"], 2, "--executor slurm needs --cluster NAME"),
    (["benchmarks.run", "table2", "--demo", "--methods", "nosuch"], 2, "nothing to plan for demo"),
    (["benchmarks.run", "table2", "--source", "results", "--results-dir", "empty"], 2, "holds no records yet"),
    (["benchmarks.ablate", "t0", "--backbones", "sdxl"], 2, "unknown backbone(s) sdxl"),
    (["benchmarks.ablate", "t0", "--from-results", "--records", "no.csv"], 2, "records file no.csv does not exist"),
    (["benchmarks.evaluate", "--method", "m", "--dataset", "hazerdd", "--outputs", "o"], 2,
     "unknown dataset 'hazerdd'"),
    (["benchmarks.evaluate", "--method", "m", "--dataset", "hazerd", "--outputs", "o"], 2, "HazeRD (hazerd) not found"),
    (["benchmarks.evaluate", "--method", "m", "--dataset", "rhvd", "--outputs", "o", "--metrics", "psnr"], 2,
     "psnr cannot be computed on rhvd"),
    (["benchmarks.prefetch", "table9"], 2, "unknown table 'table9'"),
    (["benchmarks.prefetch", "--metrics", "lpips"], 1, "cannot fetch https://"),
    (["benchmarks.datasets", "check", "hazerdd"], 2, "unknown dataset 'hazerdd'"),
    (["benchmarks.perf.cost", "train", "flux", "-1"], 2, "n_items must be >= 0"),
    (["baselines", "check", "autodirr"], 2, "unknown method 'autodirr'. Did you mean 'autodir'"),
    (["baselines", "restore", "foundir", "--dataset", "hazerd", "--out", "o"], 2, "HazeRD (hazerd) not found"),
    (["baselines", "new", "My-Method"], 2, "must be a lower-case Python identifier"),
    (["slurm.train", "--backbone", "sd3"], 2, "unknown sd3"),
    (["slurm.train", "--backbone", "flux", "--executor", "slurm", "--cluster", "nope"], 2,
     "no cluster profile 'nope'"),
    (["ypt.train", "--backbone", "wan", "--degradation", "haze", "--pairs-dir", "nowhere"], 2,
     "nowhere needs input/ and target/ folders"),
    (["ypt.restore", "--backbone", "flux", "--prompts", "no.safetensors", "--input", "nowhere", "--out", "o"], 2,
     "input not found: nowhere"),
    (["ypt.restore", "--backbone", "flux", "--prompts", "no.safetensors", "--input", ".", "--out", "o"], 2,
     "no images (.png"),
    (["ypt.prompts", "show", "no.pt"], 2, "no official prompt checkpoint at no.pt"),
]


@pytest.mark.parametrize("args, code, says", CASES, ids=[" ".join(c[0]) for c in CASES])
def test_expected_failures_are_a_line_or_two_without_traceback(tmp_path, args, code, says):
    res = run(args, tmp_path)
    assert res.returncode == code, res.stdout + res.stderr
    assert says in res.stderr, res.stderr
    assert "Traceback" not in res.stdout + res.stderr
    errors = [line for line in res.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, res.stderr


def test_debug_shows_the_traceback(tmp_path):
    res = run(["benchmarks.evaluate", "--method", "m", "--dataset", "hazerd", "--outputs", "o", "--debug"], tmp_path)
    assert res.returncode == 1 and "Traceback" in res.stderr and "DatasetMissing" in res.stderr
    res = run(["baselines", "check", "autodirr"], tmp_path, YPT_DEBUG="1")
    assert "Traceback" in res.stderr and "UnknownKeyError" in res.stderr
    res = run(["baselines", "check", "autodirr", "--debug"], tmp_path)
    assert "Traceback" in res.stderr


def test_training_without_the_backbone_weights_names_the_model_and_the_fix(tmp_path):
    for side in ("input", "target"):
        (tmp_path / "pairs" / side).mkdir(parents=True)
        (tmp_path / "pairs" / side / "a.png").write_bytes(b"")
    res = run(["ypt.train", "--backbone", "wan", "--degradation", "haze", "--pairs-dir", "pairs"], tmp_path,
              HF_HUB_CACHE=str(tmp_path / "hf"))
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert "WAN 2.1 T2V 1.3B" in res.stderr and "python -m benchmarks.prefetch table3 --backbones" in res.stderr
