"""The generic multi-actor env: Gymnasium contract, masks, turn order, never hanging."""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import gymnasium as gym
import numpy as np
import pytest
import simpy
from gymnasium import spaces
from gymnasium.utils.env_checker import check_env
from numpy.typing import NDArray

from domains.domain import Domain, Process
from domains.env import IllegalActionError, MultiActorEnv
from domains.factory.simulation import ENV_ID, FactoryDomain, make_factory_env
from domains.recorder import Recorder
from schemas.vocabulary import Actor, Attribute, Vocabulary


def test_factory_passes_gymnasium_check_env_without_warnings() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_env(make_factory_env(), skip_render_check=True)


def test_registered_id_makes_the_factory() -> None:
    env = gym.make(ENV_ID)
    assert ENV_ID == "simreel/Factory-v0"
    assert isinstance(env.unwrapped, MultiActorEnv)
    observation, info = env.reset(seed=3)
    assert env.observation_space.contains(observation)
    assert info == {"decider": 0, "sim_time": 0.0}


def test_observation_ends_with_the_deciders_one_hot_index() -> None:
    env = make_factory_env()
    observation, _ = env.reset(seed=0)
    assert observation[-2:].tolist() == [1.0, 0.0]
    observation, *_ = env.step(env.global_action(0, 0))
    assert observation[-2:].tolist() == [0.0, 1.0]
    assert env.action_space.n == 10  # 5 local actions per worker, worker 0 first


def test_masked_action_is_substituted_by_default_and_reported() -> None:
    env = make_factory_env()
    env.reset(seed=0)
    _, _, _, _, info = env.step(7)  # worker 1's action while worker 0 decides
    assert info["illegal_action"] is True
    assert env.decider == 1  # worker 0 did its first legal action (work) instead


def test_masked_action_raises_in_strict_mode() -> None:
    env = make_factory_env(on_illegal="raise")
    env.reset(seed=0)
    with pytest.raises(IllegalActionError, match=r"legal actions now: \[0, 3, 4\]"):
        env.step(2)


def test_out_of_space_action_and_step_after_the_end_fail_clearly() -> None:
    env = make_factory_env()
    env.reset(seed=0)
    with pytest.raises(ValueError, match=r"action \(10\) must be in \[0, 10\)"):
        env.step(10)
    done = False
    while not done:
        *_, done, _, _ = env.step(0)
    with pytest.raises(gym.error.ResetNeeded):
        env.step(0)


def test_reward_is_everything_earned_since_the_previous_step() -> None:
    env = make_factory_env()
    env.reset(seed=0)
    total, done = 0.0, False
    rewards = []
    while not done:
        _, reward, done, _, _info = env.step(0)
        rewards.append(reward)
        total += reward
    assert total == pytest.approx(0.31)  # 21 items into A, 10 into B (see the rule tests)
    assert max(rewards) == pytest.approx(0.02)  # a put into A and one into B at one instant


# -- a second, invented domain: the core is generic -------------------------------


class _Relay(Domain):
    """Two runners; action 0 runs 10 s, action 1 blocks forever on a gate nobody opens."""

    domain_id = "relay"
    domain_version = 0
    vocabulary = Vocabulary(
        actors=(
            Actor("runner_a", ("running", "blocked")),
            Actor("runner_b", ("running", "blocked")),
        ),
        attributes=(Attribute("lap", "int64"),),
    )
    decider_names = ("runner_a", "runner_b")
    action_names = (("run", "wait at gate"), ("run", "wait at gate"))
    observation_space = spaces.Box(0.0, 1.0, shape=(1,), dtype=np.float32)
    horizon = 50.0

    def __init__(self) -> None:
        self._sim = simpy.Environment()
        self._laps = 0

    def start(
        self, sim: simpy.Environment, recorder: Recorder, rng: np.random.Generator
    ) -> Sequence[int]:
        self._sim, self._recorder, self._gate = sim, recorder, sim.event()
        return [1, 0]  # runner_b is first in line

    def legal_actions(self, decider: int) -> NDArray[np.bool_]:
        return np.array([True, True])

    def commit(self, decider: int, action: int) -> None:
        pass

    def perform(self, decider: int, action: int) -> Process:
        name = self.decider_names[decider]
        if action == 0:
            self._recorder.enter(name, "running", lap=self._laps)
            yield self._sim.timeout(10)
            self._laps += 1
        else:
            self._recorder.enter(name, "blocked")
            yield self._gate

    def observe(self) -> NDArray[np.float32]:
        return np.array([self._sim.now / self.horizon], dtype=np.float32)

    def collect_reward(self) -> float:
        return 0.0

    def kpis(self) -> dict[str, float]:
        return {"laps": float(self._laps)}


