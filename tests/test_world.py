"""World look-ups: the interval containing t, its progress, gaps, zero-length intervals, the end."""

from __future__ import annotations

import pyarrow as pa
import pytest

from schemas.vocabulary import Actor, Attribute, Vocabulary
from stages.render.world import World

VOCABULARY = Vocabulary(
    actors=(Actor("a", ("on", "off")), Actor("b", ("on", "off"))),
    attributes=(Attribute("level", "int64"),),
)


def _world(rows: list[tuple[str, str, float, float, int | None]]) -> World:
    rows = sorted(rows, key=lambda row: row[2])
    table = pa.table(
        {
            "episode": pa.array([0] * len(rows), pa.int32()),
            "seq": pa.array(range(len(rows)), pa.int64()),
            "actor": [r[0] for r in rows],
            "state": [r[1] for r in rows],
            "start": pa.array([r[2] for r in rows], pa.float64()),
            "end": pa.array([r[3] for r in rows], pa.float64()),
            "level": pa.array([r[4] for r in rows], pa.int64()),
        }
    )
    return World(table, VOCABULARY)


WORLD = _world(
    [
        ("a", "on", 0.0, 4.0, 1),
        ("a", "off", 4.0, 4.0, 2),  # zero length
        ("a", "on", 4.0, 10.0, 3),
        ("b", "on", 2.0, 5.0, None),  # b starts late and has a gap 5..7
        ("b", "off", 7.0, 10.0, 9),
    ]
)


def test_progress_inside_an_interval() -> None:
    state = WORLD.at(1.0).state("a")
    assert state is not None
    assert (state.state, state.progress, state.attr("level")) == ("on", 0.25, 1)


def test_a_later_interval_wins_at_a_shared_instant() -> None:
    state = WORLD.at(4.0).state("a")
    assert state is not None
    assert (state.start, state.end, state.progress, state.attr("level")) == (4.0, 10.0, 0.0, 3)


def test_zero_length_interval_has_progress_one() -> None:
    world = _world([("a", "off", 3.0, 3.0, 5), ("b", "on", 0.0, 6.0, None)])
    state = world.at(3.0).state("a")
    assert state is not None
    assert state.progress == 1.0
    assert world.at(3.0001).state("a") is None


def test_before_first_interval_and_in_a_gap_there_is_no_state() -> None:
    assert WORLD.at(1.0).state("b") is None
    assert WORLD.at(6.0).state("b") is None
    state = WORLD.at(5.0).state("b")  # intervals are closed: the end instant still counts
    assert state is not None
    assert state.progress == 1.0


def test_final_state_at_the_last_instant() -> None:
    frame = WORLD.at(10.0)
    assert {name: s.progress for name, s in frame.states.items()} == {"a": 1.0, "b": 1.0}
    assert WORLD.at(10.5).states == {}


def test_missing_attribute_reads_none() -> None:
    state = WORLD.at(3.0).state("b")
    assert state is not None
    assert state.attr("level") is None
    assert state.attr("undeclared") is None


@pytest.mark.parametrize("t", [0.0, 2.5, 4.0, 7.5, 9.99])
def test_lookup_matches_a_linear_scan(t: float) -> None:
    frame = WORLD.at(t)
    for actor in ("a", "b"):
        timeline = WORLD.timeline(actor)
        expected = [i for i in range(len(timeline)) if timeline.starts[i] <= t <= timeline.ends[i]]
        state = frame.state(actor)
        if not expected:
            assert state is None
        else:
            assert state is not None
            assert state.start == timeline.starts[expected[-1]]
