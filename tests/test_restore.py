"""Restorer end to end on tiny FLUX and WAN: output sizes, files written where asked, determinism, mixing."""
from __future__ import annotations

import numpy as np
import pytest
from official import OFFICIAL
import torch
from PIL import Image
from test_backbones import (
    TEXT_LEN,
    save_tiny_folder,
    single_thread,  # noqa: F401  (autouse)
    tiny_flux,
    tiny_flux_components,
    tiny_wan,
)
from test_train import _write_pairs, make_prompt

from ypt.restore import Restorer


def _image(path, h, w, seed=0):
    arr = np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)
    Image.fromarray(arr).save(path)
    return path


def _opened(prompt):
    with torch.no_grad():
        prompt.gates.fill_(0.5)
    return prompt


def test_flux_restorer_images_sizes_files_and_determinism(tmp_path):
    flux = tiny_flux()
    prompt = _opened(make_prompt(flux))
    restorer = Restorer(flux, [prompt], image_size=(16, 16), num_inference_steps=3)
    src = _image(tmp_path / "a.png", 20, 24)
    tensor = torch.rand(3, 12, 16)
    out = restorer.restore_images([src, tensor, Image.open(src)])
    assert [tuple(o.shape) for o in out] == [(3, 16, 16)] * 3
    assert torch.equal(out[0], out[2])  # same input, seed 42 each -> same output
    assert float(out[0].min()) >= 0 and float(out[0].max()) <= 1
    back = Restorer(flux, [prompt], image_size=(16, 16), num_inference_steps=3, output_size="input")
    assert tuple(back.restore_images([src])[0].shape) == (3, 20, 24)
    written = restorer.write_image(out[0], tmp_path / "out" / "set" / "a.png")
    assert written == tmp_path / "out" / "set" / "a.png"
    assert Image.open(written).size == (16, 16)
    # mixing a prompt with itself is the single prompt
    mixed = Restorer(flux, [prompt, prompt], image_size=(16, 16), num_inference_steps=3).restore_images([src])[0]
    torch.testing.assert_close(mixed, out[0])
    # the prompt matters
    other = Restorer(flux, [make_prompt(flux)], image_size=(16, 16), num_inference_steps=3).restore_images([src])[0]
    assert not torch.equal(other, out[0])


def test_wan_restorer_clip_frames(tmp_path):
    wan = tiny_wan()
    clip_dir = tmp_path / "clip"
    clip_dir.mkdir()
    for i in range(11):
        _image(clip_dir / f"f{i}.png", 24, 20, seed=i)
    restorer = Restorer(wan, [_opened(make_prompt(wan))], video_frames=9, video_size=(16, 16), num_inference_steps=2)
    restored = restorer.restore_clip(clip_dir)
    assert tuple(restored.shape) == (3, 9, 16, 16)
    written = restorer.write_clip(restorer.restore_clip(sorted(clip_dir.iterdir())), tmp_path / "out" / "c1")
    assert written == [tmp_path / "out" / "c1" / f"{i:05d}.png" for i in range(9)]
    assert Image.open(written[-1]).size == (16, 16)
    named = restorer.write_clip(restored, [tmp_path / "named" / f"f{i}.png" for i in range(9)])
    assert [p.name for p in named] == [f"f{i}.png" for i in range(9)]
    with pytest.raises(ValueError, match="2 paths for a clip of 9 frames"):
        restorer.write_clip(restored, [tmp_path / "a.png", tmp_path / "b.png"])
    short = Restorer(wan, [make_prompt(wan)], video_frames=33, video_size=(16, 16), num_inference_steps=1)
    assert short.restore_clip(torch.rand(3, 11, 16, 16)).shape[1] == 9  # 11 frames -> largest 4k+1


def test_missing_prompt_file_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing.safetensors"):
        Restorer.from_pretrained("flux", [tmp_path / "nothing.safetensors"], model=str(tmp_path))


