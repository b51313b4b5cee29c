"""The cashier painter, checked by pixels on hand-scripted episodes and on a real one.

The scripted episodes are recorded through the domain's own recorder, so they obey
the vocabulary exactly as the simulation's tables do, but every interval is placed
where a test wants it.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pygame
import pytest

from domains.cashier.baselines import CashierRulesPolicy
from domains.cashier.painter import FULL, STATE_COLOURS, CashierPainter
from domains.cashier.simulation import make_cashier_env
from domains.cashier.vocabulary import (
    CASHIERS,
    COLOURS,
    CUSTOMER,
    DISPATCHER,
    DOMAIN_ID,
    DOMAIN_VERSION,
    LANES,
    QUEUE_CAPACITY,
    SERVED,
    VOCABULARY,
    Attr,
    CashierState,
    CounterState,
    CustomerState,
    DispatcherState,
    Kpi,
    LaneState,
)
from domains.policies import play_episode
from domains.recorder import AttributeValue, EventRecorder, RecordedEpisode
from schemas.errors import RenderError
from schemas.events import read_events, write_events
from stages.render.paintkit import MUTED, Colour, colour_from_hex
from stages.render.world import World, load_scene
from tests.test_render_tables import write_invented_table

SLOW, FAST = CASHIERS
LANE0, LANE1, LANE2 = LANES
SERVING = colour_from_hex(COLOURS[CashierState.SERVING])
STALLED = colour_from_hex(COLOURS[CashierState.STALLED])
WALKING = colour_from_hex(COLOURS[CashierState.WALKING])
QUEUE = colour_from_hex(COLOURS[LaneState.QUEUE])
OVERRUN = colour_from_hex(COLOURS[LaneState.OVERRUN])
ARRIVING = colour_from_hex(COLOURS[CustomerState.ARRIVING])
BEING_SERVED = colour_from_hex(COLOURS[CustomerState.BEING_SERVED])
LEAVING = colour_from_hex(COLOURS[CustomerState.LEAVING])

Event = tuple[float, str, str | None, dict[str, AttributeValue]]
"""(time, actor, state or None to close its interval, attributes)."""


def _at(time: float, actor: str, state: str | None, **attributes: AttributeValue) -> Event:
    return (time, actor, state, attributes)


def _customer(number: int) -> str:
    return CUSTOMER.instance(number)


def _record(events: list[Event], end_time: float, *, survived: bool) -> RecordedEpisode:
    """The episode `events` describe, recorded in time order (ties in list order)."""
    now = [0.0]
    recorder = EventRecorder(VOCABULARY, lambda: now[0])
    for time, actor, state, attributes in sorted(events, key=lambda event: event[0]):
        now[0] = time
        if state is None:
            recorder.close(actor)
        else:
            recorder.enter(actor, state, **attributes)
    episode = recorder.finish(end_time)
    episode.seed = 0
    episode.kpis = {Kpi.CUSTOMERS_SERVED: 2.0, Kpi.SURVIVED: float(survived)}
    return episode


def _start(levels: tuple[int, int, int] = (0, 0, 0)) -> list[Event]:
    """Time 0: queues at `levels`, nobody served, both cashiers waiting at their lanes."""
    return [
        *(
            _at(0.0, lane, LaneState.QUEUE, level=level)
            for lane, level in zip(LANES, levels, strict=True)
        ),
        _at(0.0, SERVED, CounterState.COUNT, count=0),
        _at(0.0, SLOW, CashierState.STALLED, lane=LANE0),
        _at(0.0, FAST, CashierState.STALLED, lane=LANE1),
    ]


def _dispatch(start: float, end: float, number: int, lane: str) -> list[Event]:
    """The dispatcher sends customer `number` to `lane`: it walks there from `start` to `end`."""
    return [
        _at(start, DISPATCHER, DispatcherState.DISPATCHING, lane=lane, customer=number),
        _at(start, _customer(number), CustomerState.ARRIVING, lane=lane),
    ]


def _store_episode() -> RecordedEpisode:
    """20 s without an overrun.

    slow: stalled at lane0 0-2, serves customer 0 2-9, stalled 9-12, in no state 12-13,
    stalled 13-20. fast: stalled at lane1 0-5, walks to lane2 5-9, serves customer 1
    9-13. Customer 0 walks out 9-12 (served count 1 at 12). lane2 holds 1 at 4, 2 at 6,
    3 at 8, 2 at 9.
    """
    events = [
        *_start(),
        *_dispatch(0.0, 2.0, 0, LANE0),
        _at(2.0, _customer(0), CustomerState.BEING_SERVED, lane=LANE0, cashier=SLOW),
        _at(2.0, SLOW, CashierState.SERVING, lane=LANE0, customer=0),
        *_dispatch(2.0, 4.0, 1, LANE2),
        _at(4.0, _customer(1), CustomerState.QUEUED, lane=LANE2),
        _at(4.0, LANE2, LaneState.QUEUE, level=1),
        *_dispatch(4.0, 6.0, 2, LANE2),
        _at(5.0, FAST, CashierState.WALKING, lane=LANE1, destination=LANE2),
        _at(6.0, _customer(2), CustomerState.QUEUED, lane=LANE2),
        _at(6.0, LANE2, LaneState.QUEUE, level=2),
        *_dispatch(6.0, 8.0, 3, LANE2),
        _at(8.0, _customer(3), CustomerState.QUEUED, lane=LANE2),
        _at(8.0, LANE2, LaneState.QUEUE, level=3),
        _at(8.0, DISPATCHER, None),
        _at(9.0, SLOW, CashierState.STALLED, lane=LANE0),
        _at(9.0, _customer(0), CustomerState.LEAVING, lane=LANE0),
        _at(9.0, FAST, CashierState.SERVING, lane=LANE2, customer=1),
        _at(9.0, _customer(1), CustomerState.BEING_SERVED, lane=LANE2, cashier=FAST),
        _at(9.0, LANE2, LaneState.QUEUE, level=2),
        _at(12.0, _customer(0), None),
        _at(12.0, SERVED, CounterState.COUNT, count=1),
        _at(12.0, SLOW, None),
        _at(13.0, SLOW, CashierState.STALLED, lane=LANE0),
    ]
    return _record(events, 20.0, survived=True)


def _overrun_episode() -> RecordedEpisode:
    """lane1 holds 9 from the start and 10 from 4 s; customer 1, sent there at 6 s,
    overruns it at 8 s, which ends the episode."""
    events = [
        *_start((0, 9, 0)),
        *_dispatch(0.0, 4.0, 0, LANE1),
        _at(4.0, _customer(0), CustomerState.QUEUED, lane=LANE1),
        _at(4.0, LANE1, LaneState.QUEUE, level=QUEUE_CAPACITY),
        _at(4.0, DISPATCHER, None),
        *_dispatch(6.0, 8.0, 1, LANE1),
        _at(8.0, LANE1, LaneState.OVERRUN, level=QUEUE_CAPACITY),
    ]
    return _record(events, 8.0, survived=False)


def _write(path: Path, episode: RecordedEpisode) -> Path:
    return write_events(
        path,
        [episode],
        domain_id=DOMAIN_ID,
        domain_version=DOMAIN_VERSION,
        vocabulary=VOCABULARY,
        provenance={"policy": {"kind": "script"}},
    )


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> tuple[CashierPainter, World]:
    path = _write(tmp_path_factory.mktemp("cashier") / "store.parquet", _store_episode())
    scene, world = load_scene(read_events(path), 0)
    return CashierPainter(scene), world


@pytest.fixture(scope="module")
def overrun(tmp_path_factory: pytest.TempPathFactory) -> tuple[CashierPainter, World]:
    path = _write(tmp_path_factory.mktemp("cashier") / "overrun.parquet", _overrun_episode())
    scene, world = load_scene(read_events(path), 0)
    return CashierPainter(scene), world


def _paint(painter: CashierPainter, world: World, time: float) -> pygame.Surface:
    surface = pygame.Surface(painter.size, 0, 32)
    painter.draw(surface, world.at(time))
    return surface


def _body(painter: CashierPainter, surface: pygame.Surface, centre: tuple[int, int]) -> Colour:
    """The colour above a badge's centre: its body, clear of the icon and the S/F tag."""
    x, y = centre
    r, g, b, _ = surface.get_at((x, round(y - 0.7 * painter.badge_radius())))
    return (r, g, b)


