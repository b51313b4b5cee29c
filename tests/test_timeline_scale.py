"""The time axis at every scale: ticks bounded by pixels, and the timeline following the window.

Ticks are chosen from the span shown, so an episode of 1e308 s, one of 2e-299 s and a
10 s window at 1e15 each get a few dozen ticks at most, with labels that tell them
apart. The generic timeline spans the movie's window (``Scene.window``): a 10 s window
of a 10^5 s episode shows those 10 s across the chart, its cursor crosses the chart as
the movie plays, and an overview strip marks where the window is in the episode.
"""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import pygame
import pytest

from stages.render.movie import paint_still
from stages.render.paintkit import INK, Colour
from stages.render.paintkit.header import clock_text, minutes_left
from stages.render.paintkit.scale import MAX_TICKS, seconds_label, tick_label, tick_step, ticks
from stages.render.paintkit.strips import ActivityStrips
from stages.render.timeline import HEIGHT, WIDTH, TimelinePainter
from stages.render.world import World
from tests.test_hostile_tables import plant, plant_rows
from tests.test_world_short_lived import load

SPANS = [
    (0.0, 1e308),
    (0.0, 1.7976931348623157e308),
    (0.0, 1e9),
    (0.0, 2e-299),
    (0.0, 5e-324),
    (1e15, 1e15 + 10),
    (1e17, 1e17 + 10),
    (5e307, 5e307 + 1e300),
    (0.0, 300.0),
    (-1e308, 1e308),
]


@pytest.mark.parametrize(("low", "high"), SPANS)
@pytest.mark.parametrize("target", [1, 5, 10, 1000, 10**9])
def test_ticks_are_few_round_and_inside_any_span(low: float, high: float, target: int) -> None:
    values = ticks(low, high, target)
    assert 1 <= len(values) <= MAX_TICKS + 1
    assert all(math.isfinite(v) for v in values)
    assert values == sorted(values)
    slack = (high - low) * 1e-6 if math.isfinite(high - low) else 0.0
    assert all(low - slack <= v <= high + slack for v in values)


@pytest.mark.parametrize("span", [0.0, -1.0, math.nan, math.inf, 5e-324, 1e-320, 1e308, 1.0])
def test_a_step_is_never_zero_or_infinite(span: float) -> None:
    step = tick_step(span)
    assert step > 0
    assert math.isfinite(step)


def test_round_steps_where_the_span_is_ordinary() -> None:
    assert ticks(0, 300, 10) == [0, 50, 100, 150, 200, 250, 300]
    assert ticks(0, 10, 5) == [0, 2, 4, 6, 8, 10]
    assert tick_step(1e308, 10) == pytest.approx(1e307)


def test_labels_tell_neighbouring_ticks_apart() -> None:
    for low, high in [(1e15, 1e15 + 10), (0.0, 2e-299), (0.0, 1.0), (0.0, 300.0), (1e9, 1e9 + 5)]:
        values = ticks(low, high, 10)
        if len(values) < 2:
            continue
        labels = [tick_label(v, values[1] - values[0]) for v in values]
        assert len(set(labels)) == len(labels), labels
        assert all(len(label) <= 24 for label in labels), labels
    assert tick_label(1e15 + 3, 1.0) == "1000000000000003"
    assert tick_label(2.5, 0.5) == "2.5"
    assert tick_label(300, 50) == "300"
    assert tick_label(5e307, 1e307) == "5e+307"


def test_clocks_are_as_precise_as_needed_and_stay_short() -> None:
    assert seconds_label(150.0, 0.35) == "150.0"
    assert seconds_label(12.345, 0.01) == "12.35"
    assert seconds_label(1e9 + 0.25, 0.01) == "1000000000.25"
    assert seconds_label(1.25e-299, 1e-301) == "1.25e-299"
    assert len(seconds_label(1.7976931348623157e308, 1e300)) <= 24
    assert clock_text(42.0) == "t =  42.0 s"
    assert len(clock_text(1e308)) <= 16
    assert minutes_left(1e308) == "2.78e+304 h"
    assert minutes_left(math.nan) == "-"


@pytest.mark.parametrize("end", [1e9, 1e308, 2e-299, 5e-324, 300.0, 15.0])
def test_activity_strips_tick_a_bounded_number_of_times(end: float, tmp_path: Path) -> None:
    scene, _ = load(plant(tmp_path / "t.parquet", end_time=end, rows=plant_rows(min(end, 5.0))))
    strips = ActivityStrips(scene, ["machine"], {}, left=100, right=1100, top=10, height=20, gap=5)
    assert 1 <= len(strips._ticks()) <= 30
    surface = pygame.Surface((1280, 100), 0, 32)
    strips.paint(surface, _text(), fade=False)  # and painting them ends


def _text():  # type: ignore[no-untyped-def]
    from stages.render.paintkit import Text

    return Text()


# -- the timeline follows the window ----------------------------------------------------

EPISODE = 100_000.0
WINDOW = (50_000.0, 50_010.0)


