"""benchmarks.prefetch: what a table needs, listed by --dry-run without downloading."""
from __future__ import annotations


def test_prefetch_dry_run_lists_what_it_would_download(tmp_path, monkeypatch, capsys):
    from benchmarks.prefetch import main

    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    assert main(["table2", "--dry-run", "--backbones"]) == 0
    out = capsys.readouterr().out
    assert "would fetch [lpips] https://download.pytorch.org/models/alexnet-owt-7be5be79.pth" in out
    assert "musiq_koniq_ckpt-e95806b9.pth" in out and "CLIP-IQA+_learned_prompts" in out
    assert "would snapshot [flux] black-forest-labs/FLUX.1-dev" in out and "[wan]" not in out
    assert not any(tmp_path.iterdir())  # nothing downloaded
