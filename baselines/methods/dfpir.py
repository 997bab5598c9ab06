"""``dfpir``: DFPIR (Tian et al., CVPR 2025), task-conditioned all-in-one restoration, run through upstream
``test_5D_DFPIR.py``.

DFPIR is conditioned on a fixed degradation text per task (CLIP-encoded: "Rain degradation with rain lines",
"Hazy degradation with normal haze", "Blur degradation with motion blur", "Lowlight degradation", noise); the
wrapper maps each sample's primary degradation to a task (:data:`TASK_OF`; snow, which DFPIR was not trained
for, goes to the rain task, the nearest weather-streak degradation; override with ``task_map``).
Upstream's test script always runs all five task test sets from fixed folder layouts and names outputs after
the inputs; the wrapper stages each group of samples into its task's layout (the other four tasks get one
staged sample so upstream runs; their outputs are discarded) with GT = the input (upstream's printed PSNR is
meaningless and ignored). Upstream crops inputs to multiples of 16: inputs are reflect-padded to a multiple of
16 and outputs cropped back. Upstream loads its checkpoint only ``if os.path.isfile`` and otherwise runs with
random weights, so the wrapper refuses to run without the checkpoint; and it keeps only the checkpoint keys its
model has (``test_5D_DFPIR.py:213-217``), so a checkpoint of another model (or with every key ``module.``-prefixed)
would run with random weights too: the keys are checked against the model upstream builds (in its environment)
before a run.

Upstream loads OpenAI CLIP ViT-B/32 at import (``test_5D_DFPIR.py:41``, ``clip.load("ViT-B/32")``), which downloads
``~/.cache/clip/ViT-B-32.pt`` unless a file with the right SHA-256 is there (openai/CLIP ``clip/clip.py:43-57``):
``python -m benchmarks.prefetch`` puts it there (``HOME`` of the method's environment) for offline compute nodes.

Config section ``[dfpir]``: ``repo``, ``python``/``conda_env``, ``checkpoint`` (required), optional
``task_map = {snow = "dehaze"}``, ``stage_dir`` (where the task layouts are staged: a folder whose path
contains none of ``low``, ``blur``, ``input``, which upstream rewrites inside paths; default the system temp).
"""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any, Sequence

from baselines.base import BaselineError, Checkpoint, MethodSpec, Problem, RestoreConfig, RestoreReport, Sample
from baselines.config import config_path
from baselines.downloads import RuntimeDownload
from baselines.external import ExternalMethod, single_match, staged_names

SPEC = MethodSpec(
    key="dfpir",
    display_name="DFPIR",
    citation="Tian et al. Degradation-Aware Feature Perturbation for All-in-One Image Restoration. CVPR 2025",
    upstream_repo="TxpHome/DFPIR",
    upstream_commit="b9ba223d655d2c174507c83527ba3958dfb90f7d",
    checkpoints=(Checkpoint("DFPIR 5D checkpoint (.pth with 'state_dict')",
                            "https://drive.google.com/drive/folders/15bOk4xrsK1b3nIu3-OzUj4O_ZssdFN5Y"),),
    modalities=("image",),
    degradations=("haze", "rain", "lowlight", "blur"),
    invocation="python test_5D_DFPIR.py --pretrained_1 CKPT --denoise_path D --derain_path D --dehaze_path D "
               "--deblur_path D --lowlight_path D --output_path D/ (one call per task group)",
    resolution="native; reflect-padded to a multiple of 16 (upstream crops otherwise), cropped back",
    weights_note="5D all-in-one weights published by the authors",
    external=True,
    entry_files=("test_5D_DFPIR.py", "net/model.py"),
    downloads=(RuntimeDownload(
        "OpenAI CLIP ViT-B/32", "url",
        "https://openaipublic.azureedge.net/clip/models/"
        "40d365715913c9da98579312b702a82c18be219cc2a73407c4526f58eba950af/ViT-B-32.pt",
        "test_5D_DFPIR.py:41 clip.load(\"ViT-B/32\")", cache="clip",
        sha256="40d365715913c9da98579312b702a82c18be219cc2a73407c4526f58eba950af"),),
)

