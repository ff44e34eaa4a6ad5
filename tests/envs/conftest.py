"""Fixtures of the env tests."""

import numpy as np
import pytest

from basketgym.envs.engine import ShopperLives
from basketgym.sim.config import load_scenario


@pytest.fixture(scope="module")
def lives():
    """64 slots of the default world (90 days, seed 3), started on shoppers 0, 7, 14, ...: a module's own copy."""
    cfg = load_scenario("default").replace(days=90)
    out = ShopperLives(cfg, 3, 64)
    out.start(np.arange(64), np.arange(64) * 7)
    return out
