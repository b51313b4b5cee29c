"""The cashier's rules as a SimPy simulation (the rules: ``domains/cashier/README.md``).

Three lanes with queues of 10, a slow and a fast cashier, and a dispatcher who sends
each arriving customer to a lane. Every duration is a gamma draw from the env's seeded
generator, so the same seed and the same decisions give the same episode. A customer
sent to a full queue overruns the lane and ends the episode at that instant.

Two variants (the ``dispatcher`` option): ``controlled``, where the dispatcher is the
third decider, and ``automatic``, where it is a SimPy process of its own that sends
customers round-robin while only the cashiers decide.

Importing this module registers the Gymnasium id ``simreel/Cashier-v0``.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import IntEnum
from functools import partial
from pathlib import Path
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np
import simpy
from gymnasium import spaces
from numpy.typing import NDArray

from domains.cashier.vocabulary import (
    CASHIER_ACTIONS,
    CASHIER_START_LANES,
    CASHIERS,
    CUSTOMER,
    DISPATCH,
    DISPATCHER,
    DISPATCHER_ACTIONS,
    DISPATCHER_OPTION,
    DOMAIN_ID,
    DOMAIN_VERSION,
    HORIZON,
    LANES,
    LEAVE,
    QUEUE_CAPACITY,
    REWARD_OVERRUN,
    REWARD_SERVED,
    SERVED,
    SERVICE,
    VOCABULARY,
    WALK,
    CashierState,
    CounterState,
    CustomerState,
    DispatcherState,
    Dispatching,
    Duration,
    Kpi,
    LaneState,
)
from domains.domain import BaselineFactory, Domain, DomainOption, Process
from domains.env import MultiActorEnv
from domains.float32 import ObservationFromParts, float32_bytes, one_hot
from domains.recorder import NullRecorder, Recorder
from domains.stores import level_store

ENV_ID = f"simreel/Cashier-v{DOMAIN_VERSION}"
SERVE = 0
"""A cashier's local action 0; local action 1 + k walks to lane k's checkout."""

DurationDraw = Callable[[Duration], float]
"""Gives one duration; the default draws gamma(mean, sd) from the env's generator. Tests
inject fixed durations to compute schedules by hand."""


def draw_duration(rng: np.random.Generator, duration: Duration) -> float:
    """One gamma draw with the duration's mean and sd (shape (mean/sd)^2, scale sd^2/mean)."""
    return float(rng.gamma(duration.shape, duration.scale))


class Activity(IntEnum):
    """What a cashier is doing, as the observation encodes it."""

    DECIDING = 0
    SERVING = 1
    STALLED = 2
    WALKING = 3


@dataclass
class _Cashier:
    name: str
    index: int
    lane: int
    """The lane whose checkout the cashier stands at; while walking, the lane it left."""
    target: int
    """The lane whose checkout it occupies (stands at or walks to)."""
    activity: Activity = Activity.DECIDING
    busy_until: float = 0.0
    """When the current service or walk ends."""


@dataclass(frozen=True)
class CheckoutSnapshot:
    """The store at one instant, for rule-based policies and tests."""

    time: float
    queues: tuple[int, ...]
    """Customers waiting per lane."""
    occupant: tuple[int | None, ...]
    """Per lane, the cashier standing at or walking to its checkout."""
    cashier_lanes: tuple[int, ...]
    """Per cashier, the lane it occupies."""
    activities: tuple[Activity, ...]
    served: int
    """Customers whose service has ended."""


_OBS_PER_LANE = 1 + (QUEUE_CAPACITY + 1) + 1 + 1
_OBS_PER_CASHIER = len(LANES) + len(Activity) + 1
_OBS_SIZE = 2 + len(LANES) * _OBS_PER_LANE + len(CASHIERS) * _OBS_PER_CASHIER

# observe() and legal_actions() run at every decision: their constant parts are built
# once, here and in the caches below; observe() joins float32 byte strings
# (domains.float32).
_PACK_TWO = struct.Struct("2f").pack
_PACK_ONE = struct.Struct("f").pack


_CASHIER_CODES = tuple(
    tuple(
        float32_bytes(one_hot(lane, len(LANES)) + one_hot(activity, len(Activity)))
        for activity in Activity
    )
    for lane in range(len(LANES))
)
"""By lane and activity, a cashier's one-hot lane followed by its one-hot activity."""


