"""``simreel inspect`` streams: it reads a table a chunk at a time, checks every row as
it goes, and its figures are those of the whole table read at once.

Memory is bounded by proving what is read (chunks of at most the chunk size, never the
whole table), not by measuring it; ``make bench`` prints the peak memory of 10^7 rows.
Also here: the counters' buckets are bounded by what is printed, whatever ``end_time``
says; NaN and infinities never make a traceback; the metadata reader refuses a document
too deep or too large in one line.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from schemas import metadata as metadata_module
from schemas.errors import TableError
from schemas.events import read_events, write_events
from schemas.scan import ScannedTable, scan_events
from schemas.windows import open_events
from stages.bench_tables import generate
from stages.inspect import format_text, summarise
from stages.inspect import levels as levels_module
from stages.inspect.counters import MAX_BUCKETS, bucket_width
from tests.cli_helpers import run_cli
from tests.test_events import BAD_COLUMNS, BAD_METADATA
from tests.test_events_support import metadata_json, write_raw
from tests.test_inspect import SHOP_EPISODES, _shop
from tests.test_inspect_why import PLANT, _episode_0, _episode_1, _plant

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "data" / "fixtures"


def _flat(value: Any, prefix: str = "") -> dict[str, Any]:
    """A nested summary as {path: leaf}, so pytest.approx can compare it."""
    if isinstance(value, dict):
        return {
            k: v for key, item in value.items() for k, v in _flat(item, f"{prefix}.{key}").items()
        }
    if isinstance(value, list):
        return {
            k: v for i, item in enumerate(value) for k, v in _flat(item, f"{prefix}[{i}]").items()
        }
    return {prefix: value}


def _same(streamed: dict[str, Any], whole: dict[str, Any]) -> None:
    a, b = _flat(streamed), _flat(whole)
    assert a.keys() == b.keys()
    numbers = {k: v for k, v in b.items() if isinstance(v, float)}
    assert {k: a[k] for k in numbers} == pytest.approx(numbers, rel=1e-9, abs=1e-9)
    assert {k: v for k, v in a.items() if k not in numbers} == {
        k: v for k, v in b.items() if k not in numbers
    }


@pytest.fixture(scope="module")
def tables(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("streaming")
    generate(folder / "bench.parquet", 4_000, 5)
    return {
        **{path.stem: path for path in FIXTURES.glob("*.parquet")},
        "plant": _plant(folder / "plant.parquet", [_episode_0(), _episode_1()]),
        "shop": _shop(folder / "shop.parquet", SHOP_EPISODES),
        "bench": folder / "bench.parquet",
    }


@pytest.mark.parametrize("chunk", [5, 64])
@pytest.mark.parametrize(
    "name", ["factory-v1", "factory-v2", "cashier-v2", "checkout-v2", "plant", "shop", "bench"]
)
def test_streamed_figures_are_those_of_the_whole_table(
    tables: dict[str, Path], name: str, chunk: int
) -> None:
    path = tables[name]
    whole = summarise(read_events(path))
    streamed = summarise(scan_events(path, chunk_rows=chunk))
    _same(streamed, whole)
    assert format_text(streamed) == format_text(whole)


def test_levels_with_many_values_are_binned_in_a_second_pass(
    tables: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The rack climbs through 30 levels and the tank 20: with at most 3 counted one by
    # one, both are binned from a second pass, to the same ranges as counted at once.
    path = tables["plant"]
    counted = summarise(scan_events(path, chunk_rows=5))["levels"]
    monkeypatch.setattr(levels_module, "_DISTINCT", 3)
    passes: list[int] = []
    real = ScannedTable.chunks

    def chunks(self: ScannedTable, columns: list[str] | None = None) -> Any:
        passes.append(1)
        return real(self, columns)

    monkeypatch.setattr(ScannedTable, "chunks", chunks)
    binned = summarise(scan_events(path, chunk_rows=5))["levels"]
    assert len(passes) == 2
    assert counted["actors"]["rack"]["time_at_level"][0]["from"] == 0
    _same(binned, counted)


def test_inspect_reads_chunks_never_the_whole_table(
    tables: dict[str, Path], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def refuse(*_: object, **__: object) -> None:
        raise AssertionError("inspect read the whole table at once")

    monkeypatch.setattr(pq.ParquetFile, "read", refuse)
    monkeypatch.setattr(pq, "read_table", refuse)
    sizes: list[int] = []
    real = ScannedTable.chunks

    def chunks(self: ScannedTable, columns: list[str] | None = None) -> Any:
        for chunk in real(self, columns):
            sizes.append(chunk.num_rows)
            yield chunk

    monkeypatch.setattr(ScannedTable, "chunks", chunks)
    code, out, _ = run_cli(["inspect", str(tables["bench"])], capsys)
    assert code == 0
    assert "10 episode(s)" in out
    assert sum(sizes) == pq.read_metadata(tables["bench"]).num_rows
    assert max(sizes) <= 65_536
    smaller = [c.num_rows for c in scan_events(tables["bench"], chunk_rows=100).chunks()]
    assert len(smaller) >= 40
    assert max(smaller) <= 100


# -- checking while streaming -----------------------------------------------------------------


def _refuse(path: Path, chunk: int) -> str:
    with pytest.raises(TableError) as error:
        for _ in scan_events(path, chunk_rows=chunk).chunks():
            pass
    return str(error.value)


@pytest.mark.parametrize("chunk", [2, 100])
@pytest.mark.parametrize(
    ("table", "message"), [case[1:] for case in BAD_COLUMNS], ids=[c[0] for c in BAD_COLUMNS]
)
def test_a_breach_is_refused_as_read_events_refuses_it(
    tmp_path: Path, table: pa.Table, message: str, chunk: int
) -> None:
    path = write_raw(tmp_path / "bad.parquet", table, metadata_json())
    found = _refuse(path, chunk)
    if "seq must number" in message:
        # A duplicate seq with an equal start is also out of (start, seq) order, which
        # the scan, checking order as it goes, may see first.
        message = f"({message})|(rows are not ordered)"
    assert re.search(message, found), found


@pytest.mark.parametrize(
    ("metadata", "message"), [case[1:] for case in BAD_METADATA], ids=[c[0] for c in BAD_METADATA]
)
def test_bad_metadata_is_refused_before_any_row(
    tmp_path: Path, metadata: dict[str, Any] | bytes | None, message: str
) -> None:
    path = write_raw(tmp_path / "bad.parquet", None, metadata)
    assert re.search(message, _refuse(path, 2))


def _rows(rows: list[tuple[Any, ...]]) -> pa.Table:
    """The valid table of tests.test_events_support with `rows` instead."""
    from tests.test_events_support import SCHEMA

    columns = list(zip(*rows, strict=True))
    return pa.Table.from_arrays(
        [pa.array(values, field.type) for values, field in zip(columns, SCHEMA, strict=True)],
        schema=SCHEMA,
    )


# Episode 0: a's intervals, b's one interval; episode 1: a's one interval.
_GOOD = [
    (0, 0, "a", "x", 0.0, 2.0, 1, None),
    (0, 1, "b", "z", 0.0, 10.0, 0, None),
    (0, 2, "a", "y", 2.0, 2.0, None, "instant"),
    (0, 3, "a", "x", 2.0, 10.0, None, "hi"),
    (1, 0, "a", "x", 0.0, 10.0, 7, None),
]


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        # b's second interval (row 3, the second chunk) starts before its first ends.
        (
            [_GOOD[0], _GOOD[1], _GOOD[2], (0, 3, "b", "z", 5.0, 10.0, 0, None), _GOOD[4]],
            r"intervals of one actor overlap: row 3 \(episode 0, seq 3, actor 'b'.* starts "
            r"before row 1 ",
        ),
        # Rows 1 and 2 swapped across the chunk boundary.
        (
            [_GOOD[0], _GOOD[2], _GOOD[1], _GOOD[3], _GOOD[4]],
            r"rows are not ordered by \(episode, start, seq\): row 2 .* comes after row 1",
        ),
        # seq 0 again in episode 0, in the second chunk.
        (
            [_GOOD[0], _GOOD[1], _GOOD[2], (0, 0, "a", "x", 2.0, 10.0, None, "hi"), _GOOD[4]],
            r"(seq must number its 4 rows 0\.\.3 once each)|(rows are not ordered)",
        ),
    ],
)
def test_a_breach_across_two_chunks_is_found(
    tmp_path: Path, rows: list[tuple[Any, ...]], message: str
) -> None:
    path = write_raw(tmp_path / "bad.parquet", _rows(rows), metadata_json())
    with pytest.raises(TableError, match=message):
        read_events(path)
    assert re.search(message, _refuse(path, 2)), _refuse(path, 2)


def test_an_episode_whose_rows_are_missing_is_refused_after_the_last_chunk(tmp_path: Path) -> None:
    document = metadata_json()
    document["episodes"].append({"episode": 2, "end_time": 10.0, "rows": 3})
    path = write_raw(tmp_path / "bad.parquet", _rows(_GOOD), document)
    assert "episode 2 has 0 row(s) in the table but its metadata summary" in _refuse(path, 2)


# -- counters: buckets bounded by what is printed ------------------------------------------------


def _golden_with_end(path: Path, end_time: float) -> Path:
    """The factory golden table with its episode's end_time replaced."""
    golden = FIXTURES / "factory-v2.parquet"
    document = json.loads(pq.read_metadata(golden).metadata[b"simreel"])
    document["episodes"][0]["end_time"] = end_time
    return write_raw(path, pq.read_table(golden).replace_schema_metadata(None), document)


