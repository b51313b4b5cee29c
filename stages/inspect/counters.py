"""Counters: how an actor that counts something up (``kind: "counter"``) rose over time.

The value is the counter's first quantity attribute that holds values (first numeric
attribute in tables older than v2, which have no quantities); the summary shows by how
much it rose in each time bucket (a minute by default), per episode.
"""

from __future__ import annotations

import math
from typing import Any, Final

import polars as pl

from schemas.events import EventTable
from stages.inspect.cells import columns, number

COUNTER_KIND: Final = "counter"
"""Vocabulary ``kind`` of actors whose numeric attribute counts something up."""
NUMERIC: Final = ("int64", "float64")


def counters(events: EventTable, frame: pl.DataFrame, bucket: float) -> dict[str, Any]:
    """Per counter actor and episode, the rise of its value in each time bucket."""
    vocabulary = events.metadata.vocabulary
    # A declared quantity is the counter's value for sure; an id (an item number) is
    # not, so plain numeric attributes come last (tables older than v2 have no quantities).
    numeric = [
        *vocabulary.quantities,
        *(a.name for a in vocabulary.attributes if a.type in NUMERIC and not a.quantity),
    ]
    result: dict[str, Any] = {}
    for actor in vocabulary.actors:
        if actor.kind != COUNTER_KIND:
            continue
        rows = frame.filter(pl.col("actor") == actor.name)
        value = next((name for name in numeric if rows[name].null_count() < rows.height), None)
        if value is None:
            continue
        rises = (
            rows.sort("episode", "start", "seq")
            .with_columns(
                bucket=(pl.col("start") // bucket).cast(pl.Int64),
                # The first interval holds the starting value, not a rise.
                rise=(pl.col(value) - pl.col(value).shift(1)).over("episode").fill_null(0),
            )
            .group_by("episode", "bucket")
            .agg(pl.col("rise").sum())
        )
        found: dict[int, dict[int, float]] = {}
        for row in rises.iter_rows(named=True):
            found.setdefault(row["episode"], {})[row["bucket"]] = row["rise"]
        per_episode = []
        for summary in events.metadata.episodes:
            buckets = max(1, math.ceil(summary.end_time / bucket))
            episode = found.get(summary.episode, {})
            counts = [episode.get(b, 0) for b in range(buckets)]
            # A change at exactly end_time (an item finished at t = 300) joins the last bucket.
            counts[-1] += sum(v for b, v in episode.items() if b >= buckets)
            per_episode.append({"episode": summary.episode, "rises": counts})
        result[actor.name] = {
            "attribute": value,
            "bucket_seconds": bucket,
            "per_episode": per_episode,
        }
    return result


def counters_text(found: dict[str, Any], max_episodes: int) -> list[str]:
    """One table per counter, of at most `max_episodes` episodes."""
    lines: list[str] = []
    for actor, counter in found.items():
        bucket = counter["bucket_seconds"]
        lines += ["", f"{actor} ({counter['attribute']}) rise per {bucket:g}s bucket"]
        per_episode = counter["per_episode"]
        width = max((len(e["rises"]) for e in per_episode), default=0)
        header = ["episode", *(f"{number(b * bucket)}-" for b in range(width)), "total"]
        rows = [
            [str(e["episode"]), *(number(v) for v in e["rises"]), number(sum(e["rises"]))]
            for e in per_episode[:max_episodes]
        ]
        lines += columns([header, *rows])
        if len(per_episode) > max_episodes:
            lines.append(f"  ... and {len(per_episode) - max_episodes} more (see --json)")
    return lines
