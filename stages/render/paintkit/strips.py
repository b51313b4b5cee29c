"""Activity strips: one bar per actor over the whole episode, coloured by its states.

A painter paints the strips twice into its static backgrounds, once faded (the
future) and once in full colour (the past); each frame then copies the past part of
the bright version over the faded one and draws a cursor at the frame's time
(:meth:`ActivityStrips.draw`). The strips cost a frame one opaque blit and a line,
however many intervals the episode has.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Final

import pygame

from stages.render.paintkit.draw import INK, MUTED, PANEL, RULE, TRACK, Colour, Text, mix
from stages.render.paintkit.scale import tick_label, ticks
from stages.render.paintkit.scene import Scene

Interval = tuple[float, float, str]
"""(start, end, state) of one row of an actor."""

_FADE: Final = 0.65
"""How far a future interval's colour is moved towards white."""
_MOST_TICKS: Final = 24
"""Beyond this many ticks at the fixed steps, ticks are chosen from the span."""


def actor_intervals(scene: Scene, actors: Sequence[str]) -> dict[str, list[Interval]]:
    """Every interval of each of `actors` as (start, end, state), in the table's order."""
    table = scene.table
    found: dict[str, list[Interval]] = {actor: [] for actor in actors}
    for actor, state, start, end in zip(
        table.column("actor").to_pylist(),
        table.column("state").to_pylist(),
        table.column("start").to_pylist(),
        table.column("end").to_pylist(),
        strict=True,
    ):
        intervals = found.get(actor)
        if intervals is not None:
            intervals.append((start, end, state))
    return found


class ActivityStrips:
    """The strips of `actors`, one under the other, in a layout given in design units.

    Args:
        scene: The episode; the strips span its start to its end.
        actors: One strip per actor, top to bottom.
        colours: Colour per state; intervals in other states are left as track.
        left: Left end of the strips (design units; the time axis starts here).
        right: Right end of the strips.
        top: Top of the first strip.
        height: Height of a strip.
        gap: Space between two strips.
        scale: The painter's size factor (pixels per design unit).

    Labels are the painter's: draw them beside :meth:`rect` of each strip.
    """

    def __init__(
        self,
        scene: Scene,
        actors: Sequence[str],
        colours: Mapping[str, Colour],
        *,
        left: float,
        right: float,
        top: float,
        height: float,
        gap: float,
        scale: float = 1.0,
    ) -> None:
        if not actors:
            raise ValueError("activity strips need at least one actor")
        self.scene = scene
        self.actors = tuple(actors)
        self._colours = dict(colours)
        self._k = scale
        self._left, self._right = left, right
        self._top, self._height, self._gap = top, height, gap
        self._intervals = actor_intervals(scene, self.actors)

    def _s(self, value: float) -> int:
        return round(value * self._k)

    def x(self, time: float) -> float:
        """The pixel x of simulated `time` on the strips' time axis."""
        scene = self.scene
        left, right = self._s(self._left), self._s(self._right)
        return left + (time - scene.start_time) / scene.duration * (right - left)

    def rect(self, index: int) -> pygame.Rect:
        """Pixel rectangle of the strip of actor number `index`."""
        top = self._top + index * (self._height + self._gap)
        left = self._s(self._left)
        return pygame.Rect(left, self._s(top), self._s(self._right) - left, self._s(self._height))

    def paint(self, surface: pygame.Surface, text: Text, *, fade: bool) -> None:
        """Paint every strip and the time axis under them (for a static background):
        faded for the future if `fade`, in full colour for the past if not."""
        s = self._s
        for index, actor in enumerate(self.actors):
            rect = self.rect(index)
            pygame.draw.rect(surface, mix(TRACK, PANEL, 0.5 if fade else 0.0), rect)
            for start, end, state in self._intervals[actor]:
                colour = self._colours.get(state)
                if colour is None:
                    continue
                left, right = round(self.x(start)), round(self.x(end))
                colour = mix(colour, PANEL, _FADE) if fade else colour
                pygame.draw.rect(
                    surface, colour, pygame.Rect(left, rect.top, max(1, right - left), rect.height)
                )
        top = self.rect(len(self.actors) - 1).bottom + s(6)
        times = self._ticks()
        step = times[1] - times[0] if len(times) > 1 else 0.0
        for tick in times:
            x = round(self.x(tick))
            pygame.draw.line(surface, RULE, (x, top), (x, top + s(5)), 1)
            text.draw(surface, tick_label(tick, step), (x, top + s(15)), 15, MUTED)

    def _ticks(self) -> list[float]:
        """Every 30 s (every 10 s up to 2 minutes), as the reference domains' episodes
        are read best; for a much shorter or longer duration (a table may say 1e9 s, or
        2e-299) round ticks chosen from the span, so their number never depends on it."""
        scene = self.scene
        step = 30.0 if scene.duration > 120 else 10.0
        if 2 <= scene.duration / step <= _MOST_TICKS:
            first = math.ceil(scene.start_time / step)
            last = math.floor(scene.end_time / step + 1e-9)
            return [k * step for k in range(first, last + 1)]
        return ticks(scene.start_time, scene.end_time, _MOST_TICKS // 2)

    def draw(self, surface: pygame.Surface, bright: pygame.Surface, time: float) -> None:
        """Per frame, over the faded strips: the past up to `time` copied from `bright` (a
        background painted with ``fade=False``, same size), then the cursor at `time`."""
        s = self._s
        cursor = round(self.x(time))
        first, last = self.rect(0), self.rect(len(self.actors) - 1)
        past = pygame.Rect(
            first.left, first.top, max(0, cursor - first.left), last.bottom - first.top
        )
        surface.blit(bright, past, past)
        pygame.draw.line(
            surface, INK, (cursor, first.top - s(6)), (cursor, last.bottom + s(4)), max(1, s(2))
        )
