"""``simreel export --ocel``: the OCEL 2.0 files, read back with nothing but json and sqlite3.

The mapping (``schemas/OCEL.md``) is checked against the tables themselves: every
interval is bracketed by its events at its own start and end, to the microsecond; the
JSON and the SQLite file hold the same log; bad input gives one line and exit code 2
and writes nothing. ``tests/test_ocel_pm4py.py`` reads the same files with pm4py.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import stages.export.ocel_json
from domains.recorder import RecordedEpisode
from schemas.events import EventTable, read_events, write_events
from schemas.vocabulary import Actor, Attribute, ShortLivedKind, Vocabulary
from stages.export import ExportOptions, export_ocel
from stages.export.references import default_things
from tests.cli_helpers import run_cli

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "data" / "fixtures"
FACTORY = FIXTURES / "factory-v2.parquet"
CASHIER = FIXTURES / "cashier-v2.parquet"
CHECKOUT = FIXTURES / "checkout-v2.parquet"
CHECKOUT_V1 = FIXTURES / "checkout-v1.parquet"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
JSON_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
JSON_TYPES = {"string": str, "integer": int, "float": float, "boolean": bool}


def export(table: Path, out: Path, *args: str) -> dict[str, Any] | sqlite3.Connection:
    """Export `table` to `out` through the real CLI; the parsed JSON or an open database."""
    code = _cli(["export", str(table), "--ocel", str(out), *args])
    assert code == 0
    if out.suffix == ".json":
        result: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
        return result
    return sqlite3.connect(out)


def _cli(argv: list[str]) -> int:
    from stages.cli import main

    try:
        main(argv)
    except SystemExit as exit_:
        return int(exit_.code or 0)
    return 0


def expected_time(
    events: EventTable, episode: int, seconds: float, epoch: datetime = EPOCH
) -> datetime:
    """Where `seconds` of `episode` lands on the calendar, computed without the exporter:
    episode i of the table starts i days (or i * whole days of the longest episode) after
    the epoch, and timedelta rounds to the microsecond."""
    episodes = events.metadata.episodes
    position = [s.episode for s in episodes].index(episode)
    days = max(1, -(-max(s.end_time for s in episodes) // 86_400))
    return epoch + timedelta(days=position * days) + timedelta(seconds=seconds)


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def table_rows(events: EventTable) -> list[dict[str, Any]]:
    return events.to_polars().to_dicts()


def end_times(events: EventTable) -> dict[int, float]:
    return {s.episode: s.end_time for s in events.metadata.episodes}


def relations_of(log: dict[str, Any]) -> dict[str, set[tuple[str, str]]]:
    return {
        e["id"]: {(r["objectId"], r["qualifier"]) for r in e["relationships"]}
        for e in log["events"]
    }


# --- the layout --------------------------------------------------------------------------


@pytest.mark.parametrize("table", [FACTORY, CASHIER, CHECKOUT, CHECKOUT_V1])
def test_the_json_file_has_the_ocel2_layout(table: Path, tmp_path: Path) -> None:
    log = export(table, tmp_path / "log.json")
    assert isinstance(log, dict)
    assert list(log) == ["eventTypes", "objectTypes", "events", "objects"]
    event_types = {
        t["name"]: {a["name"]: a["type"] for a in t["attributes"]} for t in log["eventTypes"]
    }
    object_types = {
        t["name"]: {a["name"]: a["type"] for a in t["attributes"]} for t in log["objectTypes"]
    }
    assert len(event_types) == len(log["eventTypes"])
    assert len(object_types) == len(log["objectTypes"])
    object_ids = [o["id"] for o in log["objects"]]
    assert len(set(object_ids)) == len(object_ids)
    assert len({e["id"] for e in log["events"]}) == len(log["events"])
    previous = ""
    for event in log["events"]:
        assert set(event) == {"id", "type", "time", "attributes", "relationships"}
        assert JSON_TIME.match(event["time"]), event["time"]
        assert event["time"] >= previous  # the file is in time order
        previous = event["time"]
        declared = event_types[event["type"]]
        for attribute in event["attributes"]:
            value = attribute["value"]
            assert isinstance(value, JSON_TYPES[declared[attribute["name"]]]), attribute
            assert not (declared[attribute["name"]] == "integer" and isinstance(value, bool))
        assert event["relationships"], event  # every event relates to an actor or an episode
        for relation in event["relationships"]:
            assert set(relation) == {"objectId", "qualifier"}
            assert relation["objectId"] in set(object_ids)
    used_types = {e["type"] for e in log["events"]}
    assert used_types == set(event_types)  # only types that occur are declared
    for obj in log["objects"]:
        assert set(obj) == {"id", "type", "attributes", "relationships"}
        declared = object_types[obj["type"]]
        for attribute in obj["attributes"]:
            assert set(attribute) == {"name", "time", "value"}
            assert JSON_TIME.match(attribute["time"])
            assert isinstance(attribute["value"], JSON_TYPES[declared[attribute["name"]]])
        for relation in obj["relationships"]:
            assert relation["objectId"] in set(object_ids)


def test_the_sqlite_file_has_the_standard_tables_and_keys(tmp_path: Path) -> None:
    db = export(CASHIER, tmp_path / "log.sqlite")
    assert isinstance(db, sqlite3.Connection)
    tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    fixed = {
        "event",
        "object",
        "event_object",
        "object_object",
        "event_map_type",
        "object_map_type",
    }
    assert fixed <= tables
    event_maps = dict(db.execute("SELECT ocel_type, ocel_type_map FROM event_map_type"))
    object_maps = dict(db.execute("SELECT ocel_type, ocel_type_map FROM object_map_type"))
    assert event_maps["customer: enter being_served"] == "customer_enter_being_served"
    assert event_maps["episode end"] == "episode_end"
    assert tables - fixed == {f"event_{m}" for m in event_maps.values()} | {
        f"object_{m}" for m in object_maps.values()
    }

    def primary_key(table: str) -> list[str]:
        info = db.execute(f'PRAGMA table_info("{table}")').fetchall()
        return [row[1] for row in sorted(info, key=lambda row: row[5]) if row[5]]

    assert primary_key("event") == ["ocel_id"]
    assert primary_key("object") == ["ocel_id"]
    assert primary_key("event_object") == ["ocel_event_id", "ocel_object_id", "ocel_qualifier"]
    assert primary_key("object_object") == ["ocel_source_id", "ocel_target_id", "ocel_qualifier"]
    for mapped in event_maps.values():
        columns = {row[1]: row[2] for row in db.execute(f'PRAGMA table_info("event_{mapped}")')}
        assert columns["ocel_time"] == "TIMESTAMP"
        assert primary_key(f"event_{mapped}") == ["ocel_id"]
    lane = {row[1]: row[2] for row in db.execute('PRAGMA table_info("object_lane")')}
    assert lane == {
        "ocel_id": "TEXT",
        "ocel_time": "TIMESTAMP",
        "ocel_changed_field": "TEXT",
        "state": "TEXT",
        "level": "INTEGER",
    }
    foreign = db.execute("PRAGMA foreign_key_list(event_object)").fetchall()
    assert {(row[2], row[3], row[4]) for row in foreign} == {
        ("event", "ocel_event_id", "ocel_id"),
        ("object", "ocel_object_id", "ocel_id"),
    }
    # Every relation points at an event and an object that exist.
    assert not db.execute(
        "SELECT 1 FROM event_object WHERE ocel_event_id NOT IN (SELECT ocel_id FROM event) "
        "OR ocel_object_id NOT IN (SELECT ocel_id FROM object)"
    ).fetchall()


@pytest.mark.parametrize("table", [FACTORY, CASHIER])
def test_sqlite_and_json_hold_the_same_log(table: Path, tmp_path: Path) -> None:
    log = export(table, tmp_path / "log.json")
    db = export(table, tmp_path / "log.sqlite")
    assert isinstance(log, dict)
    assert isinstance(db, sqlite3.Connection)

    def sql_time(text: str) -> datetime:
        return datetime.fromisoformat(text).replace(tzinfo=UTC)

    maps = dict(db.execute("SELECT ocel_type, ocel_type_map FROM event_map_type"))
    sql_events = {}
    for kind, mapped in maps.items():
        cursor = db.execute(f'SELECT * FROM "event_{mapped}"')
        names = [d[0] for d in cursor.description]
        for row in cursor:
            values = dict(zip(names, row, strict=True))
            attributes = {k: v for k, v in values.items() if k not in ("ocel_id", "ocel_time")}
            sql_events[values["ocel_id"]] = (kind, sql_time(values["ocel_time"]), attributes)
    assert len(sql_events) == len(log["events"])
    declared = {t["name"]: t["attributes"] for t in log["eventTypes"]}
    for event in log["events"]:
        kind, time, attributes = sql_events[event["id"]]
        assert kind == event["type"]
        assert time == parse_time(event["time"])
        values = {a["name"]: a["value"] for a in event["attributes"]}
        assert attributes == {a["name"]: values.get(a["name"]) for a in declared[kind]}
    assert set(db.execute("SELECT ocel_id, ocel_type FROM event")) == {
        (e["id"], e["type"]) for e in log["events"]
    }
    assert set(db.execute("SELECT * FROM event_object")) == {
        (e["id"], r["objectId"], r["qualifier"]) for e in log["events"] for r in e["relationships"]
    }
    assert set(db.execute("SELECT * FROM object")) == {(o["id"], o["type"]) for o in log["objects"]}
    assert set(db.execute("SELECT * FROM object_object")) == {
        (o["id"], r["objectId"], r["qualifier"]) for o in log["objects"] for r in o["relationships"]
    }
    # Object attribute values: the first row of an object holds its first values, each
    # later row the one attribute that changed.
    sql_values = set()
    for _, mapped in db.execute("SELECT ocel_type, ocel_type_map FROM object_map_type"):
        cursor = db.execute(f'SELECT * FROM "object_{mapped}"')
        names = [d[0] for d in cursor.description]
        for row in cursor:
            values = dict(zip(names, row, strict=True))
            for name in names[3:]:
                if values[name] is not None and values["ocel_changed_field"] in (None, name):
                    sql_values.add(
                        (values["ocel_id"], name, sql_time(values["ocel_time"]), values[name])
                    )
    assert sql_values == {
        (o["id"], a["name"], parse_time(a["time"]), a["value"])
        for o in log["objects"]
        for a in o["attributes"]
    }


# --- the mapping -------------------------------------------------------------------------


@pytest.mark.parametrize("table", [FACTORY, CASHIER, CHECKOUT])
def test_every_interval_is_bracketed_by_its_events_to_the_microsecond(
    table: Path, tmp_path: Path
) -> None:
    events = read_events(table)
    log = export(table, tmp_path / "log.json")
    assert isinstance(log, dict)
    by_id = {e["id"]: e for e in log["events"]}
    relations = relations_of(log)
    ends = end_times(events)
    rows = table_rows(events)
    still_open = [row for row in rows if row["end"] == ends[row["episode"]]]
    assert len(by_id) == 2 * len(rows) - len(still_open) + len(ends)
    for row in rows:
        k, actor = row["episode"], f"ep{row['episode']}/{row['actor']}"
        kind = events.metadata.vocabulary.declaration(row["actor"]).kind
        enter = by_id[f"ep{k}/{row['seq']}/enter"]
        assert enter["type"] == f"{kind}: enter {row['state']}"
        assert parse_time(enter["time"]) == expected_time(events, k, row["start"])
        assert (actor, "actor") in relations[enter["id"]]
        values = {a["name"]: a["value"] for a in enter["attributes"]}
        held = {name: row[name] for name in events.metadata.vocabulary.attribute_names}
        assert values == {name: value for name, value in held.items() if value is not None}
        leave = by_id.get(f"ep{k}/{row['seq']}/leave")
        if row["end"] == ends[k]:
            assert leave is None  # the recording stopped: the episode's end closes it
            assert (actor, "actor") in relations[f"ep{k}"]
        else:
            assert leave is not None
            assert leave["type"] == f"{kind}: leave {row['state']}"
            assert parse_time(leave["time"]) == expected_time(events, k, row["end"])
            assert relations[leave["id"]] == relations[enter["id"]]
    for k, end_time in ends.items():
        finale = by_id[f"ep{k}"]
        assert finale["type"] == "episode end"
        assert parse_time(finale["time"]) == expected_time(events, k, end_time)
        assert (f"ep{k}", "episode") in relations[finale["id"]]


@pytest.mark.parametrize("table", [FACTORY, CASHIER, CHECKOUT])
def test_each_actors_events_are_in_the_order_it_lived_them(table: Path, tmp_path: Path) -> None:
    """Events at one instant (a leave and the next enter, a zero-length interval) stay
    in the order they happened: enter, leave, enter, leave... per actor."""
    events = read_events(table)
    log = export(table, tmp_path / "log.json")
    assert isinstance(log, dict)
    seen: dict[str, list[str]] = defaultdict(list)
    for event in log["events"]:
        for object_id, qualifier in relations_of({"events": [event]})[event["id"]]:
            if qualifier == "actor":
                seen[object_id].append(event["id"])
    ends = end_times(events)
    lived: dict[str, list[str]] = defaultdict(list)
    cut_off: set[str] = set()
    for row in sorted(table_rows(events), key=lambda r: (r["episode"], r["start"], r["seq"])):
        k, actor = row["episode"], f"ep{row['episode']}/{row['actor']}"
        lived[actor].append(f"ep{k}/{row['seq']}/enter")
        if row["end"] == ends[k]:
            cut_off.add(actor)  # the episode's end closes it, after everything else
        else:
            lived[actor].append(f"ep{k}/{row['seq']}/leave")
    for actor, ids in lived.items():
        finale = [actor.split("/")[0]] if actor in cut_off else []
        assert seen[actor] == ids + finale, actor


def test_the_checkout_example_maps_as_the_document_says(tmp_path: Path) -> None:
    """schemas/README.md's worked example, mapped by hand."""
    log = export(CHECKOUT, tmp_path / "log.json")
    assert isinstance(log, dict)
    relations = relations_of(log)
    objects = {o["id"]: o for o in log["objects"]}
    # cashier_1 scans customer 0's basket: its rows name the instance customer_0.
    assert relations["ep0/3/enter"] == {("ep0/cashier_1", "actor"), ("ep0/customer_0", "customer")}
    types = {t["name"]: {a["name"]: a["type"] for a in t["attributes"]} for t in log["eventTypes"]}
    assert types["cashier: enter scanning"] == {
        "customer": "integer",
        "basket_value": "float",
        "express": "boolean",
    }
    assert {t["name"]: [a["name"] for a in t["attributes"]] for t in log["objectTypes"]} == {
        "cashier": ["state"],
        "queue": ["state", "length"],
        "counter": ["state", "count"],
        "customer": ["state"],
        "episode": ["number", "seed", "total_reward", "end_time", "rows", "kpi:served"],
    }

    def history(object_id: str, name: str) -> list[tuple[float, Any]]:
        return [
            ((parse_time(a["time"]) - EPOCH).total_seconds(), a["value"])
            for a in objects[object_id]["attributes"]
            if a["name"] == name
        ]

    # customer_1 queues, is served from 2 s, and is gone at 8 s (in no state: "").
    assert history("ep0/customer_1", "state") == [(0, "queueing"), (2, "being_served"), (8, "")]
    # The queue's length, including the instant at 9 s when it was 1.
    assert history("ep0/queue", "length") == [(0, 1), (2, 0), (9, 1), (9, 0)]
    assert history("ep0/queue", "state") == [(0, "length")]  # a value written once, not per row
    assert history("ep0/served", "count") == [(0, 0), (8, 1), (9, 2), (16, 3)]
    episode = {a["name"]: a["value"] for a in objects["ep0"]["attributes"]}
    assert episode == {
        "number": 0,
        "total_reward": 0.0,
        "end_time": 20.0,
        "rows": 21,
        "kpi:served": 3.0,
    }  # the seed is null, so absent
    assert relations["ep0"] == {
        ("ep0", "episode"),
        ("ep0/cashier_1", "actor"),
        ("ep0/cashier_2", "actor"),
        ("ep0/queue", "actor"),
        ("ep0/served", "actor"),
    }
    for object_id, obj in objects.items():
        expected = [] if object_id == "ep0" else [{"objectId": "ep0", "qualifier": "episode"}]
        assert obj["relationships"] == expected