def test_first_come_order_comes_from_the_domain() -> None:
    env = MultiActorEnv(_Relay)
    env.reset()
    assert env.decider == 1
    assert env.action_masks().tolist() == [False, False, True, True]


def test_everyone_blocked_ends_the_episode_instead_of_hanging() -> None:
    env = MultiActorEnv(_Relay, record=True)
    env.reset()
    env.step(env.global_action(1, 1))
    _, _, done, _, info = env.step(env.global_action(0, 1))
    assert done
    assert info == {"decider": -1, "sim_time": 50.0, "kpis": {"laps": 0.0}}
    episode = env.recorded_episode
    assert episode is not None
    assert episode.end == [50.0, 50.0]  # open intervals close at the horizon


def test_events_due_at_the_horizon_happen_but_no_decision_is_asked_then() -> None:
    env = MultiActorEnv(_Relay)
    env.reset()
    steps = 0
    done = False
    while not done:
        who = env.decider
        assert who is not None
        assert env.sim_time < 50.0
        # runner_b blocks; runner_a runs laps ending at 10, 20, 30, 40, 50.
        _, _, done, _, info = env.step(env.global_action(who, 1 if who == 1 else 0))
        steps += 1
    assert steps == 6
    assert info["kpis"] == {"laps": 5.0}


def test_factory_domain_declares_what_the_env_needs() -> None:
    assert FactoryDomain.decider_names == ("worker0", "worker1")
    assert FactoryDomain.action_names[0] == ("work", "go to s0", "go to s1", "go to s2", "go to s3")


class _Legs(Domain):
    """Action 0: one leg of 10 s; action 1: two legs of 5 s. Both end 10 s after they
    start, but the second leg's timeout is scheduled only when the first leg ends."""

    domain_id = "legs"
    domain_version = 0
    vocabulary = Vocabulary(actors=(Actor("a", ("moving",)), Actor("b", ("moving",))))
    decider_names = ("a", "b")
    action_names = (("one leg", "two legs"), ("one leg", "two legs"))
    observation_space = spaces.Box(0.0, 1.0, shape=(1,), dtype=np.float32)
    horizon = 30.0

    def start(
        self, sim: simpy.Environment, recorder: Recorder, rng: np.random.Generator
    ) -> Sequence[int]:
        self._sim = sim
        return [0, 1]

    def legal_actions(self, decider: int) -> NDArray[np.bool_]:
        return np.array([True, True])

    def commit(self, decider: int, action: int) -> None:
        pass

    def perform(self, decider: int, action: int) -> Process:
        if action == 0:
            yield self._sim.timeout(10)
        else:
            yield self._sim.timeout(5)
            yield self._sim.timeout(5)

    def observe(self) -> NDArray[np.float32]:
        return np.array([self._sim.now / self.horizon], dtype=np.float32)

    def collect_reward(self) -> float:
        return 0.0

    def kpis(self) -> dict[str, float]:
        return {}


def test_the_earlier_started_action_decides_first_even_when_simpy_ends_it_later() -> None:
    env = MultiActorEnv(_Legs)
    env.reset()
    env.step(env.global_action(0, 1))  # a at t=0: two legs; its 2nd timeout is set at t=5
    env.step(env.global_action(1, 0))  # b at t=0, after a: one leg, its timeout set at t=0
    # Both actions end at t=10. SimPy processes b's timeout first (scheduled earlier), but
    # a started its action first, so a decides first.
    assert (env.decider, env.sim_time) == (0, 10.0)
    env.step(env.global_action(0, 0))
    assert (env.decider, env.sim_time) == (1, 10.0)
