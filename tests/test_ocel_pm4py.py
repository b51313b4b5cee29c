"""simreel's OCEL exports, read back and mined by pm4py (the reference OCEL 2.0 reader).

pm4py is AGPL, so it is a dev extra only (``pip install -e '.[dev]'``, which CI runs):
simreel never imports it. These tests check that pm4py reads both formats, that every
timestamp is the table's to the microsecond, that the SQLite file meets the standard's
relational constraints, and that what pm4py computes from the log (an object-centric
directly-follows graph with durations, each object's lifecycle) is what the table says.
"""

from __future__ import annotations

import io
import re
from contextlib import redirect_stdout
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from schemas.events import EventTable, read_events
from stages.inspect import summarise
from tests.test_ocel import CASHIER, CHECKOUT, FACTORY, end_times, expected_time, export, table_rows

with redirect_stdout(io.StringIO()):  # pm4py greets on import
    pm4py = pytest.importorskip(
        "pm4py",
        reason="pm4py is not installed: it is a dev extra (pip install -e '.[dev]'), "
        "which CI installs; these tests read simreel's OCEL exports back with it",
    )
from pm4py.objects.ocel.validation import ocel20_rel_validation

_EVENT_ID = re.compile(r"^ep(\d+)(?:/(\d+)/(enter|leave))?$")


def read(path: Path) -> Any:
    """The OCEL at `path`, read by pm4py's OCEL 2.0 reader for its format."""
    if path.suffix == ".json":
        return pm4py.read_ocel2_json(str(path))
    return pm4py.read_ocel2_sqlite(str(path))


@pytest.fixture(scope="module")
def exports(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], Path]:
    """Each of the factory, cashier and checkout tables exported in both formats."""
    folder = tmp_path_factory.mktemp("ocel")
    paths = {}
    for table in (FACTORY, CASHIER, CHECKOUT):
        for suffix in ("json", "sqlite"):
            out = folder / f"{table.stem}.{suffix}"
            export(table, out)
            paths[(table.stem, suffix)] = out
    return paths


class Instants:
    """The table's instant for each exported event id: a row's start or end, or the end
    of its episode (computed from the table, not by the exporter)."""

    def __init__(self, events: EventTable) -> None:
        self.events = events
        self.rows = {(row["episode"], row["seq"]): row for row in table_rows(events)}
        self.ends = end_times(events)

    def __call__(self, event_id: str) -> datetime:
        match = _EVENT_ID.match(event_id)
        assert match is not None, event_id
        episode = int(match.group(1))
        if match.group(2) is None:
            return expected_time(self.events, episode, self.ends[episode])
        row = self.rows[(episode, int(match.group(2)))]
        seconds = row["start"] if match.group(3) == "enter" else row["end"]
        return expected_time(self.events, episode, seconds)


@pytest.mark.parametrize("table", [FACTORY, CASHIER, CHECKOUT])
@pytest.mark.parametrize("suffix", ["json", "sqlite"])
def test_pm4py_reads_every_timestamp_to_the_microsecond(
    table: Path, suffix: str, exports: dict[tuple[str, str], Path]
) -> None:
    instant = Instants(read_events(table))
    ocel = read(exports[(table.stem, suffix)])
    rows = instant.rows.values()
    still_open = sum(row["end"] == instant.ends[row["episode"]] for row in rows)
    assert len(ocel.events) == 2 * len(rows) - still_open + len(instant.ends)
    for event_id, stamp in zip(ocel.events["ocel:eid"], ocel.events["ocel:timestamp"], strict=True):
        assert stamp.nanosecond == 0
        assert stamp.to_pydatetime() == instant(event_id), event_id
    # Object attribute changes happen at the instants of the events that cause them.
    instants = {instant(event_id) for event_id in ocel.events["ocel:eid"]}
    changes = ocel.object_changes
    assert changes is not None
    assert len(changes) > 0
    assert {stamp.to_pydatetime() for stamp in changes["ocel:timestamp"]} <= instants


def test_the_sqlite_export_meets_the_standards_relational_constraints(
    exports: dict[tuple[str, str], Path],
) -> None:
    for table in (FACTORY, CASHIER, CHECKOUT):
        satisfied, unsatisfied = ocel20_rel_validation.apply(str(exports[(table.stem, "sqlite")]))
        assert unsatisfied == [], table
        assert len(satisfied) == 24


