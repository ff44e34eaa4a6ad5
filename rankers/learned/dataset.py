"""Training data for learned rankers: features logged when each slate was served, labels from the logs.

``FeatureLogger`` wraps the serving (logging) policy the way a production "log and wait" pipeline
does: it keeps its own point-in-time ``FeatureStore`` (fed only by ``update``, after each day) and,
for every item it serves, records the features as they were at that moment. ``training_table``
joins those rows with what the logs later tell: clicks, items chosen and bought, the margin
earned, and whether the shopper stayed away for 30 days (the platform's view of churn).

Position bias: the shown position is a feature (``position``), so a model learns it apart from
relevance; at serving time it is set to 0 for every candidate (``SERVING_POSITION``), the
standard position-as-feature debiasing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from basketgym.contract import rng
from basketgym.contract.catalog import PublicCatalog
from basketgym.contract.protocol import Ranker, RankRequest, RankResponse
from basketgym.contract.rng import Purpose
from basketgym.rankers.features import DAYS_CAP, ITEM_FEATURE_NAMES, SHOPPER_FEATURE_NAMES, FeatureStore
from basketgym.rankers.wrappers import RankerWrapper

FEATURE_NAMES = (
    *ITEM_FEATURE_NAMES,
    *SHOPPER_FEATURE_NAMES,
    "pair_purchases",
    "pair_days_since",
    "surface",
    "position",
)
POSITION = FEATURE_NAMES.index("position")
SERVING_POSITION = 0
CHURN_DAYS = 30
LABELS = ("click", "purchase", "margin", "churn_30d")
# Words of a shopper's CROSS_FIT stream (word 0: off-policy cross-fitting), one per independent split
FOLD_COUNTER, TEST_COUNTER, SAMPLE_COUNTER = 1, 2, 3


def serving_features(store: FeatureStore, request: RankRequest, items: np.ndarray, position: np.ndarray) -> np.ndarray:
    """(B, K, F) features of ``items`` (B, K) for the request's shoppers at ``position`` (B, K) (``FEATURE_NAMES``)."""
    b, k = items.shape
    safe = np.maximum(items, 0)
    item_f = store.item_features(request.day)[safe]  # (B, K, Fi)
    shopper = store.shopper_features(request.shopper_ids, request.day)
    shop_f = np.broadcast_to(shopper[:, None, :], (b, k, shopper.shape[1]))
    count, last = store.pair_history(request.shopper_ids, items)
    since = np.where(last >= 0, np.minimum(request.day - last, DAYS_CAP), DAYS_CAP)
    extra = np.stack([np.log1p(count), since, np.full((b, k), request.surface), position], axis=-1)
    return np.concatenate([item_f, shop_f, extra.astype(np.float32)], axis=-1).astype(np.float32)


def shown_rows(store: FeatureStore, request: RankRequest, resp: RankResponse) -> dict[str, np.ndarray]:
    """One entry per item ``resp`` placed: its visit, surface, query, position, id and features at serving time."""
    b, k = resp.slate.shape
    feats = serving_features(store, request, resp.slate, np.broadcast_to(np.arange(k), (b, k)))
    r, p = np.nonzero(resp.slate >= 0)
    return {
        "session_id": (np.int64(request.day) << 32) | np.asarray(request.shopper_ids, np.int64)[r],
        "surface": np.full(len(r), request.surface, np.int8),
        "query": np.asarray(request.query, np.int16)[r],
        "position": p.astype(np.int16),
        "item_id": resp.slate[r, p],
        "features": feats[r, p],
    }


class FeatureLogger(RankerWrapper):
    """Serves ``policy``'s slates and logs every shown item's features, point in time."""

    def __init__(self, policy: Ranker, history_slots: int = 32):
        super().__init__(policy)
        self.history_slots = history_slots
        self.store: FeatureStore | None = None
        self.rows: list[dict[str, np.ndarray]] = []

    def reset(self, catalog: PublicCatalog, seed: int) -> None:
        """Reset the policy; start an empty feature store."""
        super().reset(catalog, seed)
        self.store = FeatureStore(catalog, history_slots=self.history_slots)
        self.rows = []

    def rank(self, request: RankRequest) -> RankResponse:
        """The policy's slates; their features logged."""
        resp = self.ranker.rank(request)
        self.rows.append(shown_rows(self.store, request, resp))
        return resp

    def update(self, day_log: Mapping[str, Mapping[str, np.ndarray]]) -> None:
        """The policy and the feature store ingest the finished day."""
        super().update(day_log)
        self.store.ingest(day_log)


def training_table(
    logger: FeatureLogger,
    log: Mapping[str, np.ndarray],
    purchases: Mapping[str, np.ndarray],
    sessions: Mapping[str, np.ndarray],
    days: int,
    truth_click: np.ndarray | None = None,
) -> pd.DataFrame:
    """One row per shown item: its logged features, labels and (optionally) the true click probability.

    ``log``: the bandit log table (``eval.bandit_logs``; slates with clicked / carted per position),
    ``purchases`` and ``sessions``: the world's observable tables, for the margin earned from each
    placement and the 30-day absence after each visit (``churn_30d``; NaN when the window does not
    fit in the run). ``truth_click`` (n_slates, K): the simulator's click probabilities, to grade
    calibration; never a feature.
    """
    out = label_shown(logger.rows, log, purchases, bought="carted")
    out["churn_30d"] = absent_after(out["session_id"].to_numpy(), sessions, days)
    if truth_click is not None:
        out["true_click"] = np.asarray(truth_click)[out["slate_row"].to_numpy(), out["position"].to_numpy(np.int64)]
    return out


