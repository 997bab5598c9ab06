"""``foundir``: FoundIR generalist model (Li et al., ICCV 2025), run through upstream ``test.py``.

Upstream reads pairs from a meta file (``GT, LQ`` paths relative to ``--dataroot``), restores with tiled
1024 inference (``crop_phase='im2overlap'``, stride 512), loads ``premodel/model-2000.pt`` relative to its
repository, and writes ``<repo>/results/<folder two levels above the GT file>/<GT file name>``. The wrapper stages
``<dataroot>/<unique run name>/{LQ,GT}/<id>.png`` (GT = the input itself: upstream only names files after it),
collects the run's results folder and removes it from the repository.

Config section ``[foundir]``: ``repo``, ``python``/``conda_env``. The checkpoint must be at
``<repo>/premodel/model-2000.pt`` (upstream hard-codes it).
"""
from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any, Sequence

from baselines.base import Checkpoint, MethodSpec, Problem, RestoreConfig, RestoreReport, Sample, progress
from baselines.external import ExternalMethod, UpstreamError, staged_names

SPEC = MethodSpec(
    key="foundir",
    display_name="FoundIR",
    citation="Li et al. FoundIR: Unleashing Million-scale Training Data to Advance Foundation Models for Image "
             "Restoration. ICCV 2025 (arXiv:2412.01427)",
    upstream_repo="House-Leo/FoundIR",
    upstream_commit="6d19958499622d90ca71fe971d83b1e428c17cd0",
    checkpoints=(Checkpoint("model-2000.pt",
                            "https://github.com/House-Leo/FoundIR/releases/download/Premodel/model-2000.pt",
                            "premodel/model-2000.pt"),),
    modalities=("image",),
    degradations=("haze", "rain", "snow", "lowlight", "blur"),
    invocation="python test.py --dataroot DIR --meta META.txt (cwd = repo; one call for all images)",
    resolution="native; upstream tiled inference (1024 crops, stride 512); any size change by upstream undone "
               "by a bicubic resize to the input size",
    external=True,
    entry_files=("test.py",),
)


class FoundIR(ExternalMethod):
    def checkpoint_path(self, settings: dict[str, Any]) -> Path | None:
        return self.repo(settings) / "premodel" / "model-2000.pt" if settings.get("repo") else None

    def checkpoint_problems(self, settings: dict[str, Any]) -> list[Problem]:
        path = self.checkpoint_path(settings)
        if path is None or path.is_file():
            return []
        fix = f"download {self.spec.checkpoints[0].url} to {path}"
        if settings.get("checkpoint"):
            fix = (f"upstream only loads premodel/model-2000.pt from its repository: "
                   f"ln -s {Path(settings['checkpoint']).expanduser()} {path}")
        return [Problem(f"checkpoint {path} not found", fix)]

    def run(self, samples: Sequence[Sample], out_dir: Path, config: RestoreConfig, report: RestoreReport) -> None:
        from baselines.images import image_size, save_as_output, stage_image
        from benchmarks.outputs import image_output_path

        settings = config.settings
        repo, work = self.repo(settings), self.work_dir(out_dir, report)
        self.record_weights(settings, report)
        group = self.unique_name(out_dir)
        names = staged_names(samples)
        dataroot = work / "data"
        meta_lines = []
        for s in progress(samples, len(samples), "foundir: staging", config.progress):
            stem = names[s.id]
            stage_image(s.input, dataroot / group / "LQ" / f"{stem}.png")
            stage_image(s.input, dataroot / group / "GT" / f"{stem}.png")
            meta_lines.append(f"{group}/GT/{stem}.png, {group}/LQ/{stem}.png")
        meta = work / "meta_info.txt"
        meta.write_text("\n".join(meta_lines) + "\n", encoding="utf-8")
        results = repo / "results" / group
        try:
            self.call(["test.py", "--dataroot", dataroot, "--meta", meta], cwd=repo, settings=settings,
                      report=report, out_dir=out_dir, progress=config.progress)
            for s in samples:
                found = results / f"{names[s.id]}.png"
                if not found.is_file():
                    raise UpstreamError(f"foundir wrote no {found} for {s.id}; see {report.log}")
                save_as_output(found, image_output_path(out_dir, s.id), size=image_size(s.input))
        finally:
            shutil.rmtree(results, ignore_errors=True)
        self.finish(work, config)


METHOD = FoundIR(SPEC)
