"""The logged tables' schema: what the platform observes, column by column (the event log writes it, rankers read it).

``slates``, ``purchases`` and ``sessions`` are observable and reach rankers through ``Ranker.update``;
``shoppers`` is simulator truth (join and churn days), read only by ``eval/``. docs/EVENT_LOG.md describes them.
"""

from __future__ import annotations

SOURCE_HOME, SOURCE_SEARCH, SOURCE_ORGANIC = 0, 1, 2
SOURCE_NAMES = ("home", "search", "organic")

# column name -> (numpy dtype, description); list columns have one entry per slate position
SLATE_COLUMNS: dict[str, tuple[str, str]] = {
    "session_id": ("int64", "(day << 32) | shopper_id: unique per visit, stable across rankers"),
    "shopper_id": ("int32", "shopper"),
    "day": ("int32", "simulation day"),
    "surface": ("int8", "0 home feed, 1 search"),
    "query": ("int16", "search: aisle id the query names (tokens = aisle name); home: -1"),
    "n_candidates": ("int16", "size of the retrieval set the ranker chose from"),
    "slate": ("int32[K]", "item ids by position, -1 where the slate is shorter"),
    "propensity": ("float32[K]", "probability the ranker placed this item at this position"),
    "prefix_propensity": ("float32[K]", "probability the ranker placed exactly these items at positions 0..p"),
    "slate_propensity": ("float32", "probability the ranker showed exactly this slate (the last prefix)"),
    "sponsored": ("bool[K]", "placement is a sponsored (paid) slot"),
    "clicked": ("bool[K]", "the shopper clicked the item"),
    "purchased": ("bool[K]", "the shopper bought the item from this placement"),
    "ad_revenue": ("float32", "cost-per-click revenue earned by sponsored clicks on this slate"),
}

PURCHASE_COLUMNS: dict[str, tuple[str, str]] = {
    "session_id": ("int64", "visit"),
    "shopper_id": ("int32", "shopper"),
    "day": ("int32", "simulation day"),
    "item_id": ("int32", "product bought (one unit)"),
    "aisle": ("int16", "product's aisle"),
    "price": ("float32", "price paid"),
    "margin": ("float32", "margin earned = price x margin rate"),
    "source": ("int8", "0 home feed, 1 search slate, 2 organic (found without the ranker)"),
    "position": ("int8", "slate position it was bought from, -1 for organic"),
    "sponsored": ("bool", "bought from a sponsored placement"),
}

SESSION_COLUMNS: dict[str, tuple[str, str]] = {
    "session_id": ("int64", "visit"),
    "shopper_id": ("int32", "shopper"),
    "day": ("int32", "simulation day"),
    "n_slates": ("int16", "slates shown"),
    "n_lines": ("int16", "order lines (items bought)"),
    "gtv": ("float32", "gross transaction value of the order"),
    "margin": ("float32", "margin of the order"),
    "ad_revenue": ("float32", "ad revenue earned during the visit"),
}

SHOPPER_COLUMNS: dict[str, tuple[str, str]] = {
    "shopper_id": ("int32", "shopper"),
    "join_day": ("int32", "day the shopper arrived (0 for the initial population)"),
    "churn_day": ("int32", "TRUTH: day the shopper churned, -1 if still active at the end"),
}

TABLES = {
    "slates": SLATE_COLUMNS,
    "purchases": PURCHASE_COLUMNS,
    "sessions": SESSION_COLUMNS,
    "shoppers": SHOPPER_COLUMNS,
}
