"""The factory's rules as a SimPy simulation (the rules: ``domains/factory/README.md``).

Importing this module registers the Gymnasium id ``simreel/Factory-v0``.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import IntEnum
from pathlib import Path
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
from domains.float32 import ObservationFromParts, float32_bytes, one_hot
from domains.recorder import NullRecorder, Recorder
from domains.stores import level_store

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

# observe() runs at every decision and joins float32 byte strings (domains.float32):
# the one-hot codes and the time features are converted once and cached.
_SEGMENT = HORIZON / _TIME_SEGMENTS
_SEGMENT_STARTS = tuple(k * _SEGMENT for k in range(_TIME_SEGMENTS))
_PACK_FOUR = struct.Struct("4f").pack
_PACK_ONE = struct.Struct("f").pack


_LEVEL_CODES = tuple(
    float32_bytes(one_hot(level, BUFFER_CAPACITY + 1)) for level in range(BUFFER_CAPACITY + 1)
)
_WORKER_CODES = tuple(
    tuple(
        float32_bytes(one_hot(station, len(STATIONS)) + one_hot(activity, len(Activity)))
        for activity in range(len(Activity))
    )
    for station in range(len(STATIONS))
)
"""By station and activity, a worker's one-hot station followed by its one-hot activity."""

_TIME_FEATURES_CACHE: dict[float, tuple[float, bytes]] = {}
"""_time_features by time. Every factory duration is a whole number of seconds, so an
episode sees at most 301 distinct times and the cache stays small."""
_TIME_FEATURES_CACHE_SIZE = 4096


def _time_features(now: float) -> tuple[float, bytes]:
    """The observation's time features: elapsed/horizon, then (as float32 bytes) the time
    left at fine resolution followed by the thermometer code of the elapsed time."""
    cached = _TIME_FEATURES_CACHE.get(now)
    if cached is not None:
        return cached
    # The last item counts only if its stage-3 work ends by the horizon, so the end
    # game hinges on single seconds, which elapsed/300 resolves too coarsely for a
    # small network (1 s = 0.003). The time left, saturated at 30 s and at 10 s,
    # spreads the last stage-2 and stage-3 decisions over the whole [0, 1] range.
    left = HORIZON - now
    fine = [min(left / scale, 1.0) for scale in _FINE_SCALES]
    # The good schedules switch stations in particular phases of the episode: a
    # thermometer code of the time (segment k goes 0 -> 1 during its 30 s) makes such
    # thresholds single weights.
    segments = [min(max((now - start) / _SEGMENT, 0.0), 1.0) for start in _SEGMENT_STARTS]
    features = (now / HORIZON, float32_bytes((*fine, *segments)))
    if len(_TIME_FEATURES_CACHE) >= _TIME_FEATURES_CACHE_SIZE:
        _TIME_FEATURES_CACHE.clear()
    _TIME_FEATURES_CACHE[now] = features
    return features


_IDLE_SIM = simpy.Environment()
_IDLE_BUFFER = simpy.Store(_IDLE_SIM, capacity=BUFFER_CAPACITY)
"""What a domain holds before start(): nothing runs on them."""

_LEGAL_BY_OCCUPANTS: dict[tuple[int | None, ...], NDArray[np.bool_]] = {}
"""_legal_mask by the stations' occupants (3^4 combinations at most)."""


def _legal_mask(occupant: Sequence[int | None]) -> NDArray[np.bool_]:
    """A worker's mask: work is always legal, walking only to a free station. The arrays
    are shared and read-only, so a decision allocates none."""
    key = tuple(occupant)
    mask = _LEGAL_BY_OCCUPANTS.get(key)
    if mask is None:
        mask = np.array([True, *(station is None for station in key)], dtype=bool)
        mask.flags.writeable = False
        _LEGAL_BY_OCCUPANTS[key] = mask
    return mask


