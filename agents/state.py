"""The shopper population as a struct of arrays: one row per shopper, never one object per shopper."""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

NO_STOCK = np.iinfo(np.int16).max  # pantry sentinel: the household does not use this staple
NEVER = -1  # next_visit / churn_day sentinel


@dataclass
class ShopperState:
    """Hidden per-shopper state (latent tastes, pantry, habits, satisfaction, churn), capacity rows.

    Rows beyond ``size`` are allocated but not yet joined (future cohorts).
    """

    shopper_id: np.ndarray  # (P,) int64: the shopper's id in the scenario (keys its random draws)
    taste: np.ndarray  # (P, D) float32: latent taste vector
    price_sensitivity: np.ndarray  # (P,) float32: weight of log relative price
    budget: np.ndarray  # (P,) float32: spend allowed per trip
    interval: np.ndarray  # (P,) float32: habitual days between trips
    weekly: np.ndarray  # (P,) bool: keeps a weekly shopping routine
    consumption: np.ndarray  # (P,) float32: how fast the household empties its pantry (1 = typical)
    favourite_aisles: np.ndarray  # (P, F) int16: aisles of exploratory wants, most liked first
    pantry_runout: np.ndarray  # (P, S) int16: day each used staple runs out; NO_STOCK if unused
    habit_item: np.ndarray  # (P, H) int32: items with a habit stock, -1 empty
    habit_stock: np.ndarray  # (P, H) float32: stock in [0, 1] as of habit_day (decays lazily)
    habit_day: np.ndarray  # (P, H) int16: day the stock was last updated
    satisfaction: np.ndarray  # (P,) float32 in [0, 1]
    next_visit: np.ndarray  # (P,) int32: day of next trip, NEVER once churned or not joined
    join_day: np.ndarray  # (P,) int32
    churn_day: np.ndarray  # (P,) int32: NEVER while active
    size: int = 0  # rows in use

    @classmethod
    def allocate(cls, capacity: int, latent_dim: int, n_staples: int, n_favourites: int, n_habits: int) -> ShopperState:
        """Empty state for ``capacity`` shoppers."""
        p = capacity
        return cls(
            shopper_id=np.full(p, -1, np.int64),
            taste=np.zeros((p, latent_dim), np.float32),
            price_sensitivity=np.zeros(p, np.float32),
            budget=np.zeros(p, np.float32),
            interval=np.ones(p, np.float32),
            weekly=np.zeros(p, bool),
            consumption=np.ones(p, np.float32),
            favourite_aisles=np.zeros((p, n_favourites), np.int16),
            pantry_runout=np.full((p, n_staples), NO_STOCK, np.int16),
            habit_item=np.full((p, n_habits), -1, np.int32),
            habit_stock=np.zeros((p, n_habits), np.float32),
            habit_day=np.zeros((p, n_habits), np.int16),
            satisfaction=np.zeros(p, np.float32),
            next_visit=np.full(p, NEVER, np.int32),
            join_day=np.full(p, NEVER, np.int32),
            churn_day=np.full(p, NEVER, np.int32),
        )

    @property
    def capacity(self) -> int:
        """Allocated rows."""
        return len(self.budget)

    def grow(self, capacity: int) -> None:
        """Reallocate to at least ``capacity`` rows, keeping existing shoppers."""
        if capacity <= self.capacity:
            return
        new = ShopperState.allocate(
            capacity,
            self.taste.shape[1],
            self.pantry_runout.shape[1],
            self.favourite_aisles.shape[1],
            self.habit_item.shape[1],
        )
        old = self.capacity
        for f in fields(self):
            if f.name != "size":
                getattr(new, f.name)[:old] = getattr(self, f.name)
                setattr(self, f.name, getattr(new, f.name))

    def copy_rows(self, src: np.ndarray, dst: np.ndarray) -> None:
        """Copy shoppers in rows ``src`` into rows ``dst`` (all of their state)."""
        for f in fields(self):
            if f.name != "size":
                a = getattr(self, f.name)
                a[dst] = a[src]

    def nbytes_per_shopper(self) -> float:
        """Bytes of state per allocated shopper row."""
        total = sum(getattr(self, f.name).nbytes for f in fields(self) if f.name != "size")
        return total / max(1, self.capacity)
