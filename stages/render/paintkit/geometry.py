"""Layout geometry for painters: named points and polyline paths walked by a fraction.

Painters lay out their picture in design units (e.g. a 1280 x 720 canvas) and scale
once; everything here is plain arithmetic, no pygame.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterator, Mapping, Sequence

Point = tuple[float, float]


class Points(Mapping[str, Point]):
    """Named points of a layout (station positions, spots), scaled once to pixels.

    >>> points = Points({"s0": (100, 50)}, scale=0.5)
    >>> points["s0"]
    (50.0, 25.0)
    """

    def __init__(self, design: Mapping[str, Point], *, scale: float = 1.0) -> None:
        self._points = {
            name: (float(x) * scale, float(y) * scale) for name, (x, y) in design.items()
        }

    def __getitem__(self, name: str) -> Point:
        try:
            return self._points[name]
        except KeyError:
            raise KeyError(
                f"no point named {name!r}; known points: {sorted(self._points)}"
            ) from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._points)

    def __len__(self) -> int:
        return len(self._points)

    def pixel(self, name: str) -> tuple[int, int]:
        """The point rounded to whole pixels (for blits and pygame.draw)."""
        x, y = self[name]
        return round(x), round(y)


class PolylinePath:
    """A path through two or more points; :meth:`at` gives the position at a fraction of its length.

    Used for walkers: with fraction = the walking interval's progress, a worker moves
    at constant speed along the drawn path whatever its shape.
    """

    def __init__(self, points: Sequence[Point]) -> None:
        if len(points) < 2:
            raise ValueError(f"a path needs at least 2 points, got {len(points)}")
        self.points: tuple[Point, ...] = tuple((float(x), float(y)) for x, y in points)
        cumulative = [0.0]
        for (x0, y0), (x1, y1) in zip(self.points, self.points[1:], strict=False):
            cumulative.append(cumulative[-1] + math.hypot(x1 - x0, y1 - y0))
        self._cumulative = cumulative
        self.length = cumulative[-1]

    def reversed(self) -> PolylinePath:
        """The same path walked the other way."""
        return PolylinePath(self.points[::-1])

    def _segment(self, fraction: float) -> tuple[int, float]:
        """Index of the segment at `fraction` and how far along that segment (0..1)."""
        if self.length == 0.0:
            return 0, 0.0
        distance = min(max(fraction, 0.0), 1.0) * self.length
        # bisect: O(log n) in the number of corners, which matters only for long paths.
        index = min(bisect.bisect_right(self._cumulative, distance) - 1, len(self.points) - 2)
        span = self._cumulative[index + 1] - self._cumulative[index]
        local = 0.0 if span == 0.0 else (distance - self._cumulative[index]) / span
        return index, local

    def at(self, fraction: float) -> Point:
        """Position at `fraction` (clipped to [0, 1]) of the path's length."""
        index, local = self._segment(fraction)
        (x0, y0), (x1, y1) = self.points[index], self.points[index + 1]
        return x0 + (x1 - x0) * local, y0 + (y1 - y0) * local

    def heading(self, fraction: float) -> float:
        """Direction of travel at `fraction`: degrees counter-clockwise from +x (y grows down)."""
        index, _ = self._segment(fraction)
        (x0, y0), (x1, y1) = self.points[index], self.points[index + 1]
        return math.degrees(math.atan2(-(y1 - y0), x1 - x0))


def lerp(a: Point, b: Point, fraction: float) -> Point:
    """The point `fraction` of the way from `a` to `b` (not clipped)."""
    return a[0] + (b[0] - a[0]) * fraction, a[1] + (b[1] - a[1]) * fraction
