"""basketgym/Shopper-v0: conformance, determinism, pickling, the same world as `basketgym run`, spawn workers."""

import dataclasses
import pickle
import warnings

import gymnasium as gym
import numpy as np
from gymnasium.utils.env_checker import check_env

import basketgym  # noqa: F401  (registers the envs)
from basketgym.rankers import make_ranker
from basketgym.sim.config import load_scenario
from basketgym.sim.world import World


def test_registered_and_passes_the_env_checker_without_warnings():
    env = gym.make("basketgym/Shopper-v0", scenario="smoke")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_env(env.unwrapped, skip_render_check=True)
    env.close()
    env.close()


def _rollout(env, seed, shopper, policy, max_steps=10_000):
    obs, info = env.reset(seed=seed, options={"shopper": shopper})
    out, done, steps = [], False, 0
    while not done and steps < max_steps:
        obs, reward, terminated, truncated, info = env.step(policy(env, obs))
        out.append((reward, terminated, truncated, info.get("visit_done"), info["day"]))
        done, steps = terminated or truncated, steps + 1
    return out, info


def _first_k(env, obs):
    return np.arange(env.unwrapped.slate_size)


def test_same_seed_same_episode():
    env = gym.make("basketgym/Shopper-v0", scenario="default", days=60).unwrapped
    a, _ = _rollout(env, 4, 17, _first_k)
    b, _ = _rollout(env, 4, 17, _first_k)
    assert a == b and len(a) > 30 and sum(r > 0 for r, *_ in a) >= 3
    c, _ = _rollout(env, 5, 17, _first_k)
    assert a != c


def test_pickles_mid_episode_and_continues_identically():
    env = gym.make("basketgym/Shopper-v0", scenario="default", days=90).unwrapped
    env.reset(seed=1, options={"shopper": 3})
    for _ in range(15):
        env.step(_first_k(env, None))
    clone = pickle.loads(pickle.dumps(env))
    for _ in range(10):
        x, y = env.step(_first_k(env, None)), clone.step(_first_k(clone, None))
        assert x[1:4] == y[1:4] and all(np.array_equal(x[0][k], y[0][k]) for k in x[0])


def test_the_same_world_as_basketgym_run():
    """Driven with the `random` ranker's slates, a shopper lives exactly their life in the full world."""
    base = load_scenario("smoke")
    cfg = base.replace(marketplace=dataclasses.replace(base.marketplace, max_sponsored=0))  # the policy places no ads
    full = World(cfg, cfg.seed, make_ranker("random"), "random").run()
    env = gym.make("basketgym/Shopper-v0", scenario=cfg).unwrapped
    teacher = make_ranker("random")
    compared = 0
    for shopper in (2, 31, 77, 150, 222):
        env.reset(seed=cfg.seed, options={"shopper": shopper})
        env.lives.reset_ranker(teacher)  # as the world starts its ranker: its own seed
        items, days, done = [], [], False
        while not done:
            _, _, terminated, truncated, info = env.step(env.lives.ranker_actions(teacher)[0])
            if info.get("visit_done"):
                items += info["items"].tolist()
                days += [info["day"]] * len(info["items"])
            done = terminated or truncated
        mine = full.purchases["shopper_id"] == shopper
        assert items == full.purchases["item_id"][mine].tolist()
        assert days == full.purchases["day"][mine].tolist()
        compared += len(items)
    assert compared > 50


def test_async_vector_env_with_spawn():
    envs = gym.vector.AsyncVectorEnv(
        [lambda: gym.make("basketgym:basketgym/Shopper-v0", scenario="smoke")] * 2, context="spawn"
    )
    try:
        obs, info = envs.reset(seed=[3, 4])
        assert obs["candidates"].shape[0] == 2
        obs, reward, terminated, truncated, info = envs.step(envs.action_space.sample())
        assert reward.shape == (2,)
    finally:
        envs.close()
