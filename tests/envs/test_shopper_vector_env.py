"""ShopperVectorEnv: Gymnasium 1.x vector semantics, determinism, the same world as `basketgym run` and Shopper-v0."""

import dataclasses
import pickle

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.vector import AutoresetMode

import basketgym  # noqa: F401  (registers the envs)
from basketgym.envs.features import CANDIDATE_FEATURES
from basketgym.envs.shopper_vector import ShopperVectorEnv
from basketgym.rankers import make_ranker
from basketgym.sim.config import load_scenario
from basketgym.sim.world import World


def _first_k(env):
    return np.tile(np.arange(env.slate_size), (env.num_envs, 1))


@pytest.mark.parametrize("mode", [None, "vector_entry_point"])
def test_make_vec_returns_the_native_env(mode):
    env = gym.make_vec("basketgym/Shopper-v0", num_envs=4, vectorization_mode=mode, scenario="smoke")
    assert isinstance(env, ShopperVectorEnv) and env.num_envs == 4
    assert env.metadata["autoreset_mode"] == AutoresetMode.NEXT_STEP
    env.close()
    env.close()  # twice is fine


def test_observations_stay_in_space_and_info_is_arrays_with_masks():
    env = ShopperVectorEnv(6, scenario="smoke")
    obs, info = env.reset(seed=2)
    assert env.observation_space.contains(obs)
    seen_done = False
    for _ in range(200):
        obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
        assert env.observation_space.contains(obs)
        assert reward.shape == terminated.shape == truncated.shape == (6,)
        assert info["day"].shape == info["_day"].shape == (6,) and info["_day"].all()
        if info["visit_done"].any():
            seen_done = True
            assert np.array_equal(info["_gtv"], info["visit_done"])
            assert np.array_equal(reward[info["visit_done"]], info["margin"][info["visit_done"]])
            assert all(isinstance(info["items"][i], np.ndarray) for i in np.flatnonzero(info["visit_done"]))
        assert (reward[~info["visit_done"]] == 0).all()
        assert set(info["truth"]) == {"satisfaction", "_satisfaction", "churned", "_churned"}
    assert seen_done


def test_same_seed_same_rollout_and_pickles_mid_run():
    def run(env, steps):
        return [env.step(_first_k(env))[:4] for _ in range(steps)]

    a, b = ShopperVectorEnv(16, scenario="default", days=60), ShopperVectorEnv(16, scenario="default", days=60)
    a.reset(seed=5)
    b.reset(seed=5)
    ra, rb = run(a, 120), run(b, 120)
    for (oa, *xa), (ob, *xb) in zip(ra, rb, strict=True):
        assert all(np.array_equal(u, v) for u, v in zip(xa, xb, strict=True))
        assert all(np.array_equal(oa[k], ob[k]) for k in oa)
    assert sum(r.sum() for _, r, *_ in ra) > 0
    clone = pickle.loads(pickle.dumps(a))
    for (ox, *x), (oy, *y) in zip(run(a, 60), run(clone, 60), strict=True):
        assert all(np.array_equal(u, v) for u, v in zip(x, y, strict=True))
        assert all(np.array_equal(ox[k], oy[k]) for k in ox)
    c = ShopperVectorEnv(16, scenario="default", days=60)
    c.reset(seed=6)
    assert not all(np.array_equal(x[1], y[1]) for x, y in zip(ra, run(c, 120), strict=True))


def test_sub_env_zero_is_shopper_v0():
    """Slot 0's first episode is Shopper-v0's `reset(seed=s)` episode, step for step."""
    vec = ShopperVectorEnv(8, scenario="default", days=90, autoreset_mode="Disabled")
    single = gym.make("basketgym/Shopper-v0", scenario="default", days=90).unwrapped
    vec.reset(seed=11)
    single.reset(seed=11)
    done = False
    steps = 0
    while not done:
        o1, r1, t1, u1, _ = single.step(np.arange(single.slate_size))
        ov, rv, tv, uv, _ = vec.step(_first_k(vec))
        assert (r1, t1, u1) == (rv[0], tv[0], uv[0])
        assert np.array_equal(o1["candidates"], ov["candidates"][0]) and o1["query"] == ov["query"][0]
        done, steps = t1 or u1, steps + 1
    assert steps > 50