def _lane_code(waiting: int, incoming: bool, next_automatic: bool) -> bytes:
    """One lane's part of the observation: its queue as a fraction and one-hot, whether
    the customer on its way goes there, and whether the next automatic one will."""
    return float32_bytes(
        [
            min(waiting / QUEUE_CAPACITY, 1.0),
            *one_hot(min(waiting, QUEUE_CAPACITY), QUEUE_CAPACITY + 1),
            1.0 if incoming else 0.0,
            1.0 if next_automatic else 0.0,
        ]
    )


_LANE_CODES = tuple(
    tuple(
        tuple(_lane_code(waiting, incoming, next_automatic) for next_automatic in (False, True))
        for incoming in (False, True)
    )
    for waiting in range(QUEUE_CAPACITY + 1)
)
"""_lane_code by queue length, then by the two flags. A longer queue than the capacity
reads as a full one, so this covers every queue length."""


_CASHIER_MASKS: dict[tuple[int | None, ...], NDArray[np.bool_]] = {}
"""_cashier_mask by the checkouts' occupants."""


def _cashier_mask(occupant: Sequence[int | None]) -> NDArray[np.bool_]:
    """A cashier's mask: serving is always legal, walking only to a free checkout. The
    arrays are shared and read-only, so a decision allocates none."""
    key = tuple(occupant)
    mask = _CASHIER_MASKS.get(key)
    if mask is None:
        mask = np.array([True, *(lane is None for lane in key)], dtype=bool)
        mask.flags.writeable = False
        _CASHIER_MASKS[key] = mask
    return mask


_IDLE_RNG = np.random.default_rng(0)
_IDLE_SIM = simpy.Environment()
"""What a domain holds before start(): nothing draws from or runs on them."""

_DISPATCHER_MASK = np.ones(len(DISPATCHER_ACTIONS), dtype=bool)
_DISPATCHER_MASK.flags.writeable = False
"""The dispatcher may send a customer to any lane."""