def test_factory_items_are_objects_handed_from_station_to_station(tmp_path: Path) -> None:
    log = export(FACTORY, tmp_path / "log.json")
    assert isinstance(log, dict)
    item_events = [
        (e["type"], (parse_time(e["time"]) - EPOCH).total_seconds(), a["value"])
        for e in log["events"]
        if ("ep0/item:0", "item") in relations_of({"events": [e]})[e["id"]]
        for a in e["attributes"]
        if a["name"] == "station"
    ]
    assert item_events == [
        ("worker: enter working", 0, "s0"),
        ("worker: leave working", 5, "s0"),
        ("worker: enter working", 5, "s1"),
        ("worker: leave working", 15, "s1"),
        ("worker: enter working", 39, "s3"),
        ("worker: leave working", 44, "s3"),
    ]
    items = {o["id"] for o in log["objects"] if o["type"] == "item"}
    table_items = {
        row["item"] for row in table_rows(read_events(FACTORY)) if row["item"] is not None
    }
    assert items == {f"ep0/item:{n}" for n in table_items}


def test_cashier_rows_name_lanes_cashiers_and_customers(tmp_path: Path) -> None:
    log = export(CASHIER, tmp_path / "log.json")
    assert isinstance(log, dict)
    relations = relations_of(log)
    # customer_0 is served by cashier_fast in lane1 (row 12 of episode 0).
    assert relations["ep0/12/enter"] == {
        ("ep0/customer_0", "actor"),
        ("ep0/lane1", "lane"),
        ("ep0/cashier_fast", "cashier"),
    }
    # The dispatcher sends customer 0 to lane1 (row 6).
    assert relations["ep0/6/enter"] == {
        ("ep0/dispatcher", "actor"),
        ("ep0/lane1", "lane"),
        ("ep0/customer_0", "customer"),
    }
    kinds = {o["type"] for o in log["objects"]}
    assert kinds == {"cashier", "dispatcher", "lane", "counter", "customer", "episode"}


