"""The layers (DESIGN.md): ``ypt`` <- ``benchmarks`` data, metrics, tables <- ``baselines`` <- orchestration
(planner, executors, CLIs) <- ``slurm``. Every import statement of every module is read, those inside functions
included: imports only go down, ``ypt`` imports nothing of the others, and no two files import each other, directly
or through others."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("ypt", "benchmarks", "baselines", "slurm")
#: the orchestration layer inside ``benchmarks``: the runner and the commands that plan and run work
ORCHESTRATION = ("benchmarks.runner", "benchmarks.run", "benchmarks.ablate", "benchmarks.prefetch", "benchmarks.parity",
                 "benchmarks.perf.__main__", "benchmarks.perf.unit", "benchmarks.perf.options", "benchmarks.perf.measure")
LAYER_NAMES = ("ypt (method)", "benchmarks (data, metrics, tables)", "baselines (methods)",
               "orchestration (planner, executors, CLIs)", "slurm (backend)")


def modules(root: Path = ROOT) -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            name = ".".join(path.relative_to(root).with_suffix("").parts)
            found[name.removesuffix(".__init__")] = path
    return found


def imports(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The project modules ``name`` imports, anywhere in the file (``from a.b import c`` names ``a.b.c`` when that
    is a module, else ``a.b``)."""
    out: set[str] = set()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parts = parts[: len(parts) - node.level + 1]
                base = ".".join(parts + ([node.module] if node.module else []))
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]
        else:
            continue
        for target in targets:
            parts = target.split(".")
            while parts and ".".join(parts) not in known:
                parts.pop()
            if parts and ".".join(parts) != name:
                out.add(".".join(parts))
    return out


def layer(name: str) -> int:
    top = name.split(".")[0]
    if top == "ypt":
        return 0
    if top == "baselines":
        return 2
    if top == "slurm":
        return 4
    return 3 if any(name == o or name.startswith(o + ".") for o in ORCHESTRATION) else 1


def graph(root: Path = ROOT) -> dict[str, set[str]]:
    known = modules(root)
    return {name: imports(name, path, known) for name, path in known.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one file (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in edges:
        if v not in index:
            visit(v)
    return found


def upward(edges: dict[str, set[str]]) -> list[str]:
    return sorted(f"{a} ({LAYER_NAMES[layer(a)]}) imports {b} ({LAYER_NAMES[layer(b)]})"
                  for a, targets in edges.items() for b in targets if layer(b) > layer(a))


def test_imports_only_go_down():
    assert upward(graph()) == []


def test_ypt_imports_nothing_of_the_suite():
    edges = graph()
    assert sorted(f"{a} -> {b}" for a, t in edges.items() if layer(a) == 0 for b in t if layer(b) != 0) == []


def test_no_import_cycles_between_files():
    assert cycles(graph()) == []


@pytest.mark.parametrize("source, expect", [
    # the checks themselves must fail on what they guard against
    ({"ypt/a.py": "from benchmarks import b\n", "benchmarks/b.py": ""}, "upward"),
    ({"ypt/a.py": "def f():\n    from ypt import c\n", "ypt/c.py": "import ypt.a\n"}, "cycle"),
    ({"benchmarks/x.py": "from baselines.m import y\n", "baselines/m.py": ""}, "upward"),
    ({"benchmarks/runner/p.py": "import baselines.m\n", "baselines/m.py": "", "benchmarks/runner/__init__.py": ""},
     None),
])
def test_the_checks_catch_what_they_guard(tmp_path, source, expect):
    for package in PACKAGES:
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text("")
    for rel, text in source.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    edges = graph(tmp_path)
    assert bool(upward(edges)) == (expect == "upward")
    assert bool(cycles(edges)) == (expect == "cycle")
