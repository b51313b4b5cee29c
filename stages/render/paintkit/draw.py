"""Drawing helpers for painters: colours, cached text, bars, antialiased sprites.

Speed rules every helper follows, because a painter draws thousands of frames:
full-size layers are opaque surfaces in the frame's own pixel format (a per-pixel
alpha blit over a 1280 x 720 frame costs over a millisecond, a plain copy a tenth of
that); sprites and text are rendered once and cached; nothing allocates a
full-frame surface per frame.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from typing import Final

import pygame

from stages.render.paintkit.fonts import face_path
from stages.render.paintkit.geometry import Point
from stages.render.paintkit.inert import drawable

Colour = tuple[int, int, int]

INK: Final[Colour] = (38, 45, 56)
"""Dark text and outlines."""
MUTED: Final[Colour] = (116, 125, 140)
"""Secondary text, captions."""
PAPER: Final[Colour] = (244, 245, 248)
"""The page behind everything."""
PANEL: Final[Colour] = (255, 255, 255)
TRACK: Final[Colour] = (225, 229, 236)
"""Empty part of a bar."""
RULE: Final[Colour] = (208, 213, 222)
"""Thin lines: borders, axes."""

ELLIPSIS: Final = "…"
"""Ends a label cut to fit its space (one glyph, narrower than three dots)."""
_WIDEST: Final = 4 * 1280
"""Pixels of the widest frame (the design width at the largest ``--scale``): a label
wider than that is cut, whoever forgot to fit it."""
EM_PER_SIZE: Final = 0.6875
"""Font pixels per design size unit: the factor pygame applied to its default font, which
the painters' sizes were chosen with (see :meth:`Text.pixels`)."""

CATEGORICAL: Final[tuple[Colour, ...]] = (
    (46, 160, 67),
    (31, 111, 235),
    (232, 145, 23),
    (207, 34, 46),
    (137, 87, 229),
    (9, 161, 170),
    (191, 57, 137),
    (154, 103, 0),
    (87, 96, 106),
    (100, 181, 246),
    (255, 112, 67),
    (124, 179, 66),
)
"""Distinct flat colours for states whose vocabulary declares no colour (the timeline
painter picks one per state name by a stable hash, so a name keeps its colour)."""


def colour_from_hex(text: str) -> Colour:
    """``"#rrggbb"`` (as a vocabulary declares state colours) as an RGB tuple."""
    value = text.lstrip("#")
    if len(value) != 6:
        raise ValueError(f"colour {text!r} is not '#rrggbb'")
    return (int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16))


def mix(a: Colour, b: Colour, amount: float) -> Colour:
    """`a` moved `amount` (0..1) of the way towards `b`: a tint or a shade without alpha."""
    return (
        round(a[0] + (b[0] - a[0]) * amount),
        round(a[1] + (b[1] - a[1]) * amount),
        round(a[2] + (b[2] - a[2]) * amount),
    )


def frame_surface(size: tuple[int, int]) -> pygame.Surface:
    """An opaque 32-bit surface in the frame format (what the movie pipes to the encoder)."""
    return pygame.Surface(size, 0, 32)


def opaque(surface: pygame.Surface) -> pygame.Surface:
    """`surface` flattened into the frame format, so blitting it is a plain memory copy.

    ``Surface.convert`` needs a display, which a headless renderer has not got; a
    plain 32-bit surface is the same pixel format the frame uses.
    """
    flat = frame_surface(surface.get_size())
    flat.blit(surface, (0, 0))
    return flat


