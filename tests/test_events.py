"""Event tables: writing, reading, every way a file can be bad, and the golden files."""

from __future__ import annotations

import json
import math
import re
import time
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from domains.env import MultiActorEnv
from domains.factory.simulation import FactoryDomain
from domains.policies import RandomLegalPolicy
from domains.recorder import RecordedEpisode
from schemas.errors import TableError
from schemas.events import (
    SCHEMA_VERSION,
    EventTable,
    OptionValue,
    arrow_schema,
    read_events,
    write_events,
)
from schemas.vocabulary import Vocabulary
from tests.test_events_support import (
    ROWS,
    SCHEMA,
    VISITORS_JSON,
    VOCABULARY_JSON,
    core_metadata,
    core_table,
    metadata_json,
    valid_table,
    with_column,
    write_raw,
)

FIXTURES = Path(__file__).resolve().parents[1] / "data" / "fixtures"


def _factory_episodes(n: int) -> list[RecordedEpisode]:
    env = MultiActorEnv(FactoryDomain, record=True)
    episodes = []
    for k in range(n):
        policy = RandomLegalPolicy(k)
        observation, _ = env.reset(seed=k)
        done = False
        while not done:
            observation, _, done, _, _ = env.step(policy.act(observation, env.action_masks()))
        episode = env.recorded_episode
        assert episode is not None
        episode.seed = k
        episodes.append(episode)
    return episodes


def _write_factory(path: Path, episodes: list[RecordedEpisode]) -> Path:
    return write_events(
        path,
        episodes,
        domain_id="factory",
        domain_version=0,
        vocabulary=FactoryDomain.vocabulary,
        provenance={"policy": {"kind": "random"}},
    )


# -- round trip ---------------------------------------------------------------------


def test_recorded_episodes_round_trip(tmp_path: Path) -> None:
    episodes = _factory_episodes(2)
    events = read_events(_write_factory(tmp_path / "t.parquet", episodes))
    assert events.table.schema == arrow_schema(FactoryDomain.vocabulary)
    assert events.metadata.schema_version == SCHEMA_VERSION
    assert events.metadata.domain_id == "factory"
    assert events.metadata.vocabulary == FactoryDomain.vocabulary
    assert [s.rows for s in events.metadata.episodes] == [len(e) for e in episodes]
    assert [s.seed for s in events.metadata.episodes] == [0, 1]
    first = events.episode(1)
    assert first.column("actor").to_pylist() == episodes[1].actor
    assert first.column("seq").to_pylist() == list(range(len(episodes[1])))
    assert first.column("end").to_pylist() == episodes[1].end
    for name, values in episodes[1].attributes.items():
        assert first.column(name).to_pylist() == values
    frame = events.to_polars()
    assert isinstance(frame, pl.DataFrame)
    assert frame.height == sum(len(e) for e in episodes)
    assert frame.schema["episode"] == pl.Int32


def test_domain_options_round_trip_and_default_to_none(tmp_path: Path) -> None:
    episode = RecordedEpisode(
        actor=["a"], state=["x"], start=[0.0], end=[1.0], attributes={}, end_time=1.0
    )
    vocabulary = Vocabulary.from_json(VOCABULARY_JSON)
    common: dict[str, Any] = {"domain_id": "toy", "domain_version": 0, "vocabulary": vocabulary}
    options: dict[str, OptionValue] = {
        "dispatcher": "automatic",
        "lanes": 3,
        "speed": 1.5,
        "strict": True,
    }
    with_options = write_events(
        tmp_path / "options.parquet", [episode], provenance={}, domain_options=options, **common
    )
    assert read_events(with_options).metadata.domain_options == options
    document = json.loads(pq.read_metadata(with_options).metadata[b"simreel"])
    assert document["domain"] == {"id": "toy", "version": 0, "options": options}
    plain = write_events(tmp_path / "plain.parquet", [episode], provenance={}, **common)
    assert read_events(plain).metadata.domain_options == {}


