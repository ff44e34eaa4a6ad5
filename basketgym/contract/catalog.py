"""The public catalog: the item attributes shoppers see on the shelf and rankers may use (no hidden truth)."""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

TIER_PRIVATE, TIER_NATIONAL, TIER_PREMIUM = 0, 1, 2


def read_only(a: np.ndarray) -> np.ndarray:
    """A non-writeable view of ``a`` (``a`` itself stays writeable for its owner)."""
    view = np.asarray(a).view()
    view.flags.writeable = False
    return view


@dataclass
class PublicCatalog:
    """Public item attributes: what shoppers see on the shelf and rankers may use.

    ``price`` and ``available`` are live views: scheduled events (promotions, price changes,
    stock-outs, launches) change them during a run.
    """

    names: np.ndarray  # (N,) str: product name; its words are the search tokens
    aisle: np.ndarray  # (N,) int16
    department: np.ndarray  # (N,) int16
    brand: np.ndarray  # (N,) int32
    tier: np.ndarray  # (N,) int8: 0 private label, 1 national, 2 premium
    organic: np.ndarray  # (N,) bool
    size: np.ndarray  # (N,) float32: pack size relative to the aisle's typical pack
    base_price: np.ndarray  # (N,) float32
    price: np.ndarray  # (N,) float32, live
    margin_rate: np.ndarray  # (N,) float32: margin as a share of price
    staple: np.ndarray  # (N,) bool
    cycle_days: np.ndarray  # (N,) float32: typical replenishment cycle (0 for non-staples)
    ad_eligible: np.ndarray  # (N,) bool
    bid: np.ndarray  # (N,) float32: cost-per-click bid of the brand for this product
    launch_day: np.ndarray  # (N,) int32
    available: np.ndarray  # (N,) bool, live
    aisle_names: list[str]
    department_names: list[str]
    brand_names: list[str]
    aisle_department: np.ndarray  # (A,) int16
    shelf: np.ndarray  # (A, S) int32: products of each aisle, -1 padded (the aisle's retrieval set)
    shelf_pos: np.ndarray  # (N,) int16: a product's column in its aisle's shelf row

    @property
    def n_products(self) -> int:
        """Number of products."""
        return len(self.aisle)

    @property
    def n_aisles(self) -> int:
        """Number of aisles."""
        return len(self.aisle_names)

    def features(self) -> np.ndarray:
        """Dense public feature matrix (N, F) for learned rankers: log price, margin, tier, flags."""
        return np.column_stack(
            [
                np.log(self.price),
                self.margin_rate,
                self.tier == TIER_PRIVATE,
                self.tier == TIER_PREMIUM,
                self.organic,
                np.log(self.size),
                self.staple,
                self.ad_eligible,
                self.bid,
            ]
        ).astype(np.float32)

    def read_only(self) -> PublicCatalog:
        """The ranker's view: the same data through non-writeable array views (lists become tuples).

        Views, not copies: the world's events still change ``price`` and ``available`` in place and
        the ranker sees them live, but a ranker writing into any array gets numpy's ValueError.
        """
        parts = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, np.ndarray):
                value = read_only(value)
            elif isinstance(value, list):
                value = tuple(value)
            parts[f.name] = value
        return PublicCatalog(**parts)

    FEATURE_NAMES = (
        "log_price", "margin_rate", "private_label", "premium", "organic",
        "log_size", "staple", "ad_eligible", "bid",
    )  # fmt: skip
