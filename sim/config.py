"""Scenario schema: typed, frozen config objects and their validation from TOML."""

from __future__ import annotations

import dataclasses
import difflib
import json
import math
import re
import tomllib
import typing
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from basketgym.agents.params import BehaviourConfig, ChurnConfig, PopulationConfig, spec
from basketgym.contract.errors import ScenarioError

NAME_PATTERN = r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}"  # a scenario's name becomes a directory name


@dataclass(frozen=True)
class CatalogConfig:
    """How the product catalog is generated."""

    products: int = spec(3000, lo=20, hi=500_000, doc="number of products")
    aisles: int = spec(126, lo=4, hi=2000, doc="number of aisles (product categories)")
    departments: int = spec(20, lo=2, hi=100, doc="number of departments")
    brands: int = spec(240, lo=4, hi=50_000, doc="number of brands")
    latent_dim: int = spec(16, lo=2, hi=128, doc="dimension of the hidden item/taste embedding")
    private_label_share: float = spec(0.25, lo=0.0, hi=1.0, doc="share of products sold under the store's own label")
    ad_eligible_share: float = spec(
        0.4, lo=0.0, hi=1.0, doc="share of brand products whose brand bids for sponsored slots"
    )
    latent_noise: float = spec(
        1.5, lo=0.0, hi=5.0, doc="noise of the hidden embedding around its public-attribute mean"
    )


@dataclass(frozen=True)
class MarketplaceConfig:
    """The platform's surfaces: slates, candidates and sponsored slots."""

    slate_size: int = spec(10, lo=1, hi=100, doc="items per search slate")
    home_slate_size: int = spec(10, lo=0, hi=100, doc="items in the home feed (0 disables the home feed)")
    home_order_again: int = spec(24, lo=0, hi=200, doc="home candidates from the shopper's own order history")
    home_featured: int = spec(40, lo=1, hi=1000, doc="home candidates from the day's featured pool")
    search_candidates: int = spec(48, lo=1, hi=2000, doc="maximum candidates retrieved for a search")
    ad_positions: tuple[int, ...] = spec(
        (0, 4), lo=0, hi=99, doc="slate positions (0-based) the standard ad auction fills"
    )
    max_sponsored: int = spec(3, lo=0, hi=100, doc="most sponsored placements any ranker may put in one slate")
    cpc_scale: float = spec(1.0, lo=0.0, hi=100.0, doc="multiplier on brands' cost-per-click bids")


@dataclass(frozen=True)
class RankersConfig:
    """Which rankers the scenario compares and how often they retrain."""

    names: tuple[str, ...] = spec(
        ("random", "popularity", "buy_again", "margin_greedy"), doc="rankers to evaluate, by registry name"
    )
    control: str = spec("popularity", doc="the non-personalised control for incrementality")
    refit_every_days: int = spec(7, lo=1, hi=3650, doc="rankers refit from the logs every this many days")
    options: dict[str, dict[str, Any]] = field(
        default_factory=dict,
        metadata={"doc": "keyword arguments per ranker name: [rankers.options.causal_value] retention_value = 5.0"},
    )


@dataclass(frozen=True)
class RunConfig:
    """How many seeds, how results are written and summarised."""

    seeds: int = spec(3, lo=1, hi=10_000, doc="independent worlds per ranker (seed, seed+1, ...)")
    chunk_size: int = spec(
        4096, lo=1, hi=10_000_000, doc="sessions processed per vectorised batch (results do not depend on it)"
    )
    event_log: str = spec("full", choices=("full", "none"), doc="write the full event log, or only outcomes")
    discount_rate: float = spec(0.10, lo=0.0, hi=10.0, doc="annual discount rate for LTV")
    horizons: tuple[int, ...] = spec((14, 30, 90, 180), lo=1, hi=3650, doc="horizons (days) for retention and LTV")


