"""The world: determinism, chunk independence, common random numbers, log invariants, events, cohorts."""

import dataclasses

import numpy as np
import pytest

from basketgym.contract.errors import RankerError
from basketgym.contract.logs import SOURCE_ORGANIC
from basketgym.contract.protocol import SURFACE_HOME, SURFACE_SEARCH
from basketgym.contract.rng import ranker_seed
from basketgym.rankers import make_ranker
from basketgym.rankers.validation import check_response
from basketgym.sim.config import load_scenario
from basketgym.sim.world import World


@pytest.fixture(scope="module")
def smoke():
    return load_scenario("smoke")


def _run(cfg, ranker="popularity", seed=None, **kw):
    return World(cfg, cfg.seed if seed is None else seed, make_ranker(ranker), ranker, **kw).run()


def _assert_same(a, b):
    for table in ("slates", "purchases", "sessions", "shoppers"):
        ta, tb = getattr(a, table), getattr(b, table)
        assert ta.keys() == tb.keys()
        for col in ta:
            assert np.array_equal(ta[col], tb[col]), f"{table}.{col} differs"


@pytest.mark.parametrize("ranker", ["random", "buy_again"])
def test_same_seed_same_bits(smoke, ranker):
    _assert_same(_run(smoke, ranker), _run(smoke, ranker))


def test_results_do_not_depend_on_chunk_size(smoke):
    _assert_same(_run(smoke, "random", chunk_size=7), _run(smoke, "random", chunk_size=4096))
    _assert_same(_run(smoke, "buy_again", chunk_size=13), _run(smoke, "buy_again", chunk_size=100_000))


@pytest.fixture(scope="module")
def tiny_mmoe(logged, tmp_path_factory):
    """A small MMoE model trained for one epoch on the smoke world's logged table, saved as a ranker directory."""
    from basketgym.rankers.learned.model import FitConfig, fit

    cfg = FitConfig(kind="mmoe", epochs=1, seed=2, network={"n_experts": 2, "expert_dim": 8, "tower_dim": 4})
    return str(fit(logged, cfg).save(tmp_path_factory.mktemp("models") / "mmoe"))


def test_learned_rankers_do_not_depend_on_chunk_size(smoke, tiny_mmoe):
    """Networks rank the same whatever the chunking: a saved MMoE serving, and value_mtl training on its own logs.

    Chunk sizes change how many rows each forward pass sees and in what order rows are logged;
    neither may change a bit of any log table (value_mtl fits on day 7 here and serves its model after).
    """
    cfg = smoke.replace(days=12)
    for name, make in (
        ("mmoe", lambda: make_ranker(tiny_mmoe)),
        ("value_mtl", lambda: make_ranker("value_mtl", min_rows=800, epochs=1)),
    ):
        rankers = [make() for _ in range(3)]
        runs = [World(cfg, 4, r, name, chunk_size=c).run() for r, c in zip(rankers, (23, 150, 4096), strict=True)]
        assert all(r.model is not None and r.model.kind == "mmoe" for r in rankers)
        assert len(runs[0].slates["slate"]) > 1000
        for other in runs[1:]:
            _assert_same(runs[0], other)


def test_different_seeds_differ(smoke):
    a, b = _run(smoke, seed=1), _run(smoke, seed=2)
    assert len(a.purchases["item_id"]) != len(b.purchases["item_id"])


def test_common_random_numbers_across_rankers(smoke):
    """Policy-independent shocks are shared: same shoppers, same first-day visits and queries."""
    no_home = smoke.replace(marketplace=dataclasses.replace(smoke.marketplace, home_slate_size=0))
    a, b = _run(no_home, "random"), _run(no_home, "margin_greedy")
    assert np.array_equal(a.shoppers["join_day"], b.shoppers["join_day"])
    day0 = [r.slates["day"] == 0 for r in (a, b)]
    # on day 0 nothing the ranker did has happened yet: the same searches are made
    assert np.array_equal(a.slates["shopper_id"][day0[0]], b.slates["shopper_id"][day0[1]])
    assert np.array_equal(a.slates["query"][day0[0]], b.slates["query"][day0[1]])
    # ... but the slates, and so the outcomes, differ
    assert not np.array_equal(a.slates["slate"][day0[0]], b.slates["slate"][day0[1]])
    # identical worlds built twice agree on the hidden state too
    w1 = World(no_home, 3, make_ranker("random"))
    w2 = World(no_home, 3, make_ranker("popularity"))
    for f in ("taste", "budget", "interval", "pantry_runout", "next_visit"):
        assert np.array_equal(getattr(w1.state, f), getattr(w2.state, f))


