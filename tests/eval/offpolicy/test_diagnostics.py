"""Importance-weight diagnostics: a supported target passes, missing mass and few effective rounds are flagged."""

import numpy as np
import pytest

from basketgym.eval.offpolicy.diagnostics import MIN_ESS, slate_diagnostics, weight_diagnostics


def test_weight_diagnostics_flag_an_unsupported_target_and_not_a_supported_one():
    rng = np.random.default_rng(42)
    n = 5000
    # supported: uniform logging over 4 actions, a deterministic target; weights 4 on a quarter of the rounds
    supported = weight_diagnostics(np.where(rng.integers(0, 4, n) == 3, 4.0, 0.0), "top slot")
    assert supported.ess == pytest.approx(n / 4, rel=0.05) and supported.max_weight == 4.0
    assert supported.mean_weight == pytest.approx(1.0, abs=3 * supported.mean_weight_se)
    assert not supported.unsupported
    # slates of 3 from 6 logged uniformly (1/120 each) and a target showing one fixed slate: a handful of matches
    slate_p = np.full(n, 1 / 120)
    match = (rng.random(n) < 1 / 120).astype(float)
    d = weight_diagnostics(match / slate_p, "slate")
    assert d.few_effective and d.ess == pytest.approx(match.sum()) and d.unsupported
    # mass never shown: the target's slate has ~1e-16 logging probability in a third of the contexts
    tp = (rng.random(n) < 2 / 3).astype(float)
    w = weight_diagnostics(tp / 0.7, "slate")
    assert w.ess > MIN_ESS and w.missing_mass and w.mean_weight == pytest.approx(2 / 3 / 0.7, abs=0.03)
    # the slate estimators' diagnostics: standard IPS on the whole slate, the worst position and prefix
    k = 3
    pos_p = np.full((n, k), 1 / 6)
    prefix_p = np.cumprod(pos_p, axis=1)  # a target that logs like the logger: every weight 1, full support
    diags = slate_diagnostics(slate_p, match, pos_p, pos_p, prefix_p, prefix_p)
    assert diags["standard_ips"].unsupported and diags["standard_snips"] is diags["standard_ips"]
    for name in ("independent_ips", "cascade_snips"):
        assert diags[name].ess == pytest.approx(n) and diags[name].max_weight == 1.0 and not diags[name].unsupported