def test_episodes_start_on_days_of_their_own_after_the_epoch(tmp_path: Path) -> None:
    events = read_events(CASHIER)
    log = export(CASHIER, tmp_path / "all.json")
    assert isinstance(log, dict)
    first = {e["id"]: e["time"] for e in log["events"]}
    assert first["ep0/0/enter"] == "1970-01-01T00:00:00.000000Z"
    assert first["ep1/0/enter"] == "1970-01-02T00:00:00.000000Z"
    assert first["ep0/8/enter"] == "1970-01-01T00:00:01.956365Z"
    one = export(CASHIER, tmp_path / "one.json", "--episode", "1")
    assert isinstance(one, dict)
    assert {e["id"].split("/")[0] for e in one["events"]} == {"ep1"}
    assert all(first[e["id"]] == e["time"] for e in one["events"])  # the same instants
    assert {o["id"].split("/")[0] for o in one["objects"]} == {"ep1"}
    shifted = export(CASHIER, tmp_path / "shifted.json", "--epoch", "2024-05-01T08:00:00+02:00")
    assert isinstance(shifted, dict)
    epoch = datetime(2024, 5, 1, 6, tzinfo=UTC)
    row = next(r for r in table_rows(events) if r["episode"] == 1 and r["seq"] == 40)
    event = next(e for e in shifted["events"] if e["id"] == "ep1/40/enter")
    assert parse_time(event["time"]) == expected_time(events, 1, row["start"], epoch)
    assert event["time"].startswith("2024-05-02T06:")


