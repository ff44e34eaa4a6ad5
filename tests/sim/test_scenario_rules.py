"""Cross-field rules: each impossible scenario is refused at load in one line naming its key."""

import copy
import tomllib

import pytest

from basketgym.contract.errors import ScenarioError
from basketgym.scenarios import scenario_path
from basketgym.sim.config import resolve_scenario, scenario_from_dict
from basketgym.sim.scenario_rules import RULES, problems


def _default() -> dict:
    return tomllib.loads(scenario_path("default").read_text())


def _smoke() -> dict:
    return tomllib.loads(scenario_path("smoke").read_text())


def _set(data: dict, path: str, value) -> dict:
    d = copy.deepcopy(data)
    *head, last = path.split(".")
    node = d
    for k in head:
        node = node[int(k)] if isinstance(node, list) else node.setdefault(k, {})
    node[last] = value
    return d


# (edit of the default scenario, text the one-line error must contain); the first 19 are the list
CASES = [
    ("events.0.day", 180, "events[0].day = 180: must be below days (180)"),
    ("events.2.day", 400, "events[2].day = 400"),
    ("events.3.day", 200, "events[3].day = 200"),  # a launch past the end: its products never appear
    ("run.horizons", [], "run.horizons = []: name at least one horizon"),
    ("run.horizons", [14, 365], "run.horizons = [14, 365]: [365] longer than days (180)"),
    ("rankers.refit_every_days", 200, "rankers.refit_every_days = 200: must be <= days (180)"),
    ("marketplace.slate_size", 60, "marketplace.slate_size = 60: must be <= the search candidate set"),
    ("marketplace.home_slate_size", 70, "marketplace.home_slate_size = 70: must be <= the home candidate set"),
    ("marketplace.max_sponsored", 50, "marketplace.max_sponsored = 50: must be <= the largest slate (10)"),
    ("marketplace.ad_positions", [0, 0], "marketplace.ad_positions = [0, 0]: position 0 named twice"),
    (
        "marketplace.ad_positions",
        [0, 1, 2, 3],
        "marketplace.ad_positions = [0, 1, 2, 3]: 4 positions but max_sponsored",
    ),
    ("marketplace.ad_positions", [0, 12], "marketplace.ad_positions = [0, 12]: positions must be < slate_size (10)"),
    ("catalog.brands", 5000, "catalog.brands = 5000: must be <= catalog.products (3000)"),
    ("events.3.count", 2900, "events[3].count = 2900: must be <= the"),
    ("events.2.department", 3, "events[2].aisle = 11: lies in department 11, not events[2].department (3)"),
    ("rankers.names", ["random", "random"], "rankers.names = ['random', 'random']: 'random' named twice"),
    ("rankers.options", {"causal_valu": {"retention_value": 2.0}}, "rankers.options.causal_valu: 'causal_valu' is not"),
    ("experiment.share", 0.999, "experiment.share"),  # out of the key's range already
    ("experiment.treatment", "popularity", "experiment.treatment = 'popularity': must differ from rankers.control"),
    # beyond the list
    ("events.0.duration", 0, "events[0].duration = 0: must be -1 (the kind's default) or >= 1 day"),
    ("events.2.discount", 0.5, "events[2].discount = 0.5: a stockout does not use discount"),
    ("events.0.multiplier", 2.0, "events[0].multiplier = 2.0: a promotion does not use multiplier"),
    ("events.3.duration", 10, "events[3].duration = 10: a new_products does not use duration"),
    ("events.0.share", 0.0, "events[0].share = 0.0: targets no product"),
    ("events.3.count", 0, "events[3].count = 0: must be between 1"),
    ("run.horizons", [14, 14], "run.horizons = [14, 14]: [14] named twice"),
    ("marketplace.home_featured", 999, "marketplace.home_slate_size"),  # featured within products: see below
    ("evaluation.attribution", ["buy_again", "buy_again"], "'buy_again' named twice"),
    ("evaluation.attribution", ["popularity"], "'popularity' is rankers.control"),
    ("evaluation.attribution", ["objective"], "'objective' must be one of rankers.names"),
    ("catalog.ad_eligible_share", 0.9, "catalog.ad_eligible_share = 0.9: must be <= 1 - catalog.private_label_share"),
    ("rankers.control", " ", "rankers.control = '': name the control ranker"),
    ("experiment.start_day", 170, "experiment.days = 28: start_day + days must be <= days (180)"),
]


@pytest.mark.parametrize(("path", "value", "message"), CASES, ids=[f"{c[0]}={c[1]}" for c in CASES])
def test_rule_refuses_in_one_line_naming_the_key(path, value, message):
    data = _set(_default(), path, value)
    if path == "marketplace.home_featured":  # 999 featured is fine (<= 3000 products), but not with a huge slate
        data = _set(_set(data, "marketplace.home_order_again", 0), "marketplace.home_slate_size", 1000)
        message = "marketplace.home_slate_size = 1000"
    with pytest.raises(ScenarioError) as e:
        scenario_from_dict(data, "default.toml")
    msg = str(e.value)
    assert "\n" not in msg and msg.startswith("default.toml: ")
    assert message in msg


def test_home_featured_within_the_catalog_and_a_small_population_experiment():
    msg = str(pytest.raises(ScenarioError, scenario_from_dict, _set(_smoke(), "marketplace.home_featured", 900)).value)
    assert "marketplace.home_featured = 900: must be <= catalog.products (400)" in msg
    small = _set(_set(_default(), "population.shoppers", 100), "population.new_per_day", 0.0)
    msg = str(pytest.raises(ScenarioError, scenario_from_dict, _set(small, "experiment.share", 0.9)).value)
    assert msg == (
        "scenario: experiment.share = 0.9: the control arm expects 10.0 of 100 shoppers; each arm needs >= 20 "
        "(share between 0.2 and 0.8)"
    )
    tiny = _set(small, "population.shoppers", 30)
    msg = str(pytest.raises(ScenarioError, scenario_from_dict, tiny).value)
    assert "experiment.share = 0.5: 30 shoppers are too few for an A/B test (each arm needs >= 20 expected)" in msg
    assert scenario_from_dict(_set(small, "experiment.share", 0.75)).experiment.share == 0.75


