"""The catalog: sizes, the public part against the hidden one, determinism, the ranker's read-only views."""

import dataclasses

import numpy as np
import pytest

from basketgym.contract.catalog import PublicCatalog
from basketgym.sim.catalog import Catalog, aisle_sizes, generate_catalog
from basketgym.sim.config import load_scenario


@pytest.fixture(scope="module")
def cfg():
    return load_scenario("smoke").catalog  # 400 products, 40 aisles, 10 departments, 40 brands


def test_sizes_follow_the_scenario(cfg):
    cat = generate_catalog(cfg, 3)
    pub = cat.public
    assert (cat.n_products, pub.n_aisles) == (400, 40)
    counts = np.bincount(pub.aisle, minlength=40)
    assert np.array_equal(counts, aisle_sizes(cfg, 3)) and counts.min() >= 1 and counts.sum() == 400
    assert len(pub.aisle_names) == 40 and len(set(pub.aisle_names)) == 40
    assert set(np.unique(pub.department).tolist()) == set(range(10))
    assert cat.latent.shape == (400, cfg.latent_dim) and cat.latent.dtype == np.float32
    assert cat.aisle_centroid.shape == (40, cfg.latent_dim)
    # staples: exactly the aisles with a replenishment cycle
    staple_aisles = np.flatnonzero(cat.aisle_cycle > 0)
    assert np.array_equal(np.flatnonzero(pub.staple), np.flatnonzero(np.isin(pub.aisle, staple_aisles)))
    # each shelf holds exactly its aisle's products, and shelf_pos points back into it
    for a in (0, 17, 39):
        row = pub.shelf[a][pub.shelf[a] >= 0]
        assert sorted(row.tolist()) == np.flatnonzero(pub.aisle == a).tolist()
        assert np.array_equal(pub.shelf[a, pub.shelf_pos[row]], row)


def test_the_public_part_holds_no_hidden_truth(cfg):
    cat = generate_catalog(cfg, 3)
    public_fields = {f.name for f in dataclasses.fields(PublicCatalog)}
    hidden = {f.name for f in dataclasses.fields(Catalog)} - {"public"}
    assert hidden == {"latent", "quality", "aisle_centroid", "aisle_ref_price", "aisle_cycle"}
    assert not hidden & public_fields
    feats = cat.public.features()
    assert feats.shape == (400, len(PublicCatalog.FEATURE_NAMES))
    for a in (cat.latent, cat.quality):  # no public feature is a hidden array in disguise
        assert not any(np.array_equal(feats[:, j], a[:, 0] if a.ndim == 2 else a) for j in range(feats.shape[1]))


def test_same_seed_same_catalog_another_seed_another(cfg):
    a, b, c = generate_catalog(cfg, 3), generate_catalog(cfg, 3), generate_catalog(cfg, 4)
    for name in ("price", "aisle", "brand", "bid", "shelf"):
        assert np.array_equal(getattr(a.public, name), getattr(b.public, name))
    assert np.array_equal(a.latent, b.latent) and np.array_equal(a.quality, b.quality)
    assert a.public.aisle_names == b.public.aisle_names
    assert not np.array_equal(a.public.price, c.public.price) and not np.array_equal(a.latent, c.latent)


def test_read_only_views_follow_the_live_catalog_and_refuse_writes(cfg):
    cat = generate_catalog(cfg, 3)
    view = cat.public.read_only()
    with pytest.raises(ValueError, match="read-only"):
        view.price[0] = 1.0
    with pytest.raises(ValueError, match="read-only"):
        view.shelf[0, 0] = -1
    cat.public.price[5] = 42.5  # events change the live catalog in place: the ranker sees it
    cat.public.available[7] = False
    assert view.price[5] == np.float32(42.5) and not view.available[7]
    assert isinstance(view.aisle_names, tuple)