def test_long_episodes_are_whole_days_apart(tmp_path: Path) -> None:
    vocabulary = Vocabulary(actors=(Actor("machine", ("on",)),))
    episodes = [
        RecordedEpisode(["machine"], ["on"], [0.5], [100_000.25], {}, end_time=100_000.25),
        RecordedEpisode(["machine"], ["on"], [0.0], [3.0], {}, end_time=3.0),
    ]
    table = write_events(
        tmp_path / "long.parquet",
        episodes,
        domain_id="long",
        domain_version=0,
        vocabulary=vocabulary,
        provenance={},
    )
    log = export(table, tmp_path / "long.json")
    assert isinstance(log, dict)
    times = {e["id"]: e["time"] for e in log["events"]}
    assert times["ep0/0/enter"] == "1970-01-01T00:00:00.500000Z"
    assert times["ep0"] == "1970-01-02T03:46:40.250000Z"  # the episode's end
    assert times["ep1/0/enter"] == "1970-01-03T00:00:00.000000Z"  # 2 days: no overlap


def test_things_default_to_int64_ids_and_can_be_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert default_things(read_events(FACTORY).metadata) == ("item",)
    assert default_things(read_events(CASHIER).metadata) == ()  # customer is a kind
    assert default_things(read_events(CHECKOUT_V1).metadata) == ()  # v1: no quantities known
    code, out, _ = run_cli(
        ["export", str(CHECKOUT_V1), "--ocel", str(tmp_path / "v1.json")], capsys
    )
    assert code == 0
    assert "--objects" in out
    log = export(CHECKOUT_V1, tmp_path / "v1-customers.json", "--objects", "customer")
    assert isinstance(log, dict)
    served = {row["customer"] for row in table_rows(read_events(CHECKOUT_V1))} - {None}
    assert len(served) > 1
    assert {o["id"] for o in log["objects"] if o["type"] == "customer"} == {
        f"ep0/customer:{n}" for n in served
    }
    stations = export(FACTORY, tmp_path / "stations.json", "--objects", "station,item")
    assert isinstance(stations, dict)
    assert {o["id"] for o in stations["objects"] if o["type"] == "station"} == {
        "ep0/station:s0",
        "ep0/station:s1",
        "ep0/station:s2",
        "ep0/station:s3",
    }
    none = export(FACTORY, tmp_path / "none.json", "--objects", "")
    assert isinstance(none, dict)
    assert {o["type"] for o in none["objects"]} == {"worker", "buffer", "counter", "episode"}


