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
    tiny_wan_components,
)
from test_train import _write_pairs, make_prompt

from ypt.backbones.wan import WanBackbone

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
    # one run: the same input at position 2 gets the third posterior draw of the encode stream, and restoring it
    # alone as the run's third sample gives it again (resumable, any worker); seed 42 for each sampler start
    assert not torch.equal(out[0], out[2])
    assert torch.equal(restorer.restore_images([src])[0], out[0])
    assert torch.equal(restorer.restore_images([Image.open(src)], encoded_before=2)[0], out[2])
    mode = Restorer(flux, [prompt], image_size=(16, 16), num_inference_steps=3, posterior="mode")
    first, _, third = mode.restore_images([src, tensor, src])
    assert torch.equal(first, third)  # the posterior's mode: no stream
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


def test_encode_stream_replays_the_release_draws_in_run_order():
    """Sample k of a run is encoded from a generator seeded 123 on the VAE's device that has made two posterior
    draws (input, then target) of every earlier sample's shape, whatever order the samples are restored in."""
    wan = tiny_wan()
    restorer = Restorer(wan, [make_prompt(wan)], video_frames=9, video_size=(16, 16), num_inference_steps=1)
    earlier = [restorer._clip_shape(n) for n in (9, 5, 33)]
    expected = torch.Generator().manual_seed(123)
    for shape in earlier:
        for _ in range(2):
            torch.randn(wan.posterior_shape(shape), generator=expected)
    for order in ([3], [1, 3], [3, 0, 3]):  # fresh, continued from a prefix, after a later sample
        for k in order:
            generator = restorer.encode_stream(earlier[:k])
        assert torch.equal(generator.get_state(), expected.get_state())
    assert wan.posterior_shape((1, 3, 9, 16, 16)) == (1, 4, 3, 2, 2)
    assert restorer._clip_shape(33) == (1, 3, 9, 16, 16) and restorer._clip_shape(7) == (1, 3, 5, 16, 16)


def test_missing_prompt_file_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing.safetensors"):
        Restorer.from_pretrained("flux", [tmp_path / "nothing.safetensors"], model=str(tmp_path))


