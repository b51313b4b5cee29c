"""The header of a 1280 x 720 design canvas: title, clock, time left and a counter.

Laid out in design units across the top 90 of the canvas and scaled once: the title
and a subtitle at the left, the clock and a bar of the time left in the middle, and a
card at the right with a count (finished items, served customers). The static parts
go into a painter's background (:meth:`Header.paint`); each frame draws the moving
ones (:meth:`Header.draw`).
"""

from __future__ import annotations

import math

import pygame

from stages.render.paintkit.draw import INK, MUTED, Colour, Text, draw_bar, shadowed_panel
from stages.render.paintkit.scene import AttributeValue, Scene


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
        text.draw(surface, title, (s(32), s(36)), 44, INK, anchor="midleft", bold=True)
        text.draw(surface, subtitle, (s(32), s(70)), 21, MUTED, anchor="midleft")
        text.draw(surface, time_left_label, (s(640), s(30)), 20, MUTED)
        shadowed_panel(
            surface, pygame.Rect(s(1068), s(14), s(188), s(72)), radius=s(12), shadow=s(3)
        )
        text.draw(surface, count_label, (s(1090), s(50)), 22, MUTED, anchor="midleft")

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
        draw_bar(surface, pygame.Rect(s(470), s(48), s(340), s(14)), left / total, colour)
        text.draw(
            surface, minutes_left(left), (s(824), s(55)), 22, INK, anchor="midleft", bold=True
        )
        text.draw(surface, f"t = {time:5.1f} s", (s(456), s(55)), 22, MUTED, anchor="midright")
