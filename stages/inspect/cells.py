"""Formatting primitives shared by the sections of ``simreel inspect``'s text output.

Text that comes from a table (paths, option values, KPI names, provenance,
``waiting_for`` values) may hold anything, including terminal escape sequences;
:func:`stages.terminal.printable` makes such text inert before it reaches the terminal.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence


def columns(rows: Sequence[Sequence[str]]) -> list[str]:
    """Left-aligned columns, indented by two spaces."""
    if not rows:
        return []
    widths = [max(len(row[i]) for row in rows if i < len(row)) for i in range(max(map(len, rows)))]
    return [
        "  " + "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip()
        for row in rows
    ]


_WHOLE_DIGITS = 1e15
"""From this magnitude on a figure is printed in exponent form (``1.8e+308``), whole or
not: a table may hold any float, and 309 digits say less than three."""


def number(value: float | None) -> str:
    """A count or a figure: integers without a decimal point, others to 3 digits (whole
    from 100 on, so a mean of 1051.5 rows reads ``1052``, not ``1.05e+03``); beyond
    :data:`_WHOLE_DIGITS`, 3 significant digits; NaN and infinities as ``nan``, ``inf``."""
    if value is None:
        return "-"
    try:
        magnitude = abs(float(value))
    except OverflowError:  # an integer beyond any float
        return "-1e+308..." if value < 0 else "1e+308..."
    if not magnitude < _WHOLE_DIGITS:  # also NaN and infinities
        return f"{float(value):.3g}"
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.0f}" if magnitude >= 100 else f"{value:.3g}"


def seconds(value: float | None) -> str:
    """Simulated seconds, in the style of :func:`number` (``6.73s``, ``182s``)."""
    return "-" if value is None else f"{number(value)}s"


def percent(share: float | None) -> str:
    return "-" if share is None else f"{share:.1%}"


def flat(value: object) -> str:
    """A JSON value on one line: ``key=value, ...`` for objects."""
    if isinstance(value, dict):
        return ", ".join(f"{k}={flat(v)}" for k, v in value.items())
    return str(value)


def largest(shares: Mapping[str, float], limit: int) -> tuple[list[tuple[str, float]], int]:
    """The `limit` largest of `shares` in their own order, and how many were left out.

    Why: one line per actor lists its states; an actor may declare thousands of them, and
    the line must stay readable (``--json`` has them all)."""
    items = list(shares.items())
    if len(items) <= limit:
        return items, 0
    ranked = sorted(range(len(items)), key=lambda i: -_order(items[i][1]))[:limit]
    return [items[i] for i in sorted(ranked)], len(items) - limit


def _order(value: float) -> float:
    return value if value == value else float("-inf")  # NaN last


def listed(items: Iterable[str], limit: int) -> str:
    """At most `limit` items joined by commas, then how many were left out."""
    items = list(items)
    shown = ", ".join(items[:limit])
    return shown + (f", and {len(items) - limit} more" if len(items) > limit else "")
