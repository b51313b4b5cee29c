"""Which lanes the timeline painter draws: one per actor while they fit, else fewer.

A frame keeps the size asked for and every label stays readable, so the chart holds
a bounded number of lane units, whatever a table declares (a vocabulary of 100,000
actors is a 9 MB file anyone can write). :func:`plan_lanes` fills them in three steps,
taking the first that fits:

1. **every actor**: a lane per named actor (one unit) and per short-lived kind (two
   units: a stacked chart of how many instances are in each state);
2. **by kind**: named actors that share a ``kind`` (schemas/README.md, section 4) share
   a lane that counts them per state, as a short-lived kind's lane counts its
   instances; an actor alone in its kind keeps its own lane;
3. **the busiest**: the lanes of step 2 with the most intervals, in their display
   order, and one last lane counting everything else per state.

The plan's :attr:`LanePlan.note` says which step was taken, for the legend, so a
viewer knows that a lane stands for many actors.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from schemas.vocabulary import ShortLivedKind, Vocabulary

COUNT_UNITS: Final = 2
"""A lane that counts actors per state is this many units high: it holds a stacked chart."""


@dataclass(frozen=True)
class Lane:
    """A horizontal band of the chart: one named actor's bars, or counts of many actors."""

    name: str
    """The label drawn beside the lane, and the key of :meth:`TimelinePainter.lane_rect`:
    the actor's name, a short-lived kind's name, ``press (334)`` for a kind of named
    actors, ``other (982)`` for the busiest plan's last lane."""
    units: int
    actor: str | None = None
    """The named actor whose intervals are the lane's bars (None: a lane of counts)."""
    members: tuple[str, ...] = ()
    """Named actors the lane counts per state."""
    kinds: tuple[ShortLivedKind, ...] = ()
    """Short-lived kinds whose instances the lane counts per state."""

    @property
    def counts(self) -> bool:
        """Whether the lane is a stacked chart of counts (not one actor's bars)."""
        return self.actor is None

    def states(self, vocabulary: Vocabulary) -> tuple[str, ...]:
        """The states the lane's actors may be in, in declaration order, each once."""
        if self.actor is not None:
            return vocabulary.actor(self.actor).states
        names: dict[str, None] = {}
        for member in self.members:
            names.update(dict.fromkeys(vocabulary.actor(member).states))
        for kind in self.kinds:
            names.update(dict.fromkeys(kind.states))
        return tuple(names)


@dataclass(frozen=True)
class LanePlan:
    """The lanes, top to bottom, and how they were chosen."""

    lanes: tuple[Lane, ...]
    note: str | None = None
    """One line for the legend when a lane stands for more than one named actor."""

    @property
    def units(self) -> int:
        return sum(lane.units for lane in self.lanes)


def _units(lanes: list[Lane]) -> int:
    return sum(lane.units for lane in lanes)


def every_actor(vocabulary: Vocabulary) -> list[Lane]:
    """Step 1: a lane per named actor and one per short-lived kind."""
    lanes = [Lane(actor.name, 1, actor=actor.name) for actor in vocabulary.actors]
    lanes += [Lane(kind.kind, COUNT_UNITS, kinds=(kind,)) for kind in vocabulary.short_lived]
    return lanes


def by_kind(vocabulary: Vocabulary) -> list[Lane]:
    """Step 2: named actors of one kind in one lane of counts, at the place of the first."""
    members: dict[str, list[str]] = {}
    for actor in vocabulary.actors:
        members.setdefault(actor.kind, []).append(actor.name)
    lanes = [
        Lane(names[0], 1, actor=names[0])
        if len(names) == 1
        else Lane(f"{kind} ({len(names)})", COUNT_UNITS, members=tuple(names))
        for kind, names in members.items()
    ]
    lanes += [Lane(kind.kind, COUNT_UNITS, kinds=(kind,)) for kind in vocabulary.short_lived]
    return lanes


def _activity(lane: Lane, activity: Mapping[str, int]) -> int:
    named = [lane.actor] if lane.actor is not None else list(lane.members)
    return sum(activity.get(name, 0) for name in named) + sum(
        activity.get(kind.kind, 0) for kind in lane.kinds
    )


def busiest(lanes: list[Lane], activity: Mapping[str, int], capacity: int) -> list[Lane]:
    """Step 3: the lanes with the most intervals that fit `capacity` with a lane of counts
    for the rest, in their display order, then that lane (ties: the earlier lane)."""
    budget = capacity - COUNT_UNITS
    ranked = sorted(range(len(lanes)), key=lambda k: (-_activity(lanes[k], activity), k))
    kept: set[int] = set()
    used = 0
    for k in ranked:
        if used + lanes[k].units <= budget:
            kept.add(k)
            used += lanes[k].units
        if used >= budget:
            break
    rest = [lane for k, lane in enumerate(lanes) if k not in kept]
    members = tuple(
        name for lane in rest for name in ([lane.actor] if lane.actor else lane.members)
    )
    kinds = tuple(kind for lane in rest for kind in lane.kinds)
    shown = [lane for k, lane in enumerate(lanes) if k in kept]
    if rest:
        count = len(members) + len(kinds)
        shown.append(Lane(f"other ({count})", COUNT_UNITS, members=members, kinds=kinds))
    return shown


def plan_lanes(vocabulary: Vocabulary, activity: Mapping[str, int], capacity: int) -> LanePlan:
    """The lanes for `vocabulary` in at most `capacity` units (at least the units of one
    lane of counts); `activity` is the number of intervals per named actor and per
    short-lived kind (by the kind's name), which ranks the lanes in step 3."""
    capacity = max(capacity, COUNT_UNITS)
    lanes = every_actor(vocabulary)
    if _units(lanes) <= capacity:
        return LanePlan(tuple(lanes))
    grouped = by_kind(vocabulary)
    if _units(grouped) <= capacity:
        return LanePlan(
            tuple(grouped),
            "lanes: actors of one kind share a lane, counted per state",
        )
    shown = busiest(grouped, activity, capacity)
    kept = len(shown) - 1
    return LanePlan(
        tuple(shown),
        f"lanes: the {kept} busiest of {len(grouped)} (most intervals); "
        f"the last lane counts the others per state",
    )
