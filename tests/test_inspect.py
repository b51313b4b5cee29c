"""``simreel inspect`` and the polars snippets of the README."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from domains.recorder import RecordedEpisode
from schemas.events import read_events, write_events
from schemas.vocabulary import Actor, ShortLivedKind, Vocabulary
from stages.cli import cli
from stages.inspect import format_text, summarise
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


@pytest.fixture(scope="module")
def modelled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The table the README makes: the committed factory model, one episode."""
    out = tmp_path_factory.mktemp("inspect") / "modelled.parquet"
    return record(RecordConfig(episodes=1, out=out)).path


def test_text_summary_of_the_golden_table(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(["inspect", str(GOLDEN)], capsys)
    assert code == 0
    assert "domain factory v0, 1 episode(s), 227 intervals" in out
    assert re.search(r"0\s+0\s+25\.03\s+25\s+227\s+300s", out), out
    assert "worker0  working  89.3%" in out
    # A buffer's one state says nothing: it is named, not given a 100.0% line.
    assert "level 100.0%" not in out
    assert "always in their only state: buffer_a (level), buffer_b (level), finished" in out
    assert "worker1  stalled 7.3% of the time (22s); waiting for item 22s (100.0%)" in out
    assert "Levels: not reported: a schema v1 table declares no quantity attributes" in out
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


# -- short-lived kinds ------------------------------------------------------------------

SHOP = Vocabulary(
    actors=(Actor("till", ("open",), kind="till"),),
    short_lived=(ShortLivedKind("customer", "customer_", ("queued", "served")),),
)
Interval = tuple[str, str, float, float]

# Lifetimes: 6, 9 and 5 s (customer_2 is in no state from 12 to 13) in episode 0; the
# customer_0 of episode 1 is another instance, living 4 s. Mean lifetime: 24 / 4 = 6 s.
SHOP_EPISODES: list[tuple[float, list[Interval]]] = [
    (
        20.0,
        [
            ("till", "open", 0.0, 20.0),
            ("customer_0", "queued", 0.0, 2.0),
            ("customer_1", "queued", 1.0, 6.0),
            ("customer_0", "served", 2.0, 6.0),
            ("customer_1", "served", 6.0, 10.0),
            ("customer_2", "queued", 10.0, 12.0),
            ("customer_2", "served", 13.0, 15.0),
        ],
    ),
    (10.0, [("till", "open", 0.0, 10.0), ("customer_0", "queued", 0.0, 4.0)]),
]


def _shop(path: Path, episodes: list[tuple[float, list[Interval]]]) -> Path:
    recorded = [
        RecordedEpisode(
            actor=[i[0] for i in intervals],
            state=[i[1] for i in intervals],
            start=[i[2] for i in intervals],
            end=[i[3] for i in intervals],
            attributes={},
            end_time=end_time,
        )
        for end_time, intervals in episodes
    ]
    return write_events(
        path, recorded, domain_id="shop", domain_version=0, vocabulary=SHOP, provenance={},
        domain_options={"tills": 1},
    )  # fmt: skip


def test_short_lived_kinds_are_summarised_per_kind(tmp_path: Path) -> None:
    summary = summarise(read_events(_shop(tmp_path / "shop.parquet", SHOP_EPISODES)))
    assert summary["domain"]["options"] == {"tills": 1}
    assert summary["state_share"] == {"till": {"open": 1.0}}  # no instance listed here
    customer = summary["short_lived"]["customer"]
    assert customer["instances"] == 4
    assert customer["per_episode"] == [
        {"episode": 0, "instances": 3},
        {"episode": 1, "instances": 1},
    ]
    assert customer["mean_lifetime"] == pytest.approx(6.0)
    # queued 2 + 5 + 2 + 4 s, served 4 + 4 + 2 s, of 24 s of lifetimes (1 s in no state)
    assert customer["state_share"] == pytest.approx({"queued": 13 / 24, "served": 10 / 24})
    assert (customer["prefix"], customer["pattern"]) == (
        "customer_",
        "^customer_(0|[1-9][0-9]*)$",
    )
    json.dumps(summary)  # the --json output


def test_the_text_summary_of_short_lived_kinds_does_not_grow_with_the_instances(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _shop(tmp_path / "shop.parquet", SHOP_EPISODES)
    code, out, _ = _run(["inspect", str(path)], capsys)
    assert code == 0
    assert "domain shop v0 (tills=1), 2 episode(s)" in out
    assert (
        "customer (customer_<n>): 4 instances (per episode min 1, mean 2, max 3), mean lifetime 6s"
    ) in out
    assert "    queued 54.2%  served 41.7%  (no state 4.2%)" in out
    assert not re.search(r"customer_\d", out)
    crowd = [(f"customer_{k}", "queued", float(k % 15), float(k % 15) + 5.0) for k in range(500)]
    crowded = _shop(tmp_path / "crowded.parquet", [(20.0, crowd), (10.0, [])])
    text = format_text(summarise(read_events(crowded)))
    assert "500 instances (per episode min 0, mean 250, max 500)" in text
    assert len(text.splitlines()) == len(out.strip().splitlines())


def test_a_table_without_short_lived_kinds_has_none() -> None:
    summary = summarise(read_events(GOLDEN))
    assert summary["short_lived"] == {}
    assert summary["domain"]["options"] == {}
    assert "Short-lived" not in format_text(summary)


def test_a_declared_kind_without_instances_is_listed_with_zero(tmp_path: Path) -> None:
    path = _shop(tmp_path / "empty.parquet", [(5.0, [("till", "open", 0.0, 5.0)])])
    customer = summarise(read_events(path))["short_lived"]["customer"]
    assert (customer["instances"], customer["mean_lifetime"]) == (0, None)
    assert customer["state_share"] == {"queued": 0.0, "served": 0.0}


def test_summarising_many_instances_is_fast(tmp_path: Path) -> None:
    n = 200_000
    crowd = [(f"customer_{k}", "queued", float(k % 100), float(k % 100) + 1.0) for k in range(n)]
    events = read_events(_shop(tmp_path / "many.parquet", [(200.0, crowd)]))
    began = time.perf_counter()
    customer = summarise(events)["short_lived"]["customer"]
    elapsed = time.perf_counter() - began
    assert (customer["instances"], customer["mean_lifetime"]) == (n, 1.0)
    # Generous on a shared machine (it takes about 0.2 s): it catches work quadratic in
    # the instances (a filter per instance), not a constant factor.
    assert elapsed < 3.0


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


def _expected_buffers(table: Path) -> dict[tuple[int, str], tuple[float, int, float, float]]:
    """(mean level, peak, first start at the peak, seconds at the peak) per episode and
    buffer, from the rows in plain Python (no polars)."""
    rows: dict[tuple[int, str], list[dict[str, Any]]] = {}
    for row in _rows(table):
        if row["actor"].startswith("buffer_"):
            rows.setdefault((row["episode"], row["actor"]), []).append(row)
    expected = {}
    for key, found in rows.items():
        spans = [(r["level"], r["start"], r["end"] - r["start"]) for r in found]
        peak = max(level for level, _, _ in spans)
        expected[key] = (
            sum(level * span for level, _, span in spans) / sum(span for _, _, span in spans),
            peak,
            min(start for level, start, _ in spans if level == peak),
            sum(span for level, _, span in spans if level == peak),
        )
    return expected


def _flatten(
    figures: dict[tuple[int, str], tuple[float, ...]],
) -> dict[tuple[int, str, int], float]:
    """pytest.approx compares flat mappings only."""
    return {(*key, i): value for key, values in figures.items() for i, value in enumerate(values)}


@pytest.mark.parametrize("table", ["congested", "modelled"])
def test_snippet_how_full_the_buffers_got_agrees_with_inspect(
    table: str, request: pytest.FixtureRequest
) -> None:
    path: Path = request.getfixturevalue(table)
    buffers: pl.DataFrame = _run_snippets(path)["buffers"]
    found = {
        (r["episode"], r["actor"]): (
            r["mean_level"], r["peak"], r["first_at_peak"], r["seconds_at_peak"]
        )
        for r in buffers.to_dicts()
    }  # fmt: skip
    expected = _expected_buffers(path)
    assert len(found) == 2 * len(read_events(path).metadata.episodes)  # never empty
    assert _flatten(found) == pytest.approx(_flatten(expected))
    assert all(peak > 0 for _, peak, _, _ in found.values())  # the buffers did fill
    levels = summarise(read_events(path))["levels"]["actors"]
    from_inspect = {
        (e["episode"], actor): (e["mean"], e["peak"], e["first_peak_at"], e["seconds_at_peak"])
        for actor in ("buffer_a", "buffer_b")
        for e in levels[actor]["per_episode"]
    }
    assert _flatten(from_inspect) == pytest.approx(_flatten(found))
    for actor in ("buffer_a", "buffer_b"):  # "full" is the highest level of the whole table
        peaks = [peak for (_, name), (_, peak, _, _) in found.items() if name == actor]
        assert levels[actor]["full"] == max(peaks)


def test_snippet_items_finished_per_minute() -> None:
    per_minute: pl.DataFrame = _run_snippets(GOLDEN)["per_minute"]
    assert per_minute["items"].to_list() == [3, 6, 4, 5, 7]
    assert (
        per_minute["items"].sum() == read_events(GOLDEN).metadata.episodes[0].kpis["finished_items"]
    )
