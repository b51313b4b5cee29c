"""The live chart of a side-by-side frame: both sides' counter over the one clock.

The card's figures are the end of the story; the chart shows how each side got there.
It follows the domain's counter (the first ``kind: "counter"`` actor with a quantity:
the factory's finished items, the cashier's served customers) for both episodes on one
time axis, the past in full colour and the future faded, with a cursor at the frame's
time, a dot on each line and both current values in the card's corner. An episode
that ended early stops its line there, with a mark.

Speed: the card with faded lines is part of the frame's background and a copy with
bright lines is painted once; a frame copies the bright part left of the cursor (one
clipped blit), draws a line, two dots and two cached labels.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import pygame

from stages.inspect.cells import number
from stages.render.chart import ChartFrame, draw_steps, paint_axes, step_points, value_range
from stages.render.paintkit import (
    INK,
    MUTED,
    PANEL,
    Colour,
    Text,
    disc,
    frame_surface,
    mix,
    shadowed_panel,
)
from stages.render.series import Quantity, StepSeries
from stages.terminal import printable

_PAD: Final = 20
_TITLE_HEIGHT: Final = 50
_LEFT_AXIS: Final = 56
_BOTTOM_AXIS: Final = 52
_FADE: Final = 0.72
_LINE: Final = 3
_DOT: Final = 6
_VALUE_SIZE: Final = 24


@dataclass(frozen=True)
class ChartLine:
    """One side's episode on the chart."""

    letter: str
    colour: Colour
    series: StepSeries