def test_the_same_world_as_basketgym_run():
    """Driven with the `random` ranker's slates, every sub-env's shopper lives their `basketgym run` life."""
    base = load_scenario("default")
    cfg = base.replace(
        days=60,
        population=dataclasses.replace(base.population, shoppers=3000, new_per_day=0.0),
        marketplace=dataclasses.replace(base.marketplace, max_sponsored=0),  # the policy places no ads
    )
    full = World(cfg, cfg.seed, make_ranker("random"), "random").run()
    env = ShopperVectorEnv(128, scenario=cfg, autoreset_mode="Disabled")
    teacher = make_ranker("random")
    shoppers = np.arange(0, 3000, 3000 // 128)[:128]
    env.reset(seed=cfg.seed, options={"shoppers": shoppers})
    env.lives.reset_ranker(teacher)  # as the world starts its ranker: its own seed
    items = [[] for _ in shoppers]
    days = [[] for _ in shoppers]
    over = np.zeros(len(shoppers), bool)
    while not over.all():
        _, _, terminated, truncated, info = env.step(env.lives.ranker_actions(teacher))
        for i in np.flatnonzero(info["visit_done"]):
            items[i] += info["items"][i].tolist()
            days[i] += [int(info["day"][i])] * len(info["items"][i])
        over |= terminated | truncated
    lines = 0
    for i, shopper in enumerate(shoppers):
        mine = full.purchases["shopper_id"] == shopper
        assert items[i] == full.purchases["item_id"][mine].tolist()
        assert days[i] == full.purchases["day"][mine].tolist()
        lines += len(items[i])
    assert lines > 3000  # ~50 order lines per shopper over 60 days


def test_autoreset_next_step_starts_the_next_shopper():
    env = ShopperVectorEnv(4, scenario="smoke")
    _, info = env.reset(seed=0)
    assert info["shopper"].tolist() == [0, 1, 2, 3]
    ended = None
    for _ in range(500):
        obs, reward, terminated, truncated, info = env.step(_first_k(env))
        if ended is not None:
            break
        if (terminated | truncated).any():
            ended = np.flatnonzero(terminated | truncated)
    # the step after the end: reset, action ignored, reward 0, not done, a new shopper
    assert (reward[ended] == 0).all() and not (terminated[ended] | truncated[ended]).any()
    assert (info["shopper"][ended] >= 4).all() and (info["day"][ended] >= 0).all()
    assert obs["surface"][ended].tolist() == [0] * len(ended)  # a life starts on the home feed


def test_autoreset_same_step_and_disabled():
    same = ShopperVectorEnv(4, scenario="smoke", autoreset_mode=AutoresetMode.SAME_STEP)
    same.reset(seed=0)
    for _ in range(500):
        obs, reward, terminated, truncated, info = same.step(_first_k(same))
        done = terminated | truncated
        if done.any():
            assert np.array_equal(info["_final_obs"], done) and np.array_equal(info["_final_info"], done)
            assert (obs["surface"][done] == 0).all() and (info["final_obs"]["candidate_mask"][done] == 0).all()
            break
    else:
        pytest.fail("no episode ended")
    off = ShopperVectorEnv(4, scenario="smoke", autoreset_mode="Disabled")
    off.reset(seed=0)
    while True:
        _, _, terminated, truncated, _ = off.step(_first_k(off))
        if (terminated | truncated).any():
            break
    ended = terminated | truncated
    _, reward, terminated, truncated, info = off.step(_first_k(off))  # ended sub-envs idle
    assert (reward[ended] == 0).all() and not (terminated | truncated)[ended].any()
    assert not info["visit_done"][ended].any()
    before = info["shopper"][ended]
    _, info = off.reset(options={"reset_mask": ended})
    assert (info["shopper"][ended] != before).all()
    _, reward, *_ = off.step(_first_k(off))


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="autoreset_mode = 'sometimes'"):
        ShopperVectorEnv(2, scenario="smoke", autoreset_mode="sometimes")
    with pytest.raises(ValueError, match="num_envs = 0"):
        ShopperVectorEnv(0, scenario="smoke")
    env = ShopperVectorEnv(2, scenario="smoke")
    with pytest.raises(ValueError, match="options\\['shoppers'\\]"):
        env.reset(seed=0, options={"shoppers": [1]})


F = {name: i for i, name in enumerate(CANDIDATE_FEATURES)}


def _policy(kind, rng):
    """Slates as candidate indices from the observation only (what a policy could do)."""

    def act(obs, k):
        f, ok = obs["candidates"], obs["candidate_mask"].astype(bool)
        if kind == "random":
            return rng.integers(0, ok.shape[1], (len(ok), k))
        if kind == "buy_again":  # what the shopper bought before, then the cheaper items
            score = f[..., F["bought_before"]] * 10 - f[..., F["log_price"]]
        elif kind == "ads_only":  # the highest-bidding ad-eligible items, nothing else
            score = np.where(f[..., F["ad_eligible"]] > 0, 10 + f[..., F["bid"]], -np.inf)
        else:  # "irrelevant": never bought, most expensive first
            score = -f[..., F["bought_before"]] * 10 + f[..., F["log_price"]]
        score = np.where(ok, score, -np.inf)
        order = np.argsort(-score, axis=1, kind="stable")[:, :k]
        # slots with fewer eligible candidates than k repeat their first pick (repeats are dropped)
        shown = np.take_along_axis(score, order, axis=1) > -np.inf
        return np.where(shown, order, order[:, :1])

    return act


@pytest.fixture(scope="module")
def lives():
    """Episode returns and churn of the same 120 default-world shoppers under four slate policies."""
    out = {}
    shoppers = np.arange(0, 12000, 100)[:120] % 10000
    for kind in ("buy_again", "random", "irrelevant", "ads_only"):
        env = ShopperVectorEnv(len(shoppers), scenario="default", autoreset_mode="Disabled")
        obs, _ = env.reset(seed=7, options={"shoppers": shoppers})
        act, over = _policy(kind, np.random.default_rng(0)), np.zeros(len(shoppers), bool)
        returns, churned = np.zeros(len(shoppers)), np.zeros(len(shoppers), bool)
        while not over.all():
            obs, reward, terminated, truncated, _ = env.step(act(obs, env.slate_size))
            returns += reward
            churned |= terminated
            over |= terminated | truncated
        out[kind] = (returns, churned)
    return out


def _paired_lower_bound(a, b):
    """Lower end of a 95% interval for the mean paired difference (same shoppers, same draws)."""
    d = a - b
    return d.mean() - 1.96 * d.std(ddof=1) / np.sqrt(len(d))


def test_buy_again_slates_beat_random_slates(lives):
    assert _paired_lower_bound(lives["buy_again"][0], lives["random"][0]) > 0


@pytest.mark.parametrize("bad", ["irrelevant", "ads_only"])
def test_irrelevant_or_ads_only_slates_lose_value_through_churn(lives, bad):
    assert _paired_lower_bound(lives["buy_again"][0], lives[bad][0]) > 0
    assert lives[bad][1].mean() > lives["buy_again"][1].mean() + 0.1  # at least 10 points more churn
