"""Read one episode of an event table, or one time window of it, without the rest.

A still of episode 1,734 out of thousands, or ten seconds of a long shift, needs a
sliver of the table. A table in the layout of ``schemas/README.md`` section 2.2 (every
table simreel writes) says in its metadata which consecutive row groups hold each
episode (:class:`~schemas.metadata.RowGroupIndex`), and its rows are sorted by
(episode, start, seq), so each row group's Parquet statistics bound its intervals'
times. A window ``[from, to]`` needs the intervals with ``start <= to`` and
``end >= from`` (those that show in it, including the ones already open when it
begins), so :func:`EventFile.read` reads only the episode's row groups whose minimum
``start`` is ``<= to`` and whose maximum ``end`` is ``>= from``: the footer decides,
no row is decoded to decide.

What is read is checked as :func:`~schemas.events.read_events` checks a whole table
(columns, types, every row invariant on the rows read); the invariants that need the
whole episode (its row count, its ``seq`` numbering) are checked when the whole episode
was read. simreel checked every row when it wrote the table, and page checksums refuse
a file damaged since, so a pruned read trusts the rows it skips. A table without the
layout (written by hand, by polars, by an older simreel) or whose index does not match
its footer is read whole and checked whole, as before: slower, never wrong.

Depends on pyarrow and the schemas package only.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from schemas import migrations
from schemas.errors import TableError
from schemas.events import (
    SCHEMA_VERSION,
    EventTable,
    Selection,
    damaged,
    open_upgraded,
    read_events,
)
from schemas.metadata import EpisodeSummary, RowGroupIndex, TableMetadata
from schemas.validate import RowNumbers, check_rows, conform

__all__ = ["EventFile", "open_events"]


@dataclass(frozen=True)
class _GroupBounds:
    """What a row group's footer says about its rows' times (None where no statistics)."""

    index: int
    first_row: int
    """The group's first row, counted from 0 in the file."""
    rows: int
    start_min: float | None
    end_max: float | None

    def may_show(self, window: tuple[float, float]) -> bool:
        """Whether the group can hold an interval with ``start <= to`` and ``end >= from``."""
        low, high = window
        if self.start_min is not None and self.start_min > high:
            return False
        return not (self.end_max is not None and self.end_max < low)