class Text:
    """Renders text in the packaged DejaVu Sans, caching every (text, size, colour) it has drawn.

    Every string is made :func:`~stages.render.paintkit.inert.drawable` before it is
    measured or rendered: text from a table may hold NUL (which pygame refuses), escape
    sequences or a bidi override, and may be megabytes long.

    Labels repeat from frame to frame, so after the first frame a label costs one
    small blit. The cache is bounded so ever-changing strings (a clock) cannot grow it
    without limit. Bold text uses the real bold face (see :mod:`.fonts`), never
    pygame's synthetic emboldening.
    """

    _LIMIT: Final = 4096

    def __init__(self, scale: float = 1.0) -> None:
        if not pygame.font.get_init():
            pygame.font.init()
        self._scale = scale
        self._fonts: dict[tuple[int, bool], pygame.font.Font] = {}
        self._cache: dict[tuple[str, int, Colour, bool], pygame.Surface] = {}
        self._fitted: dict[tuple[str, int, int, bool], str] = {}

    def pixels(self, size: float) -> int:
        """The font's pixel size for design size `size` at this scale.

        Sizes are in the design units the painters were laid out with: pygame's
        default font drew size `s` with an em of ``0.6875 s`` pixels, and DejaVu Sans at
        that em has about the same cap height, so every layout keeps its proportions.
        """
        return max(6, round(size * EM_PER_SIZE * self._scale))

    def font(self, size: float, *, bold: bool = False) -> pygame.font.Font:
        """The regular or bold face at design size `size` (scaled), cached."""
        pixels = self.pixels(size)
        key = (pixels, bold)
        font = self._fonts.get(key)
        if font is None:
            font = pygame.font.Font(face_path(bold=bold), pixels)
            self._fonts[key] = font
        return font

    def render(
        self, text: str, size: float, colour: Colour = INK, *, bold: bool = False
    ) -> pygame.Surface:
        """`text` (made drawable) as an antialiased sprite with per-pixel alpha (cached)."""
        key = (text, self.pixels(size), colour, bold)
        sprite = self._cache.get(key)
        if sprite is None:
            if len(self._cache) >= self._LIMIT:
                self._cache.clear()
            font = self.font(size, bold=bold)
            shown = drawable(text)
            if font.size(shown)[0] > _WIDEST:  # never a sprite wider than any frame
                shown = self.fit(shown, size, _WIDEST, bold=bold)
            sprite = font.render(shown, True, colour)
            self._cache[key] = sprite
        return sprite

    def width(self, text: str, size: float, *, bold: bool = False) -> int:
        """Pixels `text` takes across at design size `size` (for fitting before drawing)."""
        return self.font(size, bold=bold).size(drawable(text))[0]

    def fit(self, text: str, size: float, width: int, *, bold: bool = False) -> str:
        """`text`, or its longest prefix ended with an ellipsis, that is at most `width`
        pixels wide: a label cut visibly rather than clipped or drawn past its space.

        Returns just the ellipsis when not even one letter fits (a caller that must draw
        nothing at all compares its width with `width` itself).
        """
        key = (text, self.pixels(size), width, bold)
        fitted = self._fitted.get(key)
        if fitted is None:
            text = drawable(text)
            font = self.font(size, bold=bold)
            if font.size(text)[0] <= width:
                fitted = text
            else:
                # Binary search: the width of a prefix never shrinks as it grows.
                low, high = 0, len(text)
                while low < high:
                    middle = (low + high + 1) // 2
                    if font.size(text[:middle].rstrip() + ELLIPSIS)[0] <= width:
                        low = middle
                    else:
                        high = middle - 1
                fitted = text[:low].rstrip() + ELLIPSIS
            if len(self._fitted) >= self._LIMIT:
                self._fitted.clear()
            self._fitted[key] = fitted
        return fitted

    def shrink(
        self, text: str, size: float, width: int, *, smallest: float, bold: bool = False
    ) -> tuple[str, float]:
        """`text` and the largest design size from `size` down to `smallest` (in steps of
        about 15 %) at which it is at most `width` pixels wide; at `smallest`, cut with an
        ellipsis if it is still too wide. For a value that is usually short (a count, a
        clock) but may be anything a table holds: it stays whole as long as it can."""
        current = size
        while current > smallest and self.width(text, current, bold=bold) > width:
            current = max(smallest, current * 0.85)
        return self.fit(text, current, width, bold=bold), current

    def wrap(
        self,
        pieces: Sequence[str],
        size: float,
        width: int,
        lines: int,
        *,
        separator: str = " · ",
        bold: bool = False,
    ) -> list[str]:
        """`pieces` joined by `separator` into at most `lines` lines of at most `width` pixels.

        Lines break between pieces, so a name and its value stay together; a piece
        wider than a line is cut with an ellipsis (:meth:`fit`), and when the pieces
        need more than `lines` lines the last line shown ends with an ellipsis, so
        nothing is clipped and a cut is always visible.
        """
        font = self.font(size, bold=bold)
        lines = max(1, lines)
        wrapped: list[str] = []
        separator = drawable(separator)
        for piece in map(drawable, pieces):
            joined = f"{wrapped[-1]}{separator}{piece}" if wrapped else piece
            if wrapped and font.size(joined)[0] <= width:
                wrapped[-1] = joined
            elif len(wrapped) < lines:
                wrapped.append(self.fit(piece, size, width, bold=bold))
            else:  # out of lines: `joined` is too wide, so this cuts it with an ellipsis
                wrapped[-1] = self.fit(joined, size, width, bold=bold)
                break
        return wrapped

    def draw(
        self,
        surface: pygame.Surface,
        text: str,
        position: Point,
        size: float,
        colour: Colour = INK,
        *,
        anchor: str = "center",
        bold: bool = False,
    ) -> pygame.Rect:
        """Blit `text` with its `anchor` (a pygame.Rect attribute: center, midleft, topright...)
        at `position`; returns the rectangle drawn."""
        sprite = self.render(text, size, colour, bold=bold)
        rect = sprite.get_rect(**{anchor: (round(position[0]), round(position[1]))})
        surface.blit(sprite, rect)
        return rect


