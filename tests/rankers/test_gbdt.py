"""LightGBM baselines: per-task models learn on their sample spaces, lambdarank ranks, SHAP adds up."""

import numpy as np
import pytest

from basketgym.eval.stats import reliability
from basketgym.rankers.learned.dataset import FEATURE_NAMES
from basketgym.rankers.learned.gbdt import contributions, train_lambdarank, train_tasks


@pytest.fixture(scope="module")
def data(logged):
    held = (logged["session_id"].to_numpy() % 5) == 0  # a fifth of the visits held out
    return logged, np.flatnonzero(~held), np.flatnonzero(held)


def test_task_models_learn_and_are_deterministic(data):
    df, train, test = data
    x = df[list(FEATURE_NAMES)].to_numpy()[test]
    m = train_tasks(df, train, seed=1, rounds=60)
    p = m.predict(x)
    assert reliability.auc(p["click"], df["click"].to_numpy()[test]) > 0.68  # measured ~0.74
    assert reliability.auc(p["purchase"], df["purchase"].to_numpy()[test]) > 0.68
    assert np.array_equal(p["click"], train_tasks(df, train, seed=1, rounds=60).predict(x)["click"])


def test_shap_contributions_add_up_to_the_raw_score(data):
    df, train, test = data
    booster = train_tasks(df, train, seed=0, rounds=30).boosters["click"]
    x = df[list(FEATURE_NAMES)].to_numpy()[test[:300]]
    contrib = contributions(booster, x)
    assert contrib.shape == (300, len(FEATURE_NAMES) + 1)
    assert np.allclose(contrib.sum(axis=1), booster.predict(x, raw_score=True), atol=1e-6)


def test_lambdarank_orders_bought_items_first(data):
    """Within held-out slates, the item bought scores above the others more often than chance."""
    df, train, test = data
    ranker = train_lambdarank(df, train, seed=0, rounds=60)
    sub = df.iloc[test]
    s = ranker.predict(sub[list(FEATURE_NAMES)].to_numpy())
    wins, pairs = 0, 0
    for _, g in sub.assign(score=s).groupby("slate_row"):
        bought, other = g["score"][g["purchase"] > 0].to_numpy(), g["score"][g["purchase"] == 0].to_numpy()
        wins += (bought[:, None] > other[None, :]).sum()
        pairs += bought.size * other.size
    assert wins / pairs > 0.6  # pairwise accuracy; 0.5 is chance
