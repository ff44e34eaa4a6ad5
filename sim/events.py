"""Scheduled marketplace events from the scenario: promotions, price changes, stock-outs, launches."""

from __future__ import annotations

from collections.abc import Generator, Iterable
from typing import TYPE_CHECKING

import numpy as np
import simpy

from basketgym.contract import rng
from basketgym.contract.catalog import PublicCatalog
from basketgym.contract.rng import Purpose
from basketgym.sim.config import EventConfig

if TYPE_CHECKING:
    from basketgym.sim.world import World


class MarketEvents:
    """Resolves each event's target products from the seed and applies it to the live catalog.

    Live price = base price x price-change factor x product of active promotion factors; an item is
    available when it has launched and no stock-out is active on it. Launches are applied when the
    world is built (the products exist but stay hidden until their day). A price change is permanent
    unless it has a ``duration``; then the factor is divided out again when it ends.
    """

    def __init__(self, events: Iterable[EventConfig], catalog: PublicCatalog, seed: int):
        self.events = tuple(events)
        self.catalog = catalog
        n = catalog.n_products
        self.permanent = np.ones(n)
        self.promo = np.ones(n)
        self.stockouts = np.zeros(n, np.int32)
        self.targets = [self._targets(i, ev, seed) for i, ev in enumerate(self.events)]
        for ev, idx in zip(self.events, self.targets, strict=True):
            if ev.kind == "new_products":
                catalog.launch_day[idx] = np.maximum(catalog.launch_day[idx], ev.day)
        self._apply(0)

    def _targets(self, i: int, ev: EventConfig, seed: int) -> np.ndarray:
        c = self.catalog
        mask = np.ones(c.n_products, bool)
        if ev.aisle >= 0:
            mask &= c.aisle == ev.aisle
        if ev.department >= 0:
            mask &= c.department == ev.department
        if ev.brand >= 0:
            mask &= c.brand == ev.brand
        idx = np.flatnonzero(mask)
        u = rng.uniform(seed, Purpose.EVENTS, idx, i, 1)[:, 0]
        if ev.kind == "new_products":
            return idx[np.argsort(u, kind="stable")[: ev.count]]
        return idx[u < ev.share]

    def _apply(self, day: int) -> None:
        c = self.catalog
        c.price[:] = np.round(c.base_price * self.permanent * self.promo, 2).astype(np.float32)
        c.available[:] = (c.launch_day <= day) & (self.stockouts == 0)

    def processes(self, env: simpy.Environment, world: World) -> list[Generator]:
        """simpy processes that start and end each event at the start of its days."""
        return [self._run(env, world, ev, idx) for ev, idx in zip(self.events, self.targets, strict=True)]

    def _run(self, env: simpy.Environment, world: World, ev: EventConfig, idx: np.ndarray) -> Generator:
        yield env.timeout(ev.day)
        if ev.kind == "promotion":
            self.promo[idx] *= 1.0 - ev.discount
        elif ev.kind == "price_change":
            self.permanent[idx] *= ev.multiplier
        elif ev.kind == "stockout":
            self.stockouts[idx] += 1
        self._apply(ev.day)
        world.refresh_prices()
        lasts = ev.lasts
        if lasts is not None:
            yield env.timeout(lasts)
            if ev.kind == "promotion":
                self.promo[idx] /= 1.0 - ev.discount
            elif ev.kind == "price_change":
                self.permanent[idx] /= ev.multiplier
            else:
                self.stockouts[idx] -= 1
            self._apply(ev.day + lasts)
            world.refresh_prices()
