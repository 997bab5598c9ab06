"""The restore app (Gradio, the ``[app]`` extra): upload an image (FLUX) or a clip (WAN), choose one prompt or
several (a mix: their velocities are averaged), T0, the steps and, for clips, how many frames; restore; download.
The backbone and the prompts are loaded once, when the app starts, and kept.

    python -m ypt.app --backbone wan                       # the five trained prompts where ypt.train writes them
    python -m ypt.app --backbone flux --prompts haze.safetensors,rain.safetensors --port 7860

Outputs as the release's ``app.py`` gives them: an image as ``result.png``; a clip as ``result.mp4`` (H.264 at the
input's frame rate), its first N frames (1 to 120, default 33) cut to the largest 4k+1 the WAN VAE takes.
The server listens on 127.0.0.1 unless ``--host`` says otherwise. ``gradio`` is imported only when the app starts,
so ``--help`` answers without it.
"""
from __future__ import annotations

import argparse
import os
import tempfile
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ypt.cli import add_debug_argument, entry_point
from ypt.defaults import DEGRADATIONS, FLUX_SIZE, NUM_INFERENCE_STEPS, T0, VIDEO_FRAMES, VIDEO_HEIGHT, VIDEO_WIDTH
from ypt.errors import MissingPrompt, MissingResource, UsageError

if TYPE_CHECKING:
    from ypt.restore import Restorer

#: the release app's frame slider: 1 to 120 frames of an uploaded clip
MAX_FRAMES = 120
#: the ids of the page's controls (tests and scripts find them by these)
ELEMENT_IDS = ("input", "prompts", "t0", "steps", "frames", "restore", "output", "download", "status")
INSTALL = "pip install -e '.[app]' (gradio; it pins pillow<13, which is why it is an extra)"


class AppModel:
    """What the app restores with: ``load()`` returns a :class:`~ypt.restore.Restorer` holding the backbone and
    every prompt (in ``names`` order), called once, at the first restore; each request then restores with the
    prompts it chose and its T0 / steps / frames on that same backbone."""

    def __init__(self, backbone: str, names: Sequence[str], load: Callable[[], Restorer], *,
                 image_size: tuple[int, int] = (FLUX_SIZE, FLUX_SIZE),
                 video_size: tuple[int, int] = (VIDEO_HEIGHT, VIDEO_WIDTH), out_dir: str | os.PathLike | None = None):
        if not names:
            raise MissingPrompt("the app needs at least one prompt")
        self.backbone, self.names, self._load = backbone, list(names), load
        self.image_size, self.video_size = tuple(image_size), tuple(video_size)
        self.out_dir = Path(out_dir) if out_dir else Path(tempfile.mkdtemp(prefix="ypt-app-"))
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.loads = 0
        self._loaded: Restorer | None = None
        self._lock = threading.Lock()

    @property
    def video(self) -> bool:
        return self.backbone == "wan"

    def loaded(self) -> Restorer:
        with self._lock:
            if self._loaded is None:
                self._loaded = self._load()
                self.loads += 1
            return self._loaded

    def restore(self, source: str | os.PathLike, chosen: Sequence[str], t0: float = T0,
                steps: int = NUM_INFERENCE_STEPS, frames: int = VIDEO_FRAMES) -> tuple[Path, str]:
        """Restore the uploaded file with the ``chosen`` prompts; returns the result file and a status line."""
        from ypt import media
        from ypt.restore import Restorer

        if not source:
            raise UsageError("upload an image or a clip first")
        chosen = [n for n in self.names if n in set(chosen or ())]
        if not chosen:
            raise UsageError("choose at least one prompt")
        if not 0 < float(t0) <= 1 or int(steps) < 1 or not 1 <= int(frames) <= MAX_FRAMES:
            raise UsageError(f"T0 in (0, 1], at least 1 step, 1 to {MAX_FRAMES} frames")
        base = self.loaded()
        prompts = [base.prompts[self.names.index(n)] for n in chosen]
        restorer = Restorer(base.backbone, prompts, t0=float(t0), num_inference_steps=int(steps),
                            image_size=self.image_size, video_size=self.video_size, video_frames=int(frames))
        folder = Path(tempfile.mkdtemp(prefix="restore-", dir=self.out_dir))
        if self.video:
            if not media.is_video_file(source):
                raise UsageError(f"the WAN app restores clips ({', '.join(media.VIDEO_EXTENSIONS)}); got {source}")
            clip = restorer.restore_clip(source)
            fps = media.clip_fps(source)
            result = media.write_video(clip, folder / media.RESULT_VIDEO, fps)
            detail = f"{clip.shape[1]} frames at {fps:g} fps"
        else:
            result = restorer.write_image(restorer.restore_images([source])[0], folder / "result.png")
            detail = "{}x{}".format(*self.image_size)
        return result, (f"restored with {' + '.join(chosen)} (T0 {float(t0):g}, {int(steps)} steps): {detail}; "
                        f"backbone loaded {self.loads} time(s)")


