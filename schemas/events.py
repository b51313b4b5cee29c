"""The event table: one Parquet file of intervals (actor, state, start, end) per recording.

The table is the contract between simulation and rendering, so it is written and
read only here, and both directions check the whole of the current schema
(``schemas/README.md``): :func:`write_events` refuses to write a table a reader would
refuse, and :func:`read_events` refuses any file that breaks the schema with a
:class:`~schemas.errors.TableError` naming the file, the row or metadata field,
expected vs found, and the fix. Older schema versions are upgraded on read
(:mod:`schemas.migrations`); newer ones are refused. Every page is written with a
checksum and checked on read (:data:`PAGE_CHECKSUMS`), so a file damaged after it was
written is refused as damaged, naming the row group, not read as other data.

Depends on pyarrow, polars, numpy and the standard library only.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from types import TracebackType
from typing import Any, Final, Protocol, Self

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from schemas import migrations
from schemas.atomic import atomic_output
from schemas.errors import TableError
from schemas.metadata import (
    METADATA_KEY,
    SCHEMA_NAME,
    SCHEMA_VERSION,
    EpisodeSummary,
    OptionValue,
    RowGroupIndex,
    TableMetadata,
    parse_metadata,
    read_document,
    schema_version_of,
)
from schemas.validate import CORE_COLUMNS, RowNumbers, arrow_schema, check_rows, conform
from schemas.vocabulary import Vocabulary

__all__ = [
    "CORE_COLUMNS",
    "METADATA_KEY",
    "SCHEMA_NAME",
    "SCHEMA_VERSION",
    "EpisodeColumns",
    "EpisodeSummary",
    "EventTable",
    "EventWriter",
    "OptionValue",
    "Selection",
    "TableMetadata",
    "arrow_schema",
    "read_events",
    "write_events",
]

COMPRESSION = "zstd"
"""Parquet codec simreel writes; readers accept any codec pyarrow reads."""
PAGE_CHECKSUMS = True
"""Write a CRC-32 of every page (Parquet's page-header ``crc``) and verify it on read, so a
damaged file is refused as damaged instead of decoding as other data; pages without a
checksum (older tables, other writers) are read unchecked."""
ROW_GROUP_ROWS: Final = 65_536
"""Most rows simreel puts in one row group (``schemas/README.md`` section 2.2): an episode
longer than this is cut into time slices of this many rows. A pruned read of a window
reads whole row groups, so this bounds what a still reads beyond what it draws; much
smaller groups would compress worse and swell the footer every reader parses."""


class EpisodeColumns(Protocol):
    """One episode in column form; ``domains.recorder.RecordedEpisode`` matches it.

    Row ``i`` is the ``i``-th interval in emission order (it becomes ``seq = i``).
    """

    @property
    def actor(self) -> Sequence[str]: ...
    @property
    def state(self) -> Sequence[str]: ...
    @property
    def start(self) -> Sequence[float]: ...
    @property
    def end(self) -> Sequence[float]: ...
    @property
    def attributes(self) -> Mapping[str, Sequence[object]]:
        """Attribute name → one value (or None) per row; undeclared names are an error."""

    @property
    def end_time(self) -> float: ...
    @property
    def seed(self) -> int | None: ...
    @property
    def total_reward(self) -> float: ...
    @property
    def kpis(self) -> Mapping[str, float]: ...


@dataclass(frozen=True)
class Selection:
    """What part of a file an :class:`EventTable` holds when it was read pruned
    (:func:`schemas.windows.read_window`): one episode, maybe only a time window of it."""

    episode: int
    window: tuple[float, float] | None
    """(from, to): the table holds exactly the episode's rows with ``start <= to`` and
    ``end >= from``; None: it holds every row of the episode."""
    row_groups: tuple[int, ...]
    """The file's row groups that were read (and checked), ascending."""
    pruned: bool
    """True when row groups were skipped using the layout index and Parquet statistics;
    False when the whole file was read (a table without the layout, section 2.2)."""


@dataclass(frozen=True)
class EventTable:
    """A validated event table in memory: the Arrow table (canonical types) and its metadata.

    A table read from an older schema version has been upgraded: it looks exactly like
    one written today (``metadata.migrated_from`` says what the file held).
    """

    table: pa.Table
    """Rows ordered by (episode, start, seq); strings as plain ``string``; no schema metadata."""
    metadata: TableMetadata
    path: Path | None = None
    """The file it was read from (None if built in memory)."""
    selection: Selection | None = None
    """None: `table` holds every row of the file. Otherwise the part it holds (the metadata
    still describes the whole file)."""

    def episode(self, k: int) -> pa.Table:
        """The rows of episode `k` that the table holds; TableError if the file has no
        episode `k`, or it was read for another episode (see :attr:`selection`)."""
        numbers = [summary.episode for summary in self.metadata.episodes]
        if self.metadata.episode(k) is None:
            raise TableError(
                self.path or "<event table>",
                f"episode {k} is not in the table, which holds episodes {numbers}",
                f"choose one of {numbers}",
            )
        if self.selection is not None and self.selection.episode != k:
            raise TableError(
                self.path or "<event table>",
                f"episode {k} was not read: only episode {self.selection.episode} was",
                f"read episode {k} with schemas.windows.read_window, or the whole table with "
                "read_events",
            )
        if self.selection is not None:
            return self.table
        return self.table.filter(pc.equal(self.table.column("episode"), k))

    def to_polars(self) -> pl.DataFrame:
        """The rows as a polars DataFrame (zero-copy where Arrow allows)."""
        frame = pl.from_arrow(self.table)
        if not isinstance(frame, pl.DataFrame):  # from_arrow returns a Series for arrays only
            raise TypeError(f"expected a DataFrame from the table, got {type(frame).__name__}")
        return frame


def write_events(
    path: str | Path,
    episodes: Sequence[EpisodeColumns],
    *,
    domain_id: str,
    domain_version: int,
    vocabulary: Vocabulary,
    provenance: dict[str, Any],
    domain_options: Mapping[str, OptionValue] | None = None,
    row_group_rows: int = ROW_GROUP_ROWS,
) -> Path:
    """Write `episodes` (episode k = ``episodes[k]``) as an event table at `path`.

    `domain_options` are the domain variant the episodes were simulated with (e.g.
    ``{"dispatcher": "automatic"}``); None or empty for a domain without options.
    `row_group_rows` is for tests, which prove pruning on small tables.

    Checks the table exactly as :func:`read_events` would before publishing anything,
    and writes through a temporary file, so `path` is either the complete new table
    or left as it was (also on Ctrl-C). See :class:`EventWriter` for one episode at a time.
    """
    with EventWriter(
        path,
        domain_id=domain_id,
        domain_version=domain_version,
        vocabulary=vocabulary,
        provenance=provenance,
        domain_options=domain_options,
        row_group_rows=row_group_rows,
    ) as writer:
        for episode in episodes:
            writer.add(episode)
    return writer.path


class EventWriter:
    """Writes an event table one episode at a time, holding only that episode in memory.

    Why: a recording of thousands of episodes, or of one long shift, need not fit in
    memory twice (rows and their Arrow copy) to be written. Each episode is sorted by
    (start, seq) and checked as :func:`read_events` would before its rows are written,
    then written in the layout of ``schemas/README.md`` section 2.2: consecutive row
    groups of at most `row_group_rows` rows that no other episode shares, indexed in the
    metadata's ``layout`` so a reader can read one window of one episode
    (:mod:`schemas.windows`). Use it as a context manager: the table is published when
    the block ends normally; on an exception `path` is left as it was::

        with EventWriter(path, domain_id="shop", domain_version=0, vocabulary=v,
                         provenance={}) as writer:
            for episode in episodes:
                writer.add(episode)
    """

    def __init__(
        self,
        path: str | Path,
        *,
        domain_id: str,
        domain_version: int,
        vocabulary: Vocabulary,
        provenance: Mapping[str, Any],
        domain_options: Mapping[str, OptionValue] | None = None,
        row_group_rows: int = ROW_GROUP_ROWS,
    ) -> None:
        if isinstance(row_group_rows, bool) or row_group_rows < 1:
            raise ValueError(f"row_group_rows ({row_group_rows}) must be a positive integer")
        self.path = Path(path)
        self._rows_per_group = int(row_group_rows)
        self._header = TableMetadata(
            schema_version=SCHEMA_VERSION,
            domain_id=domain_id,
            domain_version=domain_version,
            vocabulary=vocabulary,
            episodes=(),
            provenance=dict(provenance),
            domain_options=dict(domain_options or {}),
        )
        # Refuse metadata the reader would refuse before simulating or writing anything.
        self._text(self._header)
        self._schema = arrow_schema(vocabulary)
        self._summaries: list[EpisodeSummary] = []
        self._groups: list[tuple[int, int]] = []
        self._rows = 0
        self._stack = contextlib.ExitStack()
        self._writer: pq.ParquetWriter | None = None

    def __enter__(self) -> Self:
        temporary = self._stack.enter_context(atomic_output(self.path))
        self._writer = pq.ParquetWriter(
            temporary,
            self._schema,
            compression=COMPRESSION,
            write_page_checksum=PAGE_CHECKSUMS,
            # The metadata is known only at the end (the episodes' summaries and row
            # groups) and goes into the footer then. A stored Arrow schema would carry
            # its own, empty, copy that pyarrow prefers on read, so tools that round-trip
            # tables through pyarrow would lose the metadata; the columns' Parquet types
            # and REQUIRED flags say all the Arrow schema would.
            store_schema=False,
        )
        self._stack.callback(self._writer.close)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> bool | None:
        if error is None and self._writer is not None:
            try:
                self._writer.add_key_value_metadata({METADATA_KEY: self._text(self.metadata)})
            except BaseException as failure:  # unwinding discards the partial file
                self._stack.__exit__(type(failure), failure, failure.__traceback__)
                raise
        return self._stack.__exit__(kind, error, traceback)

    @property
    def metadata(self) -> TableMetadata:
        """The metadata of the episodes written so far, with their row-group index."""
        return replace(
            self._header,
            episodes=tuple(self._summaries),
            layout=RowGroupIndex(row_group_rows=self._rows_per_group, episodes=tuple(self._groups)),
        )

    def add(self, episode: EpisodeColumns) -> EpisodeSummary:
        """Check and write the next episode (numbered from 0 in the order added)."""
        k = len(self._summaries)
        table = _episode_table(k, episode, self._header.vocabulary, self.path)
        summary = EpisodeSummary(
            episode=k,
            seed=None if episode.seed is None else int(episode.seed),
            total_reward=float(episode.total_reward),
            end_time=float(episode.end_time),
            rows=len(episode.actor),
            kpis={str(name): float(value) for name, value in episode.kpis.items()},
        )
        return self._write(table, summary)

    def add_rows(
        self,
        rows: pa.Table,
        *,
        end_time: float,
        seed: int | None = None,
        total_reward: float = 0.0,
        kpis: Mapping[str, float] | None = None,
    ) -> EpisodeSummary:
        """Check and write the next episode given as Arrow columns: ``actor``, ``state``,
        ``start``, ``end`` and any declared attributes (a missing one is all null), one row
        per interval in emission order (row i becomes ``seq = i``).

        Why: a producer that builds columns with Arrow or numpy (a synthetic benchmark
        table of millions of rows) skips the Python lists :meth:`add` takes."""
        k = len(self._summaries)
        n = rows.num_rows
        columns: dict[str, Any] = {
            "episode": pa.array(np.full(n, k, np.int32)),
            "seq": pa.array(np.arange(n, dtype=np.int64)),
        }
        arrays = []
        for target in self._schema:
            if target.name in columns:
                arrays.append(columns[target.name])
            elif target.name in rows.column_names:
                arrays.append(rows.column(target.name))
            else:
                arrays.append(pa.nulls(n, target.type))
        undeclared = sorted(set(rows.column_names) - set(self._schema.names))
        if undeclared:
            raise TableError(
                self.path,
                f"episode {k}: column(s) {undeclared} are not declared in the vocabulary "
                f"(columns: {self._schema.names})",
                "declare them as attributes in the domain's vocabulary, or drop them",
            )
        table = pa.Table.from_arrays(arrays, names=self._schema.names)
        summary = EpisodeSummary(
            episode=k,
            seed=seed,
            total_reward=float(total_reward),
            end_time=float(end_time),
            rows=n,
            kpis={str(name): float(value) for name, value in (kpis or {}).items()},
        )
        return self._write(table, summary)

    def _write(self, table: pa.Table, summary: EpisodeSummary) -> EpisodeSummary:
        if self._writer is None:
            raise RuntimeError("EventWriter writes inside a `with` block only")
        vocabulary = self._header.vocabulary
        # Recorders emit in time order already; sorting makes any producer's rows valid.
        table = table.sort_by([("start", "ascending"), ("seq", "ascending")])
        self._text(replace(self._header, episodes=(summary,)))
        table = conform(table, vocabulary, self.path)
        check_rows(
            table,
            replace(self._header, episodes=(summary,)),
            self.path,
            numbers=RowNumbers.offset(self._rows),
        )
        first = sum(count for _, count in self._groups)
        count = math.ceil(table.num_rows / self._rows_per_group)
        if count:
            # One call per episode: pyarrow starts a new row group at every call, so no
            # group is shared with the previous episode.
            self._writer.write_table(
                table.replace_schema_metadata(None), row_group_size=self._rows_per_group
            )
        self._groups.append((first if count else 0, count))
        self._summaries.append(summary)
        self._rows += table.num_rows
        return summary

    def _text(self, metadata: TableMetadata) -> str:
        """`metadata` as the strict JSON the reader accepts, or the TableError it would raise."""
        try:
            text = metadata.dumps()
        except (TypeError, ValueError, RecursionError) as error:
            raise TableError(
                self.path,
                f"the metadata cannot be stored as strict JSON: {error}",
                "pass only JSON values (finite numbers, strings, lists, objects) in the "
                "provenance, rewards, KPIs and domain options",
            ) from None
        # Round-trip through the reader's own checks (size, depth, every field), so the
        # writer cannot produce metadata the reader rejects (e.g. an empty domain id).
        parse_metadata(self.path, read_document(self.path, text.encode("utf-8")))
        return text


def read_events(path: str | Path) -> EventTable:
    """Read and check an event table of any supported schema version.

    Raises TableError (never a traceback from pyarrow) for a missing, truncated or
    non-Parquet file, missing or malformed metadata, a newer schema version, and any
    breach of the column layout or row invariants. Every row is read and checked; to
    read one episode or a window of it, see :mod:`schemas.windows`.
    """
    source, parquet, document, found = open_parquet(path)
    try:
        table = parquet.read()
    except (pa.ArrowException, OSError) as error:
        raise damaged(parquet, source, error) from None
    table, document = migrations.upgrade(
        table, document, found=found, current=SCHEMA_VERSION, path=source
    )
    metadata = parse_metadata(
        source, document, migrated_from=found if found < SCHEMA_VERSION else None
    )
    table = conform(table, metadata.vocabulary, source)
    check_rows(table, metadata, source)
    return EventTable(table=table.replace_schema_metadata(None), metadata=metadata, path=source)


def open_upgraded(
    path: str | Path, *, pre_buffer: bool = True
) -> tuple[Path, pq.ParquetFile, TableMetadata, dict[str, Any], int]:
    """:func:`open_parquet`, then the metadata upgraded to the current schema and checked.

    Returns the path, the open file, the checked metadata, the raw document and the
    version the file declares; still no rows are read. Migrations upgrade a table and
    its document together: the file's empty schema stands for the rows, which are
    upgraded as they are read.
    """
    source, parquet, document, found = open_parquet(path, pre_buffer=pre_buffer)
    _, upgraded = migrations.upgrade(
        parquet.schema_arrow.empty_table(),
        dict(document),
        found=found,
        current=SCHEMA_VERSION,
        path=source,
    )
    metadata = parse_metadata(
        source, upgraded, migrated_from=found if found < SCHEMA_VERSION else None
    )
    return source, parquet, metadata, document, found


def open_parquet(
    path: str | Path, *, pre_buffer: bool = True
) -> tuple[Path, pq.ParquetFile, dict[str, Any], int]:
    """Open a table's Parquet file and decode its metadata document, reading no rows.

    Returns the path, the open file (verifying page checksums as it reads), the raw
    document and the schema version it declares. `pre_buffer` False for a reader that
    streams the whole file: pyarrow would otherwise buffer every row group's bytes
    ahead of the batches it yields (hundreds of MB for 10^7 rows).

    Raises TableError for a missing or unreadable file, missing or malformed metadata
    and a newer schema version, which is refused before any column is touched: its
    layout may not even load.
    """
    source = Path(path)
    if not source.is_file():
        raise TableError(
            source,
            "no such file" if not source.exists() else "is not a file",
            "check the path, or record a table with `simreel record`",
        )
    try:
        parquet = pq.ParquetFile(
            source, page_checksum_verification=PAGE_CHECKSUMS, pre_buffer=pre_buffer
        )
        key_values = parquet.metadata.metadata or {}
    except (pa.ArrowException, OSError) as error:
        raise TableError(
            source,
            f"is not a readable Parquet file ({_first_line(error)})",
            "the file is truncated or not Parquet; re-record or re-copy it",
        ) from None
    document = read_document(source, key_values.get(METADATA_KEY.encode()))
    found = schema_version_of(source, document)
    migrations.refuse_newer(found, current=SCHEMA_VERSION, path=source)
    return source, parquet, document, found


def _episode_table(k: int, episode: EpisodeColumns, vocabulary: Vocabulary, path: Path) -> pa.Table:
    """Columns of one episode in the table layout (not yet sorted or validated)."""
    n = len(episode.actor)
    lengths = {
        "actor": n,
        "state": len(episode.state),
        "start": len(episode.start),
        "end": len(episode.end),
        **{name: len(values) for name, values in episode.attributes.items()},
    }
    if set(lengths.values()) != {n}:
        raise TableError(
            path,
            f"episode {k}: its columns have different lengths {lengths}",
            "give every column one value per interval (None for a missing attribute)",
        )
    undeclared = sorted(set(episode.attributes) - set(vocabulary.attribute_names))
    if undeclared:
        raise TableError(
            path,
            f"episode {k}: attribute(s) {undeclared} are not declared in the vocabulary "
            f"(declared: {list(vocabulary.attribute_names)})",
            "declare them in the domain's vocabulary",
        )
    schema = arrow_schema(vocabulary)
    columns: dict[str, Any] = {
        "episode": [k] * n,
        "seq": range(n),
        "actor": episode.actor,
        "state": episode.state,
        "start": episode.start,
        "end": episode.end,
    }
    arrays = []
    for field in schema:
        values = columns.get(field.name, episode.attributes.get(field.name, [None] * n))
        try:
            arrays.append(pa.array(values, type=field.type))
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, OverflowError) as error:
            raise TableError(
                path,
                f"episode {k}: column {field.name!r} cannot be stored as {field.type} "
                f"({_first_line(error)})",
                f"give {field.name!r} values of type {field.type} (or None)",
            ) from None
    return pa.Table.from_arrays(arrays, schema=pa.schema([f.with_nullable(True) for f in schema]))


