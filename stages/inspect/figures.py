"""Aggregates over episodes, shared by the sections that summarise many episodes at once."""

from __future__ import annotations

from collections.abc import Iterable


def spread(values: Iterable[float | None]) -> dict[str, float] | None:
    """Mean, min and max of the values that are not None; None if there are none.

    Why: a 3000-episode table is summarised per actor by one line, so a per-episode
    figure is reported as its mean and range rather than episode by episode."""
    found = [value for value in values if value is not None]
    if not found:
        return None
    return {"mean": sum(found) / len(found), "min": min(found), "max": max(found)}
