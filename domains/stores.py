"""SimPy stores that record their level, for domains with buffers and queues."""

from __future__ import annotations

import math

import simpy

from domains.recorder import NullRecorder, Recorder


def level_store(
    sim: simpy.Environment,
    actor: str,
    state: str,
    recorder: Recorder,
    capacity: float = math.inf,
) -> simpy.Store:
    """A :class:`LevelStore`, or a plain ``simpy.Store`` when `recorder` records nothing.

    Both behave the same in the simulation; the plain store saves the level bookkeeping
    around every put and get while training. Arguments as for :class:`LevelStore`.
    """
    if isinstance(recorder, NullRecorder):
        return simpy.Store(sim, capacity=capacity)
    return LevelStore(sim, actor, state, recorder, capacity)


class LevelStore(simpy.Store):
    """A FIFO store that records ``actor`` in ``state`` with attribute ``level`` (the number
    of items held) at creation and whenever a put or get changes it.

    Args:
        sim: The episode's SimPy environment.
        actor: The named actor (a buffer, a lane) whose intervals carry the level.
        state: Its state while it holds items (e.g. ``"level"``, ``"queue"``).
        recorder: The episode's recorder.
        capacity: Items it holds at most; a put waits while it is full.
    """

    def __init__(
        self,
        sim: simpy.Environment,
        actor: str,
        state: str,
        recorder: Recorder,
        capacity: float = math.inf,
    ) -> None:
        super().__init__(sim, capacity=capacity)
        self._actor = actor
        self._state = state
        self._recorder = recorder
        recorder.enter(actor, state, level=0)

    def _do_put(self, event: simpy.resources.store.StorePut) -> None:
        before = len(self.items)
        super()._do_put(event)
        self._record_change(before)

    def _do_get(self, event: simpy.resources.store.StoreGet) -> None:
        before = len(self.items)
        super()._do_get(event)
        self._record_change(before)

    def _record_change(self, before: int) -> None:
        # A put into a full store or a get from an empty one only queues the request.
        if len(self.items) != before:
            self._recorder.enter(self._actor, self._state, level=len(self.items))
