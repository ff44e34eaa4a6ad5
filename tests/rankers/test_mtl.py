"""Multi-task networks: every architecture learns, trains deterministically, masks its task losses, calibrates."""

import numpy as np
import pytest
import torch

from basketgym.eval.stats import reliability
from basketgym.rankers.learned.calibration import Temperature
from basketgym.rankers.learned.dataset import FEATURE_NAMES
from basketgym.rankers.learned.mtl import ARCHITECTURES, MultiTaskNet, TrainConfig, _losses, train


@pytest.fixture(scope="module")
def data(logged):
    return logged


@pytest.mark.parametrize("arch", ARCHITECTURES)
def test_each_architecture_learns_and_calibrates(data, arch):
    """Click AUC and calibration against the truth on the held-out visits.

    AUC above 0.68 (random is 0.5; measured 0.72-0.74); after temperature scaling on that fold, ECE
    against the simulator's true click probabilities below 0.03 (measured 0.003-0.021 over training
    seeds 1-4 and the three architectures: the mini-batch order alone moves it by that much).
    """
    m = train(data, TrainConfig(arch=arch, epochs=8, n_experts=2, seed=1))
    v = m.val_rows
    p = m.predict(data[list(FEATURE_NAMES)].to_numpy())
    y, truth = data["click"].to_numpy()[v], data["true_click"].to_numpy()[v]
    assert reliability.auc(p["click"][v], y) > 0.68
    t = Temperature.fit(p["click"][v], y)
    assert reliability.ece(t(p["click"][v]), truth) < 0.03
    assert np.all(p["purchase"] <= p["click"] + 1e-7)  # P(purchase) = P(click) P(purchase | click)


def test_training_is_deterministic_for_a_seed(data):
    a = train(data, TrainConfig(arch="mmoe", epochs=2, n_experts=2, seed=5))
    b = train(data, TrainConfig(arch="mmoe", epochs=2, n_experts=2, seed=5))
    x = data[list(FEATURE_NAMES)].to_numpy()[:500]
    assert np.array_equal(a.predict(x)["click"], b.predict(x)["click"])
    assert a.history == b.history


def test_gates_are_distributions_and_losses_are_masked():
    net = MultiTaskNet(5, "ple", n_experts=2)
    x = torch.randn(64, 5)
    out = net(x)
    for g in net.gates.values():
        assert torch.allclose(g.sum(dim=1), torch.ones(64)) and g.shape == (64, 4)
    y = {"click": (torch.rand(64) < 0.5).float(), "purchase": torch.zeros(64), "margin": torch.zeros(64),
         "churn_30d": torch.full((64,), float("nan"))}  # fmt: skip
    base = _losses(out, y)
    y2 = dict(y, purchase=torch.where(y["click"] > 0, y["purchase"], 1.0))  # change labels on unclicked rows only
    assert torch.equal(_losses(out, y2)["purchase"], base["purchase"])  # purchase is learned given a click
    assert float(base["churn_30d"].detach()) == 0.0  # no row with a known 30-day window: no churn loss
