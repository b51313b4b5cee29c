"""Short-lived instances (``customer_17``) in the world look-ups: frames, timelines, counts.

Tables are written with ``schemas.events.write_events`` and read back, so they are valid
schema v2 tables; :func:`write_shop_table` is shared with the timeline painter's tests.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pytest

from schemas.events import EpisodeColumns, read_events, write_events
from schemas.vocabulary import Actor, Attribute, ShortLivedKind, Vocabulary
from stages.render.paintkit import Frame, Scene
from stages.render.world import World, load_scene

CUSTOMER = ShortLivedKind("customer", "customer_", ("arriving", "queued", "served"))
SHOP = Vocabulary(
    actors=(Actor("till", ("open", "closed")), Actor("queue", ("length",))),
    attributes=(
        Attribute("level", "int64", "customers in the queue", quantity=True),
        Attribute("ticket", "int64", "a customer's ticket number: an id, not a quantity"),
        Attribute("note", "string"),
        Attribute("urgent", "bool"),
    ),
    short_lived=(CUSTOMER,),
    colours={"arriving": "#bf8700", "queued": "#e89117", "served": "#09a1aa", "open": "#2ea043"},
)

Row = tuple[str, str, float, float, Mapping[str, object]]


class Episode:
    """Hand-made columns satisfying :class:`schemas.events.EpisodeColumns`."""

    def __init__(self, rows: Sequence[Row], names: Sequence[str], end_time: float) -> None:
        self.actor = [row[0] for row in rows]
        self.state = [row[1] for row in rows]
        self.start = [row[2] for row in rows]
        self.end = [row[3] for row in rows]
        self.attributes = {name: [row[4].get(name) for row in rows] for name in names}
        self.end_time = end_time
        self.seed: int | None = 0
        self.total_reward = 0.0
        self.kpis: dict[str, float] = {}


def write_shop_table(
    path: Path,
    rows: Sequence[Row],
    *,
    vocabulary: Vocabulary = SHOP,
    end_time: float | None = None,
    domain_id: str = "shop",
) -> Path:
    """A one-episode table of `rows` (in emission order) at `path`."""
    episode: EpisodeColumns = Episode(
        rows, vocabulary.attribute_names, end_time or max(row[3] for row in rows)
    )
    return write_events(
        path,
        [episode],
        domain_id=domain_id,
        domain_version=1,
        vocabulary=vocabulary,
        provenance={"test": True},
    )


def load(path: Path) -> tuple[Scene, World]:
    return load_scene(read_events(path), 0)


ROWS: list[Row] = [
    ("till", "open", 0.0, 12.0, {}),
    ("customer_1", "arriving", 0.0, 2.0, {"ticket": 1}),
    ("customer_2", "arriving", 1.0, 3.0, {"ticket": 2}),
    ("customer_10", "arriving", 2.0, 4.25, {"ticket": 10}),
    ("customer_1", "queued", 2.5, 5.0, {"ticket": 1}),  # a gap 2 .. 2.5
    ("customer_2", "queued", 3.0, 7.5, {"ticket": 2}),
    ("customer_10", "queued", 4.25, 6.0, {"ticket": 10}),
    ("customer_10", "served", 6.0, 6.0, {"ticket": 10}),  # zero length, at its queue's end
    ("customer_9", "arriving", 6.0, 8.0, {"ticket": 9}),  # starts exactly at 6
    ("customer_2", "served", 7.5, 10.0, {"ticket": 2}),
]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    return load(write_shop_table(tmp_path_factory.mktemp("shop") / "shop.parquet", ROWS))[1]


def _alive(frame: Frame) -> list[tuple[str, str, float]]:
    return [(s.actor, s.state, s.progress) for s in frame.instances("customer")]


def test_instances_are_ordered_by_number_not_by_name(world: World) -> None:
    # customer_10 sorts before customer_2 as a string; it is the later customer.
    assert [s.actor for s in world.at(3.0).instances("customer")] == [
        "customer_1",
        "customer_2",
        "customer_10",
    ]
    assert world.instances("customer") == ("customer_1", "customer_2", "customer_9", "customer_10")


def test_at_a_shared_instant_the_later_interval_wins(world: World) -> None:
    # At 6: customer_2 queues on; customer_10's queue ends and its zero-length service
    # starts (the later one shows, progress 1); customer_9 starts arriving (progress 0).
    assert _alive(world.at(6.0)) == [
        ("customer_2", "queued", pytest.approx(3.0 / 4.5)),
        ("customer_9", "arriving", 0.0),
        ("customer_10", "served", 1.0),
    ]
    assert [s.actor for s in world.at(6.0001).instances("customer")] == [
        "customer_2",
        "customer_9",
    ]


def test_an_instance_ending_exactly_at_t_still_shows(world: World) -> None:
    assert ("customer_1", "queued", 1.0) in _alive(world.at(5.0))
    assert "customer_1" not in [s.actor for s in world.at(5.0 + 1e-9).instances("customer")]
    assert _alive(world.at(10.0)) == [("customer_2", "served", 1.0)]
    assert world.at(10.5).instances("customer") == ()


def test_fractional_times_and_gaps(world: World) -> None:
    # customer_1 is between its arrival (ended at 2) and its queue (from 2.5).
    assert _alive(world.at(2.25)) == [
        ("customer_2", "arriving", 0.625),
        ("customer_10", "arriving", pytest.approx(0.25 / 2.25)),
    ]
    assert world.at(2.25).state("customer_1") is None


def test_state_of_an_instance_by_name(world: World) -> None:
    frame = world.at(3.125)
    state = frame.state("customer_10")
    assert state is not None
    assert (state.state, state.start, state.end, state.attr("ticket")) == (
        "arriving",
        2.0,
        4.25,
        10,
    )
    assert frame.state("customer_3") is None  # a valid name that never occurs
    till = frame.state("till")
    assert till is not None
    assert till.state == "open"
    assert "customer_10" not in frame.states  # named actors only


def test_an_unknown_kind_names_the_declared_kinds(world: World) -> None:
    with pytest.raises(KeyError, match=r"'crowd'.*declared kinds: \['customer'\]"):
        world.at(1.0).instances("crowd")
    with pytest.raises(KeyError, match="declared kinds"):
        world.census("crowd")


def test_timelines_hold_the_named_actors_and_timeline_finds_instances(world: World) -> None:
    assert [t.actor for t in world.timelines] == ["till", "queue"]
    timeline = world.timeline("customer_2")
    assert timeline.states == ("arriving", "queued", "served")
    assert timeline.starts.tolist() == [1.0, 3.0, 7.5]
    assert timeline.ends.tolist() == [3.0, 7.5, 10.0]
    assert [world.columns["ticket"][row] for row in timeline.rows.tolist()] == [2, 2, 2]
    assert len(world.timeline("customer_77")) == 0
    with pytest.raises(KeyError, match=r"short-lived instances: \['customer_<n>'\]"):
        world.timeline("visitor_1")


def test_census_counts_instances_per_state_between_instants(world: World) -> None:
    census = world.census("customer")
    assert census.states == CUSTOMER.states

    def counts_in(t: float) -> dict[str, int]:
        i = int(np.searchsorted(census.times, t, side="right")) - 1
        return {state: int(census.counts[k, i]) for k, state in enumerate(census.states)}

    assert counts_in(3.5) == {"arriving": 1, "queued": 2, "served": 0}  # 10 | 1, 2
    assert counts_in(6.5) == {"arriving": 1, "queued": 1, "served": 0}  # the 6..6 adds nothing
    assert counts_in(9.0) == {"arriving": 0, "queued": 0, "served": 1}
    assert census.peak == 3
    assert census.counts[:, -1].tolist() == [0, 0, 0]


def _brute_force(rows: Sequence[Row], t: float) -> list[tuple[str, str, float, float]]:
    """Each instance's interval at `t` by a scan: the last one starting at or before `t`
    (in emission order among equal starts), if it has not ended."""
    found = {}
    for name, state, start, end, _ in rows:
        if name.startswith("customer_") and start <= t:
            found[name] = (state, start, end)
    alive = [(n, s, a, b) for n, (s, a, b) in found.items() if t <= b]
    return sorted(alive, key=lambda item: int(item[0].removeprefix("customer_")))


def test_many_instances_match_a_scan(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    rows: list[Row] = [("till", "open", 0.0, 400.0, {})]
    # One instance lives the whole episode: the look-up must not lose the ones after it.
    rows.append(("customer_0", "queued", 0.0, 390.0, {}))
    for number in range(1, 400):
        t = round(float(rng.uniform(0.0, 350.0)), 1)
        walk, wait = round(float(rng.uniform(0.0, 3.0)), 1), round(float(rng.uniform(0, 40)), 1)
        name = f"customer_{number}"
        rows.append((name, "arriving", t, t + walk, {}))
        gap = 0.5 if number % 5 == 0 else 0.0
        rows.append((name, "queued", t + walk + gap, t + walk + gap + wait, {}))
        rows.append((name, "served", t + walk + gap + wait, t + walk + gap + wait + 4.0, {}))
    rows.sort(key=lambda row: row[2])  # emission order is time order, as a recorder's
    _, world = load(write_shop_table(tmp_path / "many.parquet", rows, end_time=400.0))
    for t in [*rng.uniform(0.0, 400.0, 150).round(1).tolist(), 0.0, 390.0, 400.0]:
        got = [(s.actor, s.state, s.start, s.end) for s in world.at(t).instances("customer")]
        assert got == _brute_force(rows, t), t
