"""Twin worlds: exact per-shopper effects (placebo, cohort), surface ablations, traffic splits, the bootstrap."""

import dataclasses

import numpy as np
import pandas as pd
import pytest

from basketgym.contract.protocol import RankResponse
from basketgym.eval.outcomes.incrementality import attribution, incrementality, paired_differences
from basketgym.eval.outcomes.metrics import evaluate_world
from basketgym.eval.stats.bootstrap import bootstrap_seed_means
from basketgym.eval.stats.intervals import t_interval
from basketgym.rankers import make_ranker
from basketgym.rankers.composite import ABLATIONS, SurfaceAblation, TrafficSplit, treatment_assignment
from basketgym.sim.config import load_scenario
from basketgym.sim.world import World

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


class _Placebo:
    """The control's slates computed another way: each batch answered in two reversed halves, then put back in order.

    Every answer is the same because a baseline's row depends only on that row, so this world must be
    the control's, shopper by shopper; a world whose outcomes leaked anything else (batch order, call
    count, object identity) would show it.
    """

    name = "placebo"

    def __init__(self, inner):
        self.inner, self.calls = inner, 0

    def reset(self, catalog, seed):
        self.inner.reset(catalog, seed)

    def rank(self, request):
        b = request.batch_size
        parts = []
        for rows in (np.arange(b // 2, b)[::-1], np.arange(b // 2)[::-1]):
            if len(rows):
                self.calls += 1
                sub = dataclasses.replace(request, shopper_ids=request.shopper_ids[rows], query=request.query[rows],
                                          candidates=request.candidates[rows])  # fmt: skip
                parts.append((rows, self.inner.rank(sub)))
        slate = np.full((b, request.slate_size), -1, np.int32)
        prop, sponsored = np.ones(slate.shape, np.float32), np.zeros(slate.shape, bool)
        for rows, resp in parts:
            slate[rows], prop[rows], sponsored[rows] = resp.slate, resp.propensity, resp.sponsored
        return RankResponse(slate, prop, sponsored)

    def update(self, log):
        self.inner.update(log)

    def fit(self, day):
        self.inner.fit(day)


class _EvenShoppers(_Placebo):
    """``treatment``'s slates for shoppers with an even id, the control's for everyone else (a cohort change)."""

    name = "even_shoppers"

    def __init__(self, control, treatment):
        self.inner, self.treatment = control, treatment

    def reset(self, catalog, seed):
        self.inner.reset(catalog, seed)
        self.treatment.reset(catalog, seed)

    def rank(self, request):
        resp = self.inner.rank(request)
        even = np.flatnonzero(request.shopper_ids % 2 == 0)
        if len(even) == 0:
            return resp
        sub = dataclasses.replace(request, shopper_ids=request.shopper_ids[even], query=request.query[even],
                                  candidates=request.candidates[even])  # fmt: skip
        alt = self.treatment.rank(sub)
        slate, prop, sponsored = resp.slate.copy(), resp.propensity.copy(), resp.sponsored.copy()
        slate[even], prop[even], sponsored[even] = alt.slate, alt.propensity, alt.sponsored
        return RankResponse(slate, prop, sponsored)

    def update(self, log):
        self.inner.update(log)
        self.treatment.update(log)


def _all_outcomes(table):
    return [c for c in table.columns if c != "shopper_id" and np.issubdtype(table[c].dtype, np.number)]


def _changed_shoppers(a, b):
    """Shoppers who met at least one slate that differs between results ``a`` and ``b`` (or a slate only one has)."""
    frames = []
    for res in (a, b):
        s = res.slates
        frames.append(
            pd.DataFrame(
                {
                    "session_id": s["session_id"],
                    "surface": s["surface"],
                    "query": s["query"],
                    "shopper_id": s["shopper_id"],
                    "shown": [r.tobytes() + f.tobytes() for r, f in zip(s["slate"], s["sponsored"], strict=True)],
                }
            )
        )
    m = frames[0].merge(frames[1], on=["session_id", "surface", "query"], how="outer", suffixes=("_a", "_b"))
    differs = m["shown_a"].isna() | m["shown_b"].isna() | (m["shown_a"] != m["shown_b"])
    return set(m.loc[differs, "shopper_id_a"].dropna().astype(int)) | set(
        m.loc[differs, "shopper_id_b"].dropna().astype(int)
    )


def test_a_placebo_ranker_has_exactly_zero_effect_for_every_shopper_on_every_outcome(cfg):
    """Not the control against itself (0 by construction): another code path with the same slates."""
    # buy_again learns and reads each shopper's history: the demanding case
    placebo = _Placebo(make_ranker("buy_again"))
    twin = World(cfg, 3, placebo, "placebo", keep_slates=True).run()
    control = World(cfg, 3, make_ranker("buy_again"), "buy_again", keep_slates=True).run()
    assert placebo.calls > 2 * cfg.days  # both halves of many batches: the other code path really ran
    assert not _changed_shoppers(twin, control)
    ours, theirs = evaluate_world(cfg, twin)[0], evaluate_world(cfg, control)[0]
    cols = _all_outcomes(ours)
    d = paired_differences(ours, theirs, cols)
    assert len(cols) >= 10 and d.shape[0] > 400 and np.all(np.nan_to_num(d) == 0)


def test_a_cohort_change_moves_only_the_shoppers_who_meet_a_changed_slate(cfg):
    """Even-id shoppers get buy_again's slates: everyone who never met a changed slate is exactly unchanged."""
    treated = World(cfg, 4, _EvenShoppers(make_ranker("margin_greedy"), make_ranker("buy_again")), "x",
                    keep_slates=True).run()  # fmt: skip
    control = World(cfg, 4, make_ranker("margin_greedy"), "margin_greedy", keep_slates=True).run()
    changed = _changed_shoppers(treated, control)
    ours, theirs = evaluate_world(cfg, treated)[0], evaluate_world(cfg, control)[0]
    cols = _all_outcomes(ours)
    d = pd.DataFrame(paired_differences(ours, theirs, cols), columns=cols, index=ours["shopper_id"].sort_values())
    moved = set(d.index[(np.nan_to_num(d.to_numpy()) != 0).any(axis=1)])
    untouched = set(d.index) - changed
    assert all(s % 2 == 0 for s in changed) and len(changed) > 100  # margin_greedy does not learn: odd ids never move
    assert len(untouched) > 150 and moved <= changed and moved  # exactly 0 outside, non-zero inside the cohort
    # with a control that learns from everyone's purchases the odd shoppers meet changed slates too (interference),
    # and still only those who met one move
    treated = World(cfg, 4, _EvenShoppers(make_ranker("popularity"), make_ranker("buy_again")), "x",
                    keep_slates=True).run()  # fmt: skip
    control = World(cfg, 4, make_ranker("popularity"), "popularity", keep_slates=True).run()
    changed = _changed_shoppers(treated, control)
    ours, theirs = evaluate_world(cfg, treated)[0], evaluate_world(cfg, control)[0]
    d = paired_differences(ours, theirs, cols)
    moved = set(ours.set_index("shopper_id").index[(np.nan_to_num(d) != 0).any(axis=1)])
    untouched = set(ours["shopper_id"]) - changed
    # measured: 435 of 477 shoppers meet a changed slate, 217 of them odd; 42 never do, and all 42 are unchanged
    assert sum(s % 2 for s in moved) > 100 and moved <= changed and len(untouched) > 20


def test_twins_hold_the_same_shoppers_and_differ_where_the_ranker_matters(worlds):
    table = incrementality(worlds, ["buy_again"], "popularity", [1, 2], COLS, 300, 0).set_index("metric")
    assert not table["exact_zero"].any()
    # the headline interval is the t-interval across seeds of the per-seed paired means
    assert (table["ci_low"] <= table["mean"]).all() and (table["mean"] <= table["ci_high"]).all()
    for m in COLS:
        per_seed = [
            np.nanmean(paired_differences(worlds[("buy_again", s)], worlds[("popularity", s)], [m])) for s in (1, 2)
        ]
        want = t_interval(np.array(per_seed))
        assert (table.at[m, "ci_low"], table.at[m, "ci_high"]) == (pytest.approx(want.low), pytest.approx(want.high))
    assert (table["shoppers_ci_low"] <= table["mean"]).all() and (table["mean"] <= table["shoppers_ci_high"]).all()


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
    m1, lo1, hi1 = bootstrap_seed_means(per_seed, 1000, 3, over_seeds=False)
    m2, lo2, hi2 = bootstrap_seed_means(per_seed, 1000, 3, over_seeds=False)
    assert (lo1 == lo2).all() and (hi1 == hi2).all()
    pooled = np.concatenate(per_seed)[:, 0]
    normal_half = 1.96 * pooled.std() / np.sqrt(len(pooled))
    # 1,000 replicates estimate a percentile half-width to within a few percent
    assert (hi1 - lo1)[0] / 2 == pytest.approx(normal_half, rel=0.1)
    _, lo3, hi3 = bootstrap_seed_means(per_seed, 1000, 3, over_seeds=True)
    assert (hi3 - lo3)[0] > (hi1 - lo1)[0]  # worlds vary too
    assert np.isnan(t_interval(np.array([1.0])).low) and t_interval(np.array([1.0, 3.0])).value == 2.0