@pytest.mark.parametrize("end_time", [1e9, 1e308, 1.7976931348623157e308])
def test_a_long_episode_gets_wider_buckets_not_more(tmp_path: Path, end_time: float) -> None:
    path = _golden_with_end(tmp_path / "long.parquet", end_time)
    summary = summarise(scan_events(path))
    counter = summary["counters"]["finished"]
    rises = counter["per_episode"][0]["rises"]
    assert 1 <= len(rises) <= MAX_BUCKETS
    assert sum(rises) == 25, "every item is still counted"
    assert counter["requested_bucket_seconds"] == 60.0
    assert counter["bucket_seconds"] * MAX_BUCKETS >= end_time
    text = format_text(summary)
    assert max(len(line) for line in text.splitlines()) < 1000


@pytest.mark.parametrize("end_time", [2e-299, 5e-324])
def test_a_tiny_episode_has_one_bucket(tmp_path: Path, end_time: float) -> None:
    rows = [(0, 0, "a", "x", 0.0, end_time, 1, None), (0, 1, "b", "z", 0.0, end_time, 4, None)]
    document = metadata_json(episodes=[{"episode": 0, "end_time": end_time, "rows": 2}])
    path = write_raw(tmp_path / "tiny.parquet", _rows(rows), document)
    for bucket in (60.0, 5e-324):
        counter = summarise(scan_events(path), bucket_seconds=bucket)["counters"]["b"]
        assert 1 <= len(counter["per_episode"][0]["rises"]) <= MAX_BUCKETS


