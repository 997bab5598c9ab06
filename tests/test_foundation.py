"""The spine: registry behaviour, provenance, atomic writes, the torchvision CPU hook."""
import subprocess
import sys

import pytest

from ypt.registry import Registry, UnknownKeyError
from ypt.files import atomic_path, atomic_write_text, file_sha256
from ypt.provenance import canonical_json, config_hash


def test_registry_lazy_entries_resolve_once_and_reject_duplicates():
    reg = Registry("thing")
    reg.register("join", "os.path:join")
    assert not reg.is_loaded("join")
    import os.path

    assert reg.get("join") is os.path.join
    assert reg.is_loaded("join")
    with pytest.raises(ValueError, match="duplicate thing 'join'"):
        reg.register("join", os.path.join)


def test_registry_unknown_key_names_close_matches_and_all_keys():
    reg = Registry("table")
    for key in ("table1", "table2", "table3"):
        reg.register(key, object())
    with pytest.raises(UnknownKeyError) as err:
        reg.get("tabel2")
    message = str(err.value)
    assert message.startswith("unknown table 'tabel2'. Did you mean 'table2'")
    assert "Valid: table1, table2, table3" in message


def test_registry_decorator_registers_object():
    reg = Registry("metric")

    @reg.register("double")
    def double(x):
        return 2 * x

    assert reg.get("double")(4) == 8
    assert list(reg) == ["double"] and "double" in reg and len(reg) == 1


def test_config_hash_is_order_independent_and_sensitive_to_values():
    a = {"t0": 0.4, "steps": 20, "bridge": "ebr"}
    b = {"bridge": "ebr", "steps": 20, "t0": 0.4}
    assert config_hash(a) == config_hash(b)
    assert config_hash(a) != config_hash({**a, "t0": 0.5})
    assert canonical_json(a) == '{"bridge":"ebr","steps":20,"t0":0.4}'


def test_atomic_write_replaces_and_cleans_up_on_failure(tmp_path):
    target = tmp_path / "sub" / "file.txt"
    atomic_write_text(target, "first")
    assert target.read_text() == "first"
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half-written")
            raise RuntimeError("crash mid-write")
    assert target.read_text() == "first"
    assert [p.name for p in target.parent.iterdir()] == ["file.txt"]
    # sha256 of b"first"
    assert file_sha256(target) == "a7937b64b8caa58f03721bb6bacf5c78cb235febe0e70b1b84cd99541461a08e"


def test_cpu_nms_matches_hand_computed_suppression():
    import torch

    from ypt.compat.torchvision_hook import _nms_cpu

    boxes = torch.tensor([[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30], [0, 0, 10, 9]], dtype=torch.float32)
    scores = torch.tensor([0.9, 0.8, 0.7, 0.95])
    # box 3 (0.95) suppresses box 0 (IoU 0.9) and box 1 (IoU 81/(90+100-81)=0.743); box 2 is disjoint
    assert _nms_cpu(boxes, scores, 0.5).tolist() == [3, 2]
    assert _nms_cpu(boxes, scores, 0.95).tolist() == [3, 0, 1, 2]


