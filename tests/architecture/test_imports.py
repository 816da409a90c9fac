"""The import rules, read from the source (every import statement, at module level or inside a
function): server/ never imports realtime/ or tasks/, and no modules of server/, realtime/ or tasks/
import each other in a cycle."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("server", "realtime", "tasks")


def _modules() -> dict[str, Path]:
    out = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            out[".".join(parts)] = path
    return out


MODULES = _modules()


def _owner(name: str) -> str | None:
    """The module of ours that `name` (a module, or a name inside one) resolves to."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def imports_of(module: str) -> dict[str, int]:
    """Every module of ours that `module` imports, with the line of the first such import."""
    found: dict[str, int] = {}
    for node in ast.walk(ast.parse(MODULES[module].read_text(encoding="utf-8"))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # `from a import b` imports the module a.b when there is one, else the module a
            names = [f"{node.module}.{alias.name}" for alias in node.names]
        for name in names:
            target = _owner(name)
            if target and target != module:
                found.setdefault(target, node.lineno)
    return found


GRAPH = {module: imports_of(module) for module in MODULES}


def cycles(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
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


def test_the_graph_sees_imports():
    """The checks below are only as good as the graph: it must see known edges, including an import
    inside a function."""
    assert "server.events" in GRAPH["tasks.sinks"]
    assert "realtime.emit" in GRAPH["realtime.base"]
    assert cycles({"a": {"b": 1}, "b": {"c": 1}, "c": {"a": 1}, "d": {"a": 1}}) == [["a", "b", "c"]]


def test_server_never_imports_realtime_or_tasks():
    offending = [
        f"{MODULES[module].relative_to(ROOT)}:{line} imports {target}"
        for module, targets in GRAPH.items()
        if module.split(".")[0] == "server"
        for target, line in targets.items()
        if target.split(".")[0] in ("realtime", "tasks")
    ]
    assert offending == []


@pytest.mark.parametrize("package", PACKAGES)
def test_no_import_cycle(package):
    graph = {
        module: {t: line for t, line in targets.items() if t.split(".")[0] == package}
        for module, targets in GRAPH.items()
        if module.split(".")[0] == package
    }
    found = cycles(graph)
    detail = [
        " -> ".join(f"{m} ({', '.join(f'{t}:{graph[m][t]}' for t in c if t in graph[m])})" for m in c)
        for c in found
    ]
    assert found == [], detail
