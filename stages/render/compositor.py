"""Two episodes in one frame on one clock: policy A beside policy B.

Every frame shows the same simulated time in both panels. The clock runs from the
earlier start to the later end; the episode that ends first holds its last state
(painted once, veiled, with a banner saying when it ended) while the other plays on.
Each panel is labelled with its side (A, B), its policy from the table's provenance,
its table, episode and seed; under the panels, a card of each side's figures at the
end of its episode (from the metadata) and, where the domain has a counter, a live
chart of it for both sides (see :mod:`~stages.render.layout` for where things go).

Speed: each panel is painted by its own painter into its own surface and blitted;
the titles, labels, KPI card and the chart's axes are one background painted once,
of which a frame copies back only what lies outside the panels. A panel whose
episode has ended is not painted again.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import pygame

from schemas.errors import RenderError
from schemas.events import EventTable
from stages.render.kpi_card import KpiCard, kpi_rows
from stages.render.labels import LETTERS, SIDE_COLOURS, policy_label, table_label
from stages.render.layout import Layout, plan_layout
from stages.render.live_chart import ChartLine, LiveChart
from stages.render.paintkit import (
    INK,
    MUTED,
    PANEL,
    PAPER,
    Colour,
    Painter,
    Scene,
    Text,
    frame_surface,
    shadowed_panel,
)
from stages.render.pairing import options_text
from stages.render.series import counter, series
from stages.render.world import World
from stages.terminal import printable

ENDED: Final[Colour] = (176, 42, 55)
"""The status of an episode that has ended (its panel holds its last state)."""
_VEIL_ALPHA: Final = 96
"""How much paper covers an ended panel: dimmed, still readable."""
_KPI_SHARE: Final = 0.40
"""Of the band's width, what the KPI card takes when a live chart sits beside it."""
_CLOCK_WIDEST: Final = "t = 0000.0 s"
_EPSILON: Final = 1e-9

PainterMaker = Callable[[Scene, float], Painter]
"""Builds a scene's painter at a scale (the side-by-side stage passes ``choose_painter``)."""


def seconds(value: float) -> str:
    """``119.5 s``, ``300 s``: simulated seconds to a tenth, without a trailing ``.0``."""
    return f"{round(value, 1):g} s"


@dataclass(frozen=True)
class Side:
    """One side of the movie: an episode of a table."""

    source: Path
    """The table's file (its name labels the panel)."""
    table: EventTable
    scene: Scene
    world: World


