"""Learning curves as a PNG: every run's headline KPI over its timesteps, and the target.

A sweep's quality at a glance: which runs reached the target, how soon, and which
settled below it. Drawn with pygame through the render stage's paint kit (its packaged
fonts and colours), and written with :func:`stages.render.png.write_png`, which embeds
the provenance as text chunks, as every picture simreel writes does. No plotting
library is needed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import pygame

from stages.render.paintkit import CATEGORICAL, INK, MUTED, PANEL, PAPER, RULE, Text, dashed_line
from stages.render.png import write_png

SIZE: Final = (1280, 720)
"""Picture size in pixels."""
_PLOT: Final = pygame.Rect(96, 78, 860, 560)
"""The plot area; the legend goes to its right."""
_LEGEND_X: Final = 986
_LEGEND_ROWS: Final = 24
"""Runs named in the legend; beyond, one line says how many more."""
_TARGET: Final = (207, 34, 46)


@dataclass(frozen=True)
class Curve:
    """One run's evaluations."""

    label: str
    """How the legend names the run (its seed and swept values)."""
    points: tuple[tuple[int, float], ...]
    """(timestep, KPI) of every evaluation, in order."""


def draw_curves(
    curves: Sequence[Curve], *, kpi: str, title: str, target: float | None = None
) -> pygame.Surface:
    """The picture: a line per curve, a dashed line at `target`, axes, legend and title."""
    surface = pygame.Surface(SIZE)
    surface.fill(PAPER)
    text = Text()
    pygame.draw.rect(surface, PANEL, _PLOT)
    x_max = max((t for curve in curves for t, _ in curve.points), default=1) or 1
    values = [v for curve in curves for _, v in curve.points]
    if target is not None:
        values.append(target)
    y_low = min([0.0, *values])
    y_high = max([1.0, *values])
    y_ticks = nice_ticks(y_low, y_high)
    x_ticks = [tick for tick in nice_ticks(0, x_max) if tick <= x_max]
    y_low, y_high = min(y_low, y_ticks[0]), max(y_high, y_ticks[-1])
    x_high = x_max

    def at(timestep: float, value: float) -> tuple[float, float]:
        x = _PLOT.left + _PLOT.width * timestep / x_high
        y = _PLOT.bottom - _PLOT.height * (value - y_low) / ((y_high - y_low) or 1.0)
        return x, y

    for tick in y_ticks:
        _, y = at(0, tick)
        pygame.draw.line(surface, RULE, (_PLOT.left, y), (_PLOT.right, y))
        label = text.render(_number(tick), 15, MUTED)
        surface.blit(label, label.get_rect(midright=(_PLOT.left - 8, y)))
    for tick in x_ticks:
        x, _ = at(tick, y_low)
        pygame.draw.line(surface, RULE, (x, _PLOT.top), (x, _PLOT.bottom))
        label = text.render(_number(tick), 15, MUTED)
        surface.blit(label, label.get_rect(midtop=(x, _PLOT.bottom + 8)))
    pygame.draw.rect(surface, RULE, _PLOT, width=1)
    if target is not None:
        _, y = at(0, target)
        dashed_line(surface, _TARGET, [(_PLOT.left, y), (_PLOT.right, y)], width=2)
        label = text.render(f"target {_number(target)}", 13, _TARGET, bold=True)
        surface.blit(label, label.get_rect(bottomright=(_PLOT.right - 6, y - 4)))
    for index, curve in enumerate(curves):
        colour = CATEGORICAL[index % len(CATEGORICAL)]
        points = [at(t, v) for t, v in curve.points]
        if len(points) > 1:
            pygame.draw.lines(surface, colour, False, points, 2)
        for point in points[-1:]:
            pygame.draw.circle(surface, colour, point, 4)
    x_title = text.render("timesteps", 16, INK)
    surface.blit(x_title, x_title.get_rect(midtop=(_PLOT.centerx, _PLOT.bottom + 32)))
    y_title = pygame.transform.rotate(text.render(kpi.replace("_", " "), 16, INK), 90)
    surface.blit(y_title, y_title.get_rect(center=(28, _PLOT.centery)))
    heading = text.render(title, 22, INK, bold=True)
    surface.blit(heading, (_PLOT.left, 28))
    _legend(surface, text, curves)
    return surface


def _legend(surface: pygame.Surface, text: Text, curves: Sequence[Curve]) -> None:
    y = _PLOT.top
    for index, curve in enumerate(curves[:_LEGEND_ROWS]):
        colour = CATEGORICAL[index % len(CATEGORICAL)]
        pygame.draw.line(surface, colour, (_LEGEND_X, y + 9), (_LEGEND_X + 22, y + 9), 3)
        best = max((v for _, v in curve.points), default=float("nan"))
        label = text.fit(f"{curve.label}: best {_number(best)}", 15, SIZE[0] - _LEGEND_X - 40)
        surface.blit(text.render(label, 15, INK), (_LEGEND_X + 30, y))
        y += 22
    if len(curves) > _LEGEND_ROWS:
        more = text.render(f"and {len(curves) - _LEGEND_ROWS} more runs", 13, MUTED)
        surface.blit(more, (_LEGEND_X + 30, y))


def write_curves(
    path: Path,
    curves: Sequence[Curve],
    *,
    kpi: str,
    title: str,
    target: float | None,
    provenance: Mapping[str, str],
) -> Path:
    """Draw the curves and write them to `path` (atomically) with `provenance` as text."""
    return write_png(draw_curves(curves, kpi=kpi, title=title, target=target), path, provenance)


def nice_ticks(low: float, high: float, count: int = 6) -> list[float]:
    """About `count` round tick values covering [low, high] (steps of 1, 2 or 5 x 10^n,
    whichever gives the number of intervals nearest ``count - 1``)."""
    span = (high - low) or 1.0
    raw = span / max(count - 1, 1)
    power = 10 ** math.floor(math.log10(raw))
    step = min((m * power for m in (1, 2, 5, 10)), key=lambda m: abs(span / m - (count - 1)))
    first = math.floor(low / step) * step
    ticks = []
    value = first
    while value < high + step * 1e-9:
        ticks.append(round(value, 10))
        value += step
    if ticks[-1] < high:
        ticks.append(round(value, 10))
    return ticks


def _number(value: float) -> str:
    if not math.isfinite(value):
        return "-"
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:.3g}"
