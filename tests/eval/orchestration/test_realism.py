"""The realism check's worlds: one per seed, measured with and without the warm-up, alone or in parallel; validate."""

from __future__ import annotations

import numpy as np
import pytest

from basketgym.cli import main
from basketgym.eval.orchestration.realism import realism
from basketgym.eval.orchestration.runner import simulate
from basketgym.eval.outcomes.facts import calibration_facts
from basketgym.eval.reporting.realism import format_realism
from basketgym.sim.config import load_scenario, resolve_scenario


@pytest.fixture(scope="module")
def smoke_realism():
    return realism(load_scenario("smoke"), "popularity", [11, 12, 13])


def test_realism_of_the_smoke_world_over_three_seeds_with_and_without_warmup(smoke_realism):
    r = smoke_realism
    assert (r.scenario, r.days, r.warmup) == ("smoke", 30, 7)
    after, whole = ({f.name: f for f in t} for t in (r.after_warmup, r.from_day_0))
    assert list(after) == list(whole) and len(after) == 12
    # each seed's column is that world measured alone
    cfg = resolve_scenario("smoke", event_log="full")
    w = simulate(cfg, "popularity", 12)
    alone = calibration_facts(w.purchases, w.sessions, w.slates, w.shoppers, cfg.days, warmup_days=7)
    assert [f.values[1] for f in r.after_warmup] == pytest.approx([f.value for f in alone], nan_ok=True)
    # the first week has little to re-order from: every seed's share is lower without the warm-up
    assert all(a > b for a, b in zip(after["reorder_share"].values, whole["reorder_share"].values, strict=True))
    assert after["ctr_last_over_first_home"].values == whole["ctr_last_over_first_home"].values  # all slates
    assert r.ok is False and after["reorder_share"].ok is False  # the tiny world is not realistic (0.34-0.38)
    assert after["ctr_rank_correlation_home"].ok is True
    text = format_realism(r)
    assert "seeds 11, 12, 13" in text and "after the 7-day warm-up (orders of days 7-29; graded)" in text
    assert "from day 0 (orders of days 0-29" in text and text.count("seed 11  seed 12  seed 13") == 2


def test_parallel_worlds_give_the_same_grades(smoke_realism):
    again = realism(load_scenario("smoke"), "popularity", [11, 12, 13], jobs=2)
    for a, b in zip(again.after_warmup + again.from_day_0, smoke_realism.after_warmup + smoke_realism.from_day_0,
                    strict=True):  # fmt: skip
        assert a.name == b.name and a.ok == b.ok and np.array_equal(a.values, b.values, equal_nan=True)


def test_validate_prints_both_tables_and_needs_three_seeds(capsys):
    assert main(["validate", "smoke", "--days", "20", "--seeds", "3"]) == 1  # reorder_share out of band: exit 1
    out = capsys.readouterr().out
    assert "after the 5-day warm-up (orders of days 5-19; graded)" in out and "from day 0" in out
    assert out.count("seed 11  seed 12  seed 13") == 2
    assert main(["validate", "smoke", "--seeds", "2"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == "basketgym: error: --seeds = 2: a realism grade needs at least 3 worlds"
