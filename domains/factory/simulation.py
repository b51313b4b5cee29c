"""The factory's rules as a SimPy simulation (the rules: ``domains/factory/README.md``).

Importing this module registers the Gymnasium id ``simreel/Factory-v0``.
"""

from __future__ import annotations

from collections.abc import Generator, Mapping, Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np
import simpy
from gymnasium import spaces
from numpy.typing import NDArray

from domains.domain import BaselineFactory, Domain, Process
from domains.env import MultiActorEnv
from domains.factory.vocabulary import (
    ACTION_NAMES,
    BUFFER_A,
    BUFFER_B,
    BUFFER_CAPACITY,
    DOMAIN_ID,
    DOMAIN_VERSION,
    FINISHED,
    HORIZON,
    REWARD_BUFFER_A,
    REWARD_BUFFER_B,
    REWARD_FINISHED,
    STATIONS,
    VOCABULARY,
    WALK_SECONDS,
    WORK_SECONDS,
    WORKER_START_STATIONS,
    WORKERS,
    BufferState,
    CounterState,
    WaitingFor,
    WorkerState,
)
from domains.recorder import NullRecorder, Recorder
from domains.stores import LevelStore

ENV_ID = f"simreel/Factory-v{DOMAIN_VERSION}"
WORK = 0
"""Local action 0; local action 1 + k walks to station k."""


class Activity(IntEnum):
    """What a worker is doing, as the observation encodes it."""

    DECIDING = 0
    WALKING = 1
    WORKING = 2
    STALLED_FOR_ITEM = 3
    STALLED_FOR_ROOM = 4


@dataclass
class _Worker:
    name: str
    station: int
    """Where the worker stands; while walking, the station it left."""
    target: int
    """Where the worker stands or walks to (the station it occupies)."""
    activity: Activity = Activity.DECIDING
    busy_until: float = 0.0
    """When the current walk or work ends."""


@dataclass(frozen=True)
class FloorSnapshot:
    """The factory floor at one instant."""

    time: float
    buffer_a: int
    buffer_b: int
    finished: int
    stations: tuple[int, ...]
    """Per worker, the station it stands at or walks to."""
    activities: tuple[Activity, ...]
    occupant: tuple[int | None, ...]
    """Per station, the worker standing at or walking to it."""


_FINE_SCALES = (30.0, 10.0)
"""Seconds over which the time left is also given at fine resolution (see observe)."""
_TIME_SEGMENTS = 10
"""The episode's thermometer code of elapsed time has this many segments (30 s each)."""
_OBS_GLOBAL = 4 + len(_FINE_SCALES) + _TIME_SEGMENTS + 2 * (BUFFER_CAPACITY + 1)
_OBS_PER_WORKER = len(STATIONS) + len(Activity) + 1


