"""Names and constants of the cashier, shared by its simulation and its painter.

The rules are in ``domains/cashier/README.md``. Customers are short-lived actors: each
is an instance of the kind ``customer`` (``customer_0``, ``customer_1``, ...), numbered
in the order the dispatcher sends them, and lives from its walk to a lane until it has
walked out after being served.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from schemas.vocabulary import Actor, Attribute, ShortLivedKind, Vocabulary

DOMAIN_ID: Final = "cashier"
DOMAIN_VERSION: Final = 0
"""Matches the Gymnasium id suffix (Cashier-v0); raise both when a rule changes."""
HORIZON: Final = 300.0
"""Longest episode in simulated seconds (an overrun ends it sooner)."""
QUEUE_CAPACITY: Final = 10
"""Customers a lane's queue holds; one more sent there overruns the lane."""

LANES: Final = ("lane0", "lane1", "lane2")
CASHIERS: Final = ("cashier_slow", "cashier_fast")
"""In action-space order; the dispatcher, when it decides, comes after them."""
CASHIER_START_LANES: Final = (0, 1)
DISPATCHER: Final = "dispatcher"
SERVED: Final = "served"
"""Counter of customers who have walked out after being served."""


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


DISPATCH: Final = Duration(2.0, 1.0)
"""Time between customers: the dispatched customer walks to its lane meanwhile."""
SERVICE: Final = (Duration(7.0, 2.0), Duration(4.0, 1.0))
"""Serving one customer, per cashier (slow, fast)."""
WALK: Final = Duration(2.0, 1.0)
"""A cashier walking to another lane's checkout."""
LEAVE: Final = Duration(3.0, 0.5)
"""A served customer walking out (it counts as served when it is out)."""

REWARD_SERVED: Final = 0.01
"""For each customer whose service ends."""
REWARD_OVERRUN: Final = -1.0
"""When a lane overruns (the episode ends)."""

DISPATCHER_OPTION: Final = "dispatcher"
"""The domain option choosing who sends customers to lanes."""


class Dispatching(StrEnum):
    """Values of the ``dispatcher`` option."""

    CONTROLLED = "controlled"
    """The policy decides each customer's lane (the default)."""
    AUTOMATIC = "automatic"
    """Round-robin: lane 0, 1, 2, 0, ...; only the cashiers decide."""


class CashierState(StrEnum):
    SERVING = "serving"
    STALLED = "stalled"
    """Chose to serve, waits for a customer in its queue; cannot be cancelled."""
    WALKING = "walking"


class DispatcherState(StrEnum):
    DISPATCHING = "dispatching"
    """A customer is on its way to the lane it was sent to."""


class LaneState(StrEnum):
    QUEUE = "queue"
    """The queue's length is the ``level`` attribute."""
    OVERRUN = "overrun"
    """A customer was sent to a full queue: the episode ends at this instant."""


class CounterState(StrEnum):
    COUNT = "count"


class CustomerState(StrEnum):
    ARRIVING = "arriving"
    """Walking from the dispatcher to its lane."""
    QUEUED = "queued"
    BEING_SERVED = "being_served"
    LEAVING = "leaving"
    """Served, walking out to the exit."""


class Attr(StrEnum):
    """Attribute names (columns of the event table)."""

    LANE = "lane"
    DESTINATION = "destination"
    CUSTOMER = "customer"
    CASHIER = "cashier"
    LEVEL = "level"
    COUNT = "count"


class Kpi(StrEnum):
    CUSTOMERS_SERVED = "customers_served"
    """Customers whose service ended (each earned +0.01)."""
    SURVIVED = "survived"
    """1 if no lane overran before the horizon, else 0."""


CASHIER_ACTIONS: Final = ("serve", *(f"go to {lane}" for lane in LANES))
"""Local actions of a cashier: 0 = serve, 1 + k = go to lane k."""
DISPATCHER_ACTIONS: Final = tuple(f"send to {lane}" for lane in LANES)
"""Local actions of the dispatcher: k = send the next customer to lane k."""

CUSTOMER: Final = ShortLivedKind(
    "customer",
    prefix="customer_",
    states=tuple(CustomerState),
    description="one customer, numbered in dispatch order, from its walk in to its walk out",
)

COLOURS: Final[dict[str, str]] = {
    CashierState.SERVING: "#2ea043",
    CashierState.STALLED: "#d63031",
    CashierState.WALKING: "#1f6feb",
    DispatcherState.DISPATCHING: "#8957e5",
    LaneState.QUEUE: "#f4b728",
    LaneState.OVERRUN: "#a40e26",
    CounterState.COUNT: "#57606a",
    CustomerState.ARRIVING: "#bf8700",
    CustomerState.QUEUED: "#e89117",
    CustomerState.BEING_SERVED: "#09a1aa",
    CustomerState.LEAVING: "#bf3989",
}
"""One colour per state, shared by the cashier painter and the generic timeline."""

VOCABULARY: Final = Vocabulary(
    actors=(
        Actor(CASHIERS[0], tuple(CashierState), kind="cashier", description="slow cashier (7 s)"),
        Actor(CASHIERS[1], tuple(CashierState), kind="cashier", description="fast cashier (4 s)"),
        Actor(
            DISPATCHER,
            tuple(DispatcherState),
            kind="dispatcher",
            description="sends every arriving customer to a lane",
        ),
        *(
            Actor(lane, tuple(LaneState), kind="lane", description=f"queue of at most 10, {lane}")
            for lane in LANES
        ),
        Actor(SERVED, tuple(CounterState), kind="counter", description="customers served"),
    ),
    attributes=(
        Attribute(Attr.LANE, "string", "lane of the actor (walking cashier: left from)"),
        Attribute(Attr.DESTINATION, "string", "lane a walking cashier heads for"),
        Attribute(Attr.CUSTOMER, "int64", "number of the customer served or dispatched"),
        Attribute(Attr.CASHIER, "string", "cashier serving the customer"),
        Attribute(Attr.LEVEL, "int64", "customers waiting in the lane's queue", quantity=True),
        Attribute(Attr.COUNT, "int64", "customers served so far", quantity=True),
    ),
    short_lived=(CUSTOMER,),
    colours=COLOURS,
)
