"""``avernet``: AverNet (Zhao et al., NeurIPS 2024), all-in-one video restoration, run through BasicSR
``basicsr/test.py -opt <options.yml>``; frame folders in and out.

The wrapper generates the options file: network, weights and patch-testing keys from upstream's own
``options/test/test_AverNet_Set8_T12.yml``, one ``VideoRecurrentTestDataset`` over the staged frame folders
(GT = the input frames: upstream only needs a folder of equal length), ``path.results_root`` in the run's work
folder, ``save_img: true``, no metrics. Upstream writes
``<results_root>/<name>/visualization/<dataset>/<video>/<frame:08d>_<name>.png``.

The paper retrained AverNet on its own training data: point ``checkpoint`` at those weights and say so with
``weights = "..."`` (recorded in every restore report); by default the published ``AverNet_final.pth`` is used.

Config section ``[avernet]``: ``repo``, ``python``/``conda_env``, ``checkpoint`` (default
``<repo>/experiments/pretrained_models/AverNet_final.pth``), ``spynet`` (default upstream's path), ``weights``.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

from baselines.base import Checkpoint, MethodSpec, RestoreConfig, RestoreReport, Sample, progress
from baselines.external import ExternalMethod, UpstreamError, staged_names

WEIGHTS_URL = "https://drive.google.com/drive/folders/1S0h4wKGPm4pugx94gs1r3aLDzS06vGt3"
TEMPLATE = "options/test/test_AverNet_Set8_T12.yml"
DATASET_NAME = "ypt"

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
    invocation="python basicsr/test.py -opt <generated options.yml> (one call for all videos)",
    resolution="native; upstream patch testing (512 patches, overlap 20)",
    weights_note="the paper retrained AverNet on its training data; set checkpoint (and weights = '...') to "
                 "those weights, else the published AverNet_final.pth is used",
    external=True,
    entry_files=("basicsr/test.py", TEMPLATE),
)


def build_options(template: dict[str, Any], name: str, lq: Path, gt: Path, results_root: Path,
                  checkpoint: Path, spynet: Path) -> dict[str, Any]:
    network = {**template["network_g"], "spynet_pretrained": str(spynet)}
    val = {k: v for k, v in template.get("val", {}).items() if k != "metrics"}
    val.update(save_img=True, suffix=None, metrics=None)
    return {
        "name": name, "model_type": template.get("model_type", "VideoRecurrentModel"), "scale": 1,
        "num_gpu": 1, "manual_seed": 0,
        "datasets": {"test_0": {"name": DATASET_NAME, "type": "VideoRecurrentTestDataset",
                                "dataroot_lq": str(lq), "dataroot_gt": str(gt), "cache_data": True,
                                "io_backend": {"type": "disk"}, "num_frame": -1}},
        "network_g": network,
        "path": {"pretrain_network_g": str(checkpoint), "strict_load_g": True,
                 "results_root": str(results_root)},
        "val": val,
    }


class AverNet(ExternalMethod):
    def spynet_path(self, settings: dict[str, Any]) -> Path:
        if settings.get("spynet"):
            return Path(settings["spynet"]).expanduser().resolve()
        return self.repo(settings) / self.spec.checkpoints[1].repo_path

    def checkpoint_problems(self, settings):
        found = super().checkpoint_problems(settings)
        if settings.get("repo") and not self.spynet_path(settings).is_file():
            from baselines.base import Problem

            found.append(Problem(f"SPyNet weights not found at {self.spynet_path(settings)}",
                                 f"download spynet_sintel_final-3d2a1287.pth from {WEIGHTS_URL} and set spynet = "
                                 "\"/path\" (or put it at the upstream path)"))
        return found

    def run(self, samples: Sequence[Sample], out_dir: Path, config: RestoreConfig, report: RestoreReport) -> None:
        import yaml

        from baselines.images import save_as_output, stage_image
        from benchmarks.outputs import video_frame_path

        settings = config.settings
        repo, work = self.repo(settings), self.work_dir(out_dir, report)
        self.record_weights(settings, report, weights=settings.get("weights", "published AverNet_final.pth"))
        names = staged_names(samples)
        for s in progress(samples, len(samples), "avernet: staging", config.progress):
            for i, frame in enumerate(s.input):
                stage_image(frame, work / "lq" / names[s.id] / f"{i:08d}.png")
                stage_image(frame, work / "gt" / names[s.id] / f"{i:08d}.png")
        name = self.unique_name(out_dir)
        template = yaml.safe_load((repo / TEMPLATE).read_text(encoding="utf-8"))
        options = build_options(template, name, work / "lq", work / "gt", work / "results",
                                self.checkpoint_path(settings), self.spynet_path(settings))
        options_file = work / "options.yml"
        options_file.write_text(yaml.safe_dump(options, sort_keys=False), encoding="utf-8")
        self.call(["basicsr/test.py", "-opt", options_file], cwd=repo, settings=settings, report=report,
                  out_dir=out_dir, progress=config.progress)
        visual = work / "results" / name / "visualization" / DATASET_NAME
        for s in samples:
            for i in range(len(s.input)):
                found = visual / names[s.id] / f"{i:08d}_{name}.png"
                if not found.is_file():
                    raise UpstreamError(f"avernet wrote no {found} for {s.id} frame {i}; see {report.log}")
                save_as_output(found, video_frame_path(out_dir, s.id, i))
        self.finish(work, config)


METHOD = AverNet(SPEC)
