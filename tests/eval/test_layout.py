"""eval/'s subpackages keep their rules: each imports only the ones below it; stats imports no world at all."""

import ast
from pathlib import Path

import pytest

import basketgym.eval as eval_package

EVAL = Path(eval_package.__file__).parent
# what each part of eval/ may import from eval/ (besides itself)
ALLOWED = {
    "stats": set(),
    "outcomes": {"stats"},
    "orchestration": {"stats", "outcomes"},
    "offpolicy": {"stats", "outcomes", "orchestration"},
    "uplift": {"stats", "outcomes", "orchestration"},
    "reporting": {"stats", "outcomes", "orchestration", "offpolicy", "uplift"},
    "leaderboard": {"stats", "outcomes", "orchestration"},
    "regression": {"stats", "outcomes", "orchestration"},
    "ranker_wall": set(),
}
WORLD = ("basketgym.sim", "basketgym.agents", "basketgym.envs", "basketgym.scenarios")


def _imports(path: Path) -> set[str]:
    out = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
            out.update(f"{node.module}.{a.name}" for a in node.names)  # from basketgym.eval import stats
    return out


def _modules() -> list[tuple[str, Path]]:
    return [(p.relative_to(EVAL).parts[0].removesuffix(".py"), p) for p in sorted(EVAL.rglob("*.py"))
            if p.parent != EVAL or p.name != "__init__.py"]  # fmt: skip


def test_every_part_of_eval_is_in_the_table():
    assert {part for part, _ in _modules()} == set(ALLOWED)


@pytest.mark.parametrize(("part", "path"), _modules(), ids=[str(p.relative_to(EVAL)) for _, p in _modules()])
def test_imports_follow_the_layers(part, path):
    used = {m.split(".")[2] for m in _imports(path) if m.startswith("basketgym.eval.")}
    assert used - {part} <= ALLOWED[part], f"{path.relative_to(EVAL)} imports {sorted(used - {part} - ALLOWED[part])}"


def test_statistics_hold_no_world():
    for path in (EVAL / "stats").glob("*.py"):
        world = sorted(m for m in _imports(path) if m.startswith(WORLD))
        assert not world, f"{path.name} imports {world}"
