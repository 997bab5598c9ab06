"""``viwsnet``: ViWS-Net (Yang et al., ICCV 2023), video adverse-weather removal, run through upstream
``eval_derain.py`` (its REVIDE test loader); frame folders in and out.

Upstream quirks the wrapper follows: it ignores ``--output`` and writes ``Results/VIWSNET_REVIDE/<NN>/recover<k>.png``
relative to its working directory (``NN`` = 1-based position of the video folder in sorted order, ``k`` = 1-based
centre frame); it reads ``<folder>/<00001>.jpg`` frames and GT from ``Dataset/REVIDE/Test_GT/<folder>`` relative to
the working directory, and the backbone weights from ``./models/``. So each run gets its own working directory
(with ``models`` linked to the repository's) and stages ``Dataset/REVIDE/Test/<video>/<00001>.jpg`` (JPEG
quality 100, as upstream only reads ``.jpg``; GT = the input). Upstream restores only the centre frames of each
``nFrames`` window: the staged clips repeat the first and last frame ``nFrames // 2`` times so every frame gets an
output.

The paper retrained ViWS-Net on its own training data: point ``checkpoint`` at those weights and say so with
``weights = "..."`` (recorded in every restore report).

Config section ``[viwsnet]``: ``repo``, ``python``/``conda_env``, ``checkpoint`` (required), ``nframes`` (5),
``weights``.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

from baselines.base import Checkpoint, MethodSpec, Problem, RestoreConfig, RestoreReport, Sample, progress
from baselines.external import ExternalMethod, UpstreamError, staged_names

SPEC = MethodSpec(
    key="viwsnet",
    display_name="ViWS-Net",
    citation="Yang et al. Video Adverse-Weather-Component Suppression Network via Weather Messenger and "
             "Adversarial Backpropagation. ICCV 2023",
    upstream_repo="scott-yjyang/ViWS-Net",
    upstream_commit="ac715ea5b4fd4b2c115ae2c027c0b2c695f589f1",
    checkpoints=(Checkpoint("ViWS-Net checkpoint (.pth)",
                            "https://drive.google.com/file/d/1Jfui4eaDY24CPRsQQqBjlA9bUhE6G76b"),),
    modalities=("video",),
    degradations=("haze", "rain", "snow"),
    invocation="python <repo>/eval_derain.py --data_dir Dataset/REVIDE/Test --model CKPT --nFrames 5 "
               "--output Results (cwd = a private run folder; one call for all videos)",
    resolution="native; upstream crop-forward (512 tiles, overlap 16)",
    weights_note="the paper retrained ViWS-Net on its training data; set checkpoint (and weights = '...') to "
                 "those weights",
    external=True,
    entry_files=("eval_derain.py", "models"),
)

DATA_DIR = "Dataset/REVIDE/Test"
GT_DIR = "Dataset/REVIDE/Test_GT"
RESULTS_DIR = "Results/VIWSNET_REVIDE"


class ViWSNet(ExternalMethod):
    def checkpoint_problems(self, settings: dict[str, Any]) -> list[Problem]:
        ckpt = settings.get("checkpoint")
        if ckpt and Path(ckpt).expanduser().is_file():
            return []
        return [Problem(f"ViWS-Net checkpoint {'not set' if not ckpt else f'{ckpt} not found'}",
                        f"download it from {self.spec.checkpoints[0].url} (or use the paper's retrained weights) "
                        f"and set checkpoint = \"/path/to.pth\" in [{self.key}]")]

    def run(self, samples: Sequence[Sample], out_dir: Path, config: RestoreConfig, report: RestoreReport) -> None:
        from baselines.images import save_as_output, stage_image
        from benchmarks.outputs import video_frame_path

        settings = config.settings
        repo, work = self.repo(settings), self.work_dir(out_dir, report)
        ckpt = Path(settings["checkpoint"]).expanduser().resolve()
        self.record_weights(settings, report, weights=settings.get("weights", "as configured"))
        nframes = int(settings.get("nframes", 5))
        pad = nframes // 2
        (work / "models").symlink_to(repo / "models", target_is_directory=True)
        names = staged_names(samples)  # s00000 < s00001 < ...: sorted order = sample order
        for s in progress(samples, len(samples), "viwsnet: staging", config.progress):
            frames = [s.input[0]] * pad + list(s.input) + [s.input[-1]] * pad
            for j, frame in enumerate(frames, start=1):
                staged = stage_image(frame, work / DATA_DIR / names[s.id] / f"{j:05d}.jpg")
                (work / GT_DIR / names[s.id]).mkdir(parents=True, exist_ok=True)
                (work / GT_DIR / names[s.id] / staged.name).symlink_to(staged.resolve())
        self.call([repo / "eval_derain.py", "--data_dir", DATA_DIR, "--model", ckpt, "--nFrames", nframes,
                   "--output", "Results"], cwd=work, settings=settings, report=report, out_dir=out_dir,
                  progress=config.progress)
        for position, s in enumerate(samples, start=1):
            folder = work / RESULTS_DIR / str(position).zfill(2)
            for i in range(len(s.input)):
                found = folder / f"recover{i + 1 + pad}.png"
                if not found.is_file():
                    raise UpstreamError(f"viwsnet wrote no {found} for {s.id} frame {i}; see {report.log}")
                save_as_output(found, video_frame_path(out_dir, s.id, i))
        self.finish(work, config)


METHOD = ViWSNet(SPEC)
