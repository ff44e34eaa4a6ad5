"""Fixtures shared across test folders."""

import pytest


@pytest.fixture(scope="session")
def logged():
    """Training table of the smoke world over 40 days under popularity explored at 30% (seed 3), with truth."""
    from basketgym.eval.orchestration.training import logged_table
    from basketgym.sim.config import load_scenario

    return logged_table(load_scenario("smoke").replace(days=40), 3, "popularity", 0.3)
