"""A value-over-time chart drawn with pygame: axes, round ticks, step lines and bands.

simreel has no plotting library (matplotlib is not a dependency, and the renderer's
pictures should look like its movies), so ``simreel compare --plot`` and the live
chart of a side-by-side movie draw with this: the chart maps simulated seconds and
values to pixels of a rectangle, paints its axes once, and draws step functions as
horizontal and vertical runs of whole pixels, so a count that rises by one is a crisp
stair at every scale.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
import pygame
from numpy.typing import NDArray

from stages.inspect.cells import number
from stages.render.paintkit import MUTED, RULE, Colour, Text, mix
from stages.render.paintkit.scale import tick_label, tick_step, ticks

__all__ = [
    "ChartFrame",
    "column_corners",
    "draw_band",
    "draw_steps",
    "legend_swatch",
    "paint_axes",
    "step_points",
    "tick_step",
    "ticks",
    "value_range",
]

_TICK_SIZE: Final = 15
"""Design size of tick labels."""


def value_range(highest: float, lowest: float = 0.0) -> tuple[float, float]:
    """A y range from `lowest` (at most 0: counts and levels start from the floor) up to a
    round value at or above `highest`, never empty."""
    low = min(0.0, lowest) if math.isfinite(lowest) else 0.0
    if not math.isfinite(highest) or highest <= low:
        # Not low + 1: at -9.2e18 (an int64 extreme in a table) that is low itself.
        return low, low + max(1.0, abs(low))
    step = tick_step(highest - low, 5)
    high = math.ceil(highest / step - 1e-9) * step
    # A round top beyond the largest float (highest near 1.8e308) is the value itself.
    return low, high if math.isfinite(high) and high >= highest else highest


def _fraction(value: float, low: float, high: float) -> float:
    """Where `value` is from `low` (0) to `high` (1), computed on halves so that a span
    from -1e308 to 1e308 does not overflow; 0 for an empty or non-finite span."""
    span = high / 2 - low / 2
    if not (span > 0 and math.isfinite(span)):
        return 0.0
    return (value / 2 - low / 2) / span


def _pixel(position: float, low: int, high: int, margin: int) -> int:
    """`position` rounded, clamped to [low - margin, high + margin]; NaN goes to `low`."""
    if math.isnan(position):
        return low
    return round(min(max(position, low - margin), high + margin))


@dataclass(frozen=True)
class ChartFrame:
    """Where a chart is and what it shows: pixels, and the data ranges they stand for."""

    rect: pygame.Rect
    """The plotting area in pixels (axis labels go outside it)."""
    times: tuple[float, float]
    """Simulated seconds at the left and the right edge."""
    values: tuple[float, float]
    """Values at the bottom and the top edge."""

    def x(self, time: float) -> float:
        """Pixel x of simulated `time`."""
        return self.rect.left + _fraction(time, *self.times) * self.rect.width

    def y(self, value: float) -> float:
        """Pixel y of `value` (up is more)."""
        return self.rect.bottom - _fraction(value, *self.values) * self.rect.height

    def px(self, time: float) -> int:
        """:meth:`x` as a whole pixel, kept within a chart's width of the plotting area
        (a value from a table may map a billion charts away, or nowhere: NaN)."""
        return _pixel(self.x(time), self.rect.left, self.rect.right, self.rect.width)

    def py(self, value: float) -> int:
        """:meth:`y` as a whole pixel, kept within a chart's height of the plotting area."""
        return _pixel(self.y(value), self.rect.top, self.rect.bottom, self.rect.height)

    def columns(self) -> NDArray[np.float64]:
        """The simulated time at the centre of every pixel column of the plotting area."""
        low, high = self.times
        width = max(1, self.rect.width)
        return low + (np.arange(width, dtype=np.float64) + 0.5) / width * (high - low)


