"""Scenario validation: every malformed input is rejected with one line naming key, value and rule."""

import dataclasses
import re
import tomllib

import pytest

from basketgym.contract.errors import ScenarioError
from basketgym.sim.config import ScenarioConfig, load_scenario, scenario_from_dict, to_toml


def _err(data: dict) -> str:
    with pytest.raises(ScenarioError) as e:
        scenario_from_dict(data, "x.toml")
    msg = str(e.value)
    assert "\n" not in msg
    return msg


def test_bundled_scenarios_load_and_roundtrip_through_toml():
    for name in ("default", "smoke", "ads_heavy"):
        cfg = load_scenario(name)
        assert scenario_from_dict(tomllib.loads(to_toml(cfg))) == cfg


def test_default_scenario_has_the_promised_size():
    cfg = load_scenario("default")
    assert cfg.population.shoppers == 10_000 and cfg.days == 180 and 2000 <= cfg.catalog.products <= 5000


def test_unknown_key_suggests_nearest():
    msg = _err({"population": {"shopers": 10}})
    assert msg == (
        "x.toml: [population] shopers: unknown key; did you mean 'shoppers'? allowed: shoppers, new_per_day, "
        "visit_interval_days, visit_interval_spread, weekly_share, budget, budget_spread, price_sensitivity, "
        "staples_used, household_spread"
    )


def test_unknown_top_level_key():
    assert "dayz: unknown key; did you mean 'days'?" in _err({"dayz": 3})


def test_wrong_type_names_key_value_and_type():
    assert _err({"days": "ten"}) == "x.toml: days = 'ten': must be an integer"
    assert "catalog.products = 2.5: must be an integer" in _err({"catalog": {"products": 2.5}})
    assert "population.budget = true: must be a number" in _err({"population": {"budget": True}})


def test_negative_and_out_of_range_sizes():
    assert _err({"population": {"shoppers": -5}}) == "x.toml: population.shoppers = -5: must be between 1 and 50000000"
    assert "catalog.products = 0: must be between 20 and 500000" in _err({"catalog": {"products": 0}})
    assert "behaviour.organic_find = 1.5: must be between 0.0 and 1.0" in _err({"behaviour": {"organic_find": 1.5}})


def test_choices_and_lists():
    assert "run.event_log = 'some': must be one of 'full', 'none'" in _err({"run": {"event_log": "some"}})
    assert "marketplace.ad_positions[1] = -1: must be between 0 and 99" in _err(
        {"marketplace": {"ad_positions": [0, -1]}}
    )
    assert "rankers.names = 'random': must be a list of strings" in _err({"rankers": {"names": "random"}})


def test_section_must_be_a_table():
    assert "catalog: must be a table" in _err({"catalog": 3})


def test_events_are_validated():
    assert "events[0].kind = 'sale': must be one of 'promotion'" in _err({"events": [{"kind": "sale"}]})
    assert "events[0].aisle = 999: must be -1 or below catalog.aisles (126)" in _err({"events": [{"aisle": 999}]})


def test_cross_field_rules():
    assert "ad_positions = [0, 12]: positions must be < slate_size (10)" in _err(
        {"marketplace": {"ad_positions": [0, 12]}}
    )
    assert "catalog.aisles = 500: must be <= catalog.products (400)" in _err(
        {"catalog": {"products": 400, "aisles": 500}}
    )


