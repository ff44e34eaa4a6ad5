"""Fixed-width per-row item slots: lookups, upserts and eviction of the weakest slot."""

import numpy as np

from basketgym.contract import slots


def test_assign_fills_empty_slots_then_evicts_the_lowest_score():
    items = np.full((2, 3), -1, np.int32)
    score = np.zeros((2, 3), np.float32)
    slot, new = slots.assign(items, score, np.array([0, 0, 1]), np.array([5, 6, 7]))
    assert slot.tolist() == [0, 1, 0] and new.all()
    assert items.tolist() == [[5, 6, -1], [7, -1, -1]]
    score[0] = [3.0, 1.0, 0.0]
    # 5 is held (kept even though it is not the weakest); 8 takes the empty slot, 9 evicts 6 (score 1)
    slot, new = slots.assign(items, score, np.array([0, 0, 0]), np.array([5, 8, 9]), rows_sorted=True)
    assert slot.tolist() == [0, 2, 1] and new.tolist() == [False, True, True]
    assert items[0].tolist() == [5, 9, 8]


def test_more_new_items_than_slots_keeps_the_first():
    items = np.full((1, 2), -1, np.int32)
    slot, new = slots.assign(items, np.zeros((1, 2)), np.zeros(3, np.int64), np.array([4, 5, 6]))
    assert slot.tolist() == [0, 1, -1] and new.tolist() == [True, True, False]


def test_find_one_and_two_dimensional():
    items = np.array([[5, 9, 8], [7, -1, -1]], np.int32)
    assert slots.find(items, np.array([0, 1, 1]), np.array([8, 7, 3])).tolist() == [2, 0, -1]
    got = slots.find(items, np.array([0, 1]), np.array([[5, 9, -1], [7, 1, -1]]))
    assert got.tolist() == [[0, 1, -1], [0, -1, -1]]


def test_sorted_and_unsorted_rows_agree():
    r = np.random.default_rng(0)
    a = np.full((50, 4), -1, np.int32)
    b = a.copy()
    for _ in range(20):
        rows = np.sort(r.integers(0, 50, 30))
        keys = np.unique(rows * 1000 + r.integers(0, 12, 30))
        rows, its = keys // 1000, keys % 1000
        s1, n1 = slots.assign(a, np.zeros((50, 4)), rows, its, rows_sorted=True)
        s2, n2 = slots.assign(b, np.zeros((50, 4)), rows, its)
        assert np.array_equal(s1, s2) and np.array_equal(n1, n2) and np.array_equal(a, b)
