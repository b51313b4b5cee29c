"""The paint kit: geometry, bars and text, checked by numbers and pixels."""

from __future__ import annotations

import math

import pyarrow as pa
import pygame
import pytest

from schemas.errors import RenderError
from schemas.metadata import EpisodeSummary
from schemas.vocabulary import Actor, ShortLivedKind, Vocabulary
from stages.render.paintkit import (
    ELLIPSIS,
    HEADINGS,
    INK,
    PANEL,
    PAPER,
    SPINNER_STEPS,
    TRACK,
    ActivityBadges,
    ActivityStrips,
    ActorState,
    Frame,
    Header,
    Points,
    PolylinePath,
    Scene,
    Text,
    actor_intervals,
    check_scene,
    draw_bar,
    draw_segmented_bar,
    episode_subtitle,
    frame_surface,
    minutes_left,
    mix,
    opaque,
)


def test_points_scale() -> None:
    points = Points({"a": (100, 40)}, scale=0.5)
    assert points["a"] == (50.0, 20.0)
    assert points.pixel("a") == (50, 20)
    with pytest.raises(KeyError, match="known points"):
        points["b"]


def test_path_position_is_by_length() -> None:
    path = PolylinePath([(0, 0), (30, 0), (30, 10)])  # 30 then 10: 40 long
    assert path.length == 40
    assert path.at(0.0) == (0, 0)
    assert path.at(0.5) == (20, 0)
    assert path.at(0.875) == (30, 5)
    assert path.at(1.0) == (30, 10)
    assert path.at(7.0) == (30, 10)  # clipped
    assert path.heading(0.1) == 0.0
    assert math.isclose(path.heading(0.9), -90.0)  # screen y grows downwards
    assert path.reversed().at(0.0) == (30, 10)


def test_segmented_bar_fills_the_first_cells() -> None:
    surface = frame_surface((120, 20))
    surface.fill(PAPER)
    cells = draw_segmented_bar(surface, pygame.Rect(0, 0, 120, 20), 3, 10, (255, 0, 0), (0, 0, 255))
    assert len(cells) == 10
    colours = [surface.get_at(cell.center)[:3] for cell in cells]
    assert colours == [(255, 0, 0)] * 3 + [(0, 0, 255)] * 7


def test_continuous_bar_fraction() -> None:
    surface = frame_surface((100, 10))
    draw_bar(surface, pygame.Rect(0, 0, 100, 10), 0.3, (255, 0, 0), (0, 0, 255), radius=0)
    assert surface.get_at((25, 5))[:3] == (255, 0, 0)
    assert surface.get_at((35, 5))[:3] == (0, 0, 255)


def test_text_is_cached_and_mix_blends() -> None:
    text = Text()
    assert text.render("hello", 20) is text.render("hello", 20)
    assert mix((0, 0, 0), (200, 100, 50), 0.5) == (100, 50, 25)


def test_opaque_has_the_frame_format() -> None:
    sprite = pygame.Surface((4, 4), pygame.SRCALPHA)
    flat = opaque(sprite)
    assert flat.get_masks() == frame_surface((1, 1)).get_masks()


def test_a_hand_made_frame_finds_instances_by_name_and_kind() -> None:
    # Third-party painters test with frames built by hand; the look-ups need no World.
    queued = ActorState("customer_10", "queued", 1.0, 3.0, 0.5, 0, {})
    arriving = ActorState("customer_2", "arriving", 2.0, 2.5, 0.0, 1, {})
    frame = Frame(time=2.0, states={}, short_lived={"customer": (arriving, queued)})
    assert frame.state("customer_10") is queued
    assert frame.state("customer_3") is None
    assert frame.instances("customer") == (arriving, queued)
    with pytest.raises(KeyError, match=r"declared kinds: \['customer'\]"):
        frame.instances("visitor")
    assert Frame(time=0.0, states={}).state("customer_10") is None


# -- the pieces the built-in painters share: badges, strips, header, scene check -------

