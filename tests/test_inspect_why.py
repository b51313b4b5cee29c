"""``simreel inspect`` says why: stalled time and what it waited for, levels of buffers.

A hand-made "plant" table has figures worked out by hand below; recorded factory and
cashier tables are cross-checked against what the rows say, computed without polars.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from domains.recorder import RecordedEpisode
from schemas.events import read_events, write_events
from schemas.vocabulary import Actor, Attribute, Vocabulary
from stages.inspect import format_text, summarise
from stages.inspect.stalls import stall_states
from stages.record import RecordConfig, record
from tests.cli_helpers import run_cli

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "data" / "fixtures"

PLANT = Vocabulary(
    actors=(
        Actor("press", ("running", "waiting_for_parts", "blocked"), kind="machine"),
        Actor("robot", ("moving", "holding"), kind="machine"),
        Actor("oven", ("baking",)),
        Actor("tray", ("level",), kind="buffer"),
        Actor("rack", ("level",), kind="buffer"),
        Actor("tank", ("level",), kind="tank"),
        Actor("made", ("count",), kind="counter"),
    ),
    attributes=(
        Attribute("waiting_for", "string"),
        Attribute("item", "int64"),
        Attribute("parts", "int64", quantity=True),
        Attribute("litres", "float64", quantity=True),
        Attribute("made", "int64", quantity=True),
    ),
)
Row = tuple[str, str, float, float, dict[str, Any]]


def _episode_0(reason: str = "gripper") -> tuple[float, list[Row]]:
    """100 s. The press waits 20 s for parts and is blocked 15 s (for room); the robot
    holds 20 s waiting for `reason` in a state not named as a stall; the tray's level
    is 0, 1, 3 (an instant), 2, 3, 0; the rack climbs 0..29 a second each, then is in
    no state; the tank holds 20 levels 0.0, 0.5, ..., 9.5 for 5 s each."""
    rows: list[Row] = [
        ("press", "running", 0, 40, {"item": 7}),
        ("press", "waiting_for_parts", 40, 60, {"waiting_for": "parts"}),
        ("press", "running", 60, 80, {"item": 8}),
        ("press", "blocked", 80, 95, {"waiting_for": "room"}),
        ("press", "running", 95, 100, {"item": 9}),
        ("robot", "moving", 0, 50, {}),
        ("robot", "holding", 50, 70, {"waiting_for": reason}),
        ("robot", "moving", 70, 100, {}),
        ("oven", "baking", 0, 100, {}),
        ("tray", "level", 0, 10, {"parts": 0}),
        ("tray", "level", 10, 30, {"parts": 1}),
        ("tray", "level", 30, 30, {"parts": 3}),
        ("tray", "level", 30, 60, {"parts": 2}),
        ("tray", "level", 60, 70, {"parts": 3}),
        ("tray", "level", 70, 100, {"parts": 0}),
        ("made", "count", 0, 50, {"made": 0}),
        ("made", "count", 50, 100, {"made": 1}),
        *(("rack", "level", i, i + 1, {"parts": i}) for i in range(30)),
        *(("tank", "level", 5 * i, 5 * i + 5, {"litres": 0.5 * i}) for i in range(20)),
    ]
    return 100.0, rows


def _episode_1() -> tuple[float, list[Row]]:
    """50 s, nobody stalls; the tray holds 4 (its highest level anywhere) for 5 s, then 1."""
    return 50.0, [
        ("press", "running", 0, 50, {"item": 10}),
        ("robot", "moving", 0, 50, {}),
        ("oven", "baking", 0, 50, {}),
        ("tray", "level", 0, 5, {"parts": 4}),
        ("tray", "level", 5, 50, {"parts": 1}),
        ("made", "count", 0, 50, {"made": 0}),
    ]


def _plant(
    path: Path,
    episodes: list[tuple[float, list[Row]]],
    vocabulary: Vocabulary = PLANT,
    provenance: dict[str, Any] | None = None,
    kpi: str = "made",
) -> Path:
    recorded = []
    for end_time, rows in episodes:
        rows = sorted(rows, key=lambda r: r[2])  # emission order: by start, stable
        recorded.append(
            RecordedEpisode(
                actor=[r[0] for r in rows],
                state=[r[1] for r in rows],
                start=[float(r[2]) for r in rows],
                end=[float(r[3]) for r in rows],
                attributes={
                    a.name: [r[4].get(a.name) for r in rows] for a in vocabulary.attributes
                },
                end_time=end_time,
                kpis={kpi: 1.0},
            )
        )
    return write_events(
        path, recorded, domain_id="plant", domain_version=0, vocabulary=vocabulary,
        provenance=provenance or {},
    )  # fmt: skip


@pytest.fixture
def plant(tmp_path: Path) -> Path:
    return _plant(tmp_path / "plant.parquet", [_episode_0(), _episode_1()])


# -- stalls ------------------------------------------------------------------------------


def test_stall_states_are_recognised_by_the_words_of_their_names() -> None:
    assert stall_states(PLANT.actor("press")) == ("waiting_for_parts", "blocked")
    assert stall_states(PLANT.actor("robot")) == ()
    idle = Actor("a", ("idle", "stalled", "starved_x", "unblocked", "waitingroom", "working"))
    assert stall_states(idle) == ("idle", "stalled", "starved_x")


def test_stalled_time_and_what_it_waited_for(plant: Path) -> None:
    stalls = summarise(read_events(plant))["stalls"]
    assert stalls["attribute"] == "waiting_for"
    assert list(stalls["actors"]) == ["press", "robot"]  # the oven and the buffers never stall
    press = stalls["actors"]["press"]
    assert press["seconds"] == pytest.approx(35.0)
    assert press["share"] == pytest.approx(35 / 150)  # of all the simulated time
    assert press["episode_share"] == pytest.approx({"mean": 0.175, "min": 0.0, "max": 0.35})
    assert press["per_episode"] == [
        {"episode": 0, "seconds": 35.0, "share": 0.35},
        {"episode": 1, "seconds": 0.0, "share": 0.0},
    ]
    assert press["states_seen"] == ["waiting_for_parts", "blocked"]  # most seconds first
    assert press["waiting_for"] == [
        {"value": "parts", "seconds": 20.0, "intervals": 1, "share": pytest.approx(20 / 35)},
        {"value": "room", "seconds": 15.0, "intervals": 1, "share": pytest.approx(15 / 35)},
    ]
    robot = stalls["actors"]["robot"]  # stalled because it says what it waits for
    assert (robot["stall_states"], robot["states_seen"]) == ([], ["holding"])
    assert robot["seconds"] == pytest.approx(20.0)
    assert [r["value"] for r in robot["waiting_for"]] == ["gripper"]


def test_stalled_text_for_one_and_for_many_episodes(plant: Path, tmp_path: Path) -> None:
    text = format_text(summarise(read_events(plant)))
    assert (
        "  press  waiting_for_parts+blocked 23.3% of the time; per episode 17.5s, "
        "17.5% on average (0.0%-35.0%); waiting for parts 10s (57.1%), room 7.5s (42.9%)"
    ) in text
    assert "  robot  holding 13.3% of the time; per episode 10s" in text
    one = _plant(tmp_path / "one.parquet", [_episode_0()])
    text = format_text(summarise(read_events(one)))
    assert (
        "  press  waiting_for_parts+blocked 35.0% of the time (35s); "
        "waiting for parts 20s (57.1%), room 15s (42.9%)"
    ) in text
    assert "on average" not in text.split("Stalled time")[1].split("Levels")[0]


def test_an_actor_with_a_stall_state_that_never_stalled_says_so(tmp_path: Path) -> None:
    path = _plant(tmp_path / "calm.parquet", [_episode_1()])
    summary = summarise(read_events(path))
    assert summary["stalls"]["actors"]["press"]["seconds"] == 0.0
    assert "robot" not in summary["stalls"]["actors"]
    assert "  press  never stalled" in format_text(summary)


def test_stalls_in_recorded_tables_agree_with_their_rows(tmp_path: Path) -> None:
    """Factory: workers stall for items and room; cashier: cashiers stall with no reason."""
    factory = record(RecordConfig(policy="first-legal", episodes=2, out=tmp_path / "f.parquet"))
    for path in (factory.path, FIXTURES / "cashier-v2.parquet", FIXTURES / "factory-v2.parquet"):
        summary = summarise(read_events(path))
        rows = pq.read_table(path).to_pylist()
        end_times = sum(e["end_time"] for e in summary["episodes"])
        for actor, data in summary["stalls"]["actors"].items():
            stalled = [r for r in rows if r["actor"] == actor and r["state"] == "stalled"]
            seconds = sum(r["end"] - r["start"] for r in stalled)
            assert data["seconds"] == pytest.approx(seconds)
            assert data["share"] == pytest.approx(seconds / end_times)
            # the same time as the state-share table's "stalled"
            assert data["share"] == pytest.approx(summary["state_share"][actor]["stalled"])
            by_reason: dict[str | None, float] = {}
            for r in stalled:
                reason = r.get("waiting_for")
                by_reason[reason] = by_reason.get(reason, 0.0) + r["end"] - r["start"]
            if data["waiting_for"] is None:  # the cashier has no waiting_for attribute
                assert "waiting_for" not in rows[0]
            else:
                found = {r["value"]: r["seconds"] for r in data["waiting_for"]}
                assert found == pytest.approx(by_reason)
    first_legal = summarise(read_events(factory.path))["stalls"]["actors"]
    reasons = {r["value"] for w in ("worker0", "worker1") for r in first_legal[w]["waiting_for"]}
    assert reasons == {"item", "room"}


# -- levels ------------------------------------------------------------------------------


def test_levels_of_a_buffer(plant: Path) -> None:
    levels = summarise(read_events(plant))["levels"]
    assert levels["skipped"] is None
    assert list(levels["actors"]) == ["tray", "rack", "tank"]  # the counter is not a level
    tray = levels["actors"]["tray"]
    assert tray["attribute"] == "parts"
    assert tray["seconds"] == pytest.approx(150.0)
    # (0*10 + 1*20 + 2*30 + 3*10 + 0*30) + (4*5 + 1*45) over 150 s
    assert tray["mean"] == pytest.approx(175 / 150)
    assert tray["full"] == 4  # the highest level seen anywhere: no capacity is declared
    assert (tray["seconds_full"], tray["share_full"]) == pytest.approx((5.0, 5 / 150))
    assert (tray["seconds_empty"], tray["share_empty"]) == pytest.approx((40.0, 40 / 150))
    assert tray["reached_full"] == {
        "episodes": 1,
        "of": 2,
        "first_at": {"mean": 0.0, "min": 0.0, "max": 0.0},
    }
    assert tray["peak"] == pytest.approx({"mean": 3.5, "min": 3, "max": 4})
    assert [(e["level"], e["seconds"]) for e in tray["time_at_level"]] == [
        (0, 40.0),
        (1, 65.0),
        (2, 30.0),
        (3, 10.0),
        (4, 5.0),
    ]
    first, second = tray["per_episode"]
    # The instant at level 3 (t = 30) is when the tray first reached its peak.
    assert (first["peak"], first["first_peak_at"], first["seconds_at_peak"]) == (3, 30.0, 10.0)
    assert (first["first_full_at"], first["seconds_full"], first["mean"]) == (None, 0.0, 1.1)
    assert (second["peak"], second["first_peak_at"], second["first_full_at"]) == (4, 0.0, 0.0)
    json.dumps(levels)


def test_many_levels_are_binned(plant: Path) -> None:
    actors = summarise(read_events(plant))["levels"]["actors"]
    rack = actors["rack"]["time_at_level"]  # whole levels 0..29: ranges of 3 levels
    assert [(b["from"], b["to"]) for b in rack] == [(3 * k, 3 * k + 2) for k in range(10)]
    assert [b["seconds"] for b in rack] == [3.0] * 10
    assert actors["rack"]["seconds"] == 30.0  # shares are of the time the level was recorded
    tank = actors["tank"]["time_at_level"]  # 0.0 .. 9.5 in 10 ranges of 0.95
    assert len(tank) == 10
    assert (tank[0]["from"], tank[-1]["to"]) == pytest.approx((0.0, 9.5))
    assert [b["seconds"] for b in tank] == [10.0] * 10
    assert sum(b["share"] for b in tank) == pytest.approx(1.0)


def test_levels_text(plant: Path, tmp_path: Path) -> None:
    text = format_text(summarise(read_events(plant)))
    assert "full = the highest level seen, no capacity being declared" in text
    assert "  tray (parts): mean 1.17, empty 26.7%, full (4) 3.3%\n" in text
    assert ("    full in 1/2 episodes, first at 0s; peak per episode 3.5 on average (3-4)") in text
    assert "    time at level  0 26.7%  1 43.3%  2 20.0%  3 6.7%  4 3.3%" in text
    assert "    time at level  0-2 10.0%  3-5 10.0%" in text  # the rack, binned
    assert "made (" not in text.split("Levels")[1].split("made (made) rise")[0]
    one = _plant(tmp_path / "one.parquet", [_episode_0()])
    text = format_text(summarise(read_events(one)))
    assert "  tray (parts): mean 1.1, empty 40.0%, full (3) 10.0% (10s), first at 30s" in text


def test_levels_in_recorded_tables_agree_with_their_rows() -> None:
    for name, actors in (("factory-v2", ("buffer_a", "buffer_b")), ("cashier-v2", ("lane0",))):
        path = FIXTURES / f"{name}.parquet"
        levels = summarise(read_events(path))["levels"]["actors"]
        rows = pq.read_table(path).to_pylist()
        for actor in actors:
            mine = [(r["level"], r["end"] - r["start"]) for r in rows if r["actor"] == actor]
            total = sum(span for _, span in mine)
            full = max(level for level, _ in mine)
            data = levels[actor]
            assert data["mean"] == pytest.approx(sum(lv * s for lv, s in mine) / total)
            assert data["full"] == full
            assert data["seconds_full"] == pytest.approx(sum(s for lv, s in mine if lv == full))
            assert data["seconds_empty"] == pytest.approx(sum(s for lv, s in mine if lv == 0))
            spent = {e["level"]: e["seconds"] for e in data["time_at_level"]}
            assert spent == pytest.approx(
                {lv: sum(s for v, s in mine if v == lv) for lv, _ in mine}
            )


def test_v1_tables_skip_levels_and_v2_tables_without_quantities_say_nothing(
    tmp_path: Path,
) -> None:
    levels = summarise(read_events(FIXTURES / "checkout-v1.parquet"))["levels"]
    assert levels["actors"] == {}
    assert "v1" in levels["skipped"]
    plain = Vocabulary(actors=(Actor("oven", ("baking", "idle")),))
    path = _plant(tmp_path / "plain.parquet", [(10.0, [("oven", "baking", 0, 10, {})])], plain)
    summary = summarise(read_events(path))
    assert summary["levels"] == {**summary["levels"], "skipped": None, "actors": {}}
    assert "Levels" not in format_text(summary)


# -- what the text leaves out, and how long it gets --------------------------------------


def test_lines_that_say_nothing_are_left_out(plant: Path) -> None:
    text = format_text(summarise(read_events(plant)))
    shares = text.split("Share of simulated time")[1].split("\n\n")[0]
    assert "baking 100.0%" not in shares
    assert "count 100.0%" not in shares
    assert "always in their only state: oven (baking), tray (level), made (count)" in shares
    # The rack's and the tank's one state does not fill their time: that says something.
    assert re.search(r"rack\s+level\s+20\.0%\s+\(no state 80\.0%\)", shares)
    assert re.search(r"tank\s+level\s+66\.7%\s+\(no state 33\.3%\)", shares)
    assert "Short-lived" not in text  # no short-lived kinds: no section


def test_the_text_does_not_grow_with_the_episodes(tmp_path: Path) -> None:
    few = _plant(tmp_path / "few.parquet", [_episode_0(), _episode_1()] * 6)
    many = _plant(tmp_path / "many.parquet", [_episode_0(), _episode_1()] * 1500)
    few_text = format_text(summarise(read_events(few)))
    summary = summarise(read_events(many))
    many_text = format_text(summary)
    assert len(many_text.splitlines()) == len(few_text.splitlines())
    assert "  ... and 2990 more (see --json)" in many_text
    assert re.search(r"\n  mean\s+0\.00\s+1\s+", many_text)
    # the aggregate is over all 3000 episodes, the detail in --json
    tray = summary["levels"]["actors"]["tray"]
    assert tray["reached_full"] == {**tray["reached_full"], "episodes": 1500, "of": 3000}
    assert len(summary["stalls"]["actors"]["press"]["per_episode"]) == 3000
    assert summary["stalls"]["actors"]["press"]["share"] == pytest.approx(35 / 150)


def test_table_text_is_escaped_before_it_reaches_the_terminal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _plant(
        tmp_path / "evil.parquet",
        [_episode_0(reason="\x1b[2J\x1b]0;owned\x07\u202egrip")],
        provenance={"note": "line\x1b[31m red\nsecond line"},
        kpi="k\x1b[1m",
    )
    code, out, _ = run_cli(["inspect", str(path)], capsys)
    assert code == 0
    assert not any(ch in out for ch in "\x1b\x07\u202e")
    assert "waiting for \\x1b[2J\\x1b]0;owned\\x07\\u202egrip 20s (100.0%)" in out
    assert "  note: line\\x1b[31m red\\nsecond line" in out
    assert "k\\x1b[1m" in out
    code, out, _ = run_cli(["inspect", str(path), "--json"], capsys)
    assert "\x1b" not in out  # JSON escapes it itself
    robot = json.loads(out)["stalls"]["actors"]["robot"]
    assert robot["waiting_for"][0]["value"] == "\x1b[2J\x1b]0;owned\x07\u202egrip"
