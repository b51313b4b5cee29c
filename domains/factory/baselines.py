"""A rule-based factory policy: a yardstick for trained models, not an optimum.

It reads the floor through :meth:`FactoryDomain.snapshot`, never the observation
vector, so it stays valid whatever the learner's observation looks like.
"""

from __future__ import annotations

from typing import Any, cast

import numpy as np
from numpy.typing import NDArray

from domains.env import MultiActorEnv
from domains.factory.simulation import WORK, FactoryDomain
from domains.factory.vocabulary import BUFFER_CAPACITY, STATIONS

_S0, _S1, _S2, _S3 = range(len(STATIONS))
_STAGE_TWO = (_S1, _S2)


class FactoryRulesPolicy:
    """Greedy rules: keep the station's work flowing, move to where the work is.

    Args:
        env: The factory env this policy plays (its floor is read at every decision).
        batch: Items worker at s0 stocks in buffer A before it helps downstream.
    """

    def __init__(self, env: MultiActorEnv, batch: int = 9) -> None:
        if batch not in range(1, BUFFER_CAPACITY + 1):
            raise ValueError(f"batch ({batch}) must be between 1 and {BUFFER_CAPACITY}")
        if not isinstance(env.domain, FactoryDomain):
            raise TypeError(f"FactoryRulesPolicy plays the factory, not {env.domain.domain_id!r}")
        self._env = env
        self._batch = batch

    def act(self, observation: NDArray[np.float32], mask: NDArray[np.bool_]) -> int:
        decider = self._env.decider
        if decider is None:
            return int(np.flatnonzero(mask)[0])
        local = self._choose(decider)
        action = self._env.global_action(decider, local)
        return action if mask[action] else int(np.flatnonzero(mask)[0])

    def describe(self) -> dict[str, Any]:
        return {"kind": "rules", "batch": self._batch}

    def _choose(self, decider: int) -> int:
        floor = cast(FactoryDomain, self._env.domain).snapshot()  # type checked in __init__
        here = floor.stations[decider]

        def free(station: int) -> bool:
            return floor.occupant[station] is None

        def go(station: int) -> int:
            return 1 + station

        free_stage_two = [s for s in _STAGE_TWO if free(s)]
        if here == _S3:
            if floor.buffer_b > 0:
                return WORK
            if floor.buffer_a > 0 and free_stage_two:
                return go(free_stage_two[0])
            return go(_S0) if free(_S0) else WORK
        if here in _STAGE_TWO:
            if floor.buffer_b > 0 and free(_S3) and (floor.buffer_a == 0 or floor.buffer_b >= 3):
                return go(_S3)
            if floor.buffer_a > 0 and floor.buffer_b < BUFFER_CAPACITY:
                return WORK
            if floor.buffer_b > 0 and free(_S3):
                return go(_S3)
            return go(_S0) if free(_S0) else WORK
        # at s0
        if floor.buffer_a < self._batch:
            return WORK
        if free_stage_two:
            return go(free_stage_two[0])
        return WORK if floor.buffer_a < BUFFER_CAPACITY else (go(_S3) if free(_S3) else WORK)
