"""The timeline painter's time axis: the window it shows, its ticks, and the overview strip.

A movie of a 10 s window of a 10^5 s episode must show those 10 s across the chart, or
its cursor moves less than a pixel and the movie is a still picture. So the chart's
axis spans the window the movie shows (``Scene.window``), and, when that is less than
the episode, a thin overview strip under the axis shows the whole episode with the
window marked on it and the cursor's place in the episode.

Everything here is bounded by pixels, never by the table's numbers: the ticks come
from :mod:`stages.render.paintkit.scale` (a few dozen at most, for any span), their
labels have just the digits that tell them apart and are thinned until they do not
overlap, and positions far outside the chart are clamped before pygame sees them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

import pygame

from stages.render.paintkit import INK, MUTED, PANEL, RULE, TRACK, Scene, Text, mix
from stages.render.paintkit.scale import seconds_label, tick_label, ticks

TICK_SIZE: Final = 16
"""Design size of the tick labels."""
OVERVIEW: Final = 30
"""Design height of the overview strip, when there is one."""
_LABEL_GAP: Final = 14
"""Design pixels at least between two tick labels."""
_TICK_SPACING: Final = 90
"""Design pixels between ticks aimed at (more if the labels are wide)."""
_WINDOW_MIN: Final = 3
"""The window's mark on the overview is at least this many pixels wide, however short."""


def clamp(value: float, low: int, high: int) -> int:
    """`value` rounded to a pixel inside [low, high]: pygame wants coordinates that fit an
    int, and a time far outside the window maps to a huge (or, for NaN, no) pixel."""
    if not math.isfinite(value):
        return low if value != math.inf else high
    return round(min(max(value, low), high))


@dataclass(frozen=True)
class TimeView:
    """Which simulated seconds the chart's columns show, and the episode around them."""

    episode: tuple[float, float]
    """The episode's start and end."""
    window: tuple[float, float]
    """The seconds at the chart's left and right edges (the whole episode, or less)."""

    @classmethod
    def of(cls, scene: Scene) -> TimeView:
        """The scene's window (``Scene.window``) inside its episode; the episode without one."""
        episode = (scene.start_time, scene.end_time)
        window = scene.window or episode
        low, high = max(window[0], episode[0]), min(window[1], episode[1])
        return cls(episode, (low, high) if high > low else episode)

    @property
    def zoomed(self) -> bool:
        """Whether the chart shows less than the whole episode (then an overview is drawn)."""
        return self.window != self.episode

    def fraction(self, time: float) -> float:
        """Where `time` is across the chart: 0 at the left edge, 1 at the right."""
        low, high = self.window
        return (time - low) / (high - low)

    def episode_fraction(self, time: float) -> float:
        """Where `time` is in the whole episode: 0 at its start, 1 at its end."""
        low, high = self.episode
        return (time - low) / (high - low)


