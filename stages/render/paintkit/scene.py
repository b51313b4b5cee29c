"""What a painter sees: the episode it draws (:class:`Scene`) and the world at one instant.

These are the only types a painter needs from the render stage; the stage's
time look-ups (``stages.render.world``) build them. A painter, built in or shipped by
a third-party package, implements :class:`Painter` and is registered in the entry
point group ``simreel.painters`` under its domain id.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import pyarrow as pa
import pygame

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
    closed interval) is absent from ``states``.
    """

    time: float
    states: Mapping[str, ActorState]

    def state(self, actor: str) -> ActorState | None:
        """`actor`'s interval at this instant, or None if it is in no state."""
        return self.states.get(actor)


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


class PainterFactory(Protocol):
    """What the ``simreel.painters`` entry point names: usually the painter class itself.

    It raises ``schemas.errors.RenderError`` if the scene is not one it can draw
    (another domain, a missing actor), with a message that says why.
    """

    def __call__(self, scene: Scene, *, scale: float = 1.0) -> Painter: ...
