"""Twin worlds: exact per-shopper effects, surface ablations, traffic splits, and the bootstrap behind the intervals."""

import dataclasses

import numpy as np
import pytest

from eval.incrementality import attribution, incrementality, paired_differences
from eval.runner import evaluate_world
from eval.uncertainty import bootstrap, t_interval
from rankers import make_ranker
from rankers.composite import ABLATIONS, SurfaceAblation, TrafficSplit, treatment_assignment
from sim.config import load_scenario
from sim.world import World

COLS = ["gtv", "margin", "orders", "retained_30d"]


@pytest.fixture(scope="module")
def cfg():
    base = load_scenario("smoke")
    return base.replace(days=40, population=dataclasses.replace(base.population, shoppers=400, new_per_day=2.0))


def _outcomes(cfg, ranker, seed, label=None):
    result = World(cfg, seed, ranker, label or getattr(ranker, "name", "x")).run()
    return evaluate_world(cfg, result)[0]


@pytest.fixture(scope="module")
def worlds(cfg):
    """Outcomes of the twins for seeds 1 and 2: popularity (control), buy_again, and buy_again's ablations."""
    out = {}
    for seed in (1, 2):
        out[("popularity", seed)] = _outcomes(cfg, make_ranker("popularity"), seed)
        out[("buy_again", seed)] = _outcomes(cfg, make_ranker("buy_again"), seed)
        for a in ABLATIONS:
            ranker = SurfaceAblation(make_ranker("buy_again"), make_ranker("popularity"), a)
            out[(f"buy_again~no_{a}", seed)] = _outcomes(cfg, ranker, seed)
    return out


def test_a_ranker_against_itself_has_exactly_zero_effect_for_every_shopper(cfg, worlds):
    again = _outcomes(cfg, make_ranker("buy_again"), 1)
    d = paired_differences(again, worlds[("buy_again", 1)], COLS)
    assert d.shape[0] > 400 and np.all(np.nan_to_num(d) == 0)  # arrivals included: the same shoppers
    table = incrementality(worlds, ["popularity"], "popularity", [1, 2], COLS, 200, 0)
    assert table["exact_zero"].all() and (table["mean"] == 0).all() and (table["ci_high"] == 0).all()


def test_twins_hold_the_same_shoppers_and_differ_where_the_ranker_matters(worlds):
    table = incrementality(worlds, ["buy_again"], "popularity", [1, 2], COLS, 300, 0).set_index("metric")
    assert not table["exact_zero"].any()
    # the intervals are percentile intervals around the point estimate, narrower over shoppers only
    assert (table["ci_low"] <= table["mean"]).all() and (table["mean"] <= table["ci_high"]).all()
    assert (table["ci_high"] - table["ci_low"] >= table["shoppers_ci_high"] - table["shoppers_ci_low"] - 1e-9).all()


def test_surface_attribution_adds_up(worlds):
    parts = attribution(worlds, "buy_again", "popularity", [1, 2], ABLATIONS, 200, 0).set_index("part")
    assert list(parts.index) == ["total", "search", "home", "ads", "interaction"]
    assert parts.loc[["search", "home", "ads", "interaction"], "mean"].sum() == pytest.approx(parts.at["total", "mean"])
    direct = np.mean(
        [(worlds[("buy_again", s)]["gtv"] - worlds[("popularity", s)]["gtv"]).mean() for s in (1, 2)]
    )  # fmt: skip
    assert parts.at["total", "mean"] == pytest.approx(direct)


def test_ablated_surfaces_are_really_served_by_the_control(cfg):
    """With home served by the control, home slates are the control's; search stays the policy's."""
    ranker = SurfaceAblation(make_ranker("buy_again"), make_ranker("popularity"), "home")
    res = World(cfg.replace(days=12), 3, ranker, "x").run()
    ref = World(cfg.replace(days=12), 3, make_ranker("popularity"), "popularity").run()
    home = res.slates["surface"] == 0
    ref_home = ref.slates["surface"] == 0
    day0 = res.slates["day"] == 0
    # day 0: nobody has a history, both worlds' home requests are identical, so are the control's slates
    assert np.array_equal(res.slates["slate"][home & day0], ref.slates["slate"][ref_home & (ref.slates["day"] == 0)])
    no_ads = World(cfg.replace(days=12), 3, SurfaceAblation(make_ranker("buy_again"), make_ranker("popularity"),
                                                            "ads"), "x").run()  # fmt: skip
    assert not no_ads.slates["sponsored"].any() and res.slates["sponsored"].any()


def test_a_full_traffic_split_is_the_treatment_world(cfg):
    """share = 1 from day 0: every row to the treatment, so the world is the treatment's, shopper by shopper."""
    split = _outcomes(cfg, TrafficSplit(make_ranker("popularity"), make_ranker("buy_again"), 1.0, 0), 5)
    alone = _outcomes(cfg, make_ranker("buy_again"), 5)
    assert np.all(np.nan_to_num(paired_differences(split, alone, COLS)) == 0)


def test_treatment_assignment_is_a_fixed_fair_coin():
    ids = np.arange(20_000)
    a = treatment_assignment(7, ids, 0.3)
    assert np.array_equal(a, treatment_assignment(7, ids, 0.3))
    assert abs(a.mean() - 0.3) < 4 * np.sqrt(0.3 * 0.7 / len(ids))  # 4 binomial sd
    assert (a != treatment_assignment(8, ids, 0.3)).mean() > 0.3


def test_bootstrap_is_reproducible_and_matches_the_normal_interval():
    rng = np.random.default_rng(0)
    per_seed = [rng.lognormal(2, 1, 5000)[:, None] for _ in range(3)]
    m1, lo1, hi1 = bootstrap(per_seed, 1000, 3, over_seeds=False)
    m2, lo2, hi2 = bootstrap(per_seed, 1000, 3, over_seeds=False)
    assert (lo1 == lo2).all() and (hi1 == hi2).all()
    pooled = np.concatenate(per_seed)[:, 0]
    normal_half = 1.96 * pooled.std() / np.sqrt(len(pooled))
    # 1,000 replicates estimate a percentile half-width to within a few percent
    assert (hi1 - lo1)[0] / 2 == pytest.approx(normal_half, rel=0.1)
    _, lo3, hi3 = bootstrap(per_seed, 1000, 3, over_seeds=True)
    assert (hi3 - lo3)[0] > (hi1 - lo1)[0]  # worlds vary too
    assert np.isnan(t_interval(np.array([1.0])).low) and t_interval(np.array([1.0, 3.0])).mean == 2.0
