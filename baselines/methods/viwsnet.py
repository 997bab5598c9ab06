"""``viwsnet``: ViWS-Net (Yang et al., ICCV 2023), video adverse-weather removal, run through upstream
``eval_derain.py`` (its REVIDE test loader); frame folders in and out. Retrained by ``python -m slurm.train --methods
viwsnet`` through upstream's ``main_multi.py``.

Upstream facts the wrapper follows (file:line at the pinned commit):

- Output: ``--output`` is ignored; ``Results/VIWSNET_REVIDE/<NN>/recover<k>.png`` relative to the working directory
  (``NN`` = 1-based position of the video folder in sorted order, ``k`` = 1-based centre frame; ``eval_derain.py:163-180``,
  ``dataset.py:715-716``). Input: ``<data_dir>/<video>/<00001>.jpg`` with ``data_dir`` of exactly three components
  (``dataset.py:237``) and GT read from ``Dataset/REVIDE/Test_GT/<video>`` (``:241,251``). So each run gets its own
  working directory and stages ``Dataset/REVIDE/Test/<video>/<00001>.jpg`` (JPEG quality 100; GT = the input).
- Windows: upstream restores the centre frame of each ``nFrames`` window and reads ``2 * (nFrames // 2) + 1`` frames
  per window (``dataset.py:247``): an even ``nframes`` reads past the last frame, so it is refused. The staged clips
  repeat the first and last frame ``nframes // 2`` times so every frame gets an output.
- Size: ``forward_crop(lq_size=512, overlap=16)`` (``eval_derain.py:133``, ``crop_validation.py:57-125``) fails with
  a shape error for a side of 257-510 px, writes a wrong frame at 511 and feeds smaller sides whole: every side
  under 512 is reflect-padded to 512 (bottom/right) and the outputs are cropped back.
- Devices: ``eval_derain.py:4`` sets ``CUDA_VISIBLE_DEVICES="0"`` before importing torch, overriding the scheduler's
  GPU. The wrapper runs it through a launcher that initialises CUDA first (:data:`baselines.external.CUDA_LAUNCHER`).
- Backbones: the model loads ``./models/ckpt_S.pth`` (``eval_derain.py:67``) and ``./models/ckpt_T.pth``
  (``modeling/model.py:39``) relative to the working directory; the repository has no ``models/`` (its README's
  Pretrained-weights folder has them). They are linked into the run folder from ``backbones``.
- Checkpoint: loaded strictly into ``DataParallel(model)`` (``eval_derain.py:88-92``): every key carries ``module.``.
  The keys are checked against the model upstream builds before the run.

Weights: ``checkpoint`` if set; else the weights ``slurm.train`` retrained (:mod:`baselines.retrained`); the published
checkpoint (trained on RainMotion, REVIDE and KITTI-snow: rain, haze, snow) is not in the repository, so without
either the wrapper asks for one. Weights are refused for degradations they were not trained for unless
``allow_uncovered = true``.

Config section ``[viwsnet]``: ``repo``, ``python``/``conda_env``, ``checkpoint``, ``backbones`` (folder with
``ckpt_S.pth`` and ``ckpt_T.pth``; default ``<repo>/models``), ``nframes`` (5, odd), ``weights``, ``allow_uncovered``.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Sequence

from baselines.base import Checkpoint, MethodSpec, Problem, RestoreConfig, RestoreReport, Sample, progress
from baselines.config import config_path
from baselines.downloads import RuntimeDownload
from baselines.external import staged_names, write_cuda_launcher
from baselines.upstream_training import Retrainable, StagedClip, TrainingCommand, frame_size, link_or_write

BACKBONES_URL = "https://drive.google.com/drive/folders/15iZKXFT7apjUSoN2WUMAbb0tvJgyh3YP"
BACKBONE_FILES = ("ckpt_S.pth", "ckpt_T.pth")

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
    invocation="python ypt_cuda_launch.py <repo>/eval_derain.py --data_dir Dataset/REVIDE/Test --model CKPT "
               "--nFrames 5 --output Results (cwd = a private run folder; one call for all videos)",
    resolution="native; upstream crop-forward (512 tiles, overlap 16); sides under 512 reflect-padded to 512 and "
               "cropped back",
    weights_note="the paper retrained ViWS-Net on its training data: python -m slurm.train --methods viwsnet, or "
                 "set checkpoint (and weights = '...')",
    external=True,
    entry_files=("eval_derain.py", "crop_validation.py", "dataset.py", "modeling/model.py"),
    downloads=(RuntimeDownload("torchvision VGG16 (perceptual loss)", "url",
                               "https://download.pytorch.org/models/vgg16-397923af.pth",
                               "main_multi.py:264 vgg16(pretrained=True)", cache="torch_hub", when="train"),),
)

DATA_DIR = "Dataset/REVIDE/Test"
GT_DIR = "Dataset/REVIDE/Test_GT"
RESULTS_DIR = "Results/VIWSNET_REVIDE"
#: ``forward_crop``'s tile (``eval_derain.py:133``): sides below it are padded to it
LQ_SIZE = 512
DEFAULT_NFRAMES = 5

#: builds upstream's model as ``eval_derain.py:64-92`` does (cwd holds ``models/ckpt_{S,T}.pth``) and prints its
#: DataParallel keys; ``torch.load`` is pointed at the CPU so that the check runs on a machine without a GPU
KEY_CHECK = r'''
import json, sys
sys.path.insert(0, sys.argv[1])
try:
    import torch
    _load = torch.load
    torch.load = lambda f, *a, **k: _load(f, *a, **{**k, "map_location": "cpu"})
    from modeling.model import ViWSNet
    params = dict(finetune="./models/ckpt_S.pth", hidden_dim=512, dropout=0.1, nheads=8, dim_feedforward=2048,
                  dec_layers=6, num_queries=48 * int(sys.argv[2]), num_types=3)
    model = ViWSNet(params)
    print(json.dumps({"keys": {"module." + k: list(v.shape) for k, v in model.state_dict().items()}}))
except Exception as exc:
    print(json.dumps({"error": f"{type(exc).__name__}: {exc}"}))
    sys.exit(1)
'''

# -- training (main_multi.py) -------------------------------------------------------------------------------------
#: degradation -> (data dir, GT dir, GT extension) of ``main_multi.py:42``'s default ``--data_dir`` list, whose order
#: is the weather class (``dataset.py:476-487``: 0 rain ``:153-189``, 1 haze ``:231-267``, 2 snow ``:270-306``)
TRAIN_LAYOUT = {
    "rain": ("Dataset/RainMotion/Train", "Dataset/RainMotion/Train_GT", "jpg"),
    "haze": ("Dataset/REVIDE/Train", "Dataset/REVIDE/Train_GT", "jpg"),
    "snow": ("Dataset/KITTI_snow/Train", "Dataset/KITTI_snow/Train_GT", "png"),
}
#: ``main_multi.py:46`` (``--patch_size``): random crops of this size (``dataset.py:320-343``)
TRAIN_PATCH = 224
#: ``main_multi.py:35,36``: ``--nEpochs`` 500, ``--snapshots`` 10
TRAIN_EPOCHS, SNAPSHOTS = 500, 10
TRAIN_LR, LR_DECAY, DECAY_EVERY = 2e-4, 0.5, 100
_EPOCH_FILE = re.compile(r"^ViWSNet_epoch_(\d+)\.pth$")


def pad_size(height: int, width: int, tile: int | None = None) -> tuple[int, int]:
    """Each side under ``tile`` (default :data:`LQ_SIZE`) padded to it: upstream's tiling is exact from there on."""
    tile = LQ_SIZE if tile is None else tile
    return max(height, tile), max(width, tile)