@pytest.fixture(scope="module")
def long_episode(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 10^5 s episode: the machine busy from 50,002 to 50,006, idle elsewhere in stretches."""
    rows = [
        (0, "machine", "idle", 0.0, 50_002.0, {}),
        (0, "machine", "busy", 50_002.0, 50_006.0, {"item": 7}),
        (0, "machine", "idle", 50_006.0, 99_000.0, {}),
        (0, "queue", "length", 0.0, EPISODE, {"level": 3}),
        (0, "job_1", "waiting", 50_001.0, 50_004.0, {}),
    ]
    return plant(tmp_path_factory.mktemp("long") / "long.parquet", end_time=EPISODE, rows=rows)


def _painters(path: Path) -> tuple[TimelinePainter, TimelinePainter, World]:
    scene, world = load(path)
    return TimelinePainter(scene), TimelinePainter(replace(scene, window=WINDOW)), world


def _at(surface: pygame.Surface, x: float, y: float) -> Colour:
    r, g, b, _ = surface.get_at((round(x), round(y)))
    return (r, g, b)


def _cursor(painter: TimelinePainter, surface: pygame.Surface) -> int:
    """The x of the cursor: the ink column above the chart's top edge."""
    chart = painter.lane_rect("machine")
    y = chart.top - 3
    found = [x for x in range(chart.left, chart.right + 1) if _at(surface, x, y) == INK]
    assert found, "no cursor"
    return found[0]


def test_the_axis_spans_the_window_not_the_episode(long_episode: Path) -> None:
    whole, windowed, _ = _painters(long_episode)
    chart = windowed.lane_rect("machine")
    assert windowed.x(WINDOW[0]) == pytest.approx(chart.left)
    assert windowed.x(WINDOW[1]) == pytest.approx(chart.right)
    values, labels = windowed.axis.ticks()
    assert WINDOW[0] <= values[0] < values[-1] <= WINDOW[1]
    assert len(set(labels)) == len(labels)
    # The whole-episode picture squeezes the window into a pixel or so.
    assert whole.x(WINDOW[1]) - whole.x(WINDOW[0]) < 1


def test_the_busy_bar_fills_its_part_of_the_window(long_episode: Path) -> None:
    _, windowed, _ = _painters(long_episode)
    picture = windowed.gantt()
    bars = windowed.bars_rect("machine")
    busy, idle = windowed.colours["busy"], windowed.colours["idle"]
    # (off the middle of the bar, where its label, the item, is written)
    assert _at(picture, windowed.x(50_002.5), bars.centery) == busy
    assert _at(picture, windowed.x(50_001.0), bars.centery) == idle
    assert _at(picture, windowed.x(50_008.0), bars.centery) == idle


def test_the_cursor_crosses_the_chart_as_the_window_plays(long_episode: Path) -> None:
    whole, windowed, world = _painters(long_episode)
    xs = [
        _cursor(windowed, paint_still(windowed, world, t)) for t in (50_001.0, 50_005.0, 50_009.0)
    ]
    chart = windowed.lane_rect("machine")
    # Four seconds of a ten-second window: about 40% of the chart between frames.
    assert xs[1] - xs[0] > 0.3 * chart.width
    assert xs[2] - xs[1] > 0.3 * chart.width
    # Without the window the cursor stands still for those 8 seconds.
    still = [_cursor(whole, paint_still(whole, world, t)) for t in (50_001.0, 50_009.0)]
    assert abs(still[1] - still[0]) <= 1


def test_the_overview_marks_the_window_in_the_episode(long_episode: Path) -> None:
    whole, windowed, world = _painters(long_episode)
    assert not whole.axis.view.zoomed
    assert windowed.axis.view.zoomed
    assert windowed.size[1] > whole.size[1]  # the strip takes a row
    picture = paint_still(windowed, world, 50_005.0)
    track = windowed.axis.overview_rect()
    mark = windowed.axis.window_rect()
    # The window is the middle of the episode: its mark is at the middle of the track.
    assert abs(mark.centerx - track.centerx) <= 3
    assert mark.width >= 3
    left_of_mark = _at(picture, track.left + 5, track.centery)
    assert _at(picture, mark.centerx, mark.top + 1) != left_of_mark
    # The cursor's place in the episode is drawn on the strip, in ink.
    assert INK in {_at(picture, x, mark.top - 2) for x in range(mark.left - 3, mark.right + 4)}


def test_a_window_keeps_the_size_asked_for(long_episode: Path) -> None:
    _, windowed, _ = _painters(long_episode)
    assert windowed.size[0] == WIDTH
    assert windowed.size[1] <= HEIGHT


@pytest.mark.parametrize(
    ("end", "window"),
    [(1e308, (0.0, 2.0)), (1e308, (5e307, 5e307 + 1e300)), (2e-299, (0.0, 1e-299)), (1e9, None)],
)
def test_extreme_episodes_and_windows_draw(
    end: float, window: tuple[float, float] | None, tmp_path: Path
) -> None:
    scene, world = load(plant(tmp_path / "x.parquet", end_time=end, rows=plant_rows(min(end, 5.0))))
    painter = TimelinePainter(replace(scene, window=window))
    low, high = window or (0.0, end)
    values, _ = painter.axis.ticks()
    assert 1 <= len(values) <= MAX_TICKS + 1
    for t in (low, (low + high) / 2, high):
        picture = paint_still(painter, world, t)
        assert picture.get_size() == painter.size
