"""``simreel inspect`` and the polars snippets of the README."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from schemas.events import read_events
from stages.cli import cli
from stages.inspect import summarise
from stages.record import RecordConfig, record
from tests.cli_helpers import run_cli

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "data" / "fixtures" / "factory-v1.parquet"
SNIPPETS = ROOT / "README.md"


_run = run_cli


@pytest.fixture(scope="module")
def congested(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Both workers always work: buffers fill up and workers stall for items and room."""
    out = tmp_path_factory.mktemp("inspect") / "congested.parquet"
    return record(RecordConfig(policy="first-legal", episodes=2, out=out)).path


def test_text_summary_of_the_golden_table(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(["inspect", str(GOLDEN)], capsys)
    assert code == 0
    assert "domain factory v0, 1 episode(s), 227 intervals" in out
    assert re.search(r"0\s+0\s+25\.03\s+25\s+227\s+300s", out), out
    assert "worker0   working  89.3%" in out
    assert "finished (count) rise per 60s bucket" in out
    assert re.search(r"0\s+3\s+6\s+4\s+5\s+7\s+25", out), out
    assert "policy: kind=rules, batch=9" in out


def test_json_summary_is_consistent_with_the_table(
    congested: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _run(["inspect", str(GOLDEN), "--json"], capsys)
    assert code == 0
    summary = json.loads(out)
    assert summary["rows"] == 227
    assert summary["episodes"][0]["kpis"] == {"finished_items": 25.0}
    rises = summary["counters"]["finished"]["per_episode"][0]["rises"]
    assert len(rises) == 5
    assert sum(rises) == 25
    for shares in summary["state_share"].values():
        assert 0.99 <= sum(shares.values()) <= 1.0 + 1e-9  # workers are never in no state
    stalled = summarise(read_events(congested))["state_share"]["worker0"]["stalled"]
    assert stalled > 0.5


def test_buckets_are_configurable(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(["inspect", str(GOLDEN), "--json", "--bucket", "150"], capsys)
    assert code == 0
    finished = [r["start"] for r in _rows(GOLDEN) if r["actor"] == "finished" and r["count"]]
    early = sum(1 for start in finished if start < 150)
    assert json.loads(out)["counters"]["finished"]["per_episode"][0]["rises"] == [early, 25 - early]
    code, _, err = _run(["inspect", str(GOLDEN), "--bucket", "0"], capsys)
    assert code == 2
    assert "bucket (0.0) must be a positive number" in err


@pytest.mark.parametrize("content", [b"", b"not parquet at all", None])
def test_a_bad_table_gives_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes | None
) -> None:
    path = tmp_path / "bad.parquet"
    if content is not None:
        path.write_bytes(content)
    code, out, err = _run(["inspect", str(path)], capsys)
    assert code == 2
    assert out == ""
    assert err.startswith(f"error: {path}: ")
    assert len(err.strip().splitlines()) == 1


def test_help_has_an_example() -> None:
    result = CliRunner().invoke(cli, ["inspect", "--help"])
    assert result.exit_code == 0
    assert "Example:" in result.output
    assert "simreel inspect data/events/factory.parquet" in result.output


# -- the README snippets ---------------------------------------------------------------


def _run_snippets(table: Path) -> dict[str, Any]:
    readme = SNIPPETS.read_text(encoding="utf-8")
    section = readme.split("### Asking the table questions with polars", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, re.DOTALL)
    assert len(blocks) == 4, "a loading block and three questions"
    assert '"data/events/factory.parquet"' in blocks[0]
    namespace: dict[str, Any] = {}
    for block in blocks:
        exec(block.replace('"data/events/factory.parquet"', repr(str(table))), namespace)
    return namespace


def _rows(table: Path) -> list[dict[str, Any]]:
    return pq.read_table(table).to_pylist()


def test_snippet_stalled_time_per_worker(congested: Path) -> None:
    stalled: pl.DataFrame = _run_snippets(congested)["stalled"]
    expected: dict[tuple[int, str, str], float] = {}
    for row in _rows(congested):
        if row["state"] == "stalled":
            key = (row["episode"], row["actor"], row["waiting_for"])
            expected[key] = expected.get(key, 0.0) + row["end"] - row["start"]
    found = {(r["episode"], r["actor"], r["waiting_for"]): r["seconds"] for r in stalled.to_dicts()}
    assert found == pytest.approx(expected)
    assert {key[2] for key in found} == {"item", "room"}


def test_snippet_when_buffers_filled_up(congested: Path) -> None:
    full: pl.DataFrame = _run_snippets(congested)["full"]
    first_full: dict[tuple[int, str], float] = {}
    for row in _rows(congested):
        if row["actor"].startswith("buffer_") and row["level"] == 10:
            key = (row["episode"], row["actor"])
            first_full[key] = min(first_full.get(key, row["start"]), row["start"])
    assert {(r["episode"], r["actor"]): r["first_full"] for r in full.to_dicts()} == first_full
    assert len(first_full) == 4  # both buffers fill in both episodes


def test_snippet_items_finished_per_minute() -> None:
    per_minute: pl.DataFrame = _run_snippets(GOLDEN)["per_minute"]
    assert per_minute["items"].to_list() == [3, 6, 4, 5, 7]
    assert (
        per_minute["items"].sum() == read_events(GOLDEN).metadata.episodes[0].kpis["finished_items"]
    )