def _pixels(surface: pygame.Surface, colour: Colour, area: pygame.Rect) -> np.ndarray:
    """(x, y) of every pixel of exactly `colour` inside `area`."""
    rgb = pygame.surfarray.array3d(surface)[area.left : area.right, area.top : area.bottom]
    xs, ys = np.nonzero(np.all(rgb == np.array(colour), axis=2))
    return np.stack([xs + area.left, ys + area.top], axis=1)


def _centroid(painter: CashierPainter, surface: pygame.Surface, colour: Colour) -> np.ndarray:
    found = _pixels(surface, colour, painter.floor_rect())
    assert len(found) > 20, f"no {colour} on the floor"
    return found.mean(axis=0)


def _distance(a: np.ndarray, b: tuple[int, int]) -> float:
    return math.hypot(float(a[0]) - b[0], float(a[1]) - b[1])


# -- cashiers -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cashier", "time", "lane", "colour"),
    [
        (SLOW, 1.0, LANE0, STALLED),
        (SLOW, 5.0, LANE0, SERVING),
        (FAST, 3.0, LANE1, STALLED),
        (FAST, 11.0, LANE2, SERVING),
        (SLOW, 12.5, LANE0, MUTED),  # in no state: shown where it stood, undecided
    ],
)
def test_a_cashier_shows_its_state_colour_at_its_checkout(
    store: tuple[CashierPainter, World], cashier: str, time: float, lane: str, colour: Colour
) -> None:
    painter, world = store
    surface = _paint(painter, world, time)
    assert _body(painter, surface, painter.spot(lane)) == colour


