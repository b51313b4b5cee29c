"""Check an event table against schema v1, column by column, with vectorised pyarrow compute.

Tables may hold millions of rows, so no check loops over rows in Python: each one
builds a boolean "bad" array with :mod:`pyarrow.compute` and reports only the first
offending row (its index, its key columns, expected vs found, and the fix). Loops
run over columns or episodes only.

The rules are those of ``schemas/README.md``; this module is their executable form.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

import pyarrow as pa
import pyarrow.compute as pc

from schemas.errors import TableError
from schemas.metadata import TableMetadata
from schemas.vocabulary import Actor, Declaration, Vocabulary

CORE_COLUMNS: Final[tuple[tuple[str, pa.DataType], ...]] = (
    ("episode", pa.int32()),
    ("seq", pa.int64()),
    ("actor", pa.string()),
    ("state", pa.string()),
    ("start", pa.float64()),
    ("end", pa.float64()),
)
"""The columns every table starts with, in this order; none may hold a null."""

ATTRIBUTE_ARROW_TYPES: Final[dict[str, pa.DataType]] = {
    "int64": pa.int64(),
    "float64": pa.float64(),
    "string": pa.string(),
    "bool": pa.bool_(),
}
"""Arrow type of an attribute column by its declared type."""

_SORT_FIX = "sort the rows by (episode, start, seq) before writing"


def arrow_schema(vocabulary: Vocabulary) -> pa.Schema:
    """The exact Arrow schema of a v1 table for `vocabulary` (without file metadata)."""
    fields = [pa.field(name, type_, nullable=False) for name, type_ in CORE_COLUMNS]
    fields += [
        pa.field(attribute.name, ATTRIBUTE_ARROW_TYPES[attribute.type], nullable=True)
        for attribute in vocabulary.attributes
    ]
    return pa.schema(fields)


def conform(table: pa.Table, vocabulary: Vocabulary, path: str | Path) -> pa.Table:
    """Check the columns' names, order, types and core nulls; return the table in canonical types.

    Strings stored as ``large_string`` or dictionary-encoded become plain ``string``,
    so code downstream sees one type per column.
    """
    schema = arrow_schema(vocabulary)
    expected, found = schema.names, table.column_names
    missing = [name for name in expected if name not in found]
    if missing:
        raise TableError(
            path,
            f"missing column(s) {missing}; a table for this vocabulary has columns {expected}",
            "write every core column and one column per declared attribute (nulls allowed)",
        )
    extra = [name for name in found if name not in expected]
    if extra:
        raise TableError(
            path,
            f"column(s) {extra} are neither core columns nor attributes declared in the "
            f"vocabulary; expected exactly {expected}",
            "declare them as attributes in the metadata vocabulary, or drop them",
        )
    if found != expected:
        raise TableError(
            path,
            f"columns are in the order {found}; expected {expected}",
            "write the core columns first, then the attributes in declaration order",
        )
    for target in schema:
        actual = table.schema.field(target.name).type
        if not _type_fits(actual, target.type):
            raise TableError(
                path,
                f"column {target.name!r} has type {actual}; expected {target.type}",
                f"cast column {target.name!r} to {target.type} before writing",
            )
    for name, _ in CORE_COLUMNS:
        nulls = table.column(name).null_count
        if nulls:
            first = _first(pc.is_null(table.column(name)))
            raise TableError(
                path,
                f"column {name!r} holds {nulls} null(s), the first at row {first}; "
                "core columns may not be null",
                f"give every row a {name}",
            )
    try:
        return table.cast(schema.with_metadata(table.schema.metadata or {}))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as error:
        raise TableError(
            path, f"columns cannot be read as {schema}: {error}", "rewrite the table"
        ) from None


def check_rows(table: pa.Table, metadata: TableMetadata, path: str | Path) -> None:
    """Check every row invariant of a conformed table; raise a TableError at the first breach."""
    _check_times(table, metadata, path)
    _check_vocabulary(table, metadata.vocabulary, path)
    _check_episodes(table, metadata, path)
    _check_order(table, path)
    _check_overlaps(table, path)


def _check_times(table: pa.Table, metadata: TableMetadata, path: str | Path) -> None:
    for name in ("start", "end"):
        column = table.column(name)
        bad = pc.or_(pc.invert(pc.is_finite(column)), pc.less(column, 0.0))
        if (row := _first(bad)) is not None:
            raise TableError(
                path,
                f"{_row(table, row)}: {name} must be a finite number >= 0 (simulated seconds), "
                f"found {column[row].as_py()}",
                "record times as finite, non-negative seconds",
            )
    bad = pc.less(table.column("end"), table.column("start"))
    if (row := _first(bad)) is not None:
        raise TableError(
            path,
            f"{_row(table, row)}: end must be >= start",
            "close each interval at or after the time it opened",
        )


def _check_vocabulary(table: pa.Table, vocabulary: Vocabulary, path: str | Path) -> None:
    """Every actor is declared (by name, or as an instance of a short-lived kind), and every
    state is one of its declaration's states.

    Only the distinct actor names and (actor, state) pairs are checked, so the cost is a
    group-by over the rows plus Python work per distinct pair, not per row.
    """
    pairs = table.select(["actor", "state"]).group_by(["actor", "state"]).aggregate([])
    declarations: dict[str, Declaration | None] = {}
    for actor in pc.unique(pairs.column("actor")).to_pylist():
        try:
            declarations[actor] = vocabulary.declaration(actor)
        except KeyError:
            declarations[actor] = None
    undeclared = sorted(actor for actor, found in declarations.items() if found is None)
    if undeclared:
        row = _first(pc.equal(table.column("actor"), undeclared[0]))
        patterns = [f"{kind.prefix}<n>" for kind in vocabulary.short_lived]
        raise TableError(
            path,
            f"{_row(table, row or 0)}: actor {undeclared[0]!r} is not declared in the "
            f"vocabulary; declared actors: {list(vocabulary.actor_names)}"
            + (f", short-lived instances: {patterns}" if patterns else ""),
            "declare the actor (or its short-lived kind) in the metadata vocabulary, "
            "or drop its rows",
        )
    for actor, state in zip(
        pairs.column("actor").to_pylist(), pairs.column("state").to_pylist(), strict=True
    ):
        declaration = declarations[actor]
        if declaration is not None and state not in declaration.states:
            row = _first(
                pc.and_(
                    pc.equal(table.column("actor"), actor), pc.equal(table.column("state"), state)
                )
            )
            owner = (
                f"actor {actor!r}"
                if isinstance(declaration, Actor)
                else f"actor {actor!r} (short-lived kind {declaration.kind!r})"
            )
            raise TableError(
                path,
                f"{_row(table, row or 0)}: state {state!r} is not declared for {owner}; "
                f"its declared states: {list(declaration.states)}",
                "declare the state for that actor in the metadata vocabulary",
            )


def _check_episodes(table: pa.Table, metadata: TableMetadata, path: str | Path) -> None:
    numbers = [summary.episode for summary in metadata.episodes]
    episode = table.column("episode")
    bad = pc.invert(pc.is_in(episode, value_set=pa.array(numbers, pa.int32())))
    if (row := _first(bad)) is not None:
        raise TableError(
            path,
            f"{_row(table, row)}: episode {episode[row].as_py()} has no entry in metadata "
            f"field simreel.episodes (which lists episodes {numbers})",
            "add a summary for every episode in the table",
        )
    groups = {
        entry["episode"]: entry
        for entry in table.group_by("episode")
        .aggregate([("seq", "count"), ("seq", "min"), ("seq", "max"), ("seq", "count_distinct")])
        .to_pylist()
    }
    for summary in metadata.episodes:
        group: dict[str, Any] = groups.get(summary.episode, {"seq_count": 0})
        rows = group["seq_count"]
        if rows != summary.rows:
            raise TableError(
                path,
                f"episode {summary.episode} has {rows} row(s) in the table but its metadata "
                f"summary (simreel.episodes[].rows) says {summary.rows}",
                "write the row count of each episode into its summary",
            )
        if rows and not (
            group["seq_min"] == 0
            and group["seq_max"] == rows - 1 == group["seq_count_distinct"] - 1
        ):
            raise TableError(
                path,
                f"episode {summary.episode}: seq must number its {rows} rows 0..{rows - 1} "
                f"once each; found min {group['seq_min']}, max {group['seq_max']}, "
                f"{group['seq_count_distinct']} distinct values",
                "set seq to each row's emission index within its episode",
            )
    end_times = pa.array([summary.end_time for summary in metadata.episodes], pa.float64())
    row_end_time = pc.take(end_times, pc.index_in(episode, value_set=pa.array(numbers, pa.int32())))
    bad = pc.greater(table.column("end"), row_end_time)
    if (row := _first(bad)) is not None:
        raise TableError(
            path,
            f"{_row(table, row)}: the interval ends after its episode's end_time "
            f"({row_end_time[row].as_py()})",
            "close every interval by the episode's end_time",
        )


def _check_order(table: pa.Table, path: str | Path) -> None:
    n = table.num_rows
    if n < 2:
        return
    e, s, q = (table.column(name).combine_chunks() for name in ("episode", "start", "seq"))
    e0, e1, s0, s1, q0, q1 = e[:-1], e[1:], s[:-1], s[1:], q[:-1], q[1:]
    in_order = pc.or_(
        pc.greater(e1, e0),
        pc.and_(
            pc.equal(e1, e0),
            pc.or_(pc.greater(s1, s0), pc.and_(pc.equal(s1, s0), pc.greater(q1, q0))),
        ),
    )
    if (row := _first(pc.invert(in_order))) is not None:
        raise TableError(
            path,
            f"rows are not ordered by (episode, start, seq): {_row(table, row + 1)} comes "
            f"after {_row(table, row)}",
            _SORT_FIX,
        )


def _check_overlaps(table: pa.Table, path: str | Path) -> None:
    if table.num_rows < 2:
        return
    order = pc.sort_indices(
        table.select(["episode", "actor", "start", "seq"]),
        sort_keys=[
            ("episode", "ascending"),
            ("actor", "ascending"),
            ("start", "ascending"),
            ("seq", "ascending"),
        ],
    )
    e, a, s, end = (
        pc.take(table.column(name), order).combine_chunks()
        for name in ("episode", "actor", "start", "end")
    )
    same_actor = pc.and_(pc.equal(e[1:], e[:-1]), pc.equal(a[1:], a[:-1]))
    bad = pc.and_(same_actor, pc.less(s[1:], end[:-1]))
    if (i := _first(bad)) is not None:
        first, second = order[i].as_py(), order[i + 1].as_py()
        raise TableError(
            path,
            f"intervals of one actor overlap: {_row(table, second)} starts before "
            f"{_row(table, first)} ends",
            "close an actor's interval before it enters its next state",
        )


def _type_fits(actual: pa.DataType, expected: pa.DataType) -> bool:
    if actual == expected:
        return True
    if expected == pa.string():
        if pa.types.is_large_string(actual):
            return True
        if pa.types.is_dictionary(actual):
            return pa.types.is_string(actual.value_type) or pa.types.is_large_string(
                actual.value_type
            )
    return False


def _first(mask: pa.Array | pa.ChunkedArray) -> int | None:
    """Index of the first True in `mask` (nulls count as False), or None."""
    index = pc.index(pc.fill_null(mask, False), True).as_py()
    return None if index is None or index < 0 else int(index)


def _row(table: pa.Table, row: int) -> str:
    """A short description of one row, for error messages."""
    values = table.select(["episode", "seq", "actor", "state", "start", "end"]).slice(row, 1)
    v = values.to_pylist()[0]
    return (
        f"row {row} (episode {v['episode']}, seq {v['seq']}, actor {v['actor']!r}, "
        f"state {v['state']!r}, start {v['start']}, end {v['end']})"
    )
