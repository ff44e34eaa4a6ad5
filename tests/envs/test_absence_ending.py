"""The observable episode ending (``end_on="absence"``): N days without a visit, never read from churn state."""

import dataclasses
import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import basketgym  # noqa: F401  (registers the envs)
from basketgym.envs.replay import EnvArgumentError
from basketgym.envs.shopper_vector import ShopperVectorEnv
from basketgym.sim.config import load_scenario

N_DAYS = 21  # three weeks: most of these lives end by absence, one of them after churning


@pytest.mark.parametrize("env_id", ["basketgym/Shopper-v0", "basketgym/Marketplace-v0"])
def test_the_env_checker_passes_with_the_absence_ending(env_id):
    env = gym.make(env_id, scenario="smoke", end_on="absence", absence_days=N_DAYS)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_env(env.unwrapped, skip_render_check=True)
    env.close()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"end_on": "silence"}, "end_on = 'silence': must be one of 'churn', 'absence'"),
        ({"absence_days": 5}, "absence_days = 5: only used with end_on='absence'"),
        ({"end_on": "absence"}, "absence_days = None: end_on='absence' needs a whole number of days >= 1"),
        ({"end_on": "absence", "absence_days": 0}, "absence_days = 0: end_on='absence' needs"),
        ({"end_on": "absence", "absence_days": 2.5}, "absence_days = 2.5: end_on='absence' needs"),
        ({"end_on": "absence", "absence_days": True}, "absence_days = True: end_on='absence' needs"),
    ],
)
def test_bad_endings_are_one_line_errors(kwargs, message):
    for make in (
        lambda: gym.make("basketgym/Shopper-v0", scenario="smoke", **kwargs),
        lambda: ShopperVectorEnv(2, scenario="smoke", **kwargs),
        lambda: gym.make("basketgym/Marketplace-v0", scenario="smoke", **kwargs),
    ):
        with pytest.raises(EnvArgumentError, match=message.replace("(", r"\(").replace(")", r"\)")) as e:
            make()
        assert "\n" not in str(e.value)


def _first_k(env):
    return np.tile(np.arange(env.slate_size), (env.num_envs, 1))


def _lives(end_on, absence_days=None, n=48):
    """Every slot's one episode under the same slates: visit days, the ending step, flags, end day, truth."""
    env = ShopperVectorEnv(n, scenario="default", days=120, autoreset_mode="Disabled", end_on=end_on,
                           absence_days=absence_days)  # fmt: skip
    env.reset(seed=9)
    visits = [[] for _ in range(n)]
    end = {}
    while len(end) < n:
        _, _, term, trunc, info = env.step(_first_k(env))
        for i in np.flatnonzero(info["visit_done"]):
            visits[i].append(int(info["day"][i]))
        for i in np.flatnonzero(term | trunc):
            end[int(i)] = {
                "terminated": bool(term[i]),
                "end_day": int(info["end_day"][i]) if info.get("_end_day", np.zeros(n, bool))[i] else None,
                "churned": bool(info["truth"]["churned"][i]),
                "visits": list(visits[i]),
            }
    return end


@pytest.fixture(scope="module")
def both():
    return _lives("churn"), _lives("absence", N_DAYS)


def test_an_absence_ending_is_exactly_n_days_after_the_last_visit_and_never_reads_churn(both):
    churn, absence = both
    away_alive = away_churned = 0
    for i, a in absence.items():
        c = churn[i]
        n_seen = len(a["visits"])
        assert c["visits"][:n_seen] == a["visits"]  # the same life, up to the absence ending
        gaps = np.diff([0, *a["visits"]])
        assert (gaps <= N_DAYS).all()  # no earlier absence of N days
        if not a["terminated"]:
            continue
        last = a["visits"][-1] if a["visits"] else 0
        assert a["end_day"] == last + N_DAYS
        if a["churned"]:  # churned at that last visit: the churn ending stops there too
            away_churned += 1
            assert c["terminated"] and c["visits"] == a["visits"]
        else:  # alive, but away longer than N days: under the churn ending the life goes on
            assert len(c["visits"]) > n_seen or not c["terminated"]
            if len(c["visits"]) > n_seen:  # ... and they come back, after the absence ending's day
                away_alive += 1
                assert c["visits"][n_seen] > a["end_day"]
    assert away_alive >= 1 and away_churned >= 1
    # and a churned shopper's absence ending comes N days after the last visit, never at churn itself
    assert all(not a["terminated"] or a["end_day"] is not None for a in absence.values())


def test_the_default_ending_is_churn_and_reports_no_absence_day(both):
    churn, absence = both
    assert all(c["end_day"] is None for c in churn.values())
    # here the one life that churns does so before any 21-day absence: both endings stop it at that visit
    assert [i for i, c in churn.items() if c["terminated"]] == [i for i, a in absence.items() if a["churned"]]


def test_single_and_vector_envs_agree_step_for_step_with_the_absence_ending():
    kw = {"scenario": "default", "days": 120, "end_on": "absence", "absence_days": N_DAYS}
    vec = ShopperVectorEnv(4, autoreset_mode="Disabled", **kw)
    single = gym.make("basketgym/Shopper-v0", **kw).unwrapped
    vec.reset(seed=18)  # shopper 18 of world 18: 112 slates, then 21 days away (not churned)
    single.reset(seed=18)
    done, steps = False, 0
    while not done:
        o1, r1, t1, u1, i1 = single.step(np.arange(single.slate_size))
        ov, rv, tv, uv, iv = vec.step(_first_k(vec))
        assert (r1, t1, u1) == (rv[0], tv[0], uv[0])
        assert np.array_equal(o1["candidates"], ov["candidates"][0]) and o1["query"] == ov["query"][0]
        if t1:
            assert i1["end_day"] == iv["end_day"][0]
        done, steps = t1 or u1, steps + 1
    assert steps > 50 and t1 and not i1["truth"]["churned"]  # a life of several visits, ended by absence


def test_marketplace_ends_after_n_days_without_any_visit():
    base = load_scenario("smoke")
    cfg = base.replace(population=dataclasses.replace(base.population, shoppers=3, new_per_day=0.0), days=120)
    env = gym.make("basketgym/Marketplace-v0", scenario=cfg, end_on="absence", absence_days=4).unwrapped
    env.reset(seed=2)
    busy, done = -1, False
    while not done:
        _, _, terminated, truncated, info = env.step(np.array([1.0, 0.0, 0.0, 0.0], np.float32))
        busy = info["day"] if info["visits"] else busy
        done = terminated or truncated
    assert terminated and info["day"] == busy + 4
    # all three shoppers are still customers (none churned): the ending came from the empty days alone
    assert info["truth"]["active_shoppers"] == 3