class EventFile:
    """An open event table whose metadata is read and checked, and whose rows are not yet.

    Get one with :func:`open_events`; :meth:`read` then reads one episode or a window of
    it. The Parquet file stays open while the object lives.
    """

    def __init__(
        self,
        path: Path,
        parquet: pq.ParquetFile,
        metadata: TableMetadata,
        document: dict[str, Any],
        found: int,
    ) -> None:
        self.path = path
        self.metadata = metadata
        """The whole table's metadata, upgraded to the current schema version."""
        self._parquet = parquet
        self._document = document
        """The metadata document as the file holds it, for the migrations of each read."""
        self._found = found

    def read(self, episode: int, window: tuple[float, float] | None = None) -> EventTable:
        """The rows of `episode` that show in `window` = (from, to), as a checked
        :class:`EventTable` whose :attr:`~EventTable.selection` says what was read.

        The table holds every row of the episode when `window` is None, when every row
        group of the episode had to be read anyway (a short episode is one row group:
        painters then see the whole episode for free), or when the file has no usable
        layout index (it was read whole). Otherwise it holds exactly the rows with
        ``start <= to`` and ``end >= from``. TableError for an episode the table does
        not hold and for any breach of the schema in what was read; ValueError for a
        window that is not two finite numbers in order (the caller's to check: the
        render command refuses such options before reading).
        """
        summary = self._summary(episode)
        if window is not None:
            low, high = (float(value) for value in window)
            if not (math.isfinite(low) and math.isfinite(high) and low <= high):
                raise ValueError(f"the window {window} must be two finite numbers, from <= to")
            window = (low, high)
        groups = self._episode_groups(summary)
        if groups is None:
            return self._read_whole(episode)
        wanted = [g for g in groups if window is None or g.may_show(window)]
        whole = len(wanted) == len(groups)
        table = self._read_groups(wanted, whole_episode=episode if whole else None)
        if not whole and window is not None:
            low, high = window
            keep = pc.and_(
                pc.less_equal(table.column("start"), high),
                pc.greater_equal(table.column("end"), low),
            )
            table = table.filter(keep)
        selection = Selection(
            episode=episode,
            window=None if whole else window,
            row_groups=tuple(g.index for g in wanted),
            pruned=True,
        )
        return EventTable(table=table, metadata=self.metadata, path=self.path, selection=selection)

    def row_groups(self) -> int:
        """How many row groups the file has (to report what a read skipped)."""
        return int(self._parquet.metadata.num_row_groups)

    def close(self) -> None:
        """Close the Parquet file (also done when the object is collected)."""
        self._parquet.close()

    # -- internals -------------------------------------------------------------------

    def _summary(self, episode: int) -> EpisodeSummary:
        summary = self.metadata.episode(episode)
        if summary is None:
            numbers = [s.episode for s in self.metadata.episodes]
            raise TableError(
                self.path,
                f"episode {episode} is not in the table, which holds episodes {numbers}",
                f"choose one of {numbers}",
            )
        return summary

    def _episode_groups(self, summary: EpisodeSummary) -> list[_GroupBounds] | None:
        """The row groups of the episode per the layout index, or None when the file has
        no index or its footer contradicts it (then the file is read whole)."""
        layout = self.metadata.layout
        if layout is None or not _index_fits_footer(layout, self._parquet.metadata):
            return None
        position = self.metadata.episodes.index(summary)
        first, count = layout.episodes[position]
        footer = self._parquet.metadata
        columns = {name: self._parquet.schema_arrow.get_field_index(name) for name in _STATS}
        if min(columns.values()) < 0:
            return None
        first_row = sum(footer.row_group(g).num_rows for g in range(first))
        bounds = []
        for index in range(first, first + count):
            group = footer.row_group(index)
            episode = (
                _statistic(group, columns["episode"], "min"),
                _statistic(group, columns["episode"], "max"),
            )
            if any(value is not None and value != summary.episode for value in episode):
                return None
            bounds.append(
                _GroupBounds(
                    index=index,
                    first_row=first_row,
                    rows=group.num_rows,
                    start_min=_statistic(group, columns["start"], "min"),
                    end_max=_statistic(group, columns["end"], "max"),
                )
            )
            first_row += group.num_rows
        if sum(bound.rows for bound in bounds) != summary.rows:
            return None
        return bounds

    def _read_groups(
        self, groups: Sequence[_GroupBounds], *, whole_episode: int | None
    ) -> pa.Table:
        """The rows of `groups`, upgraded, conformed and checked (row numbers as in the file)."""
        indices = [g.index for g in groups]
        try:
            table = (
                self._parquet.read_row_groups(indices)
                if indices
                else self._parquet.schema_arrow.empty_table()
            )
        except (pa.ArrowException, OSError) as error:
            raise damaged(self._parquet, self.path, error, indices) from None
        table, _ = migrations.upgrade(
            table, dict(self._document), found=self._found, current=SCHEMA_VERSION, path=self.path
        )
        starts, file_rows, offset = [], [], 0
        for group in groups:
            starts.append(offset)
            file_rows.append(group.first_row)
            offset += group.rows
        numbers = RowNumbers(tuple(starts) or (0,), tuple(file_rows) or (0,))
        table = conform(table, self.metadata.vocabulary, self.path, numbers)
        check_rows(
            table,
            self.metadata,
            self.path,
            whole=() if whole_episode is None else (whole_episode,),
            numbers=numbers,
        )
        return table.replace_schema_metadata(None)

    def _read_whole(self, episode: int) -> EventTable:
        """A table without a usable layout: read and check all of it, keep the episode."""
        events = read_events(self.path)
        selection = Selection(
            episode=episode,
            window=None,
            row_groups=tuple(range(self.row_groups())),
            pruned=False,
        )
        return EventTable(
            table=events.episode(episode),
            metadata=events.metadata,
            path=self.path,
            selection=selection,
        )


_STATS = ("episode", "start", "end")
"""The columns whose row-group statistics locate an episode's intervals in time."""


def open_events(path: str | Path) -> EventFile:
    """Open an event table and check its metadata, reading no rows.

    Raises TableError for a missing or unreadable file, malformed metadata or a newer
    schema version (as :func:`~schemas.events.read_events` would, before any column).
    """
    source, parquet, metadata, document, found = open_upgraded(path)
    return EventFile(source, parquet, metadata, document, found)


def _index_fits_footer(layout: RowGroupIndex, footer: pq.FileMetaData) -> bool:
    """Whether the index's row groups are the file's, each episode's consecutive and the
    episodes' in order (checked on the index alone: one pass over the episodes)."""
    expected = 0
    for first, count in layout.episodes:
        if count == 0:
            continue
        if first != expected:
            return False
        expected = first + count
    return expected == footer.num_row_groups


def _statistic(group: pq.RowGroupMetaData, column: int, which: str) -> float | None:
    """The row group's min or max of `column`, None when the footer holds none (a writer
    may omit statistics; NaN never enters them)."""
    statistics = group.column(column).statistics
    if statistics is None or not statistics.has_min_max:
        return None
    value = statistics.min if which == "min" else statistics.max
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
