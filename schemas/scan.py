"""Read a whole event table in chunks, checking every row, in memory bounded by a chunk.

:func:`~schemas.events.read_events` holds the whole table (and its checks' temporary
arrays) in memory at once: gigabytes for 10^7 rows. A reader that only aggregates
(``simreel inspect``) needs one chunk at a time, so :func:`scan_events` yields the rows
in file order, a chunk of at most :data:`CHUNK_ROWS` rows at a time, each one conformed
and checked as ``read_events`` checks a table. What crosses chunks is carried from one
to the next: the last row's sort key (row order), each actor's last end in the current
episode (no overlap), and per episode a count and a bitmap of the ``seq`` values seen
(each episode's rows numbered 0..n-1 once each), which is freed when the episode ends.
So the same table is refused for the same breach either way, and a table that passes
one passes the other; the memory carried is a bit per row of the current episode and a
number per actor.

Depends on pyarrow, numpy and the schemas package only.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import numpy as np
import pyarrow as pa
from numpy.typing import NDArray

from schemas import migrations
from schemas.errors import TableError
from schemas.events import SCHEMA_VERSION, damaged, open_upgraded
from schemas.metadata import EpisodeSummary, TableMetadata
from schemas.validate import RowNumbers, check_rows, conform, describe_row

__all__ = ["CHUNK_ROWS", "ScannedTable", "scan_events"]

CHUNK_ROWS: Final = 65_536
"""Rows per chunk: one row group of a table simreel wrote."""
_SORT_FIX = "sort the rows by (episode, start, seq) before writing"
_OVERLAP_FIX = "close an actor's interval before it enters its next state"


@dataclass
class _Episode:
    """What the scan knows of the episode it is in: rows so far and which seqs were seen."""

    summary: EpisodeSummary
    rows: int = 0
    seen: NDArray[np.bool_] = field(default_factory=lambda: np.zeros(0, np.bool_))
    low: int | None = None
    high: int | None = None
    outside: bool = False
    """Some seq was outside 0..rows-1 (the metadata's rows)."""
    last_end: dict[str, tuple[float, int]] = field(default_factory=dict)
    """Per actor, the end of its latest interval and that row's number in the file."""
    kept: int = 1024
    """Size of :attr:`last_end` after it was last pruned (it is pruned at twice that)."""


class ScannedTable:
    """An event table opened for one checked pass over its rows (see :func:`scan_events`)."""

    def __init__(self, path: str | Path, chunk_rows: int = CHUNK_ROWS) -> None:
        source, parquet, metadata, document, found = open_upgraded(path, pre_buffer=False)
        self.path = source
        self.metadata: TableMetadata = metadata
        self.rows = int(parquet.metadata.num_rows)
        """Rows in the file, as its footer says."""
        self._parquet = parquet
        self._document = document
        self._found = found
        self._chunk_rows = chunk_rows

    def chunks(self, columns: list[str] | None = None) -> Iterator[pa.Table]:
        """Every row, in file order, as conformed chunks checked so far; TableError at the
        first breach (the whole-episode checks of an episode run when the episode ends,
        the last one's after the last chunk). `columns`, if given, are the ones yielded
        (all are read and checked)."""
        metadata = self.metadata
        summaries = {summary.episode: summary for summary in metadata.episodes}
        current: _Episode | None = None
        finished: set[int] = set()
        last_key: tuple[int, float, int] | None = None
        first_row = 0
        for table in self._batches():
            table, _ = migrations.upgrade(
                table,
                dict(self._document),
                found=self._found,
                current=SCHEMA_VERSION,
                path=self.path,
            )
            numbers = RowNumbers.offset(first_row)
            table = conform(table, metadata.vocabulary, self.path, numbers)
            check_rows(table, metadata, self.path, whole=(), numbers=numbers)
            n = table.num_rows
            if n:
                episodes = table.column("episode").to_numpy()
                starts = table.column("start").to_numpy()
                seqs = table.column("seq").to_numpy()
                key = (int(episodes[0]), float(starts[0]), int(seqs[0]))
                if last_key is not None and key <= last_key:
                    raise TableError(
                        self.path,
                        f"rows are not ordered by (episode, start, seq): row {first_row} "
                        f"(episode {key[0]}, start {key[1]}, seq {key[2]}) comes after row "
                        f"{first_row - 1} (episode {last_key[0]}, start {last_key[1]}, "
                        f"seq {last_key[2]})",
                        _SORT_FIX,
                    )
                last_key = (int(episodes[-1]), float(starts[-1]), int(seqs[-1]))
                # Episodes are in ascending order (checked above and within the chunk).
                bounds = [0, *(np.flatnonzero(np.diff(episodes)) + 1).tolist(), n]
                for low, high in itertools.pairwise(bounds):
                    k = int(episodes[low])
                    if current is None or current.summary.episode != k:
                        if current is not None:
                            self._finish(current)
                            finished.add(current.summary.episode)
                        current = _Episode(summaries[k])
                        current.seen = np.zeros(current.summary.rows, np.bool_)
                    self._carry(current, table.slice(low, high - low), first_row + low)
            first_row += n
            yield table if columns is None else table.select(columns)
        if current is not None:
            self._finish(current)
            finished.add(current.summary.episode)
        for summary in metadata.episodes:
            if summary.episode not in finished and summary.rows:
                self._finish(_Episode(summary))

    def _batches(self) -> Iterator[pa.Table]:
        parquet = self._parquet
        try:
            for batch in parquet.iter_batches(batch_size=self._chunk_rows, use_threads=True):
                yield pa.Table.from_batches([batch])
        except (pa.ArrowException, OSError) as error:
            raise damaged(parquet, self.path, error) from None

    def _carry(self, episode: _Episode, rows: pa.Table, first_row: int) -> None:
        """Count the rows of one episode in a chunk, mark their seqs, and check each actor's
        first interval here against its last one in an earlier chunk."""
        n = rows.num_rows
        episode.rows += n
        seq = rows.column("seq").to_numpy()
        low, high = int(seq.min()), int(seq.max())
        episode.low = low if episode.low is None else min(low, episode.low)
        episode.high = high if episode.high is None else max(high, episode.high)
        inside = (seq >= 0) & (seq < len(episode.seen))
        if not inside.all():
            episode.outside = True
        marks = seq[inside]
        # A seq seen in an earlier chunk is refused at once. Duplicates within a chunk need
        # no search: n marks then leave some of the n seqs unmarked, which _finish refuses.
        again = np.flatnonzero(episode.seen[marks])
        if len(again):
            raise TableError(
                self.path,
                f"episode {episode.summary.episode}: seq must number its "
                f"{episode.summary.rows} rows 0..{episode.summary.rows - 1} once each; "
                f"seq {int(marks[again[0]])} occurs more than once",
                "set seq to each row's emission index within its episode",
            )
        episode.seen[marks] = True
        # Each actor's first row in this chunk against its last row before it.
        actors = rows.column("actor").combine_chunks().dictionary_encode()
        names: list[str] = actors.dictionary.to_pylist()
        codes = actors.indices.to_numpy(zero_copy_only=False).astype(np.int64)
        starts = rows.column("start").to_numpy()
        ends = rows.column("end").to_numpy()
        # Codes are numbered in order of first appearance: the running maximum rises
        # exactly at each actor's first row.
        first = np.flatnonzero(np.diff(np.maximum.accumulate(codes), prepend=-1) > 0)
        # The latest row of each actor (rows are in start order; the latest ends last).
        last = np.zeros(len(names), np.int64)
        np.maximum.at(last, codes, np.arange(n, dtype=np.int64))
        carried = episode.last_end
        if len(carried) > 2 * episode.kept:
            # Rows come in start order, so an actor whose last interval ended by this
            # chunk's first start can overlap nothing later: forget it. What is kept is
            # then about the actors still in a state, not every actor of the episode.
            earliest = float(starts[0])
            episode.last_end = carried = {
                name: value for name, value in carried.items() if value[0] > earliest
            }
            episode.kept = max(len(carried), 1024)
        for name, row, latest in zip(names, first.tolist(), last.tolist(), strict=True):
            before = carried.get(name)
            if before is not None and starts[row] < before[0]:
                raise TableError(
                    self.path,
                    "intervals of one actor overlap: "
                    f"{describe_row(rows, row, RowNumbers.offset(first_row))} starts before "
                    f"row {before[1]} (its interval before, ending at {before[0]}) ends",
                    _OVERLAP_FIX,
                )
            carried[name] = (float(ends[latest]), first_row + latest)

    def _finish(self, episode: _Episode) -> None:
        """The checks that need all of an episode's rows: its count and its seq numbering."""
        summary = episode.summary
        if episode.rows != summary.rows:
            raise TableError(
                self.path,
                f"episode {summary.episode} has {episode.rows} row(s) in the table but its "
                f"metadata summary (simreel.episodes[].rows) says {summary.rows}",
                "write the row count of each episode into its summary",
            )
        if episode.outside or not episode.seen.all():
            raise TableError(
                self.path,
                f"episode {summary.episode}: seq must number its {summary.rows} rows "
                f"0..{summary.rows - 1} once each; found min {episode.low}, max {episode.high}",
                "set seq to each row's emission index within its episode",
            )


def scan_events(path: str | Path, chunk_rows: int = CHUNK_ROWS) -> ScannedTable:
    """Open an event table for one checked pass over its rows (:meth:`ScannedTable.chunks`).

    The metadata is read and checked now (TableError as
    :func:`~schemas.events.read_events` raises it); the rows when the chunks are read.
    """
    return ScannedTable(path, chunk_rows)
