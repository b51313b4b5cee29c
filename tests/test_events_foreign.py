"""The format document is enough on its own, in both directions.

1. The worked example of ``schemas/README.md`` (a checkout, a domain simreel has never
   heard of), run exactly as printed with pyarrow only, writes a table that
   ``read_events`` accepts.
2. A table recorded by simreel satisfies every invariant of the document, checked
   here with pyarrow and plain Python only (no simreel code in the checker).
"""

from __future__ import annotations

import ast
import json
import math
import re
from collections import defaultdict
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from schemas.events import read_events
from stages.record import RecordConfig, record

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "schemas" / "README.md"


def _example_blocks() -> list[str]:
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## 7.") : text.index("## 8.")]
    return re.findall(r"```python\n(.*?)```", section, flags=re.DOTALL)


def test_the_readme_example_uses_only_pyarrow_and_the_standard_library() -> None:
    blocks = _example_blocks()
    assert len(blocks) == 2
    imported = set()
    for node in ast.walk(ast.parse("\n".join(blocks))):
        if isinstance(node, ast.Import):
            imported |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add(node.module or "")
    assert imported == {"json", "pyarrow", "pyarrow.parquet"}


def test_the_readme_example_writes_a_table_simreel_accepts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, Any] = {}
    for block in _example_blocks():
        exec(block, namespace)  # the document's own code, run as printed
    events = read_events(tmp_path / "checkout.parquet")
    assert events.metadata.domain_id == "checkout"
    assert events.metadata.vocabulary.actor("served").kind == "counter"
    assert events.table.num_rows == 13
    golden = read_events(ROOT / "data" / "fixtures" / "checkout-v1.parquet")
    assert events.table.equals(golden.table), "the README example drifted from its golden file"


# -- reading with pyarrow alone ----------------------------------------------------------


def check_with_pyarrow_only(path: Path) -> dict[str, Any]:
    """Every rule of schemas/README.md sections 2-4, with pyarrow and plain Python only."""
    meta = json.loads(pq.read_metadata(path).metadata[b"simreel"])
    assert meta["schema"] == "simreel.events"
    assert meta["schema_version"] == 1
    assert isinstance(meta["domain"]["id"], str)
    assert isinstance(meta["domain"]["version"], int)
    types = {
        "int64": pa.int64(),
        "float64": pa.float64(),
        "string": pa.string(),
        "bool": pa.bool_(),
    }
    expected = [
        ("episode", pa.int32()), ("seq", pa.int64()), ("actor", pa.string()),
        ("state", pa.string()), ("start", pa.float64()), ("end", pa.float64()),
    ]  # fmt: skip
    expected += [(a["name"], types[a["type"]]) for a in meta["vocabulary"].get("attributes", [])]
    table = pq.read_table(path)
    assert [(f.name, f.type) for f in table.schema] == expected
    rows = table.to_pylist()
    states = {a["name"]: set(a["states"]) for a in meta["vocabulary"]["actors"]}
    summaries = {e["episode"]: e for e in meta["episodes"]}
    assert list(summaries) == sorted(summaries)
    per_episode: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        for column in ("episode", "seq", "actor", "state", "start", "end"):
            assert row[column] is not None
        assert math.isfinite(row["start"])
        assert math.isfinite(row["end"])
        assert 0 <= row["start"] <= row["end"] <= summaries[row["episode"]]["end_time"]
        assert row["state"] in states[row["actor"]]
        per_episode[row["episode"]].append(row)
    keys = [(r["episode"], r["start"], r["seq"]) for r in rows]
    assert keys == sorted(keys)
    for number, summary in summaries.items():
        episode_rows = per_episode.get(number, [])
        assert len(episode_rows) == summary["rows"]
        assert sorted(r["seq"] for r in episode_rows) == list(range(summary["rows"]))
        last_end: dict[str, float] = {}
        for row in sorted(episode_rows, key=lambda r: (r["start"], r["seq"])):
            assert row["start"] >= last_end.get(row["actor"], 0.0), f"overlap at {row}"
            last_end[row["actor"]] = row["end"]
    return meta


def test_a_recorded_factory_table_meets_the_document(tmp_path: Path) -> None:
    result = record(
        RecordConfig(policy="random", episodes=3, seed=4, out=tmp_path / "factory.parquet")
    )
    meta = check_with_pyarrow_only(result.path)
    assert [e["seed"] for e in meta["episodes"]] == [4, 5, 6]
    assert meta["provenance"]["policy"]["kind"] == "random"


@pytest.mark.parametrize("name", ["factory-v1.parquet", "checkout-v1.parquet"])
def test_the_golden_tables_meet_the_document(name: str) -> None:
    check_with_pyarrow_only(ROOT / "data" / "fixtures" / name)