class FactoryDomain(ObservationFromParts, Domain):
    """Two workers, four stations, two buffers of 10, 300 simulated seconds."""

    domain_id: ClassVar[str] = DOMAIN_ID
    domain_version: ClassVar[int] = DOMAIN_VERSION
    vocabulary = VOCABULARY
    decider_names: tuple[str, ...] = WORKERS
    action_names: tuple[tuple[str, ...], ...] = (ACTION_NAMES,) * len(WORKERS)
    horizon: ClassVar[float] = HORIZON
    kpi_names: ClassVar[tuple[str, ...]] = ("finished_items",)
    shipped_models: ClassVar[Path | None] = (
        Path(__file__).resolve().parents[2] / "data" / "models" / "factory"
    )
    training_defaults: ClassVar[Mapping[str, Any]] = {"select_by": "finished_items"}
    """Keep the model that finishes the most items (the reward also pays for stocked buffers)."""
    observation_space: ClassVar[spaces.Box] = spaces.Box(
        0.0, 1.0, shape=(_OBS_GLOBAL + _OBS_PER_WORKER * len(WORKERS),), dtype=np.float32
    )

    def __init__(self) -> None:
        # Placeholders until start() (the env builds a domain per episode, and a SimPy
        # environment and stores of its own would cost as much as a decision).
        self._sim = _IDLE_SIM
        self._recorder: Recorder = NullRecorder()
        self._workers: list[_Worker] = []
        self._occupant: list[int | None] = [None] * len(STATIONS)
        self._legal = _legal_mask(self._occupant)
        self._recording = False
        """False with a NullRecorder: the processes then skip building recorder arguments."""
        self._buffer_a = self._buffer_b = _IDLE_BUFFER
        self._finished = 0
        self._next_item = 0
        self._reward = 0.0

    # -- Domain API ----------------------------------------------------------------

    def start(
        self, sim: simpy.Environment, recorder: Recorder, rng: np.random.Generator
    ) -> Sequence[int]:
        # The factory has no randomness: rng is unused by design.
        self._sim, self._recorder = sim, recorder
        self._recording = not isinstance(recorder, NullRecorder)
        self._workers = [
            _Worker(name, station=station, target=station)
            for name, station in zip(WORKERS, WORKER_START_STATIONS, strict=True)
        ]
        self._occupant = [None] * len(STATIONS)
        for index, worker in enumerate(self._workers):
            self._occupant[worker.station] = index
        self._legal = _legal_mask(self._occupant)
        self._buffer_a = level_store(sim, BUFFER_A, BufferState.LEVEL, recorder, BUFFER_CAPACITY)
        self._buffer_b = level_store(sim, BUFFER_B, BufferState.LEVEL, recorder, BUFFER_CAPACITY)
        recorder.enter(FINISHED, CounterState.COUNT, count=0)
        return range(len(self._workers))

    def legal_actions(self, decider: int) -> NDArray[np.bool_]:
        """Work, or walk to a free station (a shared read-only array)."""
        return self._legal

    def commit(self, decider: int, action: int) -> None:
        if action != WORK:
            # The walker frees its station and claims the destination now, so the
            # other worker's very next mask already sees both.
            worker = self._workers[decider]
            self._occupant[worker.target] = None
            worker.target = action - 1
            self._occupant[worker.target] = decider
            self._legal = _legal_mask(self._occupant)

    def perform(self, decider: int, action: int) -> Process:
        if action == WORK:
            return self._work(self._workers[decider])
        return self._walk(self._workers[decider], action - 1)

    def _observation_parts(self) -> list[bytes]:
        """The observation as float32 byte strings."""
        # From tables and caches (see _time_features); clipping is
        # written as conditional expressions, the same values as min() and max().
        now = self._sim.now
        elapsed, time_left = _time_features(now)
        level_a, level_b = len(self._buffer_a.items), len(self._buffer_b.items)
        finished = self._finished / 30.0  # min(finished / 30, 1)
        parts = [
            _PACK_FOUR(
                elapsed,
                level_a / BUFFER_CAPACITY,
                level_b / BUFFER_CAPACITY,
                1.0 if finished > 1.0 else finished,
            ),
            time_left,
            # The good schedules switch stations at particular buffer levels ("s0 until
            # A is full", "leave s3 when B is down to 2"). One-hot levels make such
            # thresholds single weights instead of sharp bends a small tanh network
            # needs many updates to learn: with them (and the thermometer code of the
            # time), training reaches 28 items on seeds where plain scalars stay at 27.
            _LEVEL_CODES[level_a],
            _LEVEL_CODES[level_b],
        ]
        for worker in self._workers:
            busy = worker.busy_until - now
            remaining = (0.0 if busy < 0.0 else busy) / 10.0  # min(max(busy, 0) / 10, 1)
            parts.append(_WORKER_CODES[worker.target][worker.activity])
            parts.append(_PACK_ONE(1.0 if remaining > 1.0 else remaining))
        return parts

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
        if self._recording:
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
            yield self._busy(worker, item)
            yield self._put(worker, item, self._buffer_a)
            self._reward += REWARD_BUFFER_A
        elif station == len(STATIONS) - 1:
            item = yield self._take(worker, self._buffer_b)
            yield self._busy(worker, item)
            self._finished += 1
            self._reward += REWARD_FINISHED
            if self._recording:
                self._recorder.enter(FINISHED, CounterState.COUNT, count=self._finished)
        else:
            item = yield self._take(worker, self._buffer_a)
            yield self._busy(worker, item)
            yield self._put(worker, item, self._buffer_b)
            self._reward += REWARD_BUFFER_B
        worker.activity = Activity.DECIDING

    # _busy, _take and _put start a step of the work and return the event that ends it
    # (plain functions rather than sub-generators: one fewer generator per step).

    def _busy(self, worker: _Worker, item: int) -> simpy.Timeout:
        duration = WORK_SECONDS[worker.station]
        if self._recording:
            self._recorder.enter(
                worker.name, WorkerState.WORKING, station=STATIONS[worker.station], item=item
            )
        worker.activity, worker.busy_until = Activity.WORKING, self._sim.now + duration
        return self._sim.timeout(duration)

    def _take(self, worker: _Worker, buffer: simpy.Store) -> simpy.resources.store.StoreGet:
        request = buffer.get()
        if not request.triggered:
            worker.activity = Activity.STALLED_FOR_ITEM
            if self._recording:
                self._recorder.enter(
                    worker.name,
                    WorkerState.STALLED,
                    station=STATIONS[worker.station],
                    waiting_for=WaitingFor.ITEM,
                )
        return request

    def _put(
        self, worker: _Worker, item: int, buffer: simpy.Store
    ) -> simpy.resources.store.StorePut:
        request = buffer.put(item)
        if not request.triggered:
            worker.activity = Activity.STALLED_FOR_ROOM
            if self._recording:
                self._recorder.enter(
                    worker.name,
                    WorkerState.STALLED,
                    station=STATIONS[worker.station],
                    item=item,
                    waiting_for=WaitingFor.ROOM,
                )
        return request


def make_factory_env(**kwargs: Any) -> MultiActorEnv:
    """A factory env; keyword arguments go to :class:`~domains.env.MultiActorEnv`."""
    return MultiActorEnv(FactoryDomain, **kwargs)


if ENV_ID not in gym.registry:
    gym.register(ENV_ID, entry_point=make_factory_env)
