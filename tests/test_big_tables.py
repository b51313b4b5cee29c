"""The pruning layout: how tables are written, and that a window reads only its row groups.

``schemas/README.md`` section 2.2: no row group holds two episodes, an episode is cut into
time slices of at most ``row_group_rows`` rows, and the metadata's ``layout`` says which
row groups hold each episode. A still or a window of one episode then reads only the
row groups whose ``start``/``end`` statistics can hold an interval that shows in it.
These tests prove which row groups were read (never a time), on tables of a few dozen
rows cut into row groups of six.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from schemas.errors import TableError
from schemas.events import ROW_GROUP_ROWS, read_events, write_events
from schemas.windows import open_events
from tests.big_tables_support import (
    ACTORS,
    ROWS_PER_GROUP,
    SECONDS,
    machine_rows,
    with_rows,
    write_plant,
)

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "data" / "fixtures"


def _footer(path: Path) -> list[dict[str, Any]]:
    """Per row group: its rows and the min/max of episode, start and end."""
    metadata = pq.read_metadata(path)
    names = pq.ParquetFile(path).schema_arrow.names
    groups = []
    for g in range(metadata.num_row_groups):
        group = metadata.row_group(g)
        stats = {n: group.column(names.index(n)).statistics for n in ("episode", "start", "end")}
        groups.append(
            {
                "rows": group.num_rows,
                "episodes": (stats["episode"].min, stats["episode"].max),
                "start": (stats["start"].min, stats["start"].max),
                "end": (stats["end"].min, stats["end"].max),
            }
        )
    return groups


def _needed(path: Path, episode: int, low: float, high: float) -> set[int]:
    """The row groups holding a row of `episode` that shows in [low, high], by brute force."""
    table = pq.read_table(path)
    sizes = [group["rows"] for group in _footer(path)]
    group_of = np.repeat(np.arange(len(sizes)), sizes)
    shows = pc.and_(
        pc.and_(pc.equal(table["episode"], episode), pc.less_equal(table["start"], high)),
        pc.greater_equal(table["end"], low),
    )
    return set(group_of[np.asarray(shows)].tolist())


# -- the layout as written ------------------------------------------------------------


def test_each_episode_is_cut_into_its_own_time_slices_and_indexed(tmp_path: Path) -> None:
    path = write_plant(tmp_path / "t.parquet", [machine_rows(), machine_rows(7), machine_rows()])
    groups = _footer(path)
    # 60, 21 and 60 rows in groups of at most 6: 10 + 4 + 10 row groups, none shared.
    assert [g["rows"] for g in groups] == [6] * 10 + [6, 6, 6, 3] + [6] * 10
    assert [g["episodes"] for g in groups] == [(0, 0)] * 10 + [(1, 1)] * 4 + [(2, 2)] * 10
    starts = [g["start"] for g in groups]
    assert starts[:3] == [(0.0, 1.0), (2.0, 3.0), (4.0, 5.0)], "two seconds per slice"
    meta = json.loads(pq.read_metadata(path).metadata[b"simreel"])
    assert meta["layout"] == {
        "version": 1,
        "row_group_rows": ROWS_PER_GROUP,
        "episodes": [[0, 10], [10, 4], [14, 10]],
    }
    assert read_events(path).metadata.layout is not None


def test_an_episode_without_rows_has_no_row_group(tmp_path: Path) -> None:
    empty = machine_rows().slice(0, 0)
    path = write_plant(tmp_path / "t.parquet", [machine_rows(2), empty, machine_rows(2)])
    meta = json.loads(pq.read_metadata(path).metadata[b"simreel"])
    assert meta["layout"]["episodes"] == [[0, 1], [0, 0], [1, 1]]
    assert open_events(path).read(1, (0.0, 1.0)).table.num_rows == 0
    assert open_events(path).read(2, (0.0, 1.0)).selection.row_groups == (1,)


def test_recorded_tables_are_one_row_group_per_episode_and_readable_by_pyarrow(
    tmp_path: Path,
) -> None:
    golden = read_events(FIXTURES / "cashier-v2.parquet")  # 2 episodes, no layout
    rows = [golden.episode(k) for k in (0, 1)]
    path = tmp_path / "again.parquet"
    episodes = [_Columns(table, golden.metadata.episodes[k]) for k, table in enumerate(rows)]
    write_events(
        path,
        episodes,
        domain_id=golden.metadata.domain_id,
        domain_version=golden.metadata.domain_version,
        vocabulary=golden.metadata.vocabulary,
        provenance={},
    )
    assert [g["episodes"] for g in _footer(path)] == [(0, 0), (1, 1)]
    assert all(g["rows"] <= ROW_GROUP_ROWS for g in _footer(path))
    again = read_events(path)
    assert again.table.equals(golden.table)
    # The metadata is in the footer and, for pyarrow, in the schema of a table it reads.
    assert b"simreel" in pq.read_table(path).schema.metadata


class _Columns:
    """An episode's rows in the shape write_events takes (as a recorder gives them)."""

    def __init__(self, rows: pa.Table, summary: Any) -> None:
        order = pc.sort_indices(rows, [("seq", "ascending")])
        rows = rows.take(order)
        self.actor = rows["actor"].to_pylist()
        self.state = rows["state"].to_pylist()
        self.start = rows["start"].to_pylist()
        self.end = rows["end"].to_pylist()
        self.attributes = {name: rows[name].to_pylist() for name in rows.column_names[6:]}
        self.end_time, self.seed = summary.end_time, summary.seed
        self.total_reward, self.kpis = summary.total_reward, summary.kpis


