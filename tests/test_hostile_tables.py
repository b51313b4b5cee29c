"""Hostile event tables: valid in structure, extreme in value, as a hostile writer makes them.

Every table here follows ``schemas/README.md`` in its layout (the columns, their types,
the metadata keys), and carries one value a careless reader trusts: 100,000 actors, an
episode of 1e308 seconds or of 2e-299, terminal escape sequences and NUL in the names a
reader prints and draws, NaN in a float attribute, JSON nested 10,000 deep, a name with a
trailing newline, an int64 extreme in a count. :data:`CASES` lists them with what a
reader must do with each: draw it, refuse it with one line, or either.

``tests/test_hostile_cli.py`` runs each through ``inspect``, ``render --still`` and a
2 s ``render --from/--to`` window in a subprocess with a memory limit and a timeout. The
tests in this module only check that the builders write what they claim (so a builder
that quietly wrote a tame table cannot make the suite pass).

Tables are written with pyarrow directly (:func:`write_raw`), not with
``schemas.events.write_events``, because several carry values the writer refuses on
purpose (a trailing newline, a nesting depth the reader must survive).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

FIXTURES = Path(__file__).resolve().parents[1] / "data" / "fixtures"

ESCAPES = "\x1b[31mred\x1b[0m \x1b]0;pwned\x07 nul\x00 cr\rX c1\x9b31m rlo\u202eevil"
"""Every kind of text that must never reach a terminal or a font as it is: an ANSI colour,
an OSC title sequence, NUL, a carriage return, the C1 control 0x9b (CSI on some
terminals) and a right-to-left override."""
RAW_CONTROLS = ("\x1b", "\x00", "\x07", "\r", "\x9b", "\u202e")
"""The characters of :data:`ESCAPES` that must never appear in output as they are."""
INT64_MAX = 2**63 - 1
INT64_MIN = -(2**63)

RawRow = tuple[int, str, str, float, float, Mapping[str, object]]
"""(episode, actor, state, start, end, attribute values) of one row."""

_ARROW_TYPES: dict[str, pa.DataType] = {
    "int64": pa.int64(),
    "float64": pa.float64(),
    "string": pa.string(),
    "bool": pa.bool_(),
}


def write_raw(
    path: Path,
    document: Mapping[str, Any] | str,
    rows: Sequence[RawRow],
    attributes: Sequence[tuple[str, str]] = (),
) -> Path:
    """A table of `rows` with `document` (an object, or JSON text as it is) under ``simreel``.

    Rows are sorted by (episode, start) keeping their order among equal starts, and
    numbered by ``seq`` in that order, so row order and ``seq`` are always valid.
    `attributes` are (name, type) in column order.
    """
    ordered = sorted(rows, key=lambda row: (row[0], row[3]))
    seqs: list[int] = []
    counts: dict[int, int] = {}
    for row in ordered:
        seqs.append(counts.get(row[0], 0))
        counts[row[0]] = counts.get(row[0], 0) + 1
    columns: dict[str, pa.Array] = {
        "episode": pa.array([row[0] for row in ordered], pa.int32()),
        "seq": pa.array(seqs, pa.int64()),
        "actor": pa.array([row[1] for row in ordered], pa.string()),
        "state": pa.array([row[2] for row in ordered], pa.string()),
        "start": pa.array([row[3] for row in ordered], pa.float64()),
        "end": pa.array([row[4] for row in ordered], pa.float64()),
    }
    for name, type_ in attributes:
        columns[name] = pa.array([row[5].get(name) for row in ordered], _ARROW_TYPES[type_])
    text = document if isinstance(document, str) else json.dumps(document, ensure_ascii=False)
    table = pa.table(columns).replace_schema_metadata({"simreel": text})
    pq.write_table(table, path)
    return path


# -- a small generic plant, the base of most cases ------------------------------------

PLANT_ATTRIBUTES: tuple[tuple[str, str], ...] = (
    ("level", "int64"),
    ("load", "float64"),
    ("item", "int64"),
    ("note", "string"),
    ("urgent", "bool"),
)


def plant_vocabulary(**changes: Any) -> dict[str, Any]:
    """The vocabulary of a plant no painter knows: a machine, a queue, short-lived jobs."""
    vocabulary: dict[str, Any] = {
        "actors": [
            {"name": "machine", "kind": "machine", "states": ["idle", "busy"]},
            {"name": "queue", "kind": "queue", "states": ["length"]},
        ],
        "short_lived": [{"kind": "job", "prefix": "job_", "states": ["waiting", "running"]}],
        "attributes": [
            {"name": "level", "type": "int64", "quantity": True},
            {"name": "load", "type": "float64", "quantity": True},
            {"name": "item", "type": "int64"},
            {"name": "note", "type": "string"},
            {"name": "urgent", "type": "bool"},
        ],
        "colours": {"busy": "#2ea043", "length": "#f4b728"},
    }
    vocabulary.update(changes)
    return vocabulary


def document(
    vocabulary: Mapping[str, Any],
    rows: Sequence[RawRow],
    end_time: float | Sequence[float],
    *,
    domain_id: str = "plant",
    kpis: Mapping[str, float] | None = None,
    provenance: Mapping[str, Any] | None = None,
    options: Mapping[str, Any] | None = None,
    seed: int | None = 0,
) -> dict[str, Any]:
    """The metadata object for `rows`: one episode entry per end time, rows counted."""
    ends = [end_time] if isinstance(end_time, int | float) else list(end_time)
    return {
        "schema": "simreel.events",
        "schema_version": 2,
        "domain": {"id": domain_id, "version": 0, "options": dict(options or {})},
        "vocabulary": dict(vocabulary),
        "episodes": [
            {
                "episode": k,
                "seed": seed,
                "total_reward": 0.0,
                "end_time": end,
                "rows": sum(1 for row in rows if row[0] == k),
                "kpis": dict(kpis or {"made": 3.0}),
            }
            for k, end in enumerate(ends)
        ],
        "provenance": dict(provenance or {"policy": {"kind": "rules"}}),
    }


def plant_rows(end: float, *, late: float = 0.0) -> list[RawRow]:
    """A few intervals spread over [late, late + end]: the machine, the queue, two jobs."""
    at = [late + end * k / 10 for k in range(11)]
    return [
        (0, "machine", "idle", at[0], at[2], {"item": 1, "note": "warming up"}),
        (0, "machine", "busy", at[2], at[7], {"item": 2, "load": 0.5, "urgent": True}),
        (0, "machine", "idle", at[7], at[10], {}),
        (0, "queue", "length", at[0], at[4], {"level": 2}),
        (0, "queue", "length", at[4], at[10], {"level": 5}),
        (0, "job_0", "waiting", at[1], at[3], {}),
        (0, "job_0", "running", at[3], at[6], {}),
        (0, "job_1", "waiting", at[2], at[8], {}),
    ]


def plant(
    path: Path,
    *,
    end_time: float = 10.0,
    rows: Sequence[RawRow] | None = None,
    vocabulary: Mapping[str, Any] | None = None,
    attributes: Sequence[tuple[str, str]] = PLANT_ATTRIBUTES,
    **meta: Any,
) -> Path:
    """A plant table; any argument replaces the tame default."""
    rows = plant_rows(end_time) if rows is None else rows
    vocabulary = plant_vocabulary() if vocabulary is None else vocabulary
    return write_raw(path, document(vocabulary, rows, end_time, **meta), rows, attributes)


# -- the reference domains' golden tables, with one value changed --------------------


def golden(name: str) -> tuple[pa.Table, dict[str, Any]]:
    """A golden table's rows and its metadata object."""
    table = pq.read_table(FIXTURES / f"{name}.parquet")
    meta = json.loads((table.schema.metadata or {})[b"simreel"])
    return table.replace_schema_metadata(None), meta


