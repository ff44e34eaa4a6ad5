"""Counter-based randomness: every draw is a pure function of (seed, purpose, id, day, counter).

Why not a shared ``numpy.random.Generator``: a stream's draws depend on how many were taken before,
so results would change with batch size, and two policies would not meet the same shocks. Here a
draw is a SplitMix64 hash of its coordinates, vectorised in uint64 numpy ops. Consequences:
bit-identical reruns, results independent of chunking, and common random numbers across policies
(the shock a shopper meets on a day for a purpose does not depend on what the ranker did).

Each 64-bit word yields two uniforms in the open interval (0, 1) with 32 bits of resolution, so
``log(u)`` is always finite. A draw's value never depends on how many draws were asked for: column
``j`` of ``uniform(..., n)`` is the same number for every ``n > j`` (column ``2k`` is the low half
of word ``k``, column ``2k + 1`` its high half), and column ``j`` of ``normal`` is word ``j``. So a
scenario variant that widens a slate keeps every shock the narrower one had (common random numbers
across variants, not only across policies).
"""

from __future__ import annotations

import hashlib
from enum import IntEnum
from functools import lru_cache

import numpy as np

_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_K_ID = np.uint64(0xD6E8FEB86659FD93)
_K_DAY = np.uint64(0xA0761D6478BD642F)
_S30, _S27, _S31, _S32 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(32)
_LO32 = np.uint64(0xFFFFFFFF)
_INV32 = 2.0**-32


class Purpose(IntEnum):
    """Named streams; a new purpose never shifts the draws of existing ones."""

    CATALOG = 1
    CATALOG_LATENT = 2
    SHOPPER_INIT = 3
    SHOPPER_TASTE = 4
    ARRIVALS = 5
    WANTS = 6
    SURFACE = 7
    EXAMINE_HOME = 8
    EXAMINE_SEARCH = 9
    UTILITY = 10
    ORGANIC = 11
    CHURN = 12
    GAP = 13
    FEATURED = 14
    EVENTS = 15
    RANKER = 16
    PANTRY_INIT = 17
    EXPLORATION = 18
    EXPLORATION_ORDER = 19
    ASSIGNMENT = 20
    CROSS_FIT = 21
    PLACKETT_LUCE = 22
    TRUTH_EXAMINE = 23  # Monte Carlo examination patterns for true purchase probabilities (never used by the world)
    EXPOSURE_TEST = 24  # focal item and treatment coin of randomised exposure tests
    RANKER_SEED = 25  # the ranker's own seed, derived from the world seed (``ranker_seed``)


def _mix(z: np.ndarray) -> np.ndarray:
    """SplitMix64 finaliser, in place on a uint64 array (returns it)."""
    z ^= z >> _S30
    z *= _M1
    z ^= z >> _S27
    z *= _M2
    z ^= z >> _S31
    return z


@lru_cache(maxsize=4096)
def stream_key(seed: int, purpose: int) -> np.uint64:
    """The 64-bit key of one (seed, purpose) stream."""
    z = np.array([(int(seed) * 0x9E3779B97F4A7C15 + int(purpose) * 0xC2B2AE3D27D4EB4F) & (2**64 - 1)], np.uint64)
    return _mix(_mix(z))[0]


# Arithmetic stays on arrays (never 0-d scalars), where uint64 overflow wraps silently as intended.


def _cell(key: np.uint64, ids: np.ndarray, day: np.ndarray | int) -> np.ndarray:
    ids64 = np.atleast_1d(np.asarray(ids)).astype(np.uint64)
    day64 = np.atleast_1d(np.asarray(day)).astype(np.uint64)
    z = ids64 * _K_ID
    z += day64 * _K_DAY
    z += key
    return _mix(z)


def words(seed: int, purpose: int, ids: np.ndarray, day: np.ndarray | int, counters: np.ndarray) -> np.ndarray:
    """uint64 words for cells (ids, day) broadcast against ``counters`` (e.g. item ids or 0..n-1).

    ``ids`` and ``day`` have shape (N,) (or broadcast to it); ``counters`` has shape (N, K) or (K,).
    """
    cell = _cell(stream_key(seed, purpose), ids, day)
    z = np.asarray(counters).astype(np.uint64)
    z += np.uint64(1)
    z *= _GOLDEN
    z = z + cell[:, None]
    return _mix(z)


