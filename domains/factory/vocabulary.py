"""Names and constants of the factory, shared by its simulation and its painter."""

from __future__ import annotations

from enum import StrEnum
from typing import Final

from schemas.vocabulary import Actor, Attribute, Vocabulary

DOMAIN_ID: Final = "factory"
DOMAIN_VERSION: Final = 0
"""Matches the Gymnasium id suffix (Factory-v0); raise both when a rule changes."""
HORIZON: Final = 300.0
"""Episode length in simulated seconds."""
BUFFER_CAPACITY: Final = 10

STATIONS: Final = ("s0", "s1", "s2", "s3")
"""s0 is stage 1; s1 and s2 are the two work places of stage 2; s3 is stage 3."""
WORKERS: Final = ("worker0", "worker1")
WORKER_START_STATIONS: Final = (0, 1)
BUFFER_A: Final = "buffer_a"
"""Between stage 1 (s0) and stage 2 (s1, s2)."""
BUFFER_B: Final = "buffer_b"
"""Between stage 2 (s1, s2) and stage 3 (s3)."""
FINISHED: Final = "finished"

WORK_SECONDS: Final = (5.0, 10.0, 10.0, 5.0)
"""Work time per station."""
_WALK: Final = {(0, 1): 4.0, (0, 2): 4.0, (0, 3): 8.0, (1, 2): 1.0, (1, 3): 4.0, (2, 3): 4.0}
WALK_SECONDS: Final = tuple(
    tuple(0.0 if a == b else _WALK[(min(a, b), max(a, b))] for b in range(4)) for a in range(4)
)
"""Walking time between stations, symmetric: ``WALK_SECONDS[a][b]``."""

REWARD_BUFFER_A: Final = 0.01
REWARD_BUFFER_B: Final = 0.01
REWARD_FINISHED: Final = 0.98


class WorkerState(StrEnum):
    WORKING = "working"
    STALLED = "stalled"
    """Waiting for an item to take or for room to put one; cannot be cancelled."""
    WALKING = "walking"


class BufferState(StrEnum):
    LEVEL = "level"


class CounterState(StrEnum):
    COUNT = "count"


class WaitingFor(StrEnum):
    ITEM = "item"
    ROOM = "room"


class Attr(StrEnum):
    """Attribute names (columns of the event table)."""

    STATION = "station"
    DESTINATION = "destination"
    ITEM = "item"
    WAITING_FOR = "waiting_for"
    LEVEL = "level"
    COUNT = "count"


COLOURS: Final[dict[str, str]] = {
    WorkerState.WORKING: "#2ea043",
    WorkerState.STALLED: "#d63031",
    WorkerState.WALKING: "#1f6feb",
    BufferState.LEVEL: "#f4b728",
    CounterState.COUNT: "#57606a",
}
"""One colour per state, shared by the factory painter and the generic timeline."""

ACTION_NAMES: Final = ("work", *(f"go to {station}" for station in STATIONS))
"""Local actions of each worker: 0 = work, 1 + k = go to station k."""

VOCABULARY: Final = Vocabulary(
    actors=(
        *(
            Actor(worker, tuple(WorkerState), kind="worker", description="a worker, RL-controlled")
            for worker in WORKERS
        ),
        Actor(BUFFER_A, tuple(BufferState), kind="buffer", description="between s0 and s1/s2"),
        Actor(BUFFER_B, tuple(BufferState), kind="buffer", description="between s1/s2 and s3"),
        Actor(FINISHED, tuple(CounterState), kind="counter", description="items finished at s3"),
    ),
    attributes=(
        Attribute(Attr.STATION, "string", "station the worker is at (walking: left from)"),
        Attribute(Attr.DESTINATION, "string", "station a walking worker heads for"),
        Attribute(Attr.ITEM, "int64", "id of the item being worked on (numbered from 0 at s0)"),
        Attribute(Attr.WAITING_FOR, "string", "what a stalled worker waits for: item or room"),
        Attribute(
            Attr.LEVEL, "int64", f"items in the buffer (0..{BUFFER_CAPACITY})", quantity=True
        ),
        Attribute(Attr.COUNT, "int64", "items finished so far", quantity=True),
    ),
    colours=COLOURS,
)
