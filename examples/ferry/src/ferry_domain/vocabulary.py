"""Names and constants of the ferry crossing, shared by its simulation and its painter.

Cars arrive at a landing on the west bank; two ferries carry them to the east bank. Cars
are short-lived actors: each is an instance of the kind ``car`` (``car_0``, ``car_1``,
...), numbered in arrival order, from its arrival until the ferry carrying it lands.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from schemas.vocabulary import Actor, Attribute, ShortLivedKind, Vocabulary

DOMAIN_ID: Final = "ferry"
DOMAIN_VERSION: Final = 0
"""Raise it whenever a rule changes, so old models and tables are told apart."""
HORIZON: Final = 600.0
"""Longest episode in simulated seconds (an overflow ends it sooner)."""
LANDING_CAPACITY: Final = 12
"""Cars the landing holds; one more arriving overflows it and ends the episode."""
FERRY_CAPACITY: Final = 6
"""Cars a ferry carries at most."""
LOAD_SECONDS_PER_CAR: Final = 4.0
WAIT_SECONDS: Final = 10.0
"""How long a ferry that chose to wait stays docked before it decides again."""
REWARD_PER_CAR: Final = 0.01
REWARD_OVERFLOW: Final = -1.0

FERRIES: Final = ("ferry_a", "ferry_b")
"""The deciders, in action-space order."""
LANDING: Final = "landing"
DELIVERED: Final = "delivered"
"""Counter of cars landed on the east bank."""
FERRY_ACTIONS: Final = ("load and cross", "wait")


@dataclass(frozen=True)
class Duration:
    """A gamma-distributed duration, given by its mean and standard deviation (seconds)."""

    mean: float
    sd: float

    @property
    def shape(self) -> float:
        return (self.mean / self.sd) ** 2

    @property
    def scale(self) -> float:
        return self.sd**2 / self.mean


class Weather(StrEnum):
    """Values of the ``weather`` option."""

    CALM = "calm"
    WINDY = "windy"
    """Longer, less predictable crossings: the ferries cannot keep up for long."""


WEATHER_OPTION: Final = "weather"
ARRIVAL: Final = Duration(12.0, 6.0)
"""Time between two cars arriving (5 a minute)."""
CROSSING: Final = {Weather.CALM: Duration(60.0, 6.0), Weather.WINDY: Duration(70.0, 15.0)}
RETURN: Final = {Weather.CALM: Duration(45.0, 5.0), Weather.WINDY: Duration(50.0, 12.0)}
"""The empty ferry's way back to the landing."""


class FerryState(StrEnum):
    WAITING = "waiting"
    LOADING = "loading"
    CROSSING = "crossing"
    RETURNING = "returning"


class LandingState(StrEnum):
    QUEUE = "queue"
    """The cars waiting are the ``level`` attribute."""
    OVERFLOW = "overflow"
    """A car arrived at a full landing: the episode ends at this instant."""


class CounterState(StrEnum):
    COUNT = "count"


class CarState(StrEnum):
    QUEUED = "queued"
    ABOARD = "aboard"
    """From loading until its ferry lands on the east bank."""


class Attr(StrEnum):
    LEVEL = "level"
    COUNT = "count"
    CARS = "cars"
    FERRY = "ferry"


class Kpi(StrEnum):
    CARS_DELIVERED = "cars_delivered"
    CARS_WAITING = "cars_waiting"
    """Cars still at the landing when the episode ends."""


CAR: Final = ShortLivedKind(
    "car", prefix="car_", states=tuple(CarState), description="one car, in arrival order"
)

COLOURS: Final[dict[str, str]] = {
    FerryState.WAITING: "#d63031",
    FerryState.LOADING: "#e89117",
    FerryState.CROSSING: "#2ea043",
    FerryState.RETURNING: "#8957e5",
    LandingState.QUEUE: "#f4b728",
    LandingState.OVERFLOW: "#a40e26",
    CounterState.COUNT: "#57606a",
    CarState.QUEUED: "#bf8700",
    CarState.ABOARD: "#09a1aa",
}
"""One colour per state, shared by the ferry painter and the generic timeline."""

VOCABULARY: Final = Vocabulary(
    actors=(
        *(Actor(f, tuple(FerryState), kind="ferry", description="6 cars") for f in FERRIES),
        Actor(LANDING, tuple(LandingState), kind="landing", description="12 places"),
        Actor(DELIVERED, tuple(CounterState), kind="counter", description="cars delivered"),
    ),
    attributes=(
        Attribute(Attr.LEVEL, "int64", "cars waiting at the landing", quantity=True),
        Attribute(Attr.COUNT, "int64", "cars delivered so far", quantity=True),
        Attribute(Attr.CARS, "int64", "cars aboard a ferry", quantity=True),
        Attribute(Attr.FERRY, "string", "the ferry a car is aboard"),
    ),
    short_lived=(CAR,),
    colours=COLOURS,
)
