"""``simreel compare --plot``: a quantity over simulated time for both tables, as a PNG.

The KPI table says where the episodes ended up; the plot shows the way there. For the
chosen quantity (a counter such as ``finished`` or ``served``, or a level such as a
buffer's), each table gets the mean over its episodes as a thick line with its 95%
interval as a translucent band, and each episode as a thin line (the first
:data:`MAX_THIN`; the picture says when more were left out). An episode that ended
early holds its last value in the mean, and its thin line stops where it ended.

Drawn with pygame and the paint kit (``stages.render.chart``), as the movies are, and
written atomically with its provenance (both tables' files and sha256, how each was
recorded, what was plotted) in its own text chunks.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np
import pygame
from numpy.typing import NDArray

from schemas.provenance import simreel_version
from stages.compare.intervals import CONFIDENCE, t_quantile
from stages.compare.tables import ComparedTable
from stages.render.chart import (
    ChartFrame,
    column_corners,
    draw_band,
    draw_steps,
    paint_axes,
    step_points,
    value_range,
)
from stages.render.labels import SIDE_COLOURS
from stages.render.paintkit import (
    INK,
    MUTED,
    PANEL,
    PAPER,
    Colour,
    Text,
    frame_surface,
    mix,
    shadowed_panel,
)
from stages.render.pairing import describe_domain
from stages.render.png import write_png
from stages.render.provenance import domain_record, recorded_essentials, table_record
from stages.render.series import Quantity, StepSeries, series
from stages.terminal import printable

WIDTH: Final = 1280
HEIGHT: Final = 720
MAX_THIN: Final = 50
"""Thin per-episode lines drawn per table at most: beyond, they are a smear."""
_BAND_ALPHA: Final = 56
_THIN_TINT: Final = 0.62
"""How far a thin line's colour moves towards the card's white."""
_CHART: Final = (112, 196, 1120, 440)
"""The plotting area (left, top, width, height) in design units."""


@dataclass(frozen=True)
class PlotSide:
    """One table on the plot."""

    table: ComparedTable
    colour: Colour
    series: list[StepSeries]

    def label(self) -> str:
        """``A  model 89cd7762… · m5.parquet · 5 episodes`` (escaped)."""
        count = len(self.series)
        episodes = f"{count} episode" + ("" if count == 1 else "s")
        return f"{self.table.policy} · {printable(self.table.path.name)} · {episodes}"


def plot_sides(tables: Sequence[ComparedTable], quantity: Quantity) -> list[PlotSide]:
    """Each table's step series of `quantity`, in its side's colour."""
    return [
        PlotSide(table, colour, series(table.table, quantity))
        for table, colour in zip(tables, SIDE_COLOURS, strict=True)
    ]


def mean_band(
    found: Sequence[StepSeries], times: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """The mean over episodes at each of `times` and its 95% t interval (NaN where fewer
    than 2 episodes have a value, or none for the mean)."""
    if not found:
        empty = np.full(len(times), np.nan)
        return empty, empty, empty
    values = np.vstack([step.at(times) for step in found])
    present = np.isfinite(values)
    counts = present.sum(axis=0)
    sums = np.where(present, values, 0.0).sum(axis=0)
    mean = np.divide(sums, counts, out=np.full(len(times), np.nan), where=counts > 0)
    squares = np.where(present, (values - mean) ** 2, 0.0).sum(axis=0)
    spread = np.divide(squares, counts - 1, out=np.full(len(times), np.nan), where=counts > 1)
    quantiles = {
        int(n): t_quantile(0.5 + CONFIDENCE / 2, float(n - 1)) for n in np.unique(counts) if n > 1
    }
    factor = np.array([quantiles.get(int(n), math.nan) for n in counts])
    half = factor * np.sqrt(spread) / np.sqrt(np.maximum(counts, 1))
    return mean, mean - half, mean + half


def chart_frame(sides: Sequence[PlotSide], scale: float) -> ChartFrame:
    """Where the plot's chart is and what it spans: from the earliest start (0) to the
    latest end of any episode, from 0 (or the lowest value) to a round value over the
    highest."""
    steps = [step for side in sides for step in side.series if len(step.times)]
    end = max((step.end_time for step in steps), default=1.0)
    start = min((min(0.0, float(step.times[0])) for step in steps), default=0.0)
    highest = max((float(np.max(step.values)) for step in steps), default=1.0)
    lowest = min((float(np.min(step.values)) for step in steps), default=0.0)
    left, top, width, height = _CHART
    return ChartFrame(
        pygame.Rect(
            round(left * scale), round(top * scale), round(width * scale), round(height * scale)
        ),
        (start, end if end > start else start + 1.0),
        value_range(highest, lowest),
    )


def paint_plot(
    quantity: Quantity, sides: Sequence[PlotSide], *, scale: float = 1.0
) -> pygame.Surface:
    """The plot as a picture of 1280 x 720 design units at `scale`."""
    size = (round(WIDTH * scale), round(HEIGHT * scale))
    surface = frame_surface(size)
    surface.fill(PAPER)
    text = Text(scale)

    def s(value: float) -> int:
        return round(value * scale)

    title = f"{printable(quantity.actor)} · {printable(quantity.attribute)} over simulated time"
    text.draw(
        surface,
        text.fit(title, 40, s(1200), bold=True),
        (s(32), s(40)),
        40,
        INK,
        anchor="midleft",
        bold=True,
    )
    domain = describe_domain(sides[0].table.table.metadata)
    subtitle = (
        f"{domain} · thick: the mean over episodes, band: its {CONFIDENCE:.0%} interval · "
        "thin: each episode (an ended one's value holds in the mean)"
    )
    text.draw(surface, text.fit(subtitle, 20, s(1216)), (s(32), s(76)), 20, MUTED, anchor="midleft")
    shadowed_panel(surface, pygame.Rect(s(24), s(100), s(1232), s(604)), radius=s(14), shadow=s(3))
    for index, side in enumerate(sides):
        y = s(128 + 30 * index)
        chip = pygame.Rect(0, 0, s(26), s(26))
        chip.midleft = (s(48), y)
        pygame.draw.rect(surface, side.colour, chip, border_radius=s(6))
        text.draw(surface, side.table.letter, chip.center, 21, PANEL, bold=True)
        label = side.label()
        if len(side.series) > MAX_THIN:
            label += f" (thin lines: the first {MAX_THIN})"
        text.draw(
            surface,
            text.fit(label, 21, s(1150)),
            (chip.right + s(12), y),
            21,
            INK,
            anchor="midleft",
        )
    chart = chart_frame(sides, scale)
    paint_axes(surface, chart, text, scale, x_ticks=12, y_ticks=6)
    times = chart.columns()
    bands = [mean_band(side.series, times) for side in sides]
    for side in sides:
        thin = mix(side.colour, PANEL, _THIN_TINT)
        for step in side.series[:MAX_THIN]:
            draw_steps(
                surface,
                step_points(chart, step.times, step.values, step.end_time),
                thin,
                max(1, s(1)),
            )
    for side, (_, low, high) in zip(sides, bands, strict=True):
        draw_band(surface, chart, low, high, side.colour, _BAND_ALPHA)
    for side, (mean, _, _) in zip(sides, bands, strict=True):
        for run in column_corners(chart, mean):
            draw_steps(surface, run, side.colour, max(2, s(3)))
    return surface


def plot_record(quantity: Quantity, tables: Sequence[ComparedTable]) -> dict[str, Any]:
    """The plot's provenance: both tables (file, sha256, schema version, how recorded, how
    many episodes) and what was plotted."""
    return {
        "simreel_version": simreel_version(),
        "domain": domain_record(tables[0].table),
        "compare": [
            {
                "side": table.letter,
                "table": table_record(table.table, table.path),
                "episodes": table.episodes,
                "recorded": recorded_essentials(table.table.metadata.provenance),
            }
            for table in tables
        ],
        "plot": {
            "actor": quantity.actor,
            "attribute": quantity.attribute,
            "confidence": CONFIDENCE,
        },
    }


def write_plot(
    out: Path, quantity: Quantity, tables: Sequence[ComparedTable], *, scale: float
) -> Path:
    """Paint the plot and write it to `out` (atomically) with its provenance."""
    picture = paint_plot(quantity, plot_sides(tables, quantity), scale=scale)
    record = plot_record(quantity, tables)
    title = (
        f"simreel: {record['domain']['id']} {quantity.name} over time "
        f"({tables[0].path.name} vs {tables[1].path.name})"
    )
    compact = json.dumps(record, separators=(",", ":"), ensure_ascii=True, allow_nan=False)
    return write_png(
        picture,
        out,
        {"Title": title, "Software": f"simreel {record['simreel_version']}", "Comment": compact},
    )