# --- text from strangers -------------------------------------------------------------------

STRANGE = 'quote " backslash \\ newline \n escape \x1b[31m bidi \u202e emoji \U0001f600'


def write_strange_table(path: Path) -> Path:
    """A table whose strings and KPI names could break JSON or SQL if not escaped."""
    vocabulary = Vocabulary(
        actors=(Actor("desk", ("open", "shut")), Actor("clerk", ("busy",), kind="person")),
        attributes=(
            Attribute("note", "string"),
            Attribute("helper", "string"),
            Attribute("ticket", "int64"),
            Attribute("weight", "float64"),
            Attribute("urgent", "bool"),
        ),
        short_lived=(ShortLivedKind("visitor", "visitor_", ("waiting",)),),
    )
    episode = RecordedEpisode(
        actor=["desk", "clerk", "visitor_3", "desk"],
        state=["open", "busy", "waiting", "shut"],
        start=[0.0, 0.0, 0.25, 2.0],
        end=[2.0, 1.5, 1.0, 4.0],
        attributes={
            "note": [STRANGE, "'); DROP TABLE event; --", None, '"]}'],
            "helper": ["clerk", "visitor_3", "desk_", None],
            "ticket": [7, None, None, 7],
            "weight": [float("nan"), 1e-7, None, 2.5],
            "urgent": [True, False, None, None],
        },
        end_time=4.0,
        kpis={'odd "kpi" \n': 1.0},
    )
    return write_events(
        path, [episode], domain_id="strange", domain_version=0, vocabulary=vocabulary, provenance={}
    )


