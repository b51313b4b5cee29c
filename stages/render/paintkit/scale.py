"""A time axis's round ticks and their labels, bounded by what is drawn, not by the data.

An axis picks its ticks from the span it shows: about `target` of them, at 1, 2 or 5
times a power of ten. The span may be anything a table holds (an episode of 1e308
seconds, one of 2e-299, a 10 s window starting at 1e15), so the steps are computed, never
counted out: no loop runs more than a few dozen times whatever the numbers are, a step is
never 0 or infinite, and a label has just the digits that tell two ticks apart (``1e+15``
for every tick of a window at 1e15 would say nothing).
"""

from __future__ import annotations

import math
from typing import Final

MAX_TICKS: Final = 60
"""No axis gets more ticks than this, whatever it is asked for."""
_SLACK: Final = 1e-9
"""Fraction of a step by which a tick may miss an end and still count as on it."""
_FIXED_RANGE: Final = (1e-4, 1e7)
"""Magnitudes written with a fixed point (``0.25``, ``120``); others in exponent form."""


def tick_step(span: float, target: int = 10) -> float:
    """A round step (1, 2 or 5 times a power of ten) giving about `target` ticks over `span`.

    Always finite and positive: 1 for a span that is not a positive finite number, and
    the span itself when a tenth of it is below the smallest step a float can hold.
    """
    if not (math.isfinite(span) and span > 0):
        return 1.0
    raw = span / max(1, min(target, MAX_TICKS))
    if raw <= 0:
        return span
    power = 10.0 ** math.floor(math.log10(raw))
    if not (power > 0 and math.isfinite(power)):
        return span
    for multiple in (1.0, 2.0, 5.0, 10.0):
        step = multiple * power
        if raw <= step and math.isfinite(step):
            return step
    return span


def ticks(low: float, high: float, target: int = 10) -> list[float]:
    """Round values from `low` to `high` (inclusive), about `target` of them, never more
    than :data:`MAX_TICKS`; just the ends when the floats between them are too coarse
    for round values (a span of a few seconds at 1e17), `[low]` for an empty span."""
    if not (math.isfinite(low) and math.isfinite(high)):
        return [value for value in (low, high) if math.isfinite(value)][:1]
    if not high > low:
        return [low]
    span = high - low
    if not math.isfinite(span):  # from -1e308 to 1e308
        return [low, high]
    step = tick_step(span, target)
    first = math.ceil(low / step - _SLACK)
    last = math.floor(high / step + _SLACK)
    if not 0 <= last - first <= MAX_TICKS:
        return [low, high]
    values = [k * step for k in range(first, last + 1)]
    return [value for value in values if math.isfinite(value)]


def tick_label(value: float, step: float) -> str:
    """`value` written with the digits a neighbour `step` away needs to differ from it:
    ``2.5`` for a step of 0.5, ``1000000000000003`` for a step of 1 at 1e15, ``5e+307``."""
    if value == 0 or not math.isfinite(value):
        return f"{value:g}" if value else "0"
    magnitude = abs(value)
    step = abs(step) if math.isfinite(step) and step else magnitude
    if _FIXED_RANGE[0] <= magnitude < _FIXED_RANGE[1] and step >= _FIXED_RANGE[0]:
        decimals = max(0, -math.floor(math.log10(step) + _SLACK))
        return f"{value:.{decimals}f}"
    digits = math.floor(math.log10(magnitude)) - math.floor(math.log10(step) + _SLACK) + 1
    return f"{value:.{min(max(digits, 1), 17)}g}"


def seconds_label(time: float, resolution: float) -> str:
    """Simulated `time` for a clock, as precise as `resolution` (the seconds one step of
    the clock stands for) needs: ``12.5`` (one decimal at least), ``0.0125``,
    ``1000000003.5``, ``1.25e-299``; at most 17 significant digits, so it stays short."""
    if not math.isfinite(time):
        return f"{time}"
    if not (math.isfinite(resolution) and resolution > 0):
        resolution = 0.1
    magnitude = abs(time)
    if magnitude < _FIXED_RANGE[1] and resolution >= _FIXED_RANGE[0]:
        decimals = max(1, -math.floor(math.log10(resolution) + _SLACK))
        return f"{time:.{decimals}f}"
    if time == 0:
        return "0"
    digits = math.floor(math.log10(magnitude)) - math.floor(math.log10(resolution) + _SLACK) + 1
    return f"{time:.{min(max(digits, 2), 17)}g}"