class CashierDomain(ObservationFromParts, Domain):
    """Three lanes, a slow and a fast cashier, a dispatcher; gamma durations; overruns end it.

    Args:
        dispatcher: ``"controlled"`` (the policy dispatches: three deciders) or
            ``"automatic"`` (round-robin dispatching: the two cashiers decide).
        durations: Replaces the gamma draws (tests use fixed durations); None draws
            from the generator the env hands to :meth:`start`.
    """

    domain_id: ClassVar[str] = DOMAIN_ID
    domain_version: ClassVar[int] = DOMAIN_VERSION
    vocabulary = VOCABULARY
    horizon: ClassVar[float] = HORIZON
    options: ClassVar[tuple[DomainOption, ...]] = (
        DomainOption(
            DISPATCHER_OPTION,
            tuple(Dispatching),
            "who sends customers to lanes: the policy (controlled) or round-robin (automatic)",
        ),
    )
    kpi_names: ClassVar[tuple[str, ...]] = tuple(Kpi)
    shipped_models: ClassVar[Path | None] = (
        Path(__file__).resolve().parents[2] / "data" / "models" / "cashier"
    )
    training_defaults: ClassVar[Mapping[str, Any]] = {
        # The original's MaskablePPO settings (which reproduce its reported figures here),
        # trained twice as long: discounting keeps the far-off overrun from drowning out
        # what a decision changes now.
        "timesteps": 1_200_000,
        "n_envs": 2,
        "n_steps": 2048,
        "batch_size": 64,
        "gamma": 0.99,
        "ent_coef": 0.0,
        # Episodes differ: the best model is the best mean reward over 200 validation
        # episodes (good to about ±0.08), evaluated every 50,000 steps.
        "eval_freq": 50_000,
        "eval_episodes": 200,
        "select_by": "reward",
    }
    observation_space: ClassVar[spaces.Box] = spaces.Box(
        0.0, 1.0, shape=(_OBS_SIZE,), dtype=np.float32
    )

    def __init__(
        self, dispatcher: str = Dispatching.CONTROLLED, *, durations: DurationDraw | None = None
    ) -> None:
        if dispatcher not in tuple(Dispatching):
            raise ValueError(f"dispatcher ({dispatcher!r}) must be one of {', '.join(Dispatching)}")
        self.dispatching = Dispatching(dispatcher)
        controlled = self.dispatching == Dispatching.CONTROLLED
        self.decider_names = (*CASHIERS, DISPATCHER) if controlled else CASHIERS
        self.action_names = (CASHIER_ACTIONS,) * len(CASHIERS) + (
            (DISPATCHER_ACTIONS,) if controlled else ()
        )
        self._dispatcher_decider = len(CASHIERS) if controlled else None
        self._fixed_durations = durations
        # Placeholders until start() (the env builds a domain per episode, and a generator
        # and a SimPy environment of its own would cost as much as a decision).
        self._rng = _IDLE_RNG
        self._sim = _IDLE_SIM
        self._recorder: Recorder = NullRecorder()
        self._cashiers: list[_Cashier] = []
        self._occupant: list[int | None] = [None] * len(LANES)
        self._queues: list[simpy.Store] = []
        self._recording = False
        """False with a NullRecorder: the processes then skip building recorder arguments."""
        self._next_customer = 0
        self._incoming: tuple[int, float] | None = None
        """The customer on its way: (lane, arrival time)."""
        self._served = 0
        self._walked_out = 0
        self._overrun: int | None = None
        """The lane that overran, once one has."""
        self._reward = 0.0

    # -- Domain API ----------------------------------------------------------------

    def start(
        self, sim: simpy.Environment, recorder: Recorder, rng: np.random.Generator
    ) -> Sequence[int]:
        self._sim, self._recorder, self._rng = sim, recorder, rng
        self._recording = not isinstance(recorder, NullRecorder)
        self._queues = [level_store(sim, lane, LaneState.QUEUE, recorder) for lane in LANES]
        recorder.enter(SERVED, CounterState.COUNT, count=0)
        self._cashiers = [
            _Cashier(name, index, lane=lane, target=lane)
            for index, (name, lane) in enumerate(zip(CASHIERS, CASHIER_START_LANES, strict=True))
        ]
        self._occupant = [None] * len(LANES)
        for cashier in self._cashiers:
            self._occupant[cashier.lane] = cashier.index
        if self._dispatcher_decider is None:
            sim.process(self._dispatch_round_robin())
        return range(len(self.decider_names))

    def legal_actions(self, decider: int) -> NDArray[np.bool_]:
        """A shared read-only array."""
        if decider == self._dispatcher_decider:
            return _DISPATCHER_MASK
        return _cashier_mask(self._occupant)

    def commit(self, decider: int, action: int) -> None:
        if decider != self._dispatcher_decider and action != SERVE:
            # The walker frees its checkout and claims the destination now, so the
            # other cashier's very next mask already sees both.
            cashier = self._cashiers[decider]
            self._occupant[cashier.target] = None
            cashier.target = action - 1
            self._occupant[cashier.target] = decider

    def perform(self, decider: int, action: int) -> Process:
        if decider == self._dispatcher_decider:
            return self._dispatch(action)
        cashier = self._cashiers[decider]
        if action == SERVE:
            return self._serve(cashier)
        return self._walk(cashier, action - 1)

    def _observation_parts(self) -> list[bytes]:
        """The observation as float32 byte strings."""
        # From tables and caches (see _LANE_CODES); clipping is written as
        # conditional expressions, the same values as min() and max().
        now = self._sim.now
        incoming_lane, arrival = self._incoming if self._incoming is not None else (None, now)
        until_arrival = arrival - now
        until_arrival = (0.0 if until_arrival < 0.0 else until_arrival) / 6.0
        parts = [_PACK_TWO(now / HORIZON, 1.0 if until_arrival > 1.0 else until_arrival)]
        # In the automatic variant the next customer's lane is known in advance.
        next_automatic = (
            self._next_customer % len(LANES) if self._dispatcher_decider is None else None
        )
        for lane, queue in enumerate(self._queues):
            waiting = min(len(queue.items), QUEUE_CAPACITY)
            parts.append(_LANE_CODES[waiting][lane == incoming_lane][lane == next_automatic])
        for cashier in self._cashiers:
            busy = cashier.busy_until - now
            remaining = (0.0 if busy < 0.0 else busy) / 10.0  # min(max(busy, 0) / 10, 1)
            parts.append(_CASHIER_CODES[cashier.target][cashier.activity])
            parts.append(_PACK_ONE(1.0 if remaining > 1.0 else remaining))
        return parts

    def collect_reward(self) -> float:
        reward, self._reward = self._reward, 0.0
        return reward

    def kpis(self) -> dict[str, float]:
        return {
            Kpi.CUSTOMERS_SERVED: float(self._served),
            Kpi.SURVIVED: 0.0 if self._overrun is not None else 1.0,
        }

    def episode_ended(self) -> bool:
        return self._overrun is not None

    @classmethod
    def baselines(cls) -> Mapping[str, BaselineFactory]:
        # Imported here: the baselines module imports this one.
        from domains.cashier.baselines import CashierRulesPolicy

        return {"rules": CashierRulesPolicy}

    @property
    def dispatcher_decider(self) -> int | None:
        """The dispatcher's decider index (None when it dispatches automatically)."""
        return self._dispatcher_decider

    def snapshot(self) -> CheckoutSnapshot:
        """A read-only view of the store now, for rule-based policies and tests."""
        return CheckoutSnapshot(
            time=float(self._sim.now),
            queues=tuple(len(queue.items) for queue in self._queues),
            occupant=tuple(self._occupant),
            cashier_lanes=tuple(cashier.target for cashier in self._cashiers),
            activities=tuple(cashier.activity for cashier in self._cashiers),
            served=self._served,
        )

    # -- processes -----------------------------------------------------------------

    def _draw(self, duration: Duration) -> float:
        if self._fixed_durations is not None:
            return float(self._fixed_durations(duration))
        return draw_duration(self._rng, duration)

    def _dispatch_round_robin(self) -> Process:
        """The automatic dispatcher: lane 0, 1, 2, 0, ... until a lane overruns."""
        while self._overrun is None:
            yield from self._dispatch(self._next_customer % len(LANES))

    def _dispatch(self, lane: int) -> Process:
        """The next customer walks to `lane` and joins its queue, or overruns a full one."""
        number = self._next_customer
        self._next_customer += 1
        if self._recording:
            self._recorder.enter(
                DISPATCHER, DispatcherState.DISPATCHING, lane=LANES[lane], customer=number
            )
            self._recorder.enter(
                CUSTOMER.instance(number), CustomerState.ARRIVING, lane=LANES[lane]
            )
        duration = self._draw(DISPATCH)
        self._incoming = (lane, self._sim.now + duration)
        yield self._sim.timeout(duration)
        self._incoming = None
        queue = self._queues[lane]
        if len(queue.items) >= QUEUE_CAPACITY:
            self._overrun = lane
            self._reward += REWARD_OVERRUN
            if self._recording:
                self._recorder.enter(LANES[lane], LaneState.OVERRUN, level=len(queue.items))
            return
        if self._recording:
            self._recorder.enter(CUSTOMER.instance(number), CustomerState.QUEUED, lane=LANES[lane])
        yield queue.put(number)

    def _serve(self, cashier: _Cashier) -> Process:
        lane = cashier.lane
        request = self._queues[lane].get()
        if not request.triggered:
            cashier.activity = Activity.STALLED
            if self._recording:
                self._recorder.enter(cashier.name, CashierState.STALLED, lane=LANES[lane])
        number: int = yield request
        duration = self._draw(SERVICE[cashier.index])
        if self._recording:
            self._recorder.enter(
                cashier.name, CashierState.SERVING, lane=LANES[lane], customer=number
            )
            self._recorder.enter(
                CUSTOMER.instance(number),
                CustomerState.BEING_SERVED,
                lane=LANES[lane],
                cashier=cashier.name,
            )
        cashier.activity, cashier.busy_until = Activity.SERVING, self._sim.now + duration
        yield self._sim.timeout(duration)
        self._served += 1
        self._reward += REWARD_SERVED
        self._sim.process(self._leave(number, lane))
        cashier.activity = Activity.DECIDING

    def _leave(self, number: int, lane: int) -> Process:
        """A served customer walks out; only then does the served counter rise."""
        if self._recording:
            self._recorder.enter(CUSTOMER.instance(number), CustomerState.LEAVING, lane=LANES[lane])
        yield self._sim.timeout(self._draw(LEAVE))
        self._walked_out += 1
        if self._recording:
            self._recorder.close(CUSTOMER.instance(number))
            self._recorder.enter(SERVED, CounterState.COUNT, count=self._walked_out)

    def _walk(self, cashier: _Cashier, destination: int) -> Process:
        if self._recording:
            self._recorder.enter(
                cashier.name,
                CashierState.WALKING,
                lane=LANES[cashier.lane],
                destination=LANES[destination],
            )
        duration = self._draw(WALK)
        cashier.activity, cashier.busy_until = Activity.WALKING, self._sim.now + duration
        yield self._sim.timeout(duration)
        cashier.lane = destination
        cashier.activity = Activity.DECIDING


def make_cashier_env(dispatcher: str = Dispatching.CONTROLLED, **kwargs: Any) -> MultiActorEnv:
    """A cashier env of the given variant; other keyword arguments go to
    :class:`~domains.env.MultiActorEnv`."""
    return MultiActorEnv(partial(CashierDomain, dispatcher), **kwargs)


if ENV_ID not in gym.registry:
    gym.register(ENV_ID, entry_point=make_cashier_env)
