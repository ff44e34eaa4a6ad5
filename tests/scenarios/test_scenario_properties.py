"""Property: any edit of a scenario is refused in one line with the project's error, or runs to finite numbers.

Hypothesis changes one to three keys of the resolved smoke scenario (walked from ``to_dict``) to values of
the right type, the wrong type, NaN, infinities, huge and negative numbers. Each variant is loaded; if it
loads it is bounded to a tiny world (the mutated keys keep their values, bounded) and run end to end with
its report (``run_scenario`` then ``analyze_run``). Nothing may raise anything but ``BasketgymError``, a
refusal is one line and writes nothing, and every number of the report's per-ranker table is finite.
"""

from __future__ import annotations

import dataclasses
import math
import tempfile
from pathlib import Path
from typing import Any

import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from basketgym.contract.errors import BasketgymError  # noqa: E402
from basketgym.sim.config import ScenarioConfig, load_scenario, scenario_from_dict  # noqa: E402

SMOKE = load_scenario("smoke").to_dict()
#: caps that keep a variant's world tiny (a mutated key keeps its value, bounded by these)
BOUNDS = {"days": 6, "population.shoppers": 150, "population.new_per_day": 5.0, "catalog.products": 1500,
          "run.seeds": 1, "evaluation.bootstrap": 20, "catalog.aisles": 300, "catalog.brands": 1500}  # fmt: skip


def _paths(d: dict, prefix: str = "") -> list[str]:
    """Every key of the resolved scenario: ``days``, ``catalog.products``, ``events.0.day``, ``run.horizons.1``."""
    out = []
    for k, v in d.items():
        p = f"{prefix}{k}"
        if isinstance(v, dict) and v:
            out += _paths(v, p + ".")
        elif isinstance(v, list) and v and all(isinstance(x, dict) for x in v):
            for i, x in enumerate(v):
                out += _paths(x, f"{p}.{i}.")
        else:
            out.append(p)
            if isinstance(v, list):
                out += [f"{p}.{i}" for i in range(len(v))]
    return out


PATHS = _paths(SMOKE)


def _get(d: Any, path: str) -> Any:
    for k in path.split("."):
        d = d[int(k)] if isinstance(d, list) else d[k]
    return d


def _put(d: Any, path: str, value: Any) -> None:
    """Set a key; an item of a list or table an earlier edit replaced (``rankers.names`` then its item 0) is skipped."""
    *head, last = path.split(".")
    try:
        for k in head:
            d = d[int(k)] if isinstance(d, list) else d[k]
        if isinstance(d, list):
            d[int(last)] = value
        else:
            d[last] = value
    except (IndexError, KeyError, TypeError, ValueError):
        pass


SPECIAL_FLOATS = [math.nan, math.inf, -math.inf, 1e300, -1e300, 0.0, -0.0, 1e-300]
SPECIAL_INTS = [0, -1, 1, 2, 3, 7, 30, 10**9, -(10**9), 2**62, 2**63 - 1, -(2**63)]
NAMES = ["random", "popularity", "buy_again", "margin_greedy", "objective", "popularty", ""]


def _like(current: Any) -> st.SearchStrategy:
    """Values of the same type as ``current``, near it and far from it."""
    if isinstance(current, bool):
        return st.booleans()
    if isinstance(current, int):
        return st.one_of(st.integers(-3, 3).map(lambda k: current + k), st.integers(-1, 10 * (abs(current) + 2)),
                         st.sampled_from(SPECIAL_INTS))  # fmt: skip
    if isinstance(current, float):
        return st.one_of(st.floats(-2 * abs(current) - 1, 2 * abs(current) + 1), st.sampled_from(SPECIAL_FLOATS))
    if isinstance(current, str):
        words = ["full", "none", "promotion", "price_change", "stockout", "new_products", "margin", "gtv", "orders"]
        return st.one_of(st.sampled_from(NAMES + words), st.text(max_size=6))
    if isinstance(current, list):
        return st.one_of(st.lists(st.integers(-2, 60), max_size=5), st.lists(st.sampled_from(NAMES), max_size=4))
    if isinstance(current, dict):
        return st.dictionaries(st.sampled_from(NAMES[:5]), st.dictionaries(
            st.sampled_from(["relevance", "margin", "half_life_days", "exploration", "nope"]),
            st.one_of(st.floats(allow_nan=True), st.integers(-5, 5), st.text(max_size=3))), max_size=2)  # fmt: skip
    return st.nothing()


ANY_VALUE = st.one_of(
    st.integers(-(2**63), 2**63 - 1),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=6),
    st.booleans(),
    st.lists(st.integers(-5, 50), max_size=4),
    st.dictionaries(st.text(max_size=4), st.integers(), max_size=2),
)


