"""Every state a painter draws by colour shows in the vocabulary's colour, checked by pixels.

The factory painter's tests looked at two worker states only, so a walking worker
drawn in the working colour went unnoticed. Here every worker state is checked on
the floor and in the activity strips, the buffers in the level colour, and the
cashier painter's cashier strips and its dispatcher (its other states are checked in
``tests/test_cashier_painter.py``). Expected colours come from the vocabularies,
never from the painters' own constants.

The factory painter draws the ``finished`` count as a number and the cashier painter
draws queued customers as their queue's cells and the ``served`` count as a number,
so those colours are checked where they are drawn: the generic timeline.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pygame
import pytest

from domains.cashier.painter import CashierPainter
from domains.cashier.simulation import make_cashier_env
from domains.cashier.vocabulary import (
    CASHIERS,
    CUSTOMER,
    DISPATCHER,
    LANES,
    SERVED,
    CashierState,
    CounterState,
    CustomerState,
    DispatcherState,
    Kpi,
    LaneState,
)
from domains.cashier.vocabulary import COLOURS as CASHIER_COLOURS
from domains.cashier.vocabulary import DOMAIN_ID as CASHIER_ID
from domains.cashier.vocabulary import DOMAIN_VERSION as CASHIER_VERSION
from domains.cashier.vocabulary import VOCABULARY as CASHIER_VOCABULARY
from domains.factory.painter import FactoryPainter
from domains.factory.vocabulary import (
    BUFFER_A,
    BUFFER_B,
    BUFFER_CAPACITY,
    COLOURS,
    STATIONS,
    WORKERS,
    Attr,
    BufferState,
    WorkerState,
)
from domains.policies import RandomLegalPolicy, play_episode
from domains.recorder import EventRecorder, RecordedEpisode
from schemas.events import read_events, write_events
from stages.render.movie import paint_still
from stages.render.paintkit import Colour, colour_from_hex
from stages.render.timeline import TimelinePainter
from stages.render.world import World, load_scene
from tests.test_render_tables import write_factory_table

_SHORT_LIVED_STATES = set(CustomerState)
"""Customers are instances of a short-lived kind: the timeline stacks them per kind."""
FLOOR = (24, 104, 1232, 340)
"""The factory floor panel in design units (x, y, width, height): everything that moves."""
STRIPS = (150, 470, 1082, 140)
"""Both painters' activity strips in design units, clear of the legend below them."""


def _colour(state: str, colours: dict[str, str] = COLOURS) -> Colour:
    return colour_from_hex(colours[state])


def _rect(design: tuple[int, int, int, int], scale: float) -> pygame.Rect:
    return pygame.Rect(*(round(v * scale) for v in design))


def _pixels(surface: pygame.Surface, colour: Colour, area: pygame.Rect) -> np.ndarray:
    """(x, y) of every pixel of exactly `colour` inside `area`."""
    rgb = pygame.surfarray.array3d(surface)[area.left : area.right, area.top : area.bottom]
    xs, ys = np.nonzero(np.all(rgb == np.array(colour), axis=2))
    return np.stack([xs + area.left, ys + area.top], axis=1)


def _intervals(world: World, actor: str) -> list[tuple[float, float, str, int]]:
    timeline = world.timeline(actor)
    return [
        (float(start), float(end), str(state), int(row))
        for start, end, state, row in zip(
            timeline.starts, timeline.ends, timeline.states, timeline.rows, strict=True
        )
    ]


@pytest.fixture(scope="module")
def factory(tmp_path_factory: pytest.TempPathFactory) -> tuple[FactoryPainter, World]:
    path = write_factory_table(tmp_path_factory.mktemp("colours") / "factory.parquet")
    scene, world = load_scene(read_events(path), 0)
    return FactoryPainter(scene), world


def _first(world: World, state: str) -> tuple[str, float, float, int]:
    """(worker, start, end, row) of the first interval longer than 2 s in `state`."""
    for worker in WORKERS:
        for start, end, name, row in _intervals(world, worker):
            if name == state and end - start > 2.0:
                return worker, start, end, row
    raise AssertionError(f"no worker is ever {state} for more than 2 s")


