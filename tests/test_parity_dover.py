"""Item 5 of the release parity: DOVER's input clip. The release saves each WAN frame truncated to 8 bits as a PIL
JPEG (``utils.save_video_frames``) and makes the clip DOVER scores with ``frames_to_vid.py --fps 15 --size 512
--lossless --min_frames 1``; here its own ``ffmpeg_make_mp4`` (the ffmpeg command line) is run on the frames our
restorer writes, beside :func:`benchmarks.metrics.dover.write_lossless_video` on the same files.

Tolerance: the planes may differ by one level (libswscale's lanczos rounding differs between the system ffmpeg and
PyAV's bundled FFmpeg); the old writer (PIL-decoded RGB scaled in RGB) is 22 levels off on the same frames."""
from __future__ import annotations

import shutil

import numpy as np
import pytest
import torch
from release_oracle import RELEASE, SKIP_REASON, load_release, quiet

from benchmarks.metrics.dover import write_lossless_video

pytestmark = [pytest.mark.skipif(not RELEASE.is_dir(), reason=SKIP_REASON),
              pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="no ffmpeg binary for the release's script")]


def _decoded(frames: torch.Tensor):
    """A decode-like clip (3, T, H, W) in [0, 1], smooth with texture and moving edges."""
    t, h, w = frames
    yy, xx = torch.meshgrid(torch.arange(h, dtype=torch.float32), torch.arange(w, dtype=torch.float32), indexing="ij")
    noise = torch.rand(3, t, h // 4 + 1, w // 4 + 1, generator=torch.Generator().manual_seed(3))
    noise = noise.repeat_interleave(4, 2).repeat_interleave(4, 3)[:, :, :h, :w]
    clip = [torch.stack([torch.sin(xx / 9 + k / 3), torch.cos(yy / 7 - k / 5), torch.sin((xx + yy) / 13)]) for k in
            range(t)]
    return ((torch.stack(clip, 1) * 0.35 + 0.5) + 0.2 * (noise - 0.5)).clamp(0, 1)


def _planes(path):
    import av

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        info = (stream.frames or None, float(stream.average_rate), stream.codec_context.pix_fmt,
                (stream.codec_context.width, stream.codec_context.height))
        return np.stack([f.to_ndarray() for f in container.decode(video=0)]).astype(int), info


@pytest.mark.parametrize("release_jpeg", [True, False], ids=["release-jpeg-frames", "png-frames"])
def test_dover_clip_is_the_one_frames_to_vid_makes(tmp_path, release_jpeg):
    from ypt.media import save_png, save_release_jpeg

    release = load_release("frames_to_vid")
    clip = _decoded((7, 48, 80))  # 7 frames: a short clip, as 7 of 4KRD's 9 are (kept: --min_frames 1)
    save = save_release_jpeg if release_jpeg else save_png
    frames = [save(clip[:, i], tmp_path / "pred" / f"{i:05d}{'.jpg' if release_jpeg else '.png'}")
              for i in range(clip.shape[1])]
    with quiet():
        release.frames_to_vid.ffmpeg_make_mp4(frames, tmp_path / "release.mp4", fps=15, lossless=True, size=512)
    ours = write_lossless_video(frames, tmp_path / "ours.mp4")
    (want, want_info), (got, got_info) = _planes(tmp_path / "release.mp4"), _planes(ours)
    assert got_info == want_info and got_info[1:] == (15.0, "yuv444p", (512, 512)) and len(got) == 7
    assert np.abs(got - want).max() <= 1
    assert (got != want).mean() < 0.5


def test_wan_frames_are_saved_as_the_release_saves_them(tmp_path):
    """``ypt.media.save_release_jpeg`` on the decode in [0, 1] writes the very bytes the release's
    ``utils.save_video_frames`` writes from the same decode in [-1, 1] (truncation to 8 bits, PIL's default JPEG)."""
    from ypt.media import save_release_jpeg

    release = load_release("utils")
    decode = (torch.rand(3, 4, 24, 40, generator=torch.Generator().manual_seed(5)) * 2.1 - 1.05)[None]  # B,C,T,H,W
    names = [f"{i:05d}.jpg" for i in range(4)]
    release.utils.save_video_frames(decode.clamp(-1, 1), folder=str(tmp_path / "release"), names=names)
    ours = ((decode[0] + 1) / 2).clamp(0, 1)  # what the backbone's decode returns
    for i, name in enumerate(names):
        written = save_release_jpeg(ours[:, i], tmp_path / "ours" / name)
        assert written.read_bytes() == (tmp_path / "release" / name).read_bytes()