class LiveChart:
    """Lays out the chart card in `rect` for `lines` over simulated `times` at canvas `scale`."""

    def __init__(
        self,
        rect: pygame.Rect,
        quantity: Quantity,
        lines: Sequence[ChartLine],
        times: tuple[float, float],
        text: Text,
        scale: float,
    ) -> None:
        self.rect = rect
        self._quantity = quantity
        self._lines = list(lines)
        self._text = text
        self._k = scale
        s = self._s
        finite = [float(v) for line in self._lines for v in line.series.values if math.isfinite(v)]
        highest, lowest = max(finite, default=1.0), min(finite, default=0.0)
        area = pygame.Rect(
            rect.left + s(_PAD + _LEFT_AXIS),
            rect.top + s(_TITLE_HEIGHT),
            rect.width - s(2 * _PAD + _LEFT_AXIS),
            rect.height - s(_TITLE_HEIGHT + _BOTTOM_AXIS),
        )
        # The lowest too: a count may be negative in a table from anywhere (-2**63).
        self.chart = ChartFrame(area, times, value_range(highest, lowest))
        self._dots = {
            line.letter: disc(_DOT * scale, line.colour, ring=PANEL, ring_width=2 * scale)
            for line in self._lines
        }
        self._bright = frame_surface(rect.size)
        self._background: pygame.Surface | None = None
        """The frame background holding the faded card (set by :meth:`paint`)."""
        self._cursor: int | None = None
        """The cursor's x in the previous frame."""
        self._drawn: list[pygame.Rect] = []
        """What the previous frame drew over the card."""

    def _s(self, value: float) -> int:
        return round(value * self._k)

    def paint(self, background: pygame.Surface) -> None:
        """The card with faded lines into `background`, and the bright copy for :meth:`draw`."""
        s, text, rect = self._s, self._text, self.rect
        shadowed_panel(background, rect, PANEL, radius=s(12), shadow=s(3))
        quantity = self._quantity
        title = f"{printable(quantity.actor)} · {printable(quantity.attribute)} over simulated time"
        room = rect.width - s(2 * _PAD + 260)
        text.draw(
            background,
            text.fit(title, 24, room, bold=True),
            (rect.left + s(_PAD), rect.top + s(_TITLE_HEIGHT / 2 + 4)),
            24,
            INK,
            anchor="midleft",
            bold=True,
        )
        paint_axes(background, self.chart, text, self._k, x_ticks=12)
        bright = background.copy()
        self._paint_lines(bright, fade=False)
        self._bright = bright.subsurface(rect).copy()
        self._paint_lines(background, fade=True)
        self._background = background

    def _paint_lines(self, surface: pygame.Surface, *, fade: bool) -> None:
        chart, s = self.chart, self._s
        for line in self._lines:
            colour = mix(line.colour, PANEL, _FADE) if fade else line.colour
            series = line.series
            corners = step_points(chart, series.times, series.values, series.end_time)
            draw_steps(surface, corners, colour, max(2, s(_LINE)))
            if series.end_time < chart.times[1] and corners:
                x, y = corners[-1]
                pygame.draw.line(surface, colour, (x, y - s(12)), (x, y + s(12)), max(2, s(3)))
                self._text.draw(
                    surface,
                    f"{line.letter} ended",
                    (x + s(6), y - s(14)),
                    17,
                    colour,
                    anchor="bottomleft",
                )

    def draw(self, surface: pygame.Surface, time: float, *, fresh: bool) -> None:
        """Per frame: the past bright, the cursor, a dot on each line and the current values.

        `fresh` says `surface` holds the background (the faded card) as painted; else it
        holds this chart's previous frame, and only what that frame drew and the span the
        cursor moved over are copied back (from the bright copy left of the cursor, from
        the background right of it) before drawing.
        """
        s, chart = self._s, self.chart
        cursor = chart.px(time)
        area = chart.rect
        if fresh or self._cursor is None:
            past = pygame.Rect(
                area.left - s(8), area.top - s(16), cursor - area.left + s(8), area.height + s(24)
            )
            self._restore(surface, past, cursor)
        else:
            for rect in self._drawn:
                self._restore(surface, rect, cursor)
            low, high = sorted((self._cursor, cursor))
            span = pygame.Rect(low - s(2), area.top - s(16), high - low + s(4), area.height + s(24))
            self._restore(surface, span, cursor)
        self._cursor = cursor
        self._drawn = self._draw_live(surface, time, cursor)

    def _restore(self, surface: pygame.Surface, rect: pygame.Rect, cursor: int) -> None:
        """Copy `rect` back: bright left of `cursor`, faded (the background) from it on."""
        rect = rect.clip(self.rect)
        if rect.width <= 0 or rect.height <= 0:
            return
        left = pygame.Rect(
            rect.left, rect.top, max(0, min(rect.right, cursor) - rect.left), rect.height
        )
        if left.width > 0:
            surface.blit(self._bright, left, left.move(-self.rect.left, -self.rect.top))
        right = pygame.Rect(max(rect.left, cursor), rect.top, 0, rect.height)
        right.width = max(0, rect.right - right.left)
        if right.width > 0 and self._background is not None:
            surface.blit(self._background, right, right)

    def _draw_live(self, surface: pygame.Surface, time: float, cursor: int) -> list[pygame.Rect]:
        """The cursor, the dots and the values; returns the rectangles drawn on."""
        s, chart, text = self._s, self.chart, self._text
        area = chart.rect
        drawn = [
            pygame.draw.line(surface, INK, (cursor, area.top), (cursor, area.bottom), max(1, s(2)))
        ]
        right = self.rect.right - s(_PAD)
        middle = self.rect.top + s(_TITLE_HEIGHT / 2 + 4)
        for line in reversed(self._lines):
            series = line.series
            at = min(time, series.end_time)
            value = series.value_at(at)
            if math.isfinite(value):
                spot = (chart.px(at), chart.py(value))
                sprite = self._dots[line.letter]
                drawn.append(surface.blit(sprite, sprite.get_rect(center=spot)))
            shown = "-" if not math.isfinite(value) else number(value)
            # Fitted: a value from a table may have any number of digits.
            shown = text.fit(shown, _VALUE_SIZE, max(1, self.rect.width // 4), bold=True)
            figure = text.draw(
                surface,
                shown,
                (right, middle),
                _VALUE_SIZE,
                line.colour,
                anchor="midright",
                bold=True,
            )
            letter = text.draw(
                surface, line.letter, (figure.left - s(8), middle), 20, MUTED, anchor="midright"
            )
            drawn += [figure, letter]
            right = letter.left - s(22)
        return drawn