def test_strange_text_round_trips_through_both_formats(tmp_path: Path) -> None:
    table = write_strange_table(tmp_path / "strange.parquet")
    log = export(table, tmp_path / "strange.json")
    db = export(table, tmp_path / "strange.sqlite")
    assert isinstance(log, dict)
    assert isinstance(db, sqlite3.Connection)
    by_id = {e["id"]: {a["name"]: a["value"] for a in e["attributes"]} for e in log["events"]}
    assert by_id["ep0/0/enter"]["note"] == STRANGE
    assert by_id["ep0/0/enter"]["weight"] is None  # NaN has no JSON form
    assert by_id["ep0/1/enter"] == {
        "note": "'); DROP TABLE event; --",
        "helper": "visitor_3",
        "weight": 1e-7,
        "urgent": False,
    }
    assert by_id["ep0/3/enter"]["note"] == '"]}'
    relations = relations_of(log)
    # "clerk" and "visitor_3" name actors; "desk_" names nothing; ticket 7 is a thing.
    assert relations["ep0/0/enter"] == {
        ("ep0/desk", "actor"),
        ("ep0/clerk", "helper"),
        ("ep0/ticket:7", "ticket"),
    }
    assert relations["ep0/1/enter"] == {("ep0/clerk", "actor"), ("ep0/visitor_3", "helper")}
    assert relations["ep0/2/enter"] == {("ep0/visitor_3", "actor")}
    kpis = next(o for o in log["objects"] if o["id"] == "ep0")["attributes"]
    assert {"name": 'kpi:odd "kpi" \n', "time": "1970-01-01T00:00:00.000000Z", "value": 1.0} in kpis
    (note,) = db.execute('SELECT note FROM "event_desk_enter_open"').fetchone()
    assert note == STRANGE
    assert db.execute("SELECT count(*) FROM event").fetchone() == (len(log["events"]),)
    (value,) = db.execute('SELECT "kpi:odd ""kpi"" \n" FROM object_episode').fetchone()
    assert value == 1.0


