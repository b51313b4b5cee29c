"""The generic timeline painter: draws any event table, whatever its domain.

One lane per named actor, each interval a bar coloured by its state (legend below);
one lane per short-lived kind (customers), showing how many instances are alive over
time, stacked by state, so hundreds of customers take one lane, not hundreds. Beside
each lane the current state and attributes (for a kind: the count per state), and a
moving time cursor. The past is drawn in full colour and the future faded.

Colours: a state's colour is the one the vocabulary declares (``vocabulary.colours``);
an undeclared state gets a palette colour picked from a stable hash of its name, so
it has the same colour in every table. Heights: a lane whose actor carries a declared
quantity (a level, a count) on nearly every interval is a step chart of it; ids and
other numbers only label bars.

Everything but the cursor and the current values is painted once, in two versions
(full colour and faded); a frame is then two opaque blits, a line and a few cached
labels, so the frame cost does not grow with the number of intervals or instances.
"""

from __future__ import annotations

import math
import zlib
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

import numpy as np
import pygame
from numpy.typing import NDArray

from schemas.vocabulary import ShortLivedKind, Vocabulary
from stages.render.chart import tick_step
from stages.render.paintkit import (
    CATEGORICAL,
    ELLIPSIS,
    INK,
    MUTED,
    PANEL,
    PAPER,
    RULE,
    ActorState,
    Colour,
    Frame,
    Scene,
    Text,
    colour_from_hex,
    frame_surface,
    mix,
)
from stages.render.world import Census, World, numeric_attributes

WIDTH: Final = 1280
"""Design width; heights follow from the number of lanes."""
_MARGIN: Final = 24
_HEADER: Final = 64
_LABELS: Final = 170
_VALUES: Final = 230
_AXIS: Final = 34
_LEGEND_ROW: Final = 26
_LEGEND_SIZE: Final = 17
_FADE: Final = 0.62
"""How far the future's colours move towards the panel colour."""
_KIND_LANES: Final = 2
"""A short-lived kind's lane is this many actor lanes high: it holds a stacked chart."""
_NEAR: Final = 60.0
"""RGB distance under which a palette colour counts as one of the declared colours."""
_CLOCK_SIZE: Final = 30
_CLOCK_WIDEST: Final = "t = 000.0 s"
"""As wide as the clock of any run under 1000 s (DejaVu's digits all have one width)."""
_VALUE_SEPARATOR: Final = " · "


def _even(value: float) -> int:
    """`value` rounded up to an even pixel count (H.264 with yuv420p needs even sizes)."""
    pixels = max(2, math.ceil(value))
    return pixels + pixels % 2


def _stable_slot(state: str, slots: int) -> int:
    # crc32, not hash(): Python salts str hashes per process.
    return zlib.crc32(state.encode("utf-8")) % slots


def _near(a: Colour, b: Colour) -> bool:
    return math.dist(a, b) < _NEAR


def state_colours(vocabulary: Vocabulary) -> dict[str, Colour]:
    """A colour per state name, in :attr:`Vocabulary.state_names` order.

    A declared colour wins. Any other state starts at the palette slot given by a
    stable hash of its name and takes the first slot after it that no other state of
    this vocabulary holds and that is not (nearly) a declared colour; states are
    placed in name order, so the result does not depend on the order of first use.
    Colours repeat only when the palette runs out.
    """
    declared = {state: colour_from_hex(hex_) for state, hex_ in vocabulary.colours.items()}
    palette = CATEGORICAL
    allowed = [not any(_near(c, d) for d in declared.values()) for c in palette]
    taken = [False] * len(palette)
    chosen: dict[str, Colour] = {}
    for state in sorted(set(vocabulary.state_names) - set(declared)):
        home = _stable_slot(state, len(palette))
        probe = [(home + step) % len(palette) for step in range(len(palette))]
        slot = next((k for k in probe if allowed[k] and not taken[k]), None)
        if slot is None:  # more undeclared states than free colours: share, still not declared
            slot = next((k for k in probe if allowed[k]), home)
        taken[slot] = True
        chosen[state] = palette[slot]
    return {state: declared.get(state) or chosen[state] for state in vocabulary.state_names}


