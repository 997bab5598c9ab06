"""``autodir``: AutoDIR (Jiang et al., ECCV 2024), run through upstream ``eval_w_SCM.py``, one image per call.

Upstream restores iteratively (up to 7 steps, ``eval_w_SCM.py:205-309``): an assessment CLIP picks the artifact and
prints ``A photo needs <artifact> artifact reduction`` (``:100``), the latent diffusion model removes it, and the loop
stops at "no" artifact before writing anything (``:231-233``). Each step writes the diffusion decode
``<name>_step_<k>_result.png`` and the structure-corrected ``<name>_step_<k>_result_w_SCM.png`` (``:296-299``), and
carries the decode to the next step when the artifact was "low resolution", else the SCM result (``:263-267``). The
wrapper's answer is what upstream would carry on: the last step's ``_result.png`` when that step printed "low
resolution", else its ``_result_w_SCM.png`` (read from the call's own output). If AutoDIR finds no artifact at the
first step it writes no result: its answer is then the unchanged input (recorded in notes).

The model is built with ``openai/clip-vit-large-patch14`` from the Hugging Face Hub (``model/autodir_model.py:63-71``;
the checkpoint then overwrites its weights): ``python -m benchmarks.prefetch`` puts it into the cache the method's
environment reads (``HF_HOME`` of its ``env`` table, else ours), as compute nodes are offline.

Config section ``[autodir]``: ``repo``, ``python`` or ``conda_env``, ``checkpoint`` (default
``<repo>/checkpoints/autodir.ckpt``), optional ``steps`` (200, as in upstream README), ``cfg_text`` (1.0),
``seed`` (the protocol seed).
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Sequence

from baselines.base import Checkpoint, MethodSpec, RestoreConfig, RestoreReport, Sample, progress
from baselines.downloads import RuntimeDownload
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
    downloads=(RuntimeDownload("CLIP ViT-L/14", "hf", "openai/clip-vit-large-patch14",
                               "model/autodir_model.py:63-71 (CLIPTokenizer/CLIPModel/CLIPFeatureExtractor.from_pretrained)",
                               files=("config.json", "preprocessor_config.json", "tokenizer_config.json",
                                      "special_tokens_map.json", "vocab.json", "merges.txt",
                                      "pytorch_model.bin|model.safetensors")),),
)

PAD_MULTIPLE = 64
_STEP = re.compile(r"_step_(\d+)_result_w_SCM\.png$")
_ARTIFACT = re.compile(r"^A photo needs (.+) artifact reduction$", re.MULTILINE)
#: the artifact after which upstream carries the diffusion decode, not the SCM result (``eval_w_SCM.py:264``)
DECODE_CARRIED = "low resolution"


def final_result(result_dir: Path, stem: str, output: str) -> tuple[Path | None, str]:
    """The image upstream ends with for ``stem`` and why: the last written step's ``_result.png`` if the artifact
    printed for that step is "low resolution", else its ``_result_w_SCM.png``; None when no step was written."""
    steps = sorted((int(m.group(1)), p) for p in result_dir.iterdir() if (m := _STEP.search(p.name))
                   and p.name.startswith(f"{stem}_step_"))
    if not steps:
        return None, "no artifact detected"
    last = steps[-1][0]
    artifacts = _ARTIFACT.findall(output)
    if len(artifacts) <= last:
        raise UpstreamError(f"autodir printed {len(artifacts)} artifact line(s) but wrote step {last} for {stem}: "
                            "cannot tell which image it ends with")
    artifact = artifacts[last]
    if artifact == DECODE_CARRIED:
        return result_dir / f"{stem}_step_{last}_result.png", f"step {last}: {artifact} (decode, no SCM)"
    return steps[-1][1], f"step {last}: {artifact}"


def offline_env() -> dict[str, str]:
    """``TRANSFORMERS_OFFLINE`` where only ``HF_HUB_OFFLINE`` is set: the transformers AutoDIR pins (4.28) reads the
    former, and would otherwise try the Hub first on an offline node."""
    import os

    hub = os.environ.get("HF_HUB_OFFLINE")
    return {"TRANSFORMERS_OFFLINE": hub} if hub and "TRANSFORMERS_OFFLINE" not in os.environ else {}


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
            output = self.call(["eval_w_SCM.py", "--input", staged, "--output", result_dir, "--ckpt", ckpt,
                       "--config", settings.get("config", "configs/generate.yaml"),
                       "--steps", settings.get("steps", 200), "--cfg-text", settings.get("cfg_text", 1.0),
                       "--seed", settings.get("seed", SEED)],
                      cwd=repo, settings=settings, report=report, out_dir=out_dir, env=offline_env(),
                      progress=False)  # the per-image bar is already live
            source, why = final_result(result_dir, stem, output)
            if source is None and (result_dir / f"{stem}_input.png").is_file():
                source = result_dir / f"{stem}_input.png"
                report.notes.append(f"{s.id}: AutoDIR detected no artifact; output = its input")
            elif source is None or not source.is_file():
                report.fail(s, "restore", f"autodir wrote no {source.name if source else '*_result_w_SCM.png'} in "
                            f"{result_dir}; see {report.log}")
                continue
            else:
                report.notes.append(f"{s.id}: {why}")
            save_cropped(source, image_output_path(out_dir, s.id), size)
        self.finish(work, config)


METHOD = AutoDIR(SPEC)