def paint_axes(
    surface: pygame.Surface,
    chart: ChartFrame,
    text: Text,
    scale: float,
    *,
    time_label: str = "simulated seconds",
    x_ticks: int = 10,
    y_ticks: int = 5,
) -> None:
    """Grid lines at round values with their labels left of the area, time ticks below
    it and `time_label` under them (painted once, into a background)."""
    rect = chart.rect
    gap = max(2, round(6 * scale))
    for value in ticks(*chart.values, y_ticks):
        y = chart.py(value)
        pygame.draw.line(surface, mix(RULE, (255, 255, 255), 0.45), (rect.left, y), (rect.right, y))
        text.draw(
            surface, number(value), (rect.left - gap, y), _TICK_SIZE, MUTED, anchor="midright"
        )
    pygame.draw.line(surface, RULE, rect.bottomleft, rect.bottomright, max(1, round(scale)))
    times = ticks(*chart.times, x_ticks)
    step = times[1] - times[0] if len(times) > 1 else 0.0
    for time in times:
        x = chart.px(time)
        pygame.draw.line(surface, RULE, (x, rect.bottom), (x, rect.bottom + gap))
        label = tick_label(time, step)
        text.draw(surface, label, (x, rect.bottom + gap), _TICK_SIZE, MUTED, anchor="midtop")
    label_top = rect.bottom + gap + text.font(_TICK_SIZE).get_linesize()
    text.draw(surface, time_label, (rect.centerx, label_top), _TICK_SIZE, MUTED, anchor="midtop")


def step_points(
    chart: ChartFrame, times: NDArray[np.float64], values: NDArray[np.float64], end: float
) -> list[tuple[int, int]]:
    """A step function (each value holds from its time to the next) as pixel corners up
    to simulated time `end`: start of each run, in order; the last corner closes the run."""
    low, high = chart.times
    end = min(end, high)
    corners: list[tuple[int, int]] = []
    for k, (time, value) in enumerate(zip(times.tolist(), values.tolist(), strict=True)):
        stop = times[k + 1] if k + 1 < len(times) else end
        if stop < low or time > end or not math.isfinite(value):
            continue
        corners.append((chart.px(max(time, low)), chart.py(value)))
    if corners:
        corners.append((chart.px(end), corners[-1][1]))
    return corners


def draw_steps(
    surface: pygame.Surface, corners: Sequence[tuple[int, int]], colour: Colour, width: int
) -> None:
    """Stairs through `corners` (from :func:`step_points` or one per pixel column):
    a horizontal run from each corner to the next one's x, then a vertical rise, each a
    filled rectangle `width` pixels thick, so joints are square and nothing is blurred."""
    half = width // 2
    for (x0, y0), (x1, y1) in itertools.pairwise(corners):
        pygame.draw.rect(surface, colour, pygame.Rect(x0 - half, y0 - half, x1 - x0 + width, width))
        if y1 != y0:
            top = min(y0, y1)
            pygame.draw.rect(
                surface, colour, pygame.Rect(x1 - half, top - half, width, abs(y1 - y0) + width)
            )


def column_corners(chart: ChartFrame, values: NDArray[np.float64]) -> list[list[tuple[int, int]]]:
    """Values sampled at :meth:`ChartFrame.columns` as runs of corners, split where a value
    is NaN (no value there), each run closed at its last column's right edge."""
    runs: list[list[tuple[int, int]]] = []
    current: list[tuple[int, int]] = []
    left = chart.rect.left
    for column, value in enumerate(values.tolist()):
        if not math.isfinite(value):
            if current:
                runs.append(current)
            current = []
            continue
        y = chart.py(value)
        if not current or current[-1][1] != y:
            current.append((left + column, y))
        if column + 1 == len(values) or not math.isfinite(values[column + 1]):
            current.append((left + column + 1, y))
    if current:
        runs.append(current)
    return [run for run in runs if len(run) >= 2]


def draw_band(
    surface: pygame.Surface,
    chart: ChartFrame,
    low: NDArray[np.float64],
    high: NDArray[np.float64],
    colour: Colour,
    alpha: int,
) -> None:
    """A translucent band between `low` and `high` (sampled per pixel column), so two
    bands that overlap both stay visible. For pictures drawn once: it is a per-pixel
    alpha blit of the plotting area."""
    rect = chart.rect
    layer = pygame.Surface(rect.size, pygame.SRCALPHA)
    for column, (bottom, top) in enumerate(zip(low.tolist(), high.tolist(), strict=True)):
        if not (math.isfinite(bottom) and math.isfinite(top)):
            continue
        y_top, y_bottom = chart.py(top) - rect.top, chart.py(bottom) - rect.top
        pygame.draw.line(layer, (*colour, alpha), (column, y_top), (column, y_bottom))
    surface.blit(layer, rect)


def legend_swatch(
    surface: pygame.Surface, centre: tuple[int, int], colour: Colour, size: int
) -> None:
    """A short thick line in `colour`, as the chart draws its lines, for a legend."""
    rect = pygame.Rect(0, 0, size, max(2, size // 5))
    rect.center = centre
    pygame.draw.rect(surface, colour, rect)
