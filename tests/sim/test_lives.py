"""ShopperLives (the Shopper envs' engine) and MarketTimeline: the slate rule, observations, the catalog by day."""

import dataclasses

import numpy as np
import pytest
from basketgym.rankers import make_ranker
from basketgym.sim.clock import Calendar
from basketgym.sim.config import load_scenario
from basketgym.sim.lives import CANDIDATE_FEATURES, ONGOING, ShopperLives
from basketgym.sim.market import MarketTimeline
from basketgym.sim.world import World

from basketgym.contract.protocol import SURFACE_HOME, SURFACE_SEARCH


@pytest.fixture(scope="module")
def lives():
    cfg = load_scenario("default").replace(days=90)
    out = ShopperLives(cfg, 3, 64)
    out.start(np.arange(64), np.arange(64) * 7)
    return out


def test_slate_rule_drops_bad_and_repeated_picks_and_closes_up(lives):
    cands = lives.cands
    slots = np.array([0, 1])
    c = lives.n_candidates
    valid = [np.flatnonzero(cands[s] >= 0) for s in slots]
    a, b = valid[0], valid[1]
    actions = np.array(
        [
            [a[3], a[3], -1, c + 5, a[1], a[3], a[0], a[2], a[4], a[5]],  # repeats, out of range
            [b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9]],  # all good
        ]
    )
    slates = lives.slates_from_actions(actions, slots)
    assert slates[0].tolist() == [cands[0, i] for i in (a[3], a[1], a[0], a[2], a[4], a[5])] + [-1] * 4
    assert slates[1].tolist() == cands[1, b[:10]].tolist()
    single = ShopperLives(lives.cfg, lives.seed, 1)  # the one-slot loop applies the same rule
    single.start(np.array([0]), lives.world.state.shopper_id[:1])
    assert np.array_equal(single.cands[0], cands[0])
    assert np.array_equal(single.slates_from_actions(actions[:1], np.array([0]))[0], slates[0])
    pad = np.flatnonzero(cands[0] < 0)
    if len(pad):  # a padding candidate is dropped like a bad index
        assert (lives.slates_from_actions(np.full((1, 10), pad[0]), np.array([0])) == -1).all()


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


def test_ad_rule_sponsors_ad_eligible_items_at_ad_positions(lives):
    pub, mk = lives.world.public, lives.cfg.marketplace
    ads = np.flatnonzero(pub.ad_eligible)[:12]
    plain = np.flatnonzero(~pub.ad_eligible)[:12]
    slate = np.array([[ads[0], plain[0], ads[1], plain[1], ads[2], ads[3], -1, -1, -1, -1], plain[2:12]])
    sponsored = lives._response(slate.astype(np.int32)).sponsored
    expect = np.zeros((2, 10), bool)
    expect[0, [p for p in mk.ad_positions if p < 10]] = True  # positions 0 and 4 hold ad-eligible items
    assert np.array_equal(sponsored, expect)
    assert sponsored.sum(axis=1).max() <= mk.max_sponsored
