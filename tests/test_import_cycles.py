"""No import cycle among provenance's modules: a stage or helper that needs another's code imports
it, never the other way round too (the old `analysis` <-> `cache` pair is the example).

The graph is read from the source with `ast`: top-level, function-local and TYPE_CHECKING
imports alike, since a function-local import that closes a cycle is the same knot, only hidden.
`from package import name` is an edge to the submodule when `name` is one, else to the package.
A submodule's implicit import of its parent package is not an edge (every package has it).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "provenance"


KNOWN: list[list[str]] = []  # a cycle found and not yet broken would be listed here


def module_name(path: Path, top: Path) -> str:
    parts = path.relative_to(top).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph(root: Path = PACKAGE, top: Path = PACKAGE.parent) -> dict[str, set[str]]:
    """Module -> the modules of `root` it imports; names are relative to `top`."""
    files = {module_name(p, top): p for p in sorted(root.rglob("*.py"))}
    graph: dict[str, set[str]] = {name: set() for name in files}
    for name, path in files.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:  # relative: climb from this module's package
                    up = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*up, *([base] if base else [])])
                for alias in node.names:
                    sub = f"{base}.{alias.name}"
                    targets.append(sub if sub in files else base)
            for target in targets:
                # `import a.b.c` names a module; keep the longest prefix that is one of ours
                while target and target not in files:
                    target = target.rpartition(".")[0]
                if target and target != name:
                    graph[name].add(target)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, edges = work[-1]
            for nxt in edges:
                if nxt not in index:
                    index[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(graph[nxt]))))
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
    return found


def test_no_import_cycle_among_provenance_modules() -> None:
    graph = import_graph()
    assert "provenance.pipeline.cache" in graph["provenance.pipeline.blobs"]  # the graph is read
    assert cycles(graph) == KNOWN


def test_the_wiring_does_not_import_the_report_stage() -> None:
    """The whole-scan cache keeps a native ScanResult, not a rendered report."""
    graph = import_graph()
    assert not {t for t in graph["provenance.pipeline"] if t.startswith("provenance.report")}


@pytest.mark.parametrize("source, expected", [
    ({"a.py": "import b\n", "b.py": "def f():\n    from a import x\n"}, [["a", "b"]]),
    ({"a.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import b\n",
      "b.py": "import c\n", "c.py": "from a import y\n"}, [["a", "b", "c"]]),
    ({"a.py": "import b\n", "b.py": "import c\n", "c.py": "x = 1\n"}, []),
])
def test_the_check_finds_a_cycle(tmp_path: Path, source: dict[str, str],
                                 expected: list[list[str]]) -> None:
    for name, text in source.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    assert cycles(import_graph(tmp_path, tmp_path)) == expected
