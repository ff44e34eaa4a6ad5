"""How a Shopper env's action becomes what the shopper sees: the slate rule and the marketplace's ad rule."""

from __future__ import annotations

import numpy as np

from basketgym.contract.protocol import RankResponse
from basketgym.sim.config import MarketplaceConfig


def slates_from_actions(cands: np.ndarray, actions: np.ndarray, slots: np.ndarray) -> np.ndarray:
    """(len(slots), K) item ids from indices into ``cands[slots]``: bad or repeated picks dropped, closed up."""
    c = cands.shape[1]
    if len(slots) == 1:  # one life (Shopper-v0): a plain loop beats a dozen tiny array calls
        row, picks = cands[slots[0]], []
        for a in actions[0].tolist():
            item = int(row[a]) if 0 <= a < c else -1
            if item >= 0 and item not in picks:
                picks.append(item)
        out = np.full((1, actions.shape[1]), -1, np.int32)
        out[0, : len(picks)] = picks
        return out
    bad = (actions < 0) | (actions >= c)
    k = actions.shape[1]
    pos = np.arange(k)
    items = cands[slots[:, None], np.where(bad, 0, actions)]
    items[bad] = -1
    # repeats: sort (index, position) keys per row; equal neighbours are repeats of the earlier pick
    key = np.sort(np.where(bad, c + pos, actions) * k + pos, axis=1)
    r, col = np.nonzero(key[:, 1:] // k == key[:, :-1] // k)
    keep = items >= 0
    keep[r, key[r, col + 1] % k] = False
    # close up: kept picks to the front in order; the rest go to a spare column that is cut off
    out = np.full((len(slots), k + 1), -1, np.int32)
    out[np.arange(len(slots))[:, None], np.where(keep, np.cumsum(keep, axis=1) - 1, k)] = items
    return out[:, :k]


def shown_response(slates: np.ndarray, ad_eligible: np.ndarray, marketplace: MarketplaceConfig) -> RankResponse:
    """The policy's slates as shown, with the marketplace's ad rule applied.

    An ad-eligible item at one of the scenario's ad positions is a sponsored placement (labelled,
    pays its bid per click), at most ``max_sponsored`` per slate.
    """
    k = slates.shape[1]
    ad_slot = np.zeros(k, bool)
    ad_slot[[p for p in marketplace.ad_positions if p < k]] = True
    sponsored = ad_slot[None, :] & (slates >= 0) & ad_eligible[np.maximum(slates, 0)]
    sponsored &= np.cumsum(sponsored, axis=1) <= marketplace.max_sponsored
    return RankResponse(slates, np.ones(slates.shape, np.float32), sponsored)
