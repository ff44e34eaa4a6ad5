"""The value-based ranker: learns from its own logs on the refit cadence, deterministic, servable from a saved model."""

import numpy as np
import pytest

from basketgym.contract.errors import RankerError
from basketgym.rankers import available, make_ranker
from basketgym.rankers.learned.value import ValueRanker
from basketgym.sim.config import load_scenario
from basketgym.sim.world import World


@pytest.fixture(scope="module")
def cfg():
    return load_scenario("smoke").replace(days=36)


def _run(cfg, ranker):
    res = World(cfg, 5, ranker, "value").run()
    return res, float(np.sum(res.sessions["margin"]))


def test_value_mtl_trains_on_its_own_logs_and_is_deterministic(cfg):
    """Before ``min_rows`` labelled impressions it serves buy_again's slates; after a refit, the model's."""
    a = make_ranker("value_mtl", min_rows=2_000, epochs=3)
    res_a, margin_a = _run(cfg, a)
    assert isinstance(a, ValueRanker) and a.model is not None
    assert a.model.kind == "mmoe" and "click" in a.model.calibrators
    assert a.model.facts["rows"] >= 2_000
    res_b, margin_b = _run(cfg, make_ranker("value_mtl", min_rows=2_000, epochs=3))
    assert margin_a == margin_b
    assert np.array_equal(res_a.slates["slate"], res_b.slates["slate"])
    # the first week (no model yet) is buy_again's
    res_ba = World(cfg.replace(days=7), 5, make_ranker("buy_again"), "buy_again").run()
    res_v = World(cfg.replace(days=7), 5, make_ranker("value_mtl"), "value").run()
    assert np.array_equal(res_ba.slates["slate"], res_v.slates["slate"])


def test_a_saved_model_directory_is_a_ranker_name(cfg, logged, tmp_path):
    from basketgym.rankers.learned.model import FitConfig, fit

    fit(logged, FitConfig(kind="lgbm", rounds=30, seed=1)).save(tmp_path / "lgbm")
    r = make_ranker(str(tmp_path / "lgbm"))
    assert r.name == str(tmp_path / "lgbm") and not r.retrain
    res, margin = _run(cfg.replace(days=10), r)
    assert r.model is not None and r.model.kind == "lgbm" and margin > 0
    with pytest.raises(RankerError, match="or a trained model directory"):
        make_ranker(str(tmp_path / "nothing"))


def test_value_mtl_is_registered_lazily_and_checks_its_arguments():
    assert "value_mtl" in available()
    with pytest.raises(RankerError, match="model = 'xgb'"):
        make_ranker("value_mtl", model="xgb")
