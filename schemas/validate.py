"""Check an event table against the current schema, column by column, with vectorised compute.

Tables may hold millions of rows, so no check loops over rows in Python: each one
builds a boolean "bad" array with :mod:`pyarrow.compute` and reports only the first
offending row (its index, its key columns, expected vs found, and the fix). Loops
run over columns or episodes only.

The rules are those of ``schemas/README.md``; this module is their executable form.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Collection
from dataclasses import dataclass
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


@dataclass(frozen=True)
class RowNumbers:
    """Maps a row of a table read in pieces (some row groups, or one episode) to its row in
    the file, so an error names the row a user finds with any Parquet tool.

    Piece ``k`` starts at row ``starts[k]`` of the table read and at row ``file_rows[k]``
    of the file; rows within a piece are consecutive in both.
    """

    starts: tuple[int, ...] = (0,)
    file_rows: tuple[int, ...] = (0,)

    @classmethod
    def offset(cls, first: int) -> RowNumbers:
        """Numbers for a table that is the file's rows from `first` on, in one piece."""
        return cls((0,), (first,))

    def __call__(self, row: int) -> int:
        piece = max(0, bisect_right(self.starts, row) - 1)
        return self.file_rows[piece] + row - self.starts[piece]


_FILE_ORDER = RowNumbers()


def arrow_schema(vocabulary: Vocabulary) -> pa.Schema:
    """The exact Arrow schema of a table for `vocabulary` (without file metadata)."""
    fields = [pa.field(name, type_, nullable=False) for name, type_ in CORE_COLUMNS]
    fields += [
        pa.field(attribute.name, ATTRIBUTE_ARROW_TYPES[attribute.type], nullable=True)
        for attribute in vocabulary.attributes
    ]
    return pa.schema(fields)


def conform(
    table: pa.Table, vocabulary: Vocabulary, path: str | Path, numbers: RowNumbers = _FILE_ORDER
) -> pa.Table:
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
                f"column {name!r} holds {nulls} null(s), the first at row "
                f"{first if first is None else numbers(first)}; "
                "core columns may not be null",
                f"give every row a {name}",
            )
    try:
        return table.cast(schema.with_metadata(table.schema.metadata or {}))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as error:
        raise TableError(
            path, f"columns cannot be read as {schema}: {error}", "rewrite the table"
        ) from None


def check_rows(
    table: pa.Table,
    metadata: TableMetadata,
    path: str | Path,
    *,
    whole: Collection[int] | None = None,
    numbers: RowNumbers = _FILE_ORDER,
) -> None:
    """Check every row invariant of a conformed table; raise a TableError at the first breach.

    `table` may be part of the file (a pruned read): every invariant is checked on the
    rows it holds, and the ones that need all of an episode's rows (its row count, its
    ``seq`` numbering) only for the episodes in `whole` (None: every episode, the table
    being the whole file). `numbers` gives each row's number in the file, for messages.
    """
    _check_times(table, metadata, path, numbers)
    _check_vocabulary(table, metadata.vocabulary, path, numbers)
    _check_episodes(table, metadata, path, numbers, whole)
    _check_order(table, path, numbers)
    _check_overlaps(table, path, numbers)


def _check_times(
    table: pa.Table, metadata: TableMetadata, path: str | Path, numbers: RowNumbers
) -> None:
    for name in ("start", "end"):
        column = table.column(name)
        bad = pc.or_(pc.invert(pc.is_finite(column)), pc.less(column, 0.0))
        if (row := _first(bad)) is not None:
            raise TableError(
                path,
                f"{describe_row(table, row, numbers)}: {name} must be a finite number >= 0 "
                f"(simulated seconds), found {column[row].as_py()}",
                "record times as finite, non-negative seconds",
            )
    bad = pc.less(table.column("end"), table.column("start"))
    if (row := _first(bad)) is not None:
        raise TableError(
            path,
            f"{describe_row(table, row, numbers)}: end must be >= start",
            "close each interval at or after the time it opened",
        )


