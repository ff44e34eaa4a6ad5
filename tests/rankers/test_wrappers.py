"""RankerWrapper forwards the protocol unless overridden and reaches the innermost ranker; RankerPair feeds both."""

from __future__ import annotations

import numpy as np
import pytest

from basketgym.contract.protocol import Ranker, RankRequest, RankResponse
from basketgym.rankers import make_ranker
from basketgym.rankers.composite import SurfaceAblation, TrafficSplit
from basketgym.rankers.exploration import EpsilonGreedy
from basketgym.rankers.learned.dataset import FeatureLogger
from basketgym.rankers.testing import home_request
from basketgym.rankers.treatment import ExposureTest
from basketgym.rankers.wrappers import RankerPair, RankerWrapper
from basketgym.sim.config import load_scenario
from basketgym.sim.world import World


class Recorder:
    """A ranker that answers a fixed response and records every call it gets."""

    name = "recorder"

    def __init__(self) -> None:
        self.calls: list[tuple] = []
        self.answer = RankResponse(np.array([[7, -1]], np.int32), np.array([[1.0, 0.0]], np.float32),
                                   np.zeros((1, 2), bool))  # fmt: skip

    def reset(self, catalog: object, seed: int) -> None:
        self.calls.append(("reset", catalog, seed))

    def rank(self, request: RankRequest) -> RankResponse:
        self.calls.append(("rank", request))
        return self.answer

    def update(self, day_log: dict) -> None:
        self.calls.append(("update", day_log))

    def fit(self, day: int) -> None:
        self.calls.append(("fit", day))


class Reversed(RankerWrapper):
    """Overrides ``rank`` (reversed slates) and ``fit`` (refits only on even days); forwards the rest."""

    def rank(self, request: RankRequest) -> RankResponse:
        resp = self.ranker.rank(request)
        return RankResponse(resp.slate[:, ::-1], resp.propensity[:, ::-1], resp.sponsored[:, ::-1])

    def fit(self, day: int) -> None:
        if day % 2 == 0:
            super().fit(day)


def _drive(ranker: Ranker) -> tuple[object, dict, RankResponse]:
    catalog, log = object(), {"sessions": {}}
    ranker.reset(catalog, 11)
    resp = ranker.rank("request")
    ranker.update(log)
    ranker.fit(3)
    ranker.fit(4)
    return catalog, log, resp


def test_a_wrapper_forwards_every_protocol_call_with_its_arguments():
    inner = Recorder()
    wrapper = RankerWrapper(inner)
    catalog, log, resp = _drive(wrapper)
    assert inner.calls == [("reset", catalog, 11), ("rank", "request"), ("update", log), ("fit", 3), ("fit", 4)]
    assert resp is inner.answer
    assert wrapper.name == "recorder"
    assert wrapper.ranker is inner and wrapper.unwrapped is inner


def test_a_subclass_overrides_what_it_changes_and_forwards_the_rest():
    inner = Recorder()
    catalog, log, resp = _drive(Reversed(inner))
    assert inner.calls == [("reset", catalog, 11), ("rank", "request"), ("update", log), ("fit", 4)]
    assert resp.slate.tolist() == [[-1, 7]] and resp.propensity.tolist() == [[0.0, 1.0]]


def test_the_name_is_forwarded_unless_the_wrapper_has_its_own():
    inner = Recorder()
    wrapper = RankerWrapper(inner)
    inner.name = "renamed"
    assert wrapper.name == "renamed"  # read through, not copied
    assert RankerWrapper(inner, name="mine").name == "mine"
    wrapper.name = "set later"
    assert (wrapper.name, inner.name) == ("set later", "renamed")
    # a class attribute is a wrapper's own name too (the logging policies' registry names)
    greedy = make_ranker("epsilon_greedy", base="buy_again")
    assert (greedy.name, greedy.ranker.name) == ("epsilon_greedy", "buy_again")
    assert EpsilonGreedy(make_ranker("popularity"), name="explorer").name == "explorer"


def test_unwrapped_reaches_the_innermost_ranker_through_two_layers():
    inner = Recorder()
    assert RankerWrapper(Reversed(inner)).unwrapped is inner
    popularity = make_ranker("popularity")
    logger = FeatureLogger(make_ranker("epsilon_greedy", base=popularity, epsilon=0.2))
    assert logger.unwrapped is popularity and logger.ranker.unwrapped is popularity
    assert logger.name == "epsilon_greedy"


def test_wrappers_are_rankers_for_isinstance_and_the_world():
    popularity = make_ranker("popularity")
    for wrapper in (RankerWrapper(popularity), ExposureTest(popularity), FeatureLogger(popularity),
                    make_ranker("plackett_luce"), SurfaceAblation(popularity, popularity, "ads")):  # fmt: skip
        assert isinstance(wrapper, Ranker), type(wrapper).__name__
    assert not isinstance(RankerWrapper(object()), Ranker)  # no name to forward: not a ranker
    cfg = load_scenario("smoke").replace(days=4)
    wrapped = World(cfg, cfg.seed, RankerWrapper(RankerWrapper(make_ranker("buy_again"))))
    plain = World(cfg, cfg.seed, make_ranker("buy_again"))
    assert wrapped.ranker_name == "buy_again"
    got, want = wrapped.run(), plain.run()
    for table in ("slates", "purchases", "sessions"):
        a, b = getattr(got, table), getattr(want, table)
        assert a.keys() == b.keys() and all(np.array_equal(a[c], b[c]) for c in a), table
    assert len(got.purchases["day"]) > 100


def test_a_wrapper_forwards_only_the_protocol():
    wrapper = RankerWrapper(make_ranker("popularity"))
    assert not hasattr(wrapper, "score") and not hasattr(wrapper, "features")
    assert hasattr(wrapper.unwrapped, "score")


class Alternate(RankerPair):
    """Even rows to the first ranker, odd rows to the second (one row per request here)."""

    def rank(self, request: RankRequest) -> RankResponse:
        return (self.first if request == "even" else self.second).rank(request)


def test_a_pair_feeds_both_rankers_and_routes_rows():
    first, second = Recorder(), Recorder()
    pair = Alternate(first, second, "alternate")
    catalog, log, _ = _drive(pair)
    pair.rank("even")
    assert first.calls == [("reset", catalog, 11), ("update", log), ("fit", 3), ("fit", 4), ("rank", "even")]
    assert second.calls == [("reset", catalog, 11), ("rank", "request"), ("update", log), ("fit", 3), ("fit", 4)]
    assert pair.name == "alternate" and isinstance(pair, Ranker) and not isinstance(pair, RankerWrapper)
    with pytest.raises(TypeError, match="abstract"):
        RankerPair(first, second, "no rank")


def test_the_composites_are_pairs_named_after_their_rankers(catalog, rng):
    control, treatment = make_ranker("popularity"), make_ranker("buy_again")
    split = TrafficSplit(control, treatment, share=1.0, start_day=0)
    assert isinstance(split, RankerPair) and split.name == "split(popularity,buy_again)"
    split.reset(catalog, 5)
    treatment.reset(catalog, 5)
    request = home_request(catalog, rng, batch=50, day=2)
    assert np.array_equal(split.rank(request).slate, treatment.rank(request).slate)
    assert SurfaceAblation(treatment, control, "home").name == "buy_again~no_home"