def write_golden(path: Path, table: pa.Table, meta: Mapping[str, Any]) -> Path:
    pq.write_table(
        table.replace_schema_metadata({"simreel": json.dumps(meta, ensure_ascii=False)}), path
    )
    return path


def golden_with(name: str, change: Callable[[dict[str, Any]], None]) -> Callable[[Path], Path]:
    """A builder: golden table `name` with its metadata changed in place by `change`."""

    def build(path: Path) -> Path:
        table, meta = golden(name)
        change(meta)
        return write_golden(path, table, meta)

    return build


def golden_column(name: str, column: str, value: object, actor: str) -> Callable[[Path], Path]:
    """A builder: golden table `name` with `column` set to `value` on `actor`'s rows."""

    def build(path: Path) -> Path:
        table, meta = golden(name)
        actors = table.column("actor").to_pylist()
        values = table.column(column).to_pylist()
        changed = [value if a == actor else v for a, v in zip(actors, values, strict=True)]
        index = table.schema.get_field_index(column)
        table = table.set_column(index, column, pa.array(changed, table.schema.field(column).type))
        return write_golden(path, table, meta)

    return build


def _set_end(end_time: float) -> Callable[[dict[str, Any]], None]:
    def change(meta: dict[str, Any]) -> None:
        for episode in meta["episodes"]:
            episode["end_time"] = end_time

    return change


