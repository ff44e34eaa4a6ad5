"""Envs read the world only through named accessors: an AST scan of basketgym/envs (the engine side excepted)."""

import ast
from pathlib import Path

import basketgym.envs
from basketgym.envs.engine import ShopperLives
from basketgym.sim.world import World

ENVS = Path(basketgym.envs.__file__).parent
ENGINE_SIDE = {"engine.py", "features.py", "actions.py"}  # the engine owns its world rows and builds observations
INTERNALS = {"state", "catalog", "public", "market", "timeline", "ctx", "sessions", "history", "shop"}


def _handle(node: ast.expr) -> str | None:
    """'lives' for ``lives`` / ``self.lives``, 'world' for ``self.world``, else None."""
    if isinstance(node, ast.Name) and node.id == "lives":
        return "lives"
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "self":
        return node.attr if node.attr in ("lives", "world") else None
    return None


def scan(source: str, name: str = "<env>") -> list[str]:
    """Every place where env code reaches past the accessors, as 'name:line: what'."""
    out = []
    allowed = {"lives": ShopperLives.ENV_READS, "world": World.ENV_READS}
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute):
            where = f"{name}:{node.lineno}"
            base = node.value
            rng_state = isinstance(base, ast.Attribute) and base.attr == "bit_generator"  # pickling the env's RNG
            if node.attr in INTERNALS and not rng_state:
                out.append(f"{where}: .{node.attr}")
            elif node.attr == "world" and not (isinstance(base, ast.Name) and base.id == "self"):
                out.append(f"{where}: .world of another object")
            elif node.attr.startswith("_") and not node.attr.startswith("__"):
                if not (isinstance(base, ast.Name) and base.id in ("self", "cls")):
                    out.append(f"{where}: private .{node.attr}")
            handle = _handle(base)
            if handle and node.attr not in allowed[handle]:
                out.append(f"{where}: {handle}.{node.attr} is not an accessor")
        if isinstance(node, ast.Assign | ast.AugAssign):
            for target in node.targets if isinstance(node, ast.Assign) else [node.target]:
                while isinstance(target, ast.Subscript | ast.Attribute):
                    if _handle(target.value if isinstance(target, ast.Attribute) else target):
                        out.append(f"{name}:{node.lineno}: writes the engine or world")
                        break
                    target = target.value
    return out


def test_env_modules_read_only_named_accessors():
    modules = sorted(p for p in ENVS.glob("*.py") if p.name not in ENGINE_SIDE)
    assert {p.name for p in modules} >= {"shopper.py", "shopper_vector.py", "marketplace.py", "rewards.py"}
    problems = [line for p in modules for line in scan(p.read_text(), p.name)]
    assert problems == []


def test_the_scan_flags_every_way_past_the_accessors():
    bad = """
st = self.lives.world.state
n = lives.world.public.n_products
x = self.world.state.churn_day
y = env._np_random
z = self.lives._home_cands
w = lives.search_slates
lives.status[0] = 2
self.lives.day += 1
ok = self.lives.truth()["churned"], lives.candidate_features(), self.world.active_shoppers(), self._over
"""
    found = scan(bad)
    lines = sorted({int(f.split(":")[1]) for f in found})
    assert lines == [2, 3, 4, 5, 6, 7, 8, 9]
    assert "<env>:8: writes the engine or world" in found and "<env>:7: lives.search_slates is not an accessor" in found
