"""The env's and the domains' fast paths change nothing.

Each is checked against a straightforward reference over many seeds: the env loop as
first written (a ``simpy.Process`` per decision, masks checked and widened at every
decision, the one-hot index joined with ``np.concatenate``) and the observations and
masks computed with the plain formulas from the domains' state.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any, cast

import gymnasium as gym
import numpy as np
import pytest
import simpy
from gymnasium import spaces
from numpy.typing import NDArray

from domains.cashier.simulation import Activity as CashierActivity
from domains.cashier.simulation import CashierDomain
from domains.cashier.vocabulary import HORIZON as CASHIER_HORIZON
from domains.cashier.vocabulary import LANES, QUEUE_CAPACITY
from domains.domain import Domain, Process
from domains.env import MultiActorEnv
from domains.factory.simulation import Activity as FactoryActivity
from domains.factory.simulation import FactoryDomain
from domains.factory.vocabulary import BUFFER_CAPACITY, STATIONS
from domains.factory.vocabulary import HORIZON as FACTORY_HORIZON
from domains.recorder import EventRecorder, Recorder
from schemas.vocabulary import Actor, Vocabulary

SEEDS = range(25)

Observe = Callable[[Any], NDArray[Any]]


# -- the references ----------------------------------------------------------------


def _factory_observation(domain: FactoryDomain) -> NDArray[np.float32]:
    """FactoryDomain.observe as first written."""
    now = domain._sim.now
    features = [
        now / FACTORY_HORIZON,
        len(domain._buffer_a.items) / BUFFER_CAPACITY,
        len(domain._buffer_b.items) / BUFFER_CAPACITY,
        min(domain._finished / 30.0, 1.0),
    ]
    left = FACTORY_HORIZON - now
    features += [min(left / scale, 1.0) for scale in (30.0, 10.0)]
    segment = FACTORY_HORIZON / 10
    features += [min(max((now - k * segment) / segment, 0.0), 1.0) for k in range(10)]
    for buffer in (domain._buffer_a, domain._buffer_b):
        level = [0.0] * (BUFFER_CAPACITY + 1)
        level[len(buffer.items)] = 1.0
        features += level
    for worker in domain._workers:
        position = [0.0] * len(STATIONS)
        position[worker.target] = 1.0
        activity = [0.0] * len(FactoryActivity)
        activity[worker.activity] = 1.0
        remaining = min(max(worker.busy_until - now, 0.0) / 10.0, 1.0)
        features += position + activity + [remaining]
    return np.array(features, dtype=np.float32)


def _cashier_observation(domain: CashierDomain) -> NDArray[np.float32]:
    """CashierDomain.observe as first written."""
    now = domain._sim.now
    features = [now / CASHIER_HORIZON]
    incoming_lane, arrival = domain._incoming if domain._incoming is not None else (None, now)
    features.append(min(max(arrival - now, 0.0) / 6.0, 1.0))
    automatic = domain.dispatcher_decider is None
    next_automatic = domain._next_customer % len(LANES) if automatic else None
    for lane, queue in enumerate(domain._queues):
        level = [0.0] * (QUEUE_CAPACITY + 1)
        level[min(len(queue.items), QUEUE_CAPACITY)] = 1.0
        features += [min(len(queue.items) / QUEUE_CAPACITY, 1.0), *level]
        features.append(1.0 if lane == incoming_lane else 0.0)
        features.append(1.0 if lane == next_automatic else 0.0)
    for cashier in domain._cashiers:
        position = [0.0] * len(LANES)
        position[cashier.target] = 1.0
        activity = [0.0] * len(CashierActivity)
        activity[cashier.activity] = 1.0
        remaining = min(max(cashier.busy_until - now, 0.0) / 10.0, 1.0)
        features += position + activity + [remaining]
    return np.array(features, dtype=np.float32)


def _plain_legal_actions(domain: Any, decider: int) -> NDArray[np.bool_]:
    """The masks of both domains as first written: serving/working is always legal,
    walking only to a free place; the cashier's dispatcher may send to any lane."""
    if isinstance(domain, CashierDomain) and decider == domain.dispatcher_decider:
        return np.ones(len(LANES), dtype=bool)
    return np.array([True, *(occupant is None for occupant in domain._occupant)], dtype=bool)