class TimeAxis:
    """The axis under a chart rectangle and, when zoomed, the overview strip under it.

    Args:
        view: The seconds shown.
        chart: The chart's pixels (the axis is drawn under its bottom edge).
        text: The painter's text cache.
        scale: The painter's size factor.
    """

    def __init__(self, view: TimeView, chart: pygame.Rect, text: Text, scale: float) -> None:
        self.view = view
        self.chart = chart
        self._text = text
        self._k = scale

    def _s(self, value: float) -> int:
        return round(value * self._k)

    def x(self, time: float) -> float:
        """The pixel x of simulated `time` (outside the chart for a time outside the window)."""
        return self.chart.left + self.view.fraction(time) * self.chart.width

    def pixel(self, time: float) -> int:
        """:meth:`x` as a whole pixel, clamped to the chart."""
        return clamp(self.x(time), self.chart.left, self.chart.right)

    def resolution(self) -> float:
        """Simulated seconds one pixel column of the chart stands for."""
        low, high = self.view.window
        return (high - low) / max(1, self.chart.width)

    def clock(self, time: float) -> str:
        """``t = 42.5 s``, with the decimals a pixel column of this chart needs (one at
        least): a 10 s window shows hundredths, a window at 1e15 every digit it moves by."""
        return f"t = {seconds_label(time, self.resolution())} s"

    def ticks(self) -> tuple[list[float], list[str]]:
        """The ticks under the chart and their labels: round values, as many as fit with
        their labels apart (the target halves until they do, so a few rounds at most)."""
        target = max(2, self.chart.width // self._s(_TICK_SPACING))
        while True:
            values = ticks(*self.view.window, target)
            step = values[1] - values[0] if len(values) > 1 else 0.0
            labels = [tick_label(value, step) for value in values]
            widest = max((self._text.width(label, TICK_SIZE) for label in labels), default=0)
            spacing = self.chart.width / max(1, len(values) - 1)
            if target <= 2 or len(values) < 2 or widest + self._s(_LABEL_GAP) <= spacing:
                return values, labels
            target //= 2

    def paint(self, surface: pygame.Surface) -> None:
        """The axis line, its ticks and labels, its caption; and the overview when zoomed."""
        chart, s = self.chart, self._s
        y = chart.bottom
        pygame.draw.line(surface, RULE, (chart.left, y), (chart.right, y), 1)
        for value, label in zip(*self.ticks(), strict=True):
            x = self.pixel(value)
            pygame.draw.line(surface, RULE, (x, y), (x, y + s(6)), 1)
            self._text.draw(surface, label, (x, y + s(16)), TICK_SIZE, MUTED)
        self._text.draw(
            surface, "simulated s", (chart.right, y + s(30)), 15, MUTED, anchor="midright"
        )
        if self.view.zoomed:
            self._paint_overview(surface)

    # -- the overview strip ------------------------------------------------------------

    def overview_rect(self) -> pygame.Rect:
        """The overview strip's track: the whole episode across the chart's width."""
        top = self.chart.bottom + self._s(34 + 10)
        return pygame.Rect(self.chart.left, top, self.chart.width, max(2, self._s(10)))

    def overview_x(self, time: float) -> int:
        """The pixel x of `time` on the overview strip."""
        track = self.overview_rect()
        return clamp(
            track.left + self.view.episode_fraction(time) * track.width, track.left, track.right
        )

    def window_rect(self) -> pygame.Rect:
        """The window's mark on the overview strip (at least a few pixels wide)."""
        track = self.overview_rect()
        left, right = (self.overview_x(t) for t in self.view.window)
        width = max(self._s(_WINDOW_MIN), right - left)
        left = min(left, track.right - width)
        return pygame.Rect(left, track.top - self._s(3), width, track.height + self._s(6))

    def _paint_overview(self, surface: pygame.Surface) -> None:
        track, text, s = self.overview_rect(), self._text, self._s
        pygame.draw.rect(surface, TRACK, track, border_radius=s(3))
        pygame.draw.rect(surface, mix(INK, PANEL, 0.35), self.window_rect(), border_radius=s(2))
        low, high = self.view.episode
        text.draw(
            surface,
            text.fit("episode", 15, track.left - s(24 + 8)),
            (s(24), track.centery),
            15,
            MUTED,
            anchor="midleft",
        )
        span = f"{tick_label(low, high - low)} to {tick_label(high, high - low)} s"
        room = surface.get_width() - s(24) - (track.right + s(14))
        text.draw(
            surface,
            text.fit(span, 15, room),
            (track.right + s(14), track.centery),
            15,
            MUTED,
            anchor="midleft",
        )

    def draw_cursor(self, surface: pygame.Surface, time: float) -> None:
        """Per frame: where `time` is in the whole episode, on the overview strip."""
        if not self.view.zoomed:
            return
        window = self.window_rect()
        x = self.overview_x(time)
        top, bottom = window.top - self._s(3), window.bottom + self._s(2)
        pygame.draw.line(surface, INK, (x, top), (x, bottom), 2)
