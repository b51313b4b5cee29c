"""The generic timeline painter: draws any event table, whatever its domain.

One lane per named actor, each interval a bar coloured by its state (legend below);
one lane per short-lived kind (customers), showing how many instances are alive over
time, stacked by state, so hundreds of customers take one lane, not hundreds. Beside
each lane the current state and attributes (for a kind: the count per state), and a
moving time cursor. The past is drawn in full colour and the future faded.

The picture keeps the size asked for, whatever the table declares: 1280 pixels wide
and at most 720 high at scale 1. Lanes never get thinner than their labels need; when
the actors do not fit, actors of one kind share a lane of counts, and if that is still
too many, the busiest lanes are drawn and one last lane counts the rest (see
``stages.render.lanes``; the legend says which). The time axis spans the window the
movie shows (``Scene.window``), with an overview strip of the whole episode under it
(see ``stages.render.timeline_axis``), so the cursor of a 10 s window of a 10^5 s
episode crosses the chart.

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
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

import numpy as np
import pygame
from numpy.typing import NDArray

from schemas.vocabulary import Vocabulary
from stages.render.lane_counts import (
    OTHER,
    FrameCounter,
    LaneCounts,
    activity,
    column_means,
    count_lanes,
)
from stages.render.lanes import Lane, LanePlan, plan_lanes
from stages.render.paintkit import (
    CATEGORICAL,
    ELLIPSIS,
    INK,
    MUTED,
    PANEL,
    PAPER,
    ActorState,
    Colour,
    Frame,
    Scene,
    Text,
    colour_from_hex,
    frame_surface,
    mix,
)
from stages.render.timeline_axis import OVERVIEW, TimeAxis, TimeView, clamp
from stages.render.timeline_legend import ROW as LEGEND_ROW
from stages.render.timeline_legend import Legend
from stages.render.world import World, numeric_attributes

WIDTH: Final = 1280
"""Design width."""
HEIGHT: Final = 720
"""Design height at most (720p at scale 1); fewer lanes make a lower picture."""
READABLE: Final = 15.0
"""Design size of the smallest text drawn (10 pixels at scale 1): lane names, values,
counts and bar labels never get smaller, however many actors the table declares."""
_MARGIN: Final = 24
_HEADER: Final = 64
_LABELS: Final = 170
_VALUES: Final = 230
_AXIS: Final = 34
_LEGEND_GAP: Final = 16
"""From the bottom of the axis (or the overview) to the legend's first row."""
_LANE_MAX: Final = 34.0
"""Design height of a lane unit when few lanes leave room."""
_LANE_MIN: Final = 24.0
"""Design height of a lane unit at least: a line of :data:`READABLE` text and a margin."""
_CHART_AIM: Final = 560.0
"""Lanes share this much height before they get thinner than :data:`_LANE_MAX`."""
_FADE: Final = 0.62
"""How far the future's colours move towards the panel colour."""
_NEAR: Final = 60.0
"""RGB distance under which a palette colour counts as one of the declared colours."""
_CLOCK_SIZE: Final = 30
_CLOCK_WIDEST: Final = "t = 000.0 s"
"""As wide as the clock of any run under 1000 s (DejaVu's digits all have one width)."""
_VALUE_SEPARATOR: Final = " · "
OTHER_COLOUR: Final[Colour] = (150, 157, 168)
"""The band of the states a lane of counts does not stack one by one."""


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
class _KindValues:
    """How a lane of counts is laid out in the values column."""

    names: bool
    """Each count follows its state's name (else the swatch alone tells the state)."""
    rows: tuple[tuple[int, ...], ...]
    """Bands (indices into the census's states) per text row, top to bottom."""


