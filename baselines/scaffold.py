"""``python -m baselines new NAME``: scaffold a wrapper file and its test, both working as written.

The wrapper drives an upstream script ``inference.py --input DIR --output DIR`` that writes ``<output>/<name>.png``
per input; adapt the spec, the argument list and the output naming to the real upstream (see the other files in
``baselines/methods/`` for BasicSR options files, JSON task lists, per-image calls and frame folders). The test
creates a stand-in upstream script with the same CLI and output naming and checks the exact argument list and
that every sample gets its output; keep it in step with the wrapper.
"""
from __future__ import annotations

from ypt.errors import UsageError

import keyword
from pathlib import Path

METHOD_TEMPLATE = '''"""``{key}``: <method name> (<authors>, <venue year>), run through upstream ``inference.py``.

Upstream reads every image of ``--input`` and writes ``<output>/<same name>.png``. Config section ``[{key}]``:
``repo``, ``python`` or ``conda_env``, ``checkpoint``.
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

from baselines.base import Checkpoint, MethodSpec, RestoreConfig, RestoreReport, Sample
from baselines.external import ExternalMethod, staged_names

SPEC = MethodSpec(
    key="{key}",
    display_name="{display}",
    citation="<authors>. <title>. <venue year>",
    upstream_repo="<owner>/<repo>",
    upstream_commit="<40-hex commit the wrapper was written against>",
    checkpoints=(Checkpoint("<weights file>", "<where it is published>", "<path inside the repo, or None>"),),
    modalities=("image",),
    degradations=("haze", "rain", "snow", "lowlight", "blur"),
    invocation="python inference.py --input DIR --output DIR --ckpt CKPT",
    resolution="native",
    external=True,
    entry_files=("inference.py",),
)


class {cls}(ExternalMethod):
    def run(self, samples: Sequence[Sample], out_dir: Path, config: RestoreConfig, report: RestoreReport) -> None:
        from baselines.images import save_as_output, stage_image
        from benchmarks.outputs import image_output_path

        settings = config.settings
        repo, work = self.repo(settings), self.work_dir(out_dir, report)
        self.record_weights(settings, report)
        names = staged_names(samples)
        for s in samples:
            stage_image(s.input, work / "inputs" / f"{{names[s.id]}}.png")
        self.call(["inference.py", "--input", work / "inputs", "--output", work / "outputs",
                   "--ckpt", self.checkpoint_path(settings)],
                  cwd=repo, settings=settings, report=report, out_dir=out_dir)
        for s in samples:
            found = work / "outputs" / f"{{names[s.id]}}.png"
            if not found.is_file():
                report.fail(s, "restore", f"{key} wrote no {{found}}; see {{report.log}}")
                continue
            save_as_output(found, image_output_path(out_dir, s.id))
        self.finish(work, config)


METHOD = {cls}(SPEC)
'''

TEST_TEMPLATE = '''"""``{key}`` against a stand-in of its upstream script (same CLI and output naming as upstream)."""
from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

import baselines
from baselines.base import RestoreConfig

STANDIN = """
import argparse, json, os, sys
from PIL import Image
p = argparse.ArgumentParser()
p.add_argument("--input"); p.add_argument("--output"); p.add_argument("--ckpt")
a = p.parse_args()
json.dump({{"argv": sys.argv, "executable": sys.executable}}, open(os.environ["STANDIN_RECORD"], "w"))
os.makedirs(a.output, exist_ok=True)
for f in sorted(os.listdir(a.input)):
    img = Image.open(os.path.join(a.input, f)).convert("RGB")
    Image.eval(img, lambda v: 255 - v).save(os.path.join(a.output, os.path.splitext(f)[0] + ".png"))
"""


@dataclass
class Sample:
    id: str
    input: Path
    target: Path | None
    degradation: tuple
    modality: str
    dataset: str


def test_{key}_runs_upstream_and_maps_outputs_back(tmp_path):
    repo = tmp_path / "upstream"
    repo.mkdir()
    (repo / "inference.py").write_text(STANDIN)
    ckpt = tmp_path / "weights.pth"
    ckpt.write_bytes(b"w")
    samples = []
    for i, sid in enumerate(("a/1", "b")):
        path = tmp_path / "data" / f"{{i}}.png"
        path.parent.mkdir(exist_ok=True)
        Image.fromarray(np.full((8, 12, 3), 40 * (i + 1), np.uint8)).save(path)
        samples.append(Sample(sid, path, None, ("rain",), "image", "toy"))
    settings = {{"repo": str(repo), "python": sys.executable, "checkpoint": str(ckpt),
                 "env": {{"STANDIN_RECORD": str(tmp_path / "record.json")}}}}
    out = tmp_path / "out"
    report = baselines.get("{key}").restore(samples, out, RestoreConfig(settings=settings, keep_work=True,
                                                                         progress=False))
    record = json.loads((tmp_path / "record.json").read_text())
    work = report.work_dir
    assert record["argv"] == ["inference.py", "--input", str(work / "inputs"), "--output", str(work / "outputs"),
                              "--ckpt", str(ckpt)]
    assert record["executable"] == sys.executable
    for i, s in enumerate(samples):
        assert np.asarray(Image.open(out / f"{{s.id}}.png"))[0, 0, 0] == 255 - 40 * (i + 1)


def test_{key}_missing_setup_names_the_fix():
    problems = baselines.get("{key}").problems({{}})
    assert problems and all(p.fix for p in problems)
'''


def class_name(key: str) -> str:
    return "".join(part.capitalize() for part in key.split("_")) or "Method"


def scaffold(key: str, methods_dir: Path, tests_dir: Path) -> tuple[Path, Path]:
    """Write ``<methods_dir>/<key>.py`` and ``<tests_dir>/test_baselines_method_<key>.py``; refuse to overwrite."""
    if not key.isidentifier() or keyword.iskeyword(key) or key != key.lower() or key.startswith("_"):
        raise UsageError(f"method key {key!r} must be a lower-case Python identifier (e.g. 'mymethod')")
    method_file = methods_dir / f"{key}.py"
    test_file = tests_dir / f"test_baselines_method_{key}.py"
    for path in (method_file, test_file):
        if path.exists():
            raise UsageError(f"{path} already exists; choose another key or remove the file")
    tests_dir.mkdir(parents=True, exist_ok=True)
    method_file.write_text(METHOD_TEMPLATE.format(key=key, display=key, cls=class_name(key)), encoding="utf-8")
    test_file.write_text(TEST_TEMPLATE.format(key=key), encoding="utf-8")
    return method_file, test_file