class SideBySide:
    """Paints two sides at one simulated time onto one surface of :attr:`size`.

    Args:
        sides: Side A, then side B (one domain: see ``stages.render.pairing``).
        make_painter: Builds a scene's painter at a scale; called at scale 1 to learn
            the panels' design size, then at the panels' scale.
        scale: Canvas scale (1: 1920 pixels wide, at most 1080 high).
    """

    def __init__(self, sides: Sequence[Side], make_painter: PainterMaker, *, scale: float) -> None:
        self.sides = tuple(sides)
        probes = [make_painter(side.scene, 1.0).size for side in self.sides]
        design = (max(w for w, _ in probes), max(h for _, h in probes))
        self.layout: Layout = plan_layout(design, scale)
        self.painters = [make_painter(side.scene, self.layout.panel_scale) for side in self.sides]
        self.panel_rects = [
            pygame.Rect((0, 0), painter.size).move(slot.centerx - painter.size[0] // 2, slot.top)
            for painter, slot in zip(self.painters, self.layout.slots, strict=True)
        ]
        """Where each side's painter paints (its own size, centred in its slot)."""
        self.times = (
            min(side.scene.start_time for side in self.sides),
            max(side.scene.end_time for side in self.sides),
        )
        self._k = scale
        self._text = Text(scale)
        self.live_chart = self._live_chart()
        """The chart of the domain's counter under the panels; None if it has none."""
        self._background = self._paint_background()
        self._clock = self.clock_rect()
        self._dirty = [
            self._clock,
            *(self.status_rect(k) for k in range(len(self.sides))),
        ]
        """What a frame draws outside the panels; copied back from the background first."""
        self._ended: list[pygame.Surface | None] = [None] * len(self.sides)
        self._target: tuple[pygame.Surface, list[pygame.Surface]] | None = None
        """The surface last drawn on, and a subsurface per panel in it."""
        self._showing_end = [False] * len(self.sides)
        """Whether that surface shows each side's ended panel already."""

    @property
    def size(self) -> tuple[int, int]:
        return self.layout.size

    def _s(self, value: float) -> int:
        return round(value * self._k)

    # -- layout ---------------------------------------------------------------------

    def _live_chart(self) -> LiveChart | None:
        """The chart of the domain's counter, if both tables have one (the same one)."""
        first, second = (side.table for side in self.sides)
        quantity = counter(first)
        if quantity is None or counter(second) != quantity:
            return None
        band = self.layout.band
        kpi_width = round(band.width * _KPI_SHARE)
        rect = pygame.Rect(
            band.left + kpi_width + self._s(16),
            band.top,
            band.width - kpi_width - self._s(16),
            band.height,
        )
        lines = []
        for letter, colour, side in zip(LETTERS, SIDE_COLOURS, self.sides, strict=True):
            episode = side.scene.episode.episode
            found = next(s for s in series(side.table, quantity) if s.episode == episode)
            lines.append(ChartLine(letter, colour, found))
        return LiveChart(rect, quantity, lines, self.times, self._text, self._k)

    # -- the static picture ---------------------------------------------------------

    def _paint_background(self) -> pygame.Surface:
        surface = frame_surface(self.size)
        surface.fill(PAPER)
        self._paint_title(surface)
        for index in range(len(self.sides)):
            self._paint_label(surface, index)
        band = self.layout.band
        kpi_rect = band.copy()
        if self.live_chart is not None:
            kpi_rect.width = round(band.width * _KPI_SHARE)
            self.live_chart.paint(surface)
        first, second = (side.scene.episode for side in self.sides)
        card = KpiCard(
            kpi_rect,
            kpi_rows(first, second),
            list(zip(LETTERS, SIDE_COLOURS, strict=True)),
            self._text,
            self._k,
        )
        card.paint(surface)
        return surface

    def clock_rect(self) -> pygame.Rect:
        """Where the clock is drawn (wide enough for any time under 10,000 s)."""
        font = self._text.font(34, bold=True)
        width, height = font.size(_CLOCK_WIDEST)
        rect = pygame.Rect(0, 0, width, height)
        rect.midright = self.layout.title.midright
        return rect

    def _paint_title(self, surface: pygame.Surface) -> None:
        """``factory · A model 89cd7762… vs B random``, and a note on the one clock."""
        s, text, title = self._s, self._text, self.layout.title
        heading = printable(self.sides[0].scene.domain_id)
        options = self._shared_options()
        if options:
            heading += f" ({options})"
        policies = " vs ".join(
            f"{letter} {policy_label(side.scene.provenance)}"
            for letter, side in zip(LETTERS, self.sides, strict=True)
        )
        room = self.clock_rect().left - title.left - s(24)
        caption = "one clock: both panels show the same simulated time"
        heading = f"{heading} · {policies}"
        heading_width = text.width(heading, 34, bold=True)
        caption_width = text.width(caption, 20)
        drawn = text.draw(
            surface,
            text.fit(heading, 34, room, bold=True),
            (title.left, title.centery),
            34,
            INK,
            anchor="midleft",
            bold=True,
        )
        if heading_width + s(24) + caption_width <= room:
            text.draw(
                surface,
                caption,
                (drawn.right + s(24), title.centery + s(2)),
                20,
                MUTED,
                anchor="midleft",
            )

    def _shared_options(self) -> str:
        first, second = (side.table.metadata.domain_options for side in self.sides)
        return options_text(first) if first == second else ""

    def status_rect(self, index: int) -> pygame.Rect:
        """Where side `index`'s status (``ends at``, ``ended at``) is drawn."""
        label = self.layout.labels[index]
        width = self._s(300)
        return pygame.Rect(label.right - width, label.top, width, label.height)

    def _paint_label(self, surface: pygame.Surface, index: int) -> None:
        s, text = self._s, self._text
        label, side = self.layout.labels[index], self.sides[index]
        colour = SIDE_COLOURS[index]
        chip = pygame.Rect(0, 0, s(34), s(34))
        chip.midleft = (label.left, label.centery)
        pygame.draw.rect(surface, colour, chip, border_radius=s(8))
        text.draw(surface, LETTERS[index], chip.center, 26, PANEL, bold=True)
        left = chip.right + s(12)
        room = self.status_rect(index).left - s(16) - left
        policy = text.fit(policy_label(side.scene.provenance), 28, max(1, room // 2), bold=True)
        drawn = text.draw(
            surface, policy, (left, label.centery), 28, INK, anchor="midleft", bold=True
        )
        episode = side.scene.episode
        caption = table_label(side.source.name, episode.episode, episode.seed)
        if not self._shared_options():
            options = options_text(side.table.metadata.domain_options)
            if options:
                caption += f" · {options}"
        caption_left = drawn.right + s(14)
        caption_room = self.status_rect(index).left - s(16) - caption_left
        if caption_room > s(40):
            text.draw(
                surface,
                text.fit(caption, 20, caption_room),
                (caption_left, label.centery + s(2)),
                20,
                MUTED,
                anchor="midleft",
            )

    # -- per frame ------------------------------------------------------------------

    def ended(self, index: int, time: float) -> bool:
        """Whether side `index`'s episode is over at `time` (its panel holds its last state)."""
        return time > self.sides[index].scene.end_time + _EPSILON

    def draw(self, surface: pygame.Surface, time: float) -> None:
        """Both panels at simulated `time`, the clock, the statuses and the live chart.

        On a surface it drew the previous frame on, only what changes is drawn again:
        the regions around the panels that a frame alters (clock, statuses, chart), and
        each panel, painted straight into its place (a subsurface) by its own painter;
        a panel whose episode has ended stays as it is. A new surface gets everything.
        """
        fresh = self._target is None or self._target[0] is not surface
        if fresh:
            surface.blit(self._background, (0, 0))
            places = [surface.subsurface(rect) for rect in self.panel_rects]
            self._target = (surface, places)
            self._showing_end = [False] * len(self.sides)
        else:
            for rect in self._dirty:
                surface.blit(self._background, rect, rect)
        target = self._target
        if target is None:  # set above; keeps mypy honest
            raise RenderError("the side-by-side frame has no target surface")
        for index, side in enumerate(self.sides):
            place = target[1][index]
            if self.ended(index, time):
                if not self._showing_end[index]:
                    place.blit(self._ended_panel(index), (0, 0))
                    self._showing_end[index] = True
            else:
                scene = side.scene
                self.painters[index].draw(place, side.world.at(max(time, scene.start_time)))
                self._showing_end[index] = False
            self._draw_status(surface, index, time)
        text, clock = self._text, self._clock
        text.draw(
            surface, f"t = {time:.1f} s", clock.midright, 34, INK, anchor="midright", bold=True
        )
        if self.live_chart is not None:
            self.live_chart.draw(surface, time, fresh=fresh)

    def _draw_status(self, surface: pygame.Surface, index: int, time: float) -> None:
        rect = self.status_rect(index)
        end = self.sides[index].scene.end_time
        if self.ended(index, time):
            words, colour, bold = f"ended at {seconds(end)}", ENDED, True
        else:
            words, colour, bold = f"ends at {seconds(end)}", MUTED, False
        self._text.draw(surface, words, rect.midright, 22, colour, anchor="midright", bold=bold)

    def _ended_panel(self, index: int) -> pygame.Surface:
        """Side `index`'s last state, veiled, with a banner; painted once."""
        cached = self._ended[index]
        if cached is not None:
            return cached
        side, painter = self.sides[index], self.painters[index]
        panel = frame_surface(painter.size)
        painter.draw(panel, side.world.at(side.scene.end_time))
        veil = frame_surface(panel.get_size())
        veil.fill(PAPER)
        veil.set_alpha(_VEIL_ALPHA)
        panel.blit(veil, (0, 0))
        s, text = self._s, self._text
        words = f"episode ended at t = {seconds(side.scene.end_time)} · holding its last state"
        width = min(panel.get_width() - s(24), text.width(words, 24, bold=True) + s(48))
        banner = pygame.Rect(0, 0, width, s(56))
        # At the bottom, over the legend: the last state itself (a lane that overran, a
        # stalled worker) stays in view.
        banner.midbottom = (panel.get_width() // 2, panel.get_height() - s(10))
        shadowed_panel(panel, banner, PANEL, radius=s(12), shadow=s(3), border=ENDED)
        text.draw(
            panel,
            text.fit(words, 24, width - s(32), bold=True),
            banner.center,
            24,
            ENDED,
            bold=True,
        )
        self._ended[index] = panel
        return panel