@dataclass(frozen=True)
class EvaluationConfig:
    """How a run is judged beyond the per-ranker tables: intervals and surface attribution."""

    bootstrap: int = spec(1000, lo=0, hi=100_000, doc="bootstrap resamples for intervals over shoppers (0: none)")
    attribution: tuple[str, ...] = spec(
        (), doc="rankers whose incremental GTV over the control is split by surface (3 extra worlds per seed each)"
    )


@dataclass(frozen=True)
class ExperimentConfig:
    """A simulated A/B test inside one world: shoppers randomised between the control and a treatment."""

    treatment: str = spec("", doc="ranker tested against rankers.control ('' runs no experiment)")
    start_day: int = spec(60, lo=1, hi=100_000, doc="first day of the experiment (everyone sees the control before)")
    days: int = spec(28, lo=1, hi=100_000, doc="duration in days (looked at daily by the sequential test)")
    share: float = spec(0.5, lo=0.01, hi=0.99, doc="share of shoppers assigned to the treatment")
    metric: str = spec(
        "margin", choices=("margin", "contribution", "gtv", "orders"), doc="per-shopper outcome over the experiment"
    )


DEFAULT_EVENT_DAYS = 7  # a promotion or stock-out without a duration


@dataclass(frozen=True)
class EventConfig:
    """One scheduled change to the marketplace (promotion, price change, stock-out, launch)."""

    kind: str = spec("promotion", choices=("promotion", "price_change", "stockout", "new_products"), doc="what happens")
    day: int = spec(0, lo=0, hi=100_000, doc="day it starts")
    duration: int = spec(
        -1,
        lo=-1,
        hi=100_000,
        doc="days it lasts; -1: the kind's default (promotion and stockout 7 days, price_change permanent; "
        "new_products are always permanent)",
    )
    aisle: int = spec(-1, lo=-1, hi=100_000, doc="target aisle (-1: any)")
    department: int = spec(-1, lo=-1, hi=100_000, doc="target department (-1: any)")
    brand: int = spec(-1, lo=-1, hi=1_000_000, doc="target brand (-1: any)")
    share: float = spec(1.0, lo=0.0, hi=1.0, doc="share of the targeted products affected (drawn from the seed)")
    discount: float = spec(0.2, lo=0.0, hi=0.95, doc="promotion price cut")
    multiplier: float = spec(1.1, lo=0.05, hi=20.0, doc="price_change factor")
    count: int = spec(30, lo=1, hi=100_000, doc="new_products: how many products launch")

    @property
    def lasts(self) -> int | None:
        """Days the event lasts, or None when it is permanent (launches; price changes without a duration)."""
        if self.kind == "new_products" or (self.kind == "price_change" and self.duration < 0):
            return None
        return DEFAULT_EVENT_DAYS if self.duration < 0 else self.duration


@dataclass(frozen=True)
class ScenarioConfig:
    """A whole scenario: the world, its shoppers, the platform, the rankers and the run."""

    name: str = spec(
        "scenario",
        pattern=NAME_PATTERN,
        doc="short name used in run directories: letters, digits, '_', '-', '.' (at most 64; a letter or digit first)",
    )
    description: str = spec("", doc="what the scenario is for")
    seed: int = spec(0, lo=0, hi=2**62, doc="root of every random draw")
    days: int = spec(180, lo=1, hi=100_000, doc="simulated days")
    calendar_days: int = spec(
        0,
        lo=0,
        hi=100_000,
        doc="days of the calendar the events, horizons and refits were written for, when the run simulates only "
        "its first `days` (set by `--days`; 0: `days`)",
    )
    catalog: CatalogConfig = field(default_factory=CatalogConfig)
    population: PopulationConfig = field(default_factory=PopulationConfig)
    behaviour: BehaviourConfig = field(default_factory=BehaviourConfig)
    churn: ChurnConfig = field(default_factory=ChurnConfig)
    marketplace: MarketplaceConfig = field(default_factory=MarketplaceConfig)
    rankers: RankersConfig = field(default_factory=RankersConfig)
    run: RunConfig = field(default_factory=RunConfig)
    evaluation: EvaluationConfig = field(default_factory=EvaluationConfig)
    experiment: ExperimentConfig = field(default_factory=ExperimentConfig)
    events: tuple[EventConfig, ...] = ()

    def replace(self, **changes: Any) -> ScenarioConfig:
        """A copy with top-level fields replaced (e.g. ``days=30``).

        A shorter ``days`` (without an explicit ``calendar_days``) runs the first days of the
        calendar this scenario was written for, as ``resolve_scenario(..., days=)`` does, so the
        copy's resolved ``scenario.toml`` loads again with its events and horizons intact.
        """
        if "days" in changes and "calendar_days" not in changes:
            calendar = max(self.days, self.calendar_days)
            changes["calendar_days"] = calendar if int(changes["days"]) < calendar else 0
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """Plain nested dict (tuples as lists), suitable for TOML/JSON."""
        return _plain(dataclasses.asdict(self))