def _set_policy(kind: str) -> Callable[[dict[str, Any]], None]:
    def change(meta: dict[str, Any]) -> None:
        meta["provenance"]["policy"] = {"kind": kind, "sha256": ESCAPES}

    return change


def _set_domain(domain_id: str) -> Callable[[dict[str, Any]], None]:
    def change(meta: dict[str, Any]) -> None:
        meta["domain"]["id"] = domain_id

    return change


# -- the cases, one or more per row of the issue ---------------------------------------


def many_actors(path: Path, count: int, *, kinds: int = 0, busy: int = 300) -> Path:
    """`count` named actors (each its own kind, or spread over `kinds` kinds); the first
    `busy` of them have rows, actor k with k % 7 + 1 state changes."""
    actors = [
        {
            "name": f"unit{k}",
            "kind": f"kind{k % kinds}" if kinds else f"unit{k}",
            "states": ["idle", "busy", "down"],
        }
        for k in range(count)
    ]
    rows: list[RawRow] = []
    for k in range(min(busy, count)):
        changes = k % 7 + 1
        for step in range(changes):
            state = ("busy", "idle", "down")[(k + step) % 3]
            rows.append(
                (0, f"unit{k}", state, 10.0 * step / changes, 10.0 * (step + 1) / changes, {})
            )
    vocabulary = plant_vocabulary(actors=actors, short_lived=[], colours={})
    return write_raw(path, document(vocabulary, rows, 10.0), rows, PLANT_ATTRIBUTES)


def many_kinds(path: Path, count: int = 300) -> Path:
    """`count` short-lived kinds, each with two instances."""
    kinds = [
        {"kind": f"kind{k}", "prefix": f"kind{k}_", "states": ["waiting", f"served{k % 40}"]}
        for k in range(count)
    ]
    rows: list[RawRow] = [
        (0, f"kind{k}_{n}", "waiting" if n else f"served{k % 40}", 0.1 * n, 5.0 + 0.1 * n, {})
        for k in range(count)
        for n in range(2)
    ]
    vocabulary = plant_vocabulary(actors=[], short_lived=kinds, colours={})
    return write_raw(path, document(vocabulary, rows, 10.0), rows, PLANT_ATTRIBUTES)


def many_states(path: Path, count: int = 3000) -> Path:
    """One actor with `count` states, each held for a moment."""
    states = [f"phase{k}" for k in range(count)]
    rows: list[RawRow] = [
        (0, "mixer", state, 10.0 * k / count, 10.0 * (k + 1) / count, {})
        for k, state in enumerate(states)
    ]
    vocabulary = plant_vocabulary(
        actors=[{"name": "mixer", "states": states}], short_lived=[], colours={}
    )
    return write_raw(path, document(vocabulary, rows, 10.0), rows, PLANT_ATTRIBUTES)


