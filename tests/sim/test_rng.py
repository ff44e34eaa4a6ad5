"""Counter-based randomness: pure functions of coordinates, hence chunk-independent and reproducible."""

import numpy as np

from sim import rng
from sim.rng import Purpose


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