def blit_centred(surface: pygame.Surface, sprite: pygame.Surface, centre: Point) -> pygame.Rect:
    """Blit `sprite` with its centre at `centre` (rounded to the nearest pixel)."""
    rect = sprite.get_rect(center=(round(centre[0]), round(centre[1])))
    surface.blit(sprite, rect)
    return rect


def draw_bar(
    surface: pygame.Surface,
    rect: pygame.Rect,
    fraction: float,
    fill: Colour,
    track: Colour = TRACK,
    *,
    radius: int = -1,
    reverse: bool = False,
) -> None:
    """A continuous horizontal bar filled to `fraction` (clipped to [0, 1]) from the left,
    or from the right if `reverse`. `radius` rounds the corners (-1: half the height)."""
    radius = rect.height // 2 if radius < 0 else radius
    pygame.draw.rect(surface, track, rect, border_radius=radius)
    if not math.isfinite(fraction):  # NaN from a hostile table: nothing to fill
        fraction = 0.0
    width = round(rect.width * min(max(fraction, 0.0), 1.0))
    if width > 0:
        left = rect.right - width if reverse else rect.left
        pygame.draw.rect(
            surface, fill, pygame.Rect(left, rect.top, width, rect.height), border_radius=radius
        )


def draw_segmented_bar(
    surface: pygame.Surface,
    rect: pygame.Rect,
    filled: int,
    total: int,
    fill: Colour,
    empty: Colour = TRACK,
    *,
    gap: int = 3,
    radius: int = 3,
    vertical: bool = False,
) -> list[pygame.Rect]:
    """`total` equal cells in `rect`, the first `filled` in `fill` (left to right, or bottom
    to top if `vertical`); returns the cells' rectangles, first cell first."""
    if total < 1:
        raise ValueError(f"a segmented bar needs at least 1 cell, got {total}")
    span = rect.height if vertical else rect.width
    cell = (span - gap * (total - 1)) / total
    cells = []
    for index in range(total):
        offset = round(index * (cell + gap))
        extent = round((index + 1) * (cell + gap) - gap) - offset
        if vertical:
            cell_rect = pygame.Rect(rect.left, rect.bottom - offset - extent, rect.width, extent)
        else:
            cell_rect = pygame.Rect(rect.left + offset, rect.top, extent, rect.height)
        colour = fill if index < filled else empty
        pygame.draw.rect(surface, colour, cell_rect, border_radius=radius)
        cells.append(cell_rect)
    return cells