def long_names(path: Path) -> Path:
    """Names thousands of characters long: an actor, a state, a kind, an attribute."""
    actor, state = "a" * 5000, "s" * 5000
    kind, attribute = "k" * 3000, "v" * 3000
    vocabulary = plant_vocabulary(
        actors=[{"name": actor, "states": [state, "idle"]}],
        short_lived=[{"kind": kind, "prefix": kind + "_", "states": [state]}],
        attributes=[{"name": attribute, "type": "string"}],
        colours={state: "#123456"},
    )
    rows: list[RawRow] = [
        (0, actor, state, 0.0, 6.0, {attribute: "x" * 20000}),
        (0, f"{kind}_{10**300}", state, 1.0, 4.0, {}),
    ]
    return write_raw(
        path,
        document(vocabulary, rows, 10.0, kpis={"k" * 4000: 1.0}),
        rows,
        [(attribute, "string")],
    )


def escapes_everywhere(path: Path) -> Path:
    """Control characters in every free-text field a reader prints or draws."""
    vocabulary = plant_vocabulary()
    for actor in vocabulary["actors"]:
        actor["description"] = ESCAPES
    vocabulary["attributes"][3]["description"] = ESCAPES
    rows = plant_rows(10.0)
    rows = [(e, a, s, t0, t1, {**v, "note": ESCAPES}) for e, a, s, t0, t1, v in rows]
    return write_raw(
        path,
        document(
            vocabulary,
            rows,
            10.0,
            domain_id=ESCAPES,
            kpis={ESCAPES: 1.0, "made": 2.0},
            options={ESCAPES: ESCAPES, "mode": ESCAPES},
            provenance={
                "policy": {"kind": ESCAPES, "sha256": ESCAPES, "path": ESCAPES},
                "created_at": ESCAPES,
                "git_commit": ESCAPES,
                "library_versions": {ESCAPES: ESCAPES},
                ESCAPES: [ESCAPES, {ESCAPES: ESCAPES}],
            },
        ),
        rows,
        PLANT_ATTRIBUTES,
    )


def nul_domain(path: Path) -> Path:
    """NUL alone (the byte that made pygame raise) in the domain id, KPI names, policy kind."""
    return plant(
        path,
        domain_id="pl\x00ant",
        kpis={"ma\x00de": 1.0},
        provenance={"policy": {"kind": "ru\x00les"}},
    )


def odd_floats(path: Path) -> Path:
    """NaN, infinities, extremes and a denormal in float attributes, quantity or not."""
    values = [float("nan"), float("inf"), float("-inf"), 1e308, -1e308, 5e-324, -0.0, 1.0]
    rows: list[RawRow] = []
    for k, value in enumerate(values):
        rows.append((0, "queue", "length", k, k + 1.0, {"load": value, "level": 1}))
        rows.append((0, "machine", "busy", k, k + 1.0, {"load": value}))
    vocabulary = plant_vocabulary()
    # `load` both a quantity (the queue's height) and a label (the machine's bars).
    return write_raw(path, document(vocabulary, rows, 8.0), rows, PLANT_ATTRIBUTES)


def int_extremes(path: Path) -> Path:
    """int64 extremes in a quantity, an id and an instance number."""
    values = [INT64_MAX, INT64_MIN, 0, INT64_MAX, -1, INT64_MIN]
    rows: list[RawRow] = []
    for k, value in enumerate(values):
        rows.append((0, "queue", "length", k, k + 1.0, {"level": value, "item": value}))
        rows.append((0, "machine", "busy", k, k + 1.0, {"item": value}))
    rows.append((0, f"job_{INT64_MAX}{INT64_MAX}", "waiting", 0.0, 6.0, {"item": INT64_MIN}))
    return write_raw(path, document(plant_vocabulary(), rows, 6.0), rows, PLANT_ATTRIBUTES)


def huge_integers(path: Path) -> Path:
    """Integers longer than Python converts from text by default (4,300 digits) where the
    reader parses a number, and a seed of 4,000 digits (which it converts, and prints)."""
    rows = plant_rows(10.0)
    text = json.dumps(document(plant_vocabulary(), rows, 10.0, seed=7))
    text = text.replace('"version": 0', '"version": ' + "9" * 5000)
    return write_raw(path, text, rows, PLANT_ATTRIBUTES)