@pytest.mark.parametrize("ranker", ["random", "popularity", "buy_again", "margin_greedy"])
def test_log_invariants(smoke, ranker):
    r = _run(smoke, ranker)
    s, p, sess = r.slates, r.purchases, r.sessions
    slate = s["slate"]
    placed = slate >= 0
    # distinct items per slate, valid ids, propensities in (0, 1]
    srt = np.sort(np.where(placed, slate, -np.arange(1, slate.shape[1] + 1)), axis=1)
    assert (np.diff(srt, axis=1) != 0).all()
    assert ((s["propensity"][placed] > 0) & (s["propensity"][placed] <= 1)).all()
    assert not (s["clicked"] & ~placed).any() and not (s["purchased"] & ~s["clicked"]).any()
    # every purchased placement is one order line attributed to a slate, and vice versa
    assert s["purchased"].sum() == (p["source"] != SOURCE_ORGANIC).sum()
    assert sess["n_lines"].sum() == len(p["item_id"])
    assert np.isclose(sess["gtv"].sum(), p["price"].sum(), rtol=1e-5)
    assert np.isclose(sess["ad_revenue"].sum(), s["ad_revenue"].sum(), rtol=1e-5)
    # organic lines carry no position; slate lines do
    assert ((p["position"] == -1) == (p["source"] == SOURCE_ORGANIC)).all()
    # one visit per shopper per day
    assert len(np.unique(sess["session_id"])) == len(sess["session_id"])


def test_every_response_is_valid_against_its_request(smoke):
    """The full check (candidate membership, distinctness) on every call of a world."""
    checked = []

    class Checked:
        def __init__(self, inner):
            self.inner, self.name = inner, inner.name

        def reset(self, catalog, seed):
            self.catalog = catalog
            self.inner.reset(catalog, seed)

        def rank(self, request):
            response = self.inner.rank(request)
            check_response(request, response, self.catalog)
            checked.append(request.batch_size)
            return response

        def update(self, log):
            self.inner.update(log)

        def fit(self, day):
            self.inner.fit(day)

    for name in ("random", "popularity", "buy_again", "margin_greedy"):
        World(smoke.replace(days=8), 1, Checked(make_ranker(name))).run()
    assert sum(checked) > 1000


def test_events_change_prices_and_availability(smoke):
    w = World(smoke, smoke.seed, make_ranker("popularity"))
    promo, stockout = w.events.targets
    base = w.public.base_price[promo].copy()
    seen = {}

    def watch(day, days):
        seen[day] = (w.public.price[promo].copy(), w.public.available[stockout].copy())

    r = w.run(watch)
    # progress(d) is reported as day d-1 ends; the promotion runs on days 10..14, the stock-out 15..18
    assert np.allclose(seen[5][0], base) and seen[5][1].all()
    assert np.allclose(seen[11][0], np.round(base * 0.75, 2), atol=0.011)
    assert np.allclose(seen[16][0], base) and not seen[16][1].any() and seen[20][1].all()
    during = (r.purchases["day"] >= 15) & (r.purchases["day"] <= 18)
    assert not np.isin(r.purchases["item_id"][during], stockout).any()
    shown = r.slates["slate"][(r.slates["day"] >= 15) & (r.slates["day"] <= 18)]
    assert not np.isin(shown, stockout).any()


def test_new_products_stay_hidden_until_launch(smoke):
    cfg = smoke.replace(events=(dataclasses.replace(smoke.events[0], kind="new_products", day=12, count=25),))
    w = World(cfg, cfg.seed, make_ranker("random"))
    launched = w.events.targets[0]
    assert len(launched) == 25 and not w.public.available[launched].any()
    r = w.run()
    shown_day = r.slates["day"][np.isin(r.slates["slate"], launched).any(axis=1)]
    assert len(shown_day) > 0 and shown_day.min() >= 12


