"""The format document is enough on its own, in both directions.

1. The worked example of ``schemas/README.md`` (a checkout with short-lived customers,
   a domain simreel has never heard of), run exactly as printed with pyarrow only,
   writes a table that ``read_events`` accepts.
2. A table recorded by simreel, and every golden file, satisfies every invariant of
   the document for its version, checked here with pyarrow and plain Python only (no
   simreel code in the checker).
3. The document's other code and JSON examples are true.
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
from schemas.metadata import parse_metadata
from stages.record import RecordConfig, record

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "schemas" / "README.md"
FIXTURES = ROOT / "data" / "fixtures"


def _section(number: int) -> str:
    text = README.read_text(encoding="utf-8")
    return text[text.index(f"## {number}.") : text.index(f"## {number + 1}.")]


def _example_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", _section(7), flags=re.DOTALL)


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
    meta = events.metadata
    assert meta.domain_id == "checkout"
    assert meta.migrated_from is None  # the example is written in the current version
    assert meta.vocabulary.actor("served").kind == "counter"
    assert meta.vocabulary.kind_of("customer_2") == meta.vocabulary.short_lived_kind("customer")
    assert meta.vocabulary.quantities == ("length", "count")
    assert set(meta.vocabulary.colours) == set(meta.vocabulary.state_names)
    assert events.table.num_rows == 21
    check_with_pyarrow_only(tmp_path / "checkout.parquet")
    golden = read_events(FIXTURES / "checkout-v2.parquet")
    assert events.table.equals(golden.table), "the README example drifted from its golden file"
    assert events.metadata.to_json() == golden.metadata.to_json()


# -- reading with pyarrow alone ----------------------------------------------------------


def check_with_pyarrow_only(path: Path) -> dict[str, Any]:
    """Every rule of schemas/README.md sections 2-4, with pyarrow and plain Python only.

    Version 1 files are checked against the v1 document: the same rules without any of
    v2's additions (section 6)."""
    meta = json.loads(pq.read_metadata(path).metadata[b"simreel"])
    assert meta["schema"] == "simreel.events"
    assert meta["schema_version"] in (1, 2)
    assert isinstance(meta["domain"]["id"], str)
    assert isinstance(meta["domain"]["version"], int)
    vocabulary = meta["vocabulary"]
    if meta["schema_version"] == 1:
        assert "options" not in meta["domain"]
        assert not {"short_lived", "colours"} & set(vocabulary)
    options = meta["domain"].get("options", {})
    assert all(isinstance(v, str | int | float | bool) for v in options.values())
    kinds = vocabulary.get("short_lived", [])
    patterns = {
        k["kind"]: re.compile("^" + re.escape(k["prefix"]) + "(0|[1-9][0-9]*)$") for k in kinds
    }
    assert all(re.fullmatch("[a-z][a-z0-9_]*_", k["prefix"]) for k in kinds)
    assert len({k["prefix"] for k in kinds}) == len(kinds)
    named = {a["name"]: set(a["states"]) for a in vocabulary["actors"]}
    for name in named:
        assert not any(p.fullmatch(name) for p in patterns.values()), f"{name} looks like one"
    kind_states = {k["kind"]: set(k["states"]) for k in kinds}
    all_states = set().union(*named.values(), *kind_states.values())
    for state, colour in vocabulary.get("colours", {}).items():
        assert state in all_states
        assert re.fullmatch("#[0-9a-f]{6}", colour.lower())
    for attribute in vocabulary.get("attributes", []):
        if attribute.get("quantity", False):
            assert attribute["type"] in ("int64", "float64")

    def states_of(actor: str) -> set[str]:
        if actor in named:
            return named[actor]
        (kind,) = [k for k, p in patterns.items() if p.fullmatch(actor)]  # exactly one
        return kind_states[kind]

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
    states = {actor: states_of(actor) for actor in {row["actor"] for row in rows}}
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


@pytest.mark.parametrize("path", sorted(FIXTURES.glob("*.parquet")), ids=lambda p: p.name)
def test_the_golden_tables_meet_the_document(path: Path) -> None:
    meta = check_with_pyarrow_only(path)
    assert path.name.endswith(f"-v{meta['schema_version']}.parquet")


# -- the document's other examples ------------------------------------------------------


def test_the_metadata_example_is_valid_metadata() -> None:
    (example,) = re.findall(r"```json\n(.*?)```", _section(4), flags=re.DOTALL)
    meta = parse_metadata("README example", json.loads(example))
    assert meta.domain_options == {"dispatcher": "automatic"}
    assert meta.vocabulary.kind_of("customer_17") is meta.vocabulary.short_lived[0]
    assert meta.vocabulary.quantities == ("level",)


def test_the_reading_example_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    (block,) = re.findall(r"```python\n(.*?)```", _section(5), flags=re.DOTALL)
    monkeypatch.chdir(ROOT)
    namespace: dict[str, Any] = {}
    exec(block, namespace)  # the document's own code, run as printed
    assert namespace["table"].num_rows == 227


def test_the_instance_pattern_of_the_document_is_the_one_simreel_uses() -> None:
    (printed,) = re.findall(r"^ {4}(\^<P>.*)$", _section(4), flags=re.MULTILINE)
    assert printed == "^<P>(0|[1-9][0-9]*)$"
    meta = read_events(FIXTURES / "checkout-v2.parquet").metadata
    kind = meta.vocabulary.short_lived_kind("customer")
    assert kind.pattern == printed.replace("<P>", "customer_")