def _check_vocabulary(
    table: pa.Table, vocabulary: Vocabulary, path: str | Path, numbers: RowNumbers
) -> None:
    """Every actor is declared (by name, or as an instance of a short-lived kind), and every
    state is one of its declaration's states.

    Each distinct actor name is resolved once (kind patterns are regexes run by Arrow over
    the distinct names), then every row's (owner, state) key is looked up in the allowed
    set: no Python work per row, per instance or per (actor, state) pair, which matters
    for domains that number their customers across thousands of episodes.
    """
    actor = table.column("actor")
    names = pc.unique(actor)
    named = pc.is_in(names, value_set=pa.array(vocabulary.actor_names, pa.string()))
    # The owner of a named actor is its name; of an instance, "<kind>", which no actor
    # name can equal (names start with a letter).
    owner = pc.if_else(named, names, pa.nulls(len(names), pa.string()))
    for kind in vocabulary.short_lived:
        is_instance = pc.and_(pc.invert(named), pc.match_substring_regex(names, kind.pattern))
        owner = pc.if_else(is_instance, pa.scalar(f"<{kind.kind}>"), owner)
    if owner.null_count:
        unknown = pc.filter(names, pc.is_null(owner))
        # Never None: every distinct name occurs in the column.
        first = _first(pc.is_in(actor, value_set=unknown)) or 0
        # The regular expressions, not "customer_<n>": the common mistake is an instance
        # that almost matches (customer_01, Customer_1), and the pattern shows why not.
        patterns = [kind.pattern for kind in vocabulary.short_lived]
        raise TableError(
            path,
            f"{describe_row(table, first, numbers)}: actor {actor[first].as_py()!r} is not "
            f"declared in the vocabulary; declared actors: {list(vocabulary.actor_names)}"
            + (
                f"; instances of short-lived kinds must match one of {patterns}" if patterns else ""
            ),
            "declare the actor (or its short-lived kind) in the metadata vocabulary, "
            "or drop its rows",
        )
    row_owner = pc.take(owner, pc.index_in(actor, value_set=names))
    # One key per (owner, state) pair; the unit separator cannot occur in a valid name.
    allowed = [f"{a.name}\x1f{state}" for a in vocabulary.actors for state in a.states]
    allowed += [f"<{k.kind}>\x1f{state}" for k in vocabulary.short_lived for state in k.states]
    keys = pc.binary_join_element_wise(row_owner, table.column("state"), "\x1f")
    bad = pc.invert(pc.is_in(keys, value_set=pa.array(allowed, pa.string())))
    if (row := _first(bad)) is not None:
        name = actor[row].as_py()
        declaration: Declaration = vocabulary.declaration(name)
        owner_text = (
            f"actor {name!r}"
            if isinstance(declaration, Actor)
            else f"actor {name!r} (short-lived kind {declaration.kind!r})"
        )
        raise TableError(
            path,
            f"{describe_row(table, row, numbers)}: state "
            f"{table.column('state')[row].as_py()!r} is not declared for {owner_text}; "
            f"its declared states: {list(declaration.states)}",
            "declare the state for that actor in the metadata vocabulary",
        )


def _check_episodes(
    table: pa.Table,
    metadata: TableMetadata,
    path: str | Path,
    numbers: RowNumbers,
    whole: Collection[int] | None,
) -> None:
    listed = [summary.episode for summary in metadata.episodes]
    episode = table.column("episode")
    bad = pc.invert(pc.is_in(episode, value_set=pa.array(listed, pa.int32())))
    if (row := _first(bad)) is not None:
        raise TableError(
            path,
            f"{describe_row(table, row, numbers)}: episode {episode[row].as_py()} has no entry "
            f"in metadata field simreel.episodes (which lists episodes {listed})",
            "add a summary for every episode in the table",
        )
    if whole is not None and not whole:
        groups: dict[int, dict[str, Any]] = {}
    else:
        groups = {
            entry["episode"]: entry
            for entry in table.group_by("episode")
            .aggregate(
                [("seq", "count"), ("seq", "min"), ("seq", "max"), ("seq", "count_distinct")]
            )
            .to_pylist()
        }
    for summary in metadata.episodes:
        if whole is not None and summary.episode not in whole:
            continue
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
    row_end_time = pc.take(end_times, pc.index_in(episode, value_set=pa.array(listed, pa.int32())))
    bad = pc.greater(table.column("end"), row_end_time)
    if (row := _first(bad)) is not None:
        raise TableError(
            path,
            f"{describe_row(table, row, numbers)}: the interval ends after its episode's end_time "
            f"({row_end_time[row].as_py()})",
            "close every interval by the episode's end_time",
        )


def _check_order(table: pa.Table, path: str | Path, numbers: RowNumbers) -> None:
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
            "rows are not ordered by (episode, start, seq): "
            f"{describe_row(table, row + 1, numbers)} comes after "
            f"{describe_row(table, row, numbers)}",
            _SORT_FIX,
        )


def _check_overlaps(table: pa.Table, path: str | Path, numbers: RowNumbers) -> None:
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
            f"intervals of one actor overlap: {describe_row(table, second, numbers)} starts before "
            f"{describe_row(table, first, numbers)} ends",
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


def describe_row(table: pa.Table, row: int, numbers: RowNumbers = _FILE_ORDER) -> str:
    """A short description of one row (numbered as in the file), for error messages."""
    values = table.select(["episode", "seq", "actor", "state", "start", "end"]).slice(row, 1)
    v = values.to_pylist()[0]
    return (
        f"row {numbers(row)} (episode {v['episode']}, seq {v['seq']}, actor {v['actor']!r}, "
        f"state {v['state']!r}, start {v['start']}, end {v['end']})"
    )