def test_cohorts_arrive_and_shop(smoke):
    r = _run(smoke)
    join = r.shoppers["join_day"]
    assert (join > 0).sum() > 30  # smoke: 2 per day over 30 days
    late = np.flatnonzero(join > 0)
    first_visit = {}
    for sid, d in zip(r.sessions["shopper_id"], r.sessions["day"], strict=True):
        first_visit.setdefault(int(sid), int(d))
    assert all(first_visit[s] >= join[s] for s in late if s in first_visit)
    assert sum(s in first_visit for s in late) > 10


def test_calendar_updates_daily_and_refits_on_cadence(smoke):
    calls = []

    class Spy:
        name = "spy"

        def __init__(self):
            self.inner = make_ranker("popularity")

        def reset(self, catalog, seed):
            self.inner.reset(catalog, seed)

        def rank(self, request):
            calls.append(("rank", request.day))
            return self.inner.rank(request)

        def update(self, log):
            calls.append(("update", int(log["sessions"]["day"][0]) if len(log["sessions"]["day"]) else None))
            self.inner.update(log)

        def fit(self, day):
            calls.append(("fit", day))

    World(smoke.replace(days=15), 1, Spy()).run()
    assert [d for k, d in calls if k == "fit"] == [6, 13]  # refit_every_days = 7, at the end of the day
    updates = [d for k, d in calls if k == "update"]
    assert len(updates) == 15
    # point in time: a day's log is ingested only after all of that day's ranking calls
    for i, (kind, day) in enumerate(calls):
        if kind == "update" and day is not None:
            assert all(d <= day for k, d in calls[:i] if k == "rank")
            assert all(d > day for k, d in calls[i + 1 :] if k == "rank")


def test_population_grows_beyond_its_first_allocation(smoke):
    w = World(smoke.replace(days=3), 1, make_ranker("buy_again"))
    before = w.state.capacity
    w._add_shoppers(np.arange(w.next_id, w.next_id + before), 1)  # more arrivals than the spare capacity
    w.next_id += before
    n0 = smoke.population.shoppers
    assert w.state.size == n0 + before and w.state.capacity >= w.state.size
    assert w.history.items.shape[0] == w.state.capacity
    assert (w.state.join_day[n0 : n0 + before] == 1).all() and (w.state.join_day[:n0] == 0).all()
    w.run()  # and the world keeps working


def test_population_init_does_not_depend_on_block_size(smoke, monkeypatch):
    from basketgym.sim import world as world_module

    a = World(smoke, 5, make_ranker("random")).state
    monkeypatch.setattr(world_module, "INIT_BLOCK", 37)
    b = World(smoke, 5, make_ranker("random")).state
    for f in ("taste", "budget", "interval", "weekly", "favourite_aisles", "pantry_runout", "next_visit"):
        assert np.array_equal(getattr(a, f), getattr(b, f)), f


def test_a_subset_world_lives_the_same_lives_under_a_population_independent_ranker(smoke):
    """A subset world's shoppers keep their ids, hence their draws and (under random) their logs.

    With a ranker whose slates do not depend on other shoppers, their whole logs match the full world's.
    """
    cfg = smoke.replace(days=20)
    full = World(cfg, cfg.seed, make_ranker("random")).run()
    ids = np.arange(3, 300, 7)
    part = World(cfg, cfg.seed, make_ranker("random"), shoppers=ids).run()
    assert part.shoppers["shopper_id"].tolist() == ids.tolist()
    for table in ("slates", "purchases", "sessions"):
        mine = np.isin(getattr(full, table)["shopper_id"], ids)
        assert mine.sum() > 20
        for col, values in getattr(part, table).items():
            assert np.array_equal(values, getattr(full, table)[col][mine]), f"{table}.{col}"
    with pytest.raises(ValueError, match="ids must be in"):
        World(cfg, cfg.seed, make_ranker("random"), shoppers=[cfg.population.shoppers])


def test_advancing_the_calendar_day_by_day_equals_a_full_run(smoke):
    from basketgym.sim.clock import Calendar

    cfg = smoke.replace(days=20)  # crosses the promotion (days 10-14) and the stock-out (15-18)
    whole = World(cfg, cfg.seed, make_ranker("buy_again")).run()
    w = World(cfg, cfg.seed, make_ranker("buy_again"))
    cal = Calendar(w, cfg.days)
    sessions = []
    while not cal.finished:
        sessions.append(len(cal.advance(1)["sessions"]["day"]))
    assert cal.days_done == 20 and sum(sessions) == len(whole.sessions["day"])
    stepped = w.result()
    assert np.array_equal(stepped.purchases["item_id"], whole.purchases["item_id"])
    assert np.array_equal(stepped.slates["slate"], whole.slates["slate"])
    assert np.array_equal(stepped.shoppers["churn_day"], whole.shoppers["churn_day"])


