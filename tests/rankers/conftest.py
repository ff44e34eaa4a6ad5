"""Shared fixtures for the ranker tests: a generated public catalog with some items out of stock."""

from __future__ import annotations

import numpy as np
import pytest

from basketgym.contract.catalog import PublicCatalog
from basketgym.sim.catalog import generate_catalog
from basketgym.sim.config import CatalogConfig


@pytest.fixture
def catalog() -> PublicCatalog:
    """The default catalog (3,000 products, 126 aisles), every 11th product unavailable."""
    public = generate_catalog(CatalogConfig(), seed=3).public
    public.available[::11] = False
    return public


@pytest.fixture
def rng() -> np.random.Generator:
    """Test-data generator (rankers themselves never use it)."""
    return np.random.default_rng(12345)