@pytest.mark.parametrize(
    ("requested", "span", "expected"),
    [
        (60.0, 300.0, 60.0),  # 5 buckets: as asked
        (7.0, 300.0, 7.0),  # 43 buckets: as asked
        (60.0, 36_000.0, 1_000.0),  # 600 buckets asked: 36 of 1000 s
        (60.0, 1e9, 2e7),
        (1e-300, 1.0, 0.02),
    ],
)
def test_the_bucket_width_is_round_and_bounded(
    requested: float, span: float, expected: float
) -> None:
    document = metadata_json(episodes=[{"episode": 0, "end_time": span, "rows": 0}])
    from schemas.metadata import parse_metadata

    width = bucket_width(requested, parse_metadata("t", document))
    assert width == pytest.approx(expected)
    assert math.ceil(span / width) <= MAX_BUCKETS


# -- NaN and infinities -------------------------------------------------------------------------


def test_nan_and_infinite_levels_and_counts_never_make_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    odd = [math.nan, math.inf, -math.inf, 1e308, -1e308, 5e-324, 0.0, 1.0]
    episode = _episode_1()
    extra = [
        ("tank", "level", float(i), float(i + 1), {"litres": value}) for i, value in enumerate(odd)
    ]
    path = _plant(tmp_path / "odd.parquet", [(episode[0], [*episode[1], *extra])])
    code, out, err = run_cli(["inspect", str(path)], capsys)
    assert code == 0, err
    assert "tank (litres)" in out
    code, out, err = run_cli(["inspect", str(path), "--json"], capsys)
    assert code == 0, err

    def no_constants(name: str) -> None:
        raise AssertionError(f"--json printed {name}, which strict JSON parsers refuse")

    summary = json.loads(out, parse_constant=no_constants)
    assert summary["levels"]["actors"]["tank"]["full"] is None  # inf


