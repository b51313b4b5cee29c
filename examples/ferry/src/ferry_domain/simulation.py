"""The ferry crossing as a SimPy simulation: two ferries decide, cars arrive by themselves.

Cars arrive at the landing at random (a rule-driven SimPy process, not a decider). Each
ferry, docked at the landing, chooses ``load and cross`` (legal while a car waits: it
takes up to 6, loads, crosses, lands them, and comes back empty) or ``wait`` (10 s).
A car arriving at a full landing overflows it: -1, and the episode ends at once. Every
car landed earns +0.01. Every duration is a gamma draw from the env's seeded generator,
so the same seed and the same decisions give the same episode.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Final

import numpy as np
import simpy
from gymnasium import spaces
from numpy.typing import NDArray

from domains.domain import Domain, DomainOption, Process
from domains.recorder import NullRecorder, Recorder
from ferry_domain.vocabulary import (
    ARRIVAL,
    CAR,
    CROSSING,
    DELIVERED,
    DOMAIN_ID,
    DOMAIN_VERSION,
    FERRIES,
    FERRY_ACTIONS,
    FERRY_CAPACITY,
    HORIZON,
    LANDING,
    LANDING_CAPACITY,
    LOAD_SECONDS_PER_CAR,
    RETURN,
    REWARD_OVERFLOW,
    REWARD_PER_CAR,
    VOCABULARY,
    WAIT_SECONDS,
    WEATHER_OPTION,
    CarState,
    CounterState,
    Duration,
    FerryState,
    Kpi,
    LandingState,
    Weather,
)

LOAD_AND_CROSS: Final = 0
WAIT: Final = 1
_LONGEST_TRIP: Final = 300.0
"""Seconds a ferry's remaining trip is divided by in the observation (clipped to 1)."""


def _read_only(*flags: bool) -> NDArray[np.bool_]:
    mask = np.array(flags, dtype=bool)
    mask.flags.writeable = False  # shared by every decision: nobody may change it
    return mask


_MASK_CARS_WAITING = _read_only(True, True)
_MASK_LANDING_EMPTY = _read_only(False, True)


