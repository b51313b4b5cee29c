"""The header of a 1280 x 720 design canvas: title, clock, time left and a counter.

Laid out in design units across the top 90 of the canvas and scaled once: the title
and a subtitle at the left, the clock and a bar of the time left in the middle, and a
card at the right with a count (finished items, served customers). The static parts
go into a painter's background (:meth:`Header.paint`); each frame draws the moving
ones (:meth:`Header.draw`).
"""

from __future__ import annotations

import math
from typing import Final

import pygame

from stages.render.paintkit.draw import INK, MUTED, Colour, Text, draw_bar, shadowed_panel
from stages.render.paintkit.scene import AttributeValue, Scene

_BAR: Final = (570, 48, 300, 14)
"""The time-left bar (left, top, width, height), right of the subtitle's longest line."""
_CLOCK_RIGHT: Final = 556
"""The clock's right edge, just left of the bar."""
_CLOCK_SIZE: Final = 22
_CLOCK_WIDEST: Final = "t = 000.0 s"
"""As wide as any clock of a run under 1000 s (DejaVu's digits all have one width)."""
_SUBTITLE_SIZE: Final = 21
_GAP: Final = 12


def minutes_left(seconds: float) -> str:
    """`seconds` as ``m:ss``, rounded up to the whole second and never negative.

    >>> minutes_left(200.0), minutes_left(59.2), minutes_left(-3.0)
    ('3:20', '1:00', '0:00')
    """
    whole = max(0, math.ceil(seconds - 1e-9))
    return f"{whole // 60}:{whole % 60:02d}"


def episode_subtitle(scene: Scene) -> str:
    """``episode 3 · seed 7 · policy: rules``: the episode, and its seed and the recording
    policy's kind where the table says them. A painter may append more with `` · ``."""
    policy = scene.provenance.get("policy")
    kind = policy.get("kind") if isinstance(policy, dict) else None
    subtitle = f"episode {scene.episode.episode}"
    if scene.episode.seed is not None:
        subtitle += f" · seed {scene.episode.seed}"
    if kind:
        subtitle += f" · policy: {kind}"
    return subtitle


class Header:
    """The header's layout at the painter's scale.

    Args:
        text: The painter's text cache (built with the same `scale`).
        scale: Size factor over the 1280 x 720 design canvas.
    """

    def __init__(self, text: Text, scale: float = 1.0) -> None:
        self._text = text
        self._k = scale

    def _s(self, value: float) -> int:
        return round(value * self._k)

    def paint(
        self,
        surface: pygame.Surface,
        *,
        title: str,
        subtitle: str,
        time_left_label: str,
        count_label: str,
    ) -> None:
        """The static header (for a background painted once): `title` and `subtitle`, the
        caption over the time-left bar, and the counter's card with `count_label`."""
        s, text = self._s, self._text
        left, _, width, _ = _BAR
        text.draw(surface, title, (s(32), s(36)), 44, INK, anchor="midleft", bold=True)
        # The subtitle ends before the clock (drawn per frame above it and to its right).
        room = self.clock_rect().left - s(_GAP) - s(32)
        text.draw(
            surface,
            text.fit(subtitle, _SUBTITLE_SIZE, room),
            (s(32), s(70)),
            _SUBTITLE_SIZE,
            MUTED,
            anchor="midleft",
        )
        text.draw(surface, time_left_label, (s(left + width / 2), s(30)), 20, MUTED)
        shadowed_panel(
            surface, pygame.Rect(s(1068), s(14), s(188), s(72)), radius=s(12), shadow=s(3)
        )
        text.draw(surface, count_label, (s(1090), s(50)), 22, MUTED, anchor="midleft")

    def clock_rect(self) -> pygame.Rect:
        """The pixels the clock may cover: as wide as the widest clock under 1000 s."""
        font = self._text.font(_CLOCK_SIZE)
        width, height = font.size(_CLOCK_WIDEST)
        rect = pygame.Rect(0, 0, width, height)
        rect.midright = (self._s(_CLOCK_RIGHT), self._s(55))
        return rect

    def bar_rect(self) -> pygame.Rect:
        """The pixels of the time-left bar."""
        left, top, width, height = _BAR
        return pygame.Rect(self._s(left), self._s(top), self._s(width), self._s(height))

    def draw(
        self,
        surface: pygame.Surface,
        *,
        time: float,
        left: float,
        total: float,
        count: AttributeValue,
        colour: Colour,
    ) -> None:
        """Per frame: `count` on the card (None shows 0), the clock at simulated `time`, and
        a bar in `colour` of the `left` seconds out of `total`, with ``m:ss`` beside it."""
        s, text = self._s, self._text
        text.draw(
            surface,
            str(count if count is not None else 0),
            (s(1236), s(50)),
            56,
            INK,
            anchor="midright",
            bold=True,
        )
        bar = self.bar_rect()
        draw_bar(surface, bar, left / total, colour)
        text.draw(
            surface,
            minutes_left(left),
            (bar.right + s(14), s(55)),
            _CLOCK_SIZE,
            INK,
            anchor="midleft",
            bold=True,
        )
        text.draw(
            surface,
            f"t = {time:5.1f} s",
            self.clock_rect().midright,
            _CLOCK_SIZE,
            MUTED,
            anchor="midright",
        )