def long_seed(path: Path) -> Path:
    """A seed of 4,000 digits: valid JSON, a valid integer, drawn in a subtitle."""
    rows = plant_rows(10.0)
    text = json.dumps(document(plant_vocabulary(), rows, 10.0, seed=7))
    text = text.replace('"seed": 7', '"seed": ' + "8" * 4000)
    return write_raw(path, text, rows, PLANT_ATTRIBUTES)


def nested(depth: int) -> str:
    """JSON text of a list nested `depth` deep (built as text: no encoder would write it)."""
    return "[" * depth + "]" * depth


def deep_unused(path: Path, depth: int = 10_000) -> Path:
    """JSON nested `depth` deep in a metadata key no reader uses."""
    rows = plant_rows(10.0)
    text = json.dumps(document(plant_vocabulary(), rows, 10.0))
    text = text[:-1] + f', "x_unused": {nested(depth)}}}'
    return write_raw(path, text, rows, PLANT_ATTRIBUTES)


def deep_provenance(path: Path, depth: int = 900) -> Path:
    """JSON nested `depth` deep inside the provenance, which inspect prints."""
    rows = plant_rows(10.0)
    text = json.dumps(document(plant_vocabulary(), rows, 10.0, provenance={"policy": "P"}))
    text = text.replace('"policy": "P"', f'"policy": {{"kind": "rules"}}, "deep": {nested(depth)}')
    return write_raw(path, text, rows, PLANT_ATTRIBUTES)


def newline_in(where: str) -> Callable[[Path], Path]:
    """A builder of a plant with a trailing newline in one name (`where`)."""

    def build(path: Path) -> Path:
        vocabulary = plant_vocabulary()
        rows = plant_rows(10.0)
        if where == "vocabulary actor":
            vocabulary["actors"][0]["name"] = "machine\n"
            rows = [
                (e, a + "\n" if a == "machine" else a, s, t0, t1, v) for e, a, s, t0, t1, v in rows
            ]
        elif where == "vocabulary state":
            vocabulary["actors"][0]["states"] = ["idle", "busy\n"]
            vocabulary["colours"] = {}
            rows = [
                (e, a, s + "\n" if s == "busy" else s, t0, t1, v) for e, a, s, t0, t1, v in rows
            ]
        elif where == "row actor":
            rows = [
                (e, a + "\n" if a == "machine" else a, s, t0, t1, v) for e, a, s, t0, t1, v in rows
            ]
        elif where == "row state":
            rows = [
                (e, a, s + "\n" if s == "busy" else s, t0, t1, v) for e, a, s, t0, t1, v in rows
            ]
        elif where == "row instance":
            rows = [
                (e, a + "\n" if a == "job_1" else a, s, t0, t1, v) for e, a, s, t0, t1, v in rows
            ]
        elif where == "prefix":
            vocabulary["short_lived"][0]["prefix"] = "job_\n"
        elif where == "colour":
            vocabulary["colours"]["busy"] = "#2ea043\n"
        else:
            raise ValueError(where)
        return write_raw(path, document(vocabulary, rows, 10.0), rows, PLANT_ATTRIBUTES)

    return build


Expect = Literal["works", "refused", "either"]


@dataclass(frozen=True)
class Hostile:
    """One hostile table and what every command must do with it."""

    name: str
    issue_row: str
    """The value of the issue's table this case stands for."""
    build: Callable[[Path], Path]
    expect: Expect
    """``works``: every command exits 0; ``refused``: every command exits 2 with one
    line; ``either``: 0, or 2 with one line (whichever the reader's design chooses)."""


def _tiny(end: float) -> Callable[[Path], Path]:
    return lambda path: plant(path, end_time=end)


def _huge(end: float) -> Callable[[Path], Path]:
    return lambda path: plant(path, end_time=end, rows=plant_rows(5.0))


def _late(path: Path) -> Path:
    return plant(path, end_time=1e15 + 10, rows=plant_rows(5.0, late=1e15))