def test_state_colours_are_the_vocabularys() -> None:
    # The timeline painter reads the same vocabulary colours: both views must agree.
    assert {state: colour_from_hex(COLOURS[state]) for state in CashierState} == STATE_COLOURS


def test_serving_and_stalled_differ_in_shape_not_only_colour(
    store: tuple[CashierPainter, World],
) -> None:
    painter, world = store
    radius = math.ceil(painter.badge_radius())
    looks = []
    for time, lane, colour in ((5.0, LANE0, SERVING), (1.0, LANE0, STALLED)):
        x, y = painter.spot(lane)
        box = pygame.Rect(x - radius, y - radius, 2 * radius, 2 * radius)
        rgb = pygame.surfarray.array3d(_paint(painter, world, time))[
            box.left : box.right, box.top : box.bottom
        ]
        looks.append(np.all(rgb == np.array(colour), axis=2))
    serving, stalled = looks
    assert (serving != stalled).mean() > 0.1


def test_a_walking_cashier_is_between_its_lanes_at_mid_walk(
    store: tuple[CashierPainter, World],
) -> None:
    painter, world = store
    surface = _paint(painter, world, 7.0)  # fast walks lane1 -> lane2 from 5 to 9 s
    for lane in (LANE1, LANE2):
        assert _body(painter, surface, painter.spot(lane)) not in (WALKING, STALLED, SERVING)
    _, y = _centroid(painter, surface, WALKING)
    top, bottom = painter.spot(LANE1)[1], painter.spot(LANE2)[1]
    margin = painter.badge_radius()
    assert top + margin < y < bottom - margin