def _to_unit(w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    hi = ((w >> _S32).astype(np.float64) + 0.5) * _INV32
    lo = ((w & _LO32).astype(np.float64) + 0.5) * _INV32
    return hi, lo


@lru_cache(maxsize=256)
def _low_high(n: int) -> np.ndarray:
    """Columns of a big-endian uint32 view of words that read low, high, low, high, ... halves.

    A big-endian view holds each word's high half first; a little-endian view is already in this
    order, so ``uniform`` slices it there instead of gathering.
    """
    return (np.arange(n) ^ 1).astype(np.intp)


def uniform(seed: int, purpose: int, ids: np.ndarray, day: np.ndarray | int, n: int) -> np.ndarray:
    """(len(ids), n) uniforms in (0, 1), one row per id; row values depend only on (id, day).

    Column ``2k`` is the low 32 bits of word ``k`` and column ``2k + 1`` its high 32 bits, so column
    ``j`` does not depend on ``n`` (``uniform(..., n)[:, :m] == uniform(..., m)`` bit for bit for
    ``m <= n``) and values are the same on every platform. Read through a uint32 view: the same
    values as shifting and masking, in a third of the array calls.
    """
    w = words(seed, purpose, ids, day, np.arange((n + 1) // 2, dtype=np.uint64))
    halves = w.view(np.uint32)
    u = (halves[:, :n] if np.little_endian else halves[:, _low_high(n)]).astype(np.float64)
    u += 0.5
    u *= _INV32
    return u


def uniform_keyed(seed: int, purpose: int, ids: np.ndarray, day: np.ndarray | int, keys: np.ndarray) -> np.ndarray:
    """Uniforms keyed by (id, day, key): e.g. a shopper's shock for an item, whatever slot it sits in.

    ``keys`` has shape (N, K) of non-negative integers; the result has the same shape. Padding
    keys (negative) get a valid but meaningless draw.
    """
    w = words(seed, purpose, ids, day, np.maximum(keys, 0))
    w >>= _S32  # the high 32 bits, as ``_to_unit``'s first half
    u = w.astype(np.float64)
    u += 0.5
    u *= _INV32
    return u


def normal(seed: int, purpose: int, ids: np.ndarray, day: np.ndarray | int, n: int) -> np.ndarray:
    """(len(ids), n) standard normals by Box-Muller on the two halves of each word.

    Column ``j`` is word ``j``, so (as in ``uniform``) it does not depend on ``n``.
    """
    w = words(seed, purpose, ids, day, np.arange(n, dtype=np.uint64))
    u1, u2 = _to_unit(w)
    return np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)


def gumbel_from_uniform(u: np.ndarray) -> np.ndarray:
    """Standard Gumbel draws from uniforms in (0, 1)."""
    return -np.log(-np.log(u))


# ---- the ranker's randomness ------------------------------------------------------------------

# The purposes ranker code may draw from (tests/rankers scans rankers/ for any other). Keyed by the
# ranker seed, they can never meet the world's draws; the world's purposes are not for rankers.
RANKER_PURPOSES = frozenset(
    {
        Purpose.RANKER,
        Purpose.EXPLORATION,
        Purpose.EXPLORATION_ORDER,
        Purpose.PLACKETT_LUCE,
        Purpose.ASSIGNMENT,
        Purpose.EXPOSURE_TEST,
        Purpose.CROSS_FIT,  # shopper folds of learned rankers' fits (eval's off-policy cross-fitting uses it too)
    }
)


def ranker_seed(seed: int) -> int:
    """The seed a world hands its ranker: a 63-bit int from the world ``seed``'s own stream (``RANKER_SEED``).

    A keyed BLAKE2b digest, not SplitMix: SplitMix is a bijection a ranker could invert back to the
    world seed, and with it recompute every utility, examination and taste draw. ``eval/`` code that
    must reproduce a ranker's coins (traffic-split assignment) calls this too.
    """
    msg = int(seed).to_bytes(16, "little", signed=True)
    digest = hashlib.blake2b(msg, digest_size=8, person=b"basketgym-ranker", salt=bytes([Purpose.RANKER_SEED])).digest()
    return int.from_bytes(digest, "little") >> 1
