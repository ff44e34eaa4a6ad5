"""The pytest plugin: a ranking team's test file with ``basketgym_regress`` passes or fails readably."""

pytest_plugins = ["pytester"]

TEAM_MODULE = '''
"""A team's rankers, outside basketgym (named by import path)."""
from basketgym.rankers.baselines import BuyAgainRanker, MarginGreedyRanker


class SameAsBuyAgain(BuyAgainRanker):
    """Another class, the same slates: every paired difference is exactly 0."""

    name = "same_as_buy_again"


class MarginFirst(MarginGreedyRanker):
    """Pushes margin: wins the first weeks, loses the half-year."""

    name = "margin_first"
'''

TESTS = """
import dataclasses
from basketgym import load_scenario

cfg = load_scenario("default")
SMALL = cfg.replace(population=dataclasses.replace(cfg.population, shoppers=2_000))


def test_same(basketgym_regress):
    r = basketgym_regress("team_rankers:SameAsBuyAgain", baseline="buy_again", scenarios=["smoke"], days=10)
    assert not r.regressed


def test_margin_first(basketgym_regress):
    basketgym_regress("team_rankers:MarginFirst", baseline="buy_again", scenarios=[SMALL], metrics=["ltv"], jobs=2)
"""


def test_a_teams_test_file_passes_an_equal_ranker_and_fails_a_regression_readably(pytester):
    pytester.makepyfile(team_rankers=TEAM_MODULE, test_team=TESTS)
    pytester.syspathinsert()
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-W", "ignore::DeprecationWarning")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*basketgym regress: team_rankers:MarginFirst regressed against buy_again (Holm-corrected, twin worlds)",
            "*default ltv: effect -* per shopper, 90% interval [[]-*, -*[]], margin -*, p = *",
        ]
    )
    assert "Traceback" not in result.stdout.str()
