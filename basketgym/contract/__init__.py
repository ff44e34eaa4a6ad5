"""The contract between the world, rankers and serving: it imports nothing of the world, torch or LightGBM.

- ``protocol``: ``RankRequest`` / ``RankResponse`` / ``Ranker`` (batch-first, surfaces, propensities);
- ``catalog``: ``PublicCatalog``, the item attributes a ranker may see (read-only views);
- ``logs``: the schema of the logged tables a ranker learns from;
- ``errors``: the project's error types (one readable line each);
- ``rng``: counter-based randomness (ranker purposes for rankers; the world's purposes for ``sim``);
- ``slots``: the fixed-width slot kernels (order-again history, habits, counts);
- ``files``: atomic writes and one-line read errors;
- ``threads``: one BLAS thread per world or model.

``sim/``, ``rankers/`` and a serving runtime all stand on it; it stands on numpy alone (plus threadpoolctl).
"""