def test_writer_refuses_domain_options_a_reader_would_refuse(tmp_path: Path) -> None:
    episode = RecordedEpisode(
        actor=["a"], state=["x"], start=[0.0], end=[1.0], attributes={}, end_time=1.0
    )
    with pytest.raises(TableError, match=r"domain\.options\.lanes must be a string, number"):
        write_events(
            tmp_path / "t.parquet", [episode], domain_id="toy", domain_version=0,
            vocabulary=Vocabulary.from_json(VOCABULARY_JSON), provenance={},
            domain_options={"lanes": [0, 1]},  # type: ignore[dict-item]
        )  # fmt: skip
    assert list(tmp_path.iterdir()) == []


def test_episode_that_is_not_in_the_table_is_a_clear_error(tmp_path: Path) -> None:
    events = read_events(write_raw(tmp_path / "t.parquet", metadata=metadata_json()))
    with pytest.raises(
        TableError, match=r"episode 5 is not in the table, which holds episodes \[0, 1\]"
    ):
        events.episode(5)


def test_writer_sorts_rows_emitted_out_of_time_order(tmp_path: Path) -> None:
    episode = RecordedEpisode(
        actor=["a", "b"], state=["x", "z"], start=[5.0, 1.0], end=[6.0, 2.0],
        attributes={}, end_time=10.0,
    )  # fmt: skip
    path = write_events(
        tmp_path / "t.parquet",
        [episode],
        domain_id="toy",
        domain_version=0,
        vocabulary=Vocabulary.from_json(VOCABULARY_JSON),
        provenance={},
    )
    table = read_events(path).table
    assert table.column("actor").to_pylist() == ["b", "a"]
    assert table.column("seq").to_pylist() == [1, 0]
    assert table.column("n").null_count == 2  # undeclared-in-episode attributes are null


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda e: setattr(e, "end", [6.0, 6.0]), "intervals of one actor overlap"),
        (lambda e: setattr(e, "start", [math.nan, 1.0]), "start must be a finite number"),
        (lambda e: setattr(e, "state", ["z", "z"]), "state 'z' is not declared for actor 'a'"),
        (lambda e: setattr(e, "attributes", {"n": [1, "two"]}), "column 'n' cannot be stored"),
        (lambda e: setattr(e, "attributes", {"mood": [1, 2]}), r"attribute\(s\) \['mood'\]"),
        (lambda e: setattr(e, "actor", ["a"]), "columns have different lengths"),
        (lambda e: setattr(e, "total_reward", math.inf), "cannot be stored as strict JSON"),
    ],
)
def test_writer_refuses_what_a_reader_would_refuse(
    tmp_path: Path, change: Any, message: str
) -> None:
    episode = RecordedEpisode(
        actor=["a", "a"], state=["x", "y"], start=[0.0, 5.0], end=[5.0, 6.0],
        attributes={}, end_time=10.0,
    )  # fmt: skip
    change(episode)
    target = tmp_path / "t.parquet"
    with pytest.raises(TableError, match=message):
        write_events(
            target, [episode], domain_id="toy", domain_version=0,
            vocabulary=Vocabulary.from_json(VOCABULARY_JSON), provenance={},
        )  # fmt: skip
    assert list(tmp_path.iterdir()) == []  # nothing written, not even a temporary file


def test_tables_without_rows_and_episodes_without_rows_round_trip(tmp_path: Path) -> None:
    vocabulary = Vocabulary.from_json(VOCABULARY_JSON)
    empty = RecordedEpisode(actor=[], state=[], start=[], end=[], attributes={}, end_time=5.0)
    one = RecordedEpisode(
        actor=["a"], state=["x"], start=[0.0], end=[5.0], attributes={}, end_time=5.0
    )
    for name, episodes in (("none", []), ("some", [empty, one])):
        path = write_events(
            tmp_path / f"{name}.parquet", episodes, domain_id="toy", domain_version=0,
            vocabulary=vocabulary, provenance={},
        )  # fmt: skip
        events = read_events(path)
        assert [s.rows for s in events.metadata.episodes] == [len(e) for e in episodes]
    assert events.episode(0).num_rows == 0
    assert events.episode(1).num_rows == 1


# -- accepted variants ----------------------------------------------------------------