# -- the metadata reader's limits ------------------------------------------------------------


def _with_document(path: Path, text: str) -> Path:
    table = pq.read_table(FIXTURES / "factory-v2.parquet").replace_schema_metadata(None)
    pq.write_table(table.replace_schema_metadata({b"simreel": text.encode()}), path)
    return path


def _deep(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize(
    ("where", "depth", "message"),
    [
        ("x_unused", 10_000, "nests objects and lists too deep to decode"),
        ("provenance", 900, "nests objects and lists 9"),
        ("provenance", 70, "nests objects and lists 7"),
    ],
)
def test_metadata_nested_too_deep_is_refused_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], where: str, depth: int, message: str
) -> None:
    text = pq.read_metadata(FIXTURES / "factory-v2.parquet").metadata[b"simreel"].decode()
    document = json.loads(text)
    document.pop("provenance", None)
    text = json.dumps(document)[:-1] + f', "{where}": {_deep(depth)}}}'
    path = _with_document(tmp_path / "deep.parquet", text)
    for reader in (read_events, open_events, scan_events):
        with pytest.raises(TableError, match=message):
            reader(path)
    for argv in (
        ["inspect", str(path)],
        ["render", str(path), "--still", "1", "--out", str(tmp_path / "s.png")],
    ):
        code, _, err = run_cli(argv, capsys)
        assert code == 2
        assert len(err.strip().splitlines()) == 1
        assert "at most 64 levels" in err


def test_metadata_as_deep_as_allowed_is_read(tmp_path: Path) -> None:
    text = pq.read_metadata(FIXTURES / "factory-v2.parquet").metadata[b"simreel"].decode()
    document = json.loads(text)
    # 64 levels: the document, the provenance object and 62 lists.
    document["provenance"] = {"deep": json.loads(_deep(62))}
    path = _with_document(tmp_path / "deep.parquet", json.dumps(document))
    assert read_events(path).metadata.provenance
    assert "Provenance" in format_text(summarise(scan_events(path)))


def test_the_writer_refuses_metadata_the_reader_would_refuse(tmp_path: Path) -> None:
    with pytest.raises(TableError, match="nests objects and lists 7"):
        write_events(
            tmp_path / "t.parquet", [], domain_id="plant", domain_version=0, vocabulary=PLANT,
            provenance={"deep": json.loads(_deep(70))},
        )  # fmt: skip
    assert not (tmp_path / "t.parquet").exists()


def test_metadata_larger_than_the_limit_is_refused_before_decoding(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(metadata_module, "MAX_METADATA_BYTES", 1_000)
    with pytest.raises(
        TableError, match=r"metadata 'simreel' is [0-9,]+ bytes; a reader decodes at most 1,000"
    ):
        read_events(FIXTURES / "factory-v2.parquet")


def test_a_number_python_will_not_decode_is_refused_in_one_line(tmp_path: Path) -> None:
    text = pq.read_metadata(FIXTURES / "factory-v2.parquet").metadata[b"simreel"].decode()
    path = _with_document(tmp_path / "digits.parquet", text[:-1] + ', "x": ' + "9" * 5000 + "}")
    for reader in (read_events, open_events, scan_events):
        with pytest.raises(TableError, match="holds a value no reader decodes"):
            reader(path)
