"""ShopperLives (the Shopper envs' engine) and MarketTimeline: observations, the catalog by day, env accessors."""

import dataclasses

import numpy as np

from basketgym.contract.protocol import SURFACE_HOME, SURFACE_SEARCH
from basketgym.envs.engine import ONGOING, TERMINATED
from basketgym.envs.features import CANDIDATE_FEATURES
from basketgym.rankers import make_ranker
from basketgym.sim.clock import Calendar
from basketgym.sim.config import load_scenario
from basketgym.sim.market import MarketTimeline
from basketgym.sim.world import World


def test_candidate_features_are_the_public_features_of_the_day(lives):
    rng = np.random.default_rng(0)
    for _ in range(40):  # walk a few steps so slots sit on different days and surfaces
        lives.step(rng.integers(0, lives.n_candidates, (lives.n, lives.slate_size)))
    feats = lives.candidate_features()
    tl, pub = lives.timeline, lives.world.public
    surfaces = set()
    ongoing = np.flatnonzero(lives.status == ONGOING)
    # a few slots of each surface (home slates are rarer than searches)
    picked = np.concatenate([ongoing[lives.surface[ongoing] == s][:10] for s in (SURFACE_HOME, SURFACE_SEARCH)])
    for slot in picked:
        day, cands = int(lives.day[slot]), lives.cands[slot]
        e = tl.epoch_of_day[day]
        saved = pub.price.copy()
        pub.price[:] = tl.market.price[e]
        expect = np.clip(pub.features(), -100, 100)
        pub.price[:] = saved
        ok = cands >= 0
        assert np.allclose(feats[slot, ok, :-1], expect[cands[ok]])
        assert (feats[slot, ~ok] == 0).all()
        assert np.array_equal(feats[slot, ok, -1], lives.bought_before(slot, cands[ok]))
        assert tl.market.available[e, cands[ok]].all()  # only items on sale that day are offered
        surfaces.add(int(lives.surface[slot]))
    assert surfaces == {SURFACE_HOME, SURFACE_SEARCH}
    assert feats.shape[-1] == len(CANDIDATE_FEATURES)


def test_timeline_matches_the_live_catalog_of_a_world_day_by_day():
    cfg = load_scenario("default").replace(days=130)  # promotion, price change, stock-out, launch
    cfg = cfg.replace(population=dataclasses.replace(cfg.population, shoppers=50, new_per_day=0.0))
    world = World(cfg, 5, make_ranker("random"), "random")
    tl = MarketTimeline(cfg, 5, world.catalog, world.shop.shelf, cfg.days)
    cal = Calendar(world, cfg.days)
    epochs = set()
    for day in range(cfg.days):
        cal.run_until(day + 0.25)
        e = tl.epoch_of_day[day]
        epochs.add(int(e))
        assert np.array_equal(tl.market.price[e], world.public.price)
        assert np.array_equal(tl.market.available[e], world.public.available)
        assert np.array_equal(tl.market.search_shelf[e], world.market.search_shelf[0])
        pool = world.sessions.featured.of(day)[0]
        assert np.array_equal(tl.featured(np.array([day]))[0][: len(pool)], pool)
    assert len(epochs) >= 6  # every event boundary is its own epoch


def test_env_accessors_read_the_slots_shoppers(lives):
    st = lives.world.state
    assert np.array_equal(lives.shopper_ids(), st.shopper_id[: lives.n])
    truth = lives.truth()
    assert truth["satisfaction"].dtype == np.float64
    assert np.array_equal(truth["satisfaction"], st.satisfaction[: lives.n].astype(np.float64))
    assert np.array_equal(truth["churned"], lives.status == TERMINATED)  # the churn ending: a life ends at churn
    assert (lives.n_products, lives.n_aisles) == (lives.world.public.n_products, lives.world.public.n_aisles)
    assert lives.aisle_name(3) == lives.world.public.aisle_names[3]
