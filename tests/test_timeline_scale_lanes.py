"""The generic timeline with many actors: the size asked for, readable labels, lanes that say so.

Today's failure: 1,000 actors made 1280 x 12148 frames that players refuse, labels about
7 pixels high from 100 actors on, and 100,000 declared actors a 6 GB surface. Now the
picture is 1280 x 720 at most; when the lanes do not fit, actors of one kind share a
lane of counts, else the busiest lanes are drawn and one more counts the rest; the
legend says which. Checked by pixels and by the font sizes actually drawn.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from stages.render.lane_counts import OTHER
from stages.render.lanes import Lane
from stages.render.movie import paint_still
from stages.render.paintkit import PAPER, Text
from stages.render.timeline import HEIGHT, WIDTH, TimelinePainter
from stages.render.world import World
from tests.test_hostile_tables import many_actors, many_kinds, many_states
from tests.test_world_short_lived import load

READABLE_PIXELS = 10
"""The smallest font size (pixels, at scale 1) a label may be drawn at."""


def _painter(path: Path) -> tuple[TimelinePainter, World]:
    scene, world = load(path)
    return TimelinePainter(scene), world


@pytest.fixture(scope="module")
def thousand(tmp_path_factory: pytest.TempPathFactory) -> tuple[TimelinePainter, World]:
    """1,000 actors, each its own kind; actor k changes state k % 7 + 1 times."""
    return _painter(many_actors(tmp_path_factory.mktemp("a") / "a.parquet", 1000, busy=1000))


def _fits(painter: TimelinePainter) -> None:
    width, height = painter.size
    assert width == WIDTH
    assert height <= HEIGHT


def test_a_thousand_actors_keep_the_size_asked_for(
    thousand: tuple[TimelinePainter, World],
) -> None:
    painter, world = thousand
    _fits(painter)
    assert paint_still(painter, world, 5.0).get_size() == painter.size


def test_the_busiest_actors_get_lanes_and_one_lane_counts_the_rest(
    thousand: tuple[TimelinePainter, World],
) -> None:
    painter, _ = thousand
    *kept, rest = painter.lanes
    assert rest.counts
    assert rest.name == f"other ({1000 - len(kept)})"
    assert len(rest.members) == 1000 - len(kept)
    assert all(lane.actor is not None for lane in kept)
    # Busiest: actor k has k % 7 + 1 intervals, so every kept one has 7, the most.
    assert {int(lane.name[4:]) % 7 for lane in kept} == {6}
    note = painter.legend.note
    assert note is not None
    assert f"the {len(kept)} busiest of 1000" in note
    # The kept lanes stay in display order.
    numbers = [int(lane.name[4:]) for lane in kept]
    assert numbers == sorted(numbers)


def test_the_count_lane_counts_what_the_frame_holds(
    thousand: tuple[TimelinePainter, World],
) -> None:
    painter, world = thousand
    rest = painter.lanes[-1]
    for t in (0.5, 5.0, 9.99):
        frame = world.at(t)
        truth = Counter(
            state.state for name in rest.members if (state := frame.state(name)) is not None
        )
        counts = painter._counter.count(frame)[rest.name]
        states = painter._counts[rest.name].census.states
        assert dict(zip(states, counts, strict=True)) == {s: truth.get(s, 0) for s in states}


def test_the_count_lane_is_a_stacked_chart_in_the_state_colours(
    thousand: tuple[TimelinePainter, World],
) -> None:
    painter, _ = thousand
    picture = painter.gantt()
    bars = painter.bars_rect(painter.lanes[-1].name)
    x = painter.x(5.0)
    column = {tuple(picture.get_at((round(x), y)))[:3] for y in range(bars.top, bars.bottom)}
    # About a third of the actors in each state: every state's colour shows in the column.
    assert {painter.colours[s] for s in ("idle", "busy", "down")} <= column


def _drawn_sizes(painter_factory, monkeypatch: pytest.MonkeyPatch) -> list[int]:  # type: ignore[no-untyped-def]
    """The font pixel sizes of every text sprite rendered while `painter_factory()` runs."""
    sizes: list[int] = []
    render = Text.render

    def recording(self, text, size, colour=(0, 0, 0), *, bold=False):  # type: ignore[no-untyped-def]
        sizes.append(self.pixels(size))
        return render(self, text, size, colour, bold=bold)

    monkeypatch.setattr(Text, "render", recording)
    painter_factory()
    return sizes


@pytest.mark.parametrize("actors", [30, 100, 1000])
def test_every_label_stays_readable(
    actors: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = many_actors(tmp_path / "a.parquet", actors, busy=actors)

    def paint() -> None:
        painter, world = _painter(path)
        _fits(painter)
        paint_still(painter, world, 5.0)

    sizes = _drawn_sizes(paint, monkeypatch)
    assert sizes
    assert min(sizes) >= READABLE_PIXELS


def test_actors_of_few_kinds_share_a_lane_per_kind(tmp_path: Path) -> None:
    painter, world = _painter(many_actors(tmp_path / "k.parquet", 1000, kinds=3, busy=1000))
    _fits(painter)
    assert [lane.name for lane in painter.lanes] == ["kind0 (334)", "kind1 (333)", "kind2 (333)"]
    assert all(lane.counts for lane in painter.lanes)
    assert painter.legend.note == "lanes: actors of one kind share a lane, counted per state"
    frame = world.at(5.0)
    counts = painter._counter.count(frame)
    assert sum(sum(c) for c in counts.values()) == len(frame.states)


def test_a_hundred_thousand_declared_actors(tmp_path: Path) -> None:
    painter, world = _painter(many_actors(tmp_path / "big.parquet", 100_000, busy=50))
    _fits(painter)
    last = painter.lanes[-1]
    assert last.name.startswith("other (")
    assert len(last.members) + len(painter.lanes) - 1 == 100_000
    picture = paint_still(painter, world, 3.0)
    # Nothing drawn below the legend: the picture ends with the bottom margin.
    width, height = picture.get_size()
    assert {tuple(picture.get_at((x, height - 3)))[:3] for x in range(0, width, 7)} == {PAPER}


def test_many_short_lived_kinds_are_summarised_too(tmp_path: Path) -> None:
    painter, world = _painter(many_kinds(tmp_path / "kinds.parquet", 300))
    _fits(painter)
    last = painter.lanes[-1]
    assert len(last.kinds) + len(painter.lanes) - 1 == 300
    # 300 kinds have 41 distinct states: the summary lane stacks the longest held and
    # gathers the others in one band.
    states = painter._counts[last.name].census.states
    assert len(states) <= 10
    assert states[-1] == OTHER
    paint_still(painter, world, 2.0)


def test_a_legend_of_thousands_of_states_keeps_to_three_rows(tmp_path: Path) -> None:
    painter, world = _painter(many_states(tmp_path / "states.parquet", 3000))
    _fits(painter)
    legend = painter.legend
    shown = sum(len(row) for row in legend.rows)
    assert len(legend.rows) <= 3
    assert legend.hidden == 3000 - shown
    assert shown > 10
    picture = paint_still(painter, world, 5.0)
    width, height = picture.get_size()
    # The count of the states left out is written at the end of the last row.
    right_margin = {
        tuple(picture.get_at((x, y)))[:3] for x in range(width - 23, width) for y in range(height)
    }
    assert right_margin == {PAPER}


def test_few_actors_keep_a_lane_each(tmp_path: Path) -> None:
    painter, _ = _painter(many_actors(tmp_path / "few.parquet", 12, busy=12))
    assert [lane.name for lane in painter.lanes] == [f"unit{k}" for k in range(12)]
    assert painter.legend.note is None
    assert all(isinstance(lane, Lane) and not lane.counts for lane in painter.lanes)
    _fits(painter)
