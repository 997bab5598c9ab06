"""The restore app headless: its restore function through gradio_client on a tiny WAN (a clip in, result.mp4 out,
a prompt mix, the backbone loaded once, errors as the page shows them), and the page opened in headless Chromium
(Debian's package) with the controls checked in the rendered DOM and a screenshot that is not blank. Skipped with
the reason where gradio (the [app] extra) or chromium is not installed."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess

import numpy as np
import pytest
import torch
from test_backbones import TEXT_LEN, single_thread, tiny_wan  # noqa: F401  (autouse)
from test_restore import _decoded, _opened, _video
from test_train import make_prompt

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # before gradio is imported: no telemetry calls
pytest.importorskip("gradio", reason="the app needs gradio: pip install -e '.[app]'")
gradio_client = pytest.importorskip("gradio_client", reason="the app's test needs gradio_client ([app] extra)")

from ypt.app import ELEMENT_IDS, AppModel, build  # noqa: E402
from ypt.restore import Restorer  # noqa: E402


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """The app on a tiny WAN with two prompts, served on a free local port for the module's tests."""
    tmp = tmp_path_factory.mktemp("app")
    os.environ["GRADIO_TEMP_DIR"] = str(tmp / "gradio")

    def load():
        wan = tiny_wan()
        torch.manual_seed(1)
        return Restorer(wan, [_opened(make_prompt(wan)), _opened(make_prompt(wan))])

    model = AppModel("wan", ["haze", "rain"], load, video_size=(16, 16), out_dir=tmp / "out")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    page = build(model).queue()
    page.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
    try:
        yield model, f"http://127.0.0.1:{port}/", tmp
    finally:
        page.close()


def test_the_app_restores_a_clip_through_its_api(served):
    model, url, tmp = served
    clip = _video(tmp / "rainy.webm", 12, size=(20, 24), fps=15)
    client = gradio_client.Client(url, verbose=False)
    assert "/restore" in str(client.view_api(print_info=False, return_format="dict"))
    video, download, status = client.predict(gradio_client.handle_file(str(clip)), ["haze", "rain"], 0.4, 2, 11,
                                             api_name="/restore")
    frames, rate, pix_fmt = _decoded(video["video"] if isinstance(video, dict) else video)
    assert len(frames) == 9 and rate == 15 and frames[0].shape == (16, 16, 3) and pix_fmt == "yuv420p"
    assert os.path.basename(download) == "result.mp4"
    assert status.startswith("restored with haze + rain (T0 0.4, 2 steps): 9 frames at 15 fps")
    single = client.predict(gradio_client.handle_file(str(clip)), ["rain"], 0.3, 1, 5, api_name="/restore")
    assert "restored with rain (T0 0.3, 1 steps): 5 frames" in single[2] and model.loads == 1  # loaded once
    with pytest.raises(Exception, match="choose at least one prompt"):
        client.predict(gradio_client.handle_file(str(clip)), [], 0.4, 2, 9, api_name="/restore")


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None, reason="headless check needs Debian's chromium (apt-get install chromium; "
                                             ".ci/run installs it)")
def test_the_page_shows_its_controls_in_headless_chromium(served, tmp_path):
    _, url, _ = served
    flags = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}",
             "--window-size=1280,900", "--virtual-time-budget=8000"]  # Gradio renders client-side: let it run
    dom = subprocess.run([*flags, "--dump-dom", url], capture_output=True, text=True, timeout=120).stdout
    missing = [i for i in ELEMENT_IDS if f'id="{i}"' not in dom]
    assert not missing, f"controls missing from the rendered page: {missing}"
    shot = tmp_path / "app.png"
    subprocess.run([*flags, f"--screenshot={shot}", url], capture_output=True, timeout=120, check=True)
    from PIL import Image

    pixels = np.asarray(Image.open(shot).convert("RGB")).astype(float)
    assert pixels.shape == (900, 1280, 3) and pixels.std() > 10  # a rendered page, not a blank one
    keep = os.environ.get("YPT_APP_SCREENSHOT")
    if keep:
        shutil.copy(shot, keep)


def test_the_command_loads_the_trained_prompts_once_and_serves_locally(tmp_path, monkeypatch, capsys):
    """python -m ypt.app --backbone wan: the trained prompts where ypt.train writes them, the backbone from a local
    folder loaded before serving, on 127.0.0.1 (launch itself stubbed: it would block)."""
    import gradio

    from test_backbones import save_tiny_folder, tiny_wan_components

    from ypt.app import main, prompt_files
    from ypt.backbones.wan import WanBackbone
    from ypt.prompts.files import save_prompt
    from ypt.prompts.paths import default_prompt_path

    monkeypatch.setenv("YPT_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("YPT_PROMPTS", str(tmp_path / "prompts"))
    with pytest.raises(FileNotFoundError, match="no trained wan prompt under .*prompts/wan/residual-ebr-t00.4"):
        prompt_files("wan")
    parts = tiny_wan_components()
    model = save_tiny_folder(parts, tmp_path / "wan")
    wan = WanBackbone(**parts, max_sequence_length=TEXT_LEN, dtype=torch.float32)
    for degradation in ("snow", "haze"):
        save_prompt(make_prompt(wan), default_prompt_path("wan", degradation), {**wan.identity(),
                                                                                 "variant": "residual"})
    assert list(prompt_files("wan")) == ["haze", "snow"]  # the degradations' order
    launched = {}
    monkeypatch.setattr(gradio.Blocks, "launch", lambda self, **kw: launched.update(kw))
    assert main(["--backbone", "wan", "--model", str(model), "--device", "cpu", "--dtype", "fp32",
                 "--video-size", "16", "16", "--port", "7999"]) == 0
    assert launched == {"server_name": "127.0.0.1", "server_port": 7999}
    assert "wan with prompts haze, snow: http://127.0.0.1:7999/" in capsys.readouterr().out