BUSY, HALTED, WALKS, IDLE = (46, 160, 67), (207, 34, 46), (31, 111, 235), (116, 125, 140)


def _badges(radius: float = 40.0) -> ActivityBadges:
    return ActivityBadges(radius, busy=BUSY, stalled=HALTED, walking=WALKS, idle=IDLE)


def _at(sprite: pygame.Surface, dx: float, dy: float) -> pygame.Color:
    """The sprite's pixel at (dx, dy) from its centre."""
    width, height = sprite.get_size()
    return sprite.get_at((round(width / 2 + dx), round(height / 2 + dy)))


def test_each_badge_shows_its_state_colour_inside() -> None:
    badges, r = _badges(), 40.0
    # busy: between the white hub and the spinner's ring; the hub itself is white
    assert _at(badges.busy(0.0), 0, 0.23 * r)[:3] == BUSY
    assert _at(badges.busy(0.0), 0, 0)[:3] == PANEL
    # stalled: between the two pause bars, and the bars are white
    assert _at(badges.stalled(), 0, 0)[:3] == HALTED
    assert _at(badges.stalled(), 0.22 * r, 0)[:3] == PANEL
    # walking: beside the arrow (heading 0 points along +x)
    assert _at(badges.walking(0.0), 0, 0.4 * r)[:3] == WALKS
    assert _at(badges.walking(0.0), 0, 0)[:3] == PANEL
    # idle: a plain disc
    assert _at(badges.idle(), 0, 0)[:3] == IDLE
    # every badge has a white ring
    for sprite in (badges.busy(0.0), badges.stalled(), badges.walking(0.0), badges.idle()):
        assert _at(sprite, 0, -0.93 * r)[:3] == PANEL


def test_the_stalled_octagon_differs_from_the_discs_in_shape() -> None:
    badges, r = _badges(60.0), 60.0
    stalled, disc_ = badges.stalled(), badges.idle()
    assert stalled.get_size() == disc_.get_size()
    # Along a vertex (22.5 degrees) the octagon reaches beyond the disc ...
    vertex = (61.5 * math.cos(math.radians(22.5)), 61.5 * math.sin(math.radians(22.5)))
    assert _at(stalled, *vertex).a > 0
    assert _at(disc_, *vertex).a == 0
    # ... along an edge's middle (0 degrees) it stops short of it.
    assert _at(disc_, 0.985 * r, 0).a > 200
    assert _at(stalled, 0.985 * r, 0).a == 0
    opaque_stalled = pygame.mask.from_surface(stalled, 128)
    opaque_disc = pygame.mask.from_surface(disc_, 128)
    assert opaque_stalled.overlap_area(opaque_disc, (0, 0)) < opaque_disc.count()


def test_the_spinner_turns_with_time_and_the_arrow_follows_the_heading() -> None:
    badges = _badges()
    assert badges.busy(0.0) is badges.busy(0.2)  # a quarter second a step
    assert badges.busy(0.0) is not badges.busy(0.25)
    assert badges.busy(0.0) is badges.busy(SPINNER_STEPS / 4)  # a full turn
    assert badges.walking(44.0) is badges.walking(45.0)  # the nearest of the headings
    assert badges.walking(0.0) is badges.walking(360.0)
    assert len({id(badges.walking(360 * i / HEADINGS)) for i in range(HEADINGS)}) == HEADINGS
    right, up = badges.walking(0.0), badges.walking(90.0)
    assert _at(right, -0.35 * 40, 0)[:3] == PANEL  # the arrow's shaft
    assert _at(up, -0.35 * 40, 0)[:3] == WALKS
    assert _at(up, 0, 0.35 * 40)[:3] == PANEL


def test_badges_without_an_idle_colour_have_no_idle_badge() -> None:
    badges = ActivityBadges(10.0, busy=BUSY, stalled=HALTED, walking=WALKS)
    with pytest.raises(ValueError, match="idle"):
        badges.idle()