def build(model: AppModel):
    """The Gradio page for ``model``; its button's API is ``/restore``."""
    import gradio as gr

    def restore(source, chosen, t0, steps, frames):
        try:
            result, status = model.restore(source, chosen, t0, steps, frames)
        except UsageError as error:
            raise gr.Error(str(error)) from None
        return str(result), str(result), status

    kind = "clip" if model.video else "image"
    with gr.Blocks(title="YPT restore") as page:
        gr.Markdown(f"# Restore with YPT ({model.backbone.upper()})\nUpload a degraded {kind}, choose the prompts "
                    "(several mix their degradations), restore, download.")
        with gr.Row():
            with gr.Column():
                if model.video:
                    source = gr.Video(label="Degraded clip", sources=["upload"], format=None, elem_id="input")
                else:
                    source = gr.Image(label="Degraded image", type="filepath", sources=["upload"], elem_id="input")
                chosen = gr.CheckboxGroup(model.names, value=model.names[:1], label="Prompts (several = a mix)",
                                          elem_id="prompts")
                t0 = gr.Slider(0.05, 1.0, value=T0, step=0.05, label="T0", elem_id="t0")
                steps = gr.Slider(1, 100, value=NUM_INFERENCE_STEPS, step=1, label="Steps", elem_id="steps")
                frames = gr.Slider(1, MAX_FRAMES, value=VIDEO_FRAMES, step=1, label="Frames (clips: the first N)",
                                   visible=model.video, elem_id="frames")
                button = gr.Button("Restore", variant="primary", elem_id="restore")
            with gr.Column():
                if model.video:
                    output = gr.Video(label="Restored", format=None, elem_id="output")
                else:
                    output = gr.Image(label="Restored", type="filepath", format="png", elem_id="output")
                download = gr.File(label="Download", elem_id="download")
                status = gr.Textbox(label="Status", interactive=False, elem_id="status")
        button.click(restore, [source, chosen, t0, steps, frames], [output, download, status], api_name="restore")
    return page


def prompt_files(backbone: str, listed: str = "", root: str | None = None) -> dict[str, Path]:
    """``{name: file}``: the comma list ``listed`` (names are the file stems), else every degradation's prompt
    trained where :func:`ypt.prompts.default_prompt_path` puts it (under ``root``)."""
    from ypt.prompts.paths import default_prompt_path

    if listed:
        files = [Path(p.strip()) for p in listed.split(",") if p.strip()]
        missing = [str(p) for p in files if not p.is_file()]
        if missing:
            raise MissingPrompt(f"prompt file(s) not found: {', '.join(missing)}")
        return {p.stem: p for p in files}
    found = {d: default_prompt_path(backbone, d, root=root) for d in DEGRADATIONS}
    found = {d: p for d, p in found.items() if p.is_file()}
    if not found:
        folder = default_prompt_path(backbone, "haze", root=root).parent
        raise MissingPrompt(f"no trained {backbone} prompt under {folder}: train them (python -m ypt.train) or "
                            "name files with --prompts a,b")
    return found


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m ypt.app", description=__doc__.split("\n\n")[0],
                                epilog="Needs the [app] extra: " + INSTALL)
    p.add_argument("--backbone", choices=["flux", "wan"], required=True, help="flux restores images, wan clips")
    p.add_argument("--prompts", default="", help="comma list of prompt files (default: the trained prompts of "
                                                 "every degradation, where ypt.train writes them)")
    p.add_argument("--prompt-root", help="prompt root of the default prompts (default $YPT_PROMPTS)")
    p.add_argument("--model", help="local diffusers folder or hub id (default: the paper's model, from HF cache)")
    p.add_argument("--revision")
    p.add_argument("--device", help="cuda, cuda:N or cpu (default: cuda if available)")
    p.add_argument("--dtype", choices=("fp16", "bf16", "fp32"), default="fp16")
    p.add_argument("--image-size", type=int, nargs=2, metavar=("H", "W"), default=[FLUX_SIZE, FLUX_SIZE])
    p.add_argument("--video-size", type=int, nargs=2, metavar=("H", "W"), default=[VIDEO_HEIGHT, VIDEO_WIDTH])
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine)")
    p.add_argument("--port", type=int, default=7860)
    p.add_argument("--out", help="folder the results are written to (default: a temporary folder)")
    add_debug_argument(p)
    return p


@entry_point
def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    files = prompt_files(args.backbone, args.prompts, args.prompt_root)
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # compute nodes are offline: no telemetry calls
    try:
        import gradio  # noqa: F401
    except ImportError:
        raise MissingResource(f"the app needs gradio: {INSTALL}") from None
    from ypt.device import resolve_device
    from ypt.restore import Restorer

    device = resolve_device(args.device)

    def load() -> Restorer:
        return Restorer.from_pretrained(args.backbone, list(files.values()), model=args.model,
                                        revision=args.revision, device=device, dtype=args.dtype)

    model = AppModel(args.backbone, list(files), load, image_size=tuple(args.image_size),
                     video_size=tuple(args.video_size), out_dir=args.out)
    model.loaded()  # before the first visitor: a missing model is an error now, not in the page
    print(f"{args.backbone} with prompts {', '.join(files)}: http://{args.host}:{args.port}/")
    build(model).queue().launch(server_name=args.host, server_port=args.port)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