def label_shown(
    rows: list[dict[str, np.ndarray]],
    slates: Mapping[str, np.ndarray],
    purchases: Mapping[str, np.ndarray],
    bought: str = "carted",
) -> pd.DataFrame:
    """Logged rows (``shown_rows``) joined to their slates: features, ``session_id``, ``slate_row`` and labels.

    ``slates``: a slate table with ``session_id``, ``surface``, ``query``, ``clicked`` and the
    column ``bought`` (per position; ``carted`` in bandit logs, ``purchased`` in a day's log).
    Labels: ``click``, ``purchase`` (from ``bought``) and ``margin`` (the margin of the purchase
    line at this session, surface and position).
    """
    rec = {c: np.concatenate([r[c] for r in rows]) for c in ("session_id", "surface", "query", "position")}
    feats = np.concatenate([r["features"] for r in rows])
    keys = pd.DataFrame(rec)
    keys["row"] = np.arange(len(keys))
    table = pd.DataFrame({"session_id": slates["session_id"], "surface": slates["surface"], "query": slates["query"]})
    table["slate_row"] = np.arange(len(table))
    joined = keys.merge(table, on=["session_id", "surface", "query"], how="inner", validate="many_to_one")
    # the slate table's canonical order, not the order requests were made in (which follows the
    # world's chunking): trained models must not depend on chunk size
    joined = joined.sort_values(["slate_row", "position"], kind="stable", ignore_index=True)
    sr, pos, row = (joined[c].to_numpy(np.int64) for c in ("slate_row", "position", "row"))
    out = pd.DataFrame(feats[row], columns=list(FEATURE_NAMES))
    out.insert(0, "session_id", joined["session_id"].to_numpy())
    out.insert(1, "slate_row", sr)
    out["click"] = np.asarray(slates["clicked"])[sr, pos].astype(np.float32)
    out["purchase"] = np.asarray(slates[bought])[sr, pos].astype(np.float32)
    p = pd.DataFrame({c: purchases[c] for c in ("session_id", "source", "position", "aisle", "margin")})
    p = p[p["source"] < 2]
    p = p.assign(surface=p["source"].astype(np.int8), query=np.where(p["source"] == 0, -1, p["aisle"]).astype(np.int16))
    money = p.groupby(["session_id", "surface", "query", "position"])["margin"].sum()
    key = pd.MultiIndex.from_arrays([joined["session_id"], joined["surface"], joined["query"], joined["position"]])
    out["margin"] = money.reindex(key).fillna(0.0).to_numpy(np.float32)
    return out


def absent_after(session_id: np.ndarray, sessions: Mapping[str, np.ndarray], days: int) -> np.ndarray:
    """1.0 if the shopper has no visit in the 30 days after this one, 0.0 if they have, NaN past the run's end."""
    day = (session_id >> 32).astype(np.int64)
    shopper = (session_id & 0xFFFFFFFF).astype(np.int64)
    s = pd.DataFrame({"shopper": np.asarray(sessions["shopper_id"], np.int64), "day": np.asarray(sessions["day"])})
    s = s.sort_values(["shopper", "day"])
    key = s["shopper"].to_numpy() * (days + 1) + s["day"].to_numpy()
    q = shopper * (days + 1) + day
    nxt = np.searchsorted(key, q, side="right")  # the shopper's next visit, if any
    nxt_c = np.minimum(nxt, len(key) - 1)
    has_next = (nxt < len(key)) & (s["shopper"].to_numpy()[nxt_c] == shopper)
    gap = np.where(has_next, s["day"].to_numpy()[nxt_c] - day, np.iinfo(np.int32).max)
    return np.where(day + CHURN_DAYS < days, (gap > CHURN_DAYS).astype(np.float64), np.nan).astype(np.float32)


def holdout_visits(session_id: np.ndarray, share: float, seed: int) -> np.ndarray:
    """Boolean mask: rows of a seeded ``share`` of visits (no visit on both sides)."""
    visits, inverse = np.unique(session_id, return_inverse=True)
    return (np.random.default_rng(seed).random(len(visits)) < share)[inverse]


@dataclass(frozen=True)
class Folds:
    """Row masks of a training table, by shopper: fit on ``train``, stop early on one fold, calibrate on another."""

    train: np.ndarray
    early_stopping: np.ndarray
    calibration: np.ndarray


def shopper_uniform(session_id: np.ndarray, seed: int, counter: int) -> np.ndarray:
    """One counter-based uniform per row, the same for every row of a shopper (``Purpose.CROSS_FIT``, word ``counter``).

    A pure function of (seed, shopper, counter): a shopper lands on the same side of a split
    whatever else the table holds, and splits drawn from different counters are independent.
    """
    shopper = np.asarray(session_id, np.int64) & 0xFFFFFFFF
    keys = np.full((len(shopper), 1), counter, np.int64)
    return rng.uniform_keyed(seed, Purpose.CROSS_FIT, shopper, 0, keys)[:, 0]


def shopper_folds(session_id: np.ndarray, held_out_share: float, calibration_share: float, seed: int) -> Folds:
    """Whole shoppers in three folds: ``held_out_share`` of them held out, ``calibration_share`` of those to calibrate.

    One uniform per shopper (``shopper_uniform``, word ``FOLD_COUNTER``): u < held_out x (1 -
    calibration_share) stops early, u < held_out calibrates, the rest trains. No shopper is on two
    sides, so neither the early-stopping choice nor the calibration map sees rows of a shopper
    the other used.
    """
    u = shopper_uniform(session_id, seed, FOLD_COUNTER)
    cut = held_out_share * (1.0 - calibration_share)
    return Folds(u >= held_out_share, u < cut, (u >= cut) & (u < held_out_share))
