"""Rewards defined once (basketgym.envs.rewards): the named ones, and a custom callable injected into every env."""

import operator
import pickle

import gymnasium as gym
import numpy as np
import pytest

import basketgym  # noqa: F401  (registers the envs)
from basketgym.envs.replay import EnvArgumentError
from basketgym.envs.rewards import REWARDS, Earnings, contribution, gtv, margin, resolve_reward

AD_REVENUE = operator.attrgetter("ad_revenue")  # a custom reward that pickles (by reference), unlike a lambda


def test_named_rewards_are_the_callables_of_earnings():
    e = Earnings(gtv=np.array([10.0, 0.0]), margin=np.array([3.0, 0.0]), ad_revenue=np.array([0.5, 0.0]))
    assert REWARDS == {"margin": margin, "contribution": contribution, "gtv": gtv}
    assert resolve_reward("margin")(e).tolist() == [3.0, 0.0]
    assert resolve_reward("contribution")(e).tolist() == [3.5, 0.0]
    assert resolve_reward("gtv")(Earnings(12.0, 4.0, 1.0)) == 12.0
    assert resolve_reward(AD_REVENUE) is AD_REVENUE


@pytest.mark.parametrize("bad", ["profit", 3, None])
def test_an_unknown_reward_is_a_one_line_error(bad):
    with pytest.raises(EnvArgumentError, match=f"reward = {bad!r}: must be one of 'margin', 'contribution', 'gtv'"):
        resolve_reward(bad)


def test_shopper_env_pays_a_custom_reward_at_checkout_and_pickles_with_it():
    env = gym.make("basketgym/Shopper-v0", scenario="default", days=60, reward=AD_REVENUE).unwrapped
    env.reset(seed=4, options={"shopper": 17})
    paid = []
    for _ in range(40):
        obs, reward, terminated, truncated, info = env.step(np.arange(env.slate_size))
        if info["visit_done"]:
            paid.append((reward, info["ad_revenue"], info["margin"]))
        else:
            assert reward == 0.0
        if terminated or truncated:
            break
    assert len(paid) >= 3 and all(r == ads for r, ads, _ in paid)
    assert any(r != m for r, _, m in paid)  # not the default margin
    env.reset(seed=4, options={"shopper": 17})
    clone = pickle.loads(pickle.dumps(env))
    for _ in range(40):  # the clone pays the same custom reward
        x, y = env.step(np.arange(env.slate_size)), clone.step(np.arange(clone.slate_size))
        assert x[1] == y[1] and x[4].get("ad_revenue") == y[4].get("ad_revenue")
        if x[2] or x[3]:
            break


def test_shopper_vector_env_pays_a_custom_reward_per_sub_env():
    env = gym.make_vec("basketgym/Shopper-v0", num_envs=6, scenario="smoke", reward=AD_REVENUE)
    env.reset(seed=2)
    visits = 0
    for _ in range(60):
        _, reward, _, _, info = env.step(env.action_space.sample())
        done = info["visit_done"]
        if done.any():
            assert np.array_equal(reward[done], info["ad_revenue"][done].astype(np.float64))
        assert (reward[~done] == 0).all()
        visits += int(done.sum())
    assert visits >= 6


def test_marketplace_env_pays_a_custom_reward_and_pickles_by_replay():
    env = gym.make("basketgym/Marketplace-v0", scenario="smoke", days=6, reward=AD_REVENUE).unwrapped
    env.reset(seed=1)
    action = np.array([0.5, 0.5, 1.0, 0.0], np.float32)
    for _ in range(3):
        _, reward, *_, info = env.step(action)
        assert reward == info["ad_revenue"] and reward > 0
    clone = pickle.loads(pickle.dumps(env))
    assert clone.step(action)[1] == env.step(action)[1]