class FactoryDomain(Domain):
    """Two workers, four stations, two buffers of 10, 300 simulated seconds."""

    domain_id: ClassVar[str] = DOMAIN_ID
    domain_version: ClassVar[int] = DOMAIN_VERSION
    vocabulary = VOCABULARY
    decider_names: tuple[str, ...] = WORKERS
    action_names: tuple[tuple[str, ...], ...] = (ACTION_NAMES,) * len(WORKERS)
    horizon: ClassVar[float] = HORIZON
    kpi_names: ClassVar[tuple[str, ...]] = ("finished_items",)
    training_defaults: ClassVar[Mapping[str, Any]] = {"select_by": "finished_items"}
    """Keep the model that finishes the most items (the reward also pays for stocked buffers)."""
    observation_space: ClassVar[spaces.Box] = spaces.Box(
        0.0, 1.0, shape=(_OBS_GLOBAL + _OBS_PER_WORKER * len(WORKERS),), dtype=np.float32
    )

    def __init__(self) -> None:
        self._sim = simpy.Environment()
        self._recorder: Recorder = NullRecorder()
        self._workers: list[_Worker] = []
        self._occupant: list[int | None] = [None] * len(STATIONS)
        self._buffer_a = LevelStore(
            self._sim, BUFFER_A, BufferState.LEVEL, self._recorder, BUFFER_CAPACITY
        )
        self._buffer_b = LevelStore(
            self._sim, BUFFER_B, BufferState.LEVEL, self._recorder, BUFFER_CAPACITY
        )
        self._finished = 0
        self._next_item = 0
        self._reward = 0.0

    # -- Domain API ----------------------------------------------------------------

    def start(
        self, sim: simpy.Environment, recorder: Recorder, rng: np.random.Generator
    ) -> Sequence[int]:
        # The factory has no randomness: rng is unused by design.
        self._sim, self._recorder = sim, recorder
        self._workers = [
            _Worker(name, station=station, target=station)
            for name, station in zip(WORKERS, WORKER_START_STATIONS, strict=True)
        ]
        self._occupant = [None] * len(STATIONS)
        for index, worker in enumerate(self._workers):
            self._occupant[worker.station] = index
        self._buffer_a = LevelStore(sim, BUFFER_A, BufferState.LEVEL, recorder, BUFFER_CAPACITY)
        self._buffer_b = LevelStore(sim, BUFFER_B, BufferState.LEVEL, recorder, BUFFER_CAPACITY)
        recorder.enter(FINISHED, CounterState.COUNT, count=0)
        return range(len(self._workers))

    def legal_actions(self, decider: int) -> NDArray[np.bool_]:
        return np.array([True, *(occupant is None for occupant in self._occupant)], dtype=bool)

    def commit(self, decider: int, action: int) -> None:
        if action != WORK:
            # The walker frees its station and claims the destination now, so the
            # other worker's very next mask already sees both.
            worker = self._workers[decider]
            self._occupant[worker.target] = None
            worker.target = action - 1
            self._occupant[worker.target] = decider

    def perform(self, decider: int, action: int) -> Process:
        if action == WORK:
            return self._work(self._workers[decider])
        return self._walk(self._workers[decider], action - 1)

    def observe(self) -> NDArray[np.float32]:
        now = self._sim.now
        features = [
            now / HORIZON,
            len(self._buffer_a.items) / BUFFER_CAPACITY,
            len(self._buffer_b.items) / BUFFER_CAPACITY,
            min(self._finished / 30.0, 1.0),
        ]
        # The last item counts only if its stage-3 work ends by the horizon, so the end
        # game hinges on single seconds, which elapsed/300 resolves too coarsely for a
        # small network (1 s = 0.003). The time left, saturated at 30 s and at 10 s,
        # spreads the last stage-2 and stage-3 decisions over the whole [0, 1] range.
        left = HORIZON - now
        features += [min(left / scale, 1.0) for scale in _FINE_SCALES]
        # The good schedules switch stations at particular buffer levels ("s0 until A
        # is full", "leave s3 when B is down to 2") and in particular phases of the
        # episode. One-hot levels and a thermometer code of the time (segment k goes
        # 0 -> 1 during its 30 s) make such thresholds single weights instead of
        # sharp bends a small tanh network needs many updates to learn: with them,
        # training reaches 28 items on seeds where the plain scalars stay at 27.
        segment = HORIZON / _TIME_SEGMENTS
        features += [
            min(max((now - k * segment) / segment, 0.0), 1.0) for k in range(_TIME_SEGMENTS)
        ]
        for buffer in (self._buffer_a, self._buffer_b):
            level = [0.0] * (BUFFER_CAPACITY + 1)
            level[len(buffer.items)] = 1.0
            features += level
        for worker in self._workers:
            position = [0.0] * len(STATIONS)
            position[worker.target] = 1.0
            activity = [0.0] * len(Activity)
            activity[worker.activity] = 1.0
            remaining = min(max(worker.busy_until - now, 0.0) / 10.0, 1.0)
            features += position + activity + [remaining]
        return np.array(features, dtype=np.float32)

    def collect_reward(self) -> float:
        reward, self._reward = self._reward, 0.0
        return reward

    def kpis(self) -> dict[str, float]:
        return {"finished_items": float(self._finished)}

    @classmethod
    def baselines(cls) -> Mapping[str, BaselineFactory]:
        # Imported here: the baselines module imports this one.
        from domains.factory.baselines import FactoryRulesPolicy

        return {"rules": FactoryRulesPolicy}

    @property
    def finished_items(self) -> int:
        return self._finished

    def snapshot(self) -> FloorSnapshot:
        """A read-only view of the floor now, for rule-based policies and tests."""
        return FloorSnapshot(
            time=float(self._sim.now),
            buffer_a=len(self._buffer_a.items),
            buffer_b=len(self._buffer_b.items),
            finished=self._finished,
            stations=tuple(w.target for w in self._workers),
            activities=tuple(w.activity for w in self._workers),
            occupant=tuple(self._occupant),
        )

    # -- processes -----------------------------------------------------------------

    def _walk(self, worker: _Worker, destination: int) -> Process:
        duration = WALK_SECONDS[worker.station][destination]
        self._recorder.enter(
            worker.name,
            WorkerState.WALKING,
            station=STATIONS[worker.station],
            destination=STATIONS[destination],
        )
        worker.activity, worker.busy_until = Activity.WALKING, self._sim.now + duration
        yield self._sim.timeout(duration)
        worker.station = destination
        worker.activity = Activity.DECIDING

    def _work(self, worker: _Worker) -> Process:
        station = worker.station
        if station == 0:
            item = self._next_item
            self._next_item += 1
            yield from self._busy(worker, item)
            yield from self._put(worker, item, self._buffer_a)
            self._reward += REWARD_BUFFER_A
        elif station == len(STATIONS) - 1:
            item = yield from self._take(worker, self._buffer_b)
            yield from self._busy(worker, item)
            self._finished += 1
            self._reward += REWARD_FINISHED
            self._recorder.enter(FINISHED, CounterState.COUNT, count=self._finished)
        else:
            item = yield from self._take(worker, self._buffer_a)
            yield from self._busy(worker, item)
            yield from self._put(worker, item, self._buffer_b)
            self._reward += REWARD_BUFFER_B
        worker.activity = Activity.DECIDING

    def _busy(self, worker: _Worker, item: int) -> Process:
        duration = WORK_SECONDS[worker.station]
        self._recorder.enter(
            worker.name, WorkerState.WORKING, station=STATIONS[worker.station], item=item
        )
        worker.activity, worker.busy_until = Activity.WORKING, self._sim.now + duration
        yield self._sim.timeout(duration)

    def _take(self, worker: _Worker, buffer: LevelStore) -> Generator[simpy.Event, Any, int]:
        request = buffer.get()
        if not request.triggered:
            worker.activity = Activity.STALLED_FOR_ITEM
            self._recorder.enter(
                worker.name,
                WorkerState.STALLED,
                station=STATIONS[worker.station],
                waiting_for=WaitingFor.ITEM,
            )
        item: int = yield request
        return item

    def _put(self, worker: _Worker, item: int, buffer: LevelStore) -> Process:
        request = buffer.put(item)
        if not request.triggered:
            worker.activity = Activity.STALLED_FOR_ROOM
            self._recorder.enter(
                worker.name,
                WorkerState.STALLED,
                station=STATIONS[worker.station],
                item=item,
                waiting_for=WaitingFor.ROOM,
            )
        yield request


def make_factory_env(**kwargs: Any) -> MultiActorEnv:
    """A factory env; keyword arguments go to :class:`~domains.env.MultiActorEnv`."""
    return MultiActorEnv(FactoryDomain, **kwargs)


if ENV_ID not in gym.registry:
    gym.register(ENV_ID, entry_point=make_factory_env)
