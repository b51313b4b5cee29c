"""The generic timeline painter on schema v2 tables, checked by pixels.

Short-lived kinds get one lane of counts stacked by state; declared colours and
quantities are honoured; undeclared states get stable colours; the values column
shows every attribute and never runs off the picture.
"""

from __future__ import annotations

from pathlib import Path

import pygame
import pytest

from schemas.vocabulary import Actor, Vocabulary
from stages.render.movie import paint_still
from stages.render.paintkit import (
    CATEGORICAL,
    ELLIPSIS,
    PANEL,
    PAPER,
    Colour,
    Frame,
    Text,
    colour_from_hex,
)
from stages.render.timeline import TimelinePainter, state_colours
from stages.render.world import World
from tests.test_world_short_lived import SHOP, Row, load, write_shop_table

# Between 10 and 20 exactly: 2 customers queued and 1 served (the peak, 3);
# from 22 to 28 one arriving.
CROWD: list[Row] = [
    ("till", "open", 0.0, 10.0, {"ticket": 1}),
    ("queue", "length", 0.0, 10.0, {"level": 4}),
    ("customer_1", "queued", 10.0, 20.0, {}),
    ("customer_2", "queued", 10.0, 20.0, {}),
    ("customer_3", "served", 10.0, 20.0, {}),
    ("till", "open", 10.0, 30.0, {"ticket": 50}),
    ("queue", "length", 10.0, 30.0, {"level": 1}),
    ("customer_4", "arriving", 22.0, 28.0, {}),
]


def _painter(path: Path, rows: list[Row], vocabulary: Vocabulary = SHOP) -> TimelinePainter:
    scene, _ = load(write_shop_table(path, rows, vocabulary=vocabulary, end_time=30.0))
    return TimelinePainter(scene)


@pytest.fixture(scope="module")
def crowd(tmp_path_factory: pytest.TempPathFactory) -> TimelinePainter:
    return _painter(tmp_path_factory.mktemp("crowd") / "crowd.parquet", CROWD)


def _declared(state: str) -> Colour:
    return colour_from_hex(SHOP.colours[state])


def _at(surface: pygame.Surface, x: float, y: float) -> Colour:
    r, g, b, _ = surface.get_at((round(x), round(y)))
    return (r, g, b)


def test_a_short_lived_kind_is_one_lane_however_many_instances(tmp_path: Path) -> None:
    few = _painter(tmp_path / "few.parquet", CROWD)
    many_rows = list(CROWD)
    for number in range(5, 305):
        start = 0.05 * number
        many_rows.append((f"customer_{number}", "arriving", start, start + 1.0, {}))
    many_rows.sort(key=lambda row: row[2])
    many = _painter(tmp_path / "many.parquet", many_rows)
    assert many.size == few.size
    assert many.lane_rect("customer") == few.lane_rect("customer")
    with pytest.raises(KeyError, match="lanes"):
        many.lane_rect("customer_7")


