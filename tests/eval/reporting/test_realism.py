"""The realism report: the single-world fact table and the per-seed table, aligned and marked."""

from __future__ import annotations

import math

from basketgym.eval.outcomes.facts import Fact, over_seeds
from basketgym.eval.reporting.realism import format_facts, format_seed_facts


def test_format_facts_aligns_and_marks():
    facts = [
        Fact("reorder_share", 0.6123, 0.59, 0.5, 0.68, "Instacart", True),
        Fact("ctr_last_over_first_home", 0.75, math.nan, 0.0, 0.5, "eye-tracking", False),
    ]
    text = format_facts(facts)
    lines = text.splitlines()
    assert len(lines) == 4
    assert lines[0].split() == ["fact", "value", "target", "band", "ok", "source"]
    cells = [line.split(maxsplit=3)[:3] + [line[line.index("[") :]] for line in lines[2:]]
    assert cells[0] == ["reorder_share", "0.612", "0.59", "[0.5, 0.68]  ✓   Instacart"]
    assert cells[1] == ["ctr_last_over_first_home", "0.75", "—", "[0, 0.5]  ✗   eye-tracking"]
    assert len({line.index("✓") if "✓" in line else line.find("✗") for line in lines[2:]}) == 1


def test_the_seed_table_shows_every_seed_and_how_many_are_out(facts_per_seed):
    text = format_seed_facts(over_seeds(facts_per_seed((0.55, 0.6, None), (0.60, 0.6, None), (0.70, 0.7, None))))
    lines = text.splitlines()
    assert lines[0].split() == ["fact", "seed", "7", "seed", "8", "seed", "9", "target", "band", "ok", "source"]
    assert lines[2].split()[:8] == ["reorder_share", "0.55", "0.6", "0.7", "0.59", "[0.5,", "0.68]", "✗"]
    assert "✗ 1/3 out" in lines[2] and lines[3].split()[-3:] == ["—", "·", "dunnhumby"]
