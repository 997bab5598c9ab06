"""`python -m baselines` list/check/new: no heavy imports, the fix instead of a traceback, a scaffold that works."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import baselines
from baselines.__main__ import main

REPO = Path(__file__).resolve().parents[1]
PAPER_KEYS = ("dcpt", "dfpir", "autodir", "pixwizard", "foundir", "viwsnet", "avernet")


def _run(args, cwd=REPO, env_extra=None, pythonpath=None):
    env = dict(os.environ, **(env_extra or {}))
    env["PYTHONPATH"] = os.pathsep.join(pythonpath or [str(REPO)])
    return subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def test_registry_holds_the_stable_keys():
    for key in ("input", "dcp", *PAPER_KEYS):
        assert key in baselines.keys()
        assert baselines.get(key).spec.key == key


def test_list_imports_no_heavy_module(tmp_path):
    code = ("import sys; from baselines.__main__ import main; main(['list']); "
            "heavy = [m for m in sys.modules if m.split('.')[0] in ('torch', 'diffusers', 'pyiqa', 'transformers')]; "
            "print('HEAVY', heavy)")
    result = _run(["-c", code], env_extra={"YPT_BASELINES_CONFIG": str(tmp_path / "none.toml"),
                                           "YPT_PROMPTS": str(tmp_path / "prompts"), "COLUMNS": "200"})
    assert result.returncode == 0, result.stderr
    assert "HEAVY []" in result.stdout
    for key in ("input", "dcp", *PAPER_KEYS):
        assert key in result.stdout
    # the method's own prompt files are checked too (torch-free paths): five missing per backbone
    rows = {line.split("│")[1].strip(): line for line in result.stdout.splitlines() if line.count("│") > 3}
    # five prompts and the backbone weights (none of them on this machine)
    assert "no (6 missing)" in rows["ypt_flux"] and "no (6 missing)" in rows["ypt_wan"]


def test_check_names_each_missing_piece_with_its_fix(tmp_path, monkeypatch, capsys):
    config = tmp_path / "baselines.toml"
    config.write_text(f'[autodir]\nrepo = "{tmp_path / "nowhere"}"\npython = "{sys.executable}"\n')
    monkeypatch.setenv("YPT_BASELINES_CONFIG", str(config))
    assert main(["check", "autodir"]) == 1
    out = capsys.readouterr().out
    assert "does not exist" in out and "git clone https://github.com/jiangyitong/AutoDIR" in out
    assert "environment" not in out  # the interpreter is configured and exists
    assert main(["check", "dcp"]) == 0
    assert main(["check", "autodri"]) == 2
    assert "Did you mean 'autodir'" in capsys.readouterr().err


def test_check_broken_config_is_an_error_message_not_a_traceback(tmp_path):
    config = tmp_path / "baselines.toml"
    config.write_text("[autodir\nrepo = 1\n")
    result = _run(["-m", "baselines", "check", "autodir"], env_extra={"YPT_BASELINES_CONFIG": str(config)})
    assert result.returncode == 2
    assert "cannot parse the baselines config" in result.stderr and "Traceback" not in result.stderr


def test_help_works():
    result = _run(["-m", "baselines", "--help"])
    assert result.returncode == 0 and "restore" in result.stdout


def test_new_scaffolds_a_method_whose_test_passes_and_that_list_shows(tmp_path):
    pkg = tmp_path / "pkg"
    shutil.copytree(REPO / "baselines", pkg / "baselines", ignore=shutil.ignore_patterns("__pycache__"))
    path = [str(pkg), str(REPO)]
    name = "scaffoldedmethod"  # not a key a user would scaffold in their checkout (the copy holds theirs too)
    made = _run(["-m", "baselines", "new", name, "--tests-dir", str(tmp_path / "tests")], cwd=pkg,
                pythonpath=path)
    assert made.returncode == 0, made.stderr
    assert (pkg / f"baselines/methods/{name}.py").is_file()
    listed = _run(["-m", "baselines", "list"], cwd=pkg, pythonpath=path,
                  env_extra={"YPT_BASELINES_CONFIG": str(tmp_path / "none.toml")})
    assert name in listed.stdout, listed.stderr
    # its placeholders make it "not ready" in check, naming the file to fill in (not a failing suite test)
    checked = _run(["-m", "baselines", "check", name], cwd=pkg, pythonpath=path,
                   env_extra={"YPT_BASELINES_CONFIG": str(tmp_path / "none.toml")})
    assert checked.returncode == 1 and "SPEC incomplete: upstream_commit" in checked.stdout
    assert f"fill it in baselines/methods/{name}.py" in checked.stdout
    tested = _run(["-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path / "tests")], cwd=tmp_path,
                  pythonpath=path)
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "2 passed" in tested.stdout
    again = _run(["-m", "baselines", "new", name, "--tests-dir", str(tmp_path / "tests")], cwd=pkg,
                 pythonpath=path)
    assert again.returncode == 2 and "already exists" in again.stderr


@pytest.mark.parametrize("bad", ["My-Method", "class", "_x", "Upper"])
def test_new_rejects_bad_names(bad, tmp_path):
    assert main(["new", bad, "--methods-dir", str(tmp_path), "--tests-dir", str(tmp_path)]) == 2
    assert list(tmp_path.iterdir()) == []


def test_restore_command_runs_a_dataset_through_a_method(tmp_path, monkeypatch, capsys):
    import numpy as np
    from PIL import Image

    from benchmarks import datasets

    root = tmp_path / "data"
    (root / "input").mkdir(parents=True)
    Image.fromarray(np.full((6, 9, 3), 77, np.uint8)).save(root / "input/a.png")
    toy = datasets.paired_folder("toy", root, ("haze",), paired=False)
    roots = []

    def get(key):
        if key != "toy":
            return real_get(key)
        return type("Toy", (), {"samples": lambda self, data_root=None: roots.append(data_root) or toy.samples()})()

    real_get = datasets.get
    monkeypatch.setattr(datasets, "get", get)
    monkeypatch.setenv("YPT_BASELINES_CONFIG", str(tmp_path / "none.toml"))
    assert main(["restore", "input", "--dataset", "toy", "--out", str(tmp_path / "out"),
                 "--data-root", str(root)]) == 0
    assert "1 outputs" in capsys.readouterr().out and roots == [root]  # --data-root reaches the registry
    assert np.asarray(Image.open(tmp_path / "out/a.png"))[0, 0, 0] == 77
    # a method that is not set up: the fix, exit 2, no traceback
    assert main(["restore", "foundir", "--dataset", "toy", "--out", str(tmp_path / "o2"),
                 "--data-root", str(root)]) == 2
    assert "git clone https://github.com/House-Leo/FoundIR" in capsys.readouterr().err


def test_identity_changes_with_results_settings_only():
    from ypt.provenance import config_hash

    method = baselines.get("dcpt")
    base = method.identity({"repo": "/a", "python": "/p", "variant": "NAFNet"})
    assert base == method.identity({"repo": "/b", "conda_env": "x", "variant": "NAFNet", "env": {"A": "1"}})
    assert config_hash(base) != config_hash(method.identity({"repo": "/a", "variant": "Restormer"}))
    assert base["upstream_commit"] == "0889edefbd8245f7d276eddf15d2333bf5cef41c"


def test_every_method_file_declares_a_complete_spec():
    """Every method shipped with the suite (tracked by git); a method a user scaffolded in their checkout is reported
    incomplete by ``baselines check`` instead (test above)."""
    import importlib
    import re

    tracked = subprocess.run(["git", "ls-files", "baselines/methods"], cwd=REPO, capture_output=True, text=True)
    shipped = {Path(p).stem for p in tracked.stdout.split()} if tracked.returncode == 0 else set(baselines.keys())
    for key in sorted(shipped & set(baselines.keys())):
        module = importlib.import_module(f"baselines.methods.{key}")
        spec = module.SPEC
        assert spec.key == key and module.METHOD.spec is spec
        assert spec.display_name and spec.invocation and spec.resolution and spec.modalities and spec.degradations
        if spec.external:
            assert re.fullmatch(r"[0-9a-f]{40}", spec.upstream_commit), key
            assert spec.checkpoints and all(c.url.startswith("https://") for c in spec.checkpoints), key
            assert spec.entry_files and spec.citation, key
        assert spec.incomplete() == [], key


def test_check_warns_when_the_clone_is_not_at_the_pinned_commit(tmp_path, monkeypatch, capsys):
    repo = tmp_path / "FoundIR"
    repo.mkdir()
    (repo / "test.py").write_text("")
    for cmd in (["init", "-q"], ["add", "test.py"],
                ["-c", "user.email=a@b", "-c", "user.name=n", "commit", "-q", "-m", "x"]):
        subprocess.run(["git", "-C", str(repo), *cmd], check=True)
    config = tmp_path / "baselines.toml"
    config.write_text(f'[foundir]\nrepo = "{repo}"\npython = "{sys.executable}"\n')
    monkeypatch.setenv("YPT_BASELINES_CONFIG", str(config))
    assert main(["check", "foundir"]) == 1  # the checkpoint is missing
    out = capsys.readouterr().out
    assert "warning: the clone is at" in out and "6d19958499622d90ca71fe971d83b1e428c17cd0" in out
    assert "premodel/model-2000.pt" in out