@st.composite
def edits(draw: st.DrawFn) -> list[tuple[str, Any]]:
    """One to three (key path, new value) pairs: the right type (twice as likely) or any type."""
    out = []
    for path in draw(st.lists(st.sampled_from(PATHS), min_size=1, max_size=3, unique=True)):
        current = _get(SMOKE, path)
        value = draw(st.one_of(_like(current), _like(current), ANY_VALUE))
        out.append((path, value))
    return out


def _bounded(cfg: ScenarioConfig) -> ScenarioConfig:
    """A tiny world of the variant: each size capped (its mutation kept, bounded); a shorter run keeps its calendar."""
    days = min(cfg.days, BOUNDS["days"])
    pop = cfg.population
    pop = dataclasses.replace(pop, shoppers=min(pop.shoppers, BOUNDS["population.shoppers"]),
                              new_per_day=min(pop.new_per_day, BOUNDS["population.new_per_day"]))  # fmt: skip
    run = dataclasses.replace(cfg.run, seeds=1)
    ev = dataclasses.replace(cfg.evaluation, bootstrap=min(cfg.evaluation.bootstrap, BOUNDS["evaluation.bootstrap"]))
    calendar = max(cfg.days, cfg.calendar_days)
    return cfg.replace(days=days, calendar_days=calendar if days < calendar else 0, population=pop, run=run,
                       evaluation=ev)  # fmt: skip


def _one_line(e: BaseException) -> None:
    msg = str(e)
    assert msg and "\n" not in msg and "Traceback" not in msg, msg


def check_variant(changes: list[tuple[str, Any]]) -> str:
    """Load, bound, run and analyse one variant; returns how it ended (raises on a broken property)."""
    import copy

    from basketgym.eval.orchestration.runner import run_scenario
    from basketgym.eval.reporting.analysis import analyze_run

    data = copy.deepcopy(SMOKE)
    for path, value in changes:
        _put(data, path, value)
    # sizes are bounded before loading, so that the rules judge the world that runs (an A/B arm of the
    # bounded population, say); a 500,000-product catalog alone would take seconds to generate
    for section, key in (("catalog", "products"), ("catalog", "aisles"), ("catalog", "brands"),
                         ("population", "shoppers"), ("population", "new_per_day")):  # fmt: skip
        table = data.get(section)
        v = table.get(key) if isinstance(table, dict) else None
        if isinstance(v, int | float) and not isinstance(v, bool) and v == v:
            table[key] = type(v)(min(v, BOUNDS[f"{section}.{key}"]))
    try:
        cfg = scenario_from_dict(data, "variant.toml")
    except BasketgymError as e:
        _one_line(e)
        return "refused at load"
    cfg = _bounded(cfg)
    if not any(p.startswith(("rankers", "evaluation", "experiment")) for p, _ in changes):
        cfg = cfg.replace(rankers=dataclasses.replace(cfg.rankers, names=cfg.rankers.names[:2]))  # fewer worlds
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "run"
        try:
            result = run_scenario(cfg, seeds=1, out=out)
        except BasketgymError as e:
            _one_line(e)
            assert not out.exists() and not list(Path(tmp).iterdir()), "a refused run wrote files"
            return "refused by the run's checks"
        analyze_run(result.run_dir, write=False)  # the whole report but its plots (matplotlib: seconds)
        numbers = result.per_seed.drop(columns=["ranker"]).select_dtypes("number")
        beyond = [c for c in numbers.columns if any(c.endswith(f"_{h}d") for h in cfg.run.horizons if h > cfg.days)]
        finite = numbers.drop(columns=beyond).to_numpy()
        assert finite.size and math.isfinite(float(finite.sum())) and not (finite != finite).any(), numbers
    return "ran"


@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(edits())
def test_every_variant_is_refused_in_one_line_or_runs_to_finite_numbers(changes):
    hypothesis.event(check_variant(changes))


@pytest.mark.slow
@settings(max_examples=500, deadline=None, derandomize=False, suppress_health_check=[HealthCheck.too_slow])
@given(edits())
def test_many_variants_are_refused_in_one_line_or_run_to_finite_numbers(changes):
    hypothesis.event(check_variant(changes))


def test_the_walk_covers_every_key_of_the_scenario():
    """The property edits every key there is (sections, events, list items), not a hand-picked few."""
    assert len(PATHS) > 90
    for path in ("days", "catalog.products", "events.0.day", "events.1.share", "run.horizons.2",
                 "experiment.share", "marketplace.ad_positions", "rankers.options", "calendar_days"):  # fmt: skip
        assert path in PATHS
