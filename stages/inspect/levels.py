"""Levels of buffers and queues: how full they were, for how long, and when they peaked.

Covered: every named actor other than a counter (a counter's rise is reported by
:mod:`stages.inspect.counters`) whose rows hold values of an attribute declared a
quantity (``quantity: true``); its level is the first such attribute. Tables of schema
v1 declare no quantities, so they are skipped with a note rather than guessed from
numeric columns (an item id is numeric too, and its "mean level" would be nonsense).

The rules:

* **time-weighted**: a level counts for the seconds its row lasted, and shares are of
  the time the level was recorded (for a buffer, its whole episodes). A zero-length
  row holds no time but still counts for the peak and the time it was first reached;
* **empty** = level 0 (or below);
* **full** = the highest level the actor reached anywhere in the table. Schema v2 has
  no capacity field, so this is what was seen, not what fits: a buffer that never
  filled is "full" at its peak. The output says so;
* **peak** of an episode = its highest level; ``first_peak_at`` is the start of the
  first row at that level and ``seconds_at_peak`` the time spent there (the README's
  polars question computes the same).
"""

from __future__ import annotations

import math
from typing import Any, Final

import polars as pl

from schemas.events import EventTable
from stages.inspect.cells import number, percent, seconds
from stages.inspect.counters import COUNTER_KIND
from stages.inspect.figures import spread

FULL_RULE: Final = "the highest level seen, no capacity being declared"
EMPTY_RULE: Final = "0 or below"
_LISTED_LEVELS: Final = 12
"""Up to this many distinct levels the time at each is listed; beyond, a histogram."""
_BINS: Final = 10


def levels(events: EventTable, frame: pl.DataFrame) -> dict[str, Any]:
    """Per buffer-like actor: mean level, time empty and full, time per level (or per range
    of levels), when it first got full, and per episode its peak and when it reached it."""
    meta = events.metadata
    vocabulary = meta.vocabulary
    result: dict[str, Any] = {
        "full_rule": FULL_RULE,
        "empty_rule": EMPTY_RULE,
        "skipped": None,
        "actors": {},
    }
    if not vocabulary.quantities:
        if meta.migrated_from is not None or meta.schema_version < 2:
            result["skipped"] = (
                f"a schema v{meta.migrated_from or meta.schema_version} table declares no "
                "quantity attributes, so no attribute is known to be a level"
            )
        return result
    remaining = [a.name for a in vocabulary.actors if a.kind != COUNTER_KIND]
    found: dict[str, Any] = {}
    for attribute in vocabulary.quantities:
        rows = frame.filter(
            pl.col("actor").is_in(remaining) & pl.col(attribute).is_not_null()
        ).select(
            "actor",
            "episode",
            "start",
            value=pl.col(attribute),
            seconds=pl.col("end") - pl.col("start"),
        )
        if rows.height == 0:
            continue
        per_episode = _per_episode(rows)
        distribution = rows.group_by("actor", "value").agg(pl.col("seconds").sum())
        integral = vocabulary.attribute(attribute).type == "int64"
        for actor in per_episode["actor"].unique().to_list():
            found[actor] = _actor(
                attribute,
                per_episode.filter(pl.col("actor") == actor).drop("actor"),
                distribution.filter(pl.col("actor") == actor).drop("actor").sort("value"),
                integral,
            )
        remaining = [name for name in remaining if name not in found]
    # In vocabulary order, whatever attribute each level came from.
    result["actors"] = {a.name: found[a.name] for a in vocabulary.actors if a.name in found}
    return result


def _per_episode(rows: pl.DataFrame) -> pl.DataFrame:
    """One row per actor and episode with the figures of :func:`levels`."""
    value, span, start = pl.col("value"), pl.col("seconds"), pl.col("start")
    at_peak = value == value.max()
    full = value >= pl.col("full")
    return (
        rows.with_columns(full=value.max().over("actor"))
        .group_by("actor", "episode")
        .agg(
            seconds=span.sum(),
            weighted=(value * span).sum(),
            peak=value.max(),
            first_peak_at=start.filter(at_peak).min(),
            seconds_at_peak=span.filter(at_peak).sum(),
            first_full_at=start.filter(full).min(),
            seconds_full=span.filter(full).sum(),
            seconds_empty=span.filter(value <= 0).sum(),
        )
        .sort("actor", "episode")
    )


