"""``simreel compare``'s text: which tables, then one line per KPI with its intervals.

Everything from a table (paths, policy words, KPI names) is escaped before it reaches
the terminal (``stages.terminal.printable``).
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence
from typing import Final

from stages.compare.intervals import CONFIDENCE, Interval
from stages.compare.kpis import KpiComparison
from stages.compare.tables import ComparedTable
from stages.inspect.cells import columns, number
from stages.terminal import printable

_NOTE_WIDTH: Final = 88


def interval_text(interval: Interval | None, *, signed: bool = False) -> str:
    """``23.8 [21.6, 26.0]``: the estimate and its interval to two significant digits of the
    interval's half-width (more digits would be noise); ``28 (no interval)`` for a single
    episode; ``-`` when a side lacks the figure."""
    if interval is None:
        return "-"
    low, high = interval.low, interval.high
    if low is None or high is None:
        return f"{_sign(interval.estimate, signed)}{number(interval.estimate)} (no interval)"
    half = (high - low) / 2
    if half <= 0:
        # Neither side varies: the interval has no width.
        bounds = f"[{number(low)}, {number(high)}]"
        return f"{_sign(interval.estimate, signed)}{number(interval.estimate)} {bounds}"
    decimals = max(0, min(6, 1 - math.floor(math.log10(half))))
    estimate = f"{interval.estimate:.{decimals}f}"
    return f"{_sign(interval.estimate, signed)}{estimate} [{low:.{decimals}f}, {high:.{decimals}f}]"


def _sign(value: float, signed: bool) -> str:
    return "+" if signed and value > 0 else ""


def format_text(
    domain: str, tables: Sequence[ComparedTable], comparisons: Sequence[KpiComparison]
) -> str:
    """The whole report: a header naming both tables, the KPI lines, and how to read them."""
    lines = [f"{domain}: B against A, {CONFIDENCE:.0%} intervals over all episodes of each table"]
    lines += columns(
        [
            [table.letter, table.policy, printable(str(table.path)), _episodes(table.episodes)]
            for table in tables
        ]
    )
    rows = [["", "A mean", "B mean", "B - A", ""]]
    for comparison in comparisons:
        rows.append(
            [
                printable(comparison.name),
                interval_text(comparison.a_mean),
                interval_text(comparison.b_mean),
                interval_text(comparison.difference, signed=True),
                comparison.verdict or "",
            ]
        )
    lines += ["", *columns(rows)]
    lines.append("")
    for note in _notes(tables, comparisons):
        lines += textwrap.wrap(note, _NOTE_WIDTH)
    return "\n".join(lines)


def _episodes(count: int) -> str:
    return f"{count} episode" + ("" if count == 1 else "s")


def _notes(tables: Sequence[ComparedTable], comparisons: Sequence[KpiComparison]) -> list[str]:
    notes = [
        "Means with t intervals (mean ± t · sd/√n); B - A with Welch's interval, which does not "
        "assume both vary alike.",
        "A verdict is given only where the interval of B - A excludes 0; elsewhere the tables "
        "show no difference.",
    ]
    single = [table.letter for table in tables if table.episodes < 2]
    if single:
        notes.append(
            f"No intervals for {' and '.join(single)}: an interval needs at least 2 episodes; "
            "record more with --episodes N (with --sample for a deterministic model)."
        )
    elif comparisons and not any(c.verdict for c in comparisons):
        notes.append("No KPI differs beyond chance: record more episodes for narrower intervals.")
    return notes
