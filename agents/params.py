"""Parameters of the shopper model (population, behaviour, churn) as typed, frozen config objects."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


def spec(
    default: Any,
    *,
    lo: float | None = None,
    hi: float | None = None,
    choices: tuple[str, ...] | None = None,
    doc: str = "",
    infinite: bool = False,
    pattern: str | None = None,
) -> Any:
    """A config field with its allowed range or choices, used by validation and the docs.

    Float fields refuse NaN and infinities unless ``infinite`` (the key documents that it takes ``inf``);
    a string field with a ``pattern`` (a regular expression) must match it whole.
    """
    meta = {"lo": lo, "hi": hi, "choices": choices, "doc": doc, "infinite": infinite, "pattern": pattern}
    if isinstance(default, list | tuple):
        return field(default_factory=lambda: tuple(default), metadata=meta)
    return field(default=default, metadata=meta)


@dataclass(frozen=True)
class PopulationConfig:
    """Who the shoppers are when the scenario starts, and who arrives later."""

    shoppers: int = spec(10_000, lo=1, hi=50_000_000, doc="shoppers on day 0")
    new_per_day: float = spec(0.0, lo=0.0, hi=1_000_000.0, doc="mean number of new shoppers arriving per day (cohorts)")
    visit_interval_days: float = spec(11.0, lo=1.0, hi=90.0, doc="median of shoppers' habitual days between trips")
    visit_interval_spread: float = spec(
        0.9, lo=0.0, hi=3.0, doc="log-normal spread of habitual trip intervals across shoppers"
    )
    weekly_share: float = spec(0.18, lo=0.0, hi=1.0, doc="share of households that shop on a weekly routine")
    budget: float = spec(80.0, lo=1.0, hi=10_000.0, doc="median spend a shopper allows per trip")
    budget_spread: float = spec(0.4, lo=0.0, hi=3.0, doc="log-normal spread of trip budgets across shoppers")
    price_sensitivity: float = spec(1.8, lo=0.0, hi=10.0, doc="mean weight of log relative price in utility")
    staples_used: float = spec(0.33, lo=0.0, hi=1.0, doc="share of staple aisles an average household replenishes")
    household_spread: float = spec(0.6, lo=0.0, hi=3.0, doc="log-normal spread of consumption speed across households")


@dataclass(frozen=True)
class BehaviourConfig:
    """How a shopper forms intents, examines slates, chooses and forms habits."""

    wants_per_visit: float = spec(2.5, lo=0.0, hi=50.0, doc="mean exploratory intents per trip, on top of pantry needs")
    needs_per_trip: int = spec(8, lo=1, hi=100, doc="staples running low together that pull a trip forward")
    need_lookahead_days: int = spec(
        2, lo=0, hi=30, doc="a staple counts as needed when it runs out within this many days"
    )
    position_bias: float = spec(
        0.9, lo=0.0, hi=5.0, doc="examination probability at rank k is (1/(k+1))**position_bias"
    )
    need_persistence: float = spec(0.35, lo=0.0, hi=1.0, doc="extra examination probability when searching for a need")
    taste_weight: float = spec(1.0, lo=0.0, hi=20.0, doc="weight of taste match in utility")
    habit_weight: float = spec(2.6, lo=0.0, hi=20.0, doc="utility of a fully formed habit")
    habit_gain: float = spec(0.5, lo=0.0, hi=1.0, doc="share of the gap to a full habit closed by one purchase")
    habit_decay_days: float = spec(60.0, lo=1.0, hi=3650.0, doc="e-folding time of a habit without purchases")
    click_threshold: float = spec(
        0.9, lo=-20.0, hi=20.0, doc="an examined item is clicked when its noisy utility exceeds the aisle taste by this"
    )
    need_threshold: float = spec(
        1.2, lo=-20.0, hi=20.0, doc="a clicked item fills a need when its noisy utility exceeds the aisle taste by this"
    )
    want_threshold: float = spec(
        2.0, lo=-20.0, hi=20.0, doc="a clicked item fills a want when its noisy utility exceeds the aisle taste by this"
    )
    impulse_threshold: float = spec(
        2.2, lo=-20.0, hi=50.0, doc="utility above which a home-feed item outside every intent is bought on impulse"
    )
    organic_find: float = spec(
        0.55, lo=0.0, hi=1.0, doc="probability a need not met by the slates is found anyway by browsing the aisle"
    )


@dataclass(frozen=True)
class ChurnConfig:
    """How satisfaction moves and how it drives churn."""

    initial_satisfaction: float = spec(0.7, lo=0.0, hi=1.0, doc="satisfaction of a new shopper")
    memory: float = spec(0.25, lo=0.0, hi=1.0, doc="weight of the latest session in the satisfaction average")
    base_hazard: float = spec(0.006, lo=0.0, hi=1.0, doc="churn probability per session at the reference satisfaction")
    reference_satisfaction: float = spec(0.7, lo=0.0, hi=1.0, doc="satisfaction at which the hazard equals base_hazard")
    sensitivity: float = spec(
        9.0, lo=0.0, hi=100.0, doc="log-hazard change per unit of satisfaction below the reference"
    )
    engagement: float = spec(
        1.5, lo=0.0, hi=20.0, doc="log change of the trip interval per unit of satisfaction below the reference"
    )
    unmet_need_penalty: float = spec(0.5, lo=0.0, hi=10.0, doc="session score lost per unit share of needs left unmet")
    irrelevant_ad_penalty: float = spec(
        0.6, lo=0.0, hi=10.0, doc="session score lost per unit share of examined sponsored items that were irrelevant"
    )
