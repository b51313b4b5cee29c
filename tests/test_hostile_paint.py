"""Every string drawn into a frame is made inert and kept in its box, checked by pixels.

A NUL made pygame raise; a bidi override reversed a label; a count of 2**63 - 1 ran
across the factory's header over the time-left bar; a megabyte of text would make a
sprite wider than any frame. Text is drawn through the paint kit's ``Text``, which
escapes control and format characters (``stages.render.paintkit.inert``) and never
renders a sprite wider than the widest frame, and every value from a table is fitted
to its place.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
import pyarrow as pa
import pygame
import pytest

from domains.cashier.painter import CashierPainter
from domains.factory.painter import FactoryPainter
from schemas.events import read_events
from stages.render.chart import ChartFrame, value_range
from stages.render.kpi_card import KpiCard, KpiRow
from stages.render.movie import paint_still
from stages.render.paintkit import Painter, Scene, Text
from stages.render.paintkit.inert import DRAWN_LIMIT, drawable
from stages.render.timeline import TimelinePainter
from stages.render.world import World, load_scene
from tests.test_hostile_tables import (
    ESCAPES,
    INT64_MAX,
    golden,
    golden_column,
    plant,
    write_golden,
)
from tests.test_world_short_lived import load


def _pixels(surface: pygame.Surface) -> np.ndarray:
    return pygame.surfarray.array3d(surface)


def test_drawable_escapes_and_bounds_text() -> None:
    assert drawable("plain · é") == "plain · é"
    assert drawable("a\x00b\u202ec\ud800\x9b") == "a\\x00b\\u202ec\\ud800\\x9b"
    assert drawable(drawable(ESCAPES)) == drawable(ESCAPES)
    assert len(drawable("x" * 10**6)) == DRAWN_LIMIT + 1
    assert all(ch.isprintable() for ch in drawable(ESCAPES))


def test_text_draws_what_pygame_refuses_as_its_escape() -> None:
    text = Text()
    for hostile in ("nul\x00", "surrogate\ud800", "rlo\u202eevil", ESCAPES):
        sprite = text.render(hostile, 18)
        escaped = text.render(hostile.encode("unicode_escape").decode("ascii"), 18)
        assert sprite.get_size() == escaped.get_size(), hostile
        assert text.width(hostile, 18) == sprite.get_width()
        fitted = text.fit(hostile, 18, 60)
        assert text.width(fitted, 18) <= 60
        assert all(ch.isprintable() for ch in fitted)


def test_no_sprite_is_wider_than_the_widest_frame() -> None:
    text = Text(4.0)
    sprite = text.render("W" * 10**6, 56, bold=True)
    assert sprite.get_width() <= 4 * 1280


def _timeline(path: Path) -> pygame.Surface:
    scene, world = load(path)
    return paint_still(TimelinePainter(scene), world, 5.0)


def test_a_bidi_override_in_the_domain_draws_as_its_escape(tmp_path: Path) -> None:
    hostile = _timeline(plant(tmp_path / "a.parquet", domain_id="pl\u202eant\x00"))
    escaped = _timeline(plant(tmp_path / "b.parquet", domain_id="pl\\u202eant\\x00"))
    assert np.array_equal(_pixels(hostile), _pixels(escaped))
    plain = _timeline(plant(tmp_path / "c.parquet", domain_id="plant"))
    assert not np.array_equal(_pixels(hostile), _pixels(plain))


def test_nan_in_a_quantity_draws_no_height(tmp_path: Path) -> None:
    # A quantity on nearly every interval (a step chart), one of them NaN.
    rows = [(0, "queue", "length", float(k), k + 1.0, {"load": 4.0}) for k in range(19)]
    rows.append((0, "queue", "length", 19.0, 20.0, {"load": float("nan")}))
    scene, _ = load(plant(tmp_path / "nan.parquet", rows=rows, end_time=20.0))
    painter = TimelinePainter(scene)
    picture = painter.gantt()
    bars = painter.bars_rect("queue")
    colour = painter.colours["length"]

    def at(x: float, y: int) -> tuple[int, int, int]:
        r, g, b, _ = picture.get_at((round(x), y))
        return (r, g, b)

    assert at(painter.x(2.0), bars.top + 1) == colour  # 4 is the highest level: full height
    assert at(painter.x(19.3), bars.top + 1) != colour  # NaN: no height
    assert at(painter.x(19.3), bars.bottom - 1) == colour  # but the interval still shows


def _differs_only_inside(
    make: Callable[[Scene], Painter],
    tame: Scene,
    hostile: Scene,
    world: World,
    hostile_world: World,
    time: float,
    box: pygame.Rect,
) -> None:
    """Frames of `tame` and `hostile` at `time` differ, and only inside `box`."""
    a = _pixels(paint_still(make(tame), world, time))
    b = _pixels(paint_still(make(hostile), hostile_world, time))
    changed = np.argwhere((a != b).any(axis=2))
    assert len(changed), "the hostile value was not drawn at all"
    xs, ys = changed[:, 0], changed[:, 1]
    assert box.left <= xs.min(), (xs.min(), box)
    assert xs.max() < box.right, (xs.max(), box)
    assert box.top <= ys.min(), (ys.min(), box)
    assert ys.max() < box.bottom, (ys.max(), box)


def _scene(path: Path) -> tuple[Scene, World]:
    return load_scene(read_events(path), 0)


def test_an_int64_count_stays_on_the_factory_counter_card(tmp_path: Path) -> None:
    tame, world = _scene(golden_column("factory-v2", "count", 7, "finished")(tmp_path / "a.pq"))
    path = golden_column("factory-v2", "count", INT64_MAX, "finished")(tmp_path / "b.pq")
    hostile, hostile_world = _scene(path)
    painter = FactoryPainter(tame)
    _differs_only_inside(
        FactoryPainter, tame, hostile, world, hostile_world, 150.0, painter._header.card_rect()
    )


def test_an_int64_item_stays_in_its_machine_slot(tmp_path: Path) -> None:
    tame, world = _scene(golden_column("factory-v2", "item", 7, "worker0")(tmp_path / "a.pq"))
    path = golden_column("factory-v2", "item", INT64_MAX, "worker0")(tmp_path / "b.pq")
    hostile, hostile_world = _scene(path)
    painter = FactoryPainter(tame)
    frame = world.at(2.0)
    state = frame.state("worker0")
    assert state is not None
    assert state.state == "working"
    slot = painter._slot(str(state.attr("station")))
    _differs_only_inside(FactoryPainter, tame, hostile, world, hostile_world, 2.0, slot)


def test_a_huge_customer_number_stays_in_its_disc(tmp_path: Path) -> None:
    table, meta = golden("cashier-v2")
    actors = table.column("actor").to_pylist()
    renamed = [f"customer_{INT64_MAX}{INT64_MAX}" if a == "customer_0" else a for a in actors]
    index = table.schema.get_field_index("actor")
    changed = table.set_column(index, "actor", pa.array(renamed, pa.string()))
    tame, world = _scene(write_golden(tmp_path / "a.pq", table, meta))
    hostile, hostile_world = _scene(write_golden(tmp_path / "b.pq", changed, meta))
    painter = CashierPainter(tame)
    # customer_0 is being served at lane 1 at t = 4.
    centre = painter.counter("lane1")
    side = 2 * 14 + 6  # the disc and its white rim
    disc = pygame.Rect(0, 0, side, side)
    disc.center = centre
    _differs_only_inside(CashierPainter, tame, hostile, world, hostile_world, 4.0, disc)


@pytest.mark.parametrize("painter", [FactoryPainter, TimelinePainter])
def test_an_escaped_policy_and_domain_draw_without_error(
    painter: Callable[[Scene], Painter], tmp_path: Path
) -> None:
    table, meta = golden("factory-v2")
    meta["provenance"]["policy"] = {"kind": ESCAPES}
    scene, world = _scene(write_golden(tmp_path / "p.pq", table, meta))
    if painter is TimelinePainter:
        scene = replace(scene, domain_id=ESCAPES)
    picture = paint_still(painter(scene), world, 100.0)
    assert picture.get_size()[0] == 1280


@pytest.mark.parametrize(
    ("highest", "lowest"),
    [(-(2.0**63), -(2.0**63)), (2.0**63, -(2.0**63)), (1e308, 0.0), (float("nan"), -1e308)],
)
def test_a_value_range_is_never_empty(highest: float, lowest: float) -> None:
    low, high = value_range(highest, lowest)
    assert high > low
    assert math.isfinite(low)
    assert math.isfinite(high)


def test_chart_pixels_stay_near_the_chart_whatever_the_value() -> None:
    chart = ChartFrame(pygame.Rect(100, 50, 400, 200), (0.0, 10.0), (0.0, 1.0))
    for value in (float("nan"), float("inf"), -float("inf"), 1e308, -1e308, 2.0**63):
        assert 100 - 400 <= chart.px(value) <= 500 + 400
        assert 50 - 200 <= chart.py(value) <= 250 + 200
    assert chart.px(5.0) == 300
    assert chart.py(0.5) == 150
    wide = ChartFrame(pygame.Rect(0, 0, 100, 100), (-1e308, 1e308), (0.0, 1.0))
    assert wide.px(0.0) == 50  # the span overflows a float; the halves do not


def test_a_kpi_card_keeps_extreme_figures_in_their_columns() -> None:
    rows = [
        KpiRow("made", 1e308, 5e-324),
        KpiRow("lost", -(2.0**63), 2.0**63),
        KpiRow(drawable(ESCAPES), None, 1.0),
    ]
    surface = pygame.Surface((1000, 400), 0, 32)
    surface.fill((0, 0, 0))
    card = KpiCard(
        pygame.Rect(0, 0, 1000, 400), rows, [("A", (0, 0, 255)), ("B", (255, 0, 0))], Text(), 1.0
    )
    card.paint(surface)
    left = card.columns()[0]
    # The rows (under the 84-pixel title and header): nothing in the card's left margin,
    # so no value ran leftwards over the names and out of the card.
    margin = {surface.get_at((x, y))[:3] for x in range(2, left - 2) for y in range(90, 220)}
    assert margin == {(255, 255, 255)}
