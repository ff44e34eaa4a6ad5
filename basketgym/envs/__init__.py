"""Gymnasium environments of basketgym, registered under the ``basketgym/`` namespace on import.

``import basketgym`` registers them (string entry points: the env modules load on first make)::

    import gymnasium, basketgym
    env = gymnasium.make("basketgym/Marketplace-v0", scenario="smoke")
"""

from __future__ import annotations

import gymnasium as gym

# id -> (entry point, native vector entry point or None)
ENVS = {
    "basketgym/Shopper-v0": ("basketgym.envs.shopper:ShopperEnv", "basketgym.envs.shopper_vector:ShopperVectorEnv"),
    "basketgym/Marketplace-v0": ("basketgym.envs.marketplace:MarketplaceEnv", None),
}


def register_envs() -> None:
    """Register every basketgym env id (idempotent)."""
    for env_id, (entry_point, vector_entry_point) in ENVS.items():
        if env_id not in gym.registry:
            gym.register(id=env_id, entry_point=entry_point, vector_entry_point=vector_entry_point)


register_envs()
