"""Golden outputs: every baseline's slates, propensities and sponsored flags, pinned by digest.

Why: the rankers' fast paths (per-aisle tables for search rows that are shelf rows, the merge of a
shopper's own items into the popularity order, the shared featured part of home rows) must not
change a single output bit. The digests were recorded from the implementation before those fast
paths existed (commit ff2d618; re-recorded once the random layout became width-independent, which
moved the generated catalog, after the fast paths had matched the old digests), over a world-like
sequence: a cold start, days of synthetic purchases, a promotion, a stock-out, another day, and a
far-future day on which buy-again's own scores tie in float32. Requests include shelf rows (masked,
unmasked, truncated), rows that are not shelf rows (shuffled, edited, from another aisle, repeated
ids), odd slate and ad settings, and home rows built like the world's.

The inputs are digested too: if the catalog generator or the request helpers change, the test says
so instead of blaming the rankers. Regenerate (only for an intended change of outputs or inputs)
with ``.venv/bin/python tests/rankers/test_golden_outputs.py --write``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

import basketgym.rankers as rankers
from basketgym.contract.catalog import PublicCatalog
from basketgym.contract.protocol import SURFACE_HOME, SURFACE_SEARCH, RankRequest, RankResponse
from basketgym.rankers.testing import day_log, home_request
from basketgym.sim.catalog import generate_catalog
from basketgym.sim.config import CatalogConfig

GOLDEN = Path(__file__).with_name("golden_outputs.json")
NAMES = ("buy_again", "margin_greedy", "popularity", "random")
SHOPPERS = 3000
FAVOURITES = 6


def _digest(*arrays: np.ndarray) -> str:
    h = hashlib.sha256()
    for a in arrays:
        a = np.ascontiguousarray(a)
        h.update(f"{a.dtype.str}{a.shape}".encode())
        h.update(a.tobytes())
    return h.hexdigest()[:24]


def _catalog() -> PublicCatalog:
    """The default catalog with every 13th product out of stock and some exact price/margin ties."""
    cat = generate_catalog(CatalogConfig(), seed=11).public
    cat.available[::13] = False
    for a in range(0, cat.n_aisles, 9):  # neighbours on some shelves share price and margin rate
        row = cat.shelf[a][cat.shelf[a] >= 0]
        cat.price[row[1:4]] = cat.price[row[0]]
        cat.margin_rate[row[1:4]] = cat.margin_rate[row[0]]
    cat.base_price[:] = cat.price
    return cat


def _purchases(catalog: PublicCatalog, rng: np.random.Generator, day: int, fav: np.ndarray) -> dict:
    """A day of purchases from favourite aisles; a few heavy buyers repeat items or overflow history slots."""
    shopper = rng.integers(0, SHOPPERS, 6000)
    aisle = fav[shopper, rng.integers(0, FAVOURITES, len(shopper))]
    width = (catalog.shelf[aisle] >= 0).sum(axis=1)
    # skewed within the aisle, so that popularity differs from the shelf order
    pos = (rng.random(len(shopper)) ** 2 * width).astype(np.int64)
    item = catalog.shelf[aisle, pos]
    heavy = np.arange(5)  # shoppers 0-4: many distinct items of one aisle (more than 32 history slots)
    row = catalog.shelf[fav[0, 0]]
    many = np.tile(row[row >= 0], 2)[: 40 + day]
    twins = np.repeat(catalog.shelf[fav[5, 0], :2], 3)  # shopper 5: two items, same counts, same day
    shopper = np.concatenate([shopper, np.repeat(heavy, len(many)), np.full(len(twins), 5)])
    item = np.concatenate([item, np.tile(many, len(heavy)), twins])
    return day_log(catalog, day, shopper, item)


def _masked_shelf(catalog: PublicCatalog, query: np.ndarray, width: int) -> np.ndarray:
    cands = catalog.shelf[query][:, :width]
    return np.where((cands >= 0) & catalog.available[np.maximum(cands, 0)], cands, -1).astype(np.int32)


def _search(
    catalog: PublicCatalog, rng: np.random.Generator, day: int, fav: np.ndarray, batch: int, **kw: object
) -> RankRequest:
    """World-like search rows: mostly favourite aisles; some shoppers never seen; masked shelf rows."""
    shopper = rng.integers(0, SHOPPERS + 50, batch)
    shopper[:6] = np.arange(6)  # the heavy buyers and the twins, on their aisle
    query = np.where(
        rng.random(batch) < 0.7,
        fav[np.minimum(shopper, SHOPPERS - 1), rng.integers(0, FAVOURITES, batch)],
        rng.integers(0, catalog.n_aisles, batch),
    ).astype(np.int32)
    query[:6] = fav[np.arange(6), 0]
    width = int(kw.pop("width", catalog.shelf.shape[1]))
    cands = _masked_shelf(catalog, query, width)
    args = {"slate_size": 10, "ad_positions": (0, 4), "max_sponsored": 3} | kw
    return RankRequest(day, SURFACE_SEARCH, shopper.astype(np.int64), query, cands, **args)


def _edited(catalog: PublicCatalog, rng: np.random.Generator, base: RankRequest) -> RankRequest:
    """Every other row edited so that it is no longer its query's shelf row (in several ways)."""
    cands = base.candidates.copy()
    query = base.query.copy()
    b, c = cands.shape
    for r in range(1, b, 2):
        kind = (r // 2) % 7
        valid = np.flatnonzero(cands[r] >= 0)
        if kind == 0:
            cands[r] = rng.permuted(cands[r])
        elif kind == 1 and len(valid):
            cands[r, valid[-1]] = -1
        elif kind == 2 and len(valid) > 1:
            cands[r, valid[1]] = cands[r, valid[0]]  # a repeated id
        elif kind == 3:
            query[r] = (query[r] + 1) % catalog.n_aisles  # candidates of another aisle than the query
        elif kind == 4:
            cands[r] = -1
        elif kind == 5:
            free = np.flatnonzero(cands[r] < 0)
            if len(free):
                cands[r, free[0]] = np.flatnonzero(catalog.available)[r]  # an item from elsewhere
        else:
            cands[r, : len(valid)] = cands[r, valid]  # valid items packed to the left
            cands[r, len(valid) :] = -1
    return dataclasses.replace(base, candidates=cands, query=query)


def _home(catalog: PublicCatalog, rng: np.random.Generator, day: int, bought: dict[int, np.ndarray]) -> RankRequest:
    """World-like home rows: the shopper's bought items (masked) + the day's featured pool (-1 where repeated)."""
    batch, hist_w, feat_w = 400, 24, 40
    shopper = rng.integers(0, SHOPPERS + 50, batch)
    hist = np.full((batch, hist_w), -1, np.int32)
    for r, s in enumerate(shopper):
        items = bought.get(int(s), np.zeros(0, np.int32))[:hist_w]
        hist[r, : len(items)] = rng.permuted(items)
    hist = np.where((hist >= 0) & catalog.available[np.maximum(hist, 0)], hist, -1)
    feat = np.sort(rng.choice(np.flatnonzero(catalog.available), feat_w, replace=False)).astype(np.int32)
    dup = (feat[None, :, None] == hist[:, None, :]).any(axis=2)
    cands = np.concatenate([hist, np.where(dup, -1, feat[None, :])], axis=1).astype(np.int32)
    return RankRequest(day, SURFACE_HOME, shopper.astype(np.int64), np.full(batch, -1, np.int32), cands, 10, (0, 4), 3)


def _requests(
    catalog: PublicCatalog, rng: np.random.Generator, day: int, fav: np.ndarray, bought: dict[int, np.ndarray]
) -> Iterator[tuple[str, RankRequest]]:
    search = _search(catalog, rng, day, fav, 1500)
    yield "search", search
    yield "search_narrow", _search(catalog, rng, day, fav, 600, width=16)
    yield "search_wide_k", _search(catalog, rng, day, fav, 200, slate_size=40)
    unmasked = catalog.shelf[search.query].astype(np.int32)
    yield "search_unmasked", dataclasses.replace(search, candidates=unmasked)
    yield "search_edited", _edited(catalog, rng, _search(catalog, rng, day, fav, 700))
    small = _search(catalog, rng, day, fav, 300)
    for i, kw in enumerate(
        (
            {"slate_size": 3},
            {"slate_size": 60},
            {"max_sponsored": 0},
            {"ad_positions": ()},
            {"ad_positions": (9, 2, 2, 30), "max_sponsored": 5},
            {"ad_positions": (0, 1, 2), "max_sponsored": 1},
        )
    ):
        yield f"search_params{i}", dataclasses.replace(small, **kw)
    none = slice(0, 0)
    yield (
        "search_empty",
        dataclasses.replace(
            small, shopper_ids=small.shopper_ids[none], query=small.query[none], candidates=small.candidates[none]
        ),
    )
    home = _home(catalog, rng, day, bought)
    yield "home", home
    yield "home_helper", home_request(catalog, rng, batch=300, day=day, shoppers=SHOPPERS)
    rep = home.candidates.copy()
    rep[:, 30:40] = rep[:, 24:34]
    rep[:, 0] = rep[:, 24]
    yield "home_repeats", dataclasses.replace(home, candidates=rep)


def _bought(logs: list[dict]) -> dict[int, np.ndarray]:
    if not logs:
        return {}
    s = np.concatenate([log["purchases"]["shopper_id"] for log in logs]).astype(np.int64)
    i = np.concatenate([log["purchases"]["item_id"] for log in logs]).astype(np.int64)
    key = np.unique(s * 1_000_000 + i)
    shopper, item = key // 1_000_000, (key % 1_000_000).astype(np.int32)
    starts = np.flatnonzero(np.r_[True, shopper[1:] != shopper[:-1]])
    return {int(shopper[a]): item[a:b] for a, b in zip(starts, np.r_[starts[1:], len(shopper)], strict=True)}


def run_sequence(name: str) -> Iterator[tuple[str, RankRequest, RankResponse]]:
    """The world-like sequence of calls for one ranker: (step/case, request, response) in order."""
    catalog = _catalog()
    rng = np.random.default_rng(2024)
    fav = rng.integers(0, catalog.n_aisles, (SHOPPERS, FAVOURITES))
    fav[:5, 0] = np.argmax((catalog.shelf >= 0).sum(axis=1))  # heavy buyers: the widest shelf
    ranker = rankers.make_ranker(name)
    ranker.reset(catalog, seed=5)

    def calls(step: str, day: int, logs: list[dict], only: tuple[str, ...] | None = None):
        for case, req in _requests(catalog, np.random.default_rng(day * 7 + len(step)), day, fav, _bought(logs)):
            if only is None or case in only:
                yield f"{step}/{case}", req, ranker.rank(req)

    yield from calls("cold", 0, [], ("search", "search_narrow", "home_helper"))
    logs = [_purchases(catalog, rng, d, fav) for d in range(6)]
    for log in logs:
        ranker.update(log)
    yield from calls("day6", 6, logs)
    promo = np.flatnonzero(np.isin(catalog.aisle, fav[:20].ravel()))[::3]
    catalog.price[promo] = np.round(catalog.price[promo] * 0.8, 2)  # a promotion: live prices change
    yield from calls("promo", 6, logs, ("search", "search_narrow", "home"))
    catalog.available[promo[::4]] = False  # a stock-out, and a restock
    catalog.available[26] = True
    yield from calls("stockout", 6, logs, ("search", "search_unmasked", "search_edited", "home"))
    logs.append(_purchases(catalog, rng, 6, fav))
    ranker.update(logs[-1])
    yield from calls("day7", 7, logs, ("search", "search_narrow", "search_params4", "home"))
    yield from calls("far", 5_000_000, logs, ("search", "home"))


def record(name: str) -> tuple[dict[str, str], dict[str, str]]:
    """Digests of the inputs and of the outputs of every call of ``run_sequence(name)``."""
    inputs, outputs = {}, {}
    for key, req, resp in run_sequence(name):
        inputs[key] = _digest(req.shopper_ids, req.query, req.candidates, np.array([req.day, req.slate_size]))
        outputs[key] = _digest(resp.slate, resp.propensity, resp.sponsored)
    return inputs, outputs


@pytest.mark.parametrize("name", NAMES)
def test_outputs_match_the_recorded_digests(name):
    golden = json.loads(GOLDEN.read_text())
    inputs, outputs = record(name)
    if inputs != golden["inputs"][name]:
        changed = sorted(k for k in inputs if inputs[k] != golden["inputs"][name].get(k))
        pytest.fail(f"the golden inputs changed ({changed[:3]}...): catalog or request helpers changed; regenerate")
    wrong = [k for k in outputs if outputs[k] != golden["outputs"][name][k]]
    assert not wrong, f"{name}: outputs differ from the recorded ones in {wrong}"


if __name__ == "__main__":
    if sys.argv[1:] != ["--write"]:
        sys.exit("usage: test_golden_outputs.py --write   (records the digests of the current implementation)")
    data: dict[str, dict[str, dict[str, str]]] = {"inputs": {}, "outputs": {}}
    for n in NAMES:
        data["inputs"][n], data["outputs"][n] = record(n)
    GOLDEN.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    print(f"wrote {GOLDEN}: {sum(len(v) for v in data['outputs'].values())} digests")
