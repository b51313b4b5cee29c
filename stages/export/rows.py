"""The event table's rows, with what an export needs to know about each, as columns.

Every figure is a polars expression over the whole table (a window per actor where a row
needs its neighbours), so the cost does not grow with Python work per row.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import polars as pl

from schemas.events import EventTable
from schemas.metadata import EpisodeSummary
from stages.export.clock import Clock, seconds_to_us
from stages.export.references import kind_of

ORDER: Final = ("position", "time_us", "group", "seq", "phase")
"""Sort key of every instant an export writes, so that one actor's events are in the
order they happened even when they share a microsecond (``schemas/OCEL.md``, "Order"):
``group`` 0 = an interval of positive length ends; 1 = an interval starts (``phase`` 0)
or, for a zero-length one, also ends (``phase`` 1); 2 = the episode ends."""


def prepare_rows(
    events: EventTable, summaries: Sequence[EpisodeSummary], clock: Clock
) -> pl.DataFrame:
    """The rows of the episodes in `summaries`, with these columns added:

    ``kind``; ``position`` (the episode's place in the table); ``start_us``/``end_us``
    (UTC microseconds since 1970); ``end_time_us`` (the episode's end); ``open`` (the
    interval lasts until the episode ends); ``zero`` (zero length); ``first`` (the
    actor's first row in the episode); ``gap_after`` (the actor is in no state right
    after this interval: its next interval starts later, or there is none).
    """
    vocabulary = events.metadata.vocabulary
    frame = events.to_polars()
    if len(summaries) != len(events.metadata.episodes):
        frame = frame.filter(pl.col("episode").is_in([summary.episode for summary in summaries]))
    episodes = episode_frame(summaries, clock).select("episode", "end_time", "position")
    names = frame.select(pl.col("actor").unique()).with_columns(
        kind=kind_of(pl.col("actor"), vocabulary)
    )
    per_actor = ("episode", "actor")
    base = clock.base_us()
    next_start = pl.col("start").shift(-1).over(per_actor)
    return (
        frame.join(names, on="actor", how="left", maintain_order="left")
        .join(episodes, on="episode", how="left", maintain_order="left")
        .with_columns(
            start_us=base + seconds_to_us(pl.col("start")),
            end_us=base + seconds_to_us(pl.col("end")),
            end_time_us=base + seconds_to_us(pl.col("end_time")),
            open=pl.col("end") == pl.col("end_time"),
            zero=pl.col("start") == pl.col("end"),
            # Rows are ordered by (episode, start, seq), so a window per actor sees its
            # intervals in the order they happened.
            first=pl.col("seq").shift(1).over(per_actor).is_null(),
            gap_after=next_start.is_null() | (next_start > pl.col("end")),
        )
    )


def episode_frame(summaries: Sequence[EpisodeSummary], clock: Clock) -> pl.DataFrame:
    """One row per episode: ``episode``, ``end_time``, ``position``, ``start_us`` and
    ``end_time_us`` (UTC microseconds since 1970)."""
    frame = pl.DataFrame(
        {
            "episode": [summary.episode for summary in summaries],
            "end_time": [summary.end_time for summary in summaries],
            "position": [clock.positions[summary.episode] for summary in summaries],
        },
        schema={"episode": pl.Int32, "end_time": pl.Float64, "position": pl.Int64},
    )
    base = clock.base_us()
    return frame.with_columns(start_us=base, end_time_us=base + seconds_to_us(pl.col("end_time")))


def starts() -> list[pl.Expr]:
    """The sort key (:data:`ORDER`) of each row's start."""
    return [
        pl.col("position"),
        pl.col("start_us").alias("time_us"),
        pl.lit(1, pl.Int8).alias("group"),
        pl.col("seq"),
        pl.lit(0, pl.Int8).alias("phase"),
    ]


def ends() -> list[pl.Expr]:
    """The sort key (:data:`ORDER`) of each row's end, for a row that does not last until
    the episode's end."""
    return [
        pl.col("position"),
        pl.col("end_us").alias("time_us"),
        pl.when(pl.col("zero")).then(1).otherwise(0).cast(pl.Int8).alias("group"),
        pl.col("seq"),
        pl.lit(1, pl.Int8).alias("phase"),
    ]


def episode_end() -> list[pl.Expr]:
    """The sort key (:data:`ORDER`) of the episode's end (after all else in the episode)."""
    return [
        pl.col("position"),
        pl.col("end_time_us").alias("time_us"),
        pl.lit(2, pl.Int8).alias("group"),
        pl.col("seq"),
        pl.lit(0, pl.Int8).alias("phase"),
    ]