def test_the_badge_legend_shows_the_three_badges_and_returns_where_it_ends() -> None:
    surface = frame_surface((800, 80))
    surface.fill(PAPER)
    end = _badges(40.0).draw_legend(
        surface, Text(), ("busy", "stalled", "walking"), (10, 40), pad=8, gap=28
    )
    assert 10 < end < 800
    row = [surface.get_at((x, 40 + 5))[:3] for x in range(end)]
    for colour in (BUSY, HALTED, WALKS):  # shrunk, so within a step of the colour
        assert any(max(abs(a - b) for a, b in zip(c, colour, strict=True)) <= 2 for c in row)
    with pytest.raises(ValueError, match="3 labels"):
        _badges().draw_legend(surface, Text(), ("busy",), (0, 0), pad=1, gap=1)


def _scene(rows: list[tuple[str, str, float, float]], *, domain: str = "shop") -> Scene:
    vocabulary = Vocabulary(
        actors=(Actor("clerk0", ("busy", "stalled", "off")), Actor("clerk1", ("busy",))),
        short_lived=(ShortLivedKind("customer", "customer_", ("waiting",)),),
    )
    table = pa.table(
        {
            "actor": [r[0] for r in rows],
            "state": [r[1] for r in rows],
            "start": [r[2] for r in rows],
            "end": [r[3] for r in rows],
        }
    )
    episode = EpisodeSummary(episode=3, seed=7, total_reward=0.0, end_time=100.0, rows=len(rows))
    return Scene(
        domain_id=domain,
        domain_version=1,
        vocabulary=vocabulary,
        episode=episode,
        table=table,
        start_time=0.0,
        end_time=100.0,
        provenance={"policy": {"kind": "rules"}},
    )


SHOP = [
    ("clerk0", "busy", 0.0, 40.0),
    ("clerk1", "busy", 10.0, 30.0),
    ("clerk0", "stalled", 40.0, 80.0),
    ("clerk0", "off", 80.0, 100.0),
]


def test_actor_intervals_keep_the_tables_order() -> None:
    found = actor_intervals(_scene(SHOP), ["clerk0", "clerk1", "nobody"])
    assert found == {
        "clerk0": [(0.0, 40.0, "busy"), (40.0, 80.0, "stalled"), (80.0, 100.0, "off")],
        "clerk1": [(10.0, 30.0, "busy")],
        "nobody": [],
    }


def test_strips_fade_the_future_and_show_the_past_up_to_the_cursor() -> None:
    strips = ActivityStrips(
        _scene(SHOP),
        ["clerk0", "clerk1"],
        {"busy": BUSY, "stalled": HALTED},
        left=0,
        right=200,
        top=0,
        height=10,
        gap=5,
        scale=2.0,
    )
    assert strips.rect(1) == pygame.Rect(0, 30, 400, 20)
    assert strips.x(50.0) == 200.0
    faded, bright = frame_surface((400, 90)), frame_surface((400, 90))
    strips.paint(faded, Text(), fade=True)
    strips.paint(bright, Text(), fade=False)
    # 4 pixels a second: clerk0 busy to x 160, stalled to 320, then off
    assert bright.get_at((40, 10))[:3] == BUSY
    assert bright.get_at((240, 10))[:3] == HALTED
    assert bright.get_at((360, 10))[:3] == TRACK  # "off" has no colour: the track shows
    assert bright.get_at((80, 40))[:3] == BUSY
    assert bright.get_at((10, 40))[:3] == TRACK
    assert faded.get_at((40, 10))[:3] == mix(BUSY, PANEL, 0.65)
    assert faded.get_at((360, 10))[:3] == mix(TRACK, PANEL, 0.5)
    frame = frame_surface((400, 90))
    frame.blit(faded, (0, 0))
    strips.draw(frame, bright, 50.0)
    assert frame.get_at((40, 10))[:3] == BUSY  # the past, in full colour
    assert frame.get_at((190, 10))[:3] == HALTED
    assert frame.get_at((240, 10))[:3] == mix(HALTED, PANEL, 0.65)  # the future, faded
    assert frame.get_at((200, 10))[:3] == INK  # the cursor