#: builds upstream's model as ``test_5D_DFPIR.py:205`` does (on the CPU; its constructor does no CUDA work) and
#: prints its keys, which ``:213-217`` keeps from the checkpoint's ``state_dict``
KEY_CHECK = r'''
import json, sys
sys.path.insert(0, ".")
try:
    from net.model import ChannelShuffle_skip_textguaid
    model = ChannelShuffle_skip_textguaid(device="cpu")
    print(json.dumps({"keys": {k: list(v.shape) for k, v in model.state_dict().items()}}))
except Exception as exc:
    print(json.dumps({"error": f"{type(exc).__name__}: {exc}"}))
    sys.exit(1)
'''

#: our degradation -> DFPIR task (the test function and degradation text upstream uses for it)
TASK_OF = {"haze": "dehaze", "rain": "derain", "snow": "derain", "lowlight": "lowlight", "blur": "deblur"}
TASKS = ("denoise", "derain", "dehaze", "deblur", "lowlight")
PAD_MULTIPLE = 16
#: substrings upstream rewrites or splits on anywhere in a staged path
FORBIDDEN_IN_STAGE = ("low", "blur", "input", "target", "sharp", "high", "_")


def stage_layout(root: Path, task: str, stem: str) -> tuple[Path, Path]:
    """(input path, GT path) of a staged image in upstream's layout for ``task`` under ``root``."""
    if task == "denoise":  # clean images; upstream adds the noise
        path = root / "n" / "bsd68" / f"{stem}.png"
        return path, path
    if task == "derain":
        base = root / "r" / "Rain100L"
        return base / "input" / f"{stem}.png", base / "target" / f"no{stem}.png"
    if task == "dehaze":  # upstream: GT name = the hazy name up to its first "_" (e.g. 0001_0.8_0.2.jpg)
        return root / "h" / "input" / f"{stem}_hazy.png", root / "h" / "target" / f"{stem}.png"
    if task == "deblur":
        return root / "d" / "blur" / f"{stem}.png", root / "d" / "sharp" / f"{stem}.png"
    if task == "lowlight":
        return root / "l" / "low" / f"{stem}.png", root / "l" / "high" / f"{stem}.png"
    raise ValueError(task)


def output_pattern(task: str, stem: str) -> tuple[str, str]:
    """(sub-folder of --output_path, glob) of upstream's output for a staged image: ``<name>_<psnr>.png``, where
    deblur and low-light names drop the last character of the file name (``s00000.pn_<psnr>.png``)."""
    if task == "denoise":
        return "denoise/25", f"{stem}_*.png"
    if task in ("deblur", "lowlight"):
        return task, f"{stem}.pn_*.png"
    if task == "dehaze":
        return task, f"{stem}_hazy_*.png"
    return task, f"{stem}_*.png"