def test_experiment_keys_without_a_treatment_do_nothing_and_are_refused():
    msg = str(pytest.raises(ScenarioError, scenario_from_dict, _set(_smoke(), "experiment.start_day", 10)).value)
    assert "experiment.start_day = 10: has no effect without experiment.treatment" in msg


def test_every_bundled_scenario_passes_every_rule():
    for name in ("default", "smoke", "ads_heavy"):
        cfg = scenario_from_dict(tomllib.loads(scenario_path(name).read_text()))
        assert problems(cfg) == []


def test_every_rule_has_a_refusal_in_the_table():
    """Each rule of RULES is exercised by at least one case above (so a new rule needs a test)."""
    seen = set()
    for path, value, _ in CASES:
        data = _set(_default(), path, value)
        from basketgym.sim.config import ScenarioConfig, build

        try:
            cfg = build(ScenarioConfig, data, "")
        except ScenarioError:
            continue
        for rule in RULES:
            from basketgym.sim.scenario_rules import Context

            ctx = Context(calendar_days=cfg.days, seeds=(cfg.seed, cfg.seed + 1, cfg.seed + 2))
            if list(rule(cfg, ctx)):
                seen.add(rule.__name__)
    assert seen == {r.__name__ for r in RULES}


def test_overrides_keep_the_rules_against_the_written_calendar():
    # --days shorter than the file: events, horizons and refits are judged against the calendar as written
    cfg = resolve_scenario("smoke", days=5)
    assert cfg.days == 5 and cfg.calendar_days == 30 and cfg.events[0].day == 10
    from basketgym.sim.config import to_toml
    from basketgym.sim.scenario_rules import shortened_run_notes

    assert scenario_from_dict(tomllib.loads(to_toml(cfg))) == cfg  # a run directory's scenario.toml loads again
    assert shortened_run_notes(cfg) == [
        "--days 5 runs the first 5 of 30 days: never reached: events[0] (promotion, day 10), events[1] (stockout, "
        "day 15)",
        "--days 5: horizons [7, 14, 30] are longer than the run and print as '—'",
        "--days 5: shorter than rankers.refit_every_days (7): no refit",
    ]
    with pytest.raises(ScenarioError, match=r"events\[1\].day = 15: must be below days \(12\)"):
        scenario_from_dict(_set(_smoke(), "days", 12))  # the same file with days = 12 written in it is refused
    # --rankers: the rules hold for the result
    with pytest.raises(
        ScenarioError, match=r"smoke with --rankers random,random: rankers.names = \['random', 'random'\]"
    ):
        resolve_scenario("smoke", rankers=["random", "random"])
    with pytest.raises(ScenarioError, match=r"'buy_again' must be one of rankers.names \['random'\]"):
        resolve_scenario("default", rankers=["random"])
    # --days longer than the file: fine, as written
    assert resolve_scenario("smoke", days=60).days == 60


def test_a_control_outside_the_rankers_runs_as_an_extra_twin_world():
    from basketgym.eval.orchestration.plan import grid_counts
    from basketgym.eval.orchestration.runner import grid

    cfg = resolve_scenario("smoke", rankers=["random", "buy_again"])
    assert cfg.rankers.control == "popularity" and "popularity" not in cfg.rankers.names
    tasks = grid(cfg, list(cfg.rankers.names), 2)
    assert sorted({t.ranker for t in tasks}) == ["buy_again", "popularity", "random"]
    assert grid_counts(cfg, list(cfg.rankers.names), 2) == {"world": 6}


@pytest.mark.parametrize("name", ["default", "smoke", "ads_heavy"])
def test_grid_counts_match_the_grid(name):
    from collections import Counter

    from basketgym.eval.orchestration.plan import grid_counts
    from basketgym.eval.orchestration.runner import grid

    cfg = resolve_scenario(name)
    names = list(cfg.rankers.names)
    for twins in (True, False):
        assert grid_counts(cfg, names, 3, twins=twins) == dict(
            Counter(t.kind for t in grid(cfg, names, 3, twins=twins))
        )


def test_a_price_change_with_a_duration_ends():
    """A price change with ``duration`` reverts after it; without one it stays (the default scenario's)."""
    import simpy

    from basketgym.sim.catalog import generate_catalog
    from basketgym.sim.config import EventConfig, load_scenario
    from basketgym.sim.events import MarketEvents

    class _World:
        def refresh_prices(self) -> None:
            pass

    cfg = load_scenario("smoke")
    for duration, after in ((-1, 1.5), (4, 1.0)):
        public = generate_catalog(cfg.catalog, 3).public
        ev = EventConfig(kind="price_change", day=5, department=1, multiplier=1.5, duration=duration)
        env = simpy.Environment()
        for proc in MarketEvents([ev], public, 3).processes(env, _World()):
            env.process(proc)
        prices = {}
        for d in (4, 6, 12):
            env.run(until=d + 0.5)
            prices[d] = public.price.copy()
        moved = prices[6] != prices[4]
        assert moved.sum() == (public.department == 1).sum() > 0
        ratio = prices[12][moved] / prices[4][moved]
        assert ratio == pytest.approx(after, abs=0.02), duration  # prices are rounded to cents