# -- pruning ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("window", "groups"),
    [
        ((10.5, 10.5), {15}),  # a still inside one slice: [10, 11] of each machine
        ((10.0, 10.0), {14, 15}),  # at a boundary: [9, 10] ends and [10, 11] starts
        ((3.2, 7.9), {11, 12, 13}),  # starts 3..7 lie in slices 11 (2-3), 12 (4-5), 13 (6-7)
        ((0.0, 0.0), {10}),
        ((20.0, 20.0), {19}),  # the last instant: the last intervals end there
    ],
)
def test_a_window_reads_only_the_slices_it_shows(
    tmp_path: Path, window: tuple[float, float], groups: set[int]
) -> None:
    path = write_plant(tmp_path / "t.parquet", [machine_rows(), machine_rows(), machine_rows()])
    read = open_events(path).read(1, window)
    assert read.selection is not None
    assert read.selection.pruned
    assert set(read.selection.row_groups) == groups == _needed(path, 1, *window)
    low, high = window
    expected = (
        read_events(path).episode(1).filter((pc.field("start") <= high) & (pc.field("end") >= low))
    )
    assert read.table.equals(expected)
    assert read.selection.window == window


def test_the_intervals_open_when_the_window_begins_are_found_by_the_end_statistic(
    tmp_path: Path,
) -> None:
    # The shift is on from 0 to 20: its one row is in the first slice, which a window
    # late in the episode must read too, for the shift's state; the slices between are
    # skipped, their intervals having all ended before the window.
    rows = with_rows(machine_rows(), [("shift", "on", 0.0, 20.0)])
    path = write_plant(tmp_path / "t.parquet", [rows])
    read = open_events(path).read(0, (15.5, 16.5))
    first = _footer(path)[0]
    assert first["end"][1] == 20.0
    assert set(read.selection.row_groups) == {0, 7, 8} == _needed(path, 0, 15.5, 16.5)
    assert ("shift", "on") in zip(
        read.table["actor"].to_pylist(), read.table["state"].to_pylist(), strict=False
    )
    assert read.table.num_rows == 1 + 2 * len(ACTORS)


def test_reading_every_slice_anyway_gives_the_whole_episode(tmp_path: Path) -> None:
    path = write_plant(tmp_path / "t.parquet", [machine_rows(2)], rows_per_group=100)
    read = open_events(path).read(0, (0.5, 0.5))
    # One slice holds the whole episode: painters get it all for the price of the window.
    assert read.selection.row_groups == (0,)
    assert read.selection.window is None
    assert read.table.num_rows == 2 * len(ACTORS)


def test_no_window_reads_the_episode_and_nothing_else(tmp_path: Path) -> None:
    path = write_plant(tmp_path / "t.parquet", [machine_rows(), machine_rows(5), machine_rows()])
    read = open_events(path).read(1)
    assert read.selection.row_groups == (10, 11, 12)
    assert read.table.equals(read_events(path).episode(1))


def test_an_episode_not_in_the_table_is_named(tmp_path: Path) -> None:
    path = write_plant(tmp_path / "t.parquet", [machine_rows(2)])
    with pytest.raises(
        TableError, match=r"episode 4 is not in the table, which holds episodes \[0\]"
    ):
        open_events(path).read(4, (0.0, 1.0))


# -- tables without the layout ----------------------------------------------------------


@pytest.mark.parametrize("golden", sorted(FIXTURES.glob("*.parquet")), ids=lambda p: p.name)
def test_tables_without_the_layout_are_read_whole(golden: Path) -> None:
    whole = read_events(golden)
    assert whole.metadata.layout is None
    read = open_events(golden).read(0, (1.0, 2.0))
    assert read.selection is not None
    assert not read.selection.pruned
    assert read.selection.window is None
    assert read.table.equals(whole.episode(0))