class DFPIR(ExternalMethod):
    KEY_CHECK = KEY_CHECK

    def checkpoint_keys(self, path: Path) -> dict[str, tuple[int, ...]]:
        """The checkpoint's ``state_dict`` (``test_5D_DFPIR.py:213``; upstream fails without one)."""
        from baselines.external import load_weights_only, state_shapes

        content = load_weights_only(path)
        if not isinstance(content, dict) or "state_dict" not in content:
            raise BaselineError("it has no 'state_dict' entry, which test_5D_DFPIR.py:213 reads")
        return state_shapes(content["state_dict"])

    def checkpoint_problems(self, settings: dict[str, Any]) -> list[Problem]:
        ckpt = settings.get("checkpoint")
        if ckpt and Path(ckpt).expanduser().is_file():
            return []
        return [Problem(f"DFPIR checkpoint {'not set' if not ckpt else f'{ckpt} not found'} (upstream would "
                        "silently run with random weights, so the wrapper refuses)",
                        f"download it from {self.spec.checkpoints[0].url} and set checkpoint = \"/path/to.pth\" "
                        f"in [{self.key}] of {config_path()}")]

    def task_of(self, sample: Sample, settings: dict[str, Any]) -> str:
        mapping = {**TASK_OF, **settings.get("task_map", {})}
        primary = sample.degradation[0]
        if primary not in mapping or mapping[primary] not in TASKS:
            raise BaselineError(f"dfpir: no task for degradation {primary!r} of {sample.id}; set task_map = "
                                f"{{{primary} = \"<one of {', '.join(TASKS)}>\"}} in [{self.key}]")
        return mapping[primary]

    def stage_root(self, settings: dict[str, Any]) -> Path:
        base = Path(settings.get("stage_dir") or tempfile.gettempdir()).expanduser().resolve()
        if any(bad in str(base) for bad in FORBIDDEN_IN_STAGE if bad != "_"):
            raise BaselineError(f"dfpir: the staging folder {base} contains one of "
                                f"{', '.join(FORBIDDEN_IN_STAGE[:-1])}, which upstream rewrites inside paths; "
                                f"set stage_dir = \"/another/folder\" in [{self.key}] of {config_path()}")
        for _ in range(100):
            root = Path(tempfile.mkdtemp(prefix="yptdfpir", dir=base))
            if not any(bad in root.name for bad in FORBIDDEN_IN_STAGE):
                return root
            root.rmdir()
        raise BaselineError(f"dfpir: could not create a staging folder in {base}")

    def run(self, samples: Sequence[Sample], out_dir: Path, config: RestoreConfig, report: RestoreReport) -> None:
        from baselines.images import save_cropped, stage_padded
        from benchmarks.outputs import image_output_path

        settings = config.settings
        repo, work = self.repo(settings), self.work_dir(out_dir, report)
        ckpt = Path(settings["checkpoint"]).expanduser().resolve()
        self.record_weights(settings, report)
        names = staged_names(samples)
        groups: dict[str, list[Sample]] = {}
        for s in samples:
            groups.setdefault(self.task_of(s, settings), []).append(s)
        for task, group in groups.items():
            root = self.stage_root(settings)
            try:
                sizes = {}
                for s in group:
                    lq, gt = stage_layout(root, task, names[s.id])
                    sizes[s.id] = stage_padded(s.input, lq, PAD_MULTIPLE)
                    if gt != lq:
                        stage_padded(s.input, gt, PAD_MULTIPLE)
                filler = names[group[0].id]
                for other in TASKS:
                    if other != task:
                        lq, gt = stage_layout(root, other, filler)
                        stage_padded(group[0].input, lq, PAD_MULTIPLE)
                        if gt != lq:
                            stage_padded(group[0].input, gt, PAD_MULTIPLE)
                results = work / task
                results.mkdir()
                self.call(["test_5D_DFPIR.py", "--pretrained_1", ckpt, "--denoise_path", f"{root / 'n'}/",
                           "--derain_path", f"{root / 'r'}/", "--dehaze_path", f"{root / 'h'}/",
                           "--deblur_path", f"{root / 'd'}/", "--lowlight_path", f"{root / 'l'}/",
                           "--output_path", f"{results}/"],
                          cwd=repo, settings=settings, report=report, out_dir=out_dir,
                          progress=config.progress)
            finally:
                shutil.rmtree(root, ignore_errors=True)
            for s in group:
                sub, pattern = output_pattern(task, names[s.id])
                found = single_match(results / sub, pattern, f"{s.id} ({task})")
                if found is None:
                    report.fail(s, "restore", f"dfpir wrote no {results / sub / pattern}; see {report.log}")
                    continue
                save_cropped(found, image_output_path(out_dir, s.id), sizes[s.id])
            report.notes.append(f"task {task}: {len(group)} sample(s)")
        self.finish(work, config)


METHOD = DFPIR(SPEC)
