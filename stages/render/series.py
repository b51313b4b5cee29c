"""A quantity over simulated time: one actor's level or count, per episode, as a step function.

A KPI in the metadata is one number at the end of an episode; how it got there is in
the rows. A counter (``finished``, ``served``) or a level (a buffer, a queue) carries
its value in a quantity attribute (``quantity: true`` in the vocabulary), one value
per interval, so its value at ``t`` is the value of the last interval that started at
or before ``t``. Before the first such interval it has no value (NaN); after the
episode's end it holds its last value, as a side-by-side movie holds the last frame of
the episode that ended first.

Read from the table alone (no simulation code), with whole-column operations: a table
of thousands of episodes is split once, not filtered once per episode.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

from schemas.errors import ConfigError
from schemas.events import EventTable
from stages.inspect.cells import listed
from stages.terminal import printable

SEPARATOR = "."
"""Between an actor and its attribute in a subject (``finished.count``); names are
snake_case, so it cannot be part of either."""


@dataclass(frozen=True)
class Quantity:
    """What is followed over time: a named actor and one of its quantity attributes."""

    actor: str
    """The named actor whose rows carry the value (``finished``)."""
    attribute: str
    """The quantity attribute holding it (``count``)."""

    @property
    def name(self) -> str:
        """``finished.count``: how ``--plot`` names it."""
        return f"{self.actor}{SEPARATOR}{self.attribute}"


@dataclass(frozen=True)
class StepSeries:
    """One episode's values of a quantity: each holds from its time to the next one's."""

    episode: int
    times: NDArray[np.float64]
    """When each value started (ascending)."""
    values: NDArray[np.float64]
    end_time: float
    """The episode's end: the value after it is the last one, held."""

    def at(self, times: NDArray[np.float64]) -> NDArray[np.float64]:
        """The value at each of `times` (NaN before the first value)."""
        index = np.searchsorted(self.times, times, side="right") - 1
        found = self.values[np.clip(index, 0, None)] if len(self.values) else np.zeros(len(times))
        return np.where(index >= 0, found, np.nan)

    def value_at(self, time: float) -> float:
        """The value at `time` (NaN before the first value)."""
        index = int(np.searchsorted(self.times, time, side="right")) - 1
        return float(self.values[index]) if index >= 0 else math.nan


def plottable(table: EventTable) -> list[Quantity]:
    """Every (named actor, quantity attribute) pair of which the table holds values, in
    vocabulary order: what ``--plot`` accepts."""
    vocabulary = table.metadata.vocabulary
    rows = table.table
    found: list[Quantity] = []
    for attribute in vocabulary.quantities:
        if attribute not in rows.column_names:
            continue
        carriers = pc.unique(rows.filter(pc.is_valid(rows.column(attribute))).column("actor"))
        present = set(carriers.to_pylist())
        found += [
            Quantity(actor, attribute) for actor in vocabulary.actor_names if actor in present
        ]
    order = {actor: k for k, actor in enumerate(vocabulary.actor_names)}
    return sorted(found, key=lambda q: order[q.actor])


def resolve(table: EventTable, subject: str) -> Quantity:
    """The quantity `subject` names: ``actor.attribute``, or an actor alone (its first
    quantity attribute with values). ConfigError lists what the table can plot."""
    choices = plottable(table)
    actor, _, attribute = subject.partition(SEPARATOR)
    for quantity in choices:
        if quantity.actor == actor and attribute in ("", quantity.attribute):
            return quantity
    where = printable(str(table.path or "the table"))
    names = listed((q.name for q in choices), 20) or "none (it declares no quantity attributes)"
    raise ConfigError(
        f"--plot {printable(subject)!r}: {where} holds no values of that quantity over time; "
        f"expected an actor or actor.attribute whose rows carry a quantity attribute, "
        f"choose one of: {names}"
    )


def counter(table: EventTable) -> Quantity | None:
    """The first actor of kind ``counter`` (the vocabulary's mark for "counts something
    up") that carries a quantity: what a side-by-side movie follows live. None if none."""
    counters = {actor.name for actor in table.metadata.vocabulary.actors if actor.kind == "counter"}
    return next((q for q in plottable(table) if q.actor in counters), None)


def series(table: EventTable, quantity: Quantity) -> list[StepSeries]:
    """The quantity's step function in every episode of `table`, in episode order (an
    episode in which the actor never carries a value gets an empty one)."""
    rows = table.table
    mine = rows.filter(
        pc.and_(
            pc.equal(rows.column("actor"), quantity.actor),
            pc.is_valid(rows.column(quantity.attribute)),
        )
    )
    episodes = mine.column("episode").to_numpy()
    starts = mine.column("start").to_numpy().astype(np.float64)
    values = _floats(mine.column(quantity.attribute))
    # Rows are sorted by (episode, start, seq): each episode is one contiguous run.
    numbers, first = np.unique(episodes, return_index=True)
    bounds = dict(zip(numbers.tolist(), [*first.tolist()[1:], len(episodes)], strict=True))
    begins = dict(zip(numbers.tolist(), first.tolist(), strict=True))
    found = []
    for summary in table.metadata.episodes:
        low = begins.get(summary.episode, 0)
        high = bounds.get(summary.episode, 0)
        found.append(
            StepSeries(
                episode=summary.episode,
                times=starts[low:high],
                values=values[low:high],
                end_time=summary.end_time,
            )
        )
    return found


def _floats(column: pa.ChunkedArray) -> NDArray[np.float64]:
    return np.asarray(column.to_numpy(zero_copy_only=False), dtype=np.float64)
