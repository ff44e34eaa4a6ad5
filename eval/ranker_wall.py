"""A source scanner for the wall between rankers and the world: allow-listed imports, no introspection.

``scan(path)`` parses every ``.py`` file under ``path`` (a directory, recursively, or one file) and
returns the ``Violation``s, each with file, line and reason. The rules, for code that must see only
what the protocol hands it (``rankers/``):

- imports come from an allow-list (harmless stdlib, the numeric stack, the contract
  (``basketgym.contract``),
  ``basketgym.rankers`` itself), whatever the spelling: ``import m``, ``from m import x``, relative imports,
  inside functions or not; nothing of ``basketgym.sim``, ``agents``, ``eval``, the envs or the CLI;
- no dynamic code or imports: ``eval``, ``exec``, ``compile``, ``__import__``, ``globals``, ``locals``,
  ``vars``, ``breakpoint``, and ``getattr`` / ``setattr`` / ``delattr`` / ``hasattr`` only with a
  constant, non-dunder name;
- no introspection or frame walking: dunder attributes outside a short list of class plumbing
  (``__dict__`` only on ``self`` / ``cls``), frame and traceback attributes (``f_back``, ``f_locals``,
  ``_getframe``, ...), ``os.sys``, ``.modules``; ``sys`` only as ``sys.stderr`` / ``sys.stdout``;
- no way around read-only arrays: ``.flags`` / ``setflags``, ``.base`` (except ``self.base``),
  ``.ctypes``, ``as_strided``;
- no ``counterfactuals`` / ``observer`` / ``shadow`` names (the world's truth channel, which it never
  hands a ranker);
- random draws only from the ranker purposes (``basketgym.contract.rng.RANKER_PURPOSES``), named as ``Purpose.X``,
  and no ``ranker_seed`` (recomputing a seed from a world seed).

A static scan is not a sandbox: it is what makes a bypass visible in review and fail the tests.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

from basketgym.contract.rng import RANKER_PURPOSES

STDLIB = {
    "__future__", "abc", "bisect", "collections", "contextlib", "copy", "dataclasses", "difflib", "enum",
    "functools", "hashlib", "heapq", "itertools", "json", "math", "numbers", "os", "pathlib", "re", "shutil",
    "statistics", "string", "tempfile", "textwrap", "time", "typing", "warnings",
    "zipfile",  # model files: sha256 of weights, npz read without pickle
}  # fmt: skip
THIRD_PARTY = {"numpy", "scipy", "pandas", "torch", "lightgbm", "threadpoolctl"}
# the contract (basketgym.contract: protocol, public catalog, errors, log schema, RNG, slots, files, threads) is
# what a ranker legitimately needs; None: any name of the module
CONTRACT: dict[str, set[str] | None] = {
    f"basketgym.contract.{m}": None
    for m in ("protocol", "catalog", "rng", "errors", "logs", "files", "slots", "threads")
}
FROM_ONLY = {"inspect": {"signature"}, "sys": {"stderr", "stdout"}}  # modules allowed only for these names
# ``import sys`` is allowed for progress lines: the bound name may only be read as ``sys.stderr`` / ``sys.stdout``
ATTRS_ONLY = {"sys": {"stderr", "stdout"}}
FORBIDDEN_CALLS = {"eval", "exec", "compile", "__import__", "globals", "locals", "vars", "breakpoint"}
ATTR_CALLS = {"getattr", "setattr", "delattr", "hasattr"}
CLASS_DUNDERS = {"__init__", "__init_subclass__", "__name__", "__qualname__", "__module__", "__mro__", "__dict__"}
FRAME_ATTRS = {
    "_getframe", "f_back", "f_locals", "f_globals", "f_builtins", "f_code", "gi_frame", "cr_frame", "ag_frame",
    "tb_frame", "tb_next", "currentframe", "sys", "modules", "import_module", "get_objects", "get_referrers",
    "get_referents",
}  # fmt: skip
# the world's truth channel: a ranker naming it is looking for the truth (which the world never hands it)
OBSERVER_NAMES = {"counterfactuals", "observer", "shadow"}
ARRAY_ESCAPES = {"flags", "setflags", "ctypes", "as_strided"}
DRAWS = {"uniform", "uniform_keyed", "normal", "words"}  # contract.rng functions taking (seed, purpose, ...)


@dataclass(frozen=True)
class Violation:
    """One rule broken at one line."""

    path: str
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.reason}"


PKG = "basketgym"
WORLD_ROOTS = {"sim", "agents", "rankers", "eval", "scenarios"}  # the package's layers (bare spellings refused)


def _module_allowed(module: str) -> bool:
    top = module.split(".")[0]
    if top in WORLD_ROOTS:  # a bare ``sim`` / ``agents``: never the installed package's name
        return False
    own = module == f"{PKG}.rankers" or module.startswith(f"{PKG}.rankers.")
    return top in STDLIB or top in THIRD_PARTY or own or module in CONTRACT


def _import_violations(node: ast.Import | ast.ImportFrom) -> list[str]:
    if isinstance(node, ast.Import):
        out = []
        for alias in node.names:
            if alias.name in ATTRS_ONLY:
                continue
            if alias.name in FROM_ONLY:
                out.append(f"import {alias.name}: only 'from {alias.name} import {', '.join(FROM_ONLY[alias.name])}'")
            elif alias.name in (f"{PKG}.sim", f"{PKG}.contract") or not _module_allowed(alias.name):
                out.append(f"import {alias.name}: not on the ranker import allow-list")
        return out
    if node.level:
        return [f"relative import (level {node.level}): spell the module out ({PKG}.rankers.…)"]
    module = node.module or ""
    names = {a.name for a in node.names}
    if module in FROM_ONLY:
        bad = names - FROM_ONLY[module]
        return [f"from {module} import {', '.join(sorted(bad))}: only {sorted(FROM_ONLY[module])}"] if bad else []
    if module in (PKG, f"{PKG}.contract", f"{PKG}.sim"):  # ``from basketgym.contract import rng``: names are modules
        bad = [n for n in sorted(names) if not _module_allowed(f"{module}.{n}")]
        return [f"from {module} import {n}: {module}.{n} is not on the allow-list" for n in bad]
    if not _module_allowed(module):
        return [f"from {module} import ...: {module} is not on the ranker import allow-list"]
    allowed = CONTRACT.get(module)
    if allowed is not None and not names <= allowed:
        return [f"from {module} import {', '.join(sorted(names - allowed))}: only {sorted(allowed)} are public"]
    if "ranker_seed" in names or "*" in names:
        return [f"from {module} import {'*' if '*' in names else 'ranker_seed'}: not for rankers"]
    return []


def _is_purpose(node: ast.expr) -> str | None:
    """The member name of ``Purpose.X`` / ``rng.Purpose.X``, else None."""
    if isinstance(node, ast.Attribute):
        v = node.value
        if (isinstance(v, ast.Name) and v.id == "Purpose") or (isinstance(v, ast.Attribute) and v.attr == "Purpose"):
            return node.attr
    return None


class _Checker(ast.NodeVisitor):
    def __init__(self) -> None:
        self.found: list[tuple[int, str]] = []
        self.call_funcs: set[int] = set()
        self.restricted: dict[str, set[str]] = {}  # names bound to ATTRS_ONLY modules -> readable attributes
        self.parent: dict[int, ast.AST] = {}

    def flag(self, node: ast.AST, reason: str) -> None:
        self.found.append((getattr(node, "lineno", 0), reason))

    def visit_Import(self, node: ast.Import) -> None:
        for r in _import_violations(node):
            self.flag(node, r)
        for alias in node.names:
            if alias.name in ATTRS_ONLY:
                self.restricted[alias.asname or alias.name] = ATTRS_ONLY[alias.name]

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        for r in _import_violations(node):
            self.flag(node, r)

    def visit_Call(self, node: ast.Call) -> None:
        f = node.func
        self.call_funcs.add(id(f))
        if isinstance(f, ast.Name):
            if f.id in FORBIDDEN_CALLS:
                self.flag(node, f"{f.id}(): dynamic code or namespace access")
            elif f.id in ATTR_CALLS:
                name = node.args[1] if len(node.args) > 1 else None
                if not (isinstance(name, ast.Constant) and isinstance(name.value, str)):
                    self.flag(node, f"{f.id}() with a computed attribute name")
                elif name.value.startswith("__") or name.value in FRAME_ATTRS | ARRAY_ESCAPES:
                    self.flag(node, f"{f.id}(..., {name.value!r}): introspection by name")
        fname = f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else None
        if fname in DRAWS and len(node.args) > 1:
            member = _is_purpose(node.args[1])
            if member is None:
                self.flag(node, f"{fname}(): the purpose must be spelled Purpose.<name>")
        if fname == "Purpose":
            self.flag(node, "Purpose(...): name the purpose (Purpose.<name>)")
        self.generic_visit(node)

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        if node.name in OBSERVER_NAMES:
            self.flag(node, f"def {node.name}: the world's truth observer is not a ranker's")
        self.generic_visit(node)

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Name(self, node: ast.Name) -> None:
        if node.id in OBSERVER_NAMES and isinstance(node.ctx, ast.Store):
            self.flag(node, f"{node.id} = ...: the world's truth observer is not a ranker's")
        allowed = self.restricted.get(node.id)
        if allowed is not None:
            up = self.parent.get(id(node))
            if not (isinstance(up, ast.Attribute) and up.attr in allowed):
                self.flag(node, f"{node.id}: only {', '.join(f'{node.id}.{a}' for a in sorted(allowed))}")
        if node.id in FORBIDDEN_CALLS | ATTR_CALLS and id(node) not in self.call_funcs:
            self.flag(node, f"{node.id} used as a value (an alias hides what it is called with)")
        if node.id in ("__builtins__", "ranker_seed"):
            self.flag(node, f"{node.id}: not for rankers")

    def visit_Attribute(self, node: ast.Attribute) -> None:
        a, v = node.attr, node.value
        owner = v.id if isinstance(v, ast.Name) else None
        if a.startswith("__") and a.endswith("__"):
            if a not in CLASS_DUNDERS:
                self.flag(node, f".{a}: dunder attribute walking")
            elif a == "__dict__" and owner not in ("self", "cls"):
                self.flag(node, ".__dict__ of a foreign object")
        elif a in FRAME_ATTRS:
            self.flag(node, f".{a}: frame or interpreter walking")
        elif a in ARRAY_ESCAPES:
            self.flag(node, f".{a}: a way around read-only arrays")
        elif a == "base" and owner != "self":
            self.flag(node, ".base: reaches the writeable array behind a read-only view")
        elif a == "ranker_seed":
            self.flag(node, "ranker_seed: recomputes a ranker seed from a world seed")
        elif a in OBSERVER_NAMES:
            self.flag(node, f".{a}: the world's truth observer is not a ranker's")
        member = _is_purpose(node)
        if member is not None and member not in {p.name for p in RANKER_PURPOSES}:
            self.flag(node, f"Purpose.{member}: not a ranker purpose (contract.rng.RANKER_PURPOSES)")
        self.generic_visit(node)


def scan_source(source: str, path: str = "<source>") -> list[Violation]:
    """The violations in one module's source."""
    try:
        tree = ast.parse(source, filename=path)
    except SyntaxError as e:
        return [Violation(path, e.lineno or 0, f"does not parse: {e.msg}")]
    checker = _Checker()
    # calls first, so a function name in call position is known when its Name node is visited
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            checker.call_funcs.add(id(node.func))
        for child in ast.iter_child_nodes(node):
            checker.parent[id(child)] = node
    checker.visit(tree)
    return sorted({Violation(path, line, reason) for line, reason in checker.found}, key=lambda v: (v.line, v.reason))


def python_files(path: Path | str) -> list[Path]:
    """``path`` itself if it is a file, else every ``.py`` file under it, recursively, sorted."""
    p = Path(path)
    return [p] if p.is_file() else sorted(p.rglob("*.py"))


def scan(path: Path | str) -> list[Violation]:
    """The violations in every ``.py`` file under ``path`` (or in ``path`` itself)."""
    out: list[Violation] = []
    for f in python_files(path):
        out += scan_source(f.read_text(encoding="utf-8"), str(f))
    return out