def _plain(x: Any) -> Any:
    if isinstance(x, dict):
        return {k: _plain(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_plain(v) for v in x]
    return x


# ---------------------------------------------------------------------------------------------
# validation


def _type_name(tp: Any) -> str:
    """'an integer', 'a list of strings', ... for error messages."""
    if typing.get_origin(tp) is tuple:
        return (
            "a list of " + {int: "integers", float: "numbers", str: "strings", bool: "booleans"}[typing.get_args(tp)[0]]
        )
    return {int: "an integer", float: "a number", str: "a string", bool: "a boolean"}.get(tp, str(tp))


def key_name(key: str) -> str:
    """A key as it may appear in a one-line error: bare when it is printable, else quoted with escapes."""
    return key if key.isprintable() and key.strip() == key and key else repr(key)


def _fmt(value: Any) -> str:
    return repr(value) if isinstance(value, str) else str(value).lower() if isinstance(value, bool) else str(value)


def _check_scalar(where: str, tp: Any, value: Any, meta: dict) -> Any:
    ok = (
        (tp is bool and isinstance(value, bool))
        or (tp is int and isinstance(value, int) and not isinstance(value, bool))
        or (tp is float and isinstance(value, int | float) and not isinstance(value, bool))
        or (tp is str and isinstance(value, str))
    )
    if not ok:
        raise ScenarioError(f"{where} = {_fmt(value)}: must be {_type_name(tp)}")
    if tp is float:
        value = float(value)
        # NaN compares false with every bound and inf breaks every sum: refuse both once, here, for every float key
        if math.isnan(value) or (math.isinf(value) and not meta.get("infinite")):
            allowed = "a number (not nan)" if meta.get("infinite") else "a finite number (not nan, inf or -inf)"
            raise ScenarioError(f"{where} = {_fmt(value)}: must be {allowed}")
    lo, hi, choices = meta.get("lo"), meta.get("hi"), meta.get("choices")
    pattern = meta.get("pattern")
    if pattern is not None and not re.fullmatch(pattern, value):
        raise ScenarioError(f"{where} = {_fmt(value)}: must match {pattern} (it names files)")
    if choices is not None and value not in choices:
        raise ScenarioError(f"{where} = {_fmt(value)}: must be one of {', '.join(map(repr, choices))}")
    if lo is not None and value < lo or hi is not None and value > hi:
        rng = (
            f"between {lo} and {hi}"
            if lo is not None and hi is not None
            else f">= {lo}"
            if lo is not None
            else f"<= {hi}"
        )
        raise ScenarioError(f"{where} = {_fmt(value)}: must be {rng}")
    return value


def _check_value(where: str, tp: Any, value: Any, meta: dict) -> Any:
    if typing.get_origin(tp) is tuple:
        if not isinstance(value, list):
            raise ScenarioError(f"{where} = {_fmt(value)}: must be {_type_name(tp)}")
        inner = typing.get_args(tp)[0]
        return tuple(_check_scalar(f"{where}[{i}]", inner, v, meta) for i, v in enumerate(value))
    return _check_scalar(where, tp, value, meta)


def build(cls: type, data: Any, where: str) -> Any:
    """Validate a TOML table into the frozen dataclass ``cls``; errors name key, value and rule."""
    if not isinstance(data, dict):
        raise ScenarioError(f"{where or 'scenario'}: must be a table, got {_fmt(data)}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    for key in data:
        if key not in fields:
            close = difflib.get_close_matches(key, list(fields), n=1, cutoff=0.6)
            hint = f"did you mean '{close[0]}'? " if close else ""
            section = f"[{where}] " if where else ""
            raise ScenarioError(f"{section}{key_name(key)}: unknown key; {hint}allowed: {', '.join(fields)}")
    kwargs = {}
    for name, value in data.items():
        tp, key = hints[name], f"{where}.{name}" if where else name
        if dataclasses.is_dataclass(tp):
            kwargs[name] = build(tp, value, key)
        elif name == "options":
            kwargs[name] = _ranker_options(value, key)
        elif name == "events":
            if not isinstance(value, list):
                raise ScenarioError(f"events: must be an array of tables ([[events]]), got {_fmt(value)}")
            kwargs[name] = tuple(build(EventConfig, v, f"events[{i}]") for i, v in enumerate(value))
        else:
            kwargs[name] = _check_value(key, tp, value, dict(fields[name].metadata))
    return cls(**kwargs)


def _ranker_options(value: Any, where: str) -> dict[str, dict[str, Any]]:
    """``[rankers.options.<name>]`` tables of scalar keyword arguments (the ranker checks their names and values)."""
    if not isinstance(value, dict):
        raise ScenarioError(f"{where} = {_fmt(value)}: must be a table of tables ([{where}.<ranker name>])")
    out = {}
    for name, opts in value.items():
        if not isinstance(opts, dict):
            raise ScenarioError(f"{where}.{key_name(name)} = {_fmt(opts)}: must be a table of keyword arguments")
        for k, v in opts.items():
            if not isinstance(v, bool | int | float | str):
                raise ScenarioError(
                    f"{where}.{key_name(name)}.{key_name(k)} = {_fmt(v)}: must be a number, a boolean or a string"
                )
            if isinstance(v, float) and not math.isfinite(v):
                key = f"{where}.{key_name(name)}.{key_name(k)}"
                raise ScenarioError(f"{key} = {_fmt(v)}: must be a finite number (not nan, inf or -inf)")
        out[name] = dict(opts)
    return out


def scenario_from_dict(data: dict[str, Any], source: str = "scenario") -> ScenarioConfig:
    """Validate a parsed scenario mapping (as read from TOML): every key, then every cross-field rule."""
    from basketgym.sim.scenario_rules import check_rules

    try:
        cfg = build(ScenarioConfig, data, "")
        check_rules(cfg)
    except ScenarioError as e:
        raise ScenarioError(f"{source}: {e}") from None
    return cfg


def load_scenario(path: str | Path) -> ScenarioConfig:
    """Read and validate a scenario: a TOML path, or the name of a bundled scenario (``default``)."""
    from basketgym.contract.files import read_text
    from basketgym.scenarios import scenario_path

    p = scenario_path(path)
    try:
        data = tomllib.loads(read_text(p, "scenario file", ScenarioError))  # unreadable, binary: one line
    except tomllib.TOMLDecodeError as e:
        raise ScenarioError(f"{p}: not valid TOML: {e}") from None
    return scenario_from_dict(data, str(p))


def resolve_scenario(
    scenario: str | Path | ScenarioConfig,
    *,
    days: int | None = None,
    shoppers: int | None = None,
    event_log: str | None = None,
    rankers: Sequence[str] | None = None,
) -> ScenarioConfig:
    """A scenario (bundled name, TOML path or config) with the common overrides of CLI and envs.

    A scenario read from a file is checked as written and again after the overrides
    (``sim.scenario_rules``). A shorter ``days`` runs the first days of the calendar the scenario was
    written for: ``calendar_days`` keeps that calendar's length, against which events, horizons and
    refits are judged. A config object passed in is the caller's own and is not re-checked.
    """
    from basketgym.sim.scenario_rules import check_rules

    given = isinstance(scenario, ScenarioConfig)
    cfg = scenario if isinstance(scenario, ScenarioConfig) else load_scenario(scenario)
    if days is not None:
        cfg = cfg.replace(days=int(days))
    if shoppers is not None:
        cfg = cfg.replace(population=dataclasses.replace(cfg.population, shoppers=int(shoppers)))
    if event_log is not None:
        cfg = cfg.replace(run=dataclasses.replace(cfg.run, event_log=event_log))
    if rankers is not None:
        cfg = cfg.replace(rankers=dataclasses.replace(cfg.rankers, names=tuple(rankers)))
    if not given and (days, shoppers, rankers) != (None, None, None):
        try:
            check_rules(cfg)
        except ScenarioError as e:
            flags = [f"--{k} {v}" for k, v in (("days", days), ("shoppers", shoppers)) if v is not None]
            flags += [f"--rankers {','.join(rankers)}"] if rankers is not None else []
            raise ScenarioError(f"{scenario} with {' '.join(flags)}: {e}") from None
    return cfg


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        # JSON's escapes are TOML's basic-string escapes; DEL is the one control character JSON leaves raw
        return json.dumps(v, ensure_ascii=False).replace("\x7f", "\\u007f")
    if isinstance(v, list | tuple):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    return repr(v)


def _toml_key(key: str) -> str:
    """A bare key when TOML allows one, else a quoted one (a model directory's path as a ranker name)."""
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else _toml_value(key)


def to_toml(cfg: ScenarioConfig) -> str:
    """The fully resolved scenario as TOML (every key explicit), loadable by ``load_scenario``."""
    d = cfg.to_dict()
    events = d.pop("events")
    lines = [f"{k} = {_toml_value(v)}" for k, v in d.items() if not isinstance(v, dict)]
    for k, v in d.items():
        if isinstance(v, dict):
            nested = {kk: vv for kk, vv in v.items() if isinstance(vv, dict)}
            lines += ["", f"[{k}]"] + [f"{kk} = {_toml_value(vv)}" for kk, vv in v.items() if kk not in nested]
            for kk, tables in nested.items():  # rankers.options.<name>
                for name, opts in tables.items():
                    lines += ["", f"[{k}.{kk}.{_toml_key(name)}]"]
                    lines += [f"{_toml_key(o)} = {_toml_value(x)}" for o, x in opts.items()]
    for ev in events:
        lines += ["", "[[events]]"] + [f"{kk} = {_toml_value(vv)}" for kk, vv in ev.items()]
    return "\n".join(lines) + "\n"


def schema_markdown() -> str:
    """docs/SCENARIOS.md: every section and key with its type, default, allowed values and meaning."""
    out = [
        "# Scenario reference",
        "",
        "Generated from `sim/config.py` and `agents/params.py` by `python -m sim.config > docs/SCENARIOS.md`",
        "(a test keeps it in sync). Every key is optional; unknown keys, wrong types and out-of-range",
        "values are rejected with one line naming the key, the value and what is allowed.",
        "",
    ]

    def rows(cls: type, prefix: str) -> list[str]:
        hints = typing.get_type_hints(cls)
        lines = ["| key | type | default | allowed | meaning |", "|---|---|---|---|---|"]
        for f in dataclasses.fields(cls):
            if dataclasses.is_dataclass(hints[f.name]) or f.name in ("events", "options"):
                continue
            m = f.metadata
            default = f.default if f.default is not dataclasses.MISSING else f.default_factory()  # type: ignore[misc]
            allowed = (
                ", ".join(repr(c) for c in m["choices"])
                if m.get("choices")
                else ""
                if m.get("lo") is None and m.get("hi") is None
                else f"{m.get('lo')} … {m.get('hi')}"
            )
            lines.append(
                f"| `{prefix}{f.name}` | {_type_name(hints[f.name]).split(' ', 1)[1]} | `{_toml_value(default)}` "
                f"| {allowed} | {m.get('doc', '')} |"
            )
        return lines

    out += ["## Top level", "", *rows(ScenarioConfig, ""), ""]
    for f in dataclasses.fields(ScenarioConfig):
        tp = typing.get_type_hints(ScenarioConfig)[f.name]
        if dataclasses.is_dataclass(tp):
            out += [f"## `[{f.name}]`", "", (tp.__doc__ or "").strip(), "", *rows(tp, ""), ""]
            if f.name == "rankers":
                out += ["`[rankers.options.<ranker name>]`: keyword arguments for that ranker (numbers, booleans,",
                        "strings), e.g. `[rankers.options.causal_value]` with `retention_value = 5.0`; the ranker",
                        "rejects unknown names and bad values with one line.", ""]  # fmt: skip
    out += ["## `[[events]]`", "", (EventConfig.__doc__ or "").strip(), "", *rows(EventConfig, ""), ""]
    out += _rules_markdown()
    return "\n".join(out)


def _rules_markdown() -> list[str]:
    """The cross-field rules section: the prose, then one line per rule of ``sim.scenario_rules.RULES``."""
    from basketgym.sim.scenario_rules import MIN_ARM_SHOPPERS, RULES

    out = [
        "## Rules across keys",
        "",
        "Numbers are finite: every number key refuses `nan`, `inf` and `-inf` (TOML accepts them), and so do",
        "ranker options. Beyond each key's own range, a scenario must mean what it says; these rules are checked",
        "when it loads, before any world is built (`sim/scenario_rules.py`, in this order), and each refusal is one",
        "line naming the key, its value and what is allowed:",
        "",
    ]
    for rule in RULES:
        out.append(f"- `{rule.__name__}`: {' '.join((rule.__doc__ or '').split())}")
    out += [
        "",
        "Decisions behind some of them:",
        "",
        "- A `price_change` is permanent unless it has a `duration`; then its factor is divided out again when it",
        "  ends. A launch (`new_products`) is always permanent and takes no `duration`.",
        f"- An A/B test needs at least {MIN_ARM_SHOPPERS} expected shoppers in each arm (`experiment.share` times the",
        "  shoppers who joined before `experiment.start_day`): its statistics need two per arm, and with",
        f"  {MIN_ARM_SHOPPERS} expected the chance of fewer is below 1e-7.",
        "- A control that is not among `rankers.names` is allowed: it is simulated as an extra twin world (every",
        "  ranker's incrementality is read against it) and does not appear in the per-ranker tables.",
        "- `[rankers.options.objective]` weights `relevance` and `margin` (the ones given, with the defaults",
        "  1 and 0 for the others) must sum to 1; nothing is rescaled behind your back.",
        "- `--days N` shorter than the scenario's `days` runs the first N days of the calendar the scenario was",
        "  written for (the resolved scenario records it as `calendar_days`): events, horizons and refits are",
        "  checked against that calendar, and `run`/`check` print a",
        "  note naming the events never reached, the horizons that print as '—' and a refit that never comes.",
        "  An `[experiment]` must still end within the run. `--rankers` replaces `rankers.names`, and every rule",
        "  holds for the result (options for a ranker no longer run are refused).",
        "",
        "`basketgym check SCENARIO` (with `run`'s `--rankers`, `--days`, `--seeds`, `--jobs`) runs every rule and",
        "the memory check without simulating and prints what the run would do: its worlds by kind, days and",
        "shoppers, the estimated memory per world and at `--jobs`, and the estimated sessions and time. `run`",
        "makes the same checks before it writes anything. The memory estimate (`sim/footprint.py`) counts the",
        "worker process (~200 MB), the shopper state (~500 B a shopper on the default world), the catalog and the",
        "event log at its peak (held twice: ~2.2 kB a session with the full log); it is within ~10% of the",
        "default world's measured peak (1.06 GB estimated, 0.996 GB peak resident memory measured; smoke: 204 MB",
        "estimated, 183 MB measured). A run whose estimate exceeds the",
        "machine's available memory (`MemAvailable`) is refused in one line.",
        "",
    ]
    return out


if __name__ == "__main__":
    print(schema_markdown(), end="")