def test_both_formats_read_back_as_the_same_log(exports: dict[tuple[str, str], Path]) -> None:
    for table in (FACTORY, CASHIER):
        from_json, from_sqlite = (read(exports[(table.stem, s)]) for s in ("json", "sqlite"))
        assert sorted(from_json.events["ocel:eid"]) == sorted(from_sqlite.events["ocel:eid"])
        assert sorted(from_json.objects["ocel:oid"]) == sorted(from_sqlite.objects["ocel:oid"])
        # (pm4py's JSON reader keeps one relation per event and object, its SQLite reader
        # one per qualifier too: compare the pairs.)
        assert _pairs(from_json.relations) == _pairs(from_sqlite.relations)
        pairs = {
            tuple(p) for p in from_json.o2o[["ocel:oid", "ocel:oid_2", "ocel:qualifier"]].values
        }
        assert pairs == {
            tuple(p) for p in from_sqlite.o2o[["ocel:oid", "ocel:oid_2", "ocel:qualifier"]].values
        }


def _pairs(relations: Any) -> set[tuple[str, str]]:
    return {tuple(pair) for pair in relations[["ocel:eid", "ocel:oid"]].values}


def test_the_directly_follows_graph_has_the_tables_durations(
    exports: dict[tuple[str, str], Path],
) -> None:
    """pm4py's object-centric DFG of the factory: per worker, buffer and counter, each
    state is entered, then left, and the times between are the intervals' lengths."""
    events = read_events(FACTORY)
    ocel = read(exports[(FACTORY.stem, "json")])
    graph = pm4py.discover_ocdfg(ocel)
    ends = end_times(events)
    vocabulary = events.metadata.vocabulary
    for kind in ("worker", "buffer", "counter"):
        couples = graph["edges"]["event_couples"][kind]
        durations = graph["edges_performance"]["event_couples"][kind]
        for (source, target), pairs in couples.items():
            # An actor's events alternate: enter a state, then leave it (or the episode ends).
            assert (": enter " in source) == (": leave " in target or target == "episode end"), (
                source,
                target,
            )
            assert len(durations[(source, target)]) == len(pairs)
        rows = [
            row
            for row in table_rows(events)
            if vocabulary.declaration(row["actor"]).kind == kind
            and row["end"] != ends[row["episode"]]
        ]
        states = {row["state"] for row in rows}
        for state in states:
            measured = sorted(durations[(f"{kind}: enter {state}", f"{kind}: leave {state}")])
            lengths = sorted(row["end"] - row["start"] for row in rows if row["state"] == state)
            assert measured == pytest.approx(lengths, abs=1e-6), (kind, state)


@pytest.mark.parametrize("suffix", ["json", "sqlite"])
def test_object_lifecycles_match_the_table_and_inspect(
    suffix: str, exports: dict[tuple[str, str], Path]
) -> None:
    """Each customer's and item's lifecycle in pm4py runs from the first to the last
    instant of the intervals that involve it; for the checkout, whose customers are
    involved only while they exist, their mean is `simreel inspect`'s mean lifetime."""
    checkout = pm4py.ocel_objects_summary(read(exports[(CHECKOUT.stem, suffix)]))
    lifecycles = dict(zip(checkout["ocel:oid"], checkout["lifecycle_duration"], strict=True))
    customers = [seconds for oid, seconds in lifecycles.items() if "/customer_" in oid]
    mean_lifetime = summarise(read_events(CHECKOUT))["short_lived"]["customer"]["mean_lifetime"]
    assert len(customers) == 3
    assert sum(customers) / len(customers) == pytest.approx(mean_lifetime, abs=1e-6)

    for table, thing in ((CASHIER, "customer"), (FACTORY, "item")):
        events = read_events(table)
        summary = pm4py.ocel_objects_summary(read(exports[(table.stem, suffix)]))
        measured = dict(zip(summary["ocel:oid"], summary["lifecycle_duration"], strict=True))
        spans: dict[str, list[float]] = {}
        for row in table_rows(events):
            if thing == "customer":
                names = [row["actor"]] if row["actor"].startswith("customer_") else []
                names += [f"customer_{row['customer']}"] if row["customer"] is not None else []
            else:
                names = [f"item:{row['item']}"] if row["item"] is not None else []
            for name in names:
                span = spans.setdefault(f"ep{row['episode']}/{name}", [row["start"], row["end"]])
                span[0], span[1] = min(span[0], row["start"]), max(span[1], row["end"])
        assert len(spans) > 25
        for oid, (first, last) in spans.items():
            assert measured[oid] == pytest.approx(last - first, abs=1e-6), oid