def _at_the_float_limit(path: Path) -> Path:
    top = sys.float_info.max
    rows = [*plant_rows(5.0), (0, "machine", "busy", top, top, {"load": top})]
    return plant(path, end_time=top, rows=rows)


def _factory_tiny(path: Path) -> Path:
    table, meta = golden("factory-v2")
    vocabulary = meta["vocabulary"]
    end = 2e-299
    rows: list[RawRow] = [
        (0, "worker0", "working", 0.0, end / 2, {"station": "s0", "item": 0}),
        (0, "worker0", "walking", end / 2, end, {"station": "s0", "destination": "s1"}),
        (0, "worker1", "stalled", 0.0, end, {"station": "s1", "waiting_for": "item"}),
        (0, "buffer_a", "level", 0.0, end, {"level": 3}),
        (0, "finished", "count", 0.0, end, {"count": 0}),
    ]
    attributes = [(f.name, str(f.type).replace("double", "float64")) for f in table.schema][6:]
    meta["episodes"] = document(vocabulary, rows, end)["episodes"]
    return write_raw(path, meta, rows, attributes)


CASES: tuple[Hostile, ...] = (
    Hostile("actors-100k", "100,000 actors", lambda p: many_actors(p, 100_000), "works"),
    Hostile("actors-1000", "1,000 actors", lambda p: many_actors(p, 1000, busy=1000), "works"),
    Hostile(
        "actors-1000-in-kinds",
        "1,000 actors of 3 kinds",
        lambda p: many_actors(p, 1000, kinds=3, busy=1000),
        "works",
    ),
    Hostile("kinds-300", "300 short-lived kinds", many_kinds, "works"),
    Hostile("states-3000", "3,000 states", many_states, "works"),
    Hostile("long-names", "names 5,000 characters long", long_names, "works"),
    Hostile("factory-end-1e9", "end_time 1e9", golden_with("factory-v2", _set_end(1e9)), "works"),
    Hostile(
        "factory-end-1e308", "end_time 1e308", golden_with("factory-v2", _set_end(1e308)), "works"
    ),
    Hostile(
        "cashier-end-1e308", "end_time 1e308", golden_with("cashier-v2", _set_end(1e308)), "works"
    ),
    Hostile("plant-end-1e9", "end_time 1e9", _huge(1e9), "works"),
    Hostile("plant-end-1e308", "end_time 1e308", _huge(1e308), "works"),
    Hostile("plant-end-float-max", "end_time at the float limit", _at_the_float_limit, "works"),
    Hostile("plant-rows-at-1e15", "rows late in a long episode", _late, "works"),
    Hostile("plant-end-2e-299", "end_time 2e-299", _tiny(2e-299), "works"),
    Hostile("plant-end-5e-324", "end_time 5e-324 (a denormal)", _tiny(5e-324), "works"),
    Hostile("factory-end-2e-299", "end_time 2e-299", _factory_tiny, "works"),
    Hostile("plant-escapes", "escapes in every text field", escapes_everywhere, "works"),
    Hostile("plant-nul", "NUL in the domain id, a KPI, the policy", nul_domain, "works"),
    Hostile(
        "factory-escaped-policy",
        "NUL and escapes in the policy kind",
        golden_with("factory-v2", _set_policy(ESCAPES)),
        "works",
    ),
    Hostile(
        "cashier-escaped-policy",
        "NUL and escapes in the policy kind",
        golden_with("cashier-v2", _set_policy(ESCAPES)),
        "works",
    ),
    Hostile(
        "factory-nul-domain",
        "NUL in the domain id",
        golden_with("factory-v2", _set_domain("factory\x00")),
        "works",
    ),
    Hostile("plant-odd-floats", "NaN/inf in a float attribute", odd_floats, "works"),
    Hostile("plant-int-extremes", "int64 extremes", int_extremes, "works"),
    Hostile("int-5000-digits", "an integer of 5,000 digits", huge_integers, "either"),
    Hostile("seed-4000-digits", "a seed of 4,000 digits", long_seed, "works"),
    Hostile("deep-unused-10000", "JSON 10,000 deep, unused", deep_unused, "either"),
    Hostile("deep-provenance-900", "JSON 900 deep in provenance", deep_provenance, "either"),
    *(
        Hostile(
            f"newline-{where.replace(' ', '-')}", "a trailing newline", newline_in(where), "refused"
        )
        for where in (
            "vocabulary actor",
            "vocabulary state",
            "row actor",
            "row state",
            "row instance",
            "prefix",
            "colour",
        )
    ),
    Hostile(
        "factory-count-max",
        "int64 max in the finished count",
        golden_column("factory-v2", "count", INT64_MAX, "finished"),
        "works",
    ),
    Hostile(
        "factory-count-min",
        "int64 min in the finished count",
        golden_column("factory-v2", "count", INT64_MIN, "finished"),
        "works",
    ),
    Hostile(
        "factory-item-max",
        "int64 max in the item ids",
        golden_column("factory-v2", "item", INT64_MAX, "worker0"),
        "works",
    ),
    Hostile(
        "cashier-count-max",
        "int64 max in the served count",
        golden_column("cashier-v2", "count", INT64_MAX, "served"),
        "works",
    ),
)
"""Every hostile table, by name."""

