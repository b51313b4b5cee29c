"""The paint kit: geometry, bars and text, checked by numbers and pixels."""

from __future__ import annotations

import math

import pygame
import pytest

from stages.render.paintkit import (
    PAPER,
    ActorState,
    Frame,
    Points,
    PolylinePath,
    Text,
    draw_bar,
    draw_segmented_bar,
    frame_surface,
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
