"""The off-policy evaluation report as text: every estimator next to the exact truth, and the importance weights."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from basketgym.eval.offpolicy.diagnostics import MIN_ESS
from basketgym.eval.reporting.text import MISSING, percent, text_table


def format_ope(r: Any) -> str:
    """An ``eval.offpolicy.grading.OPEReport`` as text: every estimator against the truth."""

    def block(title: str, results: Sequence[Any], truth: float, logged: float, deployed: float,
              weights: Callable[[str], Any]) -> list[str]:  # fmt: skip
        rows, flagged = [], {}
        for e in results:
            rel = (e.value - truth) / truth if truth else math.nan
            covers = "yes" if e.ci_low <= truth <= e.ci_high else "no"
            w = weights(e.estimator)
            ess = "—" if w is None else f"{w.ess:,.1f}"
            if w is not None and w.unsupported:
                flagged.setdefault(w, []).append(e.estimator)
            rows.append([e.estimator, f"{e.value:.4f} [{e.ci_low:.4f}, {e.ci_high:.4f}]", f"{rel:+.1%}", covers, ess])
        out = [
            "",
            f"{title}: truth {truth:.4f} (the target's slates in the logged contexts, same draws); logging policy"
            f" {logged:.4f}; target deployed in a twin world {deployed:.4f}",
            text_table(["estimator", "estimate [95% CI]", "rel. error", "covers truth", "ESS"], rows),
        ]
        for w, names in flagged.items():
            why = []
            if w.few_effective:
                why.append(f"ESS {w.ess:,.1f} of {w.n:,} rounds, below {MIN_ESS:.0f}")
            if w.missing_mass:
                why.append(f"mean weight {w.mean_weight:.3f} ± {w.mean_weight_se:.3f}, not 1: part of the target's"
                           " slates are ones the logging policy (almost) never shows")  # fmt: skip
            out.append(
                f"! {', '.join(names)}: unsupported target ({w.weights} weights: {'; '.join(why)}): these estimates"
                " and their intervals do not describe the target"
            )
        return out

    def diagnostics(ws: Sequence[Any]) -> list[str]:
        rows = [[w.weights, f"{w.support:,} of {w.n:,}", f"{w.max_weight:,.1f}", f"{w.ess:,.1f}",
                 MISSING if math.isnan(w.top1_share) else percent(w.top1_share),
                 f"{w.mean_weight:.3f} ± {w.mean_weight_se:.3f}"] for w in ws]  # fmt: skip
        return [
            "",
            "importance weights (target / logging probability; ESS: Kish effective sample size (sum w)^2 / sum w^2;"
            " top 1%: share of the total weight on the heaviest 1% of rounds; mean: 1 in expectation when the log"
            " covers the target, ± its se over shoppers)",
            text_table(["weights", "weight > 0", "max weight", "ESS", "top 1%", "mean weight"], rows),
        ]

    top_w, slate_w = getattr(r, "top_slot_weights", None), getattr(r, "slate_weights", {}) or {}
    out = [f"off-policy evaluation of '{r.target}' from {r.n_slates:,} slates logged by '{r.logging}' (seed {r.seed});"
           f" 95% intervals: bootstrap over {getattr(r, 'shoppers', 0):,} shoppers (a shopper's slates resampled"
           " together)"]  # fmt: skip
    out += block("top slot (action: the item at position 0; reward: a click on it)", r.top_slot,
                 r.truth_top_slot, r.logging_value_top_slot, r.deployed_top_slot,
                 lambda e: None if e == "dm" else top_w)  # fmt: skip
    out.append(
        f"(the same contexts' expected top-slot clicks, analytic from the shoppers' states: {r.expected_top_slot:.4f})"
    )
    out += block("slate (action: the whole slate; reward: items chosen from it)", r.slate, r.truth_slate,
                 r.logging_value_slate, r.deployed_slate, slate_w.get)  # fmt: skip
    if top_w is not None:
        out += diagnostics([top_w, *dict.fromkeys(slate_w.values())])
    out += [
        "",
        f"what session-level OPE cannot see: '{r.target}' changes LTV over {r.ltv_horizon} days by "
        f"{r.ltv_effect:+.2f} per shopper against the logging policy's base ranker (twin worlds)",
    ]
    return "\n".join(out)