def test_large_and_dictionary_strings_and_nullable_core_columns_are_accepted(
    tmp_path: Path,
) -> None:
    table = valid_table()
    table = with_column(table, "actor", table.column("actor").to_pylist(), pa.large_string())
    table = table.set_column(
        3, pa.field("state", pa.dictionary(pa.int32(), pa.string())),
        pa.array(table.column("state").to_pylist()).dictionary_encode(),
    )  # fmt: skip
    table = with_column(table, "label", table.column("label").to_pylist(), pa.large_string())
    events = read_events(write_raw(tmp_path / "t.parquet", table, metadata_json()))
    assert events.table.schema.field("state").type == pa.string()
    assert events.table.schema.field("actor").type == pa.string()
    assert events.table.column("state").to_pylist() == [row[3] for row in ROWS]


def test_a_table_written_by_polars_is_accepted(tmp_path: Path) -> None:
    frame = pl.from_arrow(valid_table())
    assert isinstance(frame, pl.DataFrame)
    path = tmp_path / "polars.parquet"
    frame.write_parquet(path, metadata={"simreel": json.dumps(metadata_json())})
    assert read_events(path).table.num_rows == len(ROWS)


# -- bad files --------------------------------------------------------------------------


def _broken(table: pa.Table, row: int, column: str, value: Any) -> pa.Table:
    values = table.column(column).to_pylist()
    values[row] = value
    return with_column(table, column, values, SCHEMA.field(column).type)


_T = valid_table()
BAD_COLUMNS: list[tuple[str, pa.Table, str]] = [
    ("missing column", _T.drop_columns(["end"]), r"missing column\(s\) \['end'\]"),
    (
        "extra column",
        _T.append_column("mood", pa.array([1] * len(ROWS))),
        r"column\(s\) \['mood'\] are neither core columns nor attributes",
    ),
    (
        "column order",
        _T.select(["seq", "episode", "actor", "state", "start", "end", "n", "label"]),
        "columns are in the order",
    ),
    (
        "mistyped float",
        with_column(_T, "start", [0, 0, 2, 2, 0], pa.int64()),
        "column 'start' has type int64; expected double",
    ),
    (
        "mistyped episode",
        with_column(_T, "episode", [0, 0, 0, 0, 1], pa.int64()),
        "column 'episode' has type int64; expected int32",
    ),
    (
        "mistyped attribute",
        with_column(_T, "n", [1.0, 0.0, None, None, 7.0], pa.float64()),
        "column 'n' has type double; expected int64",
    ),
    (
        "null actor",
        _broken(_T, 2, "actor", None),
        r"column 'actor' holds 1 null\(s\), the first at row 2",
    ),
    ("NaN start", _broken(_T, 1, "start", math.nan), "row 1 .*start must be a finite number >= 0"),
    ("infinite end", _broken(_T, 1, "end", math.inf), "row 1 .*end must be a finite number >= 0"),
    (
        "negative start",
        _broken(_T, 0, "start", -1.0),
        r"row 0 .*start must be a finite number >= 0 \(simulated seconds\), found -1.0",
    ),
    ("end before start", _broken(_T, 3, "end", 1.0), "row 3 .*end must be >= start"),
    ("undeclared actor", _broken(_T, 1, "actor", "ghost"), "actor 'ghost' is not declared"),
    (
        "undeclared state",
        _broken(_T, 1, "state", "x"),
        r"state 'x' is not declared for actor 'b'; its declared states: \['z'\]",
    ),
    ("end after end_time", _broken(_T, 1, "end", 12.0), "ends after its episode's end_time"),
    ("unsorted rows", _T.take([1, 0, 2, 3, 4]), r"rows are not ordered by \(episode, start, seq\)"),
    (
        "overlap",
        _broken(_T, 0, "end", 3.0),
        "intervals of one actor overlap: row 2 .* starts before row 0",
    ),
    ("duplicate seq", _broken(_T, 3, "seq", 2), "seq must number its 4 rows 0..3 once each"),
    ("episode without summary", _broken(_T, 4, "episode", 7), "episode 7 has no entry in metadata"),
]


@pytest.mark.parametrize(
    ("table", "message"), [case[1:] for case in BAD_COLUMNS], ids=[c[0] for c in BAD_COLUMNS]
)
def test_bad_columns_and_rows_are_refused_with_the_row(
    tmp_path: Path, table: pa.Table, message: str
) -> None:
    path = write_raw(tmp_path / "bad.parquet", table, metadata_json())
    _assert_refused(path, message)


def _episodes(**changes: Any) -> list[dict[str, Any]]:
    episodes = metadata_json()["episodes"]
    episodes[0] = {**episodes[0], **changes}
    return episodes


