"""The package's shape: an acyclic import graph, imports that point down the layers, small modules and functions."""

import ast
import importlib
from pathlib import Path

import pytest

LAYERS = ("contract", "agents", "sim", "rankers", "scenarios", "envs", "eval", "cli")
# what each part of basketgym may import from basketgym at module level (besides itself)
ALLOWED = {
    "contract": set(),
    "agents": set(),
    "scenarios": {"contract"},
    "sim": {"contract", "agents"},
    "rankers": {"contract"},
    "plugins": {"contract"},
    "envs": {"contract", "agents", "sim", "rankers"},
    "eval": {"contract", "agents", "sim", "rankers", "plugins", "scenarios", ""},  # "": the root, for __version__
    "cli": {"contract", "agents", "sim", "rankers", "plugins", "scenarios", "envs", "eval", "pytest_plugin", ""},
    "pytest_plugin": {"eval"},
    "__main__": {"cli"},
    "": {"envs"},  # basketgym/__init__.py registers the Gymnasium envs
}
MAX_MODULE_LINES = 520  # "about 500"
MAX_FUNCTION_LINES = 80  # unless a "# long: <why>" comment stands on or just above the def


def _modules() -> dict[str, Path]:
    """Every module of the installed package, by dotted name (layers live in their own top-level folders)."""
    out = {}
    roots = {"basketgym": Path(importlib.import_module("basketgym").__file__).parent}
    for layer in ("contract", "agents", "sim", "rankers", "scenarios", "eval"):
        roots[f"basketgym.{layer}"] = Path(importlib.import_module(f"basketgym.{layer}").__path__[0])
    for pkg, root in roots.items():
        for p in root.rglob("*.py"):
            parts = [x for x in p.relative_to(root).with_suffix("").parts if x != "__init__"]
            name = ".".join([pkg, *parts])
            out.setdefault(name, p)
    return out


MODULES = _modules()


def _top_level_imports(path: Path) -> set[str]:
    """Modules imported when ``path`` is imported (not inside functions, not under TYPE_CHECKING)."""
    out = set()
    body = ast.parse(path.read_text(), str(path)).body
    for node in body:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            continue
        for n in [node, *(node.body if isinstance(node, ast.Try) else [])]:
            if isinstance(n, ast.Import):
                out.update(a.name for a in n.names)
            elif isinstance(n, ast.ImportFrom) and n.module and n.level == 0:
                out.add(n.module)
                out.update(f"{n.module}.{a.name}" for a in n.names if f"{n.module}.{a.name}" in MODULES)
    return {m for m in out if m in MODULES}


def _with_parents(name: str) -> set[str]:
    """Importing ``basketgym.a.b`` runs ``basketgym/a/__init__`` first: it is a dependency too.

    The root ``basketgym/__init__`` (which every module lives under) counts only when imported by name.
    """
    parts = name.split(".")
    return {".".join(parts[:i]) for i in range(2, len(parts) + 1)} & set(MODULES) | ({name} & {"basketgym"})


GRAPH = {m: set().union(*(_with_parents(d) for d in _top_level_imports(p))) - {m} for m, p in MODULES.items()}


def _part(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def test_the_import_graph_of_the_package_is_acyclic():
    """Depth-first search; a back edge is a cycle (package __init__ files count: they run on import)."""
    state: dict[str, int] = {}
    cycles = []

    def visit(m: str, stack: list[str]) -> None:
        state[m] = 1
        for d in sorted(GRAPH[m]):
            if d.startswith(m + "."):  # a package importing its own submodule is not a cycle through it
                continue
            if state.get(d) == 1:
                cycles.append(stack[stack.index(d) :] + [d] if d in stack else [m, d])
            elif d not in state:
                visit(d, [*stack, d])
        state[m] = 2

    for m in sorted(GRAPH):
        if m not in state:
            visit(m, [m])
    assert not cycles, f"import cycles: {cycles[:3]}"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_point_down_the_layers(module):
    part = _part(module)
    used = {_part(d) for d in GRAPH[module]} - {part}
    assert used <= ALLOWED[part], f"{module} imports {sorted(used - ALLOWED[part])} (allowed: {sorted(ALLOWED[part])})"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_modules_and_functions_are_small(module):
    path = MODULES[module]
    lines = path.read_text().splitlines()
    assert len(lines) <= MAX_MODULE_LINES, f"{path}: {len(lines)} lines"
    for node in ast.walk(ast.parse("\n".join(lines))):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            length = node.end_lineno - node.lineno + 1
            first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            reason = any("# long:" in lines[i] for i in range(max(0, first - 3), node.lineno))
            assert length <= MAX_FUNCTION_LINES or reason, f"{path}:{node.lineno} {node.name}: {length} lines"


def test_every_part_is_in_the_table():
    assert {_part(m) for m in MODULES} <= set(ALLOWED)