def supersampled(
    size: tuple[int, int], paint: Callable[[pygame.Surface, float], None], factor: int = 4
) -> pygame.Surface:
    """An antialiased sprite: `paint(surface, factor)` draws at `factor` times the size, which
    is then smooth-scaled down. For shapes drawn once (icons, markers), never per frame."""
    big = pygame.Surface((size[0] * factor, size[1] * factor), pygame.SRCALPHA)
    paint(big, float(factor))
    return pygame.transform.smoothscale(big, size)


def disc(
    radius: float, colour: Colour, *, ring: Colour | None = None, ring_width: float = 0.0
) -> pygame.Surface:
    """An antialiased filled circle of `radius` pixels, optionally with an outer ring."""
    side = math.ceil(radius * 2) + 2

    def paint(big: pygame.Surface, k: float) -> None:
        centre = (side * k / 2, side * k / 2)
        if ring is not None and ring_width > 0:
            pygame.draw.circle(big, ring, centre, radius * k)
            pygame.draw.circle(big, colour, centre, (radius - ring_width) * k)
        else:
            pygame.draw.circle(big, colour, centre, radius * k)

    return supersampled((side, side), paint)


def shadowed_panel(
    surface: pygame.Surface,
    rect: pygame.Rect,
    colour: Colour = PANEL,
    *,
    radius: int = 12,
    shadow: int = 3,
    border: Colour | None = None,
) -> None:
    """A flat card with a soft offset shadow, for static backgrounds (drawn once)."""
    if shadow > 0:
        r, g, b, _ = surface.get_at(rect.center)
        under = (r, g, b)
        for step in range(shadow, 0, -1):
            tone = mix(under, INK, 0.05 * (shadow - step + 1) / shadow)
            pygame.draw.rect(
                surface, tone, rect.move(0, step).inflate(step, step // 2), border_radius=radius
            )
    pygame.draw.rect(surface, colour, rect, border_radius=radius)
    if border is not None:
        pygame.draw.rect(surface, border, rect, width=1, border_radius=radius)


def dashed_line(
    surface: pygame.Surface,
    colour: Colour,
    points: list[Point],
    *,
    width: int = 2,
    dash: float = 8.0,
    gap: float = 6.0,
) -> None:
    """A dashed polyline (walkways, flow hints) for static backgrounds."""
    for (x0, y0), (x1, y1) in itertools.pairwise(points):
        length = math.hypot(x1 - x0, y1 - y0)
        if length == 0:
            continue
        ux, uy = (x1 - x0) / length, (y1 - y0) / length
        position = 0.0
        while position < length:
            stop = min(position + dash, length)
            pygame.draw.line(
                surface,
                colour,
                (x0 + ux * position, y0 + uy * position),
                (x0 + ux * stop, y0 + uy * stop),
                width,
            )
            position = stop + gap


def arrow_head(
    surface: pygame.Surface, colour: Colour, tip: Point, heading: float, size: float
) -> None:
    """A filled triangle pointing along `heading` (degrees, counter-clockwise from +x)."""
    angle = math.radians(heading)
    back = (tip[0] - math.cos(angle) * size, tip[1] + math.sin(angle) * size)
    side = (math.sin(angle) * size * 0.55, math.cos(angle) * size * 0.55)
    pygame.draw.polygon(
        surface,
        colour,
        [tip, (back[0] + side[0], back[1] + side[1]), (back[0] - side[0], back[1] - side[1])],
    )
