"""The cashier's hand-written rule: a yardstick for trained models, for either variant.

Dispatching: send each customer to the staffed lane with the lower (queue + 1) x the
mean service time of its cashier; when that queue already holds 9 or more, to the
emptiest of all three lanes. A cashier whose queue is empty walks to the fullest free
lane that has customers; otherwise it serves. Ties go to the lowest lane number.

It reads the store through :meth:`CashierDomain.snapshot`, never the observation
vector, so it stays valid whatever the learner's observation looks like.
"""

from __future__ import annotations

from typing import Any, Final, cast

import numpy as np
from numpy.typing import NDArray

from domains.cashier.simulation import SERVE, CashierDomain, CheckoutSnapshot
from domains.cashier.vocabulary import LANES, SERVICE
from domains.env import MultiActorEnv

NEARLY_FULL: Final = 9
"""A queue this long is avoided: the customer goes to the emptiest lane instead."""


class CashierRulesPolicy:
    """The rule of the cashier's reference figures (about 0.33 mean reward when dispatching).

    Args:
        env: The cashier env this policy plays (its store is read at every decision).
    """

    def __init__(self, env: MultiActorEnv) -> None:
        if not isinstance(env.domain, CashierDomain):
            raise TypeError(f"CashierRulesPolicy plays the cashier, not {env.domain.domain_id!r}")
        self._env = env

    def act(self, observation: NDArray[np.float32], mask: NDArray[np.bool_]) -> int:
        decider = self._env.decider
        if decider is None:
            return int(np.flatnonzero(mask)[0])
        domain = cast(CashierDomain, self._env.domain)  # type checked in __init__
        store = domain.snapshot()
        if decider == domain.dispatcher_decider:
            local = dispatch_lane(store)
        else:
            local = cashier_action(store, decider)
        action = self._env.global_action(decider, local)
        return action if mask[action] else int(np.flatnonzero(mask)[0])

    def describe(self) -> dict[str, Any]:
        return {"kind": "rules"}


def dispatch_lane(store: CheckoutSnapshot) -> int:
    """The lane the rule sends the next customer to."""
    staffed = [lane for lane in range(len(LANES)) if store.occupant[lane] is not None]

    def expected_wait(lane: int) -> float:
        cashier = store.occupant[lane]
        assert cashier is not None  # noqa: S101  (staffed lanes have an occupant by definition)
        return (store.queues[lane] + 1) * SERVICE[cashier].mean

    best = min(staffed, key=lambda lane: (expected_wait(lane), lane))
    if store.queues[best] >= NEARLY_FULL:
        return min(range(len(LANES)), key=lambda lane: (store.queues[lane], lane))
    return best


def cashier_action(store: CheckoutSnapshot, cashier: int) -> int:
    """The rule's local action for `cashier`: serve, or walk to a fuller free lane."""
    if store.queues[store.cashier_lanes[cashier]] > 0:
        return SERVE
    free_with_customers = [
        lane
        for lane in range(len(LANES))
        if store.occupant[lane] is None and store.queues[lane] > 0
    ]
    if not free_with_customers:
        return SERVE
    fullest = max(free_with_customers, key=lambda lane: (store.queues[lane], -lane))
    return 1 + fullest
