"""basketgym/Shopper-v0: conformance, determinism, pickling, the same world as `basketgym run`, not gameable."""

import dataclasses
import pickle
import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import basketgym  # noqa: F401  (registers the envs)
from basketgym.envs.shopper import CANDIDATE_FEATURES
from rankers import make_ranker
from sim.config import load_scenario
from sim.world import World

BOUGHT, LOG_PRICE = CANDIDATE_FEATURES.index("bought_before"), CANDIDATE_FEATURES.index("log_price")


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
    cfg = base.replace(marketplace=dataclasses.replace(base.marketplace, max_sponsored=0))  # agents place no ads
    full = World(cfg, cfg.seed, make_ranker("random"), "random").run()
    env = gym.make("basketgym/Shopper-v0", scenario=cfg).unwrapped
    teacher = make_ranker("random")
    compared = 0
    for shopper in (2, 31, 77, 150, 222):
        env.reset(seed=cfg.seed, options={"shopper": shopper})
        teacher.reset(env.lives.world.public, cfg.seed)
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


def _policy(kind, rng):
    def act(env, obs):
        k, m, f = env.unwrapped.slate_size, obs["candidate_mask"].astype(bool), obs["candidates"]
        if kind == "random":
            return rng.integers(0, len(m), k)
        if kind == "buy_again":  # what the shopper bought before, then the cheaper items
            score = f[:, BOUGHT] * 10 - f[:, LOG_PRICE]
        else:  # "irrelevant": never bought, most expensive first
            score = -f[:, BOUGHT] * 10 + f[:, LOG_PRICE]
        return np.argsort(-np.where(m, score, -np.inf), kind="stable")[:k]

    return act


@pytest.fixture(scope="module")
def lives():
    """Episode returns of 60 default-world shoppers under three policies (seed 7, same shoppers)."""
    env = gym.make("basketgym/Shopper-v0", scenario="default").unwrapped
    out = {}
    for kind in ("buy_again", "random", "irrelevant"):
        rng = np.random.default_rng(0)
        returns, churned = [], []
        for shopper in range(0, 6000, 100):
            steps, info = _rollout(env, 7, shopper, _policy(kind, rng))
            returns.append(sum(r for r, *_ in steps))
            churned.append(steps[-1][1])
        out[kind] = (np.array(returns), np.array(churned))
    return out


def _paired_lower_bound(a, b):
    d = a - b
    return d.mean() - 1.96 * d.std(ddof=1) / np.sqrt(len(d))


def test_buy_again_slates_beat_random_slates(lives):
    assert _paired_lower_bound(lives["buy_again"][0], lives["random"][0]) > 0


def test_irrelevant_slates_lose_value_through_churn(lives):
    assert _paired_lower_bound(lives["buy_again"][0], lives["irrelevant"][0]) > 0
    assert lives["irrelevant"][1].mean() > lives["buy_again"][1].mean()


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