@pytest.mark.parametrize("state", list(WorkerState))
def test_a_worker_on_the_floor_is_drawn_in_its_states_colour(
    factory: tuple[FactoryPainter, World], state: WorkerState
) -> None:
    painter, world = factory
    worker, start, end, row = _first(world, state)
    surface = paint_still(painter, world, (start + end) / 2)
    found = _pixels(surface, _colour(state), _rect(FLOOR, 1.0))
    radius = painter.badge_radius()
    # At least a third of a badge's disc; a caption alone is far less.
    assert len(found) > np.pi * radius**2 / 3, f"{worker} {state}: {len(found)} pixels"
    station = str(world.columns[Attr.STATION][row])
    x, _ = painter.spot(station)
    if state == WorkerState.WALKING:
        # On its way: between the station it left and the one it heads for.
        destination = str(world.columns[Attr.DESTINATION][row])
        assert destination in STATIONS
        ends = sorted((x, painter.spot(destination)[0]))
        assert ends[0] < found[:, 0].mean() < ends[1]
    else:
        near = np.abs(found[:, 0] - x) < 3 * radius
        assert near.mean() > 0.9, f"{worker} {state} is drawn away from {station}"
    # And in no other worker state's colour.
    for other in WorkerState:
        if other != state:
            elsewhere = _pixels(surface, _colour(other), _rect(FLOOR, 1.0))
            assert len(elsewhere) == 0 or other in _states_at(world, (start + end) / 2)


def _states_at(world: World, time: float) -> set[str]:
    frame = world.at(time)
    return {state.state for worker in WORKERS if (state := frame.state(worker)) is not None}


def _strip_shares(
    surface: pygame.Surface, states: list[str], colours: dict[str, str], scale: float
) -> dict[str, float]:
    counts = {s: len(_pixels(surface, _colour(s, colours), _rect(STRIPS, scale))) for s in states}
    total = sum(counts.values())
    return {state: count / total for state, count in counts.items()}


def _time_shares(world: World, actors: tuple[str, ...], states: list[str]) -> dict[str, float]:
    seconds = dict.fromkeys(states, 0.0)
    for actor in actors:
        for start, end, state, _ in _intervals(world, actor):
            seconds[state] += end - start
    total = sum(seconds.values())
    return {state: value / total for state, value in seconds.items()}


def test_the_factory_strips_show_each_worker_state_in_its_colour_for_its_time(
    factory: tuple[FactoryPainter, World],
) -> None:
    painter, world = factory
    states = list(WorkerState)
    expected = _time_shares(world, WORKERS, states)
    assert all(share > 0.01 for share in expected.values()), expected
    shown = _strip_shares(paint_still(painter, world, painter.scene.end_time), states, COLOURS, 1)
    assert shown == pytest.approx(expected, abs=0.01)


@pytest.mark.parametrize("buffer", [BUFFER_A, BUFFER_B])
def test_buffer_levels_are_cells_in_the_level_colour(
    factory: tuple[FactoryPainter, World], buffer: str
) -> None:
    painter, world = factory
    intervals = _intervals(world, buffer)
    levels = world.columns[Attr.LEVEL]
    held = [interval for interval in intervals if interval[1] - interval[0] > 0.5]
    start, end, _, row = max(held, key=lambda i: (levels[i[3]] or 0, i[1] - i[0]))
    level = int(levels[row] or 0)
    assert 0 < level <= BUFFER_CAPACITY
    surface = paint_still(painter, world, (start + end) / 2)
    bar = painter.buffer_rect(buffer)
    cell = bar.width / BUFFER_CAPACITY
    filled = [
        tuple(surface.get_at((round(bar.left + (k + 0.5) * cell), bar.centery)))[:3]
        == _colour(BufferState.LEVEL)
        for k in range(BUFFER_CAPACITY)
    ]
    assert filled == [True] * level + [False] * (BUFFER_CAPACITY - level)


def _cashier_scene(episode: RecordedEpisode, path: Path) -> tuple[CashierPainter, World]:
    write_events(
        path,
        [episode],
        domain_id=CASHIER_ID,
        domain_version=CASHIER_VERSION,
        vocabulary=CASHIER_VOCABULARY,
        provenance={"test": True},
    )
    scene, world = load_scene(read_events(path), 0)
    return CashierPainter(scene), world