def damaged(
    parquet: pq.ParquetFile,
    source: Path,
    error: BaseException,
    suspects: Sequence[int] | None = None,
) -> TableError:
    """The error for column data that cannot be read, naming the first damaged row group
    (`error` is what the failed read raised; `suspects` the row groups it read, ascending,
    None for all).

    The footer was readable, so the file was complete when written: unreadable pages
    mean it was damaged afterwards (disk, copy, transfer), and the writer is not to blame.
    """
    groups = parquet.metadata.num_row_groups
    starts = [0]
    for index in range(groups):
        starts.append(starts[-1] + parquet.metadata.row_group(index).num_rows)
    for index in range(groups) if suspects is None else suspects:
        first_row, rows = starts[index], starts[index + 1] - starts[index]
        try:
            parquet.read_row_group(index)
        except (pa.ArrowException, OSError) as group_error:
            reason = (
                "a page's checksum does not match its bytes"
                if "checksum" in str(group_error).lower()
                else f"its pages cannot be decoded ({_first_line(group_error)})"
            )
            return TableError(
                source,
                f"is damaged at row group {index} (counted from 0, of {groups}; rows "
                f"{first_row} to {first_row + rows - 1}): {reason}",
                "the file changed after it was written; re-copy it from a good copy, "
                "or re-record it",
            )
    return TableError(
        source,
        f"its column data cannot be read ({_first_line(error)})",
        "the file is damaged; re-copy it from a good copy, or re-record it",
    )


def _first_line(error: BaseException) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