BAD_METADATA: list[tuple[str, dict[str, Any] | bytes | None, str]] = [
    ("no key", None, "has no 'simreel' key in its key-value metadata"),
    ("bad JSON", b"{not json", "metadata 'simreel' is not valid UTF-8 JSON"),
    ("not an object", b"[1, 2]", "metadata 'simreel' must be a JSON object, found list"),
    (
        "other schema",
        metadata_json(schema="geo"),
        "simreel.schema must be 'simreel.events', found 'geo'",
    ),
    (
        "no version",
        metadata_json(schema_version=None),
        "schema_version must be a non-negative integer",
    ),
    (
        "future version",
        metadata_json(schema_version=SCHEMA_VERSION + 1),
        f"written by schema v{SCHEMA_VERSION + 1}; this simreel reads up to v{SCHEMA_VERSION}; "
        "upgrade simreel",
    ),
    ("no domain", metadata_json(domain=None), "simreel.domain must be an object"),
    (
        "domain id",
        metadata_json(domain={"id": "", "version": 0}),
        "simreel.domain.id must be a non-empty string",
    ),
    (
        "domain version",
        metadata_json(domain={"id": "x", "version": "1"}),
        "simreel.domain.version must be an integer",
    ),
    (
        "domain options",
        metadata_json(domain={"id": "x", "version": 0, "options": ["fast"]}),
        r"simreel.domain.options must be an object of option: value, found \['fast'\]",
    ),
    (
        "domain option value",
        metadata_json(domain={"id": "x", "version": 0, "options": {"speed": {"max": 2}}}),
        "simreel.domain.options.speed must be a string, number or boolean, found {'max': 2}",
    ),
    (
        "domain option NaN",
        json.dumps(
            metadata_json(domain={"id": "x", "version": 0, "options": {"k": math.nan}})
        ).encode(),
        "simreel.domain.options.k must be a string, number or boolean, found nan",
    ),
    (
        "vocabulary",
        metadata_json(vocabulary={"actors": [{"name": "A", "states": ["x"]}]}),
        "vocabulary is malformed: actor name 'A'",
    ),
    (
        "short-lived kinds",
        metadata_json(vocabulary={**VOCABULARY_JSON, "short_lived": {"kind": "visitor"}}),
        "vocabulary is malformed: vocabulary.short_lived must be a list",
    ),
    (
        "named actor like an instance",
        metadata_json(
            vocabulary={
                **VOCABULARY_JSON,
                "short_lived": [{"kind": "item", "prefix": "a_", "states": ["x"]}],
                "actors": [*VOCABULARY_JSON["actors"], {"name": "a_1", "states": ["x"]}],
            }
        ),
        "vocabulary is malformed: named actor 'a_1' looks like an instance of short-lived "
        "kind 'item'",
    ),
    (
        "colour",
        metadata_json(vocabulary={**VOCABULARY_JSON, "colours": {"x": "red"}}),
        "vocabulary is malformed: colours: state 'x' has colour 'red'; expected '#rrggbb'",
    ),
    (
        "quantity",
        metadata_json(
            vocabulary={
                **VOCABULARY_JSON,
                "attributes": [
                    {"name": "n", "type": "int64"},
                    {"name": "label", "type": "string", "quantity": True},
                ],
            }
        ),
        "vocabulary is malformed: attribute 'label' is declared a quantity but has type 'string'",
    ),
    ("episodes", metadata_json(episodes={}), "simreel.episodes must be a list"),
    (
        "rows",
        metadata_json(episodes=_episodes(rows=-1)),
        r"simreel.episodes\[0\].rows must be an integer >= 0, found -1",
    ),
    (
        "row count",
        metadata_json(episodes=_episodes(rows=3)),
        r"episode 0 has 4 row\(s\) in the table but its metadata summary",
    ),
    (
        "end_time",
        metadata_json(episodes=_episodes(end_time=None)),
        r"episodes\[0\].end_time must be a finite number",
    ),
    (
        "seed",
        metadata_json(episodes=_episodes(seed=1.5)),
        r"episodes\[0\].seed must be an integer or null",
    ),
    (
        "kpi",
        json.dumps(metadata_json(episodes=_episodes(kpis={"k": math.nan}))).encode(),
        r"episodes\[0\].kpis.k must be a finite number",
    ),
    (
        "order",
        metadata_json(episodes=list(reversed(metadata_json()["episodes"]))),
        "each episode once in ascending order",
    ),
]


