"""The realism report as text: measured facts next to their public targets and bands, one column per seed."""

from __future__ import annotations

import math
from collections.abc import Sequence

from basketgym.eval.orchestration.realism import Realism
from basketgym.eval.outcomes.facts import Fact, SeedFact


def _num(v: float) -> str:
    return "—" if math.isnan(v) else f"{v:.3g}"


def format_facts(facts: Sequence[Fact]) -> str:
    """An aligned text table: fact, value, target, accepted band, ✓/✗, source."""
    header = ("fact", "value", "target", "band", "ok", "source")
    rows = [
        (
            f.name,
            _num(f.value),
            _num(f.target),
            "—" if f.low is None else f"[{_num(f.low)}, {_num(f.high)}]",
            "·" if f.ok is None else "✓" if f.ok else "✗",
            f.source,
        )
        for f in facts
    ]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    right = {1, 2, 3}

    def line(cells: Sequence[str]) -> str:
        parts = [c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True))]
        return "  ".join(parts).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(header), rule, *(line(r) for r in rows)])


def format_seed_facts(facts: Sequence[SeedFact]) -> str:
    """An aligned text table: fact, each seed's value, target, band, ✓ (every seed inside) / ✗ / ·, source."""
    seeds = facts[0].seeds if facts else ()
    header = ("fact", *(f"seed {s}" for s in seeds), "target", "band", "ok", "source")
    rows = [
        (
            f.name,
            *(_num(v) for v in f.values),
            _num(f.target),
            "—" if f.low is None else f"[{_num(f.low)}, {_num(f.high)}]",
            "·" if f.ok is None else "✓" if f.ok else f"✗ {f.inside.count(False)}/{len(f.values)} out",
            f.source,
        )
        for f in facts
    ]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    right = set(range(1, len(seeds) + 3))

    def line(cells: Sequence[str]) -> str:
        parts = [c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True))]
        return "  ".join(parts).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(header), rule, *(line(r) for r in rows)])


def format_realism(r: Realism) -> str:
    """Both tables of a ``Realism``, titled: after the warm-up (graded) and from day 0."""
    seeds = ", ".join(str(s) for s in (r.after_warmup[0].seeds if r.after_warmup else ()))
    return "\n".join([
        f"realism of '{r.scenario}' under '{r.ranker}', seeds {seeds}: a fact is ✓ only if every seed is inside "
        "its band",
        "",
        f"after the {r.warmup}-day warm-up (orders of days {r.warmup}-{r.days - 1}; graded):",
        format_seed_facts(r.after_warmup),
        "",
        f"from day 0 (orders of days 0-{r.days - 1}, no warm-up: the first weeks have no history to re-order "
        "from; for comparison):",
        format_seed_facts(r.from_day_0),
    ])  # fmt: skip
