"""Counters: how an actor that counts something up (``kind: "counter"``) rose over time.

The value is the counter's first quantity attribute that holds values (first numeric
attribute in tables older than v2, which have no quantities); the summary shows by how
much it rose in each time bucket (a minute by default), per episode.
"""

from __future__ import annotations

import math
from typing import Any, Final

import polars as pl

from schemas.metadata import TableMetadata
from stages.inspect.cells import columns, number

COUNTER_KIND: Final = "counter"
"""Vocabulary ``kind`` of actors whose numeric attribute counts something up."""
NUMERIC: Final = ("int64", "float64")


MAX_BUCKETS: Final = 60
"""Most time buckets per episode: each is a printed column. A longer episode gets wider
buckets (a round number of seconds), so the output is bounded by what can be read, never
by a number in the table (an end_time of 1e308 would otherwise ask for 1e306 buckets)."""


def bucket_width(requested: float, metadata: TableMetadata) -> float:
    """The bucket width in seconds: `requested`, or the smallest round width (1, 2 or 5
    times a power of ten) that cuts the longest episode into at most :data:`MAX_BUCKETS`."""
    span = max((summary.end_time for summary in metadata.episodes), default=0.0)
    if not span > 0 or span / requested <= MAX_BUCKETS:
        return requested
    least = span / MAX_BUCKETS
    exponent = math.floor(math.log10(least))
    for power in (exponent, exponent + 1):
        for mantissa in (1.0, 2.0, 5.0):
            width = mantissa * 10.0**power
            if math.isfinite(width) and width >= least and span / width <= MAX_BUCKETS:
                return width
    return span  # unreachable for finite spans; one bucket is always a bound


def bucket_count(end_time: float, width: float) -> int:
    """How many buckets of `width` seconds an episode of `end_time` seconds has (>= 1)."""
    ratio = end_time / width
    return max(1, min(MAX_BUCKETS, math.ceil(ratio))) if math.isfinite(ratio) else 1


class Counters:
    """Per counter actor and episode, the rise of its value in each time bucket.

    The value is the counter's first numeric attribute that holds values anywhere, which
    is known only at the end, so the rises of every candidate attribute are summed; the
    rise of a row is its value minus the previous row's of the same actor and episode,
    and the last row of each (actor, episode) is carried to the next chunk."""

    def __init__(self, metadata: TableMetadata, bucket: float) -> None:
        self._metadata = metadata
        vocabulary = metadata.vocabulary
        # A declared quantity is the counter's value for sure; an id (an item number) is
        # not, so plain numeric attributes come last (tables older than v2 have no
        # quantities).
        self._numeric = [
            *vocabulary.quantities,
            *(a.name for a in vocabulary.attributes if a.type in NUMERIC and not a.quantity),
        ]
        self._actors = [a.name for a in vocabulary.actors if a.kind == COUNTER_KIND]
        self.requested = bucket
        self.bucket = bucket_width(bucket, metadata)
        self._held: dict[tuple[str, str], int] = {}
        """(actor, attribute) → rows holding a value."""
        self._rises: dict[tuple[str, str, int, int], float] = {}
        """(actor, attribute, episode, bucket) → the rise in that bucket."""
        self._last: pl.DataFrame | None = None
        """Per (actor, episode) seen so far: each candidate's value on its latest row."""

    def add(self, frame: pl.DataFrame) -> None:
        if not self._actors or not self._numeric:
            return
        rows = frame.filter(pl.col("actor").is_in(self._actors)).select(
            "actor", "episode", "start", *self._numeric
        )
        if rows.height == 0:
            return
        for (actor,), counts in rows.group_by("actor"):
            for name in self._numeric:
                held = counts.height - counts[name].null_count()
                self._held[(str(actor), name)] = self._held.get((str(actor), name), 0) + held
        group = ["actor", "episode"]
        first = pl.int_range(pl.len()).over(group) == 0
        carried = (
            rows.join(self._last, on=group, how="left", suffix="_carried")
            if self._last is not None
            else rows.with_columns(
                pl.lit(None, pl.Float64).alias(f"{n}_carried") for n in self._numeric
            )
        )
        bucket = (pl.col("start") // self.bucket).cast(pl.Int64, strict=False).fill_null(0)
        rises = carried.with_columns(
            bucket=bucket,
            **{
                # The first interval holds the starting value, not a rise.
                f"{name}_rise": (
                    pl.col(name)
                    - pl.when(first)
                    .then(pl.col(f"{name}_carried"))
                    .otherwise(pl.col(name).shift(1).over(group))
                ).fill_null(0)
                for name in self._numeric
            },
        )
        sums = rises.group_by("actor", "episode", "bucket").agg(
            pl.col(f"{name}_rise").sum() for name in self._numeric
        )
        for row in sums.iter_rows(named=True):
            for name in self._numeric:
                key = (row["actor"], name, row["episode"], row["bucket"])
                self._rises[key] = self._rises.get(key, 0) + row[f"{name}_rise"]
        latest = rows.group_by(group).agg(pl.col(name).last() for name in self._numeric)
        self._last = (
            latest
            if self._last is None
            else pl.concat([self._last, latest], how="vertical_relaxed")
            .group_by(group, maintain_order=True)
            .agg(pl.col(name).last() for name in self._numeric)
        )

    def result(self) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for actor in self._actors:
            value = next((n for n in self._numeric if self._held.get((actor, n), 0) > 0), None)
            if value is None:
                continue
            found: dict[int, dict[int, float]] = {}
            for (who, name, episode_number, b), rise in self._rises.items():
                if who == actor and name == value:
                    found.setdefault(episode_number, {})[b] = rise
            per_episode = []
            for summary in self._metadata.episodes:
                buckets = bucket_count(summary.end_time, self.bucket)
                episode = found.get(summary.episode, {})
                counts = [episode.get(b, 0) for b in range(buckets)]
                # A change at exactly end_time (an item finished at t = 300) joins the last
                # bucket.
                counts[-1] += sum(v for b, v in episode.items() if b >= buckets)
                per_episode.append({"episode": summary.episode, "rises": counts})
            result[actor] = {
                "attribute": value,
                "bucket_seconds": self.bucket,
                "requested_bucket_seconds": self.requested,
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
