"""``foundir``: FoundIR generalist model (Li et al., ICCV 2025), run through upstream ``test.py``.

Upstream reads pairs from a meta file (``GT, LQ`` paths relative to ``--dataroot``), restores with tiled
1024 inference (``crop_phase='im2overlap'``, stride 512), loads ``premodel/model-2000.pt`` relative to its
repository, and writes ``<repo>/results/<folder two levels above the GT file>/<GT file name>``. The wrapper stages
``<dataroot>/<unique run name>/{LQ,GT}/<id>.png`` (GT = the input itself: upstream only names files after it),
collects the run's results folder and removes it from the repository.

Upstream tiles only images larger than 1024^2 pixels (``src/model.py:1406-1408``), and its tiling start goes negative
for a side strictly between 512 and 1024 (``img2patch``, ``src/model.py:1547-1560``): such rows or columns are never
pasted back (``patch2img``, ``:1574-1586``) and stay black, 896 rows of a 960x1280 input. The wrapper pads such sides
to 1024 (bottom/right, reflect; :func:`tiling_size`) and crops the output back.

Config section ``[foundir]``: ``repo``, ``python``/``conda_env``. The checkpoint must be at
``<repo>/premodel/model-2000.pt`` (upstream hard-codes it).
"""
from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any, Sequence

from baselines.base import Checkpoint, MethodSpec, Problem, RestoreConfig, RestoreReport, Sample, progress
from baselines.external import ExternalMethod, staged_names

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
    resolution="native; upstream tiled inference (1024 crops, overlap 512) above 1024^2 pixels, where sides "
               "between 512 and 1024 are reflect-padded to 1024 (upstream leaves them black otherwise) and cropped back",
    external=True,
    entry_files=("test.py",),
)

#: upstream's tile (``test.py:102``: ``crop_size=1024``; ``img2patch`` overlap 512 = half of it)
TILE = 1024


def tiling_size(height: int, width: int, tile: int | None = None) -> tuple[int, int]:
    """The size to pad an input to so that upstream's tiling covers it: unchanged unless it is tiled (more than
    ``tile``^2 pixels, ``src/model.py:1407``), then each side strictly between ``tile // 2`` and ``tile`` becomes
    ``tile`` (a side of at most ``tile // 2`` is covered whole by the clamped negative start)."""
    tile = TILE if tile is None else tile
    if height * width <= tile * tile:
        return height, width
    return tuple(tile if tile // 2 < side < tile else side for side in (height, width))


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
        from baselines.images import save_cropped, stage_image, stage_padded
        from benchmarks.outputs import image_output_path

        settings = config.settings
        repo, work = self.repo(settings), self.work_dir(out_dir, report)
        self.record_weights(settings, report)
        group = self.unique_name(out_dir)
        names = staged_names(samples)
        dataroot = work / "data"
        meta_lines, sizes = [], {}
        for s in progress(samples, len(samples), "foundir: staging", config.progress):
            stem = names[s.id]
            lq = dataroot / group / "LQ" / f"{stem}.png"
            sizes[s.id] = stage_padded(s.input, lq, size=tiling_size)
            stage_image(lq, dataroot / group / "GT" / f"{stem}.png")
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
                    report.fail(s, "restore", f"foundir wrote no {found}; see {report.log}")
                    continue
                save_cropped(found, image_output_path(out_dir, s.id), sizes[s.id])
        finally:
            shutil.rmtree(results, ignore_errors=True)
        self.finish(work, config)


METHOD = FoundIR(SPEC)
