"""The rows ``simreel inspect`` summarises, one chunk at a time.

Why chunks: a table of 10^7 rows is gigabytes once read whole, and every figure of the
summary is a sum, a count, a minimum or a maximum that can be built up chunk by chunk.
So each section (:mod:`~stages.inspect.shares`, ...) is an accumulator: it takes each
chunk (:meth:`add`) and keeps only its running figures, whose size follows the actors,
states, episodes and instances, never the rows. A file is scanned and checked as it is
read (:mod:`schemas.scan`); a table already in memory is one chunk.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import polars as pl

from schemas.events import EventTable
from schemas.metadata import TableMetadata
from schemas.scan import ScannedTable


class TableRows:
    """The metadata of a table and its rows as polars chunks, which can be read again."""

    def __init__(self, source: EventTable | ScannedTable) -> None:
        self._source = source
        self.metadata: TableMetadata = source.metadata
        self.path: Path | None = source.path

    def frames(self) -> Iterator[pl.DataFrame]:
        """Every row, in the table's order (episode, start, seq), a chunk at a time; for a
        file, each chunk is checked as it is read (TableError at the first breach)."""
        source = self._source
        if isinstance(source, EventTable):
            yield source.to_polars()
            return
        for chunk in source.chunks():
            frame = pl.from_arrow(chunk)
            if not isinstance(frame, pl.DataFrame):  # from_arrow returns a Series for arrays
                raise TypeError(f"expected a DataFrame from a chunk, got {type(frame).__name__}")
            yield frame


def compact(parts: list[pl.DataFrame], keys: list[str], sums: list[str], limit: int) -> None:
    """Merge `parts` (partial aggregates of the same columns) in place into one frame summed
    over `keys` once there are more than `limit` of them, so an accumulator's memory
    follows its distinct keys, not the number of chunks."""
    if len(parts) <= limit:
        return
    merged = pl.concat(parts, how="vertical_relaxed").group_by(keys).agg(pl.col(sums).sum())
    parts[:] = [merged]