def _format_value(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


@dataclass(frozen=True)
class _Lane:
    """A horizontal band of the chart: a named actor, or a short-lived kind."""

    name: str
    """The actor's name, or the kind's."""
    kind: ShortLivedKind | None
    top: float
    """Offset from the chart's top, in lane units."""
    units: int
    """Height in lane units."""


@dataclass(frozen=True)
class _KindValues:
    """How a short-lived kind's counts are laid out in the values column."""

    names: bool
    """Each count follows its state's name (else the swatch alone tells the state)."""
    rows: tuple[tuple[str, ...], ...]
    """States per text row, top to bottom."""


def _column_means(census: Census, edges: NDArray[np.float64]) -> NDArray[np.float64]:
    """The mean count per state over each span ``[edges[j], edges[j + 1]]``.

    Shape ``(len(census.states), len(edges) - 1)``. Averaging over a pixel column's time
    span, rather than sampling one instant, keeps a rush shorter than a pixel visible in
    proportion to its length: the chart's area is the instance-seconds in each state.
    """
    times, counts = census.times, census.counts.astype(np.float64)
    if len(times) == 0:
        return np.zeros((len(census.states), len(edges) - 1))
    # Instance-seconds per state up to each census time, then up to each edge.
    steps = np.diff(times)
    integral = np.zeros_like(counts)
    integral[:, 1:] = np.cumsum(counts[:, :-1] * steps, axis=1)
    index = np.searchsorted(times, edges, side="right") - 1
    inside = index >= 0
    safe = np.clip(index, 0, None)
    at_edges = integral[:, safe] + counts[:, safe] * (edges - times[safe])
    at_edges[:, ~inside] = 0.0
    widths = np.diff(edges)
    return np.diff(at_edges, axis=1) / np.where(widths > 0, widths, 1.0)


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
        vocabulary = scene.vocabulary
        self._world = World(scene.table, vocabulary)
        self._colours = state_colours(vocabulary)
        self._numeric = numeric_attributes(vocabulary)
        self._attributes = vocabulary.attribute_names
        self._lanes = self._layout_lanes(vocabulary)
        units = sum(lane.units for lane in self._lanes)
        # Many lanes get thinner so the picture stays a sensible height.
        self._lane = min(34.0, max(12.0, 560.0 / max(units, 1)))
        self._census = {kind.kind: self._world.census(kind.kind) for kind in vocabulary.short_lived}
        self._legend_rows = self._layout_legend()
        height = (
            _HEADER + units * self._lane + _AXIS + len(self._legend_rows) * _LEGEND_ROW
        ) + _MARGIN
        self._size = (_even(WIDTH * scale), _even(height * scale))
        self._chart = pygame.Rect(
            round((_MARGIN + _LABELS) * scale),
            round(_HEADER * scale),
            round((WIDTH - 2 * _MARGIN - _LABELS - _VALUES) * scale),
            round(units * self._lane * scale),
        )
        self._kind_values = {
            lane.kind.kind: self._layout_kind_values(lane.kind, lane)
            for lane in self._lanes
            if lane.kind is not None
        }
        self._full = self._paint_static(fade=0.0)
        self._faded = self._paint_static(fade=_FADE)

    @property
    def size(self) -> tuple[int, int]:
        return self._size

    @property
    def colours(self) -> Mapping[str, Colour]:
        """The colour each state is drawn in (see :func:`state_colours`)."""
        return self._colours

    # -- geometry ------------------------------------------------------------------

    def _s(self, value: float) -> int:
        return round(value * self._scale)

    def x(self, time: float) -> float:
        """The horizontal pixel position of simulated time `time` on the chart."""
        span = self.scene.end_time - self.scene.start_time
        return self._chart.left + (time - self.scene.start_time) / span * self._chart.width

    def lane_rect(self, name: str) -> pygame.Rect:
        """The pixels of the lane of named actor or short-lived kind `name` (chart part)."""
        return self._rect(self._lane_named(name))

    def bars_rect(self, name: str) -> pygame.Rect:
        """The part of `name`'s lane that bars fill at full height."""
        top, height = self._bar_area(self._lane_named(name))
        return pygame.Rect(self._chart.left, top, self._chart.width, height)

    def _lane_named(self, name: str) -> _Lane:
        for lane in self._lanes:
            if lane.name == name:
                return lane
        raise KeyError(f"no lane {name!r}; lanes: {[lane.name for lane in self._lanes]}")

    def _rect(self, lane: _Lane) -> pygame.Rect:
        unit = self._lane * self._scale
        top = round(self._chart.top + lane.top * unit)
        bottom = round(self._chart.top + (lane.top + lane.units) * unit)
        return pygame.Rect(self._chart.left, top, self._chart.width, bottom - top)

    def _bar_area(self, lane: _Lane) -> tuple[int, int]:
        """Top and height of the bars inside a lane (a margin above and below)."""
        rect = self._rect(lane)
        pad = max(1, round(self._lane * self._scale * 0.14))
        return rect.top + pad, rect.height - 2 * pad

    @staticmethod
    def _layout_lanes(vocabulary: Vocabulary) -> tuple[_Lane, ...]:
        lanes = []
        top = 0.0
        for actor in vocabulary.actors:
            lanes.append(_Lane(actor.name, None, top, 1))
            top += 1
        for kind in vocabulary.short_lived:
            lanes.append(_Lane(kind.kind, kind, top, _KIND_LANES))
            top += _KIND_LANES
        return tuple(lanes)

    def _legend_left(self) -> int:
        """Where every legend row's first swatch starts: after the word "states"."""
        return self._s(_MARGIN) + self._text.width("states", _LEGEND_SIZE) + self._s(14)

    def _legend_entry(self, state: str) -> int:
        """Pixels of a legend entry: swatch, gap, name (without the gap after it)."""
        return self._s(14 + 6) + self._text.width(state, _LEGEND_SIZE)

    def _layout_legend(self) -> list[list[str]]:
        """State names split into rows that fit between the legend's left and the right
        margin, measured with the font they are drawn in (a name too long for a row on
        its own is cut with an ellipsis when drawn)."""
        right = self._s(WIDTH - _MARGIN)
        left = self._legend_left()
        rows: list[list[str]] = [[]]
        x = left
        for state in self._colours:
            if rows[-1] and x + self._legend_entry(state) > right:
                rows.append([])
                x = left
            rows[-1].append(state)
            x += self._legend_entry(state) + self._s(18)
        return rows

    # -- the static layers ---------------------------------------------------------

    def _paint_static(self, *, fade: float) -> pygame.Surface:
        surface = frame_surface(self._size)
        surface.fill(PAPER)
        text = self._text
        scene = self.scene
        title = f"{scene.domain_id} v{scene.domain_version} · episode {scene.episode.episode}"
        # The title ends before the clock each frame draws at the top right.
        room = self._size[0] - self._s(3 * _MARGIN) - text.width(_CLOCK_WIDEST, _CLOCK_SIZE)
        title = text.fit(title, _CLOCK_SIZE, room)
        text.draw(
            surface, title, (self._s(_MARGIN), self._s(24)), _CLOCK_SIZE, INK, anchor="midleft"
        )
        kpis = "   ".join(f"{k} {_format_value(v)}" for k, v in scene.episode.kpis.items())
        caption = f"{len(scene.table)} intervals · {scene.duration:g} s simulated   {kpis}"
        caption = text.fit(caption, 18, self._size[0] - self._s(2 * _MARGIN))
        text.draw(surface, caption, (self._s(_MARGIN), self._s(48)), 18, MUTED, anchor="midleft")
        label_width = self._s(_LABELS - 8)
        size = min(20.0, self._lane * 0.62)
        for index, lane in enumerate(self._lanes):
            rect = self._rect(lane)
            if index % 2 == 0:
                pygame.draw.rect(surface, PANEL, rect)
            text.draw(
                surface,
                text.fit(lane.name, size, label_width),
                (self._s(_MARGIN), rect.centery),
                size,
                INK,
                anchor="midleft",
            )
            if lane.kind is None:
                self._paint_lane(surface, lane, fade)
            else:
                self._paint_kind_lane(surface, lane, fade)
        self._paint_axis(surface)
        self._paint_legend(surface)
        return surface

    def _lane_measure(self, actor: str) -> tuple[str | None, float]:
        """The declared quantity an actor carries on nearly every interval, and its maximum.

        Such a lane (a buffer's level, a counter) is drawn as a step chart: each bar's
        height is its value over the maximum, so the level can be read at a glance.
        Only quantities: a numeric id (an item number) says nothing about height.
        """
        rows = self._world.timeline(actor).rows.tolist()
        for name in self.scene.vocabulary.quantities:
            column = self._world.columns.get(name)
            if column is None or not rows:
                continue
            present = [float(v) for row in rows if isinstance(v := column[row], int | float)]
            if len(present) >= 0.9 * len(rows) and max(present, default=0.0) > 0:
                return name, max(present)
        return None, 0.0

    def _paint_lane(self, surface: pygame.Surface, lane: _Lane, fade: float) -> None:
        timeline = self._world.timeline(lane.name)
        top, height = self._bar_area(lane)
        label_size = min(16.0, self._lane * 0.5)
        measure, maximum = self._lane_measure(lane.name)
        labels = [self._world.columns[name] for name in self._numeric]
        if measure is not None:  # a step chart is labelled with its own level
            labels = [self._world.columns[measure]]
        for start, end, state, row in zip(
            timeline.starts.tolist(),
            timeline.ends.tolist(),
            timeline.states,
            timeline.rows.tolist(),
            strict=True,
        ):
            left, right = round(self.x(start)), round(self.x(end))
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
            value = next((c[row] for c in labels if c[row] is not None), None)
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

    def _paint_kind_lane(self, surface: pygame.Surface, lane: _Lane, fade: float) -> None:
        """Instances alive over time, stacked by state (declaration order, bottom up).

        Each pixel column shows the mean count over its time span, scaled so the
        episode's peak fills the lane.
        """
        census = self._census[lane.name]
        top, height = self._bar_area(lane)
        peak = census.peak
        chart = self._chart
        self._text.draw(
            surface,
            str(peak),
            (chart.left - self._s(6), top),
            min(14.0, self._lane * 0.45),
            MUTED,
            anchor="topright",
        )
        if peak == 0:
            return
        span = self.scene.end_time - self.scene.start_time
        edges = np.asarray(
            self.scene.start_time + np.arange(chart.width + 1) * (span / chart.width), np.float64
        )
        stacked = np.cumsum(_column_means(census, edges), axis=0) / peak * height
        pixels = np.rint(stacked).astype(np.int64)
        bottom = top + height
        for k, state in enumerate(census.states):
            colour = mix(self._colours[state], PANEL, fade)
            lower = pixels[k - 1] if k else np.zeros(chart.width, np.int64)
            upper = pixels[k]
            # One rectangle per run of columns with the same extent: flat stretches are
            # common, and fewer draws keep building the painter quick.
            runs = np.flatnonzero(np.diff(lower) | np.diff(upper)) + 1
            starts = [0, *runs.tolist()]
            stops = [*runs.tolist(), chart.width]
            for first, stop in zip(starts, stops, strict=True):
                low, high = int(lower[first]), int(upper[first])
                if high > low:
                    rect = pygame.Rect(chart.left + first, bottom - high, stop - first, high - low)
                    pygame.draw.rect(surface, colour, rect)

    def _paint_axis(self, surface: pygame.Surface) -> None:
        chart, scene = self._chart, self.scene
        y = chart.bottom
        pygame.draw.line(surface, RULE, (chart.left, y), (chart.right, y), 1)
        step = tick_step(scene.duration)
        tick = math.ceil(scene.start_time / step) * step
        while tick <= scene.end_time + 1e-9:
            x = round(self.x(tick))
            pygame.draw.line(surface, RULE, (x, y), (x, y + self._s(6)), 1)
            self._text.draw(surface, f"{tick:g}", (x, y + self._s(16)), 16, MUTED)
            tick += step
        self._text.draw(
            surface, "simulated s", (chart.right, y + self._s(30)), 15, MUTED, anchor="midright"
        )

    def _paint_legend(self, surface: pygame.Surface) -> None:
        top = self._chart.bottom + self._s(_AXIS + 16)
        right = self._size[0] - self._s(_MARGIN)
        text = self._text
        for row_index, row in enumerate(self._legend_rows):
            y = top + self._s(row_index * _LEGEND_ROW)
            if row_index == 0:
                text.draw(
                    surface, "states", (self._s(_MARGIN), y), _LEGEND_SIZE, MUTED, anchor="midleft"
                )
            x = self._legend_left()
            for state in row:
                swatch = pygame.Rect(x, y - self._s(7), self._s(14), self._s(14))
                pygame.draw.rect(surface, self._colours[state], swatch, border_radius=self._s(3))
                left = swatch.right + self._s(6)
                name = text.fit(state, _LEGEND_SIZE, right - left)
                rect = text.draw(surface, name, (left, y), _LEGEND_SIZE, INK, anchor="midleft")
                x = rect.right + self._s(18)

    # -- frames --------------------------------------------------------------------

    def gantt(self) -> pygame.Surface:
        """The whole episode in full colour, without a cursor (``--gantt``)."""
        return self._full.copy()

    def draw(self, surface: pygame.Surface, frame: Frame) -> None:
        """The faded chart, the past in full colour up to the cursor, and the current values."""
        surface.blit(self._faded, (0, 0))
        chart = self._chart
        x = round(min(max(self.x(frame.time), chart.left), chart.right))
        past = pygame.Rect(chart.left, chart.top, x - chart.left, chart.height)
        surface.blit(self._full, past, past)
        pygame.draw.line(surface, INK, (x, chart.top - self._s(6)), (x, chart.bottom), 2)
        self._text.draw(
            surface,
            f"t = {frame.time:.1f} s",
            (self._size[0] - self._s(_MARGIN), self._s(30)),
            _CLOCK_SIZE,
            INK,
            anchor="midright",
        )
        self._draw_values(surface, frame)

    # -- the values column ---------------------------------------------------------

    def _values_left(self) -> int:
        return self._chart.right + self._s(14)

    def _values_width(self) -> int:
        """Pixels from the values column's left edge to the right margin."""
        return self._size[0] - self._s(_MARGIN) - self._values_left()

    def _value_size(self) -> float:
        return min(17.0, self._lane * 0.5)

    def values_text_width(self) -> int:
        """Pixels a named actor's value lines may take: from after its dot to the margin."""
        return self._size[0] - self._s(_MARGIN) - self._values_left() - self._s(16)

    def values_rect(self, name: str) -> pygame.Rect:
        """The pixels beside lane `name` that its current values may be drawn in."""
        rect = self._rect(self._lane_named(name))
        left = self._values_left()
        return pygame.Rect(left, rect.top, self._size[0] - self._s(_MARGIN) - left, rect.height)

    def _draw_values(self, surface: pygame.Surface, frame: Frame) -> None:
        left = self._values_left()
        text_left = left + self._s(16)
        for lane in self._lanes:
            y = self._rect(lane).centery
            if lane.kind is not None:
                self._draw_kind_values(surface, lane.kind, lane, frame)
                continue
            state = frame.state(lane.name)
            if state is None:
                continue
            dot = pygame.Rect(left, y - self._s(5), self._s(10), self._s(10))
            pygame.draw.rect(surface, self._colours[state.state], dot, border_radius=self._s(5))
            self._draw_lines(surface, self.value_lines(state), (text_left, y))

    def _value_pieces(self, state: ActorState) -> list[str]:
        """The state, then ``name value`` for each attribute the interval sets, of any type
        (numbers, text, booleans as yes/no)."""
        return [state.state] + [
            f"{name} {_format_value(value)}"
            for name in self._attributes
            if (value := state.attr(name)) is not None
        ]

    def value_lines(self, state: ActorState) -> list[str]:
        """A named actor's current values as the lines drawn beside its lane: they fit
        the values column, and there are no more of them than the lane's height holds
        (the last one cut with an ellipsis when the values need more)."""
        size = self._value_size()
        height = self._rect(self._lane_named(state.actor)).height
        lines = height // self._text.font(size).get_linesize()
        return self._text.wrap(
            self._value_pieces(state),
            size,
            self.values_text_width(),
            lines,
            separator=_VALUE_SEPARATOR,
        )

    def _draw_lines(
        self, surface: pygame.Surface, lines: list[str], left_centre: tuple[int, int]
    ) -> None:
        """`lines` one under the other, left-aligned at x, the block centred on y."""
        size = self._value_size()
        step = self._text.font(size).get_linesize()
        x, y = left_centre
        top = y - step * (len(lines) - 1) / 2
        for index, line in enumerate(lines):
            self._text.draw(surface, line, (x, top + index * step), size, INK, anchor="midleft")

    def _piece_width(self, text: str) -> int:
        """Width of a swatch and `text` in the values column, without the gap after it."""
        return self._s(14) + self._text.font(self._value_size()).size(text)[0]

    def _layout_kind_values(self, kind: ShortLivedKind, lane: _Lane) -> _KindValues:
        """The rows of "state count" pieces beside a kind's lane.

        With the state names if every row fits the column at the widest count and the
        rows fit the lane's height; otherwise the counts alone on one row (the legend
        names the colours). Decided once, so the column keeps its form from frame to frame.
        """
        states = kind.states
        widest = str(max(self._census[kind.kind].peak, 1))
        available, gap = self._values_width(), self._s(12)
        rows: list[list[str]] = [[]]
        used = -gap
        for state in states:
            needed = gap + self._piece_width(f"{state} {widest}")
            if rows[-1] and used + needed > available:
                rows.append([])
                used = -gap
            rows[-1].append(state)
            used += needed
        line = self._s(self._value_size() * 1.2)
        fits = all(
            sum(self._piece_width(f"{s} {widest}") + gap for s in row) - gap <= available
            for row in rows
        )
        if fits and len(rows) * line <= self._rect(lane).height:
            return _KindValues(names=True, rows=tuple(tuple(row) for row in rows))
        return _KindValues(names=False, rows=(states,))

    def _draw_kind_values(
        self, surface: pygame.Surface, kind: ShortLivedKind, lane: _Lane, frame: Frame
    ) -> None:
        """A swatch and the count of instances per state (with the state's name if it fits)."""
        counts = Counter(state.state for state in frame.instances(kind.kind))
        layout = self._kind_values[kind.kind]
        size = self._value_size()
        right = self._size[0] - self._s(_MARGIN)
        rect = self._rect(lane)
        for index, states in enumerate(layout.rows):
            y = round(rect.top + (index + 0.5) * rect.height / len(layout.rows))
            x = self._values_left()
            for state in states:
                count = str(counts.get(state, 0))
                piece = f"{state} {count}" if layout.names else count
                if x + self._piece_width(piece) > right:
                    # No room for the rest: say that something is left out rather than clip it.
                    if x + self._text.width(ELLIPSIS, size) <= right:
                        self._text.draw(surface, ELLIPSIS, (x, y), size, MUTED, anchor="midleft")
                    break
                swatch = pygame.Rect(x, y - self._s(5), self._s(10), self._s(10))
                pygame.draw.rect(surface, self._colours[state], swatch, border_radius=self._s(2))
                drawn = self._text.draw(
                    surface, piece, (swatch.right + self._s(4), y), size, INK, anchor="midleft"
                )
                x = drawn.right + self._s(12)
