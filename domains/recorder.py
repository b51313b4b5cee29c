"""Interval recording inside a simulation.

A domain tells its recorder, at the current simulated time, that an actor enters a
state. That opens an interval for the actor and closes the actor's previous one. At
episode end every open interval closes at the end time. The result is one episode
of the event table (see ``schemas/README.md``).

Training uses :class:`NullRecorder`, whose methods do nothing, so a domain can call
``recorder.enter(...)`` unconditionally at next to no cost.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from schemas.vocabulary import Declaration, Vocabulary

AttributeValue = int | float | str | bool | None

_PYTHON_TYPES: dict[str, tuple[type, ...]] = {
    "int64": (int,),
    "float64": (float, int),
    "string": (str,),
    "bool": (bool,),
}


class RecordingError(ValueError):
    """A domain emitted an event its vocabulary does not allow (a bug in the domain)."""


class Recorder(Protocol):
    """What a domain may call while it simulates."""

    def enter(self, actor: str, state: str, **attributes: AttributeValue) -> None:
        """`actor` enters `state` now, closing its previous interval."""

    def close(self, actor: str) -> None:
        """End `actor`'s open interval now, leaving it in no state."""


class NullRecorder:
    """Records nothing; used while training."""

    def enter(self, actor: str, state: str, **attributes: AttributeValue) -> None:
        pass

    def close(self, actor: str) -> None:
        pass


@dataclass
class RecordedEpisode:
    """One episode's intervals in column form, plus its summary."""

    actor: list[str]
    state: list[str]
    start: list[float]
    end: list[float]
    attributes: dict[str, list[AttributeValue]]
    end_time: float
    seed: int | None = None
    total_reward: float = 0.0
    kpis: dict[str, float] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.actor)


class EventRecorder:
    """Collects intervals in emission order, checking every event against the vocabulary."""

    def __init__(self, vocabulary: Vocabulary, clock: Callable[[], float]) -> None:
        self._vocabulary = vocabulary
        self._clock = clock
        self._actor: list[str] = []
        self._state: list[str] = []
        self._start: list[float] = []
        self._end: list[float] = []
        self._attributes: dict[str, list[AttributeValue]] = {
            name: [] for name in vocabulary.attribute_names
        }
        self._open_row: dict[str, int] = {}
        self._finished = False
        # Resolving an instance name (customer_17) takes a pattern match; each name is
        # resolved once.
        self._declarations: dict[str, Declaration] = {}

    def enter(self, actor: str, state: str, **attributes: AttributeValue) -> None:
        self._check(actor, state, attributes)
        now = self._clock()
        self.close(actor)
        self._open_row[actor] = len(self._actor)
        self._actor.append(actor)
        self._state.append(state)
        self._start.append(now)
        self._end.append(math.nan)
        for name, column in self._attributes.items():
            value = attributes.get(name)
            # StrEnum members are stored as their plain string value.
            column.append(str(value) if isinstance(value, str) else value)

    def close(self, actor: str) -> None:
        row = self._open_row.pop(actor, None)
        if row is not None:
            self._end[row] = self._clock()

    def finish(self, end_time: float) -> RecordedEpisode:
        """Close every open interval at `end_time` and hand over the columns."""
        if self._finished:
            raise RecordingError("finish() was called twice on one recorder")
        self._finished = True
        for row in self._open_row.values():
            self._end[row] = end_time
        self._open_row.clear()
        return RecordedEpisode(
            actor=self._actor,
            state=self._state,
            start=self._start,
            end=self._end,
            attributes=self._attributes,
            end_time=end_time,
        )

    def _check(self, actor: str, state: str, attributes: dict[str, AttributeValue]) -> None:
        if self._finished:
            raise RecordingError(f"event for {actor!r} after the episode was finished")
        try:
            declared = self._declarations.get(actor)
            if declared is None:
                declared = self._declarations[actor] = self._vocabulary.declaration(actor)
            for name, value in attributes.items():
                attribute = self._vocabulary.attribute(name)
                if value is not None and (
                    not isinstance(value, _PYTHON_TYPES[attribute.type])
                    or (isinstance(value, bool) and attribute.type != "bool")
                ):
                    raise RecordingError(
                        f"attribute {name!r} of {actor!r} is {value!r} "
                        f"({type(value).__name__}); its declared type is {attribute.type}"
                    )
        except KeyError as error:
            raise RecordingError(str(error.args[0])) from None
        if state not in declared.states:
            raise RecordingError(
                f"actor {actor!r} cannot enter state {state!r}; declared states: {declared.states}"
            )
