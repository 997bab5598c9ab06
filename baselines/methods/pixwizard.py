"""``pixwizard``: PixWizard (Lin et al., ICLR 2025), run through upstream ``sample_pixwizard.py`` driven by a JSON
list of ``{input_path, target_path, prompt, task, dataset}``.

Upstream bucket-resizes each input to the aspect-ratio bucket nearest to it at ``--resolution`` (768 in its
inference script) and writes ``<image_save_path>/images/<task>_<dataset>_<index>_<W>x<H>.png`` (``:468``); the
wrapper maps ``index`` (the position in the JSON list) back to the sample and bicubic-resizes the output to the
input size.

Instructions: no upstream code reads ``prompts/<task>.txt`` (reference lists of instructions) and the paper does not
say which it used; the wrapper's are :data:`PROMPTS`, each a line of upstream's list (its first, except for snow,
whose first line asks to "erase the frost"), recorded in every report and overridable per degradation with
``prompts = {snow = "Desnow"}``. A mixed degradation uses its first (primary) degradation's task.

CLIP: the image encoder always loads ``models/clip/clip-vit-large-patch14-336`` relative to the working directory
(``sample_pixwizard.py:286``, ``models/clip/modules.py:178-180``), whatever ``--clip_tokenizer_path`` says, and the
repository does not ship it (README :94). The wrapper runs upstream in a private run folder where that path is a
link to ``clip_path``: the configured folder, else the repository's own copy if there is one, else the Hugging Face
cache's snapshot of ``openai/clip-vit-large-patch14-336`` (``python -m benchmarks.prefetch`` puts it there). The
text branch reads ``--clip_tokenizer_path`` (``:264,268``: tokenizer and text weights; default the same folder).

Config section ``[pixwizard]``: ``repo``, ``python``/``conda_env``, ``checkpoint`` (the PixWizard checkpoint
*folder* with ``model_args.pth`` and ``consolidated_ema.00-of-01.pth``), ``sdxl_vae_path``, ``tokenizer_path``
(Gemma-2B), optional ``clip_path``, ``clip_tokenizer_path``, ``resolution`` (768), ``steps`` (60), ``seed``,
``prompts``.
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Sequence

from baselines.base import Checkpoint, MethodSpec, Problem, RestoreConfig, RestoreReport, Sample
from baselines.config import config_path, run_environment
from baselines.downloads import RuntimeDownload
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
    invocation="python <repo>/sample_pixwizard.py ODE --ckpt DIR --json_path LIST.json --image_save_path DIR "
               "--resolution 768 --sampling-method euler --num_sampling_steps 60 --text_cfg_scale 4.0 "
               "--image_cfg_scale 1.0 --time_shifting_factor 1 --ema ... (cwd = a private run folder; one call for "
               "all images)",
    resolution="bucket-resized by upstream (nearest aspect bucket at 768); outputs bicubic-resized to the input size",
    external=True,
    entry_files=("sample_pixwizard.py", "models/clip/modules.py"),
)

#: where upstream's image encoder loads CLIP from, relative to its working directory (``models/clip/modules.py:178``)
CLIP_DIR = "models/clip/clip-vit-large-patch14-336"
CLIP_DOWNLOAD = RuntimeDownload(
    "CLIP ViT-L/14-336 (a local folder upstream never downloads)", "hf", "openai/clip-vit-large-patch14-336",
    "sample_pixwizard.py:264,268,286 and models/clip/modules.py:178-180",
    files=("config.json", "preprocessor_config.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.json",
           "merges.txt", "pytorch_model.bin|model.safetensors"))
#: what a CLIP folder needs for both branches (vision weights, tokenizer, text weights)
CLIP_FILES = ("config.json", "vocab.json", "merges.txt", "tokenizer_config.json", "pytorch_model.bin|model.safetensors")

#: our degradation -> the instruction given to PixWizard (one line of upstream's ``prompts/<task>.txt``)
PROMPTS = {
    "haze": "Fix the haze in this picture.",                                   # prompts/dehaze.txt:1
    "rain": "Take away the rain.",                                             # prompts/derain.txt:1
    "snow": "Get rid of the snow.",                                            # prompts/desnow.txt:2 (:1 is frost)
    "lowlight": "Enhance the image by increasing its brightness and contrast.",  # prompts/lowlight_enhance.txt:1
    "blur": "Deblur",                                                          # prompts/deblur.txt:1
}

#: our degradation -> PixWizard task (its prompts/<task>.txt)
TASKS = {"haze": "dehaze", "rain": "derain", "snow": "desnow", "lowlight": "lowlight_enhance", "blur": "deblur"}
DATASET_TAG = "ypt"
CKPT_FILES = ("model_args.pth", "consolidated_ema.00-of-01.pth")


def task_for(sample: Sample) -> str:
    primary = sample.degradation[0]
    if primary not in TASKS:
        raise UpstreamError(f"pixwizard has no restoration task for degradation {primary!r} (sample {sample.id})")
    return TASKS[primary]


def task_prompt(degradation: str, overrides: dict[str, str]) -> str:
    """The instruction for ``degradation``: ``prompts = {...}`` in the settings, else :data:`PROMPTS`."""
    return overrides.get(degradation) or PROMPTS[degradation]


def missing_files(folder: Path, patterns: tuple[str, ...]) -> list[str]:
    return [p for p in patterns if not any((folder / alt).is_file() for alt in p.split("|"))]


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

    # -- CLIP -----------------------------------------------------------------------------------------------------
    def configured_clip(self, settings: dict[str, Any]) -> Path | None:
        """``clip_path``, else the repository's own copy where its README puts it (None: use the HF cache)."""
        if settings.get("clip_path"):
            return Path(settings["clip_path"]).expanduser().resolve()
        if settings.get("repo") and (self.repo(settings) / CLIP_DIR / "config.json").is_file():
            return self.repo(settings) / CLIP_DIR
        return None

    def clip_path(self, settings: dict[str, Any]) -> Path | None:
        return self.configured_clip(settings) or CLIP_DOWNLOAD.snapshot(run_environment(settings))

    def runtime_downloads(self, settings: dict[str, Any], when: str = "run") -> list[RuntimeDownload]:
        return [CLIP_DOWNLOAD] if when == "run" and self.configured_clip(settings) is None else []

    def clip_problems(self, settings: dict[str, Any]) -> list[Problem]:
        where = f"[{self.key}] in {config_path()}"
        found = []
        folders = [("clip_path", self.configured_clip(settings))]
        if settings.get("clip_tokenizer_path"):
            folders.append(("clip_tokenizer_path", Path(settings["clip_tokenizer_path"]).expanduser()))
        for key, folder in folders:
            if folder is None:
                continue  # the HF cache's snapshot: a runtime download (prefetch)
            absent = missing_files(folder, CLIP_FILES)
            if absent:
                found.append(Problem(f"{key} {folder} is not a CLIP ViT-L/14-336 folder (no {', '.join(absent)}); "
                                     "upstream loads the image encoder from it (models/clip/modules.py:178-180) and "
                                     "the text tokenizer and encoder (sample_pixwizard.py:264,268)",
                                     f"download {CLIP_DOWNLOAD.source} (e.g. huggingface-cli download "
                                     f"{CLIP_DOWNLOAD.source} --local-dir DIR) and set {key} = \"DIR\" in {where}"))
        return found

    def problems(self, settings: dict[str, Any]) -> list[Problem]:
        return super().problems(settings) + self.clip_problems(settings)

    def run(self, samples: Sequence[Sample], out_dir: Path, config: RestoreConfig, report: RestoreReport) -> None:
        from baselines.images import image_size, save_as_output
        from benchmarks.outputs import image_output_path
        from benchmarks.protocol import SEED

        settings = config.settings
        repo, work = self.repo(settings), self.work_dir(out_dir, report)
        clip = self.clip_path(settings)
        self.record_weights(settings, report, clip=str(clip))
        link = work / CLIP_DIR  # upstream's cwd-relative image-encoder path
        link.parent.mkdir(parents=True)
        link.symlink_to(clip, target_is_directory=True)
        overrides = settings.get("prompts", {})
        entries, tasks = [], {}
        for s in samples:
            task = tasks[s.id] = task_for(s)
            path = str(Path(s.input).resolve())
            entries.append({"input_path": path, "target_path": path,
                            "prompt": task_prompt(s.degradation[0], overrides), "task": task, "dataset": DATASET_TAG})
        json_path = work / "pixwizard_inputs.json"
        json_path.write_text(json.dumps(entries, indent=2), encoding="utf-8")
        save_dir = work / "generated"
        args: list[Any] = [
            repo / "sample_pixwizard.py", "ODE", "--ckpt", self.checkpoint_path(settings),
            "--image_save_path", save_dir, "--sampling-method", "euler",
            "--num_sampling_steps", settings.get("steps", 60), "--seed", settings.get("seed", SEED),
            "--resolution", settings.get("resolution", 768), "--json_path", json_path,
            "--sdxl_vae_path", Path(settings["sdxl_vae_path"]).expanduser(),
            "--tokenizer_path", Path(settings["tokenizer_path"]).expanduser(),
            "--clip_tokenizer_path", Path(settings.get("clip_tokenizer_path") or clip).expanduser(),
            "--time_shifting_factor", 1, "--text_cfg_scale", 4.0, "--image_cfg_scale", 1.0, "--ema"]
        self.call(args, cwd=work, settings=settings, report=report, out_dir=out_dir, progress=config.progress)
        for index, s in enumerate(samples):
            pattern = re.compile(rf"^{re.escape(tasks[s.id])}_{DATASET_TAG}_{index}_\d+x\d+\.png$")
            found = [p for p in (save_dir / "images").glob("*.png") if pattern.match(p.name)]
            if len(found) != 1:
                report.fail(s, "restore", f"pixwizard: expected one output (index {index}) in "
                            f"{save_dir / 'images'}, found {len(found)}; see {report.log}")
                continue
            save_as_output(found[0], image_output_path(out_dir, s.id), size=image_size(s.input))
        report.notes.append("prompts: " + json.dumps({e["task"]: e["prompt"] for e in entries}))
        self.finish(work, config)


METHOD = PixWizard(SPEC)