def test_missing_file_and_bad_toml(tmp_path):
    with pytest.raises(ScenarioError, match="no such scenario file; bundled scenarios: ads_heavy, default, smoke"):
        load_scenario(tmp_path / "nope.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("days = [\n")
    with pytest.raises(ScenarioError, match="not valid TOML"):
        load_scenario(bad)


def test_configs_are_frozen():
    cfg = ScenarioConfig()
    with pytest.raises(AttributeError):
        cfg.days = 3  # type: ignore[misc]


def test_scenario_reference_doc_is_in_sync():
    from pathlib import Path

    from basketgym.sim.config import schema_markdown

    doc = Path(__file__).resolve().parents[2] / "docs" / "SCENARIOS.md"
    assert doc.read_text() == schema_markdown(), "regenerate: python -m sim.config > docs/SCENARIOS.md"


def test_evaluation_and_experiment_sections():
    msg = _err(
        {
            "days": 60,
            "run": {"horizons": [14, 30]},
            "experiment": {"treatment": "buy_again", "start_day": 50, "days": 28},
        }
    )
    assert "experiment.days = 28: start_day + days must be <= days (60); start_day is 50" in msg
    assert "experiment.treatment = 'popularity': must differ from rankers.control" in _err(
        {"experiment": {"treatment": "popularity"}}
    )
    assert "experiment.metric = 'clicks': must be one of" in _err({"experiment": {"metric": "clicks"}})
    assert "did you mean 'bootstrap'?" in _err({"evaluation": {"bootstraps": 10}})
    cfg = scenario_from_dict({"evaluation": {"attribution": ["buy_again"]}})
    assert cfg.evaluation.attribution == ("buy_again",) and cfg.experiment.treatment == ""


def test_ranker_options_parse_round_trip_and_reach_the_ranker():
    options = {"causal_value": {"retention_value": 2.5, "learner": "t"}}
    cfg = scenario_from_dict({"rankers": {"names": ["causal_value"], "options": options}})
    assert cfg.rankers.options == {"causal_value": {"retention_value": 2.5, "learner": "t"}}
    assert scenario_from_dict(tomllib.loads(to_toml(cfg))) == cfg
    from basketgym.eval.orchestration.runner import scenario_ranker

    r = scenario_ranker(cfg, "causal_value")
    assert r.retention_value == 2.5 and r.learner == "t"
    assert scenario_ranker(cfg, "buy_again").name == "buy_again"  # no options: defaults


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"causal_value": 3}, "rankers.options.causal_value = 3: must be a table of keyword arguments"),
        ({"causal_value": {"share": [1]}}, "rankers.options.causal_value.share = [1]: must be a number"),
    ],
)
def test_bad_ranker_options_are_one_line(options, message):
    with pytest.raises(ScenarioError, match=re.escape(message)):
        scenario_from_dict({"rankers": {"options": options}})


def test_an_unknown_option_names_the_ranker_and_suggests_the_closest():
    from basketgym.contract.errors import RankerError
    from basketgym.rankers import make_ranker

    msg = "ranker 'causal_value': unknown option 'retention_valu'; did you mean 'retention_value'"
    with pytest.raises(RankerError, match=re.escape(msg)):
        make_ranker("causal_value", retention_valu=1.0)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
@pytest.mark.parametrize(
    "section", [{"run": "discount_rate"}, {"population": "budget"}, {"churn": "memory"}, {"catalog": "latent_noise"}]
)
def test_every_float_key_refuses_nan_and_infinities(section, value):
    ((table, key),) = section.items()
    msg = _err({table: {key: value}})
    assert msg == f"x.toml: {table}.{key} = {value}: must be a finite number (not nan, inf or -inf)"


def test_nan_in_an_event_and_in_ranker_options_is_refused():
    assert "events[0].discount = nan: must be a finite number" in _err({"events": [{"discount": float("nan")}]})
    msg = _err({"rankers": {"names": ["objective"], "options": {"objective": {"margin": float("inf")}}}})
    assert "rankers.options.objective.margin = inf: must be a finite number" in msg


def test_nan_is_refused_for_every_float_key_of_the_schema():
    import dataclasses
    import typing

    from basketgym.sim.config import EventConfig

    checked = 0
    for f in dataclasses.fields(ScenarioConfig):
        tp = typing.get_type_hints(ScenarioConfig)[f.name]
        if not dataclasses.is_dataclass(tp):
            continue
        for g in dataclasses.fields(tp):
            if typing.get_type_hints(tp)[g.name] is float:
                assert "must be a finite number" in _err({f.name: {g.name: float("nan")}})
                checked += 1
    for g in dataclasses.fields(EventConfig):
        if typing.get_type_hints(EventConfig)[g.name] is float:
            assert "must be a finite number" in _err({"events": [{g.name: float("nan")}]})
            checked += 1
    assert checked == 38  # every float of population, behaviour, churn, catalog, marketplace, run, experiment, events


def test_names_are_file_safe_and_every_string_round_trips_through_toml():
    assert "name = '../x': must match" in _err({"name": "../x"})
    assert "name = 'a\\x1f': must match" in _err({"name": "a\x1f"})  # repr: the control character is escaped
    cfg = ScenarioConfig(description='tab\t, unit\x1f, del\x7f, "quotes" \\ and é').replace(
        rankers=dataclasses.replace(
            ScenarioConfig().rankers,
            names=("models/default/mmoe",),
            options={"models/default/mmoe": {"odd key": "x\ny"}},
        )
    )
    assert scenario_from_dict(tomllib.loads(to_toml(cfg))) == cfg