def test_the_kind_lane_stacks_counts_in_the_declared_state_colours(
    crowd: TimelinePainter,
) -> None:
    picture = crowd.gantt()
    bars = crowd.bars_rect("customer")
    x = crowd.x(15.0)
    # Peak 3 fills the lane: queued (2) is the bottom two thirds, served (1) the top third.
    assert _at(picture, x, bars.bottom - 1) == _declared("queued")
    assert _at(picture, x, bars.bottom - 1 - bars.height // 2) == _declared("queued")
    assert _at(picture, x, bars.top + bars.height // 6) == _declared("served")
    # One arriving customer: the bottom third only.
    x = crowd.x(25.0)
    assert _at(picture, x, bars.bottom - 1 - bars.height // 6) == _declared("arriving")
    assert _at(picture, x, bars.top + bars.height // 2) not in {
        _declared(state) for state in ("arriving", "queued", "served")
    }


def test_every_declared_colour_shows_where_its_state_is(crowd: TimelinePainter) -> None:
    picture = crowd.gantt()
    assert crowd.colours["open"] == _declared("open")
    assert _at(picture, crowd.x(5.0), crowd.bars_rect("till").top + 1) == _declared("open")
    # The values column of the kind lane has a swatch per state, in its colour.
    still = pygame.Surface(crowd.size, 0, 32)
    crowd.draw(still, _frame(crowd, 15.0))
    lane = crowd.lane_rect("customer")
    # (on one row or, when the names make it too wide, on two)
    beside = {
        _at(still, x, y)
        for x in range(lane.right, crowd.size[0])
        for y in range(lane.top, lane.bottom, 2)
    }
    assert {_declared(state) for state in ("arriving", "queued", "served")} <= beside


def _frame(painter: TimelinePainter, t: float) -> Frame:
    return World(painter.scene.table, painter.scene.vocabulary).at(t)


def test_an_id_sets_no_height_and_a_quantity_does(crowd: TimelinePainter) -> None:
    picture = crowd.gantt()
    till, queue = crowd.bars_rect("till"), crowd.bars_rect("queue")
    # Ticket 1 then 50: both bars are full height (heights by id would make the first tiny).
    for t in (5.0, 20.0):
        assert _at(picture, crowd.x(t), till.top + 1) == crowd.colours["open"], t
    # Level 4 (the maximum) is full height; level 1 a quarter.
    length = crowd.colours["length"]
    assert _at(picture, crowd.x(5.0), queue.top + 1) == length
    assert _at(picture, crowd.x(20.0), queue.top + 1) != length
    assert _at(picture, crowd.x(20.0), queue.bottom - 2) == length


def test_undeclared_states_keep_their_colour_whatever_the_order(tmp_path: Path) -> None:
    first = Vocabulary(actors=(Actor("mixer", ("alpha", "beta", "gamma")),))
    second = Vocabulary(
        actors=(Actor("press", ("gamma", "omega")), Actor("lift", ("beta", "alpha"))),
        colours={"omega": "#000000"},
    )
    one = _painter(
        tmp_path / "one.parquet",
        [
            ("mixer", s, 10.0 * k, 10.0 * k + 10, {})
            for k, s in enumerate(("alpha", "beta", "gamma"))
        ],
        first,
    )
    two = _painter(
        tmp_path / "two.parquet",
        [
            ("press", "gamma", 0.0, 10.0, {}),
            ("lift", "beta", 0.0, 10.0, {}),
            ("lift", "alpha", 10.0, 30.0, {}),
            ("press", "omega", 10.0, 30.0, {}),
        ],
        second,
    )
    for state in ("alpha", "beta", "gamma"):
        assert one.colours[state] == two.colours[state], state
    assert len({one.colours[s] for s in ("alpha", "beta", "gamma")}) == 3
    # And the picture uses them: alpha is the mixer's first bar and the lift's second.
    assert _at(one.gantt(), one.x(5.0), one.bars_rect("mixer").centery) == one.colours["alpha"]
    assert _at(two.gantt(), two.x(20.0), two.bars_rect("lift").centery) == one.colours["alpha"]


def test_an_undeclared_state_avoids_the_declared_colours() -> None:
    alone = state_colours(Vocabulary(actors=(Actor("a", ("alpha",)),)))["alpha"]
    assert alone in CATEGORICAL
    taken = "#{:02x}{:02x}{:02x}".format(*alone)
    colours = state_colours(
        Vocabulary(actors=(Actor("a", ("alpha", "busy")),), colours={"busy": taken})
    )
    assert colours["busy"] == alone
    assert colours["alpha"] != alone
    assert colours["alpha"] in CATEGORICAL


def test_values_show_text_and_booleans_and_never_run_off(tmp_path: Path) -> None:
    note = "a note long enough to run far past the right edge of the picture " * 3
    plain = _painter(tmp_path / "plain.parquet", [("till", "open", 0.0, 30.0, {"ticket": 3})])
    noted = _painter(
        tmp_path / "noted.parquet",
        [("till", "open", 0.0, 30.0, {"ticket": 3, "urgent": True, "note": note})],
    )
    flagged = _painter(
        tmp_path / "flagged.parquet",
        [("till", "open", 0.0, 30.0, {"ticket": 3, "urgent": False})],
    )

    def values(painter: TimelinePainter) -> list[Colour]:
        surface = pygame.Surface(painter.size, 0, 32)
        painter.draw(surface, _frame(painter, 12.0))
        lane = painter.lane_rect("till")
        return [
            _at(surface, x, y)
            for y in range(lane.top, lane.bottom)
            for x in range(lane.right + 1, painter.size[0])
        ]

    assert values(noted) != values(plain)
    assert values(flagged) != values(plain)
    # The long line is cut with an ellipsis before the right margin (24 px at scale 1).
    surface = pygame.Surface(noted.size, 0, 32)
    noted.draw(surface, _frame(noted, 12.0))
    lane = noted.lane_rect("till")
    margin = {
        _at(surface, x, y)
        for y in range(lane.top, lane.bottom)
        for x in range(noted.size[0] - 23, noted.size[0])
    }
    assert margin == {PAPER}


def test_a_kind_with_no_instances_draws_an_empty_lane(tmp_path: Path) -> None:
    painter = _painter(tmp_path / "empty.parquet", [("till", "open", 0.0, 30.0, {})])
    picture = painter.gantt()
    bars = painter.bars_rect("customer")
    assert _at(picture, painter.x(15.0), bars.centery) in (PANEL, PAPER)
    still = paint_still(painter, World(painter.scene.table, painter.scene.vocabulary), 15.0)
    assert still.get_size() == painter.size


def _ink_rows(surface: pygame.Surface, rect: pygame.Rect, background: set[Colour]) -> list[int]:
    """The rows of `rect` holding any pixel that is not `background`."""
    return [
        y
        for y in range(rect.top, rect.bottom)
        if any(_at(surface, x, y) not in background for x in range(rect.left, rect.right))
    ]


def _bands(rows: list[int]) -> int:
    """How many runs of consecutive row numbers `rows` holds (lines of text)."""
    return sum(1 for k, y in enumerate(rows) if k == 0 or y != rows[k - 1] + 1)


def test_values_wrap_onto_the_lines_the_lane_holds_and_stay_in_the_panel(tmp_path: Path) -> None:
    painter = _painter(
        tmp_path / "wrapped.parquet",
        [("till", "open", 0.0, 30.0, {"ticket": 3, "note": "front desk", "urgent": True})],
    )
    frame = _frame(painter, 12.0)
    state = frame.state("till")
    assert state is not None
    lines = painter.value_lines(state)
    # Text and booleans are shown, nothing is lost, and the line breaks between values.
    assert " · ".join(lines) == "open · ticket 3 · note front desk · urgent yes"
    assert len(lines) == 2
    font = Text().font(17)
    assert all(font.size(line)[0] <= painter.values_text_width() for line in lines)

    surface = pygame.Surface(painter.size, 0, 32)
    surface.fill((1, 2, 3))  # whatever the painter leaves unpainted shows in this colour
    painter.draw(surface, frame)
    panel = painter.values_rect("till")
    dot = painter.colours["open"]
    text_area = pygame.Rect(panel.left + 16, panel.top, panel.width - 16, panel.height)
    assert _bands(_ink_rows(surface, text_area, {PAPER})) == 2
    beyond = pygame.Rect(panel.right, panel.top, painter.size[0] - panel.right, panel.height)
    assert {
        _at(surface, x, y)
        for x in range(beyond.left, beyond.right)
        for y in (range(beyond.top, beyond.bottom))
    } == {PAPER}
    assert dot in {_at(surface, x, panel.centery) for x in range(panel.left, panel.left + 12)}


def test_values_too_many_for_the_lane_end_with_an_ellipsis(tmp_path: Path) -> None:
    note = "a note long enough to run far past the right edge of the picture " * 3
    painter = _painter(
        tmp_path / "long.parquet",
        [("till", "open", 0.0, 30.0, {"ticket": 3, "urgent": False, "note": note})],
    )
    state = _frame(painter, 12.0).state("till")
    assert state is not None
    lines = painter.value_lines(state)
    assert len(lines) == 2  # what a 34-pixel lane holds at this size
    assert lines[0] == "open · ticket 3"
    assert lines[-1].endswith(ELLIPSIS)
    assert Text().font(17).size(lines[-1])[0] <= painter.values_text_width()


def test_the_legend_wraps_long_state_names_inside_the_picture(tmp_path: Path) -> None:
    states = tuple(f"state_{k}_with_a_rather_long_descriptive_name" for k in range(9))
    vocabulary = Vocabulary(actors=(Actor("machine", states),))
    rows: list[Row] = [
        ("machine", state, 3.0 * k, 3.0 * k + 3, {}) for k, state in (enumerate(states))
    ]
    painter = _painter(tmp_path / "legend.parquet", rows, vocabulary)
    picture = painter.gantt()
    width, height = painter.size
    right_margin = {_at(picture, x, y) for x in range(width - 23, width) for y in range(height)}
    assert right_margin == {PAPER}
    # Every state is in the legend: its swatch colour appears below the axis.
    legend = pygame.Rect(0, painter.lane_rect("machine").bottom + 40, width, height)
    legend = legend.clip(picture.get_rect())
    seen = {
        _at(picture, x, y)
        for x in range(legend.left, legend.right, 2)
        for y in (range(legend.top, legend.bottom, 2))
    }
    assert {painter.colours[state] for state in states} <= seen
