"""Simulated seconds to UTC timestamps: the one place an OCEL export learns what time it is.

OCEL 2.0 stamps every event with a calendar date and time; a simulation counts seconds
from 0 in every episode. The mapping (``schemas/OCEL.md``, section "Time") is: episode
number *i* of the table's episode list starts at midnight of day ``i * stride`` after the
epoch, so the time of day reads the simulated seconds and episodes never overlap;
``stride`` is one day, or as many whole days as the longest episode needs. Seconds are
rounded to the nearest microsecond (half to even, as Python's ``timedelta`` does), the
finest step OCEL tools parse.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final

import polars as pl

from schemas.errors import ConfigError
from schemas.metadata import EpisodeSummary

DEFAULT_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
"""Time 0 of the first episode: the Unix epoch, so a timestamp's seconds since 1970 are the
simulated seconds (plus whole days for later episodes)."""
DAY_US: Final = 86_400_000_000
"""Microseconds in a day: episodes start on whole days after the epoch."""
_LATEST: Final = datetime(9999, 12, 31, tzinfo=UTC)
TIMESTAMP: Final = pl.Datetime("us", "UTC")
"""The polars type of every timestamp an export holds."""


def parse_epoch(text: str) -> datetime:
    """`text` (ISO 8601, e.g. ``2024-01-01T00:00:00Z``) as an aware UTC datetime.

    A time without an offset is taken as UTC, so the same command gives the same file in
    every time zone. ConfigError names the value and gives an example.
    """
    try:
        parsed = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ConfigError(
            f"--epoch ({text!r}) is not an ISO 8601 date and time; "
            "give one like 2024-01-01T00:00:00Z"
        ) from None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


@dataclass(frozen=True)
class Clock:
    """Where each episode starts on the calendar, and how seconds become microseconds."""

    epoch: datetime
    """Start of the table's first episode (aware, UTC)."""
    stride_days: int
    """Whole days between the starts of consecutive episodes (>= 1)."""
    positions: dict[int, int]
    """Episode number -> its position in the table's episode list (0, 1, ...)."""

    @classmethod
    def for_episodes(cls, episodes: Sequence[EpisodeSummary], epoch: datetime) -> Clock:
        """A clock for a table's episodes (all of them, so that a timestamp does not depend
        on which episodes one export picks). ConfigError if the last episode would end
        after the year 9999, the last date the OCEL time format holds."""
        longest = max((summary.end_time for summary in episodes), default=0.0)
        stride = max(1, math.ceil(longest / 86_400))
        clock = cls(
            epoch=epoch,
            stride_days=stride,
            positions={summary.episode: i for i, summary in enumerate(episodes)},
        )
        if episodes:
            try:
                last = clock.episode_start(episodes[-1].episode) + timedelta(days=stride)
            except OverflowError:
                last = None
            if last is None or last > _LATEST:
                raise ConfigError(
                    f"--epoch {epoch.isoformat()}: the table's {len(episodes)} episodes, "
                    f"{stride} day(s) apart, would end after the year 9999; choose an "
                    "earlier epoch or export fewer episodes with --episode"
                )
        return clock

    def episode_start(self, episode: int) -> datetime:
        """The calendar time of second 0 of `episode`."""
        return self.epoch + timedelta(days=self.positions[episode] * self.stride_days)

    def start_us(self, episode: int) -> int:
        """Second 0 of `episode` in microseconds since 1970-01-01T00:00:00Z."""
        return _us_since_1970(self.episode_start(episode))

    def base_us(self) -> pl.Expr:
        """Per row of a frame with an ``episode`` column: second 0 of its episode, in
        microseconds since 1970."""
        return pl.col("episode").replace_strict(
            {episode: self.start_us(episode) for episode in self.positions},
            return_dtype=pl.Int64,
        )


def seconds_to_us(seconds: pl.Expr) -> pl.Expr:
    """Simulated seconds as whole microseconds, rounded half to even."""
    return (seconds * 1_000_000).round(0, mode="half_to_even").cast(pl.Int64)


def as_timestamp(microseconds: pl.Expr) -> pl.Expr:
    """Microseconds since 1970 as a UTC timestamp."""
    return microseconds.cast(TIMESTAMP)


def _us_since_1970(moment: datetime) -> int:
    delta = moment - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
