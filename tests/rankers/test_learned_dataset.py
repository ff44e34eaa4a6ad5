"""Training data for learned rankers: point-in-time features logged at serving, labels from the logs."""

import pytest

from basketgym.eval.orchestration.bandit_logs import collect
from basketgym.rankers import make_ranker
from basketgym.rankers.exploration import EpsilonGreedy
from basketgym.rankers.learned.dataset import FEATURE_NAMES, POSITION, FeatureLogger, training_table
from basketgym.sim.config import load_scenario

N_ORDERS = FEATURE_NAMES.index("n_orders")


@pytest.fixture(scope="module")
def table():
    cfg = load_scenario("smoke").replace(days=40)
    logger = FeatureLogger(EpsilonGreedy(make_ranker("popularity"), 0.3))
    log = collect(cfg, logger, {}, 3, "popularity+eps0.3")
    return training_table(logger, log.table, log.purchases, log.sessions, cfg.days, log.click_probability), log


def test_one_row_per_shown_item_with_its_position(table):
    df, log = table
    assert len(df) == int((log.table["slate"] >= 0).sum())
    assert df.iloc[:, 2 + POSITION].between(0, 9).all() and df["position"].max() == 9


def test_features_are_point_in_time(table):
    """A shopper's first visit of the run has no orders in the features: nothing from the future."""
    df, _ = table
    sid = df["session_id"].to_numpy()
    day, shopper = sid >> 32, sid & 0xFFFFFFFF
    first = df.assign(day=day, shopper=shopper).groupby("shopper")["day"].transform("min").to_numpy() == day
    assert (df["n_orders"].to_numpy()[first] == 0).all()
    assert (df["n_orders"].to_numpy()[~first] >= 0).all() and df["n_orders"].max() > 0


def test_labels_agree_with_each_other_and_with_the_truth(table):
    df, _ = table
    assert ((df["margin"] > 0) <= (df["purchase"] > 0)).all()  # margin only where bought
    assert ((df["purchase"] > 0) <= (df["click"] > 0)).all()  # bought only what was clicked
    # the simulator's click probabilities average to the clicks: binomial se ~0.0017 over 60k rows
    assert abs(df["click"].mean() - df["true_click"].mean()) < 0.01
    churn = df["churn_30d"]
    assert churn.isna().any() and churn.notna().any() and set(churn.dropna().unique()) <= {0.0, 1.0}