def test_an_index_that_does_not_fit_the_footer_is_ignored(tmp_path: Path) -> None:
    path = write_plant(tmp_path / "t.parquet", [machine_rows(), machine_rows()])
    # Another tool rewrote the rows in other row groups and copied the metadata over.
    rewritten = tmp_path / "rewritten.parquet"
    pq.write_table(pq.read_table(path), rewritten, row_group_size=7)
    assert b"layout" in pq.read_metadata(rewritten).metadata[b"simreel"]
    read = open_events(rewritten).read(1, (10.5, 10.5))
    assert not read.selection.pruned
    assert read.table.equals(read_events(rewritten).episode(1))


# -- what a pruned read checks ----------------------------------------------------------


def _with_bad_state(path: Path, row: int, out: Path) -> Path:
    """`path` with row `row`'s state made undeclared, rewritten in the same row groups."""
    table = pq.read_table(path)
    states = table["state"].to_pylist()
    states[row] = "on_fire"
    table = table.set_column(table.schema.get_field_index("state"), "state", pa.array(states))
    metadata = pq.read_metadata(path).metadata
    with pq.ParquetWriter(out, table.schema.remove_metadata(), store_schema=False) as writer:
        for episode in range(2):
            rows = table.filter(pc.equal(table["episode"], episode))
            writer.write_table(rows.replace_schema_metadata(None), row_group_size=ROWS_PER_GROUP)
        writer.add_key_value_metadata({"simreel": metadata[b"simreel"].decode()})
    return out


def test_a_pruned_read_checks_what_it_reads_and_names_the_files_row(tmp_path: Path) -> None:
    path = write_plant(tmp_path / "t.parquet", [machine_rows(), machine_rows()])
    bad = _with_bad_state(path, 66, tmp_path / "bad.parquet")  # episode 1, second slice
    message = r"row 66 \(episode 1, seq 6, actor 'press', state 'on_fire'.*not declared"
    with pytest.raises(TableError, match=message):
        read_events(bad)
    source = open_events(bad)
    with pytest.raises(TableError, match=message):
        source.read(1, (2.5, 2.5))  # reads slice 11, which holds the row
    later = source.read(1, (15.5, 15.5))  # slice 17 only: the bad row is not read
    assert later.selection.row_groups == (17,)
    assert "on_fire" not in later.table["state"].to_pylist()


def test_a_read_of_the_whole_episode_checks_its_rows_count_and_seq(tmp_path: Path) -> None:
    path = write_plant(tmp_path / "t.parquet", [machine_rows(2)], rows_per_group=3)
    table = pq.read_table(path)
    seq = table["seq"].to_pylist()
    seq[4] = 0  # a duplicate seq, still in (start, seq) order within its start
    table = table.set_column(table.schema.get_field_index("seq"), "seq", pa.array(seq, pa.int64()))
    order = pc.sort_indices(table, [("start", "ascending"), ("seq", "ascending")])
    table = table.take(order)
    metadata = pq.read_metadata(path).metadata[b"simreel"].decode()
    bad = tmp_path / "bad.parquet"
    with pq.ParquetWriter(bad, table.schema.remove_metadata(), store_schema=False) as writer:
        writer.write_table(table.replace_schema_metadata(None), row_group_size=3)
        writer.add_key_value_metadata({"simreel": metadata})
    with pytest.raises(TableError, match=r"seq must number its 6 rows 0\.\.5 once each"):
        open_events(bad).read(0)
    # A window of one slice cannot see the numbering of the others: it is not checked.
    assert open_events(bad).read(0, (0.2, 0.4)).selection.row_groups == (0,)


# -- the document's example ---------------------------------------------------------------


def test_the_readme_window_example_reads_what_simreel_reads(tmp_path: Path) -> None:
    text = (ROOT / "schemas" / "README.md").read_text(encoding="utf-8")
    section = text[text.index("### 2.2") : text.index("## 3.")]
    (block,) = re.findall(r"```python\n(.*?)```", section, flags=re.DOTALL)
    namespace: dict[str, Any] = {}
    exec(block, namespace)  # the document's own code, as printed
    path = write_plant(
        tmp_path / "t.parquet",
        [machine_rows(), with_rows(machine_rows(), [("shift", "on", 0.0, 20.0)])],
    )
    for window in ((15.5, 16.5), (0.0, 3.0), (SECONDS, SECONDS)):
        ours = open_events(path).read(1, window).table
        theirs = namespace["read_window"](path, 1, *window)
        assert theirs.to_pylist() == ours.to_pylist()
