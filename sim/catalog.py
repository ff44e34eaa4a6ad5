"""The product catalog: departments, aisles and products with public attributes and a hidden embedding.

Everything is generated from the scenario seed. ``Catalog`` is the world's full view (it holds the
hidden ``latent`` embedding and ``quality``); ``PublicCatalog`` is what a ranker may see.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from basketgym.contract import rng
from basketgym.contract.catalog import TIER_NATIONAL, TIER_PREMIUM, TIER_PRIVATE, PublicCatalog
from basketgym.contract.rng import Purpose
from basketgym.sim.config import CatalogConfig
from basketgym.sim.vocabulary import BRAND_SUFFIXES, BRAND_SYLLABLES, DEPARTMENTS, MODIFIERS, PRIVATE_LABEL


@dataclass
class Catalog:
    """The world's catalog: the public part plus hidden item truth (never handed to rankers)."""

    public: PublicCatalog
    latent: np.ndarray  # (N, D) float32: hidden embedding, noisy function of public attributes
    quality: np.ndarray  # (N,) float32: hidden appeal shared by all shoppers
    aisle_centroid: np.ndarray  # (A, D) float32: hidden centre of each aisle in taste space
    aisle_ref_price: np.ndarray  # (A,) float32: typical price in the aisle (used for price utility)
    aisle_cycle: np.ndarray  # (A,) float32: replenishment cycle, 0 for non-staple aisles

    @property
    def n_products(self) -> int:
        """Number of products."""
        return self.public.n_products


def _aisle_plan(cfg: CatalogConfig) -> tuple[list[str], list[int], list[tuple[str, bool, float, float]]]:
    """Department names, each aisle's department and its vocabulary entry.

    Aisles are dealt round-robin over departments so that small catalogs still span the store;
    once the vocabulary runs out, numbered variants ("milk 2") follow.
    """
    keys = list(DEPARTMENTS)
    n_dep = cfg.departments
    dept_names = [keys[i % len(keys)] + (f" {i // len(keys) + 1}" if i >= len(keys) else "") for i in range(n_dep)]
    pools = [DEPARTMENTS[keys[i % len(keys)]] for i in range(n_dep)]
    plan: list[tuple[int, tuple[str, bool, float, float]]] = []
    variant = 0
    while len(plan) < cfg.aisles:
        for r in range(max(len(p) for p in pools)):
            for d, pool in enumerate(pools):
                if r < len(pool) and len(plan) < cfg.aisles:
                    noun, staple, cycle, price = pool[r]
                    suffix = variant + 1 + d // len(keys)
                    plan.append((d, (noun + (f" {suffix}" if suffix > 1 else ""), staple, cycle, price)))
        variant += 1
    return dept_names, [d for d, _ in plan], [a for _, a in plan]


def _brand_names(n: int, seed: int) -> list[str]:
    u = rng.uniform(seed, Purpose.CATALOG, np.arange(n), 1, 3)
    names = [PRIVATE_LABEL]
    seen = {PRIVATE_LABEL}
    for b in range(1, n):
        s = len(BRAND_SYLLABLES)
        base = BRAND_SYLLABLES[int(u[b, 0] * s)] + BRAND_SYLLABLES[int(u[b, 1] * s)]
        name = base + BRAND_SUFFIXES[int(u[b, 2] * len(BRAND_SUFFIXES))]
        while name in seen:
            name = f"{name} {b}"
        seen.add(name)
        names.append(name)
    return names


def aisle_sizes(cfg: CatalogConfig, seed: int) -> np.ndarray:
    """Products per aisle: every aisle gets at least one, the rest proportional to a random weight.

    Cheap (one draw per aisle), so scenario checks can size shelves without generating the catalog.
    """
    n_a, n = cfg.aisles, cfg.products
    ua = rng.uniform(seed, Purpose.CATALOG, np.arange(n_a), 2, 2)
    weight = 0.5 + ua[:, 0]
    counts = 1 + np.floor((n - n_a) * weight / weight.sum()).astype(np.int64)
    counts[np.argsort(-weight, kind="stable")[: n - counts.sum()]] += 1
    return counts