@pytest.fixture(scope="module")
def cashier(tmp_path_factory: pytest.TempPathFactory) -> tuple[CashierPainter, World]:
    """A random policy's episode: the cashiers serve, stall and walk between lanes."""
    env = make_cashier_env(record=True)
    episode = play_episode(env, RandomLegalPolicy(0), seed=0)
    return _cashier_scene(episode, tmp_path_factory.mktemp("colours") / "cashier.parquet")


def test_the_cashier_strips_show_each_cashier_state_in_its_colour_for_its_time(
    cashier: tuple[CashierPainter, World],
) -> None:
    painter, world = cashier
    states = list(CashierState)
    expected = _time_shares(world, CASHIERS, states)
    assert all(share > 0.01 for share in expected.values()), expected
    picture = paint_still(painter, world, painter.scene.end_time)
    assert _strip_shares(picture, states, CASHIER_COLOURS, 1) == pytest.approx(expected, abs=0.01)


def _dispatch_once(path: Path) -> tuple[CashierPainter, World]:
    """The dispatcher sends customer 0 to lane0 from 0 to 2 s, then rests until 10 s."""
    now = [0.0]
    recorder = EventRecorder(CASHIER_VOCABULARY, lambda: now[0])
    for lane in LANES:
        recorder.enter(lane, LaneState.QUEUE, level=0)
    recorder.enter(SERVED, CounterState.COUNT, count=0)
    recorder.enter(CASHIERS[0], CashierState.STALLED, lane=LANES[0])
    recorder.enter(CASHIERS[1], CashierState.STALLED, lane=LANES[1])
    recorder.enter(DISPATCHER, DispatcherState.DISPATCHING, lane=LANES[0], customer=0)
    recorder.enter(CUSTOMER.instance(0), CustomerState.ARRIVING, lane=LANES[0])
    now[0] = 2.0
    recorder.close(DISPATCHER)
    recorder.enter(CUSTOMER.instance(0), CustomerState.QUEUED, lane=LANES[0])
    recorder.enter(LANES[0], LaneState.QUEUE, level=1)
    episode = recorder.finish(10.0)
    episode.seed = 0
    episode.kpis = {Kpi.CUSTOMERS_SERVED: 0.0, Kpi.SURVIVED: 1.0}
    return _cashier_scene(episode, path)


def test_the_dispatcher_is_drawn_in_the_dispatching_colour_only_while_dispatching(
    tmp_path: Path,
) -> None:
    painter, world = _dispatch_once(tmp_path / "dispatch.parquet")
    x, y = painter.dispatcher()
    radius = round(painter.badge_radius())
    around = pygame.Rect(x - radius, y - radius, 2 * radius, 2 * radius)
    colour = _colour(DispatcherState.DISPATCHING, CASHIER_COLOURS)
    dispatching = _pixels(paint_still(painter, world, 1.0), colour, around)
    assert len(dispatching) > np.pi * radius**2 / 3
    assert len(_pixels(paint_still(painter, world, 5.0), colour, around)) == 0


@pytest.mark.parametrize("domain", ["factory", "cashier"])
def test_the_timeline_shows_every_named_actors_state_in_the_declared_colour(
    request: pytest.FixtureRequest, domain: str
) -> None:
    painter, world = request.getfixturevalue(domain)
    colours = COLOURS if domain == "factory" else CASHIER_COLOURS
    timeline = TimelinePainter(painter.scene)
    picture = timeline.gantt()
    seen = set()
    for actor in timeline.scene.vocabulary.actor_names:
        for start, end, state, _ in _intervals(world, actor):
            if timeline.x(end) - timeline.x(start) < 6:
                continue
            x = round((timeline.x(start) + timeline.x(end)) / 2)
            bars = timeline.bars_rect(actor)
            column = [tuple(picture.get_at((x, y)))[:3] for y in range(bars.top, bars.bottom)]
            assert _colour(state, colours) in column, f"{actor} {state} at {start:g}-{end:g} s"
            seen.add(state)
    # Every state a named actor holds long enough to see: the counts and levels included.
    named = COLOURS.keys() if domain == "factory" else set(CASHIER_COLOURS) - {"overrun"}
    assert seen >= {state for state in named if state not in _SHORT_LIVED_STATES}