def test_train_then_restore_clis_end_to_end(tmp_path, monkeypatch, capsys):
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
    # output to a log (no terminal): a plain progress line per logged step; the run's metrics.csv beside it
    lines = [x for x in capsys.readouterr().err.splitlines() if x.startswith("flux/haze step")]
    assert [x.split(" loss ")[0] for x in lines] == ["flux/haze step 2/4", "flux/haze step 4/4"]
    assert all(" it/s ETA " in x or " s/it ETA " in x for x in lines)
    metrics = (prompt.parent / "haze.run" / "metrics.csv").read_text().splitlines()
    assert metrics[0] == "step,elapsed_s,it_s,loss,lr" and [r.split(",")[0] for r in metrics[1:]] == ["2", "4"]
    listed = tmp_path / "pairs.json"  # the same pairs listed in a file (relative to it)
    listed.write_text(json.dumps([{"input": f"pairs/input/img{i}.png", "target": f"pairs/target/img{i}.png"}
                                  for i in range(2)]))
    assert train_main([*common, "--pairs", str(listed), "--iterations", "6"]) == 0  # resumes from the checkpoint
    meta = json.loads(prompt.with_suffix(".json").read_text())
    assert meta["steps"] == 6 and [s for s, _ in meta["losses"]] == [2, 4, 6]
    metrics = (prompt.parent / "haze.run" / "metrics.csv").read_text().splitlines()
    assert [r.split(",")[0] for r in metrics[1:]] == ["2", "4", "6"]
    assert [float(r.split(",")[3]) for r in metrics[1:]] == [loss for _, loss in meta["losses"]]
    assert restore_main(["--backbone", "flux", "--prompts", str(prompt), "--input", str(pairs / "input"),
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
        (restore_main, ["--backbone", "flux", "--prompts", str(tmp_path / "p.safetensors"), "--input", str(pairs / "input"),
                        "--out", str(tmp_path / "out")], "p.safetensors"),
        (restore_main, ["--backbone", "flux", "--prompts", "x", "--input", str(tmp_path / "nothing"),
                        "--out", str(tmp_path / "out")], "nothing"),
        (prompts_main, ["import-official", "--src", str(tmp_path)], "no flux_*.pt or wan_*.pt"),
    ]
    for main, argv, names in runs:
        assert main(argv) == MissingResource.exit_code, argv
        err = capsys.readouterr().err
        assert err.startswith("error: ") and names in err and "Traceback" not in err and err.count("\n") == 1, err
    with pytest.raises(MissingModel):
        train_main([*runs[1][1], "--debug"])


def _video(path, frames, size=(20, 24), fps=24):
    """A small video written with PyAV (the codec its container takes), textured frames."""
    from fractions import Fraction

    import av

    codec = {".mp4": "libx264", ".mov": "libx264", ".mkv": "libx264", ".avi": "mpeg4", ".webm": "libvpx-vp9"}
    rng = np.random.default_rng(3)
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream(codec[path.suffix], rate=Fraction(fps).limit_denominator(1001))
        stream.height, stream.width = size
        stream.pix_fmt = "yuv420p"
        for _ in range(frames):
            arr = rng.integers(0, 256, (*size, 3), dtype=np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(arr, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def _decoded(path):
    import av

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(stream)]
        return frames, float(stream.average_rate), stream.codec_context.pix_fmt


@pytest.mark.parametrize("ext,fps", [(".mp4", 24), (".mov", 30000 / 1001), (".avi", 25), (".mkv", 15),
                                     (".webm", 12)])
def test_video_files_read_the_first_frames_and_their_rate(tmp_path, ext, fps):
    from ypt import media

    clip = _video(tmp_path / f"clip{ext}", 12, fps=fps)
    frames, rate = media.read_video(clip, 5)
    assert len(frames) == 5 and frames[0].shape == (20, 24, 3)
    assert rate == pytest.approx(fps, rel=1e-3) and media.clip_fps(clip) == pytest.approx(fps, rel=1e-3)
    assert len(media.read_video(clip)[0]) == 12  # counted while decoding (.mkv and .webm state no count)
    assert media.clip_size(clip) == (20, 24)
    assert tuple(media.load_clip(clip, 9, (16, 16)).shape) == (3, 9, 16, 16)


def test_result_video_is_h264_at_the_rate_and_odd_sizes_are_padded(tmp_path):
    from ypt import media

    clip = torch.rand(3, 5, 15, 21)
    path = media.write_video(clip, tmp_path / "r" / "result.mp4", fps=30000 / 1001)
    frames, rate, pix_fmt = _decoded(path)
    assert len(frames) == 5 and frames[0].shape == (16, 22, 3) and pix_fmt == "yuv420p"
    assert rate == pytest.approx(29.97, abs=1e-2)
    assert [p.name for p in path.parent.iterdir()] == ["result.mp4"]  # written atomically: no temporary left
    with pytest.raises(ValueError, match="cannot read video"):
        (tmp_path / "bad.mp4").write_bytes(b"not a video")
        media.read_video(tmp_path / "bad.mp4")


def test_restore_cli_takes_a_video_file_and_writes_frames_and_result_mp4(tmp_path, monkeypatch, capsys):
    """python -m ypt.restore --input clip.mp4 on a tiny WAN: the first --frames frames cut to 4k+1, the frames as
    PNGs and result.mp4 at the input's rate; a folder of videos and frame folders restores each; progress lines
    in a log (not a terminal)."""
    from ypt.prompts.files import save_prompt
    from ypt.restore import main as restore_main

    monkeypatch.setenv("YPT_CACHE", str(tmp_path / "cache"))
    parts = tiny_wan_components()
    model = save_tiny_folder(parts, tmp_path / "wan")
    wan = WanBackbone(**parts, max_sequence_length=TEXT_LEN, dtype=torch.float32)
    prompt = save_prompt(_opened(make_prompt(wan)), tmp_path / "haze.safetensors",
                         {**wan.identity(), "variant": "residual"})
    (tmp_path / "in").mkdir()
    clip = _video(tmp_path / "in" / "walk.mp4", 12, fps=24)
    common = ["--backbone", "wan", "--prompts", str(prompt), "--model", str(model), "--dtype", "fp32", "--steps",
              "1", "--device", "cpu", "--video-size", "16", "16", "--frames", "11"]
    assert restore_main([*common, "--input", str(clip), "--out", str(tmp_path / "out")]) == 0
    written = sorted(p.name for p in (tmp_path / "out" / "walk").iterdir())
    assert written == [f"{i:05d}.png" for i in range(9)] + ["result.mp4"]  # 11 frames -> 9 (4k+1)
    frames, rate, _ = _decoded(tmp_path / "out" / "walk" / "result.mp4")
    assert len(frames) == 9 and rate == 24 and frames[0].shape == (16, 16, 3)
    png = np.asarray(Image.open(tmp_path / "out" / "walk" / "00004.png"), dtype=float)
    assert np.abs(frames[4].astype(float) - png).mean() < 12  # the same frame, through H.264
    err = capsys.readouterr().err
    assert "restoring sample 1/1" in err
    frames_dir = tmp_path / "in" / "steps"
    frames_dir.mkdir()
    for i in range(5):
        _image(frames_dir / f"f{i}.png", 20, 24, seed=i)
    assert restore_main([*common, "--input", str(tmp_path / "in"), "--out", str(tmp_path / "all")]) == 0
    assert sorted(p.name for p in (tmp_path / "all").iterdir()) == ["steps", "walk"]
    frames, rate, _ = _decoded(tmp_path / "all" / "steps" / "result.mp4")
    assert len(frames) == 5 and rate == 12  # a frame folder: the release's 12 fps


#: batched restoration against one sample at a time (fp32 on CPU): the only difference is float rounding in the
#: batched transformer matmuls; measured max |diff| 7e-7 on [0, 1] pixels with the tiny backbones (8 samples, batch
#: 4), which can move an 8-bit output value by one level where it sits on a rounding boundary
BATCH_TOLERANCE = 1e-5


def test_batch_of_four_restores_as_one_at_a_time(tmp_path):
    """``batch_size=4`` puts four samples (six: a batch of four, then two) through the sampler together; every
    sample keeps its own seeded noise and comes out as batch 1 gives it (images on FLUX, clips of equal length
    on WAN; a clip of another length goes through alone)."""
    flux = tiny_flux()
    prompt = _opened(make_prompt(flux))
    images = [torch.rand(3, 16, 16, generator=torch.Generator().manual_seed(i)) for i in range(6)]
    one = Restorer(flux, [prompt], image_size=(16, 16), num_inference_steps=3).restore_images(images)
    four = Restorer(flux, [prompt], image_size=(16, 16), num_inference_steps=3, batch_size=4).restore_images(images)
    assert len(four) == 6
    assert max(float((a - b).abs().max()) for a, b in zip(one, four)) <= BATCH_TOLERANCE
    assert float((one[0] - one[1]).abs().max()) > 0.01  # distinct inputs give distinct outputs

    wan = tiny_wan()
    prompt = _opened(make_prompt(wan))
    clips = [torch.rand(3, 9, 16, 16, generator=torch.Generator().manual_seed(i)) for i in range(4)]
    clips.insert(2, torch.rand(3, 5, 16, 16))  # another length: batched apart from the others
    geometry = dict(video_frames=9, video_size=(16, 16), num_inference_steps=2)
    single = Restorer(wan, [prompt], **geometry)  # each clip at its place in the run (the encode stream)
    one = [single.restore_clip(c, encoded_before=[x.shape[1] for x in clips[:k]]) for k, c in enumerate(clips)]
    four = Restorer(wan, [prompt], batch_size=4, **geometry).restore_clips(clips)
    assert [tuple(c.shape) for c in four] == [tuple(c.shape) for c in one]
    assert four[2].shape[1] == 5
    assert max(float((a - b).abs().max()) for a, b in zip(one, four)) <= BATCH_TOLERANCE


def test_batch_size_is_checked():
    with pytest.raises(ValueError, match="batch_size must be at least 1"):
        Restorer(tiny_flux(), [make_prompt(tiny_flux())], batch_size=0)