def test_the_report_line_is_inert_on_a_terminal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "log\x1b[2J.json"
    code, stdout, _ = run_cli(["export", str(FACTORY), "--ocel", str(out)], capsys)
    assert code == 0
    assert out.exists()
    assert "\x1b" not in stdout
    assert "\\x1b[2J" in stdout
    assert "450 events of 11 types" in stdout


# --- bad input, and nothing half written ------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--ocel", "{tmp}/log.xml"], "unknown OCEL format '.xml'"),
        (["--ocel", "{tmp}/log"], "unknown OCEL format '(no extension)'"),
        (["--ocel", "{tmp}/log.json", "--episode", "7"], "episode 7 is not in the table"),
        (["--ocel", "{tmp}/log.json", "--epoch", "yesterday"], "--epoch ('yesterday')"),
        (["--ocel", "{tmp}/log.json", "--objects", "colour"], "'colour' is not an attribute"),
        (["--ocel", "{tmp}/log.json", "--objects", "level"], "is a quantity"),
        (["--ocel", "{tmp}/log.db", "--epoch", "9999-12-31T12:00:00Z"], "after the year 9999"),
    ],
)
def test_bad_options_give_one_line_and_exit_code_2(
    args: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["export", str(FACTORY), *(a.replace("{tmp}", str(tmp_path)) for a in args)]
    code, out, err = run_cli(argv, capsys)
    assert code == 2, (out, err)
    assert err.startswith("error: "), err
    assert err.count("\n") == 1, err
    assert message in err, err
    assert list(tmp_path.iterdir()) == []  # nothing written, not even a temporary file


@pytest.mark.parametrize("content", [None, b"not parquet at all"])
def test_an_unreadable_table_gives_one_line_and_exit_code_2(
    content: bytes | None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    table = tmp_path / "broken.parquet"
    if content is not None:
        table.write_bytes(content)
    out = tmp_path / "log.json"
    code, _, err = run_cli(["export", str(table), "--ocel", str(out)], capsys)
    assert code == 2
    assert err.startswith(f"error: {table}: "), err
    assert err.count("\n") == 1, err
    assert not out.exists()


def test_a_failed_export_leaves_the_old_file_and_no_partial_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "log.json"
    out.write_text("yesterday's log")

    def broken(*_: object) -> Any:
        yield 1, ["{"]
        raise RuntimeError("the writer broke half-way")

    monkeypatch.setattr(stages.export.ocel_json, "_object_texts", broken)
    with pytest.raises(RuntimeError, match="half-way"):
        export_ocel(ExportOptions(table=FACTORY, ocel=out))
    assert out.read_text() == "yesterday's log"
    assert [p.name for p in tmp_path.iterdir()] == ["log.json"]


def test_the_help_shows_an_example(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(["export", "--help"], capsys)
    assert code == 0
    assert "Example:" in out
    assert "simreel export data/events/factory.parquet --ocel" in out
    code, out, _ = run_cli(["--help"], capsys)
    assert code == 0
    assert "export" in out
    assert "OCEL 2.0" in out


def test_exporting_loads_no_simulation_module_and_not_pm4py(tmp_path: Path) -> None:
    forbidden = (
        "simpy",
        "gymnasium",
        "stable_baselines3",
        "sb3_contrib",
        "torch",
        "pm4py",
        "domains.factory.simulation",
        "domains.cashier.simulation",
        "domains.env",
        "domains.recorder",
    )
    code = (
        "import sys\n"
        "from stages.cli import main\n"
        "for out in ('log.json', 'log.sqlite'):\n"
        "    try:\n"
        f"        main(['export', {str(CASHIER)!r}, '--ocel', {str(tmp_path)!r} + '/' + out])\n"
        "    except SystemExit as e:\n"
        "        assert not e.code, e.code\n"
        f"print('LOADED', [m for m in {forbidden!r} if m in sys.modules])\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=dict(os.environ),
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "LOADED []" in result.stdout, result.stdout + result.stderr
