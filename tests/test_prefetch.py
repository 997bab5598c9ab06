"""benchmarks.prefetch: what a table needs, listed by --dry-run without downloading."""
from __future__ import annotations


def test_prefetch_dry_run_lists_what_it_would_download(tmp_path, monkeypatch, capsys):
    from benchmarks.prefetch import main

    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    assert main(["table2", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "would fetch [lpips] https://download.pytorch.org/models/alexnet-owt-7be5be79.pth" in out
    assert "musiq_koniq_ckpt-e95806b9.pth" in out and "CLIP-IQA+_learned_prompts" in out
    assert "would snapshot" not in out and "add --backbones flux to snapshot them" in out  # table2 runs FLUX
    assert main(["table2", "--dry-run", "--backbones", "flux"]) == 0
    out = capsys.readouterr().out
    assert "would snapshot [flux] black-forest-labs/FLUX.1-dev" in out and "[wan]" not in out
    assert "add --backbones" not in out
    # the same comma list as benchmarks.perf, benchmarks.ablate and slurm.train
    assert main(["--metrics", "psnr", "--dry-run", "--backbones", "wan,flux"]) == 0
    out = capsys.readouterr().out
    assert out.index("would snapshot [wan]") < out.index("would snapshot [flux]")
    assert main(["--metrics", "psnr", "--dry-run", "--backbones", "flux,sd3"]) == 2
    assert "unknown backbone sd3: --backbones takes a comma list of flux, wan" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())  # nothing downloaded


def _fake_dover_clone(tmp_path, monkeypatch):
    """A DOVER clone layout (package with models/, dover.yml) without its weights."""
    import sys

    from benchmarks.metrics import dover

    monkeypatch.setattr(dover, "RUNTIME_MODULES", {})  # DOVER's own dependencies: checked in test_metrics_dover
    clone = tmp_path / "DOVER"
    (clone / "dover" / "models").mkdir(parents=True)
    (clone / "dover" / "__init__.py").write_text("")
    (clone / "dover.yml").write_text("name: DOVER\n")
    monkeypatch.syspath_prepend(str(clone))
    for name in [m for m in sys.modules if m == "dover" or m.startswith("dover.")]:
        monkeypatch.delitem(sys.modules, name)
    return clone


def test_prefetch_dover_weights_into_the_clone(tmp_path, monkeypatch, capsys):
    from benchmarks.metrics.dover import dover_problem
    from benchmarks.prefetch import main

    clone = _fake_dover_clone(tmp_path, monkeypatch)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.delenv("YPT_DOVER_DIR", raising=False)  # found from the editable install's location
    fetch = "fetch it on a machine with internet with `python -m benchmarks.prefetch --metrics dover`"
    assert dover_problem().startswith(f"dover: {clone / 'pretrained_weights/DOVER.pth'} is missing: {fetch}")
    assert main(["--metrics", "dover", "--dry-run"]) == 0
    convnext = tmp_path / "torch/hub/checkpoints/convnext_tiny_1k_224_ema.pth"
    assert capsys.readouterr().out.splitlines() == [
        f"would fetch [dover] https://dl.fbaipublicfiles.com/convnext/convnext_tiny_1k_224_ema.pth -> {convnext}",
        "would fetch [dover] https://huggingface.co/teowu/DOVER/resolve/main/DOVER.pth -> "
        f"{clone / 'pretrained_weights/DOVER.pth'}"]
    (clone / "pretrained_weights").mkdir()
    (clone / "pretrained_weights/DOVER.pth").write_bytes(b"x")
    assert dover_problem().startswith(f"dover: {convnext} is missing: {fetch}")
    convnext.parent.mkdir(parents=True)
    convnext.write_bytes(b"x")
    assert dover_problem() is None


def test_prefetch_without_dover_says_how_to_install(tmp_path, monkeypatch, capsys):
    import importlib.util

    from benchmarks.prefetch import main

    real_find_spec = importlib.util.find_spec  # a machine with DOVER installed runs this too: hide it
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "dover" else real_find_spec(name, *a))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    assert main(["--metrics", "dover,psnr", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "[dover] not a download this command does: dover: the DOVER package is not installed" in out
    assert "git clone https://github.com/VQAssessment/DOVER" in out
    # the ConvNeXt DOVER's model build downloads does not need the clone: it goes into the torch hub cache
    assert [ln for ln in out.splitlines() if ln.startswith("would fetch")] == [
        f"would fetch [dover] https://dl.fbaipublicfiles.com/convnext/convnext_tiny_1k_224_ema.pth -> "
        f"{tmp_path / 'hub/checkpoints/convnext_tiny_1k_224_ema.pth'}"]


def test_prefetch_unknown_metric_names_the_valid_ones(capsys):
    from benchmarks.prefetch import main

    assert main(["--metrics", "lpipss", "--dry-run"]) == 2
    err = capsys.readouterr().err
    assert "unknown metric 'lpipss'" in err and "'lpips'" in err and "dover" in err
