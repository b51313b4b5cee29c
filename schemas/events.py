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

Depends on pyarrow, polars and the standard library only.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

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
    TableMetadata,
    parse_metadata,
    read_document,
    schema_version_of,
)
from schemas.validate import CORE_COLUMNS, arrow_schema, check_rows, conform
from schemas.vocabulary import Vocabulary

__all__ = [
    "CORE_COLUMNS",
    "METADATA_KEY",
    "SCHEMA_NAME",
    "SCHEMA_VERSION",
    "EpisodeColumns",
    "EpisodeSummary",
    "EventTable",
    "OptionValue",
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

    def episode(self, k: int) -> pa.Table:
        """The rows of episode `k`; TableError if the table has no episode `k`."""
        if self.metadata.episode(k) is None:
            numbers = [summary.episode for summary in self.metadata.episodes]
            raise TableError(
                self.path or "<event table>",
                f"episode {k} is not in the table, which holds episodes {numbers}",
                f"choose one of {numbers}",
            )
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
) -> Path:
    """Write `episodes` (episode k = ``episodes[k]``) as an event table at `path`.

    `domain_options` are the domain variant the episodes were simulated with (e.g.
    ``{"dispatcher": "automatic"}``); None or empty for a domain without options.

    Checks the table exactly as :func:`read_events` would before writing anything,
    and writes through a temporary file, so `path` is either the complete new table
    or left as it was (also on Ctrl-C).
    """
    target = Path(path)
    table = (
        pa.concat_tables(
            [_episode_table(k, episode, vocabulary, target) for k, episode in enumerate(episodes)]
        )
        if episodes
        else arrow_schema(vocabulary).empty_table()
    )
    # Recorders emit in time order already; sorting makes any producer's rows valid.
    table = table.sort_by([("episode", "ascending"), ("start", "ascending"), ("seq", "ascending")])
    summaries = tuple(
        EpisodeSummary(
            episode=k,
            seed=None if episode.seed is None else int(episode.seed),
            total_reward=float(episode.total_reward),
            end_time=float(episode.end_time),
            rows=len(episode.actor),
            kpis={str(name): float(value) for name, value in episode.kpis.items()},
        )
        for k, episode in enumerate(episodes)
    )
    metadata = TableMetadata(
        schema_version=SCHEMA_VERSION,
        domain_id=domain_id,
        domain_version=domain_version,
        vocabulary=vocabulary,
        episodes=summaries,
        provenance=dict(provenance),
        domain_options=dict(domain_options or {}),
    )
    try:
        text = metadata.dumps()
    except (TypeError, ValueError) as error:
        raise TableError(
            target,
            f"the metadata cannot be stored as strict JSON: {error}",
            "pass only JSON values (finite numbers, strings, lists, objects) in the "
            "provenance, rewards, KPIs and domain options",
        ) from None
    # Round-trip through the reader's parser so the writer cannot produce metadata
    # the reader rejects (e.g. an empty domain id).
    parse_metadata(target, json.loads(text))
    table = conform(table, vocabulary, target)
    check_rows(table, metadata, target)
    table = table.replace_schema_metadata({METADATA_KEY: text})
    with atomic_output(target) as temporary:
        pq.write_table(
            table, temporary, compression=COMPRESSION, write_page_checksum=PAGE_CHECKSUMS
        )
    return target


def read_events(path: str | Path) -> EventTable:
    """Read and check an event table of any supported schema version.

    Raises TableError (never a traceback from pyarrow) for a missing, truncated or
    non-Parquet file, missing or malformed metadata, a newer schema version, and any
    breach of the column layout or row invariants.
    """
    source = Path(path)
    if not source.is_file():
        raise TableError(
            source,
            "no such file" if not source.exists() else "is not a file",
            "check the path, or record a table with `simreel record`",
        )
    try:
        parquet = pq.ParquetFile(source, page_checksum_verification=PAGE_CHECKSUMS)
        key_values = parquet.metadata.metadata or {}
    except (pa.ArrowException, OSError) as error:
        raise TableError(
            source,
            f"is not a readable Parquet file ({_first_line(error)})",
            "the file is truncated or not Parquet; re-record or re-copy it",
        ) from None
    document = read_document(source, key_values.get(METADATA_KEY.encode()))
    found = schema_version_of(source, document)
    # Refuse a newer version before touching the columns: its layout may not even load.
    migrations.refuse_newer(found, current=SCHEMA_VERSION, path=source)
    try:
        table = parquet.read()
    except (pa.ArrowException, OSError) as error:
        raise _damaged(parquet, source, error) from None
    table, document = migrations.upgrade(
        table, document, found=found, current=SCHEMA_VERSION, path=source
    )
    metadata = parse_metadata(
        source, document, migrated_from=found if found < SCHEMA_VERSION else None
    )
    table = conform(table, metadata.vocabulary, source)
    check_rows(table, metadata, source)
    return EventTable(table=table.replace_schema_metadata(None), metadata=metadata, path=source)


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


def _damaged(parquet: pq.ParquetFile, source: Path, error: BaseException) -> TableError:
    """The error for column data that cannot be read, naming the first damaged row group.

    The footer was readable, so the file was complete when written: unreadable pages
    mean it was damaged afterwards (disk, copy, transfer), and the writer is not to blame.
    """
    groups = parquet.metadata.num_row_groups
    first_row = 0
    for index in range(groups):
        rows = parquet.metadata.row_group(index).num_rows
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
        first_row += rows
    return TableError(
        source,
        f"its column data cannot be read ({_first_line(error)})",
        "the file is damaged; re-copy it from a good copy, or re-record it",
    )


def _first_line(error: BaseException) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