def test_minutes_left_rounds_up_and_never_goes_negative() -> None:
    assert minutes_left(200.0) == "3:20"
    assert minutes_left(59.2) == "1:00"
    assert minutes_left(60.0) == "1:00"
    assert minutes_left(0.0) == "0:00"
    assert minutes_left(-3.0) == "0:00"


def test_the_header_fills_the_time_left_bar() -> None:
    scene = _scene(SHOP)
    assert episode_subtitle(scene) == "episode 3 · seed 7 · policy: rules"
    surface = frame_surface((1280, 100))
    surface.fill(PAPER)
    header = Header(Text())
    header.paint(surface, title="Shop", subtitle="s", time_left_label="left", count_label="n")
    header.draw(surface, time=25.0, left=75.0, total=100.0, count=None, colour=WALKS)
    bar = header.bar_rect()
    assert surface.get_at((bar.left + bar.width * 70 // 100, bar.centery))[:3] == WALKS  # 75 %
    assert surface.get_at((bar.left + bar.width * 80 // 100, bar.centery))[:3] == TRACK
    assert surface.get_at((1100, 75))[:3] == PANEL  # the counter's card


def test_a_long_subtitle_is_cut_before_the_clock() -> None:
    surface = frame_surface((1280, 100))
    surface.fill(PAPER)
    header = Header(Text())
    subtitle = "episode 12 · seed 123456 · policy: model · " + "a very long remark " * 5
    header.paint(surface, title="Shop", subtitle=subtitle, time_left_label="", count_label="")
    clock = header.clock_rect()
    # The subtitle's band (y 62 to 78) holds nothing from 12 px before the clock's left edge
    # up to the bar: the cut text ends there with an ellipsis.
    band = {
        surface.get_at((x, y))[:3]
        for x in range(clock.left - 12, header.bar_rect().left)
        for y in range(62, 79)
    }
    assert band == {PAPER}
    inked = [x for x in range(32, clock.left) if surface.get_at((x, 70))[:3] != PAPER]
    assert inked, "the subtitle's start is drawn"


def test_check_scene_refuses_another_domain_and_missing_actors() -> None:
    scene = _scene(SHOP)
    check_scene(scene, "shop", scene.vocabulary)
    with pytest.raises(RenderError, match=r"the bakery painter draws 'bakery' tables"):
        check_scene(scene, "bakery", scene.vocabulary)
    wanted = Vocabulary(
        actors=(Actor("clerk0", ("busy",)), Actor("manager", ("busy",))),
        short_lived=(ShortLivedKind("visitor", "visitor_", ("in",)),),
    )
    with pytest.raises(RenderError, match=r"lacks the shop actors \['manager', 'visitor_<n>'\]"):
        check_scene(scene, "shop", wanted)


def test_text_fits_and_wraps_within_a_width_with_a_visible_cut() -> None:
    text = Text()
    assert text.fit("short", 17, 500) == "short"
    cut = text.fit("a label far too long for its little box", 17, 80)
    assert cut.endswith(ELLIPSIS)
    assert text.width(cut, 17) <= 80 < text.width(cut[:-1] + "x" + ELLIPSIS, 17)
    pieces = ["open", "ticket 3", "note front desk", "urgent yes"]
    width = max(text.width("open · ticket 3", 17), text.width("note front desk", 17))
    lines = text.wrap(pieces, 17, width, 3)
    assert lines == ["open · ticket 3", "note front desk", "urgent yes"]
    two = text.wrap(pieces, 17, width, 2)
    assert two[0] == "open · ticket 3"
    assert two[1].endswith(ELLIPSIS)
    assert all(text.width(line, 17) <= width for line in two)
    assert text.wrap(["a single piece wider than the line"], 17, 60, 4)[0].endswith(ELLIPSIS)
