"""Cross-field rules of a scenario: every key that refers to another key, a day, a size or a name, checked at load.

Each rule is a small function over the validated config that yields one-line problems naming the key, its
value and what is allowed; ``RULES`` lists them in the order they are checked and ``check_rules`` raises the
first problem as a ``ScenarioError``. Nothing here builds a world: the sizes that depend on the seed (products
per aisle) come from one draw per aisle (``sim.catalog.aisle_sizes``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from basketgym.contract.errors import ScenarioError
from basketgym.sim.config import EventConfig, ExperimentConfig, ScenarioConfig, key_name

#: expected shoppers per A/B arm below which the test is refused: its statistics need two per arm, and with
#: 20 expected the chance of fewer than two is below 1e-7 (Poisson tail)
MIN_ARM_SHOPPERS = 20

#: keys of an event that only mean something for some kinds (a value other than the default elsewhere is refused)
EVENT_KEYS_BY_KIND = {
    "discount": ("promotion",),
    "multiplier": ("price_change",),
    "count": ("new_products",),
    "share": ("promotion", "price_change", "stockout"),
    "duration": ("promotion", "price_change", "stockout"),
}


@dataclass(frozen=True)
class Context:
    """What a rule needs beyond the config: the scenario's calendar and the run's seeds."""

    calendar_days: int  # the calendar's days (a shorter --days runs its first days: ScenarioConfig.calendar_days)
    seeds: tuple[int, ...]  # the worlds' seeds (catalog sizes depend on them)


Rule = Callable[[ScenarioConfig, Context], Iterator[str]]


def _list(values: tuple) -> str:
    return "[" + ", ".join(repr(v) if isinstance(v, str) else str(v) for v in values) + "]"


def _dupes(values: tuple) -> list:
    seen: set = set()
    return [v for v in values if v in seen or seen.add(v)]  # type: ignore[func-returns-value]


# ---- days ---------------------------------------------------------------------------------------------------------


def events_within_calendar(cfg: ScenarioConfig, ctx: Context) -> Iterator[str]:
    """An event starting on or after the last day never happens (a launch's products would never appear)."""
    for i, ev in enumerate(cfg.events):
        if ev.day >= ctx.calendar_days:
            yield (
                f"events[{i}].day = {ev.day}: must be below days ({ctx.calendar_days}); a {ev.kind} then never happens"
            )


def event_durations(cfg: ScenarioConfig, ctx: Context) -> Iterator[str]:
    """``duration`` is -1 (the kind's default) or at least one day."""
    for i, ev in enumerate(cfg.events):
        if ev.duration == 0:
            yield f"events[{i}].duration = 0: must be -1 (the kind's default) or >= 1 day"


def event_keys_match_kind(cfg: ScenarioConfig, ctx: Context) -> Iterator[str]:
    """A key that the event's kind does not read (a stock-out's ``discount``) would be silently ignored."""
    default = EventConfig()
    for i, ev in enumerate(cfg.events):
        for key, kinds in EVENT_KEYS_BY_KIND.items():
            if ev.kind not in kinds and getattr(ev, key) != getattr(default, key):
                yield (
                    f"events[{i}].{key} = {getattr(ev, key)}: a {ev.kind} does not use {key} "
                    f"(it applies to {', '.join(kinds)}); remove it"
                )


def event_share_targets_something(cfg: ScenarioConfig, ctx: Context) -> Iterator[str]:
    """``share = 0`` of a promotion, price change or stock-out targets no product."""
    for i, ev in enumerate(cfg.events):
        if ev.kind != "new_products" and ev.share == 0:
            yield f"events[{i}].share = 0.0: targets no product; must be > 0"


def horizons_within_run(cfg: ScenarioConfig, ctx: Context) -> Iterator[str]:
    """Retention and LTV need at least one horizon, each within the run and named once."""
    h = cfg.run.horizons
    if not h:
        yield f"run.horizons = []: name at least one horizon (days, 1 … {ctx.calendar_days})"
    over = [x for x in h if x > ctx.calendar_days]
    if over:
        yield f"run.horizons = {_list(h)}: {_list(tuple(over))} longer than days ({ctx.calendar_days})"
    if _dupes(h):
        yield f"run.horizons = {_list(h)}: {_list(tuple(_dupes(h)))} named twice; each horizon once"


def refit_within_run(cfg: ScenarioConfig, ctx: Context) -> Iterator[str]:
    """A refit interval longer than the run means the rankers never retrain."""
    k = cfg.rankers.refit_every_days
    if k > ctx.calendar_days:
        yield f"rankers.refit_every_days = {k}: must be <= days ({ctx.calendar_days}), or the rankers never retrain"


def experiment_within_run(cfg: ScenarioConfig, ctx: Context) -> Iterator[str]:
    """The A/B test must end by the last day (its daily looks are read over the whole window)."""
    ex = cfg.experiment
    if ex.treatment and ex.start_day + ex.days > ctx.calendar_days:
        yield (
            f"experiment.days = {ex.days}: start_day + days must be <= days ({ctx.calendar_days}); "
            f"start_day is {ex.start_day}"
        )


# ---- sizes --------------------------------------------------------------------------------------------------------


def catalog_sizes(cfg: ScenarioConfig, ctx: Context) -> Iterator[str]:
    """Departments hold aisles, aisles hold products, brands sell products; only brand products bid for ads."""
    cat = cfg.catalog
    if cat.departments > cat.aisles:
        yield f"catalog.departments = {cat.departments}: must be <= catalog.aisles ({cat.aisles})"
    if cat.aisles > cat.products:
        yield f"catalog.aisles = {cat.aisles}: must be <= catalog.products ({cat.products})"
    if cat.brands > cat.products:
        yield f"catalog.brands = {cat.brands}: must be <= catalog.products ({cat.products})"
    brand_share = 1.0 - cat.private_label_share
    if cat.ad_eligible_share > brand_share + 1e-12:
        yield (
            f"catalog.ad_eligible_share = {cat.ad_eligible_share}: must be <= 1 - catalog.private_label_share "
            f"({brand_share:g}); store-label products do not bid"
        )


def _largest_aisle(cfg: ScenarioConfig, ctx: Context) -> int:
    from basketgym.sim.catalog import aisle_sizes

    return min(int(aisle_sizes(cfg.catalog, s).max()) for s in ctx.seeds)


def search_slate_fits_candidates(cfg: ScenarioConfig, ctx: Context) -> Iterator[str]:
    """A search slate is filled from at most ``search_candidates`` items of the searched aisle's shelf."""
    mk = cfg.marketplace
    if cfg.catalog.aisles > cfg.catalog.products:
        return  # reported by catalog_sizes
    shelf = _largest_aisle(cfg, ctx)
    cands = min(mk.search_candidates, shelf)
    if mk.slate_size > cands:
        why = (
            f"marketplace.search_candidates ({mk.search_candidates})"
            if mk.search_candidates <= shelf
            else f"the largest aisle's shelf ({shelf} products)"
        )
        yield f"marketplace.slate_size = {mk.slate_size}: must be <= the search candidate set, {why}"


def home_slate_fits_candidates(cfg: ScenarioConfig, ctx: Context) -> Iterator[str]:
    """Home candidates are the shopper's order-again history plus the day's featured pool."""
    mk, n = cfg.marketplace, cfg.catalog.products
    if mk.home_featured > n:
        yield f"marketplace.home_featured = {mk.home_featured}: must be <= catalog.products ({n})"
    cands = mk.home_order_again + mk.home_featured
    if mk.home_slate_size > cands:
        yield (
            f"marketplace.home_slate_size = {mk.home_slate_size}: must be <= the home candidate set, "
            f"home_order_again + home_featured ({cands})"
        )


def sponsored_slots(cfg: ScenarioConfig, ctx: Context) -> Iterator[str]:
    """Ad positions lie in the slate, once each, no more of them than ``max_sponsored``."""
    mk = cfg.marketplace
    pos = mk.ad_positions
    slate = max(mk.slate_size, mk.home_slate_size)
    if mk.max_sponsored > slate:
        yield f"marketplace.max_sponsored = {mk.max_sponsored}: must be <= the largest slate ({slate})"
    out = [p for p in pos if p >= mk.slate_size]
    if out:
        yield f"marketplace.ad_positions = {_list(pos)}: positions must be < slate_size ({mk.slate_size})"
    if _dupes(pos):
        yield f"marketplace.ad_positions = {_list(pos)}: position {_dupes(pos)[0]} named twice; each position once"
    if len(pos) > mk.max_sponsored:
        yield (
            f"marketplace.ad_positions = {_list(pos)}: {len(pos)} positions but max_sponsored is {mk.max_sponsored}; "
            "name at most max_sponsored positions (ad_positions = [] for no ads)"
        )


def events_target_the_catalog(cfg: ScenarioConfig, ctx: Context) -> Iterator[str]:
    """An event's aisle, department and brand exist, and its aisle lies in its department."""
    from basketgym.sim.catalog import aisle_departments

    cat = cfg.catalog
    dept = aisle_departments(cat) if cat.departments <= cat.aisles else None
    for i, ev in enumerate(cfg.events):
        for key, n in (("aisle", cat.aisles), ("department", cat.departments), ("brand", cat.brands)):
            v = getattr(ev, key)
            if v >= n:
                yield f"events[{i}].{key} = {v}: must be -1 or below catalog.{key}s ({n})"
        if dept is not None and 0 <= ev.aisle < cat.aisles and ev.department >= 0 and dept[ev.aisle] != ev.department:
            yield (
                f"events[{i}].aisle = {ev.aisle}: lies in department {dept[ev.aisle]}, not events[{i}].department "
                f"({ev.department}); the event would target nothing (give one of them, or a matching pair)"
            )


def launches_fit_the_catalog(cfg: ScenarioConfig, ctx: Context) -> Iterator[str]:
    """A launch hides ``count`` of its target's products until its day: the target must hold that many.

    The target's size is counted over aisle and department for every seed of the run (a brand's products are
    only known once the catalog is generated, so a brand narrows the target further than this check sees).
    """
    from basketgym.sim.catalog import aisle_departments, aisle_sizes

    cat = cfg.catalog
    launches = [(i, ev) for i, ev in enumerate(cfg.events) if ev.kind == "new_products"]
    if not launches or cat.aisles > cat.products or cat.departments > cat.aisles:
        return
    dept = aisle_departments(cat)
    sizes = [aisle_sizes(cat, s) for s in ctx.seeds]
    for i, ev in launches:
        mask = np.ones(cat.aisles, bool)
        if 0 <= ev.aisle < cat.aisles:
            mask &= np.arange(cat.aisles) == ev.aisle
        if 0 <= ev.department < cat.departments:
            mask &= dept == ev.department
        room = min(int(s[mask].sum()) for s in sizes)
        if ev.count > room:
            target = "the catalog" if mask.all() else "its target (aisle/department)"
            yield f"events[{i}].count = {ev.count}: must be <= the {room} products of {target}"
    total = sum(ev.count for _, ev in launches)
    if total >= cat.products:
        yield (
            f"events[{launches[-1][0]}].count: launches hide {total} products until their day; "
            f"must be < catalog.products ({cat.products}) so that something is on sale on day 0"
        )


# ---- names --------------------------------------------------------------------------------------------------------


def run_rankers(cfg: ScenarioConfig) -> list[str]:
    """Every ranker a run of ``cfg`` builds: its rankers, the control, attributed policies and the treatment."""
    names = [*cfg.rankers.names, cfg.rankers.control, *cfg.evaluation.attribution]
    return list(dict.fromkeys([*names, *filter(None, [cfg.experiment.treatment])]))


def ranker_names(cfg: ScenarioConfig, ctx: Context) -> Iterator[str]:
    """At least one ranker, each named once, and a control."""
    names = cfg.rankers.names
    if not names:
        yield "rankers.names = []: name at least one ranker"
    if _dupes(names):
        yield f"rankers.names = {_list(names)}: {_dupes(names)[0]!r} named twice; each ranker once"
    if not cfg.rankers.control.strip():
        yield "rankers.control = '': name the control ranker (every policy's twin for incrementality)"


def options_for_run_rankers(cfg: ScenarioConfig, ctx: Context) -> Iterator[str]:
    """Options for a ranker the run does not build would be silently ignored (usually a misspelt name)."""
    run = run_rankers(cfg)
    for name in cfg.rankers.options:
        if name not in run:
            yield f"rankers.options.{key_name(name)}: {name!r} is not a ranker of this run (run: {_list(tuple(run))})"


def attribution_rankers(cfg: ScenarioConfig, ctx: Context) -> Iterator[str]:
    """Surface attribution splits a policy's own world against the control's: it must be a ranker, not the control."""
    attr, names = cfg.evaluation.attribution, cfg.rankers.names
    if _dupes(attr):
        yield f"evaluation.attribution = {_list(attr)}: {_dupes(attr)[0]!r} named twice; each ranker once"
    for r in attr:
        if r == cfg.rankers.control:
            yield f"evaluation.attribution = {_list(attr)}: {r!r} is rankers.control; its effect over itself is 0"
        elif r not in names:
            yield f"evaluation.attribution = {_list(attr)}: {r!r} must be one of rankers.names {_list(names)}"


def experiment_arms(cfg: ScenarioConfig, ctx: Context) -> Iterator[str]:
    """Both arms of the A/B test must expect shoppers; experiment keys without a treatment do nothing."""
    ex = cfg.experiment
    if not ex.treatment:
        default = ExperimentConfig()
        for f in dataclasses.fields(ExperimentConfig):
            v = getattr(ex, f.name)
            if v != getattr(default, f.name):
                yield f"experiment.{f.name} = {v}: has no effect without experiment.treatment (set it, or remove this)"
        return
    if ex.treatment == cfg.rankers.control:
        yield f"experiment.treatment = {ex.treatment!r}: must differ from rankers.control"
    pop = cfg.population
    # the test's units are the shoppers who joined before its start (eval.timeline.window_metrics)
    units = pop.shoppers + pop.new_per_day * max(0, ex.start_day - 1)
    for arm, p in (("treatment", ex.share), ("control", 1.0 - ex.share)):
        if p * units < MIN_ARM_SHOPPERS:
            lo = MIN_ARM_SHOPPERS / units
            yield (
                f"experiment.share = {ex.share}: the {arm} arm expects {p * units:.1f} of {units:,.0f} shoppers; "
                f"each arm needs >= {MIN_ARM_SHOPPERS} (share between {lo:.4g} and {1 - lo:.4g})"
                if lo < 0.5
                else f"experiment.share = {ex.share}: {units:,.0f} shoppers are too few for an A/B test "
                f"(each arm needs >= {MIN_ARM_SHOPPERS} expected)"
            )
            break


#: every cross-field rule, in the order they are checked
RULES: tuple[Rule, ...] = (
    catalog_sizes,
    events_within_calendar,
    event_durations,
    event_keys_match_kind,
    event_share_targets_something,
    events_target_the_catalog,
    launches_fit_the_catalog,
    horizons_within_run,
    refit_within_run,
    experiment_within_run,
    search_slate_fits_candidates,
    home_slate_fits_candidates,
    sponsored_slots,
    ranker_names,
    options_for_run_rankers,
    attribution_rankers,
    experiment_arms,
)


def problems(cfg: ScenarioConfig, *, seeds: int | None = None) -> list[str]:
    """Every problem the rules find (empty: the scenario means what it says).

    Events, horizons and refits are judged against the scenario's calendar (``calendar_days`` when a
    shorter run was asked for with ``--days``: the run simulates its first ``days``). ``seeds``: worlds
    per ranker (default ``run.seeds``).
    """
    n = cfg.run.seeds if seeds is None else seeds
    ctx = Context(calendar_days=max(cfg.days, cfg.calendar_days), seeds=tuple(cfg.seed + s for s in range(max(1, n))))
    return [p for rule in RULES for p in rule(cfg, ctx)]


def check_rules(cfg: ScenarioConfig, *, seeds: int | None = None) -> None:
    """Raise ``ScenarioError`` with the first problem of ``problems`` (one line)."""
    found = problems(cfg, seeds=seeds)
    if found:
        more = f" (and {len(found) - 1} more: basketgym check lists them)" if len(found) > 1 else ""
        raise ScenarioError(found[0] + more)


def shortened_run_notes(cfg: ScenarioConfig) -> list[str]:
    """What a run shorter than the scenario's calendar leaves out (printed by ``run`` and ``check``)."""
    calendar_days = cfg.calendar_days
    if cfg.days >= calendar_days:
        return []
    d, notes = cfg.days, []
    late = [f"events[{i}] ({ev.kind}, day {ev.day})" for i, ev in enumerate(cfg.events) if ev.day >= d]
    if late:
        notes.append(f"--days {d} runs the first {d} of {calendar_days} days: never reached: {', '.join(late)}")
    over = [h for h in cfg.run.horizons if h > d]
    if over:
        notes.append(f"--days {d}: horizons {_list(tuple(over))} are longer than the run and print as '—'")
    if cfg.rankers.refit_every_days > d:
        notes.append(f"--days {d}: shorter than rankers.refit_every_days ({cfg.rankers.refit_every_days}): no refit")
    return notes
