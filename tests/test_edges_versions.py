"""The version edge: a table exactly one version newer than the reader is refused.

Refusing only versions above ``current + 1`` passed the tests that tried version 9;
a table one version ahead would be read as if it were the reader's own version.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from schemas import migrations
from schemas.errors import TableError
from schemas.events import SCHEMA_VERSION, read_events
from schemas.migrations import Migration
from tests.test_events_support import metadata_json, write_raw


def test_a_table_one_version_ahead_is_refused_and_one_of_this_version_is_read(
    tmp_path: Path,
) -> None:
    # The next version's table here is this version's table in every respect but the
    # number: only the number can make the reader refuse it.
    same = write_raw(tmp_path / "same.parquet", metadata=metadata_json())
    assert read_events(same).metadata.schema_version == SCHEMA_VERSION
    ahead = write_raw(
        tmp_path / "ahead.parquet", metadata=metadata_json(schema_version=SCHEMA_VERSION + 1)
    )
    with pytest.raises(TableError) as error:
        read_events(ahead)
    assert str(error.value) == (
        f"{ahead}: written by schema v{SCHEMA_VERSION + 1}; this simreel reads up to "
        f"v{SCHEMA_VERSION}; upgrade simreel"
    )


@pytest.mark.parametrize("current", [1, 2, 5])
def test_refuse_newer_draws_the_line_right_after_the_current_version(current: int) -> None:
    for found in range(current + 1):
        migrations.refuse_newer(found, current=current, path="t.parquet")
    for found in (current + 1, current + 2):
        with pytest.raises(TableError, match=f"written by schema v{found}; .* up to v{current}"):
            migrations.refuse_newer(found, current=current, path="t.parquet")


def test_upgrade_refuses_the_next_version_even_with_nothing_to_migrate() -> None:
    def step(table: pa.Table, document: dict[str, Any]) -> tuple[pa.Table, dict[str, Any]]:
        return table, document

    registry = {version: Migration(version, "no change", step) for version in range(5)}
    table = pa.table({"x": [1]})
    _, document = migrations.upgrade(
        table, {"schema_version": 3}, found=3, current=3, path="t.parquet", migrations=registry
    )
    assert document["schema_version"] == 3
    with pytest.raises(TableError, match="written by schema v4; this simreel reads up to v3"):
        migrations.upgrade(
            table, {"schema_version": 4}, found=4, current=3, path="t.parquet", migrations=registry
        )
