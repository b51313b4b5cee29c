"""Activity badges: an actor's state told at a glance by a badge's colour and shape.

Three activities cover most workers, cashiers and robots a painter draws:

* **busy**: a disc with a spinner (a three-quarter ring around a hub) that turns with
  simulated time, so it stops when the movie does;
* **stalled**: an octagon (a stop sign) with two pause bars; its outline differs from
  the discs, so a viewer who cannot tell the colours apart still sees it;
* **walking**: a disc with an arrow along the direction of travel.

An actor in no state (the instant of a decision) may show a plain **idle** disc. Every
badge is a white ring around its state colour, antialiased once when the badges are
built; drawing one is a single small blit.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Final

import pygame

from stages.render.paintkit.draw import (
    INK,
    PANEL,
    Colour,
    Text,
    arrow_head,
    blit_centred,
    supersampled,
)
from stages.render.paintkit.geometry import Point

SPINNER_STEPS: Final = 24
"""Phases of the busy badge's spinner: one turn in six simulated seconds."""
SPINNER_STEPS_PER_SECOND: Final = 4
HEADINGS: Final = 8
"""Directions of the walking badge's arrow, every 45 degrees from +x."""

_LEGEND_SCALE: Final = 0.75


def _paint_badge(radius: float, colour: Colour, shape: str, turn: float) -> pygame.Surface:
    """One badge of `radius` pixels: `shape` is busy, stalled, walking or idle; `turn` is
    the spinner's angle (busy) or the arrow's heading (walking), in degrees."""
    side = math.ceil(radius * 2) + 4

    def paint(big: pygame.Surface, f: float) -> None:
        centre = (big.get_width() / 2, big.get_height() / 2)
        r = radius * f
        if shape == "stalled":
            octagon = [
                (
                    centre[0] + r * 1.04 * math.cos(math.radians(22.5 + 45 * i)),
                    centre[1] + r * 1.04 * math.sin(math.radians(22.5 + 45 * i)),
                )
                for i in range(8)
            ]
            pygame.draw.polygon(big, PANEL, octagon)
            inner = [
                (centre[0] + (x - centre[0]) * 0.86, centre[1] + (y - centre[1]) * 0.86)
                for x, y in octagon
            ]
            pygame.draw.polygon(big, colour, inner)
            bar = pygame.Rect(0, 0, r * 0.22, r * 0.8)
            for dx in (-0.22, 0.22):
                bar.center = (round(centre[0] + dx * r), round(centre[1]))
                pygame.draw.rect(big, PANEL, bar, border_radius=round(r * 0.06))
            return
        pygame.draw.circle(big, PANEL, centre, r)
        pygame.draw.circle(big, colour, centre, r * 0.86)
        if shape == "busy":
            arc = pygame.Rect(0, 0, r * 1.0, r * 1.0)
            arc.center = (round(centre[0]), round(centre[1]))
            start = math.radians(turn)
            pygame.draw.arc(big, PANEL, arc, start, start + math.radians(270), round(r * 0.16))
            pygame.draw.circle(big, PANEL, centre, r * 0.12)
        elif shape == "walking":
            angle = math.radians(turn)
            tail = (
                centre[0] - math.cos(angle) * r * 0.45,
                centre[1] + math.sin(angle) * r * 0.45,
            )
            tip = (
                centre[0] + math.cos(angle) * r * 0.55,
                centre[1] - math.sin(angle) * r * 0.55,
            )
            pygame.draw.line(big, PANEL, tail, tip, round(r * 0.18))
            arrow_head(big, PANEL, tip, turn, r * 0.55)
        # idle: the plain disc.

    return supersampled((side, side), paint)


class ActivityBadges:
    """The badges of one painter's actors, in its colours, antialiased once.

    Args:
        radius: Badge radius in pixels (design radius times the painter's scale).
        busy: Colour of the busy badge (working, serving).
        stalled: Colour of the stalled octagon.
        walking: Colour of the walking badge.
        idle: Colour of the plain disc for an actor in no state; None: no idle badge.

    >>> badges = ActivityBadges(23.0, busy=(46, 160, 67), stalled=(207, 34, 46),
    ...                         walking=(31, 111, 235))
    >>> badges.busy(time=12.5).get_size()
    (50, 50)
    """

    def __init__(
        self,
        radius: float,
        *,
        busy: Colour,
        stalled: Colour,
        walking: Colour,
        idle: Colour | None = None,
    ) -> None:
        self.radius = radius
        """Badge radius in pixels."""
        self._busy = [
            _paint_badge(radius, busy, "busy", -360 * i / SPINNER_STEPS)
            for i in range(SPINNER_STEPS)
        ]
        self._stalled = _paint_badge(radius, stalled, "stalled", 0.0)
        self._walking = [
            _paint_badge(radius, walking, "walking", 360 * i / HEADINGS) for i in range(HEADINGS)
        ]
        self._idle = None if idle is None else _paint_badge(radius, idle, "idle", 0.0)

    def busy(self, time: float) -> pygame.Surface:
        """The busy badge with its spinner in the phase of simulated `time` (it turns
        ``SPINNER_STEPS_PER_SECOND`` steps a second, so it stops when the movie pauses)."""
        return self._busy[int(time * SPINNER_STEPS_PER_SECOND) % SPINNER_STEPS]

    def stalled(self) -> pygame.Surface:
        """The stalled badge: an octagon with pause bars."""
        return self._stalled

    def walking(self, heading: float) -> pygame.Surface:
        """The walking badge with its arrow at the nearest of the ``HEADINGS`` directions to
        `heading` (degrees counter-clockwise from +x, as ``PolylinePath.heading`` gives)."""
        return self._walking[round(heading / (360 / HEADINGS)) % HEADINGS]

    def idle(self) -> pygame.Surface:
        """The plain disc of an actor in no state; ValueError if built without `idle`."""
        if self._idle is None:
            raise ValueError("these badges have no idle badge; build them with idle=<colour>")
        return self._idle

    def draw_legend(
        self,
        surface: pygame.Surface,
        text: Text,
        labels: Sequence[str],
        start: Point,
        *,
        pad: int,
        gap: int,
        size: float = 20,
    ) -> int:
        """A legend row: the busy, stalled and walking badges at three quarters of their size,
        each followed by its label from `labels` (in that order).

        The row starts at `start` (left end, vertical centre); `pad` pixels separate a badge
        from its label and `gap` pixels a label from the next badge. Returns the x where
        a further legend entry may start.
        """
        if len(labels) != 3:
            raise ValueError(f"a badge legend needs 3 labels (busy, stalled, walking): {labels}")
        x, y = start
        for badge, label in zip(
            (self.busy(0.0), self.stalled(), self.walking(0.0)), labels, strict=True
        ):
            sprite = pygame.transform.smoothscale_by(badge, _LEGEND_SCALE)
            blit_centred(surface, sprite, (x + sprite.get_width() / 2, y))
            right = text.draw(
                surface, label, (x + sprite.get_width() + pad, y), size, INK, anchor="midleft"
            ).right
            x = right + gap
        return round(x)
