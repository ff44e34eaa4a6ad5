"""Network serving is independent of the request's size: a row's predictions are the same bits however it is batched."""

import numpy as np
import pytest
import torch

from basketgym.rankers.learned import mtl
from basketgym.rankers.learned.dataset import FEATURE_NAMES
from basketgym.rankers.learned.mtl import ARCHITECTURES, MultiTaskNet, TrainedMTL

BATCHES = (1, 2, 3, 5, 7, 13, 100)


def _model(arch: str) -> TrainedMTL:
    torch.manual_seed(3)
    f = len(FEATURE_NAMES)
    net = MultiTaskNet(f, arch, n_experts=2, expert_dim=16, tower_dim=8)
    return TrainedMTL(net, np.zeros(f), np.ones(f), [], np.zeros(0, np.int64))


@pytest.fixture(scope="module")
def features():
    # heavy-tailed like real features (counts, spend, gaps), so the squashed inputs spread out
    return np.random.default_rng(0).standard_cauchy((240, len(FEATURE_NAMES)))


@pytest.mark.parametrize("arch", ARCHITECTURES)
def test_a_rows_predictions_do_not_depend_on_how_many_rows_came_with_it(features, arch):
    m = _model(arch)
    whole = m.predict(features)
    assert all(v.dtype == np.float32 and np.isfinite(v).all() for v in whole.values())
    assert len(np.unique(whole["click"])) > 200  # the rows really differ
    for n in BATCHES:
        for offset in (0, 1, 5):  # rows start at other positions within the blocks of 8
            parts = [m.predict(features[lo : lo + n]) for lo in range(offset, len(features), n)]
            for task, v in whole.items():
                got = np.concatenate([p[task] for p in parts])
                assert np.array_equal(got, v[offset:]), (arch, n, offset, task)


def test_block_boundaries_do_not_change_predictions(features, monkeypatch):
    m = _model("mmoe")
    whole = m.predict(features)
    monkeypatch.setattr(mtl, "PREDICT_BLOCK", 36)  # 240 rows: 6 full blocks and a padded one
    small = m.predict(features)
    assert all(np.array_equal(small[t], whole[t]) for t in whole)
    assert all(len(v) == 0 for v in m.predict(features[:0]).values())
