"""The import graph of basketgym.rankers, read from the source with ast, has no cycle; the table sits on top."""

from __future__ import annotations

import ast
from pathlib import Path

import basketgym.rankers as rankers

PKG = "basketgym.rankers"
ROOT = Path(rankers.__file__).parent


def _modules() -> dict[str, Path]:
    """Dotted name -> source file of every module of the package."""
    out = {}
    for path in sorted(ROOT.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        out[".".join([PKG, *parts[:-1]] if parts[-1] == "__init__" else [PKG, *parts])] = path
    return out


MODULES = _modules()


def _imports(node: ast.stmt) -> list[str]:
    """Modules of the package an import statement loads (``from pkg import mod`` loads ``pkg.mod``)."""
    if isinstance(node, ast.Import):
        names = [a.name for a in node.names]
    elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
        names = [f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in MODULES else node.module for a in node.names]
    else:
        return []
    return [n for n in names if n in MODULES]


def _statements(tree: ast.Module, deferred: bool) -> list[ast.stmt]:
    """Statements run on import (the module body, through if/try/with/class blocks); with ``deferred``, all."""
    if deferred:
        return [n for n in ast.walk(tree) if isinstance(n, ast.stmt)]
    out, todo = [], list(tree.body)
    while todo:
        node = todo.pop()
        out.append(node)
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            todo += [c for c in ast.iter_child_nodes(node) if isinstance(c, ast.stmt)]
    return out


def import_graph(deferred: bool = False) -> dict[str, set[str]]:
    """Module -> the package modules it imports: when it is imported, or (``deferred``) ever, functions included."""
    graph = {}
    for name, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        graph[name] = {m for node in _statements(tree, deferred) for m in _imports(node)} - {name}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str]:
    """One import cycle (its modules, the first repeated at the end), or [] when the graph is acyclic."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str]:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        state[node] = 2
        path.pop()
        return []

    for start in sorted(graph):
        if start not in state and (cycle := visit(start)):
            return cycle
    return []


def _short(cycle: list[str]) -> str:
    return " -> ".join(m.removeprefix(f"{PKG}.") for m in cycle)


def test_the_walker_sees_the_package_and_its_imports():
    graph, full = import_graph(), import_graph(deferred=True)
    assert len(MODULES) >= 25 and f"{PKG}.learned.value" in MODULES and PKG in MODULES
    assert {f"{PKG}.base", f"{PKG}.own_first", f"{PKG}.ads", f"{PKG}.shelf"} <= graph[f"{PKG}.baselines"]
    assert graph[PKG] == set()  # the package loads its registry on first use (PEP 562): no edge at import time
    assert f"{PKG}.registry" in full[PKG]
    # the heavy rankers are imported by the table's loaders only when used: deferred edges
    assert f"{PKG}.learned.value" not in graph[f"{PKG}.registry"]
    assert f"{PKG}.learned.value" in full[f"{PKG}.registry"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == ["a", "b", "c", "a"]


def test_the_module_level_import_graph_is_acyclic():
    cycle = find_cycle(import_graph())
    assert not cycle, f"import cycle: {_short(cycle)}"


def test_no_deferred_import_hides_a_cycle():
    """Imports inside functions are for laziness (torch, LightGBM), never to dodge a cycle."""
    cycle = find_cycle(import_graph(deferred=True))
    assert not cycle, f"import cycle through a deferred import: {_short(cycle)}"


def test_only_the_package_imports_the_table():
    """The table imports the rankers; no ranker imports the table (what kept registry <-> rankers cycles out)."""
    full = import_graph(deferred=True)
    assert sorted(m for m, deps in full.items() if f"{PKG}.registry" in deps) == [PKG]
