"""The KPI card of a side-by-side frame: each side's figures at the end of its episode.

The figures come from the tables' metadata (``episodes[].kpis``, the reward and the
end time), so the card is painted once, into the background, and costs nothing per
frame. Each value has a bar in its side's colour, both bars of a row on one scale,
so "A finished three times as many" is seen before it is read; a row with a negative
value gets no bars (a bar's length would mean nothing).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import pygame

from schemas.metadata import EpisodeSummary
from stages.episode_stats import REWARD
from stages.inspect.cells import number
from stages.render.paintkit import INK, MUTED, PANEL, RULE, TRACK, Colour, Text, shadowed_panel
from stages.terminal import printable

ENDS: Final = "episode ends at (s)"
"""The last row: when each episode ended, which explains a frozen panel."""
_PAD: Final = 20
_TITLE_HEIGHT: Final = 50
_HEADER_HEIGHT: Final = 34
_ROW: Final = 46
_SIZE: Final = 22
_BAR: Final = 6


@dataclass(frozen=True)
class KpiRow:
    """One figure of both sides."""

    name: str
    """Shown as is: escaped already (it comes from the table)."""
    a: float | None
    """Side A's value, None if its episode does not report it."""
    b: float | None


def kpi_rows(a: EpisodeSummary, b: EpisodeSummary) -> list[KpiRow]:
    """Every KPI either episode reports (A's order first), the reward, and the end time."""
    names = dict.fromkeys([*a.kpis, *b.kpis])
    rows = [KpiRow(printable(name), a.kpis.get(name), b.kpis.get(name)) for name in names]
    rows.append(KpiRow(REWARD, a.total_reward, b.total_reward))
    rows.append(KpiRow(ENDS, a.end_time, b.end_time))
    return rows


def difference(row: KpiRow) -> str:
    """``+3``, ``-14``, ``0`` (B - A), or ``-`` when a side lacks the figure."""
    if row.a is None or row.b is None:
        return "-"
    value = row.b - row.a
    text = number(value)
    return f"+{text}" if value > 0 else text.replace("-", "−")


class KpiCard:
    """Lays out and paints the card in `rect` at canvas `scale`.

    Args:
        rect: The card's pixels.
        rows: The figures, first row first; rows that do not fit are counted in a last line.
        sides: Each side's letter and colour (A, then B).
        text: The canvas's text cache.
        scale: Canvas pixels per design unit.
    """

    def __init__(
        self,
        rect: pygame.Rect,
        rows: Sequence[KpiRow],
        sides: Sequence[tuple[str, Colour]],
        text: Text,
        scale: float,
    ) -> None:
        self.rect = rect
        self._rows = list(rows)
        self._sides = list(sides)
        self._text = text
        self._k = scale

    def _s(self, value: float) -> int:
        return round(value * self._k)

    def columns(self) -> tuple[int, int, int, int]:
        """Pixel x of the name column's left edge and the right edges of A, B and B - A."""
        inner = self.rect.width - 2 * self._s(_PAD)
        left = self.rect.left + self._s(_PAD)
        name = round(inner * 0.34)
        value = round(inner * 0.25)
        return left, left + name + value, left + name + 2 * value, self.rect.right - self._s(_PAD)

    def fitting_rows(self) -> int:
        """How many rows fit under the title and the header."""
        room = self.rect.height - self._s(_TITLE_HEIGHT + _HEADER_HEIGHT + _PAD)
        return max(0, room // max(1, self._s(_ROW)))

    def paint(self, surface: pygame.Surface) -> None:
        """The card, its title, the column header and every row that fits."""
        s, text, rect = self._s, self._text, self.rect
        shadowed_panel(surface, rect, PANEL, radius=s(12), shadow=s(3))
        text.draw(
            surface,
            "at the end of the episode",
            (rect.left + s(_PAD), rect.top + s(_TITLE_HEIGHT / 2 + 4)),
            24,
            INK,
            anchor="midleft",
            bold=True,
        )
        left, right_a, right_b, right_d = self.columns()
        header_y = rect.top + s(_TITLE_HEIGHT + _HEADER_HEIGHT / 2)
        for (letter, colour), right in zip(self._sides, (right_a, right_b), strict=True):
            text.draw(surface, letter, (right, header_y), 20, colour, anchor="midright", bold=True)
        text.draw(surface, "B − A", (right_d, header_y), 20, MUTED, anchor="midright")
        line_y = rect.top + s(_TITLE_HEIGHT + _HEADER_HEIGHT)
        pygame.draw.line(surface, RULE, (left, line_y), (right_d, line_y), max(1, s(1)))
        shown = self._rows
        fitting = self.fitting_rows()
        if len(shown) > fitting:
            shown = shown[: max(0, fitting - 1)]
        value_width = right_b - right_a
        for index, row in enumerate(shown):
            top = line_y + index * s(_ROW)
            middle = top + s(_ROW / 2 - 3)
            name_room = right_a - value_width - left
            text.draw(
                surface,
                text.fit(row.name, _SIZE, max(1, name_room - s(12))),
                (left, middle),
                _SIZE,
                INK,
                anchor="midleft",
            )
            values = (row.a, row.b)
            scale_to = max((abs(v) for v in values if v is not None), default=0.0)
            bars = scale_to > 0 and all(v is None or v >= 0 for v in values)
            for value, right, (_, colour) in zip(
                values, (right_a, right_b), self._sides, strict=True
            ):
                shown_value = "-" if value is None else number(value)
                # Fitted to its column: a value from a table may be of any length.
                shown_value = text.fit(shown_value, _SIZE, value_width - s(12), bold=True)
                text.draw(
                    surface, shown_value, (right, middle), _SIZE, INK, anchor="midright", bold=True
                )
                if bars and value is not None:
                    width = value_width - s(24)
                    track = pygame.Rect(right - width, middle + s(14), width, s(_BAR))
                    pygame.draw.rect(surface, TRACK, track, border_radius=s(3))
                    # The ratio first: width * 1e308 overflows before the division.
                    filled = round(width * (value / scale_to))
                    if filled > 0:
                        bar = pygame.Rect(track.left, track.top, filled, track.height)
                        pygame.draw.rect(surface, colour, bar, border_radius=s(3))
            change = text.fit(difference(row), _SIZE, right_d - right_b - s(12))
            text.draw(surface, change, (right_d, middle), _SIZE, MUTED, anchor="midright")
        hidden = len(self._rows) - len(shown)
        if hidden:
            top = line_y + len(shown) * s(_ROW)
            text.draw(
                surface,
                f"… and {hidden} more (simreel compare)",
                (left, top + s(_ROW / 2)),
                20,
                MUTED,
                anchor="midleft",
            )
