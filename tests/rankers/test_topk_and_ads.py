"""Top-K by packed keys and the shared ad auction, against brute-force references."""

from __future__ import annotations

import numpy as np
import pytest

from basketgym.rankers import ads, topk


def _reference_order(scores: np.ndarray) -> np.ndarray:
    """Descending score, ties to the lower column (-0.0 equals 0.0), -inf last."""
    b, c = scores.shape
    cols = np.broadcast_to(np.arange(c), (b, c))
    return np.lexsort((cols, -(scores.astype(np.float64) + 0.0)), axis=1)


def test_order_matches_lexsort_with_ties_signed_zeros_and_infinities(rng):
    s = rng.standard_normal((500, 48)).astype(np.float32)
    s[:, :10] = np.round(s[:, :10])  # many ties
    s[:, 10] = -0.0
    s[:, 11] = 0.0
    s[rng.random(s.shape) < 0.2] = -np.inf
    s[:, 12] = np.inf
    s[:, 13] = np.finfo(np.float32).min
    np.testing.assert_array_equal(topk.order(s), _reference_order(s))


def test_topk_flags_candidates_scored_minus_infinity(rng):
    s = rng.random((4, 6)).astype(np.float32)
    s[0, :] = -np.inf
    s[1, [1, 3]] = -np.inf
    cols, ok = topk.topk(s, 5)
    assert cols.shape == (4, 5)
    assert ok.sum(axis=1).tolist() == [0, 4, 5, 5]
    np.testing.assert_array_equal(cols[2], np.argsort(-s[2], kind="stable")[:5])


def test_argpartition_reference_agrees_without_ties(rng):
    s = rng.random((200, 48)).astype(np.float32)
    np.testing.assert_array_equal(topk.topk(s, 10)[0], topk.topk_argpartition(s, 10))


def test_ad_slots_sorted_unique_below_k_and_capped():
    assert ads.ad_slots((9, 2, 2, 30, 0), 10, 5).tolist() == [0, 2, 9]
    assert ads.ad_slots((0, 4), 3, 3).tolist() == [0]
    assert ads.ad_slots((0, 4, 6), 10, 2).tolist() == [0, 4]
    assert ads.ad_slots((0, 4), 10, 0).tolist() == []


def _brute_auction(keys, bid, n):
    """Row by row: value = bid x pCTR(rank) (the float32 pCTR table, so float ties are the same)."""
    order = topk.key_columns(keys)
    pctr = ads.rank_pctr(order.shape[1])
    out = []
    for b in range(len(order)):
        vals = [(bid[b, c] * pctr[r], -r, c) for r, c in enumerate(order[b]) if bid[b, c] > 0]
        best = sorted(vals, reverse=True)[:n]
        out.append([c for _, _, c in best] + [-1] * (n - len(best)))
    return np.array(out)


@pytest.mark.parametrize("window", [4, 24, 48])
def test_auction_is_bid_times_rank_pctr_whatever_the_window(rng, window):
    b, c = 300, 48
    s = rng.random((b, c)).astype(np.float32)
    s[rng.random((b, c)) < 0.3] = -np.inf
    bid = np.where((rng.random((b, c)) < 0.3) & (s > -np.inf), np.round(rng.random((b, c)), 1), 0).astype(np.float32)
    bid[:20] = 0  # rows without eligible candidates
    keys = topk.sorted_keys(s)
    cols, rank = ads.auction(keys, bid, 3, window=window)
    np.testing.assert_array_equal(cols, _brute_auction(keys, bid, 3))
    order = topk.key_columns(keys)
    hit = rank >= 0
    np.testing.assert_array_equal(np.take_along_axis(order, np.maximum(rank, 0), axis=1)[hit], cols[hit])
    assert (cols[:20] == -1).all()


def test_assemble_never_duplicates_and_fills_around_ads(rng):
    b, c, k = 400, 30, 10
    s = rng.random((b, c)).astype(np.float32)
    s[rng.random((b, c)) < 0.5] = -np.inf
    bid = np.where(rng.random((b, c)) < 0.4, rng.random((b, c)), 0).astype(np.float32) * (s > -np.inf)
    keys = topk.sorted_keys(s)
    n_ok = (s > -np.inf).sum(axis=1)
    positions = ads.ad_slots((0, 4, 7), k, 3)
    ad_cols, ad_rank = ads.auction(keys, bid, len(positions))
    organic = topk.key_columns(keys, min(c, k + len(positions)))
    cols, sponsored = ads.assemble(organic, n_ok, ad_cols, positions, k, ad_rank)
    full_order = topk.key_columns(keys)
    for r in range(b):
        row = cols[r]
        placed = row[row >= 0]
        assert len(placed) == min(k, n_ok[r])
        assert len(set(placed.tolist())) == len(placed)
        assert (row[len(placed) :] == -1).all()
        used = [a for a, p in zip(ad_cols[r], positions, strict=True) if a >= 0 and p < len(placed)]
        assert row[sponsored[r]].tolist() == used
        rest = [x for x in full_order[r, : n_ok[r]].tolist() if x not in used]
        assert row[~sponsored[r] & (row >= 0)].tolist() == rest[: len(placed) - len(used)]


def test_pick_best_prefix_and_ties():
    v = np.array([[0, 2, 2, 1], [0, 0, 0, 0], [0, 0, 3, 0]], np.float32)
    idx, best = ads.pick_best(v, 3)
    assert idx.tolist() == [[1, 2, 3], [-1, -1, -1], [2, -1, -1]]
    assert best[0].tolist() == [2, 2, 1]
    assert v[0].tolist() == [0, 2, 2, 1]  # not modified without overwrite


def test_sort_small_rows(rng):
    for n in range(1, 11):
        x = rng.integers(0, 6, (100, n))
        np.testing.assert_array_equal(ads.sort_small_rows(x), np.sort(x, axis=1))
