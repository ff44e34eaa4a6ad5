"""Counter-based randomness: pure functions of coordinates, hence chunk-independent and reproducible."""

import numpy as np

from basketgym.contract import rng
from basketgym.contract.rng import Purpose


def test_same_coordinates_same_bits_and_chunk_independence():
    ids = np.arange(1000)
    whole = rng.uniform(3, Purpose.UTILITY, ids, 5, 7)
    parts = np.concatenate(
        [rng.uniform(3, Purpose.UTILITY, ids[:123], 5, 7), rng.uniform(3, Purpose.UTILITY, ids[123:], 5, 7)]
    )
    assert np.array_equal(whole, parts)
    assert np.array_equal(whole, rng.uniform(3, Purpose.UTILITY, ids, 5, 7))


def test_every_coordinate_changes_the_draw():
    base = rng.uniform(3, Purpose.UTILITY, np.arange(50), 5, 4)
    for other in (
        rng.uniform(4, Purpose.UTILITY, np.arange(50), 5, 4),
        rng.uniform(3, Purpose.CHURN, np.arange(50), 5, 4),
        rng.uniform(3, Purpose.UTILITY, np.arange(50), 6, 4),
        rng.uniform(3, Purpose.UTILITY, np.arange(1, 51), 5, 4),
    ):
        assert not np.isclose(base, other).any()


def test_keyed_draws_follow_the_key_not_the_slot():
    items = np.array([[5, 9, 2]])
    a = rng.uniform_keyed(1, Purpose.UTILITY, np.array([7]), 3, items)
    b = rng.uniform_keyed(1, Purpose.UTILITY, np.array([7]), 3, items[:, ::-1])
    assert np.array_equal(a[:, ::-1], b)


def test_uniforms_are_uniform_and_open():
    u = rng.uniform(11, Purpose.WANTS, np.arange(200_000), 0, 10).ravel()
    assert 0.0 < u.min() and u.max() < 1.0
    # 2e6 draws: SE of the mean is 0.289/sqrt(2e6) = 2.0e-4; allow 5 SE
    assert abs(u.mean() - 0.5) < 1e-3
    hist = np.histogram(u, bins=10, range=(0, 1))[0] / len(u)
    assert np.abs(hist - 0.1).max() < 1.5e-3  # SE per bin = sqrt(.09/2e6) = 2.1e-4


def test_normals_have_unit_moments():
    z = rng.normal(2, Purpose.SHOPPER_TASTE, np.arange(100_000), 0, 10).ravel()
    assert abs(z.mean()) < 5 * 1 / np.sqrt(z.size)
    assert abs(z.std() - 1) < 5 * np.sqrt(0.5 / z.size)


WIDTHS = (1, 2, 3, 4, 7, 8, 10, 33, 64)


def test_a_column_does_not_depend_on_how_many_columns_were_asked_for():
    ids, day = np.arange(500), np.arange(500) % 9  # per-row days too, as independent lives use
    for draw in (rng.uniform, rng.normal):
        full = {n: draw(5, Purpose.EXAMINE_HOME, ids, day, n) for n in WIDTHS}
        for n in WIDTHS:
            for m in WIDTHS:
                k = min(n, m)
                assert np.array_equal(full[n][:, :k], full[m][:, :k]), (draw.__name__, n, m)


def test_uniform_columns_are_low_then_high_halves_of_each_word_on_every_platform():
    ids, n = np.arange(200), 9
    w = rng.words(8, Purpose.CHURN, ids, 4, np.arange((n + 1) // 2, dtype=np.uint64))
    halves = np.stack([w & np.uint64(0xFFFFFFFF), w >> np.uint64(32)], axis=2).reshape(len(ids), -1)[:, :n]
    expected = (halves.astype(np.float64) + 0.5) * 2.0**-32
    assert np.array_equal(rng.uniform(8, Purpose.CHURN, ids, 4, n), expected)
    # the big-endian path: a big-endian view of the same words, reordered, gives the same halves
    big = w.astype(">u8").view(">u4")
    assert np.array_equal(big[:, rng._low_high(n)].astype(np.uint64), halves)