def aisle_departments(cfg: CatalogConfig) -> np.ndarray:
    """Each aisle's department (no draws: aisles are dealt round-robin over departments)."""
    return np.array(_aisle_plan(cfg)[1], np.int64)


def aisle_staples(cfg: CatalogConfig) -> np.ndarray:
    """Whether each aisle sells a staple (no draws)."""
    return np.array([a[1] for a in _aisle_plan(cfg)[2]], bool)


def _brands(cfg: CatalogConfig, seed: int, department: np.ndarray, tier: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Brand of each product: brand b > 0 sells in a few departments; private label (brand 0) everywhere."""
    n_brand = cfg.brands
    brand_home = rng.uniform(seed, Purpose.CATALOG, np.arange(n_brand), 5, 1)[:, 0]
    brand_dept = (brand_home * cfg.departments).astype(np.int64)
    brand = np.zeros(len(tier), np.int32)
    for dep in range(cfg.departments):
        in_dep = np.flatnonzero(brand_dept[1:] == dep) + 1
        if len(in_dep) == 0:
            in_dep = np.arange(1, n_brand)
        rows = np.flatnonzero((department == dep) & (tier != TIER_PRIVATE))
        brand[rows] = in_dep[(u[rows, 2] * len(in_dep)).astype(np.int64)]
    return brand


def _product_names(
    brand_names: list[str], brand: np.ndarray, organic: np.ndarray, aisle_names: list[str], aisle: np.ndarray,
    u: np.ndarray,
) -> np.ndarray:  # fmt: skip
    """Names: brand + one or two modifiers + the aisle's noun (the words are the search tokens)."""
    mods = np.array(MODIFIERS)
    m1 = mods[(u[:, 6] * len(mods)).astype(np.int64)]
    m2 = mods[(u[:, 7] * len(mods)).astype(np.int64)]
    return np.array(
        [
            " ".join(
                [brand_names[brand[i]]]
                + (["organic"] if organic[i] else [])
                + [m1[i]]
                + ([m2[i]] if u[i, 8] < 0.4 and m2[i] != m1[i] else [])
                + [aisle_names[aisle[i]]]
            )
            for i in range(len(brand))
        ],
        dtype=object,
    )


def _latent(
    cfg: CatalogConfig, seed: int, aisle_dept: np.ndarray, aisle: np.ndarray, tier: np.ndarray, organic: np.ndarray,
    size: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """Hidden embedding (N, D) and aisle centres (A, D): aisle centre (departments cluster) + attributes + noise."""
    d, n = cfg.latent_dim, len(aisle)
    dept_c = rng.normal(seed, Purpose.CATALOG_LATENT, np.arange(cfg.departments), 0, d)
    aisle_c = dept_c[aisle_dept] + 0.7 * rng.normal(seed, Purpose.CATALOG_LATENT, np.arange(len(aisle_dept)), 1, d)
    aisle_c /= np.linalg.norm(aisle_c, axis=1, keepdims=True)
    dirs = rng.normal(seed, Purpose.CATALOG_LATENT, np.arange(4), 2, d) / np.sqrt(d)
    noise = rng.normal(seed, Purpose.CATALOG_LATENT, np.arange(n), 3, d) / np.sqrt(d)
    latent = (
        aisle_c[aisle]
        + 0.6 * dirs[0] * (tier == TIER_PREMIUM)[:, None]
        - 0.4 * dirs[0] * (tier == TIER_PRIVATE)[:, None]
        + 0.6 * dirs[1] * organic[:, None]
        + 0.3 * dirs[2] * np.log(size)[:, None]
        + cfg.latent_noise * noise
    ).astype(np.float32)
    return latent, aisle_c


def _shelves(aisle: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each aisle's products, -1 padded (a search's retrieval set), and each product's column in its shelf."""
    ids = np.arange(len(aisle))
    shelf = np.full((len(counts), int(counts.max())), -1, np.int32)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    shelf_pos = (ids - starts[aisle]).astype(np.int16)
    shelf[aisle, shelf_pos] = ids
    return shelf, shelf_pos


def generate_catalog(cfg: CatalogConfig, seed: int) -> Catalog:
    """Generate the catalog for a scenario seed (deterministic: every draw is keyed by product, not by order)."""
    dept_names, aisle_dept_list, aisles = _aisle_plan(cfg)
    n_a, n = len(aisles), cfg.products
    aisle_dept = np.array(aisle_dept_list, np.int16)
    aisle_names = [a[0] for a in aisles]
    aisle_staple = np.array([a[1] for a in aisles])
    aisle_cycle = np.array([a[2] for a in aisles], np.float32)
    aisle_price = np.array([a[3] for a in aisles], np.float32)

    counts = aisle_sizes(cfg, seed)
    aisle = np.repeat(np.arange(n_a), counts).astype(np.int16)
    department = aisle_dept[aisle]

    ids = np.arange(n)
    u = rng.uniform(seed, Purpose.CATALOG, ids, 3, 12)
    z = rng.normal(seed, Purpose.CATALOG, ids, 4, 4)

    tier = np.where(
        u[:, 0] < cfg.private_label_share, TIER_PRIVATE, np.where(u[:, 1] < 0.3, TIER_PREMIUM, TIER_NATIONAL)
    )
    brand = _brands(cfg, seed, department, tier, u)
    organic = u[:, 3] < np.where(tier == TIER_PREMIUM, 0.45, 0.1)

    size = np.exp(0.35 * z[:, 0]).astype(np.float32)
    tier_price = np.array([0.78, 1.0, 1.45])[tier]
    price = aisle_price[aisle] * tier_price * size**0.8 * np.exp(0.12 * z[:, 1]) * np.where(organic, 1.2, 1.0)
    price = np.round(np.maximum(price, 0.29), 2).astype(np.float32)
    tier_margin = np.array([0.38, 0.22, 0.30])[tier]
    margin_rate = np.clip(tier_margin + 0.05 * z[:, 2], 0.03, 0.7).astype(np.float32)
    staple = aisle_staple[aisle]
    cycle = (aisle_cycle[aisle] * size).astype(np.float32)
    ad_eligible = (tier != TIER_PRIVATE) & (u[:, 4] < cfg.ad_eligible_share / max(1e-9, 1 - cfg.private_label_share))
    bid = np.where(ad_eligible, np.round(0.05 + 0.45 * u[:, 5] ** 1.5, 2), 0.0).astype(np.float32)

    brand_names = _brand_names(cfg.brands, seed)
    names = _product_names(brand_names, brand, organic, aisle_names, aisle, u)
    latent, aisle_c = _latent(cfg, seed, aisle_dept, aisle, tier, organic, size)
    # national brands are what most shoppers grew up with; private label is a little less loved
    quality = (np.array([-0.35, 0.15, 0.1])[tier] + 0.35 * z[:, 3]).astype(np.float32)
    shelf, shelf_pos = _shelves(aisle, counts)
    ref_price = np.array([np.median(price[aisle == a]) for a in range(n_a)], np.float32)

    public = PublicCatalog(
        names=names,
        aisle=aisle,
        department=department.astype(np.int16),
        brand=brand,
        tier=tier.astype(np.int8),
        organic=organic,
        size=size,
        base_price=price.copy(),
        price=price,
        margin_rate=margin_rate,
        staple=staple,
        cycle_days=np.where(staple, cycle, 0).astype(np.float32),
        ad_eligible=ad_eligible,
        bid=bid,
        launch_day=np.zeros(n, np.int32),
        available=np.ones(n, bool),
        aisle_names=aisle_names,
        department_names=dept_names,
        brand_names=brand_names,
        aisle_department=aisle_dept,
        shelf=shelf,
        shelf_pos=shelf_pos,
    )
    return Catalog(
        public=public,
        latent=latent,
        quality=quality,
        aisle_centroid=aisle_c.astype(np.float32),
        aisle_ref_price=ref_price,
        aisle_cycle=aisle_cycle,
    )
