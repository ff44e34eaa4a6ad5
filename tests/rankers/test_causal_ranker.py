"""The causal-value ranker: exposure tests on a share of home feeds, an uplift model on the refit cadence."""

import dataclasses

import numpy as np
import pytest

from basketgym.contract.errors import RankerError
from basketgym.rankers import make_ranker
from basketgym.sim.config import load_scenario
from basketgym.sim.world import World


@pytest.fixture(scope="module")
def cfg():
    base = load_scenario("default")
    return base.replace(days=35, population=dataclasses.replace(base.population, shoppers=2000))


@pytest.mark.parametrize("name", ["causal_value", "propensity_value"])
def test_it_tests_learns_and_is_deterministic(cfg, name):
    r = make_ranker(name, min_rows=500)
    res = World(cfg, 2, r, name).run()
    tests = r._tests[0]
    assert r.has_model and len(tests) >= 500
    assert 0.4 < tests["treated"].mean() < 0.6  # P(shown) = 0.5
    # a treated test shows its focal item, which then earns margin more often than a withheld one
    w = tests["treated"].to_numpy(bool)
    assert (tests["margin"][w] > 0).mean() > (tests["margin"][~w] > 0).mean()
    again = World(cfg, 2, make_ranker(name, min_rows=500), name).run()
    assert np.array_equal(res.slates["slate"], again.slates["slate"])


def test_search_stays_buy_again_home_follows_the_model_and_settings_are_checked(cfg):
    from basketgym.rankers.baselines import BuyAgainRanker
    from basketgym.rankers.testing import home_request, search_request

    r = make_ranker("causal_value", min_rows=500)
    World(cfg, 2, r, "c").run()
    r.explore = 0.0  # no exposure tests in the checks below
    gen = np.random.default_rng(0)

    def buy_again_order(req):  # the same state ranked by buy_again's score
        return r.rank_general(req, lambda q: BuyAgainRanker.score(r, q)).slate

    search = search_request(r.catalog, gen, batch=200, day=cfg.days, shoppers=2000)
    assert np.array_equal(r.rank(search).slate, buy_again_order(search))
    home = home_request(r.catalog, gen, batch=200, day=cfg.days, shoppers=2000)
    differ = (r.rank(home).slate != buy_again_order(home)).any(axis=1)
    assert differ.mean() > 0.5  # the model's order, not buy_again's
    r.relevant_slots = 3  # the relevance constraint: buy_again's top 3 first, then by value
    no_ads = home_request(r.catalog, gen, batch=200, day=cfg.days, shoppers=2000, max_sponsored=0)
    got, ba = r.rank(no_ads).slate, buy_again_order(no_ads)
    assert np.array_equal(got[:, :3], ba[:, :3]) and (got[:, 3:] != ba[:, 3:]).any(axis=1).mean() > 0.5
    with pytest.raises(RankerError, match="objective = 'x'"):
        make_ranker("causal_value", objective="x")
    with pytest.raises(RankerError, match="explore = 2"):
        make_ranker("causal_value", explore=2)


def test_the_ltv_aware_term_is_learned_once_retention_windows_mature(cfg):
    """With ``retention_value`` > 0, a 30-day retention learner joins once tests are 30 days old."""
    r = make_ranker("causal_value", min_rows=100, explore=1.0, retention_value=3.0)
    World(cfg.replace(days=42), 2, r, "c").run()
    assert r.retention_model is not None
    from basketgym.rankers.learned.dataset import FEATURE_NAMES

    x = r._tests[0][list(FEATURE_NAMES)].to_numpy()
    with_term = r._value(x[:200])
    assert not np.allclose(with_term, r.margin_model.predict(x[:200]))