def test_train_then_restore_clis_end_to_end(tmp_path, monkeypatch):
    """python -m ypt.train writes the prompt where default_prompt_path says (resumable); python -m ypt.restore
    loads it with the backbone from a local folder and writes the outputs."""
    import json

    from ypt.prompts import default_prompt_path
    from ypt.restore import main as restore_main
    from ypt.train import main as train_main

    monkeypatch.setenv("YPT_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("YPT_PROMPTS", str(tmp_path / "prompts"))
    model = save_tiny_folder(tiny_flux_components(), tmp_path / "flux")
    pairs = _write_pairs(tmp_path / "pairs", n=2, size=16)
    common = ["--backbone", "flux", "--degradation", "haze", "--model", str(model),
              "--size", "16", "16", "--dtype", "fp32", "--text-len", str(TEXT_LEN), "--log-every", "2",
              "--device", "cpu"]
    assert train_main([*common, "--pairs-dir", str(pairs), "--iterations", "4"]) == 0
    prompt = default_prompt_path("flux", "haze")
    meta = json.loads(prompt.with_suffix(".json").read_text())
    assert meta["steps"] == 4 and meta["variant"] == "residual" and meta["train_config"]["iterations"] == 4
    listed = tmp_path / "pairs.json"  # the same pairs listed in a file (relative to it)
    listed.write_text(json.dumps([{"input": f"pairs/input/img{i}.png", "target": f"pairs/target/img{i}.png"}
                                  for i in range(2)]))
    assert train_main([*common, "--pairs", str(listed), "--iterations", "6"]) == 0  # resumes from the checkpoint
    meta = json.loads(prompt.with_suffix(".json").read_text())
    assert meta["steps"] == 6 and [s for s, _ in meta["losses"]] == [2, 4, 6]
    assert restore_main(["--backbone", "flux", "--prompt", str(prompt), "--input", str(pairs / "input"),
                         "--out", str(tmp_path / "out"), "--model", str(model), "--dtype", "fp32", "--steps", "2",
                         "--device", "cpu", "--image-size", "16", "16"]) == 0
    outs = sorted((tmp_path / "out").iterdir())
    assert [p.name for p in outs] == ["img0.png", "img1.png"] and Image.open(outs[0]).size == (16, 16)


def test_official_wan_prompt_is_refused_by_a_tiny_wan_with_a_clear_message():

    from ypt.backbones.prompting import load_prompts

    official = OFFICIAL / "ckpts" / "wan_haze.pt"
    if not official.is_file():
        pytest.skip(f"official checkpoint not found at {official}")
    with pytest.raises(ValueError, match="does not fit this transformer"):
        load_prompts([official], tiny_wan())


def test_text_instruction_control_with_the_naive_bridge(tmp_path, monkeypatch):
    monkeypatch.setenv("YPT_CACHE", str(tmp_path / "cache"))
    model = save_tiny_folder(tiny_flux_components(), tmp_path / "flux")
    src = _image(tmp_path / "a.png", 16, 16)
    common = {"model": str(model), "device": "cpu", "dtype": "fp32", "bridge": "naive", "image_size": (16, 16),
              "num_inference_steps": 2}
    haze = Restorer.from_pretrained("flux", texts=["remove haze"], **common)
    assert haze.backbone.has_text_encoders() and haze.prompts[0].instruction == "remove haze"
    a = haze.restore_images([src])[0]
    b = Restorer.from_pretrained("flux", texts=["remove rain"], **common).restore_images([src])[0]
    assert a.shape == (3, 16, 16) and not torch.equal(a, b)
    with pytest.raises(ValueError, match="at least one prompt"):
        Restorer.from_pretrained("flux", **common)


def test_files_are_resized_with_pil_bicubic_and_tensors_by_interpolation(tmp_path):
    from ypt.restore import _prepare_image

    src = _image(tmp_path / "a.png", 20, 24)
    pixels, size = _prepare_image(src, (16, 16))
    expected = np.asarray(Image.open(src).resize((16, 16), Image.BICUBIC), dtype=np.float32) / 255
    assert size == (20, 24)
    np.testing.assert_array_equal(pixels.permute(1, 2, 0).numpy(), expected)
    tensor = torch.rand(3, 20, 24)
    resized, size = _prepare_image(tensor, (16, 16))
    ref = torch.nn.functional.interpolate(tensor[None], (16, 16), mode="bicubic", antialias=True)[0].clamp(0, 1)
    assert size == (20, 24)
    torch.testing.assert_close(resized, ref)


def test_clis_report_a_missing_file_or_model_in_one_line(tmp_path, capsys):
    """``python -m ypt.train`` / ``ypt.restore`` / ``ypt.prompts``: a missing pairs folder, prompt, input or model is
    ``error: ...`` on one line with the missing-resource exit code; ``--debug`` shows the traceback instead."""
    from ypt.errors import MissingModel, MissingResource
    from ypt.prompts.__main__ import main as prompts_main
    from ypt.restore import main as restore_main
    from ypt.train import main as train_main

    pairs = _write_pairs(tmp_path / "pairs", n=1)
    runs = [
        (train_main, ["--backbone", "flux", "--degradation", "haze", "--pairs-dir", str(tmp_path / "none")], "none"),
        (train_main, ["--backbone", "flux", "--degradation", "haze", "--pairs-dir", str(pairs), "--model",
                      str(tmp_path / "no-model"), "--device", "cpu", "--cache-dir", str(tmp_path / "c")], "no-model"),
        (restore_main, ["--backbone", "flux", "--prompt", str(tmp_path / "p.safetensors"), "--input", str(pairs / "input"),
                        "--out", str(tmp_path / "out")], "p.safetensors"),
        (restore_main, ["--backbone", "flux", "--prompt", "x", "--input", str(tmp_path / "nothing"),
                        "--out", str(tmp_path / "out")], "nothing"),
        (prompts_main, ["import-official", "--src", str(tmp_path)], "no wan_*.pt"),
    ]
    for main, argv, names in runs:
        assert main(argv) == MissingResource.exit_code, argv
        err = capsys.readouterr().err
        assert err.startswith("error: ") and names in err and "Traceback" not in err and err.count("\n") == 1, err
    with pytest.raises(MissingModel):
        train_main([*runs[1][1], "--debug"])
