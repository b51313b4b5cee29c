"""Support for the event-table tests (no tests here): a small valid table built with pyarrow."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from schemas.metadata import SCHEMA_VERSION

VOCABULARY_JSON: dict[str, Any] = {
    "actors": [
        {"name": "a", "kind": "clerk", "states": ["x", "y"]},
        {"name": "b", "kind": "counter", "states": ["z"]},
    ],
    "attributes": [
        {"name": "n", "type": "int64", "description": "a number"},
        {"name": "label", "type": "string"},
    ],
}

SCHEMA = pa.schema(
    [
        pa.field("episode", pa.int32(), nullable=False),
        pa.field("seq", pa.int64(), nullable=False),
        pa.field("actor", pa.string(), nullable=False),
        pa.field("state", pa.string(), nullable=False),
        pa.field("start", pa.float64(), nullable=False),
        pa.field("end", pa.float64(), nullable=False),
        pa.field("n", pa.int64()),
        pa.field("label", pa.string()),
    ]
)

# episode, seq, actor, state, start, end, n, label
ROWS: list[tuple[Any, ...]] = [
    (0, 0, "a", "x", 0.0, 2.0, 1, None),
    (0, 1, "b", "z", 0.0, 10.0, 0, None),
    (0, 2, "a", "y", 2.0, 2.0, None, "instant"),
    (0, 3, "a", "x", 2.0, 10.0, None, "hi"),
    (1, 0, "a", "x", 0.0, 10.0, 7, None),
]


def metadata_json(**changes: Any) -> dict[str, Any]:
    """A valid metadata document of the current version for :data:`ROWS`, with top-level
    keys replaced by `changes`."""
    document: dict[str, Any] = {
        "schema": "simreel.events",
        "schema_version": SCHEMA_VERSION,
        "domain": {"id": "toy", "version": 3, "options": {}},
        "vocabulary": copy.deepcopy(VOCABULARY_JSON),
        "episodes": [
            {
                "episode": 0,
                "seed": 11,
                "total_reward": 1.5,
                "end_time": 10.0,
                "rows": 4,
                "kpis": {"done": 2.0},
            },
            {"episode": 1, "seed": 12, "total_reward": 0.0, "end_time": 10.0, "rows": 1},
        ],
        "provenance": {"writer": "tests"},
    }
    document.update(changes)
    return document


def valid_table() -> pa.Table:
    columns = list(zip(*ROWS, strict=True))
    return pa.Table.from_arrays(
        [pa.array(values, field.type) for values, field in zip(columns, SCHEMA, strict=True)],
        schema=SCHEMA,
    )


def write_raw(
    path: Path, table: pa.Table | None = None, metadata: dict[str, Any] | bytes | None = None
) -> Path:
    """Write `table` (default: the valid one) with `metadata` as the simreel key (None: no key)."""
    table = valid_table() if table is None else table
    if metadata is None:
        key_values = {}
    elif isinstance(metadata, bytes):
        key_values = {b"simreel": metadata}
    else:
        key_values = {b"simreel": json.dumps(metadata).encode()}
    pq.write_table(table.replace_schema_metadata(key_values), path)
    return path


def with_column(table: pa.Table, name: str, values: list[Any], type_: pa.DataType) -> pa.Table:
    """`table` with column `name` replaced by `values` of `type_` (nullable)."""
    index = table.schema.get_field_index(name)
    return table.set_column(index, pa.field(name, type_), pa.array(values, type_))


# -- short-lived kinds -------------------------------------------------------------------

VISITORS_JSON: dict[str, Any] = {
    "actors": [{"name": "desk", "kind": "desk", "states": ["open", "closed"]}],
    "short_lived": [{"kind": "visitor", "prefix": "visitor_", "states": ["waiting", "seen"]}],
    "attributes": [],
}
"""A vocabulary with one named actor and one short-lived kind, and no attributes."""

CORE_SCHEMA = pa.schema(SCHEMA.field(i) for i in range(6))


def core_table(rows: list[tuple[Any, ...]]) -> pa.Table:
    """A table of the core columns only: (episode, seq, actor, state, start, end) per row."""
    columns: list[tuple[Any, ...]] = (
        list(zip(*rows, strict=True)) if rows else [() for _ in CORE_SCHEMA]
    )
    return pa.Table.from_arrays(
        [pa.array(values, field.type) for values, field in zip(columns, CORE_SCHEMA, strict=True)],
        schema=CORE_SCHEMA,
    )


def core_metadata(
    rows: list[tuple[Any, ...]], vocabulary: dict[str, Any], end_time: float = 10.0
) -> dict[str, Any]:
    """A metadata document for `rows` (as :func:`core_table` takes them): one summary per
    episode found in the rows, each ending at `end_time`."""
    counts: dict[int, int] = {}
    for row in rows:
        counts[row[0]] = counts.get(row[0], 0) + 1
    episodes = [
        {"episode": number, "end_time": end_time, "rows": count}
        for number, count in sorted(counts.items())
    ]
    return metadata_json(vocabulary=copy.deepcopy(vocabulary), episodes=episodes)
