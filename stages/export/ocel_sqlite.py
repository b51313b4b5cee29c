"""simreel's own OCEL 2.0 SQLite writer.

The layout is the OCEL 2.0 relational format (ocel-standard.org, "SQLite"): the tables
``event``, ``object``, ``event_object``, ``object_object``, ``event_map_type``,
``object_map_type``, and one ``event_<map>`` / ``object_<map>`` table per type, with the
primary and foreign keys the standard's validation checks. Times are ISO 8601 UTC text
with six decimals (``1970-01-01 00:00:05.250000``) in ``TIMESTAMP`` columns; booleans are
1 and 0.

Rows go in through ``executemany`` from polars iterators (SQLite binds every value: text
from the table is data, never SQL). The file is built with journaling off, inside
:func:`schemas.atomic.atomic_output`: a crash leaves no half database.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Final

import polars as pl

from schemas.atomic import atomic_output
from schemas.errors import ConfigError
from stages.export.model import SQLITE_TYPES, OcelLog, Progress, TypeDeclaration

SQLITE_TIME: Final = "%Y-%m-%d %H:%M:%S%.6f"
"""strftime format of every ``ocel_time``."""
_RESERVED_MAPS: Final = frozenset({"object", "map_type"})
"""Type maps that would name a fixed table (``event_object``, ``object_map_type``...)."""
_STANDARD_COLUMNS: Final = ("ocel_id", "ocel_time", "ocel_changed_field")
"""Columns of every type table; no attribute column may share their names."""
_TABLES: Final = """
CREATE TABLE event_map_type (ocel_type TEXT PRIMARY KEY, ocel_type_map TEXT);
CREATE TABLE object_map_type (ocel_type TEXT PRIMARY KEY, ocel_type_map TEXT);
CREATE TABLE event (
    ocel_id TEXT PRIMARY KEY,
    ocel_type TEXT REFERENCES event_map_type (ocel_type)
);
CREATE TABLE object (
    ocel_id TEXT PRIMARY KEY,
    ocel_type TEXT REFERENCES object_map_type (ocel_type)
);
CREATE TABLE event_object (
    ocel_event_id TEXT REFERENCES event (ocel_id),
    ocel_object_id TEXT REFERENCES object (ocel_id),
    ocel_qualifier TEXT,
    PRIMARY KEY (ocel_event_id, ocel_object_id, ocel_qualifier)
);
CREATE TABLE object_object (
    ocel_source_id TEXT REFERENCES object (ocel_id),
    ocel_target_id TEXT REFERENCES object (ocel_id),
    ocel_qualifier TEXT,
    PRIMARY KEY (ocel_source_id, ocel_target_id, ocel_qualifier)
);
"""


def write_sqlite(log: OcelLog, path: Path, progress: Progress | None = None) -> None:
    """Write `log` to `path` as an OCEL 2.0 SQLite database, atomically.

    `progress` is told the rows of each table as it is filled (event-object relations,
    then each event type's events, then the objects)."""
    done = progress or (lambda _: None)
    event_maps = type_maps([t.name for t in log.event_types])
    object_maps = type_maps([t.name for t in log.object_types])
    for declaration in (*log.event_types, *log.object_types):
        _check_columns(declaration)
    with atomic_output(path) as temporary:
        connection = sqlite3.connect(temporary)
        try:
            connection.executescript(
                "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;" + _TABLES
            )
            connection.executemany("INSERT INTO event_map_type VALUES (?, ?)", event_maps.items())
            connection.executemany("INSERT INTO object_map_type VALUES (?, ?)", object_maps.items())
            connection.executemany(
                "INSERT INTO event VALUES (?, ?)", log.events.select("id", "type").iter_rows()
            )
            connection.executemany(
                "INSERT INTO event_object VALUES (?, ?, ?)",
                log.relations.select("event_id", "object_id", "qualifier").iter_rows(),
            )
            done(log.relations.height)
            for declaration in log.event_types:
                rows = log.events.filter(pl.col("type") == declaration.name).select(
                    "id",
                    pl.col("time").dt.strftime(SQLITE_TIME),
                    *(name for name, _ in declaration.attributes),
                )
                _table(connection, "event_" + event_maps[declaration.name], declaration, rows)
                done(rows.height)
            connection.executemany(
                "INSERT INTO object VALUES (?, ?)", log.objects.select("id", "type").iter_rows()
            )
            for declaration in log.object_types:
                rows = log.object_values[declaration.name].with_columns(
                    pl.col("time").dt.strftime(SQLITE_TIME)
                )
                _table(
                    connection,
                    "object_" + object_maps[declaration.name],
                    declaration,
                    rows,
                    changed_field=True,
                )
            connection.executemany(
                "INSERT INTO object_object VALUES (?, ?, ?)", log.links.iter_rows()
            )
            done(log.objects.height)
            connection.commit()
        finally:
            connection.close()


def type_maps(names: Sequence[str]) -> dict[str, str]:
    """Each type name's ``ocel_type_map``: its letters and digits, runs of anything else as
    one ``_`` (``worker: enter working`` -> ``worker_enter_working``), made unique
    (SQLite table names ignore case) and kept off the fixed tables' names by ``_2``,
    ``_3``..."""
    maps: dict[str, str] = {}
    used = set(_RESERVED_MAPS)
    for name in names:
        base = re.sub(r"[^A-Za-z0-9]+", "_", name).strip("_") or "type"
        candidate, suffix = base, 2
        while candidate.casefold() in used:
            candidate, suffix = f"{base}_{suffix}", suffix + 1
        used.add(candidate.casefold())
        maps[name] = candidate
    return maps


def _table(
    connection: sqlite3.Connection,
    table: str,
    declaration: TypeDeclaration,
    rows: pl.DataFrame,
    *,
    changed_field: bool = False,
) -> None:
    """Create a type's table and fill it with `rows` (in the column order declared)."""
    parent = "object" if changed_field else "event"
    columns = [
        f"ocel_id TEXT {'' if changed_field else 'PRIMARY KEY '}REFERENCES {parent} (ocel_id)",
        "ocel_time TIMESTAMP",
        *(["ocel_changed_field TEXT"] if changed_field else []),
        *(f"{_quote(name)} {SQLITE_TYPES[kind]}" for name, kind in declaration.attributes),
    ]
    connection.execute(f"CREATE TABLE {_quote(table)} ({', '.join(columns)})")
    placeholders = ", ".join("?" * len(columns))
    connection.executemany(f"INSERT INTO {_quote(table)} VALUES ({placeholders})", rows.iter_rows())


def _check_columns(declaration: TypeDeclaration) -> None:
    """Refuse attribute columns SQLite cannot hold beside the standard's: column names
    ignore case, so two KPIs differing only in case clash, and so does an attribute named
    like a standard column (``ocel_time``)."""
    seen = {name: name for name in _STANDARD_COLUMNS}
    for name, _ in declaration.attributes:
        other = seen.setdefault(name.casefold(), name)
        if other != name:
            raise ConfigError(
                f"type {declaration.name!r}: its attribute {name!r} and the column {other!r} "
                "are one column to SQLite (names ignore case); export to .json instead"
            )


def _quote(identifier: str) -> str:
    """`identifier` as an SQL identifier: in double quotes, inner quotes doubled."""
    return '"' + identifier.replace('"', '""') + '"'