BY_NAME = {case.name: case for case in CASES}


def build(name: str, folder: Path) -> Path:
    """Write hostile table `name` into `folder` (once) and return its path."""
    path = folder / f"{name}.parquet"
    if not path.exists():
        BY_NAME[name].build(path)
    return path


# -- the builders write what they claim ------------------------------------------------


def _meta(path: Path) -> dict[str, Any]:
    raw = pq.read_metadata(path).metadata[b"simreel"]
    return dict(json.loads(raw))


def test_every_case_is_a_parquet_file_with_simreel_metadata(tmp_path: Path) -> None:
    for case in CASES:
        if case.name.startswith(("actors-100k", "deep-", "int-")):
            continue  # not decodable by json.loads as it is: checked on their own
        path = build(case.name, tmp_path)
        table = pq.read_table(path)
        assert table.column_names[:6] == ["episode", "seq", "actor", "state", "start", "end"]
        meta = _meta(path)
        assert meta["schema"] == "simreel.events", case.name
        rows = [episode["rows"] for episode in meta["episodes"]]
        assert sum(rows) == table.num_rows, case.name


def test_the_extreme_values_are_in_the_tables(tmp_path: Path) -> None:
    big = _meta(build("actors-100k", tmp_path))
    assert len(big["vocabulary"]["actors"]) == 100_000
    assert (tmp_path / "actors-100k.parquet").stat().st_size > 1_000_000
    assert _meta(build("plant-end-1e308", tmp_path))["episodes"][0]["end_time"] == 1e308
    assert _meta(build("plant-end-2e-299", tmp_path))["episodes"][0]["end_time"] == 2e-299
    escaped = _meta(build("plant-escapes", tmp_path))
    assert escaped["domain"]["id"] == ESCAPES
    assert ESCAPES in escaped["episodes"][0]["kpis"]
    assert escaped["provenance"]["policy"]["kind"] == ESCAPES
    assert all(char in ESCAPES for char in RAW_CONTROLS)
    floats = pq.read_table(build("plant-odd-floats", tmp_path)).column("load").to_pylist()
    assert any(value != value for value in floats)  # NaN
    assert float("inf") in floats
    counts = pq.read_table(build("factory-count-max", tmp_path)).column("count").to_pylist()
    assert INT64_MAX in counts
    actors = pq.read_table(build("newline-row-actor", tmp_path)).column("actor").to_pylist()
    assert "machine\n" in actors


def test_the_deep_documents_are_as_deep_as_claimed(tmp_path: Path) -> None:
    raw = pq.read_metadata(build("deep-unused-10000", tmp_path)).metadata[b"simreel"]
    assert b"[" * 10_000 in raw
    with pytest.raises(RecursionError):
        json.loads(raw)
    raw = pq.read_metadata(build("deep-provenance-900", tmp_path)).metadata[b"simreel"]
    assert b"[" * 900 in raw
    assert b"[" * 901 not in raw
