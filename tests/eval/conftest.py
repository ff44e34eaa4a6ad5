"""A hand-made three-shopper world, small enough to check every outcome by hand."""

from __future__ import annotations

import numpy as np
import pytest

DAYS = 20


def _session_id(day: int, shopper: int) -> int:
    return (day << 32) | shopper


def make_world() -> dict[str, dict[str, np.ndarray]]:
    """Event log and truth of a 20-day run with three shoppers.

    Shopper 0 shops on days 0, 3, 10; shopper 1 joins on day 0, visits days 2 and 4 (no lines on
    day 4) and churns on day 8; shopper 2 joins on day 5 and shops on days 5 and 19.
    """
    # (shopper, day, n_slates, n_lines, gtv, margin, ad_revenue); dyadic money: exact in float32
    visits = [
        (0, 0, 3, 2, 10.0, 2.0, 0.5),
        (0, 3, 2, 3, 15.0, 3.0, 0.0),
        (0, 10, 1, 1, 5.0, 1.0, 1.0),
        (1, 2, 2, 2, 4.0, 0.75, 0.0),
        (1, 4, 1, 0, 0.0, 0.0, 0.25),
        (2, 5, 4, 1, 3.0, 0.5, 0.0),
        (2, 19, 1, 1, 3.0, 0.5, 0.0),
    ]
    sh, day, n_slates, n_lines, gtv, margin, ad = map(np.array, zip(*visits, strict=True))
    sessions = {
        "session_id": np.array([_session_id(d, s) for s, d in zip(sh, day, strict=True)], np.int64),
        "shopper_id": sh.astype(np.int32),
        "day": day.astype(np.int32),
        "n_slates": n_slates.astype(np.int16),
        "n_lines": n_lines.astype(np.int16),
        "gtv": gtv.astype(np.float32),
        "margin": margin.astype(np.float32),
        "ad_revenue": ad.astype(np.float32),
    }
    # (shopper, day, item, source, sponsored, is_reorder), deliberately not in time order
    lines = [
        (0, 10, 11, 2, False, True),  # bought on day 0 too
        (2, 19, 10, 1, False, True),  # shopper 2's own earlier purchase on day 5
        (0, 0, 10, 1, True, False),
        (0, 3, 10, 0, False, True),
        (1, 2, 10, 1, False, False),  # twice in the same session: neither is a re-order
        (0, 0, 11, 1, False, False),
        (0, 3, 12, 2, False, False),
        (1, 2, 10, 1, False, False),
        (0, 3, 10, 0, True, True),
        (2, 5, 10, 1, False, False),  # others bought item 10 before: not a re-order for shopper 2
    ]
    p_sh, p_day, item, source, sponsored, reorder = map(np.array, zip(*lines, strict=True))
    purchases = {
        "session_id": np.array([_session_id(d, s) for s, d in zip(p_sh, p_day, strict=True)]),
        "shopper_id": p_sh.astype(np.int32),
        "day": p_day.astype(np.int32),
        "item_id": item.astype(np.int32),
        "aisle": np.zeros(len(lines), np.int16),
        "price": np.ones(len(lines), np.float32),
        "margin": np.zeros(len(lines), np.float32),
        "source": source.astype(np.int8),
        "position": np.where(source == 2, -1, 0).astype(np.int8),
        "sponsored": sponsored.astype(bool),
        "expected_reorder": reorder.astype(bool),
    }
    shoppers = {
        "shopper_id": np.array([0, 1, 2], np.int32),
        "join_day": np.array([0, 0, 5], np.int32),
        "churn_day": np.array([-1, 8, -1], np.int32),
    }
    return {"sessions": sessions, "purchases": purchases, "shoppers": shoppers}


@pytest.fixture
def world() -> dict[str, dict[str, np.ndarray]]:
    """A fresh copy of the hand-made world for each test."""
    return make_world()


@pytest.fixture
def days() -> int:
    """Length of the hand-made world's run."""
    return DAYS


@pytest.fixture
def facts_per_seed():
    """A builder of realism facts per seed (7, 8, ...): graded reorder_share, ungraded trips, search CTR if given."""
    from basketgym.eval.outcomes.facts import _fact

    def _seeds(*values_per_seed):
        """Per seed (7, 8, ...): a graded reorder_share, an ungraded trips fact, and a search CTR fact if given."""
        out = {}
        for i, (reorder, trips, search) in enumerate(values_per_seed):
            facts = [_fact("reorder_share", reorder, 0.59, 0.50, 0.68, "Instacart"),
                     _fact("trips_per_active_week", trips, 1.1, None, None, "dunnhumby")]  # fmt: skip
            if search is not None:
                facts.append(_fact("ctr_rank_correlation_search", search, -1.0, -1.0, -0.8, "position bias"))
            out[7 + i] = facts
        return out

    return _seeds