def test_the_s_and_f_tags_tell_the_cashiers_apart(store: tuple[CashierPainter, World]) -> None:
    painter, world = store
    surface = _paint(painter, world, 1.0)  # both stalled, at lane0 and lane1

    def tag(lane: str) -> np.ndarray:
        x, y = painter.spot(lane)
        r = round(painter.badge_radius())
        box = pygame.Rect(x, y - 2 * r, 2 * r, 2 * r)
        return pygame.surfarray.array3d(surface)[box.left : box.right, box.top : box.bottom]

    assert not np.array_equal(tag(LANE0), tag(LANE1))


# -- queues, customers, counters -----------------------------------------------------


def _filled(painter: CashierPainter, surface: pygame.Surface, lane: str) -> list[Colour]:
    bar = painter.queue_rect(lane)
    cell = bar.width / QUEUE_CAPACITY
    colours = []
    for k in range(QUEUE_CAPACITY):
        r, g, b, _ = surface.get_at((round(bar.left + (k + 0.5) * cell), bar.centery))
        colours.append((r, g, b))
    return colours


@pytest.mark.parametrize(
    ("time", "levels"), [(1.0, (0, 0, 0)), (8.5, (0, 0, 3)), (10.0, (0, 0, 2))]
)
def test_a_queue_bar_fills_exactly_level_cells_next_to_the_checkout(
    store: tuple[CashierPainter, World], time: float, levels: tuple[int, int, int]
) -> None:
    painter, world = store
    surface = _paint(painter, world, time)
    for lane, level in zip(LANES, levels, strict=True):
        cells = [colour == QUEUE for colour in _filled(painter, surface, lane)]
        assert cells == [False] * (QUEUE_CAPACITY - level) + [True] * level, lane


def test_a_full_queue_turns_to_a_warning_colour(overrun: tuple[CashierPainter, World]) -> None:
    painter, world = overrun
    surface = _paint(painter, world, 5.0)
    assert FULL != QUEUE
    assert _filled(painter, surface, LANE1) == [FULL] * QUEUE_CAPACITY
    assert _filled(painter, _paint(painter, world, 1.0), LANE1).count(QUEUE) == 9


def test_an_arriving_customer_walks_from_the_dispatcher_to_its_lane(
    store: tuple[CashierPainter, World],
) -> None:
    painter, world = store
    target = painter.lane_entry(LANE2)
    places = [
        _centroid(painter, _paint(painter, world, time), ARRIVING) for time in (2.2, 3.0, 3.8)
    ]  # customer 1 walks to lane2 from 2 to 4 s
    distances = [_distance(place, target) for place in places]
    assert distances[0] > distances[1] > distances[2]
    assert _distance(places[0], painter.dispatcher()) < distances[0]
    assert distances[2] < _distance(places[2], painter.dispatcher())


def test_the_customer_being_served_stands_at_the_counter(
    store: tuple[CashierPainter, World],
) -> None:
    painter, world = store
    surface = _paint(painter, world, 5.0)  # customer 0 at lane0, customer 1 still queued
    x, y = _centroid(painter, surface, BEING_SERVED)
    counter = painter.counter(LANE0)
    assert abs(x - counter[0]) < painter.badge_radius()
    assert abs(y - counter[1]) < 1.5 * painter.badge_radius()


def test_a_served_customer_walks_out_to_the_exit(store: tuple[CashierPainter, World]) -> None:
    painter, world = store
    places = [
        _centroid(painter, _paint(painter, world, time), LEAVING) for time in (9.3, 10.5, 11.7)
    ]  # customer 0 walks out from 9 to 12 s
    distances = [_distance(place, painter.exit()) for place in places]
    assert distances[0] > distances[1] > distances[2]
    assert _distance(places[0], painter.counter(LANE0)) < distances[0]
    assert len(_pixels(_paint(painter, world, 12.5), LEAVING, painter.floor_rect())) == 0


# -- the overrun ---------------------------------------------------------------------


