"""Every command line starts light: ``--help`` (and ``benchmarks.run list``) import none of the heavy stacks, so a
login node answers at once and a broken optional dependency never blocks reading the help."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
HEAVY = ("torch", "diffusers", "pyiqa", "transformers", "pandas", "safetensors", "gradio")

CLIS = [  # (module, argv, a string its output must contain)
    ("benchmarks.run", ["--help"], "--source"),
    ("benchmarks.run", ["list"], "table5"),
    ("benchmarks.ablate", ["t0", "--help"], "--from-results"),
    ("benchmarks.evaluate", ["--help"], "--results-dir"),
    ("benchmarks.prefetch", ["--help"], "--backbones"),
    ("benchmarks.datasets", ["--help"], "check"),
    ("benchmarks.perf", ["--help"], "latest.json"),
    ("slurm.train", ["--help"], "--gradient-checkpointing"),
    ("ypt.train", ["--help"], "--pairs-dir"),
    ("ypt.restore", ["--help"], "result.mp4"),
    ("ypt.prompts", ["--help"], "import-official"),
    ("ypt.app", ["--help"], "--prompts"),
    ("baselines", ["--help"], "restore"),
]


@pytest.mark.parametrize("module,argv,shows", CLIS, ids=[f"{m} {' '.join(a)}" for m, a, _ in CLIS])
def test_cli_starts_without_heavy_imports(module, argv, shows):
    code = (f"import runpy, sys\nsys.argv = ['x', *{argv!r}]\n"
            f"try:\n    runpy.run_module({module!r}, run_name='__main__')\nexcept SystemExit:\n    pass\n"
            f"print('HEAVY', sorted(m for m in {HEAVY!r} if m in sys.modules))")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=REPO,
                         check=False)
    assert res.returncode == 0, res.stderr
    assert shows in res.stdout, res.stdout[-2000:]
    assert res.stdout.strip().splitlines()[-1] == "HEAVY []"


def test_console_scripts_are_the_python_m_commands():
    """Every console script in pyproject.toml runs the ``main`` of a command listed above (so its --help is tested
    light too), and an installed script answers like ``python -m``."""
    import shutil
    import tomllib

    scripts = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
    modules = {m for m, _, _ in CLIS}
    for name, target in scripts.items():
        module, _, attr = target.partition(":")
        assert attr == "main" and module.removesuffix(".__main__") in modules, (name, target)
        assert name.startswith("ypt-")
    script = shutil.which("ypt-run", path=str(Path(sys.executable).parent))
    if script is None:
        pytest.skip("the console scripts are not installed in this environment (pip install -e . installs them)")
    res = subprocess.run([script, "list"], capture_output=True, text=True, timeout=60, check=False)
    assert res.returncode == 0 and "table5" in res.stdout, res.stderr
