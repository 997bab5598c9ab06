"""``avernet``: AverNet (Zhao et al., NeurIPS 2024), all-in-one video restoration, run through BasicSR
``basicsr/test.py -opt <options.yml>``; frame folders in and out. Retrained by ``python -m slurm.train --methods
avernet`` through upstream's ``basicsr/train.py``.

Restoring: the wrapper generates the options file (network, weights and patch-testing keys from upstream's own
``options/test/test_AverNet_Set8_T12.yml``; one ``VideoRecurrentTestDataset`` over one staged clip, GT = the input
frames, which upstream only counts; ``path.results_root`` in the run's work folder; ``save_img: true``; no metrics)
and runs upstream **once per clip**: its test dataset reads every frame of every folder of a call into memory as
float32, LQ and GT (``basicsr/data/video_test_dataset.py:70-95``). Upstream writes
``<results_root>/<name>/visualization/<dataset>/<clip>/<frame:08d>_<name>.png``.

Sizes: patch testing cuts 512 patches (``video_recurrent_model.py:197-235``); a side under 512 is one whole-side
patch, and the network needs each side at least 256 (``avernet_arch.py:204``, its quarter-resolution flow must be
64) and divisible by 4 (two stride-2 convolutions against a bicubic quarter, ``:70-75,185-187``): such sides are
reflect-padded to ``max(256, multiple of 4)`` and the outputs cropped back. A one-frame clip is staged twice (the
flow needs two frames, ``:130-138``).

Weights: ``checkpoint`` if set; else the weights ``slurm.train`` retrained (:mod:`baselines.retrained`); else the
published ``AverNet_final.pth``, which was trained on noise, JPEG, video codecs, Gaussian and resize blur
(``scripts/data_preparation/synthesize_datasets.py:21-180``), none of the suite's degradations (its blur is not
motion blur): it is refused unless ``allow_uncovered = true``. Checkpoint keys are checked against the network
upstream builds (in its environment) before a run.

Setup beyond the README's pip lines: ``basicsr/__init__.py:8`` imports ``basicsr/version.py``, which only
``python setup.py develop`` writes; ``avernet_arch.py:9-10`` needs mmcv with compiled ops; every dataset and model
module imports pyiqa.

Config section ``[avernet]``: ``repo``, ``python``/``conda_env``, ``checkpoint``, ``spynet`` (default upstream's
path), ``weights``, ``allow_uncovered``.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

from baselines.base import Checkpoint, MethodSpec, Problem, RestoreConfig, RestoreReport, Sample, progress
from baselines.config import config_path
from baselines.external import staged_names
from baselines.upstream_training import Retrainable, StagedClip, TrainingCommand, frame_size, link_or_write

WEIGHTS_URL = "https://drive.google.com/drive/folders/1S0h4wKGPm4pugx94gs1r3aLDzS06vGt3"
TEMPLATE = "options/test/test_AverNet_Set8_T12.yml"
TRAIN_TEMPLATE = "options/train/train_AverNet_DAVIS.yml"
DATASET_NAME = "ypt"
SETUP = ("pip install -r requirements.txt; pip install -U openmim; mim install mmcv (with its compiled ops); "
         "python setup.py develop (README :8-13)")

SPEC = MethodSpec(
    key="avernet",
    display_name="AverNet",
    citation="Zhao et al. AverNet: All-in-one Video Restoration for Time-varying Unknown Degradations. "
             "NeurIPS 2024",
    upstream_repo="XLearning-SCU/2024-NeurIPS-AverNet",
    upstream_commit="c4eb019f71fe6a2ccb6807dca92451fd8d8b8cd3",
    checkpoints=(Checkpoint("AverNet_final.pth", WEIGHTS_URL, "experiments/pretrained_models/AverNet_final.pth"),
                 Checkpoint("spynet_sintel_final-3d2a1287.pth", WEIGHTS_URL,
                            "experiments/pretrained_models/flownet/spynet_sintel_final-3d2a1287.pth")),
    modalities=("video",),
    degradations=("haze", "rain", "snow", "lowlight", "blur"),
    invocation="python basicsr/test.py -opt <generated options.yml> (one call per clip)",
    resolution="native; upstream patch testing (512 patches, overlap 20); sides under 512 reflect-padded to at "
               "least 256 and a multiple of 4, cropped back",
    weights_note="the paper retrained AverNet on its training data: python -m slurm.train --methods avernet; the "
                 "published AverNet_final.pth covers none of the suite's degradations and is refused unless "
                 "allow_uncovered = true",
    external=True,
    entry_files=("basicsr/test.py", "basicsr/archs/avernet_arch.py", TEMPLATE),
)

#: ``avernet_arch.py:204``: the quarter-resolution flow must be at least 64, so a patch side at least 256
MIN_SIDE = 256
#: ``avernet_arch.py:70-75,185-187``: two stride-2 convolutions against a bicubic quarter
SIDE_MULTIPLE = 4
#: ``options/train/train_AverNet_DAVIS.yml``: ``num_frame`` 12 per training clip, ``gt_size`` 256 crops
TRAIN_FRAMES, TRAIN_CROP = 12, 256
EXPERIMENT = "AverNet_ypt"

#: builds upstream's network from the options' ``network_g`` (argv[2], JSON) in its environment, importing it the
#: way ``basicsr/test.py`` does (the package import needs version.py, mmcv ops and pyiqa), and prints its keys
KEY_CHECK = r'''
import json, sys
sys.path.insert(0, sys.argv[1])
try:
    from basicsr.archs.avernet_arch import AverNet
    model = AverNet(**json.loads(sys.argv[2]))
    print(json.dumps({"keys": {k: list(v.shape) for k, v in model.state_dict().items()}}))
except Exception as exc:
    print(json.dumps({"error": f"{type(exc).__name__}: {exc}"}))
    sys.exit(1)
'''


def pad_size(height: int, width: int, patch: int = 512) -> tuple[int, int]:
    """Sides of at least ``patch`` are cut into ``patch`` tiles; shorter ones go whole and must be at least
    :data:`MIN_SIDE` and divisible by :data:`SIDE_MULTIPLE`."""
    def side(n: int) -> int:
        return n if n >= patch else max(MIN_SIDE, n + (-n) % SIDE_MULTIPLE)

    return side(height), side(width)


def build_options(template: dict[str, Any], name: str, lq: Path, gt: Path, results_root: Path,
                  checkpoint: Path, spynet: Path) -> dict[str, Any]:
    return {
        "name": name, "model_type": template.get("model_type", "VideoRecurrentModel"), "scale": 1,
        "num_gpu": 1, "manual_seed": 0,
        "datasets": {"test_0": {"name": DATASET_NAME, "type": "VideoRecurrentTestDataset",
                                "dataroot_lq": str(lq), "dataroot_gt": str(gt), "cache_data": True,
                                "io_backend": {"type": "disk"}, "num_frame": -1}},
        "network_g": network_options(template, spynet),
        "path": {"pretrain_network_g": str(checkpoint), "strict_load_g": True,
                 "results_root": str(results_root)},
        "val": {**{k: v for k, v in template.get("val", {}).items() if k != "metrics"},
                "save_img": True, "suffix": None, "metrics": None},
    }


def network_options(template: dict[str, Any], spynet: Path) -> dict[str, Any]:
    return {**template["network_g"], "spynet_pretrained": str(spynet)}


def build_train_options(template: dict[str, Any], data: Path, meta: Path, experiments: Path, spynet: Path,
                        iterations: int, resume_state: Path | None) -> dict[str, Any]:
    """Upstream's DAVIS training options on the staged clips: one GPU (``--launcher none``), no validation set (the
    paper's sets have no separate one), no tensorboard folder in the repository, ``iterations`` with the cosine
    periods scaled to it, checkpoints at least once, resumed from ``resume_state`` (``train.py:70-83``)."""
    import copy

    opt = copy.deepcopy(template)
    opt["name"], opt["num_gpu"] = EXPERIMENT, 1
    train_set = opt["datasets"]["train"]
    train_set.update(dataroot_lq=str(data / "lq"), dataroot_gt=str(data / "gt"), meta_info_file=str(meta),
                     filename_ext="png", filename_tmpl="05d")
    opt["datasets"] = {"train": train_set}
    opt.pop("val", None)
    opt["network_g"] = network_options(template, spynet)
    opt["path"] = {**opt.get("path", {}), "experiments_root": str(experiments),
                   "resume_state": str(resume_state) if resume_state else None}
    scheduler = opt["train"]["scheduler"]
    total = int(opt["train"]["total_iter"])
    if "periods" in scheduler and iterations != total:
        periods = [max(1, round(p * iterations / total)) for p in scheduler["periods"]]
        periods[-1] += iterations - sum(periods)
        scheduler["periods"] = periods
    opt["train"]["total_iter"] = iterations
    logger = opt.setdefault("logger", {})
    logger.update(use_tb_logger=False, save_checkpoint_freq=min(int(float(logger.get("save_checkpoint_freq", 5000))),
                                                                iterations))
    return opt


class AverNet(Retrainable):
    KEY_CHECK = KEY_CHECK
    TRAINABLE = ("haze", "rain", "snow", "lowlight", "blur")
    PUBLISHED_COVERS: tuple[str, ...] = ()

    def spynet_path(self, settings: dict[str, Any]) -> Path:
        if settings.get("spynet"):
            return Path(settings["spynet"]).expanduser().resolve()
        return self.repo(settings) / self.spec.checkpoints[1].repo_path

    def problems(self, settings: dict[str, Any]) -> list[Problem]:
        found = super().problems(settings)
        return found + self.setup_file_problems(settings)

    def setup_file_problems(self, settings: dict[str, Any]) -> list[Problem]:
        found = []
        if settings.get("repo") and self.repo(settings).is_dir():
            if not (self.repo(settings) / "basicsr" / "version.py").is_file():
                found.append(Problem(f"{self.repo(settings) / 'basicsr/version.py'} is missing: basicsr/__init__.py:8 "
                                     "imports it and only setup.py writes it",
                                     f"cd {self.repo(settings)} && <the method's python> setup.py develop ({SETUP})"))
            if not self.spynet_path(settings).is_file():
                found.append(Problem(f"SPyNet weights not found at {self.spynet_path(settings)}",
                                     f"download spynet_sintel_final-3d2a1287.pth from {WEIGHTS_URL} and set spynet = "
                                     f"\"/path\" in [{self.key}] of {config_path()} (or put it at the upstream path)"))
        return found

    def coverage_fix(self, settings: dict[str, Any], degradations: Sequence[str]) -> str:
        if self.weights_cover(settings) == self.PUBLISHED_COVERS:
            return ("AverNet_final.pth was trained on noise, JPEG, video codecs, Gaussian and resize blur "
                    "(scripts/data_preparation/synthesize_datasets.py:21-180); " + super().coverage_fix(settings,
                                                                                                     degradations))
        return super().coverage_fix(settings, degradations)

    def environment_fix(self) -> str:
        return f"set up AverNet's environment: {SETUP}; and set python / conda_env in [{self.key}] of {config_path()}"

    # -- key check ------------------------------------------------------------------------------------------------
    def key_check_args(self, settings: dict[str, Any]) -> list[str]:
        import json

        import yaml

        template = yaml.safe_load((self.repo(settings) / TEMPLATE).read_text(encoding="utf-8"))
        network = {k: v for k, v in network_options(template, self.spynet_path(settings)).items() if k != "type"}
        return [str(self.repo(settings)), json.dumps(network)]

    def checkpoint_keys(self, path: Path) -> dict[str, tuple[int, ...]]:
        """What ``load_network`` loads (``base_model.py:300-315``): ``params`` (``sr_model.py:28``), ``module.``
        stripped."""
        from baselines.external import load_weights_only, state_shapes

        state = load_weights_only(path)
        if isinstance(state, dict) and "params" in state:
            state = state["params"]
        return {k.removeprefix("module."): v for k, v in state_shapes(state).items()}

    # -- restoring ------------------------------------------------------------------------------------------------
    def run(self, samples: Sequence[Sample], out_dir: Path, config: RestoreConfig, report: RestoreReport) -> None:
        import yaml

        from baselines.images import save_cropped, stage_padded
        from benchmarks.outputs import video_frame_path

        settings = config.settings
        repo, work = self.repo(settings), self.work_dir(out_dir, report)
        self.record_weights(settings, report, weights=settings.get("weights", self.weights_source(settings)))
        template = yaml.safe_load((repo / TEMPLATE).read_text(encoding="utf-8"))
        patch = int(template.get("val", {}).get("patch_testing_size") or 0)
        names = staged_names(samples)
        for s in progress(samples, len(samples), "avernet", config.progress):
            clip = work / names[s.id]
            frames = list(s.input) if len(s.input) > 1 else [s.input[0]] * 2
            for i, frame in enumerate(frames):
                size = stage_padded(frame, clip / "lq" / names[s.id] / f"{i:08d}.png",
                                    size=(lambda h, w: pad_size(h, w, patch)) if patch else None)
            (clip / "gt").mkdir()
            (clip / "gt" / names[s.id]).symlink_to(clip / "lq" / names[s.id], target_is_directory=True)
            name = self.unique_name(out_dir)
            options = build_options(template, name, clip / "lq", clip / "gt", clip / "results",
                                    self.checkpoint_path(settings), self.spynet_path(settings))
            options_file = clip / "options.yml"
            options_file.write_text(yaml.safe_dump(options, sort_keys=False), encoding="utf-8")
            self.call(["basicsr/test.py", "-opt", options_file], cwd=repo, settings=settings, report=report,
                      out_dir=out_dir, env={"PYTHONPATH": str(repo)}, progress=False)
            visual = clip / "results" / name / "visualization" / DATASET_NAME / names[s.id]
            for i in range(len(s.input)):
                found = visual / f"{i:08d}_{name}.png"
                if not found.is_file():
                    report.fail(s, "restore", f"avernet wrote no {found} (frame {i}); see {report.log}")
                    break
                save_cropped(found, video_frame_path(out_dir, s.id, i), size)
            if not config.keep_work:
                import shutil

                shutil.rmtree(clip, ignore_errors=True)
        self.finish(work, config)

    # -- training -------------------------------------------------------------------------------------------------
    def training_files(self) -> tuple[str, ...]:
        return ("basicsr/train.py", "basicsr/archs/avernet_arch.py", TRAIN_TEMPLATE)

    def training_problems(self, settings: dict[str, Any]) -> list[Problem]:
        return super().training_problems(settings) + self.setup_file_problems(settings)

    def default_iterations(self) -> int:
        return 600000  # train_AverNet_DAVIS.yml: train.total_iter

    def stage_training(self, sets: dict[str, Sequence[Sample]], data: Path) -> tuple[list[StagedClip], list[str]]:
        """``lq/<clip>/<i:05d>.png`` and ``gt/<clip>/...`` from 00000 with ``meta_info.txt`` lines ``<clip> <frames>
        (<h>,<w>,3) 0`` (``tud_video_train_dataset.py:63-68``): every set in one root, clips named ``<degradation>
        <k>``; a clip needs :data:`TRAIN_FRAMES` frames of at least :data:`TRAIN_CROP` px (``:94-96,118``)."""
        clips: list[StagedClip] = []
        skipped: list[str] = []
        lines = []
        for degradation in self.TRAINABLE:
            for k, s in enumerate(sets.get(degradation, ())):
                frames, targets = list(s.input), list(s.target or [])
                h, w = frame_size(frames[0])
                if len(targets) != len(frames) or len(frames) < TRAIN_FRAMES or min(h, w) < TRAIN_CROP:
                    skipped.append(f"{s.dataset}/{s.id}: {len(frames)} frames of {w}x{h}, {len(targets)} targets "
                                   f"(needs >= {TRAIN_FRAMES} paired frames of >= {TRAIN_CROP} px)")
                    continue
                name = f"{degradation}{k:05d}"
                for i, (lq, gt) in enumerate(zip(frames, targets)):
                    link_or_write(lq, data / "lq" / name / f"{i:05d}.png")
                    link_or_write(gt, data / "gt" / name / f"{i:05d}.png")
                lines.append(f"{name} {len(frames)} ({h},{w},3) 0")
                clips.append(StagedClip(name, s.dataset, s.id, len(frames)))
        if not clips:
            from baselines.base import BaselineError

            raise BaselineError(f"avernet: no training clip meets upstream's needs ({len(skipped)} left out: "
                                f"{'; '.join(skipped[:3])})")
        (data / "meta_info.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
        return clips, skipped

    def experiment(self, run: Path) -> Path:
        return run / "experiments" / EXPERIMENT

    def training_command(self, settings: dict[str, Any], run: Path, data: Path, iterations: int) -> TrainingCommand:
        """``basicsr/train.py -opt <options>`` (cwd = repo, one GPU), resumed from the last
        ``training_states/<iter>.state`` of the run (``path.resume_state``; ``--auto_resume`` would look in a
        cwd-relative folder, ``train.py:70-77``)."""
        import yaml

        repo = self.repo(settings)
        states = sorted((self.experiment(run) / "training_states").glob("*.state"),
                        key=lambda p: float(p.stem) if p.stem.replace(".", "", 1).isdigit() else -1)
        resume = states[-1] if states else None
        template = yaml.safe_load((repo / TRAIN_TEMPLATE).read_text(encoding="utf-8"))
        options = build_train_options(template, data, data / "meta_info.txt", run / "experiments",
                                      self.spynet_path(settings), iterations, resume)
        options_file = run / "train_options.yml"
        options_file.write_text(yaml.safe_dump(options, sort_keys=False), encoding="utf-8")
        return TrainingCommand(["basicsr/train.py", "-opt", options_file], cwd=repo, env={"PYTHONPATH": str(repo)},
                               note=f"resumes from {resume}" if resume else "fresh start")

    def finished_checkpoint(self, run: Path, iterations: int) -> Path | None:
        """``net_g_latest.pth``, written when the loop ends (``train.py:205``)."""
        path = self.experiment(run) / "models" / "net_g_latest.pth"
        return path if path.is_file() else None


METHOD = AverNet(SPEC)