def _marked(painter: CashierPainter, surface: pygame.Surface, lane: str) -> bool:
    """Whether `lane`'s row is outlined in the overrun colour (mid top and bottom edges)."""
    row = painter.lane_rect(lane)
    edges = ((row.centerx, row.top + 1), (row.centerx, row.bottom - 2))
    return all(tuple(surface.get_at(point))[:3] == OVERRUN for point in edges)


def test_the_overrun_is_marked_on_its_lane_at_the_end(
    overrun: tuple[CashierPainter, World],
) -> None:
    painter, world = overrun
    surface = _paint(painter, world, 8.0)
    assert [_marked(painter, surface, lane) for lane in LANES] == [False, True, False]


def test_the_overrun_mark_shows_from_the_fatal_dispatch_not_before(
    overrun: tuple[CashierPainter, World],
) -> None:
    painter, world = overrun
    assert painter.overrun == (LANE1, 8.0)
    before = _paint(painter, world, 5.5)
    assert len(_pixels(before, OVERRUN, painter.floor_rect())) == 0
    # A movie's last frame may fall just short of the end: the mark is already there.
    assert _marked(painter, _paint(painter, world, 7.0), LANE1)


def test_no_lane_is_marked_in_a_survived_episode(store: tuple[CashierPainter, World]) -> None:
    painter, world = store
    assert painter.overrun is None
    surface = _paint(painter, world, 20.0)
    assert len(_pixels(surface, OVERRUN, painter.floor_rect())) == 0


# -- construction ----------------------------------------------------------------------


def test_the_painter_refuses_another_domains_table(tmp_path: Path) -> None:
    scene, _ = load_scene(read_events(write_invented_table(tmp_path / "bakery.parquet")), 0)
    with pytest.raises(RenderError, match="use --painter timeline"):
        CashierPainter(scene)


def test_half_scale_keeps_the_layout(tmp_path: Path) -> None:
    path = _write(tmp_path / "store.parquet", _store_episode())
    scene, world = load_scene(read_events(path), 0)
    painter = CashierPainter(scene, scale=0.5)
    assert painter.size == (640, 360)
    surface = _paint(painter, world, 5.0)
    assert surface.get_size() == (640, 360)
    assert _body(painter, surface, painter.spot(LANE0)) == SERVING
    assert _filled(painter, _paint(painter, world, 8.5), LANE2).count(QUEUE) == 3


# -- a real episode ----------------------------------------------------------------------


def test_a_recorded_episode_agrees_with_its_table_frame_by_frame(tmp_path: Path) -> None:
    env = make_cashier_env(record=True)
    episode = play_episode(env, CashierRulesPolicy(env), seed=0)
    path = _write(tmp_path / "rules.parquet", episode)
    scene, world = load_scene(read_events(path), 0)
    painter = CashierPainter(scene)
    looks: dict[str, Colour] = {CashierState.SERVING: SERVING, CashierState.STALLED: STALLED}
    for time in np.linspace(0.5, scene.end_time - 0.5, 25).tolist():
        frame = world.at(time)
        surface = pygame.Surface(painter.size, 0, 32)
        painter.draw(surface, frame)
        for cashier in CASHIERS:
            state = frame.state(cashier)
            if state is not None and state.state in looks:
                spot = painter.spot(str(state.attr(Attr.LANE)))
                assert _body(painter, surface, spot) == looks[state.state], (cashier, time)
        for lane in LANES:
            lane_state = frame.state(lane)
            assert lane_state is not None
            level = int(lane_state.attr(Attr.LEVEL) or 0)
            cells = _filled(painter, surface, lane)
            assert cells.count(FULL if level == QUEUE_CAPACITY else QUEUE) == level, (lane, time)
    if episode.kpis[Kpi.SURVIVED]:
        assert painter.overrun is None
    else:
        assert painter.overrun is not None
        lane, _ = painter.overrun
        end = _paint(painter, world, scene.end_time)
        assert [_marked(painter, end, other) for other in LANES] == [
            other == lane for other in LANES
        ]
