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
_HOURS_FROM: Final = 100 * 3600.0
"""Seconds left from which the time left is given in hours."""
_CARD: Final = (1068, 14, 188, 72)
"""The counter's card (left, top, width, height)."""
_COUNT_SIZE: Final = 56
_SMALLEST: Final = 15
"""The smallest design size a shrunk clock or count is drawn at (10 pixels at scale 1)."""


def minutes_left(seconds: float) -> str:
    """`seconds` as ``m:ss``, rounded up to the whole second and never negative; from
    100 hours on in hours (an episode a table says lasts 1e308 s has no minutes to count).

    >>> minutes_left(200.0), minutes_left(59.2), minutes_left(-3.0), minutes_left(1e9)
    ('3:20', '1:00', '0:00', '2.78e+05 h')
    """
    if not math.isfinite(seconds):
        return "-"
    if seconds >= _HOURS_FROM:
        return f"{seconds / 3600:.3g} h"
    whole = max(0, math.ceil(seconds - 1e-9))
    return f"{whole // 60}:{whole % 60:02d}"


def clock_text(time: float) -> str:
    """``t =  42.0 s``: the header's clock, one decimal up to 10,000 s, then 4 significant
    digits (``t = 1e+09 s``), so it keeps about the width of the clock it was laid out for.

    >>> clock_text(42.0), clock_text(1e9), clock_text(2e-299)
    ('t =  42.0 s', 't = 1e+09 s', 't =   0.0 s')
    """
    if math.isfinite(time) and abs(time) < 10_000:
        return f"t = {time:5.1f} s"
    return f"t = {time:.4g} s"


def count_text(count: AttributeValue) -> str:
    """The counter's value as drawn: 0 for None, an integer as it is, others compactly."""
    if count is None:
        return "0"
    if isinstance(count, float):
        return f"{count:.6g}"
    return str(count)


def episode_subtitle(scene: Scene) -> str:
    """``episode 3 · seed 7 · policy: rules``: the episode, and its seed and the recording
    policy's kind where the table says them. A painter may append more with `` · ``."""
    policy = scene.provenance.get("policy")
    kind = policy.get("kind") if isinstance(policy, dict) else None
    subtitle = f"episode {scene.episode.episode}"
    if scene.episode.seed is not None:
        subtitle += f" · seed {scene.episode.seed}"
    # Only a string: provenance is free-form, and str() of anything else may be huge.
    if isinstance(kind, str) and kind:
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
        self._count_left = self._s(_CARD[0] + _CARD[2] / 2)
        """Where the count may start: after the card's label (known once painted)."""

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
        card = self.card_rect()
        shadowed_panel(surface, card, radius=s(12), shadow=s(3))
        label = text.fit(count_label, 22, card.width // 2)
        drawn = text.draw(surface, label, (s(1090), s(50)), 22, MUTED, anchor="midleft")
        self._count_left = drawn.right + s(8)

    def card_rect(self) -> pygame.Rect:
        """The pixels of the counter's card."""
        return pygame.Rect(*(self._s(value) for value in _CARD))

    def count_rect(self) -> pygame.Rect:
        """The pixels the count may cover: the card right of its label, inside its margin."""
        card = self.card_rect()
        right = self._s(1236)
        return pygame.Rect(self._count_left, card.top, right - self._count_left, card.height)

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
        # Every value is fitted to its place: a table may hold a count of 2**63 - 1 or an
        # episode of 1e308 s, and neither may spill over its neighbours.
        room = self.count_rect()
        whole = count_text(count)
        shown, size = text.shrink(
            whole, _COUNT_SIZE, room.width, smallest=_COUNT_SIZE / 2, bold=True
        )
        if shown != whole and isinstance(count, int | float) and not isinstance(count, bool):
            # Too long to read whole at a readable size: 3 significant digits (-9.22e+18).
            shown, size = text.shrink(
                f"{count:.3g}", _COUNT_SIZE, room.width, smallest=_SMALLEST, bold=True
            )
        text.draw(surface, shown, (room.right, s(50)), size, INK, anchor="midright", bold=True)
        bar = self.bar_rect()
        draw_bar(surface, bar, left / total if total > 0 else 0.0, colour)
        remaining = self.card_rect().left - s(_GAP) - (bar.right + s(14))
        shown, size = text.shrink(
            minutes_left(left), _CLOCK_SIZE, remaining, smallest=_SMALLEST, bold=True
        )
        text.draw(
            surface, shown, (bar.right + s(14), s(55)), size, INK, anchor="midleft", bold=True
        )
        clock = self.clock_rect()
        shown, size = text.shrink(clock_text(time), _CLOCK_SIZE, clock.width, smallest=_SMALLEST)
        text.draw(surface, shown, clock.midright, size, MUTED, anchor="midright")
