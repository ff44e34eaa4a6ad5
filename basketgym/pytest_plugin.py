"""basketgym's pytest plugin (entry point ``pytest11``): the ``basketgym_regress`` fixture for ranking teams' CI.

::

    def test_my_ranker(basketgym_regress):
        basketgym_regress("my_pkg.rankers:MyRanker", baseline="buy_again", scenarios=["default"])

runs ``basketgym regress`` (``basketgym.eval.regression.regress``) and fails the test, with one line per
regressed metric (scenario, metric, effect, interval, margin, p), when the candidate regresses beyond a margin.
It returns the ``RegressResult`` otherwise. Importing this module costs nothing: the simulator loads on first use.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pytest


@pytest.fixture
def basketgym_regress() -> Callable[..., Any]:
    """``check(candidate, baseline, scenarios, seeds, metrics, margins, alpha, days, jobs)``: regress or fail."""

    def check(
        candidate: str,
        baseline: str = "buy_again",
        scenarios: Sequence[Any] = ("default",),
        seeds: int = 3,
        metrics: Sequence[str] | None = None,
        margins: dict[str, str] | None = None,
        alpha: float = 0.05,
        days: int | None = None,
        jobs: int = 1,
    ) -> Any:
        from basketgym.eval.regression.regress import DEFAULT_METRICS, RegressSpec, failure_message, regress

        spec = RegressSpec(candidate, baseline, tuple(scenarios), seeds, tuple(metrics or DEFAULT_METRICS),
                           dict(margins or {}), alpha, days)  # fmt: skip
        result = regress(spec, jobs=jobs)
        if result.regressed:
            pytest.fail(failure_message(result, candidate, baseline), pytrace=False)
        return result

    return check
