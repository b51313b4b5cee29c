"""The version policy: older tables are upgraded on read, newer ones refused.

The real migration v1 -> v2 is tested with the v1 golden files, which must stay
byte-for-byte as the v1 code wrote them. The chain itself is also exercised with a
fake "v0" (no ``seq`` column, ``end`` called ``stop``) registered by some tests.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from schemas import events as events_module
from schemas import migrations
from schemas.errors import TableError
from schemas.events import SCHEMA_VERSION, read_events
from schemas.migrations import Migration, upgrade
from tests.test_events_support import VOCABULARY_JSON, metadata_json, valid_table, write_raw

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "data" / "fixtures"

V1_GOLDEN_SHA256 = {
    "factory-v1.parquet": "98ad56590c3a4558b0cdad5805231c1d20d51c48b2fdd8313b971bf5611794db",
    "checkout-v1.parquet": "3be38414d2a843961e84d1c1160a5f71670b48b3dea926ec3923ecf2c55b402c",
}
"""The v1 golden files as the v1 code wrote them; a changed byte hides what they guard."""


def _v0_table() -> pa.Table:
    table = valid_table().drop_columns(["seq"])
    return table.rename_columns(["stop" if name == "end" else name for name in table.column_names])


def _v0_to_v1(table: pa.Table, document: dict[str, Any]) -> tuple[pa.Table, dict[str, Any]]:
    """v1 renamed ``stop`` to ``end`` and added ``seq`` (v0 rows were in emission order)."""
    table = table.rename_columns(["end" if name == "stop" else name for name in table.column_names])
    episode = table.column("episode").to_pylist()
    firsts = {e: episode.index(e) for e in set(episode)}
    seq = pa.array([i - firsts[e] for i, e in enumerate(episode)], pa.int64())
    return table.add_column(1, pa.field("seq", pa.int64(), nullable=False), seq), document


FAKE_V0 = Migration(0, "v1 renames stop to end and adds seq", _v0_to_v1)


def test_an_older_table_is_upgraded_in_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(migrations.MIGRATIONS, 0, FAKE_V0)
    old = write_raw(tmp_path / "v0.parquet", _v0_table(), metadata_json(schema_version=0))
    before = old.read_bytes()
    events = read_events(old)
    assert (events.metadata.schema_version, events.metadata.migrated_from) == (SCHEMA_VERSION, 0)
    current = read_events(write_raw(tmp_path / "current.parquet", metadata=metadata_json()))
    assert events.table.equals(current.table)
    assert old.read_bytes() == before  # files on disk are never rewritten


def test_an_older_table_without_a_migration_is_refused(tmp_path: Path) -> None:
    old = write_raw(tmp_path / "v0.parquet", _v0_table(), metadata_json(schema_version=0))
    with pytest.raises(TableError, match="written by schema v0, which this simreel cannot upgrade"):
        read_events(old)


def test_a_migration_that_fails_is_a_table_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(table: pa.Table, document: dict[str, Any]) -> tuple[pa.Table, dict[str, Any]]:
        return table.select(["no_such_column"]), document

    monkeypatch.setitem(migrations.MIGRATIONS, 0, Migration(0, "broken", broken))
    old = write_raw(tmp_path / "v0.parquet", _v0_table(), metadata_json(schema_version=0))
    with pytest.raises(TableError, match=r"cannot upgrade from schema v0 \(broken\)"):
        read_events(old)


def test_the_migrated_table_is_validated_like_any_other(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def forgets_seq(table: pa.Table, document: dict[str, Any]) -> tuple[pa.Table, dict[str, Any]]:
        names = ["end" if name == "stop" else name for name in table.column_names]
        return table.rename_columns(names), document

    monkeypatch.setitem(migrations.MIGRATIONS, 0, Migration(0, "incomplete", forgets_seq))
    old = write_raw(tmp_path / "v0.parquet", _v0_table(), metadata_json(schema_version=0))
    with pytest.raises(TableError, match=r"missing column\(s\) \['seq'\]"):
        read_events(old)


def test_migrations_chain_and_set_the_version_at_each_step() -> None:
    seen: list[int] = []

    def step(table: pa.Table, document: dict[str, Any]) -> tuple[pa.Table, dict[str, Any]]:
        seen.append(document["schema_version"])
        doubled = pc.multiply(table.column("x"), 2)
        return table.set_column(0, "x", doubled), document

    registry = {0: Migration(0, "double", step), 1: Migration(1, "double again", step)}
    table, document = upgrade(
        pa.table({"x": [1, 2]}), {"schema_version": 0},
        found=0, current=2, path="t.parquet", migrations=registry,
    )  # fmt: skip
    assert seen == [0, 1]
    assert document["schema_version"] == 2
    assert table.column("x").to_pylist() == [4, 8]


def test_a_newer_version_is_refused_before_reading_columns(tmp_path: Path) -> None:
    # Columns of a future layout may not load at all; the version alone decides.
    future = write_raw(
        tmp_path / "v9.parquet", pa.table({"whatever": [1]}), metadata_json(schema_version=9)
    )
    with pytest.raises(TableError) as error:
        read_events(future)
    assert str(error.value) == (
        f"{future}: written by schema v9; this simreel reads up to v{SCHEMA_VERSION}; "
        "upgrade simreel"
    )


def test_register_refuses_a_second_migration_from_one_version(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(migrations, "MIGRATIONS", {})
    migrations.register(0, "first")(_v0_to_v1)
    with pytest.raises(ValueError, match="already registered"):
        migrations.register(0, "second")(_v0_to_v1)


def test_every_registered_migration_has_a_golden_file_that_reads() -> None:
    for version in sorted(migrations.MIGRATIONS):
        goldens = sorted(FIXTURES.glob(f"*-v{version}.parquet"))
        assert goldens, (
            f"migration from v{version} has no golden file data/fixtures/<domain>-v{version}"
            ".parquet written by the old code"
        )
        for golden in goldens:
            assert read_events(golden).metadata.migrated_from == version
    # The current version's golden files read without migration.
    current = sorted(FIXTURES.glob(f"*-v{SCHEMA_VERSION}.parquet"))
    assert current
    for golden in current:
        assert read_events(golden).metadata.migrated_from is None


# -- the real migration: v1 -> v2 ------------------------------------------------------


def test_the_v1_golden_files_are_byte_for_byte_as_the_v1_code_wrote_them() -> None:
    for name, digest in V1_GOLDEN_SHA256.items():
        assert hashlib.sha256((FIXTURES / name).read_bytes()).hexdigest() == digest, (
            f"data/fixtures/{name} changed; restore it from git (golden files are never rewritten)"
        )


@pytest.mark.parametrize("name", sorted(V1_GOLDEN_SHA256))
def test_a_v1_golden_file_reads_with_the_v2_defaults(name: str) -> None:
    path = FIXTURES / name
    raw = json.loads(pq.read_metadata(path).metadata[b"simreel"])
    assert raw["schema_version"] == 1
    assert "options" not in raw["domain"]
    assert "short_lived" not in raw["vocabulary"]
    assert "colours" not in raw["vocabulary"]
    events = read_events(path)
    meta = events.metadata
    assert (meta.schema_version, meta.migrated_from) == (SCHEMA_VERSION, 1)
    assert meta.domain_options == {}
    vocabulary = meta.vocabulary
    assert vocabulary.short_lived == ()
    assert vocabulary.colours == {}
    assert vocabulary.quantities == ()
    # Everything v1 declared survives the migration unchanged.
    assert [(a.name, a.kind, list(a.states)) for a in vocabulary.actors] == [
        (a["name"], a.get("kind", a["name"]), a["states"]) for a in raw["vocabulary"]["actors"]
    ]
    assert [(a.name, a.type, a.description) for a in vocabulary.attributes] == [
        (a["name"], a["type"], a.get("description", "")) for a in raw["vocabulary"]["attributes"]
    ]
    assert [s.to_json() for s in meta.episodes] == [
        {"seed": None, "total_reward": 0.0, "kpis": {}, **e} for e in raw["episodes"]
    ]
    # v2 changed no column: the rows are the file's rows.
    assert events.table.to_pylist() == pq.read_table(path).to_pylist()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"domain": None}, "simreel.domain must be an object, found nothing"),
        ({"domain": "toy"}, "simreel.domain must be an object, found 'toy'"),
        ({"vocabulary": None}, "vocabulary is malformed: vocabulary must be an object"),
        (
            {"vocabulary": {**VOCABULARY_JSON, "attributes": "n"}},
            "vocabulary.attributes must be a list",
        ),
        (
            {"vocabulary": {**VOCABULARY_JSON, "attributes": ["n"]}},
            r"vocabulary.attributes\[0\] must be an object",
        ),
    ],
)
def test_a_malformed_v1_document_is_refused_naming_the_field_not_the_migration(
    tmp_path: Path, change: dict[str, Any], message: str
) -> None:
    path = write_raw(tmp_path / "v1.parquet", metadata=metadata_json(schema_version=1, **change))
    with pytest.raises(TableError, match=message) as error:
        read_events(path)
    assert "cannot upgrade" not in str(error.value)


def test_the_migration_replaces_keys_a_v1_reader_ignored(tmp_path: Path) -> None:
    # A v1 writer may have left v2-looking keys; they meant nothing in v1.
    vocabulary = {**VOCABULARY_JSON, "short_lived": "junk", "colours": {"x": "red"}}
    document = metadata_json(
        schema_version=1, vocabulary=vocabulary, domain={"id": "toy", "version": 3, "options": 7}
    )
    meta = read_events(write_raw(tmp_path / "v1.parquet", metadata=document)).metadata
    assert (meta.vocabulary.short_lived, meta.vocabulary.colours, meta.domain_options) == (
        (),
        {},
        {},
    )


# -- refusing newer versions: the promised messages -------------------------------------


@pytest.mark.parametrize("path", sorted(FIXTURES.glob("*-v2.parquet")), ids=lambda p: p.name)
def test_a_v1_only_reader_refuses_a_v2_golden_file_with_the_promised_message(
    monkeypatch: pytest.MonkeyPatch, path: Path
) -> None:
    # A reader limited to v1 is today's reader told that it knows v1 only: the version
    # check (migrations.refuse_newer) is unchanged since v1, so this is what v1 prints.
    monkeypatch.setattr(events_module, "SCHEMA_VERSION", 1)
    with pytest.raises(TableError) as error:
        read_events(path)
    promised = "written by schema v2; this simreel reads up to v1; upgrade simreel"
    assert str(error.value) == f"{path}: {promised}"
    assert promised in (ROOT / "schemas" / "README.md").read_text(encoding="utf-8")


def test_todays_reader_refuses_the_next_version_with_the_same_form_of_message(
    tmp_path: Path,
) -> None:
    future = write_raw(
        tmp_path / "next.parquet", metadata=metadata_json(schema_version=SCHEMA_VERSION + 1)
    )
    with pytest.raises(TableError) as error:
        read_events(future)
    promised = (
        f"written by schema v{SCHEMA_VERSION + 1}; this simreel reads up to v{SCHEMA_VERSION}; "
        "upgrade simreel"
    )
    assert str(error.value) == f"{future}: {promised}"
    assert promised in (ROOT / "schemas" / "README.md").read_text(encoding="utf-8")