def _actor(
    attribute: str, per_episode: pl.DataFrame, distribution: pl.DataFrame, integral: bool
) -> dict[str, Any]:
    """The aggregate over episodes of one actor, and its per-episode detail."""
    episodes = per_episode.to_dicts()
    total = sum(e["seconds"] for e in episodes)
    for e in episodes:
        weighted = e.pop("weighted")
        e["mean"] = weighted / e["seconds"] if e["seconds"] > 0 else None
    full = max(e["peak"] for e in episodes)
    full_seconds = sum(e["seconds_full"] for e in episodes)
    empty_seconds = sum(e["seconds_empty"] for e in episodes)
    reached = [e["first_full_at"] for e in episodes if e["first_full_at"] is not None]
    return {
        "attribute": attribute,
        "seconds": total,
        "mean": sum(e["mean"] * e["seconds"] for e in episodes if e["mean"] is not None) / total
        if total > 0
        else None,
        "full": full,
        "seconds_full": full_seconds,
        "share_full": full_seconds / total if total > 0 else None,
        "seconds_empty": empty_seconds,
        "share_empty": empty_seconds / total if total > 0 else None,
        "reached_full": {
            "episodes": len(reached),
            "of": len(episodes),
            "first_at": spread(reached),
        },
        "peak": spread(e["peak"] for e in episodes),
        "time_at_level": _distribution(distribution, total, integral),
        "per_episode": episodes,
    }


def _distribution(distribution: pl.DataFrame, total: float, integral: bool) -> list[dict[str, Any]]:
    """Seconds and share at each level, or per range of levels when there are many.

    Ranges: :data:`_BINS` of equal width from the lowest to the highest level; for whole
    levels each range holds whole levels (``from`` to ``to`` inclusive), for fractional
    ones the last range includes its upper end."""

    def share(value: float) -> float | None:
        return value / total if total > 0 else None

    if distribution.height <= _LISTED_LEVELS:
        return [
            {"level": level, "seconds": spent, "share": share(spent)}
            for level, spent in distribution.iter_rows()
        ]
    low, high = (
        float(v) for v in distribution.select(low=pl.min("value"), high=pl.max("value")).row(0)
    )
    value = pl.col("value")
    if integral:
        width = float(math.ceil((high - low + 1) / _BINS))
        index = ((value - low) // width).cast(pl.Int64)
    else:
        width = (high - low) / _BINS
        index = ((value - low) / width).floor().clip(0, _BINS - 1).cast(pl.Int64)
    bins = dict(distribution.group_by(index.alias("bin")).agg(pl.col("seconds").sum()).iter_rows())

    def edge(at: float) -> float | int:
        return int(at) if integral else at

    return [
        {
            "from": edge(low + b * width),
            "to": edge(low + (b + 1) * width - (1 if integral else 0)),
            "seconds": bins.get(b, 0.0),
            "share": share(bins.get(b, 0.0)),
        }
        for b in range(max(bins) + 1)
    ]


def levels_text(found: dict[str, Any], episodes: int) -> list[str]:
    """Two or three lines per actor; the same whether the table has 1 or 3000 episodes."""
    if found["skipped"]:
        return ["", f"Levels: not reported: {found['skipped']}"]
    actors = found["actors"]
    if not actors:
        return []
    lines = [
        "",
        "Levels (time-weighted; empty = " + EMPTY_RULE + "; full = " + FULL_RULE + ")",
    ]
    many = episodes > 1
    for name, data in actors.items():
        full = number(data["full"])
        head = (
            f"  {name} ({data['attribute']}): mean {number(data['mean'])}, "
            f"empty {percent(data['share_empty'])}, full ({full}) {percent(data['share_full'])}"
        )
        reached = data["reached_full"]
        first = reached["first_at"]
        if not many:
            if first is not None and data["seconds_full"] > 0:
                head += f" ({seconds(data['seconds_full'])}), first at {seconds(first['min'])}"
            elif first is not None:
                head += f" (only for an instant, at {seconds(first['min'])})"
            lines.append(head)
        else:
            lines.append(head)
            peak = data["peak"]
            text = f"    full in {reached['episodes']}/{reached['of']} episodes"
            if first is not None and first["min"] == first["max"]:
                text += f", first at {seconds(first['min'])}"
            elif first is not None:
                text += (
                    f", first at {seconds(first['mean'])} on average "
                    f"({seconds(first['min'])}-{seconds(first['max'])})"
                )
            if peak is not None and peak["min"] != peak["max"]:
                text += (
                    f"; peak per episode {number(peak['mean'])} on average "
                    f"({number(peak['min'])}-{number(peak['max'])})"
                )
            lines.append(text)
        spent = [entry for entry in data["time_at_level"] if entry["seconds"] > 0]
        if len(spent) > 1:
            cells = [
                (
                    number(entry["level"])
                    if "level" in entry
                    else f"{number(entry['from'])}-{number(entry['to'])}"
                )
                + f" {percent(entry['share'])}"
                for entry in spent
            ]
            lines.append("    time at level  " + "  ".join(cells))
    return lines
