"""The generic timeline painter: draws any event table, whatever its domain.

One lane per actor, each interval a bar coloured by its state (legend below), the
first numeric attribute written inside bars wide enough to hold it, the current
state and numeric attributes beside each lane, and a moving time cursor. The
past is drawn in full colour and the future faded.

Everything but the cursor and the current values is painted once, in two versions
(full colour and faded); a frame is then two opaque blits, a line and a few cached
labels, so the frame cost does not grow with the number of intervals.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Final

import pygame

from stages.render.paintkit import (
    CATEGORICAL,
    INK,
    MUTED,
    PANEL,
    PAPER,
    RULE,
    Colour,
    Frame,
    Scene,
    Text,
    frame_surface,
    mix,
)
from stages.render.world import World, numeric_attributes

WIDTH: Final = 1280
"""Design width; heights follow from the number of actors."""
_MARGIN: Final = 24
_HEADER: Final = 64
_LABELS: Final = 170
_VALUES: Final = 230
_AXIS: Final = 34
_LEGEND_ROW: Final = 26
_FADE: Final = 0.62
"""How far the future's colours move towards the panel colour."""


def _even(value: float) -> int:
    """`value` rounded up to an even pixel count (H.264 with yuv420p needs even sizes)."""
    pixels = max(2, math.ceil(value))
    return pixels + pixels % 2


def state_colours(scene: Scene) -> dict[str, Colour]:
    """A colour per state name, in vocabulary order; one state name has one colour everywhere."""
    colours: dict[str, Colour] = {}
    for actor in scene.vocabulary.actors:
        for state in actor.states:
            if state not in colours:
                colours[state] = CATEGORICAL[len(colours) % len(CATEGORICAL)]
    return colours


def _tick_step(span: float, target: int = 10) -> float:
    """A round step (1, 2 or 5 times a power of ten) giving about `target` ticks over `span`."""
    raw = span / max(target, 1)
    power = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1.0
    for multiple in (1, 2, 5, 10):
        if raw <= multiple * power:
            return multiple * power
    return 10 * power


