"""``autodir``: AutoDIR (Jiang et al., ECCV 2024), run through upstream ``eval_w_SCM.py``, one image per call.

Upstream restores iteratively (up to 7 steps: an assessment CLIP picks the artifact, the latent diffusion model
removes it, stops at "no artifact") and writes ``<name>_step_<k>_result_w_SCM.png`` per step into ``--output``;
the wrapper keeps the last step's result with the structure-correction module (SCM). If AutoDIR finds no
artifact at the first step it writes no result: its answer is then the unchanged input (recorded in notes).

Config section ``[autodir]``: ``repo``, ``python`` or ``conda_env``, ``checkpoint`` (default
``<repo>/checkpoints/autodir.ckpt``), optional ``steps`` (200, as in upstream README), ``cfg_text`` (1.0),
``seed`` (the protocol seed).
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Sequence

from baselines.base import Checkpoint, MethodSpec, RestoreConfig, RestoreReport, Sample, progress
from baselines.external import ExternalMethod, UpstreamError, staged_names

SPEC = MethodSpec(
    key="autodir",
    display_name="AutoDIR",
    citation="Jiang, Zhang, Xue, Gu. AutoDIR: Automatic All-in-One Image Restoration with Latent Diffusion. "
             "ECCV 2024 (arXiv:2310.10123)",
    upstream_repo="jiangyitong/AutoDIR",
    upstream_commit="e342544321af306e187bf8dfca7b8abf31306339",
    checkpoints=(Checkpoint("autodir.ckpt",
                            "https://drive.google.com/drive/folders/1hVUyHY9FOUsEpFhPQPHmyd8diDNThqaU",
                            "checkpoints/autodir.ckpt"),),
    modalities=("image",),
    degradations=("haze", "rain", "snow", "lowlight", "blur"),
    invocation="python eval_w_SCM.py --input IMG --output DIR --ckpt autodir.ckpt --config configs/generate.yaml "
               "--steps 200 --cfg-text 1 --seed 42 (one call per image)",
    resolution="native; inputs reflect-padded to a multiple of 64 (SD latent grid), outputs cropped back",
    external=True,
    entry_files=("eval_w_SCM.py", "configs/generate.yaml"),
)

PAD_MULTIPLE = 64
_STEP = re.compile(r"_step_(\d+)_result_w_SCM\.png$")


class AutoDIR(ExternalMethod):
    def run(self, samples: Sequence[Sample], out_dir: Path, config: RestoreConfig, report: RestoreReport) -> None:
        from baselines.images import save_cropped, stage_padded
        from benchmarks.outputs import image_output_path
        from benchmarks.protocol import SEED

        settings = config.settings
        repo, work = self.repo(settings), self.work_dir(out_dir, report)
        ckpt = self.checkpoint_path(settings)
        self.record_weights(settings, report)
        names = staged_names(samples)
        for s in progress(samples, len(samples), "autodir", config.progress):
            stem = names[s.id]
            staged = work / "inputs" / f"{stem}.png"
            size = stage_padded(s.input, staged, PAD_MULTIPLE)
            result_dir = work / "results" / stem
            result_dir.mkdir(parents=True)
            self.call(["eval_w_SCM.py", "--input", staged, "--output", result_dir, "--ckpt", ckpt,
                       "--config", settings.get("config", "configs/generate.yaml"),
                       "--steps", settings.get("steps", 200), "--cfg-text", settings.get("cfg_text", 1.0),
                       "--seed", settings.get("seed", SEED)],
                      cwd=repo, settings=settings, report=report, out_dir=out_dir,
                      progress=False)  # the per-image bar is already live
            steps = sorted(((int(m.group(1)), p) for p in result_dir.iterdir() if (m := _STEP.search(p.name))))
            if steps:
                source = steps[-1][1]
            elif (result_dir / f"{stem}_input.png").is_file():
                source = result_dir / f"{stem}_input.png"
                report.notes.append(f"{s.id}: AutoDIR detected no artifact; output = its input")
            else:
                raise UpstreamError(f"autodir wrote no *_result_w_SCM.png for {s.id} in {result_dir}; "
                                    f"see {report.log}")
            save_cropped(source, image_output_path(out_dir, s.id), size)
        self.finish(work, config)


METHOD = AutoDIR(SPEC)