class _ReferenceEnv(MultiActorEnv):
    """MultiActorEnv's loop as first written, with the given observation and masks."""

    def __init__(
        self,
        domain_factory: Callable[[], Domain],
        *,
        observe: Observe = lambda domain: domain.observe(),
        legal_actions: Callable[[Any, int], NDArray[np.bool_]] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(domain_factory, **kwargs)
        self._reference_observe = observe
        self._reference_legal_actions = legal_actions
        self._legal = np.zeros(0, dtype=bool)

    def step(self, action: Any) -> tuple[NDArray[np.float32], float, bool, bool, dict[str, Any]]:
        decider = self._decider
        if decider is None:
            raise gym.error.ResetNeeded("finished")
        global_action = int(action)
        local = global_action - self._action_offsets[decider]
        illegal = not (0 <= local < self._action_counts[decider]) or not self._legal[local]
        if illegal:
            local = int(np.flatnonzero(self._legal)[0])
        heapq.heappop(self._waiting)
        self.domain.commit(decider, local)
        process = self._sim.process(self.domain.perform(decider, local))
        process.callbacks.append(partial(self._needs_decision, decider, self._actions_started))
        self._actions_started += 1
        terminated = self._advance()
        reward = self.domain.collect_reward()
        self._episode_reward += reward
        info = self._info()
        if illegal:
            info["illegal_action"] = True
        if terminated:
            info["kpis"] = self.domain.kpis()
            if self._episode is not None:
                self._episode.total_reward = self._episode_reward
        return self._observation(), reward, terminated, False, info

    def action_masks(self) -> NDArray[np.bool_]:
        mask = np.zeros(self._n_actions, dtype=np.bool_)
        if self._decider is None:
            mask[0] = True
        else:
            offset = self._action_offsets[self._decider]
            mask[offset : offset + len(self._legal)] = self._legal
        return mask

    def _advance(self, decision: Any = None) -> bool:
        sim, waiting, horizon, domain = self._sim, self._waiting, self.domain.horizon, self.domain
        end_time = float(horizon)
        while True:
            next_time = sim.peek()
            if waiting and next_time > sim.now and sim.now < horizon:
                decider = waiting[0][1]
                if self._reference_legal_actions is None:
                    legal = domain.legal_actions(decider)
                else:
                    legal = self._reference_legal_actions(domain, decider)
                self._decider, self._legal = decider, np.asarray(legal, dtype=bool)
                return False
            if next_time > horizon:
                break
            sim.step()
            if domain.episode_ended():
                end_time = float(sim.now)
                break
        self._decider = None
        self._end_time = end_time
        if isinstance(self._recorder, EventRecorder):
            self._episode = self._recorder.finish(end_time)
            self._episode.kpis = domain.kpis()
        return True

    def _needs_decision(self, decider: int, action_number: int, _event: simpy.Event) -> None:
        heapq.heappush(self._waiting, (action_number, decider))

    def _observation(self) -> NDArray[np.float32]:
        who = np.zeros(self._n_deciders, dtype=np.float32)
        if self._decider is not None:
            who[self._decider] = 1.0
        return np.concatenate([self._reference_observe(self.domain), who])


# -- playing -----------------------------------------------------------------------


def _play(env: MultiActorEnv, seed: int, script: Sequence[int] | None = None) -> list[Any]:
    """Everything the learner and the recorder see in one episode. Random actions (from
    `seed`; every fifth one drawn from the whole space, so often illegal), or the local
    actions of `script` for whoever decides."""
    rng = np.random.default_rng(seed + 1000)
    observation, info = env.reset(seed=seed)
    seen: list[Any] = [(observation.dtype.str, observation.tobytes(), info)]
    done, step = False, 0
    while not done:
        mask = env.action_masks()
        seen.append((mask.tobytes(), env.decider, env.sim_time))
        if script is not None:
            assert env.decider is not None
            action = env.global_action(env.decider, script[step])
        elif step % 5 == 4:
            action = int(rng.integers(cast(spaces.Discrete, env.action_space).n))
        else:
            action = int(rng.choice(np.flatnonzero(mask)))
        observation, reward, done, truncated, info = env.step(action)
        seen.append((observation.dtype.str, observation.tobytes(), reward, done, truncated, info))
        step += 1
    seen.append(("final mask", env.action_masks().tobytes(), env.decider, env.sim_time))
    episode = env.recorded_episode
    if episode is not None:
        seen.append(
            (
                episode.actor,
                episode.state,
                episode.start,
                episode.end,
                episode.attributes,
                episode.end_time,
                episode.total_reward,
                episode.kpis,
            )
        )
    return seen


VARIANTS: dict[str, tuple[Callable[[], Domain], Observe]] = {
    "factory": (FactoryDomain, _factory_observation),
    "cashier controlled": (partial(CashierDomain, "controlled"), _cashier_observation),
    "cashier automatic": (partial(CashierDomain, "automatic"), _cashier_observation),
}


@pytest.mark.parametrize("record", [False, True], ids=["training", "recording"])
@pytest.mark.parametrize("variant", list(VARIANTS))
def test_episodes_match_the_reference_over_many_seeds(variant: str, record: bool) -> None:
    factory, observe = VARIANTS[variant]
    env = MultiActorEnv(factory, record=record)
    reference = _ReferenceEnv(
        factory, observe=observe, legal_actions=_plain_legal_actions, record=record
    )
    for seed in SEEDS:
        assert _play(env, seed) == _play(reference, seed), f"seed {seed}"


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_training_sees_what_recording_sees(variant: str) -> None:
    """Without a recorder the domains take shortcuts (plain stores, no recorder calls)."""
    factory, _ = VARIANTS[variant]
    training, recording = MultiActorEnv(factory), MultiActorEnv(factory, record=True)
    for seed in SEEDS:
        assert _play(training, seed) == _play(recording, seed)[:-1], f"seed {seed}"


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_observations_and_masks_are_fresh_writable_arrays(variant: str) -> None:
    factory, _ = VARIANTS[variant]
    env = MultiActorEnv(factory)
    first, _ = env.reset(seed=0)
    mask = env.action_masks()
    kept, kept_mask = first.copy(), mask.copy()
    first[:] = -1.0
    mask[:] = False
    second, *_ = env.step(int(np.flatnonzero(env.action_masks())[0]))
    assert second.flags.writeable
    assert second.dtype == np.float32
    assert not np.shares_memory(first, second)
    assert env.action_masks().any()
    env.reset(seed=0)
    assert env.action_masks().tobytes() == kept_mask.tobytes()
    observation, _ = env.reset(seed=0)
    assert observation.tobytes() == kept.tobytes()


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_observe_with_joins_observe_and_the_suffix(variant: str) -> None:
    factory, _ = VARIANTS[variant]
    env = MultiActorEnv(factory)
    env.reset(seed=3)
    for _ in range(20):
        domain = env.domain
        for suffix in (np.array([0.0, 1.0], np.float32), np.array([0.25, 1.0, 0.5])):
            joined = domain.observe_with(suffix)
            expected = np.concatenate([domain.observe(), suffix])
            assert (joined.dtype, joined.tobytes()) == (expected.dtype, expected.tobytes())
        env.step(int(np.flatnonzero(env.action_masks())[-1]))


# -- decisions run as SimPy processes would run them ------------------------------


class _Probe(Domain):
    """Two deciders whose actions exercise the corners of running a decision.

    Action 0: wait 1 s. Action 1: the commit starts a process of its own (so an urgent
    event is due before the decision starts). Action 2: wait for an event that fails
    and handle the failure. Action 3: wait for an event that has already happened.
    Action 4: end the episode before the first wait.
    """

    domain_id = "probe"
    domain_version = 0
    vocabulary = Vocabulary(actors=(Actor("a", ("busy",)), Actor("b", ("busy",))))
    decider_names = ("a", "b")
    action_names = (("wait", "urgent", "fail", "done", "end"),) * 2
    observation_space = spaces.Box(0.0, 1.0, shape=(1,), dtype=np.float32)
    horizon = 20.0

    def start(
        self, sim: simpy.Environment, recorder: Recorder, rng: np.random.Generator
    ) -> Sequence[int]:
        self._sim, self._ended = sim, False
        self.log: list[tuple[float, str]] = []
        self._happened = sim.event()
        self._happened.succeed("old news")
        return [0, 1]

    def legal_actions(self, decider: int) -> NDArray[np.bool_]:
        return np.ones(5, dtype=bool)

    def commit(self, decider: int, action: int) -> None:
        if action == 1:
            self._sim.process(self._note(f"{decider} committed"))

    def perform(self, decider: int, action: int) -> Process:
        self.log.append((self._sim.now, f"{decider} starts {action}"))
        if action == 2:
            failing = self._sim.event()
            self._sim.process(self._fail_soon(failing))
            try:
                yield failing
            except ValueError as error:
                self.log.append((self._sim.now, f"{decider} handled {error}"))
        elif action == 3:
            yield self._sim.timeout(1)
            value = yield self._happened
            self.log.append((self._sim.now, f"{decider} got {value}"))
        elif action == 4:
            self._ended = True
        yield self._sim.timeout(1)
        self.log.append((self._sim.now, f"{decider} ends {action}"))

    def _note(self, text: str) -> Process:
        self.log.append((self._sim.now, text))
        yield self._sim.timeout(0)
        self.log.append((self._sim.now, f"after {text}"))

    def _fail_soon(self, event: simpy.Event) -> Process:
        yield self._sim.timeout(0.5)
        event.fail(ValueError("too bad"))

    def observe(self) -> NDArray[np.float32]:
        return np.array([self._sim.now / self.horizon], dtype=np.float32)

    def collect_reward(self) -> float:
        return 0.0

    def kpis(self) -> dict[str, float]:
        return {"entries": float(len(self.log))}

    def episode_ended(self) -> bool:
        return self._ended


@pytest.mark.parametrize(
    "script",
    [
        [0, 0, 1, 1, 2, 2, 3, 3] * 3 + [4],
        [1] * 16 + [4],
        [2, 3, 3, 2, 1, 0] * 2 + [4],
        [4],
        [0, 4],
    ],
)
def test_decisions_run_as_simpy_processes_would(script: list[int]) -> None:
    env, reference = MultiActorEnv(_Probe), _ReferenceEnv(_Probe)
    steps = _play(env, 0, script)
    assert steps == _play(reference, 0, script)
    assert isinstance(env.domain, _Probe)
    assert isinstance(reference.domain, _Probe)
    assert env.domain.log == reference.domain.log
    assert steps[-2][3]  # the last scripted action ended the episode


def test_a_decision_yielding_something_else_than_an_event_fails_clearly() -> None:
    class _Broken(_Probe):
        def perform(self, decider: int, action: int) -> Process:
            yield 42  # type: ignore[misc]

    env = MultiActorEnv(_Broken)
    env.reset(seed=0)
    with pytest.raises(Exception, match="42"):
        env.step(0)