class ViWSNet(Retrainable):
    KEY_CHECK = KEY_CHECK
    TRAINABLE = ("rain", "haze", "snow")
    PUBLISHED_COVERS = ("haze", "rain", "snow")
    #: ``main_multi.py:62`` ``gpus_list = [0,1]`` and ``:258-259`` DataParallel over both
    TRAIN_GPUS = 2

    # -- settings -------------------------------------------------------------------------------------------------
    def nframes(self, settings: dict[str, Any]) -> int:
        return int(settings.get("nframes", DEFAULT_NFRAMES))

    def backbones(self, settings: dict[str, Any]) -> Path:
        if settings.get("backbones"):
            return Path(settings["backbones"]).expanduser().resolve()
        return self.repo(settings) / "models"

    def published_checkpoint(self, settings: dict[str, Any]) -> Path | None:
        return None  # not in the repository: a Google Drive download

    def problems(self, settings: dict[str, Any]) -> list[Problem]:
        found = super().problems(settings)
        found += self.backbone_problems(settings)
        n = self.nframes(settings)
        if n < 1 or n % 2 == 0:
            found.append(Problem(f"nframes = {n}: upstream reads 2 * (nFrames // 2) + 1 frames per window "
                                 "(dataset.py:247), so an even value reads past the last frame of every clip",
                                 f"set an odd nframes (default {DEFAULT_NFRAMES}) in [{self.key}] of {config_path()}"))
        return found

    def backbone_problems(self, settings: dict[str, Any]) -> list[Problem]:
        if not settings.get("repo") and not settings.get("backbones"):
            return []
        folder = self.backbones(settings)
        absent = [f for f in BACKBONE_FILES if not (folder / f).is_file()]
        if not absent:
            return []
        return [Problem(f"{' and '.join(absent)} not in {folder}: upstream builds its Shunted backbones from "
                        "./models/ckpt_S.pth (eval_derain.py:67) and ./models/ckpt_T.pth (modeling/model.py:39)",
                        f"download {' and '.join(absent)} from the README's Pretrained-weights folder {BACKBONES_URL} "
                        f"into {folder} (or set backbones = \"/folder/with/them\" in [{self.key}] of {config_path()})")]

    # -- key check ------------------------------------------------------------------------------------------------
    def key_check_cwd(self, settings: dict[str, Any], folder: Path) -> Path:
        self.link_backbones(settings, folder)
        return folder

    def key_check_args(self, settings: dict[str, Any]) -> list[str]:
        return [str(self.repo(settings)), str(self.nframes(settings))]

    def link_backbones(self, settings: dict[str, Any], folder: Path) -> None:
        (folder / "models").mkdir(parents=True, exist_ok=True)
        for name in BACKBONE_FILES:
            link = folder / "models" / name
            if not link.exists():
                link.symlink_to(self.backbones(settings) / name)

    # -- restoring ------------------------------------------------------------------------------------------------
    def run(self, samples: Sequence[Sample], out_dir: Path, config: RestoreConfig, report: RestoreReport) -> None:
        from baselines.images import save_cropped, stage_padded
        from benchmarks.outputs import video_frame_path

        settings = config.settings
        repo, work = self.repo(settings), self.work_dir(out_dir, report)
        ckpt = self.checkpoint_path(settings)
        self.record_weights(settings, report, weights=settings.get("weights", "as configured"))
        nframes = self.nframes(settings)
        pad = nframes // 2
        self.link_backbones(settings, work)
        launcher = write_cuda_launcher(work)
        names = staged_names(samples)  # s00000 < s00001 < ...: sorted order = sample order
        sizes = {}
        for s in progress(samples, len(samples), "viwsnet: staging", config.progress):
            first = work / DATA_DIR / names[s.id] / f"{1:05d}.jpg"
            for i, frame in enumerate(s.input):
                staged = work / DATA_DIR / names[s.id] / f"{i + 1 + pad:05d}.jpg"
                sizes[s.id] = stage_padded(frame, staged, size=pad_size)
                if i == 0:
                    first = staged
            last = staged
            for j in [*range(1, pad + 1), *range(len(s.input) + pad + 1, len(s.input) + 2 * pad + 1)]:
                source = first if j <= pad else last
                (work / DATA_DIR / names[s.id] / f"{j:05d}.jpg").symlink_to(source.name)
            gt = work / GT_DIR / names[s.id]
            gt.mkdir(parents=True, exist_ok=True)
            for f in sorted((work / DATA_DIR / names[s.id]).iterdir()):
                (gt / f.name).symlink_to(f.resolve())
        self.call([launcher, repo / "eval_derain.py", "--data_dir", DATA_DIR, "--model", ckpt, "--nFrames", nframes,
                   "--output", "Results"], cwd=work, settings=settings, report=report, out_dir=out_dir,
                  progress=config.progress)
        for position, s in enumerate(samples, start=1):
            folder = work / RESULTS_DIR / str(position).zfill(2)
            for i in range(len(s.input)):
                found = folder / f"recover{i + 1 + pad}.png"
                if not found.is_file():
                    report.fail(s, "restore", f"viwsnet wrote no {found} (frame {i}); see {report.log}")
                    break
                save_cropped(found, video_frame_path(out_dir, s.id, i), sizes[s.id])
        self.finish(work, config)

    # -- training -------------------------------------------------------------------------------------------------
    def training_files(self) -> tuple[str, ...]:
        return ("main_multi.py", "dataset.py", "modeling/model.py")

    def training_problems(self, settings: dict[str, Any]) -> list[Problem]:
        return super().training_problems(settings) + self.backbone_problems(settings)

    def default_iterations(self) -> int:
        return TRAIN_EPOCHS

    def untrainable_reason(self) -> str:
        return ("its training loader dispatches three weather sets (dataset.py:476-487) and its classifier has "
                "num_types = 3 (main_multi.py:252, eval_derain.py:74); the retrained weights are refused for them")

    def stage_training(self, sets: dict[str, Sequence[Sample]], data: Path) -> tuple[list[StagedClip], list[str]]:
        """``Dataset/<set>/Train/<clip>/%05d.jpg`` and ``Train_GT`` in cwd-relative folders (``main_multi.py:42``
        defaults), clips named ``c<k>`` (the rain loader's GT folder is ``<name up to '_'>_GT``, ``dataset.py:161``),
        frames from 00001; a clip needs ``nFrames`` frames and sides of at least :data:`TRAIN_PATCH`."""
        clips: list[StagedClip] = []
        skipped: list[str] = []
        count = 0
        for degradation in self.TRAINABLE:
            data_dir, gt_dir, gt_ext = TRAIN_LAYOUT[degradation]
            for s in sets.get(degradation, ()):
                frames, targets = list(s.input), list(s.target or [])
                h, w = frame_size(frames[0])
                if len(targets) != len(frames) or len(frames) < DEFAULT_NFRAMES or min(h, w) < TRAIN_PATCH:
                    skipped.append(f"{s.dataset}/{s.id}: {len(frames)} frames of {w}x{h}, "
                                   f"{len(targets)} targets (needs >= {DEFAULT_NFRAMES} paired frames of >= "
                                   f"{TRAIN_PATCH} px)")
                    continue
                count += 1
                name = f"c{count:05d}"
                gt_name = f"{name}_GT" if degradation == "rain" else name
                for i, (lq, gt) in enumerate(zip(frames, targets), start=1):
                    link_or_write(lq, data / data_dir / name / f"{i:05d}.jpg")
                    link_or_write(gt, data / gt_dir / gt_name / f"{i:05d}.{gt_ext}")
                clips.append(StagedClip(name, s.dataset, s.id, len(frames)))
            if not any(c.dataset in {x.dataset for x in sets.get(degradation, ())} for c in clips):
                from baselines.base import BaselineError

                raise BaselineError(f"viwsnet: no usable {degradation} clip to train on; upstream draws a window "
                                    f"from each of its three sets for every sample (dataset.py:470-490)")
        return clips, skipped

    def epoch_checkpoints(self, run: Path) -> dict[int, Path]:
        """Epoch -> ``logs/<time>/ViWSNet_epoch_<epoch>.pth`` of every (resumed) run in ``run`` (``main_multi.py:75-78,
        221-224``; a resumed run writes a new time-stamped folder)."""
        found: dict[int, Path] = {}
        for path in sorted((run / "logs").glob("*/ViWSNet_epoch_*.pth")):
            if m := _EPOCH_FILE.match(path.name):
                found[int(m.group(1))] = path
        return found

    def last_snapshot(self, epochs: int) -> int:
        """The last epoch upstream saves when asked for ``epochs`` (every :data:`SNAPSHOTS`, ``main_multi.py:302``)."""
        return epochs - epochs % SNAPSHOTS

    def training_command(self, settings: dict[str, Any], run: Path, data: Path, iterations: int) -> TrainingCommand:
        """``main_multi.py`` through the CUDA launcher (``:6`` forces ``CUDA_VISIBLE_DEVICES="0,5"``), in ``data``
        (its cwd-relative data roots and ``./models``), logs under ``run/logs``; resumed from the last epoch
        checkpoint with ``--pretrained True --pretrained_sr ... --start_epoch K`` and the learning rate upstream's
        decay would have reached (``:277-283,297-300``; no optimizer state is saved)."""
        if iterations < SNAPSHOTS:
            from ypt.errors import UsageError

            raise UsageError(f"viwsnet trains in epochs and saves every {SNAPSHOTS}: ask for at least {SNAPSHOTS}")
        self.link_backbones(settings, data)
        launcher = write_cuda_launcher(run)
        args: list[Any] = [launcher, self.repo(settings) / "main_multi.py", "--nEpochs", iterations,
                           "--log_path", f"{run / 'logs'}/"]
        done = self.epoch_checkpoints(run)
        note = "fresh start"
        if done:
            last = max(done)
            args += ["--pretrained", "True", "--pretrained_sr", done[last], "--start_epoch", last,
                     "--lr", TRAIN_LR * LR_DECAY ** (last // DECAY_EVERY)]
            note = f"resumes from epoch {last} ({done[last]})"
        return TrainingCommand(args, cwd=data, note=note)

    def finished_checkpoint(self, run: Path, iterations: int) -> Path | None:
        return self.epoch_checkpoints(run).get(self.last_snapshot(iterations))


METHOD = ViWSNet(SPEC)
