"""An adversarial ranker: tries every known way through the wall (tests/rankers/test_isolation.py).

Every line whose comment says ``static`` (then the bypass) must be flagged by ``eval.ranker_wall.scan``
on that line; lines whose comment says ``runtime`` run in a world and must get nothing or an error. The static ones sit
in ``statically_blocked``, which is never called: the scan is what stops them.
"""
# ruff: noqa
# fmt: off

from __future__ import annotations

import numpy as np

from basketgym.rankers import make_ranker
from basketgym.contract import rng
from basketgym.contract.catalog import PublicCatalog
from basketgym.contract.protocol import RankRequest, RankResponse
from basketgym.contract.rng import Purpose


def _write(a: np.ndarray, index: object, value: object) -> None:
    a[index] = value


class _Hook:
    """What the world used to look for on a ranker: an observer fed true click and purchase probabilities."""

    def __init__(self) -> None:
        self.calls = 0

    def pending(self) -> dict:
        self.calls += 1
        return {}

    def record(self, *args: object) -> None:
        self.calls += 1


class CheatingRanker:
    """Serves popularity's slates while trying to read and change what the world holds."""

    name = "cheater"

    def __init__(self) -> None:
        self.inner = make_ranker("popularity")
        self.hook = _Hook()
        self.counterfactuals = self.hook  # static: truth hook # runtime: truth hook
        self.attempts: dict[str, str] = {}  # bypass -> what happened (the exception's type name, or "done")
        self.seed_seen: int | None = None

    def _try(self, bypass: str, write) -> None:
        try:
            write()
            self.attempts[bypass] = "done"
        except Exception as e:
            self.attempts[bypass] = type(e).__name__

    def reset(self, catalog: PublicCatalog, seed: int) -> None:
        self.seed_seen = int(seed)  # runtime: world seed
        self._try("catalog.price", lambda: _write(catalog.price, 0, 0.01))  # runtime: write catalog
        self._try("catalog.available", lambda: catalog.available.fill(True))  # runtime: write catalog
        self._try("catalog.shelf", lambda: _write(catalog.shelf, (0, 0), -1))  # runtime: write catalog
        self.inner.reset(catalog, seed)

    def rank(self, request: RankRequest) -> RankResponse:
        self._try("request.candidates", lambda: _write(request.candidates, (0, 0), -1))  # runtime: write request
        self._try("request.shopper_ids", lambda: _write(request.shopper_ids, 0, 0))  # runtime: write request
        self._try("request.query", lambda: request.query.fill(0))  # runtime: write request
        return self.inner.rank(request)

    def update(self, day_log: dict) -> None:
        p = day_log["purchases"]
        self._try("log.purchases", lambda: p["price"].fill(0.0))  # runtime: write logs
        self._try("log.sessions", lambda: day_log["sessions"]["gtv"].fill(0.0))  # runtime: write logs
        self.inner.update(day_log)

    def fit(self, day: int) -> None:
        self.inner.fit(day)

    def utility_guess(self, ids: np.ndarray, day: int, items: np.ndarray) -> np.ndarray:
        """The world's utility shocks, recomputed from the seed the ranker was given."""
        return rng.uniform_keyed(self.seed_seen, Purpose.UTILITY, ids, day, items)  # static: world draws


def statically_blocked(catalog: PublicCatalog, name: str) -> None:
    """Never called: each line is a bypass the scan must flag."""
    import basketgym.agents as agents  # static: import basketgym.agents
    import agents  # static: import agents (the bare spelling)
    from sim.world import World  # static: from sim.world (the bare spelling)
    from basketgym.agents import choice  # static: from agents import
    from basketgym.agents.state import ShopperState  # static: from agents.x import
    import basketgym.sim.world  # static: import sim.world
    from basketgym.sim.world import World  # static: from sim.world import
    from basketgym.sim import session, lives  # static: from sim import session
    import basketgym.eval.orchestration.bandit_logs  # static: import eval
    from basketgym import envs  # static: import basketgym
    from basketgym.sim.catalog import Catalog, generate_catalog  # static: the full catalog
    from basketgym.contract.rng import ranker_seed  # static: ranker seed
    from . import cheating_helpers  # static: relative import
    import importlib  # static: importlib
    importlib.import_module("agents")  # static: importlib.import_module
    __import__("basketgym.sim.world")  # static: __import__
    mod = __builtins__  # static: __builtins__
    import sys  # allowed for progress lines: sys.stderr only
    frame = sys._getframe(1)  # static: sys._getframe
    world = frame.f_back.f_locals.get("w")  # static: frame walking
    scope = frame.f_globals  # static: frame globals
    import inspect  # static: inspect
    inspect.currentframe()  # static: inspect.currentframe
    import gc  # static: gc
    objects = gc.get_objects()  # static: gc.get_objects
    import ctypes  # static: ctypes
    import os  # allowed: os itself (file paths for model directories)
    modules = os.sys.modules  # static: os.sys.modules
    value = getattr(catalog, name)  # static: getattr computed
    setattr(catalog, name, None)  # static: setattr computed
    delattr(catalog, name)  # static: delattr computed
    look = getattr  # static: getattr alias
    secret = getattr(catalog, "__class__")  # static: getattr dunder
    eval("1 + 1")  # static: eval
    exec("x = 1")  # static: exec
    code = compile("1", "<x>", "eval")  # static: compile
    names = vars(catalog)  # static: vars
    g = globals()  # static: globals
    subclasses = ().__class__.__mro__[1].__subclasses__()  # static: __subclasses__
    glob = statically_blocked.__globals__  # static: __globals__
    state = catalog.__dict__  # static: __dict__ of a foreign object
    catalog.price.flags.writeable = True  # static: re-enable writes
    catalog.price.setflags(write=True)  # static: setflags
    catalog.price.base[0] = 0.0  # static: .base
    np.lib.stride_tricks.as_strided(catalog.price)  # static: as_strided
    pointer = catalog.price.ctypes.data  # static: .ctypes
    u = rng.uniform(0, Purpose.EXAMINE_SEARCH, np.arange(3), 0, 10)  # static: world purpose
    v = rng.uniform(0, 9, np.arange(3), 0, 10)  # static: raw purpose number
    p = Purpose(10)  # static: computed purpose
    observer = None  # static: observer name
