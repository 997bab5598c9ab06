"""Declared dependencies are used: every requirement in pyproject.toml (core and extras) is imported somewhere in the
suite, or its line carries a comment saying who needs it ("not imported here: ..."), and such a comment stays true
(the package is then really never imported). Read from the files, every import statement, those inside functions
included."""
from __future__ import annotations

import ast
import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CODE = ("ypt", "benchmarks", "baselines", "slurm", "tests")
#: distributions whose import name differs from their name
IMPORT_NAMES = {"pillow": "PIL", "pyyaml": "yaml", "scikit-image": "skimage", "opencv-python-headless": "cv2",
                "scikit-video": "skvideo", "jinja2": "jinja2", "gradio-client": "gradio_client"}


def _name(requirement: str) -> str:
    return re.split(r"[\s<>=!~;\[]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def imported_top_levels() -> set[str]:
    found: set[str] = set()
    for package in CODE:
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if isinstance(node, ast.Import):
                    found |= {a.name.split(".")[0] for a in node.names}
                elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                    found.add(node.module.split(".")[0])
    return found


def declared() -> dict[str, str]:
    """``{distribution: the pyproject line declaring it}`` for the core dependencies and every extra."""
    text = (ROOT / "pyproject.toml").read_text()
    project = tomllib.loads(text)["project"]
    requirements = list(project["dependencies"])
    for extra in project.get("optional-dependencies", {}).values():
        requirements += extra
    lines = text.splitlines()
    out = {}
    for requirement in requirements:
        line = next(x for x in lines if f'"{requirement}"' in x)
        out[_name(requirement)] = line
    return out


def test_every_declared_dependency_is_imported_or_says_who_needs_it():
    used = imported_top_levels()
    problems = []
    for dist, line in declared().items():
        module = IMPORT_NAMES.get(dist, dist.replace("-", "_"))
        comment = line.partition("#")[2].strip()
        if module in used and comment.startswith("not imported here"):
            problems.append(f"{dist}: imported now, but its comment says it is not: {line.strip()}")
        elif module not in used and not comment:
            problems.append(f"{dist}: declared, never imported, and no comment says who needs it")
    assert not problems, "\n".join(problems)


def test_the_check_sees_imports_inside_functions_and_reads_comments():
    used = imported_top_levels()
    assert {"torch", "av", "yaml", "PIL", "skimage", "submitit", "matplotlib"} <= used
    assert "datasets" in used and "datasets" in declared()  # HF datasets: the latent cache (ypt.latent_cache)
    lines = declared()
    assert lines["tabulate"].partition("#")[2].strip().startswith("not imported here: pandas' DataFrame.to_markdown")
