"""What a painter sees: the episode it draws (:class:`Scene`) and the world at one instant.

These are the only types a painter needs from the render stage; the stage's
time look-ups (``stages.render.world``) build them. A painter, built in or shipped by
a third-party package, implements :class:`Painter` and is registered in the entry
point group ``simreel.painters`` under its domain id.

Reading a :class:`Frame` (the world at ``frame.time``):

* a **named actor** (declared one by one in ``scene.vocabulary.actors``):
  ``frame.state("worker0")`` is its :class:`ActorState`, or None while it is in no state;
* a **short-lived instance** (``customer_17``, an instance of a kind declared in
  ``scene.vocabulary.short_lived``): ``frame.state("customer_17")`` likewise; and
  ``frame.instances("customer")`` lists every instance of the kind that is in some
  state at ``frame.time``, in instance-number order (``customer_9`` before
  ``customer_10``). Draw a crowd from that list: the names of all instances of an
  episode are not declared anywhere, and a frame holds only those alive at its time.

An actor is "in a state" at ``t`` when one of its intervals contains ``t``; intervals
are closed at both ends and, where one ends and the next starts at ``t``, the later
one is shown (so an instance whose last interval ends exactly at ``t`` still shows,
with progress 1). ``scene.vocabulary.colours`` gives a state's display colour when the
domain declares one (parse it with ``colour_from_hex``), and
``scene.vocabulary.quantities`` the attributes that are levels or counts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Protocol, runtime_checkable

import pyarrow as pa
import pygame

from schemas.errors import RenderError
from schemas.metadata import EpisodeSummary
from schemas.vocabulary import Vocabulary

AttributeValue = int | float | str | bool | None


class ActorState:
    """One actor's interval at an instant: its state, the interval and how far into it we are.

    ``progress`` is ``(t - start) / (end - start)`` clipped to [0, 1]; a zero-length
    interval has progress 1. Attributes are read lazily from the table's columns, so
    building a state costs the same whatever the table's width.
    """

    __slots__ = ("_columns", "actor", "end", "progress", "row", "start", "state")

    def __init__(
        self,
        actor: str,
        state: str,
        start: float,
        end: float,
        progress: float,
        row: int,
        columns: Mapping[str, Sequence[AttributeValue]],
    ) -> None:
        self.actor = actor
        self.state = state
        self.start = start
        self.end = end
        self.progress = progress
        self.row = row
        """Index of the interval in the episode's rows (``Scene.table``)."""
        self._columns = columns

    def attr(self, name: str) -> AttributeValue:
        """The interval's value of attribute `name` (None if unset or not declared)."""
        column = self._columns.get(name)
        return None if column is None else column[self.row]

    def __repr__(self) -> str:
        return (
            f"ActorState({self.actor!r}, {self.state!r}, {self.start:g}..{self.end:g}, "
            f"progress={self.progress:.3f})"
        )


@dataclass(frozen=True)
class Frame:
    """The world at simulated time ``time``: per actor the interval that contains it.

    An actor with no interval at ``time`` (before its first, or in a gap after a
    closed interval) is absent: :meth:`state` returns None for it, and a short-lived
    instance is not among :meth:`instances`.
    """

    time: float
    states: Mapping[str, ActorState]
    """Named actors only (instances are in :attr:`short_lived`), by actor name."""
    short_lived: Mapping[str, tuple[ActorState, ...]] = field(default_factory=dict)
    """Per declared short-lived kind (every one, even with no instance in a state), its
    instances in a state at ``time``, by instance number; read it with :meth:`instances`."""

    def state(self, actor: str) -> ActorState | None:
        """`actor`'s interval at this instant, or None if it is in no state.

        `actor` is a named actor or an instance name such as ``customer_17``.
        """
        found = self.states.get(actor)
        if found is None and self.short_lived:
            return self._instance_states.get(actor)
        return found

    def instances(self, kind: str) -> tuple[ActorState, ...]:
        """The instances of short-lived kind `kind` in some state at this instant, ordered
        by instance number; KeyError names the declared kinds if `kind` is not one."""
        try:
            return self.short_lived[kind]
        except KeyError:
            raise KeyError(
                f"short-lived kind {kind!r} is not declared; declared kinds: "
                f"{sorted(self.short_lived)}"
            ) from None

    @cached_property
    def _instance_states(self) -> dict[str, ActorState]:
        # Built on the first instance look-up only: most frames never ask for one by name.
        return {s.actor: s for states in self.short_lived.values() for s in states}


@dataclass(frozen=True)
class Scene:
    """The episode a painter draws, known before the first frame."""

    domain_id: str
    domain_version: int
    vocabulary: Vocabulary
    episode: EpisodeSummary
    table: pa.Table = field(repr=False)
    """The episode's rows, ordered by (start, seq)."""
    start_time: float
    """The earliest simulated time the movie may show (0 for recorded episodes)."""
    end_time: float
    """The episode's end (its ``end_time`` in the table metadata)."""
    provenance: Mapping[str, Any] = field(default_factory=dict, repr=False)
    window: tuple[float, float] | None = None
    """The simulated seconds the movie shows (``--from``, ``--to``), when they are less
    than the episode: a painter with a time axis may span it instead of the episode
    (the generic timeline does, so a 10 s window of a long episode is not a still
    picture). None: the whole episode, as for a still or a Gantt chart."""

    @property
    def duration(self) -> float:
        return self.end_time - self.start_time


@runtime_checkable
class Painter(Protocol):
    """Draws frames of one scene at a fixed size.

    ``draw`` must paint every pixel of the ``size`` rectangle (usually by blitting a
    pre-rendered background first), because the same surface is reused for every frame.
    It should blit only opaque, display-format surfaces for large areas: per-pixel
    alpha over the full frame costs tens of milliseconds.
    """

    @property
    def size(self) -> tuple[int, int]:
        """Width and height in pixels, at the scale the painter was built with."""
        ...

    def draw(self, surface: pygame.Surface, frame: Frame) -> None:
        """Paint the world of `frame` onto `surface` (at least ``size``, 32-bit)."""
        ...


def check_scene(scene: Scene, domain_id: str, vocabulary: Vocabulary) -> None:
    """Refuse a scene the ``domain_id`` painter cannot draw, with a RenderError that says why.

    The scene must be of domain `domain_id` and declare every named actor and every
    short-lived kind of `vocabulary` (the painter's own); a table recorded by another
    version of the domain may lack some. Both messages point to the generic timeline.
    """
    if scene.domain_id != domain_id:
        raise RenderError(
            f"the {domain_id} painter draws {domain_id!r} tables, this one is "
            f"{scene.domain_id!r}; use --painter timeline"
        )
    missing = sorted(set(vocabulary.actor_names) - set(scene.vocabulary.actor_names))
    kinds = {kind.kind for kind in scene.vocabulary.short_lived}
    missing += [f"{kind.prefix}<n>" for kind in vocabulary.short_lived if kind.kind not in kinds]
    if missing:
        raise RenderError(
            f"the table lacks the {domain_id} actors {missing}; it was not recorded by "
            f"this {domain_id} version; use --painter timeline"
        )


class PainterFactory(Protocol):
    """What the ``simreel.painters`` entry point names: usually the painter class itself.

    It raises ``schemas.errors.RenderError`` if the scene is not one it can draw
    (another domain, a missing actor), with a message that says why.
    """

    def __call__(self, scene: Scene, *, scale: float = 1.0) -> Painter: ...
