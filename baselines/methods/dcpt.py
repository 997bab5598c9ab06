"""``dcpt``: DCPT (Hu et al., ICLR 2025), the 5-degradation all-in-one weights, run through BasicSR
``basicsr/test.py -opt <options.yml>``.

The wrapper generates the options file: network and weight-loading keys from upstream's own
``options/all_in_one/test/test_<variant>_5d.yml``, one ``PairedImageDataset`` over the staged inputs (GT = the
input itself: upstream's validation loop reads a GT unconditionally), ``save_img: true``, no metrics. Upstream writes
``<repo>/results/<name>/visualization/<dataset name>/<image stem>_<name>.png``; the wrapper collects them and
removes its run folder from the repository.

Config section ``[dcpt]``: ``repo``, ``python``/``conda_env``, ``variant`` (``NAFNet`` default; ``PromptIR``,
``Restormer``, ``SwinIR``), ``checkpoint`` (default ``<repo>/pretrained_models/dcpt_<variant>_5d.pth``),
``num_gpu`` (1, the default and at least 1).

Upstream needs CUDA whatever ``num_gpu`` says, although its template suggests ``num_gpu: 0`` for CPU mode: building
the model prints the network with a CUDA tensor (``basicsr/models/base_model.py:195,198``, reached from
``sr_model.py:38``) and validation calls ``torch.cuda.ipc_collect()`` (``sr_model.py:419``). ``num_gpu = 0`` is
refused.
"""
from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any, Sequence

from baselines.base import Checkpoint, MethodSpec, RestoreConfig, RestoreReport, Sample
from baselines.external import ExternalMethod, staged_names

WEIGHTS_URL = "https://drive.google.com/drive/folders/17XKKgX3gbEWoma6ZQeRh8Dfazxy1iQpj"
DEFAULT_VARIANT = "NAFNet"
DATASET_NAME = "ypt"

SPEC = MethodSpec(
    key="dcpt",
    display_name="DCPT",
    citation="Hu et al. Universal Image Restoration Pre-training via Degradation Classification. ICLR 2025",
    upstream_repo="MILab-PKU/dcpt",
    upstream_commit="0889edefbd8245f7d276eddf15d2333bf5cef41c",
    checkpoints=(Checkpoint("dcpt_nafnet_5d.pth", WEIGHTS_URL, "pretrained_models/dcpt_nafnet_5d.pth"),),
    modalities=("image",),
    degradations=("haze", "rain", "lowlight", "blur"),
    invocation="BASICSR_JIT=True python basicsr/test.py -opt <generated options.yml> (one call for all images)",
    resolution="native (fully convolutional / windowed; no resizing)",
    weights_note="5D all-in-one weights (noise, rain, haze, blur, low light) published by the authors",
    external=True,
    entry_files=("basicsr/test.py", "options/all_in_one/test"),
)


def template_path(repo: Path, variant: str) -> Path:
    return repo / "options" / "all_in_one" / "test" / f"test_{variant}_5d.yml"


def build_options(template: dict[str, Any], name: str, lq_dir: Path, gt_dir: Path, checkpoint: Path,
                  num_gpu: int = 1) -> dict[str, Any]:
    """Upstream's options with our dataset, weights and output settings."""
    options = {k: template[k] for k in ("model_type", "scale", "network_g") if k in template}
    options.update({
        "name": name, "suffix": None, "num_gpu": num_gpu, "manual_seed": 0, "crop_border": 0,
        "datasets": {"test_1": {"name": DATASET_NAME, "type": "PairedImageDataset", "dataroot_lq": str(lq_dir),
                                "dataroot_gt": str(gt_dir), "io_backend": {"type": "disk"}}},
        "path": {**template.get("path", {}), "pretrain_network_g": str(checkpoint)},
        "val": {"save_img": True, "suffix": None},
    })
    return options


class DCPT(ExternalMethod):
    def variant(self, settings: dict[str, Any]) -> str:
        return str(settings.get("variant", DEFAULT_VARIANT))

    def checkpoint_path(self, settings: dict[str, Any]) -> Path | None:
        if settings.get("checkpoint"):
            return Path(settings["checkpoint"]).expanduser().resolve()
        if settings.get("repo"):
            return self.repo(settings) / "pretrained_models" / f"dcpt_{self.variant(settings).lower()}_5d.pth"
        return None

    def problems(self, settings):
        found = super().problems(settings)
        if int(settings.get("num_gpu", 1)) < 1:
            from baselines.base import Problem

            found.append(Problem(f"num_gpu = {settings['num_gpu']}: upstream runs only on CUDA (base_model.py:195,198 "
                                 "and sr_model.py:419 use CUDA even with num_gpu 0)",
                                 f"remove num_gpu (default 1) from [{self.key}] and run on a GPU node"))
        if settings.get("repo") and not found:
            template = template_path(self.repo(settings), self.variant(settings))
            if not template.is_file():
                from baselines.base import Problem

                found.append(Problem(f"no upstream options {template}",
                                     "set variant to one of NAFNet, PromptIR, Restormer, SwinIR"))
        return found

    def run(self, samples: Sequence[Sample], out_dir: Path, config: RestoreConfig, report: RestoreReport) -> None:
        import yaml

        from baselines.images import save_as_output, stage_image
        from benchmarks.outputs import image_output_path

        settings = config.settings
        repo, work = self.repo(settings), self.work_dir(out_dir, report)
        variant = self.variant(settings)
        self.record_weights(settings, report, variant=variant)
        names = staged_names(samples)
        lq_dir = work / "lq"
        for s in samples:
            stage_image(s.input, lq_dir / f"{names[s.id]}.png")
            stage_image(s.input, work / "gt" / f"{names[s.id]}.png")
        name = self.unique_name(out_dir)
        template = yaml.safe_load(template_path(repo, variant).read_text(encoding="utf-8"))
        options_file = work / "options.yml"
        options = build_options(template, name, lq_dir, work / "gt", self.checkpoint_path(settings),
                                num_gpu=int(settings.get("num_gpu", 1)))
        options_file.write_text(yaml.safe_dump(options, sort_keys=False), encoding="utf-8")
        run_root = repo / "results" / name
        try:
            self.call(["basicsr/test.py", "-opt", options_file], cwd=repo, settings=settings, report=report,
                      out_dir=out_dir, progress=config.progress,
                      env={"BASICSR_JIT": "True"})
            for s in samples:
                found = run_root / "visualization" / DATASET_NAME / f"{names[s.id]}_{name}.png"
                if not found.is_file():
                    report.fail(s, "restore", f"dcpt wrote no {found}; see {report.log}")
                    continue
                save_as_output(found, image_output_path(out_dir, s.id))
            shutil.copy2(options_file, out_dir / "dcpt_options.yml")
        finally:
            shutil.rmtree(run_root, ignore_errors=True)
        self.finish(work, config)


METHOD = DCPT(SPEC)
