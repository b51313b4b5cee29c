"""Damage inside a table is reported as damage: page checksums are written and verified.

4 KiB of garbage in the middle of a table used to decode silently as data. The
damage here lands in a dictionary page of float values, which zstd stores as it is
(random numbers do not compress): without checksums it reads as other numbers, with
them it is refused, naming the row group.
"""

from __future__ import annotations

import random
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from schemas import events
from schemas.errors import TableError
from schemas.events import read_events, write_events
from schemas.vocabulary import Actor, Attribute, Vocabulary

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "data" / "fixtures"
OVEN = Vocabulary(
    actors=(Actor("oven", ("heating", "baking"), kind="machine"),),
    attributes=(Attribute("temperature", "float64", "oven temperature"),),
)
ROWS = 20_000


class _Episode:
    """An oven alternating between its states once a second, at random temperatures."""

    def __init__(self, rows: int) -> None:
        rng = random.Random(7)
        self.actor = ["oven"] * rows
        self.state = ["heating" if i % 2 == 0 else "baking" for i in range(rows)]
        self.start = [float(i) for i in range(rows)]
        self.end = [float(i + 1) for i in range(rows)]
        self.attributes = {"temperature": [rng.uniform(20.0, 300.0) for _ in range(rows)]}
        self.end_time = float(rows)
        self.seed: int | None = 0
        self.total_reward = 0.0
        self.kpis: dict[str, float] = {}


def _write(path: Path) -> Path:
    return write_events(
        path, [_Episode(ROWS)], domain_id="oven", domain_version=0, vocabulary=OVEN, provenance={}
    )


def _damage(path: Path) -> None:
    """Overwrite 4 KiB in the middle of the table's largest column chunk with garbage."""
    group = pq.read_metadata(path).row_group(0)
    chunks = [group.column(i) for i in range(group.num_columns)]
    chunk = max(chunks, key=lambda c: c.total_compressed_size)
    first = min(o for o in (chunk.dictionary_page_offset, chunk.data_page_offset) if o)
    assert chunk.total_compressed_size > 3 * 4096, "the table is too small to damage inside"
    middle = first + chunk.total_compressed_size // 2 - 2048
    data = bytearray(path.read_bytes())
    data[middle : middle + 4096] = random.Random(1).randbytes(4096)
    path.write_bytes(bytes(data))


def test_damage_inside_a_table_is_refused_as_damage_naming_the_row_group(tmp_path: Path) -> None:
    path = _write(tmp_path / "oven.parquet")
    _damage(path)
    with pytest.raises(TableError) as error:
        read_events(path)
    assert str(error.value) == (
        f"{path}: is damaged at row group 0 (counted from 0, of 1; rows 0 to {ROWS - 1}): "
        "a page's checksum does not match its bytes; the file changed after it was written; "
        "re-copy it from a good copy, or re-record it"
    )


def test_the_same_damage_without_checksums_would_have_read_as_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Why checksums: the damage the test above inflicts is not caught by anything else.
    monkeypatch.setattr(events, "PAGE_CHECKSUMS", False)
    path = _write(tmp_path / "oven.parquet")
    good = read_events(path).table.column("temperature").to_pylist()
    _damage(path)
    damaged = read_events(path).table.column("temperature").to_pylist()
    assert damaged != good


def test_damage_in_a_later_row_group_names_that_group(tmp_path: Path) -> None:
    path = _write(tmp_path / "oven.parquet")
    table = pq.read_table(path)
    split = tmp_path / "split.parquet"
    # The same table in 4 row groups, checksummed, with simreel's metadata kept.
    pq.write_table(table, split, row_group_size=ROWS // 4, write_page_checksum=True)
    metadata = pq.read_metadata(split)
    assert metadata.num_row_groups == 4
    group = metadata.row_group(2)
    chunk = max(
        (group.column(i) for i in range(group.num_columns)),
        key=lambda c: c.total_compressed_size,
    )
    first = min(o for o in (chunk.dictionary_page_offset, chunk.data_page_offset) if o)
    data = bytearray(split.read_bytes())
    middle = first + chunk.total_compressed_size // 2
    data[middle : middle + 512] = random.Random(2).randbytes(512)
    split.write_bytes(bytes(data))
    with pytest.raises(TableError, match=r"damaged at row group 2 \(counted from 0, of 4; rows "):
        read_events(split)


def test_tables_written_without_checksums_still_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(events, "PAGE_CHECKSUMS", False)
    path = _write(tmp_path / "oven.parquet")
    monkeypatch.setattr(events, "PAGE_CHECKSUMS", True)
    assert read_events(path).table.num_rows == ROWS


@pytest.mark.parametrize("golden", sorted(FIXTURES.glob("*.parquet")), ids=lambda p: p.name)
def test_the_golden_tables_without_checksums_still_read(golden: Path) -> None:
    assert read_events(golden).metadata.schema_version == events.SCHEMA_VERSION


def test_the_readme_documents_the_checksums() -> None:
    readme = (ROOT / "schemas" / "README.md").read_text(encoding="utf-8")
    assert "write_page_checksum=True" in readme
    assert "page_checksum_verification=True" in readme
