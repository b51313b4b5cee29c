"""The timeline painter's legend: a swatch and a name per state, in a bounded number of rows.

A vocabulary may declare thousands of states; the legend lays them out in rows that fit
between the word "states" and the right margin, measured with the font they are drawn
in, and stops at :data:`MOST_ROWS` rows: the states left out are counted in a last
entry (``+ 2970 more states``) instead of pushing the picture past the size asked for.
The work is bounded the same way: names are measured only until the rows are full.
Under the rows, a note may say how the lanes were chosen (see ``stages.render.lanes``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Final

import pygame

from stages.render.paintkit import INK, MUTED, Colour, Text

ROW: Final = 26
"""Design height of a legend row (and of the note)."""
SIZE: Final = 17
"""Design size of a state's name."""
MOST_ROWS: Final = 3
"""Rows of states at most; what does not fit is counted in the last entry."""
_MARGIN: Final = 24
_SWATCH: Final = 14
_AFTER_SWATCH: Final = 6
_BETWEEN: Final = 18


class Legend:
    """The legend's layout at a scale, and its painting.

    Args:
        text: The painter's text cache.
        scale: The painter's size factor.
        width: The picture's width in pixels.
        states: The states to list, in order.
        colours: The colour of each state.
        note: A line under the states (how the lanes were chosen), or None.
    """

    def __init__(
        self,
        text: Text,
        scale: float,
        width: int,
        states: Sequence[str],
        colours: Mapping[str, Colour],
        note: str | None = None,
    ) -> None:
        self._text = text
        self._k = scale
        self._width = width
        self._colours = colours
        self.note = note
        self.rows, self.hidden = self._layout(states)

    def _s(self, value: float) -> int:
        return round(value * self._k)

    @property
    def height(self) -> float:
        """Design height of the legend: its rows and its note."""
        return (len(self.rows) + (1 if self.note else 0)) * ROW

    def _left(self) -> int:
        """Where every row's first swatch starts: after the word "states"."""
        return self._s(_MARGIN) + self._text.width("states", SIZE) + self._s(_SWATCH)

    def _entry(self, name: str) -> int:
        """Pixels of an entry: swatch, gap, name (without the gap after it)."""
        return self._s(_SWATCH + _AFTER_SWATCH) + self._text.width(name, SIZE)

    @staticmethod
    def more(count: int) -> str:
        """The last entry's text when `count` states are left out."""
        return f"+ {count} more states"

    def _layout(self, states: Sequence[str]) -> tuple[list[list[str]], int]:
        """Names in rows that fit, at most :data:`MOST_ROWS`, and how many are left out
        (a name too long for a row on its own is cut with an ellipsis when drawn)."""
        right = self._width - self._s(_MARGIN)
        left = self._left()
        rows: list[list[str]] = [[]]
        x = left
        placed = 0
        for state in states:
            if rows[-1] and x + self._entry(state) > right:
                if len(rows) == MOST_ROWS:
                    break
                rows.append([])
                x = left
            rows[-1].append(state)
            x += self._entry(state) + self._s(_BETWEEN)
            placed += 1
        hidden = len(states) - placed
        if hidden:
            # Room for the count at the end of the last row: drop entries until it fits.
            last = rows[-1]
            while last:
                used = sum(self._entry(name) + self._s(_BETWEEN) for name in last)
                if left + used + self._text.width(self.more(hidden + 1), SIZE) <= right:
                    break
                last.pop()
                hidden += 1
        return (rows if rows[0] else []), hidden

    def paint(self, surface: pygame.Surface, top: int) -> None:
        """The rows from `top` (the first row's centre line), then the note."""
        text, s = self._text, self._s
        right = self._width - s(_MARGIN)
        y = top
        for index, row in enumerate(self.rows):
            y = top + s(index * ROW)
            if index == 0:
                text.draw(surface, "states", (s(_MARGIN), y), SIZE, MUTED, anchor="midleft")
            x = self._left()
            for state in row:
                swatch = pygame.Rect(x, y - s(7), s(_SWATCH), s(_SWATCH))
                pygame.draw.rect(surface, self._colours[state], swatch, border_radius=s(3))
                left = swatch.right + s(_AFTER_SWATCH)
                name = text.fit(state, SIZE, right - left)
                x = text.draw(surface, name, (left, y), SIZE, INK, anchor="midleft").right
                x += s(_BETWEEN)
            if index == len(self.rows) - 1 and self.hidden:
                more = text.fit(self.more(self.hidden), SIZE, max(0, right - x))
                text.draw(surface, more, (x, y), SIZE, MUTED, anchor="midleft")
        if self.note:
            y = top + s(len(self.rows) * ROW)
            note = text.fit(self.note, SIZE - 1, right - s(_MARGIN))
            text.draw(surface, note, (s(_MARGIN), y), SIZE - 1, MUTED, anchor="midleft")
