"""The version policy: older tables are upgraded on read, newer ones refused.

Version 1 is the first published version, so no real migration exists yet. These
tests register a fake "v0" (no ``seq`` column, ``end`` called ``stop``) to exercise
the mechanism that later versions will use.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from schemas import migrations
from schemas.errors import TableError
from schemas.events import SCHEMA_VERSION, read_events
from schemas.migrations import Migration, upgrade
from tests.test_events_support import metadata_json, valid_table, write_raw

FIXTURES = Path(__file__).resolve().parents[1] / "data" / "fixtures"


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
    current = read_events(write_raw(tmp_path / "v1.parquet", metadata=metadata_json()))
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
