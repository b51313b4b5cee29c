"""Where everything of a side-by-side frame goes: two panels, their labels, the KPI band.

The canvas is designed 1920 units wide and at most 1080 high, so at ``--scale 1`` a
side-by-side movie is a 1080p frame (``--scale 0.6667`` makes it 720p). Two 16:9
panels side by side fill the width at about 0.73 of their own design size; stacking
them would leave less than 0.7, so they go side by side, each with a label row above
it. The band under them holds the KPIs (and a live chart): it takes what height the
panels leave, between :data:`BAND_MIN` and :data:`BAND_MAX`, and a short painter (the
timeline of a few actors) makes a shorter frame rather than a taller band.

Each panel is painted by its own painter built at the panel's scale, so its text is
set at its final pixel size (crisp), never resampled.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import pygame

WIDTH: Final = 1920
"""Design width of the canvas (pixels at ``--scale 1``)."""
MAX_HEIGHT: Final = 1080
"""Design height the canvas never exceeds."""
MARGIN: Final = 16
TITLE: Final = 60
"""Height of the title row: what is compared, and the one clock."""
LABEL: Final = 48
"""Height of a panel's label row: its side, policy, table and status."""
GAP: Final = 16
"""Between the panels and the band."""
BAND_MIN: Final = 280
"""The KPI band is never lower than this: a title, a header and four rows."""
BAND_MAX: Final = 400


@dataclass(frozen=True)
class Layout:
    """Pixel rectangles of one side-by-side canvas at one scale."""

    size: tuple[int, int]
    """The canvas in pixels (even numbers: the encoder's yuv420p needs them)."""
    scale: float
    """Canvas pixels per design unit (``--scale``)."""
    panel_scale: float
    """The scale each panel's painter is built with."""
    title: pygame.Rect
    labels: tuple[pygame.Rect, pygame.Rect]
    """Above each panel: side A's, then side B's."""
    slots: tuple[pygame.Rect, pygame.Rect]
    """Where each panel may paint; a panel narrower than its slot is centred in it."""
    band: pygame.Rect
    """Under the panels: the KPIs and the live chart."""


def _even(value: float) -> int:
    pixels = max(2, round(value))
    return pixels + pixels % 2


def plan_layout(panel_size: tuple[int, int], scale: float = 1.0) -> Layout:
    """The layout for two panels whose painters, built at scale 1, are `panel_size` (the
    larger of the two in each direction), on a canvas at `scale`."""
    width, height = panel_size
    slot_width = (WIDTH - 3 * MARGIN) / 2
    room = MAX_HEIGHT - (2 * MARGIN + TITLE + LABEL + GAP + BAND_MIN)
    panel_scale = min(slot_width / max(width, 1), room / max(height, 1))
    panel_height = height * panel_scale
    top = MARGIN + TITLE + LABEL
    rest = MAX_HEIGHT - (top + panel_height + GAP + MARGIN)
    band = min(max(rest, BAND_MIN), BAND_MAX)
    canvas = (_even(WIDTH * scale), _even((top + panel_height + GAP + band + MARGIN) * scale))

    def rect(left: float, upper: float, across: float, down: float) -> pygame.Rect:
        x, y = round(left * scale), round(upper * scale)
        return pygame.Rect(
            x, y, round((left + across) * scale) - x, round((upper + down) * scale) - y
        )

    lefts = (MARGIN, 2 * MARGIN + slot_width)
    band_rect = rect(MARGIN, top + panel_height + GAP, WIDTH - 2 * MARGIN, band)
    band_rect.height = min(band_rect.height, canvas[1] - round(MARGIN * scale) - band_rect.top)
    return Layout(
        size=canvas,
        scale=scale,
        panel_scale=panel_scale * scale,
        title=rect(MARGIN, MARGIN, WIDTH - 2 * MARGIN, TITLE),
        labels=(
            rect(lefts[0], MARGIN + TITLE, slot_width, LABEL),
            rect(lefts[1], MARGIN + TITLE, slot_width, LABEL),
        ),
        slots=(
            rect(lefts[0], top, slot_width, panel_height),
            rect(lefts[1], top, slot_width, panel_height),
        ),
        band=band_rect,
    )