class FerryDomain(Domain):
    """Two ferries carry randomly arriving cars across a river.

    Args:
        weather: ``"calm"`` (the default) or ``"windy"`` (longer, less predictable trips).
    """

    domain_id: ClassVar[str] = DOMAIN_ID
    domain_version: ClassVar[int] = DOMAIN_VERSION
    vocabulary = VOCABULARY
    horizon: ClassVar[float] = HORIZON
    decider_names = FERRIES
    action_names = (FERRY_ACTIONS,) * len(FERRIES)
    options: ClassVar[tuple[DomainOption, ...]] = (
        DomainOption(WEATHER_OPTION, tuple(Weather), "calm or windy: how long crossings take"),
    )
    kpi_names: ClassVar[tuple[str, ...]] = tuple(Kpi)
    training_defaults: ClassVar[Mapping[str, Any]] = {
        # Episodes differ, so each evaluation plays 20 of them; the kept model is the one
        # that lands the most cars (an overflow ends the episode, so it lands fewer).
        "select_by": Kpi.CARS_DELIVERED.value,
        "eval_episodes": 20,
        "eval_freq": 4096,
        "n_envs": 4,
        "gamma": 0.99,
        "ent_coef": 0.05,
        "timesteps": 200_000,
    }
    # time, cars waiting, windy; per ferry: docked, trip left, cars aboard (all in [0, 1]).
    observation_space: ClassVar[spaces.Box] = spaces.Box(
        0.0, 1.0, shape=(3 + 3 * len(FERRIES),), dtype=np.float32
    )

    def __init__(self, weather: str = Weather.CALM) -> None:
        if weather not in tuple(Weather):
            raise ValueError(f"weather ({weather!r}) must be one of {', '.join(Weather)}")
        self.weather = Weather(weather)
        # Placeholders until start(), which receives the episode's own.
        self._sim = simpy.Environment()
        self._recorder: Recorder = NullRecorder()
        self._rng = np.random.default_rng(0)
        self._landing: deque[int] = deque()
        """Numbers of the cars waiting, first arrived first."""
        self._aboard: list[list[int]] = [[] for _ in FERRIES]
        self._busy_until = [0.0] * len(FERRIES)
        self._next_car = 0
        self._delivered = 0
        self._overflowed = False
        self._reward = 0.0

    # -- Domain API ----------------------------------------------------------------

    def start(
        self, sim: simpy.Environment, recorder: Recorder, rng: np.random.Generator
    ) -> Sequence[int]:
        self._sim, self._recorder, self._rng = sim, recorder, rng
        recorder.enter(LANDING, LandingState.QUEUE, level=0)
        recorder.enter(DELIVERED, CounterState.COUNT, count=0)
        sim.process(self._arrivals())  # cars are not deciders: they follow their own rule
        return range(len(FERRIES))  # both ferries decide at t = 0, ferry_a first

    def legal_actions(self, decider: int) -> NDArray[np.bool_]:
        return _MASK_CARS_WAITING if self._landing else _MASK_LANDING_EMPTY

    def commit(self, decider: int, action: int) -> None:
        if action == LOAD_AND_CROSS:
            # The cars drive onto the ramp at once, so the other ferry's next mask (maybe
            # at this very instant) no longer counts them.
            taken = min(FERRY_CAPACITY, len(self._landing))
            self._aboard[decider] = [self._landing.popleft() for _ in range(taken)]
            self._recorder.enter(LANDING, LandingState.QUEUE, level=len(self._landing))

    def perform(self, decider: int, action: int) -> Process:
        return self._cross(decider) if action == LOAD_AND_CROSS else self._wait(decider)

    def observe(self) -> NDArray[np.float32]:
        now = self._sim.now
        values = [now / HORIZON, len(self._landing) / LANDING_CAPACITY]
        values.append(1.0 if self.weather == Weather.WINDY else 0.0)
        for ferry, busy_until in enumerate(self._busy_until):
            left = max(busy_until - now, 0.0)
            values.append(1.0 if left == 0.0 else 0.0)
            values.append(min(left / _LONGEST_TRIP, 1.0))
            values.append(len(self._aboard[ferry]) / FERRY_CAPACITY)
        return np.clip(np.array(values, dtype=np.float32), 0.0, 1.0)

    def collect_reward(self) -> float:
        reward, self._reward = self._reward, 0.0
        return reward

    def kpis(self) -> dict[str, float]:
        return {
            Kpi.CARS_DELIVERED: float(self._delivered),
            Kpi.CARS_WAITING: float(len(self._landing)),
        }

    def episode_ended(self) -> bool:
        return self._overflowed

    # -- processes -----------------------------------------------------------------

    def _draw(self, duration: Duration) -> float:
        return float(self._rng.gamma(duration.shape, duration.scale))

    def _arrivals(self) -> Process:
        """Cars arrive one after another until one finds the landing full."""
        while True:
            yield self._sim.timeout(self._draw(ARRIVAL))
            if len(self._landing) >= LANDING_CAPACITY:
                self._overflowed = True
                self._reward += REWARD_OVERFLOW
                self._recorder.enter(LANDING, LandingState.OVERFLOW, level=len(self._landing))
                return
            car = self._next_car
            self._next_car += 1
            self._landing.append(car)
            self._recorder.enter(CAR.instance(car), CarState.QUEUED)
            self._recorder.enter(LANDING, LandingState.QUEUE, level=len(self._landing))

    def _wait(self, ferry: int) -> Process:
        self._recorder.enter(FERRIES[ferry], FerryState.WAITING, cars=0)
        self._busy_until[ferry] = self._sim.now + WAIT_SECONDS
        yield self._sim.timeout(WAIT_SECONDS)

    def _cross(self, ferry: int) -> Process:
        name, cars = FERRIES[ferry], self._aboard[ferry]
        loading = LOAD_SECONDS_PER_CAR * len(cars)
        crossing = self._draw(CROSSING[self.weather])
        back = self._draw(RETURN[self.weather])
        self._busy_until[ferry] = self._sim.now + loading + crossing + back
        self._recorder.enter(name, FerryState.LOADING, cars=len(cars))
        for car in cars:
            self._recorder.enter(CAR.instance(car), CarState.ABOARD, ferry=name)
        yield self._sim.timeout(loading)
        self._recorder.enter(name, FerryState.CROSSING, cars=len(cars))
        yield self._sim.timeout(crossing)
        for car in cars:
            self._recorder.close(CAR.instance(car))  # landed: the car leaves the picture
        self._delivered += len(cars)
        self._reward += REWARD_PER_CAR * len(cars)
        self._recorder.enter(DELIVERED, CounterState.COUNT, count=self._delivered)
        self._aboard[ferry] = []
        self._recorder.enter(name, FerryState.RETURNING, cars=0)
        yield self._sim.timeout(back)
