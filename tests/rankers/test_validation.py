"""check_response names the first broken slate rule."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from basketgym.contract.errors import RankerError
from basketgym.contract.protocol import SURFACE_SEARCH, RankRequest, RankResponse
from basketgym.rankers.validation import check_response


@pytest.fixture
def case(catalog):
    items = np.flatnonzero(catalog.available & catalog.ad_eligible)[:4]
    plain = np.flatnonzero(catalog.available & ~catalog.ad_eligible)[:4]
    cands = np.array([[items[0], -1, plain[0], items[1], plain[1]], [plain[2], -1, -1, -1, items[2]]], np.int32)
    req = RankRequest(3, SURFACE_SEARCH, np.array([10, 11]), np.array([0, 0], np.int32), cands, 4, (0, 2), 1)
    slate = np.array([[items[0], plain[0], items[1], plain[1]], [items[2], plain[2], -1, -1]], np.int32)
    resp = RankResponse(slate, np.where(slate >= 0, 1.0, 0.0).astype(np.float32), np.zeros((2, 4), bool))
    resp.sponsored[0, 0] = True
    check_response(req, resp, catalog)  # the valid starting point
    return req, resp, catalog


def _broken(case, **arrays):
    req, resp, catalog = case
    changed = {k: v(getattr(resp, k).copy()) for k, v in arrays.items()}
    return req, dataclasses.replace(resp, **changed), catalog


def _set(index, value):
    def f(a):
        a[index] = value
        return a

    return f


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"slate": lambda a: a[:, :3]}, r"slate has shape \(2, 3\), expected \(2, 4\)"),
        ({"slate": lambda a: a.astype(np.int64)}, "slate has dtype int64, expected int32"),
        ({"slate": _set((0, 1), -1)}, r"row 0 \(shopper 10, day 3, search\): -1 at position 1 is followed by an item"),
        ({"slate": _set((1, 1), 1)}, r"row 1 .*: the item at position 1 is not among the row's candidates \(item 1\)"),
        ({"slate": _set((0, 3), -1)}, "row 0 .*: 3 items placed but the row has 4 valid candidates and slate size 4"),
        ({"slate": _set((1, 2), -5)}, "row 1 .*: slate holds an id < -1 at position 2"),
        ({"propensity": _set((0, 2), 0.0)}, r"propensity at position 2 is not in \(0, 1\]"),
        ({"propensity": _set((1, 0), 1.5)}, r"row 1 .*: propensity at position 0 is not in \(0, 1\]"),
        ({"sponsored": _set((1, 3), True)}, "sponsored flag on the empty position 3"),
        ({"sponsored": _set((0, 2), True)}, "more than 1 sponsored placements"),
        ({"sponsored": lambda a: a.astype(np.int8)}, "sponsored has dtype int8, expected bool"),
    ],
)
def test_each_rule(case, change, message):
    with pytest.raises(RankerError, match=message):
        check_response(*_broken(case, **change))


def test_duplicates(case):
    req, resp, catalog = case
    slate = resp.slate.copy()
    slate[0, 3] = slate[0, 2]
    with pytest.raises(RankerError, match="row 0 .*: an item appears twice"):
        check_response(req, dataclasses.replace(resp, slate=slate), catalog)


def test_catalog_rules(case):
    req, resp, catalog = case
    sp = resp.sponsored.copy()
    sp[0, 0], sp[0, 1] = False, True  # plain[0] is not ad-eligible
    with pytest.raises(RankerError, match=r"sponsored item at position 1 is not ad-eligible \(item \d+\)"):
        check_response(req, dataclasses.replace(resp, sponsored=sp), catalog)
    check_response(req, dataclasses.replace(resp, sponsored=sp))  # without a catalog: not checked
    catalog.available[resp.slate[1, 0]] = False
    with pytest.raises(RankerError, match="row 1 .*: unavailable item at position 0"):
        check_response(req, resp, catalog)