class _OffCandidate:
    """Popularity, except that on ``surface`` row 1's first placement is an available item not among its candidates."""

    name = "off_candidate"

    def __init__(self, surface):
        self.inner, self.surface, self.placed = make_ranker("popularity"), surface, None

    def reset(self, catalog, seed):
        self.catalog = catalog
        self.inner.reset(catalog, seed)

    def rank(self, request):
        resp = self.inner.rank(request)
        if request.surface != self.surface or request.batch_size < 2 or self.placed is not None:
            return resp
        row = request.candidates[1]
        outside = np.flatnonzero(self.catalog.available & ~np.isin(np.arange(self.catalog.n_products), row))
        if request.surface == SURFACE_SEARCH:  # an off-aisle item: the shopper searched another aisle
            outside = outside[self.catalog.aisle[outside] != request.query[1]]
        slate = resp.slate.copy()
        self.placed = int(outside[0])
        slate[1, 0] = self.placed
        return dataclasses.replace(resp, slate=slate)

    def update(self, log):
        self.inner.update(log)

    def fit(self, day):
        self.inner.fit(day)


@pytest.mark.parametrize(("surface", "where"), [(SURFACE_SEARCH, "search (query aisle "), (SURFACE_HOME, "home row")])
def test_the_world_rejects_a_slate_item_outside_the_rows_candidates(smoke, surface, where):
    ranker = _OffCandidate(surface)
    with pytest.raises(RankerError) as err:
        World(smoke.replace(days=3), 1, ranker, "off_candidate").run()
    msg = str(err.value)
    assert msg.startswith("ranker 'off_candidate': " + where) and " row 1 (shopper " in msg
    assert msg.endswith(f"places item {ranker.placed} at position 0, which is not among the row's candidates")


class _Hooked:
    """Popularity with the attribute the world once asked its ranker for: a truth observer's hook."""

    name = "hooked"

    def __init__(self):
        self.inner, self.calls = make_ranker("popularity"), []
        self.counterfactuals = self

    def pending(self):
        self.calls.append("pending")
        return {}

    def record(self, *args):
        self.calls.append("record")

    def reset(self, catalog, seed):
        self.inner.reset(catalog, seed)

    def rank(self, request):
        return self.inner.rank(request)

    def update(self, log):
        self.inner.update(log)

    def fit(self, day):
        self.inner.fit(day)


def test_a_ranker_defining_the_truth_hook_gets_nothing(smoke):
    hooked = _Hooked()
    cfg = smoke.replace(days=6)
    _assert_same(World(cfg, 2, hooked, "hooked").run(), World(cfg, 2, make_ranker("popularity"), "p").run())
    assert hooked.calls == []
    # the observer argument is the one way in: an object passed as observer is asked on every ranking call
    observed = _Hooked()
    w = World(cfg, 2, make_ranker("popularity"), "p", observer=observed)
    w.run()
    assert observed.calls.count("pending") == observed.calls.count("record") == len(w.sessions.latency) >= 12


def test_the_ranker_gets_its_own_seed_and_read_only_inputs(smoke):
    seen = {}

    class Probe(_Hooked):
        def reset(self, catalog, seed):
            seen["seed"], seen["catalog"] = seed, catalog
            super().reset(catalog, seed)

        def rank(self, request):
            seen["request"] = request
            return super().rank(request)

        def update(self, log):
            seen["log"] = log
            super().update(log)

    w = World(smoke.replace(days=2), 5, Probe(), "probe")
    w.run()
    assert seen["seed"] == ranker_seed(5) != 5
    cat, req, log = seen["catalog"], seen["request"], seen["log"]
    arrays = [cat.price, cat.available, cat.shelf, req.candidates, req.shopper_ids, req.query]
    arrays += [a for t in log.values() for a in t.values()]
    assert all(not a.flags.writeable for a in arrays)
    with pytest.raises(ValueError, match="read-only"):
        cat.price[0] = 1.0
    # views of the live catalog: an event's price change reaches the ranker
    w.public.price[3] = 123.0
    assert cat.price[3] == np.float32(123.0) and w.public.price.flags.writeable