def test_torchvision_imports_and_nms_runs_in_a_fresh_interpreter():
    code = (
        "import torch, torchvision\n"
        "b = torch.tensor([[0., 0., 10., 10.], [1., 1., 11., 11.]])\n"
        "import torchvision.transforms.functional as F\n"
        "assert F.resize(torch.zeros(3, 8, 8), [4, 4], antialias=True).shape == (3, 4, 4)\n"
        "print(torch.ops.torchvision.nms(b, torch.tensor([0.9, 0.8]), 0.5).tolist())\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "[0]"


def test_cpu_requirements_keep_the_project_and_drop_pyiqa_dev_extras():
    from ypt.compat.cpu_requirements import (
        PYIQA_UNUSED,
        _active,
        _name,
        _strip_extra_marker,
        cpu_requirements,
        project_requirements,
    )

    lines = cpu_requirements()
    names = [_name(r) for r in lines]
    ours = {_name(r) for r in project_requirements()}
    assert "pyiqa" not in names and not (PYIQA_UNUSED - ours) & set(names)  # pytest stays: our test extra
    for needed in ("torch", "diffusers", "transformers", "pandas", "submitit", "pytest", "openai-clip", "timm"):
        assert needed in names, needed
    assert len(names) == len(set(names))
    assert _active('pytest>=7; extra == "test"', ("test",)) and not _active('x; extra == "docs"', ("test",))
    assert _strip_extra_marker('pytest>=7; extra == "test"') == "pytest>=7"
    assert _name('bitsandbytes; sys_platform != "darwin"') == "bitsandbytes"


def test_the_suite_writes_no_cache_into_the_real_home():
    """conftest gives the session a temporary HOME: the caches the suite writes by default (null-text contexts,
    latents, prompts) resolve under it, never under the user's home."""
    import tempfile
    from pathlib import Path

    from ypt.prompts.paths import default_prompt_path

    home = Path.home()
    assert home.name.startswith("ypt-test-home-") and home.parent == Path(tempfile.gettempdir())
    assert str(default_prompt_path("flux", "haze")).startswith(str(home))


def test_torchvision_hook_installs_uninstalls_and_is_silent_once_ypt_is_gone(tmp_path):
    """The .pth line in a site dir: active where ypt imports, silent (no 'Error processing line') where it does not
    (python -S: no site-packages, so no ypt), removable."""
    from ypt.compat import torchvision_cpu

    site_dir = tmp_path / "site"
    site_dir.mkdir()
    assert torchvision_cpu.install(str(site_dir), force=True) == site_dir / torchvision_cpu.PTH_NAME
    probe = ("import site, sys; site.addsitedir(sys.argv[1]); "
             "print(sum(type(f).__name__ == 'TorchvisionCpuFinder' for f in sys.meta_path))")
    with_ypt = subprocess.run([sys.executable, "-c", probe, str(site_dir)], capture_output=True, text=True,
                              timeout=120, cwd=tmp_path)
    assert with_ypt.returncode == 0 and with_ypt.stdout.strip() == "1" and with_ypt.stderr == "", with_ypt.stderr
    without_ypt = subprocess.run([sys.executable, "-S", "-c", probe, str(site_dir)], capture_output=True, text=True,
                                 timeout=120, cwd=tmp_path)  # not the checkout: ypt must not be importable
    assert without_ypt.returncode == 0 and without_ypt.stdout.strip() == "0" and without_ypt.stderr == ""
    assert torchvision_cpu.uninstall(str(site_dir)) == site_dir / torchvision_cpu.PTH_NAME
    assert not any(site_dir.iterdir()) and torchvision_cpu.uninstall(str(site_dir)) is None


def test_cpu_torchvision_failure_is_explained_in_one_line():
    from ypt.compat.torchvision_cpu import explain

    try:
        try:
            raise RuntimeError("operator torchvision::nms does not exist")
        except RuntimeError as inner:
            raise ImportError("cannot import name 'FluxPipeline'") from inner
    except ImportError as error:
        hint = explain(error)
    assert "python -m ypt.compat.torchvision_cpu" in hint and "\n" not in hint
    assert explain(RuntimeError("CUDA out of memory")) is None


def test_every_command_turns_the_cpu_torchvision_failure_into_its_fix(capsys):
    """A venv made without the hook (pip install -e . beside a CPU torch): the command says the fix in one line,
    exit 2; --debug shows the traceback; any other error stays a traceback."""
    from ypt.cli import entry_point

    @entry_point
    def command(argv=None, error=None):
        if error is not None:
            raise error
        import_torchvision = RuntimeError("operator torchvision::nms does not exist")
        raise ImportError("cannot import name 'FluxPipeline'") from import_torchvision

    assert command([]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: torchvision's compiled extension does not load") and err.count("\n") == 1
    with pytest.raises(ImportError):
        command(["--debug"])
    with pytest.raises(ZeroDivisionError):
        command([], error=ZeroDivisionError("a bug"))
