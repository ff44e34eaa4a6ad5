"""Common random numbers across scenario variants: widening a slate keeps every shock the narrower one had."""

import dataclasses

import numpy as np
import pytest

from basketgym.contract.protocol import SURFACE_HOME, SURFACE_SEARCH
from basketgym.rankers import make_ranker
from basketgym.sim.config import load_scenario
from basketgym.sim.world import World


@pytest.fixture(scope="module")
def one_day():
    return load_scenario("smoke").replace(days=1)


def _day0(cfg, surface, **sizes):
    """Day 0's slates of ``surface`` under popularity, in a world with the given marketplace slate sizes."""
    # ads only at position 0: an ad slot beyond the narrow width would move organic items into it
    cfg = cfg.replace(marketplace=dataclasses.replace(cfg.marketplace, ad_positions=(0,), **sizes))
    s = World(cfg, cfg.seed, make_ranker("popularity"), "popularity").run().slates
    return {k: v[s["surface"] == surface] for k, v in s.items()}


@pytest.mark.parametrize(
    ("surface", "key", "narrow", "wide"),
    [(SURFACE_HOME, "home_slate_size", 3, 8), (SURFACE_SEARCH, "slate_size", 3, 10)],
)
def test_a_wider_slate_meets_the_same_examination_shocks_in_its_first_positions(one_day, surface, key, narrow, wide):
    a, b = _day0(one_day, surface, **{key: narrow}), _day0(one_day, surface, **{key: wide})
    # on day 0 nothing the slates did has happened yet: the same shoppers read the same requests...
    assert len(a["shopper_id"]) > 50
    assert np.array_equal(a["shopper_id"], b["shopper_id"]) and np.array_equal(a["query"], b["query"])
    # ... and where popularity's narrow slate is the wide slate's prefix (most rows; ties among equal
    # scores may be cut differently), each (shopper, day, position) of the prefix shows the same item
    same = (a["slate"][:, :narrow] == b["slate"][:, :narrow]).all(axis=1)
    assert same.mean() > 0.8
    # a click needs the position examined (an examination draw keyed by shopper, day and position)
    # and the item's utility shock (keyed by item): every click of those prefixes must be the same
    clicks_a, clicks_b = a["clicked"][same, :narrow], b["clicked"][same, :narrow]
    assert clicks_a.sum() > 20
    assert np.array_equal(clicks_a, clicks_b)