@pytest.mark.parametrize(
    ("metadata", "message"), [case[1:] for case in BAD_METADATA], ids=[c[0] for c in BAD_METADATA]
)
def test_bad_metadata_is_refused_naming_the_field(
    tmp_path: Path, metadata: dict[str, Any] | bytes | None, message: str
) -> None:
    path = write_raw(tmp_path / "bad.parquet", valid_table(), metadata)
    _assert_refused(path, message)


def test_missing_file_directory_garbage_and_truncated_files_are_refused(tmp_path: Path) -> None:
    _assert_refused(tmp_path / "nope.parquet", "no such file")
    _assert_refused(tmp_path, "is not a file")
    garbage = tmp_path / "garbage.parquet"
    garbage.write_text("episode,seq\n0,0\n")
    _assert_refused(garbage, "is not a readable Parquet file")
    empty = tmp_path / "empty.parquet"
    empty.write_bytes(b"")
    _assert_refused(empty, "is not a readable Parquet file")
    whole = write_raw(tmp_path / "whole.parquet", metadata=metadata_json()).read_bytes()
    truncated = tmp_path / "truncated.parquet"
    for cut in (len(whole) // 2, len(whole) - 3):
        truncated.write_bytes(whole[:cut])
        _assert_refused(truncated, "is not a readable Parquet file")


def _assert_refused(path: Path, message: str) -> None:
    with pytest.raises(TableError, match=message) as error:
        read_events(path)
    text = str(error.value)
    assert text.startswith(f"{path}: ")
    assert "\n" not in text
    assert "; " in text, "every refusal says how to fix it"
    assert error.value.fix


# -- short-lived kinds ----------------------------------------------------------------

# episode, seq, actor, state, start, end: a desk, two visitors whose lives overlap, and
# visitor_0 again in episode 1 (another actor: instances are per episode).
VISITOR_ROWS: list[tuple[Any, ...]] = [
    (0, 0, "desk", "open", 0.0, 10.0),
    (0, 1, "visitor_0", "waiting", 0.0, 3.0),
    (0, 2, "visitor_1", "waiting", 1.0, 4.0),
    (0, 3, "visitor_0", "seen", 3.0, 5.0),
    (0, 4, "visitor_1", "seen", 4.0, 9.0),
    (1, 0, "visitor_0", "waiting", 0.0, 2.0),
]
VISITOR_PATTERN = "^visitor_(0|[1-9][0-9]*)$"


def _visitors(tmp_path: Path, rows: list[tuple[Any, ...]]) -> Path:
    return write_raw(
        tmp_path / "visitors.parquet", core_table(rows), core_metadata(rows, VISITORS_JSON)
    )


def _changed(row: int, **values: Any) -> list[tuple[Any, ...]]:
    """:data:`VISITOR_ROWS` with some fields of one row replaced."""
    names = ("episode", "seq", "actor", "state", "start", "end")
    rows = [list(r) for r in VISITOR_ROWS]
    for name, value in values.items():
        rows[row][names.index(name)] = value
    return [tuple(r) for r in rows]


def test_instances_of_a_short_lived_kind_are_read_without_being_declared(tmp_path: Path) -> None:
    events = read_events(_visitors(tmp_path, VISITOR_ROWS))
    vocabulary = events.metadata.vocabulary
    assert vocabulary.actor_names == ("desk",)
    assert events.table.column("actor").to_pylist() == [row[2] for row in VISITOR_ROWS]
    kinds = {name: vocabulary.declaration(name) for name in ("visitor_0", "visitor_1", "desk")}
    assert kinds["visitor_1"] == vocabulary.short_lived_kind("visitor")
    assert kinds["desk"] == vocabulary.actor("desk")


@pytest.mark.parametrize(
    ("actor", "why"),
    [
        ("patient_1", "unknown kind"),
        ("visitor_01", "leading zero"),
        ("visitor_", "no number"),
        ("visitor_1a", "not a number"),
    ],
)
def test_a_name_that_is_no_instance_is_refused_naming_the_row_and_the_patterns(
    tmp_path: Path, actor: str, why: str
) -> None:
    path = _visitors(tmp_path, _changed(2, actor=actor))
    expected = (
        f"row 2 (episode 0, seq 2, actor {actor!r}, state 'waiting', start 1.0, end 4.0): "
        f"actor {actor!r} is not declared in the vocabulary; declared actors: ['desk']; "
        f"instances of short-lived kinds must match one of [{VISITOR_PATTERN!r}]"
    )
    _assert_refused(path, re.escape(expected))


def test_a_state_not_declared_for_an_instance_is_refused_naming_its_kind(tmp_path: Path) -> None:
    path = _visitors(tmp_path, _changed(3, state="open"))  # a desk's state, not a visitor's
    _assert_refused(
        path,
        re.escape(
            "row 3 (episode 0, seq 3, actor 'visitor_0', state 'open', start 3.0, end 5.0): "
            "state 'open' is not declared for actor 'visitor_0' (short-lived kind 'visitor'); "
            "its declared states: ['waiting', 'seen']"
        ),
    )


def test_overlapping_intervals_of_one_instance_are_refused(tmp_path: Path) -> None:
    path = _visitors(tmp_path, _changed(3, start=2.0))  # visitor_0 is still waiting at 2
    _assert_refused(
        path, r"intervals of one actor overlap: row 3 \(.*actor 'visitor_0'.*\) starts before row 1"
    )


def test_a_named_actor_is_not_taken_for_an_instance(tmp_path: Path) -> None:
    # "desk_1" is neither declared nor an instance: no kind has the prefix "desk_".
    _assert_refused(_visitors(tmp_path, _changed(0, actor="desk_1")), "actor 'desk_1' is not")


def test_many_instances_are_accepted_quickly(tmp_path: Path) -> None:
    # 200,000 instances, each waiting then seen, numbered across episodes (some domains
    # do): every name is distinct.
    n, episodes = 200_000, 4
    per = n // episodes
    rows: list[tuple[Any, ...]] = []
    for k in range(n):
        episode, i = divmod(k, per)
        start = float(i)
        rows.append((episode, 2 * i, f"visitor_{k}", "waiting", start, start + 1.5))
        rows.append((episode, 2 * i + 1, f"visitor_{k}", "seen", start + 1.5, start + 2.0))
    rows.sort(key=lambda r: (r[0], r[4], r[1]))
    path = write_raw(
        tmp_path / "many.parquet", core_table(rows), core_metadata(rows, VISITORS_JSON, per + 1.0)
    )
    began = time.perf_counter()
    events = read_events(path)
    elapsed = time.perf_counter() - began
    assert events.table.num_rows == 2 * n
    assert pc.count_distinct(events.table.column("actor")).as_py() == n
    # Generous on a shared machine: it catches work quadratic in the instances (a list
    # lookup per name), not a constant factor.
    assert elapsed < 5.0


# -- scale ----------------------------------------------------------------------------


def test_validation_is_vectorised_over_a_million_rows(tmp_path: Path) -> None:
    n = 1_000_000
    seq = pa.array(range(n), pa.int64())
    start = pa.array([float(i) for i in range(n)], pa.float64())
    table = pa.Table.from_arrays(
        [
            pa.array([0] * n, pa.int32()), seq,
            pa.array(["a", "b"] * (n // 2)), pa.array(["x", "z"] * (n // 2)),
            start, pa.array([float(i + 1) for i in range(n)]),
            pa.nulls(n, pa.int64()), pa.nulls(n, pa.string()),
        ],
        schema=SCHEMA,
    )  # fmt: skip
    episodes = [{"episode": 0, "end_time": float(n), "rows": n}]
    path = write_raw(tmp_path / "big.parquet", table, metadata_json(episodes=episodes))
    began = time.perf_counter()
    events = read_events(path)
    assert events.table.num_rows == n
    assert time.perf_counter() - began < 5.0  # a per-row Python loop takes far longer


# -- golden files ---------------------------------------------------------------------


def _migrated_from(version: int) -> int | None:
    """What ``migrated_from`` is for a file of `version` read by today's code."""
    return None if version == SCHEMA_VERSION else version


@pytest.mark.parametrize("version", [1, 2])
def test_golden_factory_tables_read_forever(version: int) -> None:
    events = read_events(FIXTURES / f"factory-v{version}.parquet")
    meta = events.metadata
    assert (meta.schema_version, meta.migrated_from) == (SCHEMA_VERSION, _migrated_from(version))
    assert (meta.domain_id, meta.domain_version) == ("factory", 0)
    assert len(meta.episodes) == 1
    summary = meta.episodes[0]
    assert summary.kpis == {"finished_items": 25.0}
    assert (summary.seed, summary.rows, summary.end_time) == (0, 227, 300.0)
    assert summary.total_reward == pytest.approx(25.03)
    assert meta.provenance["policy"] == {"kind": "rules", "batch": 9}
    assert events.table.num_rows == 227
    assert events.table.slice(0, 5).select(["actor", "state", "start", "end"]).to_pylist() == [
        {"actor": "buffer_a", "state": "level", "start": 0.0, "end": 5.0},
        {"actor": "buffer_b", "state": "level", "start": 0.0, "end": 15.0},
        {"actor": "finished", "state": "count", "start": 0.0, "end": 44.0},
        {"actor": "worker0", "state": "working", "start": 0.0, "end": 5.0},
        {"actor": "worker1", "state": "stalled", "start": 0.0, "end": 5.0},
    ]
    row = events.table.slice(3, 1).to_pylist()[0]
    assert (row["station"], row["item"], row["level"]) == ("s0", 0, None)
    finished = events.to_polars().filter(pl.col("actor") == "finished")
    assert finished["count"].max() == 25


def test_golden_factory_v2_declares_display_hints_that_v1_lacked() -> None:
    old = read_events(FIXTURES / "factory-v1.parquet")
    new = read_events(FIXTURES / "factory-v2.parquet")
    assert new.metadata.vocabulary.quantities == ("level", "count")
    assert new.metadata.vocabulary.colours["stalled"] == "#d63031"
    assert new.metadata.vocabulary.short_lived == ()
    assert (old.metadata.vocabulary.quantities, old.metadata.vocabulary.colours) == ((), {})
    # The same episode in both versions: only the order of emission at equal times
    # (seq) changed between the two recordings, never an interval.
    columns = ["actor", "state", "start", "end", "item", "level", "count"]
    intervals = [sorted(e.table.select(columns).to_pylist(), key=repr) for e in (old, new)]
    assert intervals[0] == intervals[1]


def test_golden_checkout_v1_table_reads_forever() -> None:
    events = read_events(FIXTURES / "checkout-v1.parquet")
    assert events.metadata.domain_id == "checkout"
    assert events.metadata.migrated_from == _migrated_from(1)
    assert events.metadata.episodes[0].kpis == {"served": 2.0}
    assert events.table.num_rows == 13
    assert events.table.schema.field("express").type == pa.bool_()
    assert events.table.column("actor").to_pylist()[:3] == ["queue", "served", "cashier_1"]


def test_golden_checkout_v2_table_reads_forever() -> None:
    events = read_events(FIXTURES / "checkout-v2.parquet")
    meta = events.metadata
    assert (meta.domain_id, meta.migrated_from) == ("checkout", _migrated_from(2))
    assert meta.domain_options == {"cashiers": 2}
    assert meta.episodes[0].kpis == {"served": 3.0}
    assert events.table.num_rows == 21
    vocabulary = meta.vocabulary
    assert [(k.kind, k.prefix, k.states) for k in vocabulary.short_lived] == [
        ("customer", "customer_", ("queueing", "being_served"))
    ]
    assert vocabulary.quantities == ("length", "count")
    assert vocabulary.colours["being_served"] == "#09a1aa"
    customers = events.to_polars().filter(pl.col("actor").str.starts_with("customer_"))
    lifetimes = customers.group_by("actor").agg(life=pl.col("end").max() - pl.col("start").min())
    assert dict(lifetimes.sort("actor").iter_rows()) == {
        "customer_0": 9.0,
        "customer_1": 8.0,
        "customer_2": 7.0,
    }


def test_event_table_is_plain_data() -> None:
    events = read_events(FIXTURES / "checkout-v2.parquet")
    assert isinstance(events, EventTable)
    assert events.table.schema.metadata is None  # the metadata lives in events.metadata
    assert pq.read_metadata(FIXTURES / "checkout-v2.parquet").metadata[b"simreel"]