def _format_value(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


class TimelinePainter:
    """Draws a scene as a Gantt chart with a time cursor; also the whole episode as one picture.

    Args:
        scene: The episode to draw.
        scale: Size factor over the design width of 1280 pixels.
    """

    def __init__(self, scene: Scene, *, scale: float = 1.0) -> None:
        self.scene = scene
        self._scale = scale
        self._text = Text(scale)
        self._world = World(scene.table, scene.vocabulary)
        self._colours = state_colours(scene)
        self._numeric = numeric_attributes(scene.vocabulary)
        actors = scene.vocabulary.actor_names
        # Many actors get thinner lanes so the picture stays a sensible height.
        self._lane = min(34.0, max(12.0, 560.0 / max(len(actors), 1)))
        self._legend_rows = self._layout_legend()
        height = (
            _HEADER + len(actors) * self._lane + _AXIS + len(self._legend_rows) * _LEGEND_ROW
        ) + _MARGIN
        self._size = (_even(WIDTH * scale), _even(height * scale))
        self._chart = pygame.Rect(
            round((_MARGIN + _LABELS) * scale),
            round(_HEADER * scale),
            round((WIDTH - 2 * _MARGIN - _LABELS - _VALUES) * scale),
            round(len(actors) * self._lane * scale),
        )
        self._full = self._paint_static(fade=0.0)
        self._faded = self._paint_static(fade=_FADE)

    @property
    def size(self) -> tuple[int, int]:
        return self._size

    # -- geometry ------------------------------------------------------------------

    def _s(self, value: float) -> int:
        return round(value * self._scale)

    def _x(self, time: float) -> float:
        span = self.scene.end_time - self.scene.start_time
        return self._chart.left + (time - self.scene.start_time) / span * self._chart.width

    def _lane_rect(self, index: int) -> pygame.Rect:
        top = self._chart.top + index * self._lane * self._scale
        return pygame.Rect(
            self._chart.left, round(top), self._chart.width, round(self._lane * self._scale)
        )

    def _layout_legend(self) -> list[list[str]]:
        """State names split into rows that fit the width (approximate text widths)."""
        rows: list[list[str]] = [[]]
        used = 0.0
        for state in self._colours:
            needed = 40 + 8 * len(state)
            if rows[-1] and used + needed > WIDTH - 2 * _MARGIN - 90:
                rows.append([])
                used = 0.0
            rows[-1].append(state)
            used += needed
        return rows

    # -- the static layers ---------------------------------------------------------

    def _paint_static(self, *, fade: float) -> pygame.Surface:
        surface = frame_surface(self._size)
        surface.fill(PAPER)
        text = self._text
        scene = self.scene
        title = f"{scene.domain_id} v{scene.domain_version} · episode {scene.episode.episode}"
        text.draw(surface, title, (self._s(_MARGIN), self._s(24)), 30, INK, anchor="midleft")
        kpis = "   ".join(f"{k} {_format_value(v)}" for k, v in scene.episode.kpis.items())
        caption = f"{len(scene.table)} intervals · {scene.duration:g} s simulated   {kpis}"
        text.draw(surface, caption, (self._s(_MARGIN), self._s(48)), 18, MUTED, anchor="midleft")
        for index, actor in enumerate(scene.vocabulary.actors):
            lane = self._lane_rect(index)
            if index % 2 == 0:
                pygame.draw.rect(surface, PANEL, lane.inflate(0, 0))
            size = min(20.0, self._lane * 0.62)
            text.draw(
                surface,
                actor.name,
                (self._s(_MARGIN), lane.centery),
                size,
                INK,
                anchor="midleft",
            )
            self._paint_lane(surface, index, fade)
        self._paint_axis(surface)
        self._paint_legend(surface)
        return surface

    def _lane_measure(self, index: int) -> tuple[str | None, float]:
        """The numeric attribute an actor carries on nearly every interval, and its maximum.

        Such a lane (a buffer's level, a counter) is drawn as a step chart: each bar's
        height is its value over the maximum, so the level can be read at a glance.
        """
        timeline = self._world.timelines[index]
        rows = timeline.rows.tolist()
        for name in self._numeric:
            values = [self._world.columns[name][row] for row in rows]
            present = [float(v) for v in values if isinstance(v, int | float)]
            if rows and len(present) >= 0.9 * len(rows) and max(present) > 0:
                return name, max(present)
        return None, 0.0

    def _paint_lane(self, surface: pygame.Surface, index: int, fade: float) -> None:
        timeline = self._world.timelines[index]
        lane = self._lane_rect(index)
        pad = max(1, round(lane.height * 0.14))
        top, height = lane.top + pad, lane.height - 2 * pad
        label_size = min(16.0, self._lane * 0.5)
        measure, maximum = self._lane_measure(index)
        columns = [self._world.columns[name] for name in self._numeric]
        for start, end, state, row in zip(
            timeline.starts.tolist(),
            timeline.ends.tolist(),
            timeline.states,
            timeline.rows.tolist(),
            strict=True,
        ):
            left, right = round(self._x(start)), round(self._x(end))
            # Every interval gets at least one pixel, so short events stay visible; wider
            # ones leave a one-pixel seam so that equal neighbours stay countable.
            width = max(1, right - left - (1 if right - left > 3 else 0))
            rect = pygame.Rect(left, top, width, height)
            if measure is not None:
                value = self._world.columns[measure][row]
                level = float(value) / maximum if isinstance(value, int | float) else 0.0
                bar_height = max(2, round(height * level))
                rect = pygame.Rect(left, top + height - bar_height, width, bar_height)
            colour = mix(self._colours[state], PANEL, fade)
            pygame.draw.rect(surface, colour, rect)
            # Label with the first numeric attribute this interval sets.
            value = next((c[row] for c in columns if c[row] is not None), None)
            if value is None or rect.width <= self._s(label_size * 1.2):
                continue
            inside = rect.height >= self._s(label_size * 0.7)
            ink = mix(PANEL, colour, fade) if inside else mix(INK, PANEL, fade)
            label = self._text.render(_format_value(value), label_size, ink)
            if label.get_width() + 4 < rect.width:
                centre = (
                    rect.center if inside else (rect.centerx, rect.top - label.get_height() // 2)
                )
                surface.blit(label, label.get_rect(center=centre))

    def _paint_axis(self, surface: pygame.Surface) -> None:
        chart, scene = self._chart, self.scene
        y = chart.bottom
        pygame.draw.line(surface, RULE, (chart.left, y), (chart.right, y), 1)
        step = _tick_step(scene.duration)
        tick = math.ceil(scene.start_time / step) * step
        while tick <= scene.end_time + 1e-9:
            x = round(self._x(tick))
            pygame.draw.line(surface, RULE, (x, y), (x, y + self._s(6)), 1)
            self._text.draw(surface, f"{tick:g}", (x, y + self._s(16)), 16, MUTED)
            tick += step
        self._text.draw(
            surface, "simulated s", (chart.right, y + self._s(30)), 15, MUTED, anchor="midright"
        )

    def _paint_legend(self, surface: pygame.Surface) -> None:
        top = self._chart.bottom + self._s(_AXIS + 16)
        for row_index, row in enumerate(self._legend_rows):
            y = top + self._s(row_index * _LEGEND_ROW)
            x = self._s(_MARGIN)
            if row_index == 0:
                x = self._text.draw(surface, "states", (x, y), 17, MUTED, anchor="midleft").right
                x += self._s(14)
            else:
                x += self._s(62)
            for state in row:
                swatch = pygame.Rect(x, y - self._s(7), self._s(14), self._s(14))
                pygame.draw.rect(surface, self._colours[state], swatch, border_radius=self._s(3))
                rect = self._text.draw(
                    surface, state, (swatch.right + self._s(6), y), 17, INK, anchor="midleft"
                )
                x = rect.right + self._s(18)

    # -- frames --------------------------------------------------------------------

    def gantt(self) -> pygame.Surface:
        """The whole episode in full colour, without a cursor (``--gantt``)."""
        return self._full.copy()

    def draw(self, surface: pygame.Surface, frame: Frame) -> None:
        """The faded chart, the past in full colour up to the cursor, and the current values."""
        surface.blit(self._faded, (0, 0))
        chart = self._chart
        x = round(min(max(self._x(frame.time), chart.left), chart.right))
        past = pygame.Rect(chart.left, chart.top, x - chart.left, chart.height)
        surface.blit(self._full, past, past)
        pygame.draw.line(surface, INK, (x, chart.top - self._s(6)), (x, chart.bottom), 2)
        self._text.draw(
            surface,
            f"t = {frame.time:.1f} s",
            (self._size[0] - self._s(_MARGIN), self._s(30)),
            30,
            INK,
            anchor="midright",
        )
        self._draw_values(surface, frame)

    def _draw_values(self, surface: pygame.Surface, frame: Frame) -> None:
        left = chart_right = self._chart.right + self._s(14)
        size = min(17.0, self._lane * 0.5)
        for index, actor in enumerate(self.scene.vocabulary.actor_names):
            state = frame.state(actor)
            if state is None:
                continue
            y = self._lane_rect(index).centery
            dot = pygame.Rect(left, y - self._s(5), self._s(10), self._s(10))
            pygame.draw.rect(surface, self._colours[state.state], dot, border_radius=self._s(5))
            label = state.state + _attribute_text(state.attr, self._numeric)
            self._text.draw(
                surface, label, (chart_right + self._s(16), y), size, INK, anchor="midleft"
            )


def _attribute_text(read: object, names: Sequence[str]) -> str:
    """`` name value`` for each numeric attribute the interval sets."""
    if not callable(read):
        return ""
    parts = [
        f"{name} {_format_value(value)}" for name in names if (value := read(name)) is not None
    ]
    return ("  ·  " + "  ".join(parts)) if parts else ""