def _finite(value: object) -> float | None:
    """A numeric attribute value as a finite float, or None (null, text, NaN, infinite)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


class TimelinePainter:
    """Draws a scene as a Gantt chart with a time cursor; also the whole episode as one picture.

    Args:
        scene: The episode to draw (its ``window``, if any, is what the time axis spans).
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
        self._view = TimeView.of(scene)
        self._fixed = _HEADER + _AXIS + (OVERVIEW if self._view.zoomed else 0) + _MARGIN
        plan = self._plan(vocabulary)
        self._lanes = plan.lanes
        self._tops = self._stack(plan.lanes)
        self._counts: dict[str, LaneCounts] = count_lanes(scene.table, vocabulary, self._lanes)
        self._counter = FrameCounter(self._lanes, self._counts)
        merged = any(OTHER in counts.census.states for counts in self._counts.values())
        self._legend = Legend(
            self._text,
            scale,
            _even(WIDTH * scale),
            [*self._colours, *([OTHER] if merged else [])],
            {**self._colours, OTHER: OTHER_COLOUR},
            plan.note,
        )
        units = plan.units
        room = HEIGHT - self._fixed - self._legend.height
        self._lane = min(_LANE_MAX, max(_LANE_MIN, _CHART_AIM / max(units, 1)))
        if units:
            self._lane = min(self._lane, room / units)
        height = self._fixed + units * self._lane + self._legend.height
        self._size = (_even(WIDTH * scale), _even(height * scale))
        self._chart = pygame.Rect(
            round((_MARGIN + _LABELS) * scale),
            round(_HEADER * scale),
            round((WIDTH - 2 * _MARGIN - _LABELS - _VALUES) * scale),
            round(units * self._lane * scale),
        )
        self._axis = TimeAxis(self._view, self._chart, self._text, scale)
        self._clock_width = max(
            self._text.width(text, _CLOCK_SIZE)
            for text in (_CLOCK_WIDEST, *(self._axis.clock(t) for t in self._view.window))
        )
        self._kind_values = {
            lane.name: self._layout_kind_values(lane) for lane in self._lanes if lane.counts
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

    @property
    def lanes(self) -> tuple[Lane, ...]:
        """The lanes drawn, top to bottom (see ``stages.render.lanes``)."""
        return self._lanes

    @property
    def legend(self) -> Legend:
        """The legend under the chart: its rows of states, and how the lanes were chosen."""
        return self._legend

    @property
    def axis(self) -> TimeAxis:
        """The time axis: the seconds the chart spans, its ticks and the overview strip."""
        return self._axis

    # -- which lanes ---------------------------------------------------------------

    def _plan(self, vocabulary: Vocabulary) -> LanePlan:
        """The lanes that fit the picture at :data:`_LANE_MIN`, with room reserved for the
        legend as long as it can be (every state, and the band of other states)."""
        widest = Legend(
            self._text,
            self._scale,
            _even(WIDTH * self._scale),
            [*self._colours, OTHER],
            {**self._colours, OTHER: OTHER_COLOUR},
        )

        def capacity(note: bool) -> int:
            room = HEIGHT - self._fixed - widest.height - (LEGEND_ROW if note else 0)
            return max(0, math.floor(room / _LANE_MIN))

        busy = activity(self.scene.table, vocabulary)
        plan = plan_lanes(vocabulary, busy, capacity(note=False))
        if plan.note is not None:  # the note takes a row of the legend: plan again
            plan = plan_lanes(vocabulary, busy, capacity(note=True))
        return plan

    @staticmethod
    def _stack(lanes: tuple[Lane, ...]) -> dict[str, float]:
        """Each lane's top, in lane units from the chart's top."""
        tops: dict[str, float] = {}
        top = 0.0
        for lane in lanes:
            tops[lane.name] = top
            top += lane.units
        return tops

    # -- geometry ------------------------------------------------------------------

    def _s(self, value: float) -> int:
        return round(value * self._scale)

    def x(self, time: float) -> float:
        """The horizontal pixel position of simulated time `time` on the chart."""
        return self._axis.x(time)

    def lane_rect(self, name: str) -> pygame.Rect:
        """The pixels of the lane `name` (chart part): a named actor's, a short-lived kind's,
        or a lane of counts (its label, e.g. ``press (334)``, ``other (982)``)."""
        return self._rect(self._lane_named(name))

    def bars_rect(self, name: str) -> pygame.Rect:
        """The part of `name`'s lane that bars fill at full height."""
        top, height = self._bar_area(self._lane_named(name))
        return pygame.Rect(self._chart.left, top, self._chart.width, height)

    def _lane_named(self, name: str) -> Lane:
        for lane in self._lanes:
            if lane.name == name:
                return lane
        raise KeyError(f"no lane {name!r}; lanes: {[lane.name for lane in self._lanes]}")

    def _rect(self, lane: Lane) -> pygame.Rect:
        unit = self._lane * self._scale
        top = round(self._chart.top + self._tops[lane.name] * unit)
        bottom = round(self._chart.top + (self._tops[lane.name] + lane.units) * unit)
        return pygame.Rect(self._chart.left, top, self._chart.width, bottom - top)

    def _bar_area(self, lane: Lane) -> tuple[int, int]:
        """Top and height of the bars inside a lane (a margin above and below)."""
        rect = self._rect(lane)
        pad = max(1, round(self._lane * self._scale * 0.14))
        return rect.top + pad, rect.height - 2 * pad

    def label_size(self) -> float:
        """Design size of the lane names (never below :data:`READABLE`)."""
        return min(20.0, max(READABLE, self._lane * 0.62))

    # -- the static layers ---------------------------------------------------------

    def _paint_static(self, *, fade: float) -> pygame.Surface:
        surface = frame_surface(self._size)
        surface.fill(PAPER)
        text = self._text
        scene = self.scene
        title = f"{scene.domain_id} v{scene.domain_version} · episode {scene.episode.episode}"
        # The title ends before the clock each frame draws at the top right.
        room = self._size[0] - self._s(3 * _MARGIN) - self._clock_width
        title = text.fit(title, _CLOCK_SIZE, room)
        text.draw(
            surface, title, (self._s(_MARGIN), self._s(24)), _CLOCK_SIZE, INK, anchor="midleft"
        )
        kpis = "   ".join(f"{k} {_format_value(v)}" for k, v in scene.episode.kpis.items())
        caption = f"{len(scene.table)} intervals · {scene.duration:g} s simulated   {kpis}"
        caption = text.fit(caption, 18, self._size[0] - self._s(2 * _MARGIN))
        text.draw(surface, caption, (self._s(_MARGIN), self._s(48)), 18, MUTED, anchor="midleft")
        label_width = self._s(_LABELS - 8)
        size = self.label_size()
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
            if lane.counts:
                self._paint_count_lane(surface, lane, fade)
            else:
                self._paint_lane(surface, lane, fade)
        self._axis.paint(surface)
        self._legend.paint(surface, self._legend_top())
        return surface

    def _legend_top(self) -> int:
        below = _AXIS + (OVERVIEW if self._view.zoomed else 0) + _LEGEND_GAP
        return self._chart.bottom + self._s(below)

    def _lane_measure(self, actor: str) -> tuple[str | None, float]:
        """The declared quantity an actor carries on nearly every interval, and its maximum.

        Such a lane (a buffer's level, a counter) is drawn as a step chart: each bar's
        height is its value over the maximum, so the level can be read at a glance.
        Only quantities, and only their finite values: a numeric id (an item number)
        says nothing about height, and neither does a NaN.
        """
        rows = self._world.timeline(actor).rows.tolist()
        for name in self.scene.vocabulary.quantities:
            column = self._world.columns.get(name)
            if column is None or not rows:
                continue
            present = [v for row in rows if (v := _finite(column[row])) is not None]
            if len(present) >= 0.9 * len(rows) and max(present, default=0.0) > 0:
                return name, max(present)
        return None, 0.0

    def _visible(self, starts: NDArray[np.float64], ends: NDArray[np.float64]) -> list[int]:
        """The intervals that reach into the window shown."""
        low, high = self._view.window
        return np.flatnonzero((ends >= low) & (starts <= high)).tolist()

    def _paint_lane(self, surface: pygame.Surface, lane: Lane, fade: float) -> None:
        actor = lane.actor or lane.name
        timeline = self._world.timeline(actor)
        top, height = self._bar_area(lane)
        label_size = min(16.0, max(READABLE, self._lane * 0.5))
        measure, maximum = self._lane_measure(actor)
        labels = [self._world.columns[name] for name in self._numeric]
        if measure is not None:  # a step chart is labelled with its own level
            labels = [self._world.columns[measure]]
        chart = self._chart
        low, high = chart.left - 1, chart.right + 1
        starts, ends, rows = timeline.starts.tolist(), timeline.ends.tolist(), timeline.rows
        for k in self._visible(timeline.starts, timeline.ends):
            row = int(rows[k])
            left, right = clamp(self.x(starts[k]), low, high), clamp(self.x(ends[k]), low, high)
            # Every interval gets at least one pixel, so short events stay visible; wider
            # ones leave a one-pixel seam so that equal neighbours stay countable.
            width = max(1, right - left - (1 if right - left > 3 else 0))
            rect = pygame.Rect(left, top, width, height)
            if measure is not None:
                amount = _finite(self._world.columns[measure][row])
                level = min(max(amount / maximum, 0.0), 1.0) if amount is not None else 0.0
                bar_height = max(2, round(height * level))
                rect = pygame.Rect(left, top + height - bar_height, width, bar_height)
            colour = mix(self._colours[timeline.states[k]], PANEL, fade)
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

    def _band_colour(self, state: str) -> Colour:
        return self._colours.get(state, OTHER_COLOUR)

    def _paint_count_lane(self, surface: pygame.Surface, lane: Lane, fade: float) -> None:
        """Actors in a state over time, stacked by state (declaration order, bottom up).

        Each pixel column shows the mean count over its time span, scaled so the
        episode's peak fills the lane.
        """
        census = self._counts[lane.name].census
        top, height = self._bar_area(lane)
        peak = census.peak
        chart = self._chart
        self._text.draw(
            surface,
            str(peak),
            (chart.left - self._s(6), top),
            READABLE,
            MUTED,
            anchor="topright",
        )
        if peak == 0:
            return
        low, high = self._view.window
        edges = np.asarray(
            low + np.arange(chart.width + 1, dtype=np.float64) / chart.width * (high - low),
            np.float64,
        )
        stacked = np.cumsum(column_means(census, edges), axis=0) / peak * height
        pixels = np.rint(np.nan_to_num(stacked, nan=0.0, posinf=height)).astype(np.int64)
        pixels = np.clip(pixels, 0, height)
        bottom = top + height
        for k, state in enumerate(census.states):
            colour = mix(self._band_colour(state), PANEL, fade)
            lower = pixels[k - 1] if k else np.zeros(chart.width, np.int64)
            upper = pixels[k]
            # One rectangle per run of columns with the same extent: flat stretches are
            # common, and fewer draws keep building the painter quick.
            runs = np.flatnonzero(np.diff(lower) | np.diff(upper)) + 1
            starts = [0, *runs.tolist()]
            stops = [*runs.tolist(), chart.width]
            for first, stop in zip(starts, stops, strict=True):
                low_px, high_px = int(lower[first]), int(upper[first])
                if high_px > low_px:
                    rect = pygame.Rect(
                        chart.left + first, bottom - high_px, stop - first, high_px - low_px
                    )
                    pygame.draw.rect(surface, colour, rect)

    # -- frames --------------------------------------------------------------------

    def gantt(self) -> pygame.Surface:
        """The whole episode (or the window) in full colour, without a cursor (``--gantt``)."""
        return self._full.copy()

    def draw(self, surface: pygame.Surface, frame: Frame) -> None:
        """The faded chart, the past in full colour up to the cursor, and the current values."""
        surface.blit(self._faded, (0, 0))
        chart = self._chart
        x = self._axis.pixel(frame.time)
        past = pygame.Rect(chart.left, chart.top, x - chart.left, chart.height)
        surface.blit(self._full, past, past)
        pygame.draw.line(surface, INK, (x, chart.top - self._s(6)), (x, chart.bottom), 2)
        self._axis.draw_cursor(surface, frame.time)
        clock, size = self._text.shrink(
            self._axis.clock(frame.time), _CLOCK_SIZE, self._clock_width, smallest=READABLE
        )
        self._text.draw(
            surface,
            clock,
            (self._size[0] - self._s(_MARGIN), self._s(30)),
            size,
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
        return min(17.0, max(READABLE, self._lane * 0.5))

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
        counts = self._counter.count(frame) if self._counts else {}
        for lane in self._lanes:
            if lane.counts:
                self._draw_count_values(surface, lane, counts[lane.name])
                continue
            y = self._rect(lane).centery
            state = frame.state(lane.actor or lane.name)
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
        return self._s(14) + self._text.width(text, self._value_size())

    def _layout_kind_values(self, lane: Lane) -> _KindValues:
        """The rows of "state count" pieces beside a lane of counts.

        With the state names if every row fits the column at the widest count and the
        rows fit the lane's height; otherwise the counts alone on one row (the legend
        names the colours). Decided once, so the column keeps its form from frame to frame.
        """
        census = self._counts[lane.name].census
        bands = range(len(census.states))
        widest = str(max(census.peak, 1))
        available, gap = self._values_width(), self._s(12)
        rows: list[list[int]] = [[]]
        used = -gap
        for band in bands:
            needed = gap + self._piece_width(f"{census.states[band]} {widest}")
            if rows[-1] and used + needed > available:
                rows.append([])
                used = -gap
            rows[-1].append(band)
            used += needed
        line = self._s(self._value_size() * 1.2)
        fits = all(
            sum(self._piece_width(f"{census.states[b]} {widest}") + gap for b in row) - gap
            <= available
            for row in rows
        )
        if fits and len(rows) * line <= self._rect(lane).height:
            return _KindValues(names=True, rows=tuple(tuple(row) for row in rows))
        return _KindValues(names=False, rows=(tuple(bands),))

    def _draw_count_values(self, surface: pygame.Surface, lane: Lane, counts: list[int]) -> None:
        """A swatch and the count of actors per state (with the state's name if it fits)."""
        states = self._counts[lane.name].census.states
        layout = self._kind_values[lane.name]
        size = self._value_size()
        right = self._size[0] - self._s(_MARGIN)
        rect = self._rect(lane)
        for index, bands in enumerate(layout.rows):
            y = round(rect.top + (index + 0.5) * rect.height / len(layout.rows))
            x = self._values_left()
            for band in bands:
                count = str(counts[band])
                piece = f"{states[band]} {count}" if layout.names else count
                if x + self._piece_width(piece) > right:
                    # No room for the rest: say that something is left out rather than clip it.
                    if x + self._text.width(ELLIPSIS, size) <= right:
                        self._text.draw(surface, ELLIPSIS, (x, y), size, MUTED, anchor="midleft")
                    break
                swatch = pygame.Rect(x, y - self._s(5), self._s(10), self._s(10))
                colour = self._band_colour(states[band])
                pygame.draw.rect(surface, colour, swatch, border_radius=self._s(2))
                drawn = self._text.draw(
                    surface, piece, (swatch.right + self._s(4), y), size, INK, anchor="midleft"
                )
                x = drawn.right + self._s(12)
