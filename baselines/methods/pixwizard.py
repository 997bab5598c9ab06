"""``pixwizard``: PixWizard (Lin et al., ICLR 2025), run through upstream ``sample_pixwizard.py`` driven by a JSON
list of ``{input_path, target_path, prompt, task, dataset}``.

Upstream bucket-resizes each input to the aspect-ratio bucket nearest to it at ``--resolution`` (768 in its
inference script) and writes ``<image_save_path>/images/<task>_<dataset>_<index>_<W>x<H>.png``; the wrapper maps
``index`` (the position in the JSON list) back to the sample and bicubic-resizes the output to the input size.
The prompt per task is the first line of upstream ``prompts/<task>.txt`` (its own restoration instructions);
a mixed degradation uses its first (primary) degradation's task.

Config section ``[pixwizard]``: ``repo``, ``python``/``conda_env``, ``checkpoint`` (the PixWizard checkpoint
*folder* with ``model_args.pth`` and ``consolidated_ema.00-of-01.pth``), ``sdxl_vae_path``, ``tokenizer_path``
(Gemma-2B), optional ``clip_tokenizer_path`` (default ``models/clip/clip-vit-large-patch14-336`` in the repo),
``resolution`` (768), ``steps`` (60), ``seed``, ``prompts = {haze = "..."}`` to override prompts.
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Sequence

from baselines.base import Checkpoint, MethodSpec, Problem, RestoreConfig, RestoreReport, Sample
from baselines.config import config_path
from baselines.external import ExternalMethod, UpstreamError

SPEC = MethodSpec(
    key="pixwizard",
    display_name="PixWizard",
    citation="Lin et al. PixWizard: Versatile Image-to-Image Visual Assistant with Open-Language Instructions. "
             "ICLR 2025 (arXiv:2409.15278)",
    upstream_repo="AFeng-x/PixWizard",
    upstream_commit="cb39454ca1fe72ca41505c9cd3d5c54b412ad48e",
    checkpoints=(Checkpoint("PixWizard checkpoint folder (model_args.pth, consolidated_ema.00-of-01.pth)",
                            "https://huggingface.co/Afeng-x/PixWizard"),),
    modalities=("image",),
    degradations=("haze", "rain", "snow", "lowlight", "blur"),
    invocation="python sample_pixwizard.py ODE --ckpt DIR --json_path LIST.json --image_save_path DIR "
               "--resolution 768 --sampling-method euler --num_sampling_steps 60 --text_cfg_scale 4.0 "
               "--image_cfg_scale 1.0 --time_shifting_factor 1 --ema ... (one call for all images)",
    resolution="bucket-resized by upstream (nearest aspect bucket at 768); outputs bicubic-resized to the input size",
    external=True,
    entry_files=("sample_pixwizard.py", "prompts"),
)

#: our degradation -> PixWizard task (its prompts/<task>.txt)
TASKS = {"haze": "dehaze", "rain": "derain", "snow": "desnow", "lowlight": "lowlight_enhance", "blur": "deblur"}
DATASET_TAG = "ypt"
CKPT_FILES = ("model_args.pth", "consolidated_ema.00-of-01.pth")


def task_for(sample: Sample) -> str:
    primary = sample.degradation[0]
    if primary not in TASKS:
        raise UpstreamError(f"pixwizard has no restoration task for degradation {primary!r} (sample {sample.id})")
    return TASKS[primary]


def task_prompt(repo: Path, task: str, overrides: dict[str, str]) -> str:
    for degradation, name in TASKS.items():
        if name == task and degradation in overrides:
            return overrides[degradation]
    lines = [ln.strip() for ln in (repo / "prompts" / f"{task}.txt").read_text(encoding="utf-8").splitlines()]
    return next(ln for ln in lines if ln)


class PixWizard(ExternalMethod):
    def checkpoint_problems(self, settings: dict[str, Any]) -> list[Problem]:
        where = f"[{self.key}] in {config_path()}"
        found: list[Problem] = []
        ckpt = settings.get("checkpoint")
        if not ckpt or not all((Path(ckpt).expanduser() / f).is_file() for f in CKPT_FILES):
            found.append(Problem(f"PixWizard checkpoint folder with {', '.join(CKPT_FILES)} not found"
                                 + (f" at {ckpt}" if ckpt else ""),
                                 f"download it from {self.spec.checkpoints[0].url} and set checkpoint = "
                                 f"\"/path/to/folder\" in {where}"))
        for key, what, url in (("sdxl_vae_path", "SD-XL VAE", "https://huggingface.co/stabilityai/sdxl-vae"),
                               ("tokenizer_path", "Gemma-2B", "https://huggingface.co/google/gemma-2b")):
            if not settings.get(key) or not Path(settings[key]).expanduser().exists():
                found.append(Problem(f"{what} not found ({key})",
                                     f"download {url} and set {key} = \"/path\" in {where}"))
        return found

    def checkpoint_path(self, settings: dict[str, Any]) -> Path | None:
        return Path(settings["checkpoint"]).expanduser().resolve() if settings.get("checkpoint") else None

    def run(self, samples: Sequence[Sample], out_dir: Path, config: RestoreConfig, report: RestoreReport) -> None:
        from baselines.images import image_size, save_as_output
        from benchmarks.outputs import image_output_path
        from benchmarks.protocol import SEED

        settings = config.settings
        repo, work = self.repo(settings), self.work_dir(out_dir, report)
        self.record_weights(settings, report)
        entries, tasks = [], {}
        for s in samples:
            task = tasks[s.id] = task_for(s)
            path = str(Path(s.input).resolve())
            entries.append({"input_path": path, "target_path": path,
                            "prompt": task_prompt(repo, task, settings.get("prompts", {})),
                            "task": task, "dataset": DATASET_TAG})
        json_path = work / "pixwizard_inputs.json"
        json_path.write_text(json.dumps(entries, indent=2), encoding="utf-8")
        save_dir = work / "generated"
        args: list[Any] = [
            "sample_pixwizard.py", "ODE", "--ckpt", self.checkpoint_path(settings),
            "--image_save_path", save_dir, "--sampling-method", "euler",
            "--num_sampling_steps", settings.get("steps", 60), "--seed", settings.get("seed", SEED),
            "--resolution", settings.get("resolution", 768), "--json_path", json_path,
            "--sdxl_vae_path", Path(settings["sdxl_vae_path"]).expanduser(),
            "--tokenizer_path", Path(settings["tokenizer_path"]).expanduser(),
            "--clip_tokenizer_path", settings.get("clip_tokenizer_path", "models/clip/clip-vit-large-patch14-336"),
            "--time_shifting_factor", 1, "--text_cfg_scale", 4.0, "--image_cfg_scale", 1.0, "--ema"]
        self.call(args, cwd=repo, settings=settings, report=report, out_dir=out_dir, progress=config.progress)
        for index, s in enumerate(samples):
            pattern = re.compile(rf"^{re.escape(tasks[s.id])}_{DATASET_TAG}_{index}_\d+x\d+\.png$")
            found = [p for p in (save_dir / "images").glob("*.png") if pattern.match(p.name)]
            if len(found) != 1:
                raise UpstreamError(f"pixwizard: expected one output for {s.id} (index {index}) in "
                                    f"{save_dir / 'images'}, found {len(found)}; see {report.log}")
            save_as_output(found[0], image_output_path(out_dir, s.id), size=image_size(s.input))
        report.notes.append("prompts: " + json.dumps({e["task"]: e["prompt"] for e in entries}))
        self.finish(work, config)


METHOD = PixWizard(SPEC)
