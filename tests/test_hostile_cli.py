"""Every hostile table through ``inspect``, ``render --still`` and a 2 s ``render`` window.

A table from anywhere is safe to open: each command either works or refuses the table
with one line on stderr (exit code 2), and never prints a traceback, hangs, crashes or
lets a control character reach the terminal. A picture keeps the size asked for
(1280 pixels wide, at most 720 high at ``--scale 1``), whatever the table declares.

Each table runs in its own subprocess (the three commands in turn, through the real
``simreel`` entry point) with an address-space limit and a timeout: a table that makes
the renderer allocate gigabytes, loop for ever or crash fails its case here instead of
taking the test run down. The guards are limits, not timings: a healthy case takes a
few seconds of the 180 allowed.
"""

from __future__ import annotations

import json
import os
import resource
import struct
import subprocess
import sys
import traceback
import unicodedata
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from tests.test_hostile_tables import CASES, RAW_CONTROLS, Hostile, build

MEMORY_LIMIT = 3 * 1024**3
"""Address space per subprocess: a table that makes the renderer ask for more fails."""
TIMEOUT = 180.0
"""Seconds for the three commands together (60 each, as the issue's trial allowed)."""
WIDTH, MAX_HEIGHT = 1280, 720
"""The picture size asked for at ``--scale 1``."""
ROOT = Path(__file__).resolve().parents[1]


def drive(plan_path: str) -> None:
    """In the subprocess: run each command of the plan through ``stages.cli.main``, its
    stdout and stderr (the file descriptors, so C libraries' writes are caught too)
    going to files, and record its exit code."""
    plan = json.loads(Path(plan_path).read_text())
    from stages.cli import main

    results: dict[str, Any] = {}
    for name, argv in plan["commands"].items():
        out = os.open(plan["folder"] + f"/{name}.out", os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        err = os.open(plan["folder"] + f"/{name}.err", os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        saved = os.dup(1), os.dup(2)
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(out, 1)
        os.dup2(err, 2)
        try:
            main(argv)
            code = 0
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
        except BaseException:  # what Python itself would do: a traceback and exit code 1
            traceback.print_exc()
            code = 1
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for fd in (out, err, *saved):
                os.close(fd)
        results[name] = code
        Path(plan["folder"], "codes.json").write_text(json.dumps(results))


def _limits() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _end_time(path: Path) -> float:
    """The first episode's end, or 10 when the metadata cannot be decoded (deep JSON)."""
    try:
        meta = json.loads(pq.read_metadata(path).metadata[b"simreel"])
        return float(meta["episodes"][0]["end_time"])
    except (RecursionError, ValueError, KeyError, IndexError, TypeError):
        return 10.0


def commands(table: Path, folder: Path) -> dict[str, list[str]]:
    """The issue's trial: inspect, a still at mid-episode, a window of the first 2 s."""
    end = _end_time(table)
    return {
        "inspect": ["inspect", str(table)],
        "still": ["render", str(table), "--still", repr(end / 2), "--out", str(folder / "s.png")],
        "window": [
            "render",
            str(table),
            "--from",
            "0",
            "--to",
            repr(min(2.0, end)),
            "--out",
            str(folder / "w.mp4"),
            "--preset",
            "ultrafast",
            "--fps",
            "10",
        ],
    }


def run_case(
    table: Path, folder: Path, trial: dict[str, list[str]] | None = None
) -> tuple[int, dict[str, int]]:
    """Run the `trial` (by default :func:`commands`) on `table` in a limited subprocess:
    (its exit status, code per command)."""
    folder.mkdir(parents=True, exist_ok=True)
    plan = folder / "plan.json"
    trial = commands(table, folder) if trial is None else trial
    plan.write_text(json.dumps({"folder": str(folder), "commands": trial}))
    env = {**os.environ, "SDL_VIDEODRIVER": "dummy", "PYGAME_HIDE_SUPPORT_PROMPT": "1"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    try:
        process = subprocess.run(
            [
                sys.executable,
                "-c",
                f"from tests.test_hostile_cli import drive; drive({str(plan)!r})",
            ],
            cwd=folder,
            env=env,
            preexec_fn=_limits,
            timeout=TIMEOUT,
            capture_output=True,
        )
    except subprocess.TimeoutExpired:
        return -1, _codes(folder)
    return process.returncode, _codes(folder)


def _codes(folder: Path) -> dict[str, int]:
    path = folder / "codes.json"
    return dict(json.loads(path.read_text())) if path.exists() else {}


def unsafe_characters(text: str) -> list[str]:
    """Control and format characters other than the newline (escaped, for the message)."""
    return [
        ascii(ch)
        for ch in text
        if ch != "\n" and (unicodedata.category(ch).startswith("C") or ch in "\u2028\u2029")
    ]


def png_size(path: Path) -> tuple[int, int]:
    """Width and height from a PNG's header (its IHDR chunk)."""
    width, height = struct.unpack(">II", path.read_bytes()[16:24])
    return width, height


def check_command(
    case: Hostile, folder: Path, name: str, code: int, size: tuple[int, int] = (WIDTH, MAX_HEIGHT)
) -> None:
    """One command's exit code and output against the case's expectation; a still must
    be `size` wide and at most `size` high."""
    out = (folder / f"{name}.out").read_bytes().decode("utf-8")
    err = (folder / f"{name}.err").read_bytes().decode("utf-8")
    where = f"{case.name} {name} (exit {code}): {err[-2000:]!r}"
    assert "Traceback" not in out + err, where
    assert not unsafe_characters(out + err), f"{where}: raw {unsafe_characters(out + err)[:5]}"
    assert not any(ch in out + err for ch in RAW_CONTROLS), where
    assert code in (0, 2), where
    if code == 2:
        assert err.startswith("error: "), where
        assert err.count("\n") == 1, where
        assert out == "", where
    else:
        assert all(line.startswith("note: ") for line in err.splitlines()), where
    expected = {"works": (0,), "refused": (2,), "either": (0, 2)}[case.expect]
    assert code in expected, f"{where}: expected the table to be {case.expect}"
    if name == "still" and code == 0:
        width, height = png_size(folder / "s.png")
        assert width == size[0], (case.name, width, height)
        assert height <= size[1], (case.name, width, height)
    if name == "window" and code == 0:
        assert (folder / "w.mp4").stat().st_size > 0, where


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_a_hostile_table_is_drawn_or_refused_in_one_line(case: Hostile, tmp_path: Path) -> None:
    table = build(case.name, tmp_path)
    status, codes = run_case(table, tmp_path / "run")
    running = next((n for n in ("inspect", "still", "window") if n not in codes), None)
    assert status != -1, f"{case.name}: timed out in {running} ({TIMEOUT:g} s for three commands)"
    assert status == 0, f"{case.name}: the process died (status {status}) in {running}"
    for name, code in codes.items():
        check_command(case, tmp_path / "run", name, code)
    assert set(codes) == {"inspect", "still", "window"}


@pytest.mark.parametrize("name", ["plant-end-1e308", "factory-end-1e9", "plant-end-float-max"])
def test_a_movie_of_a_whole_endless_episode_is_refused_in_one_line(
    name: str, tmp_path: Path
) -> None:
    """The movie's length comes from the table: 1e308 s at 5 s per second is no movie."""
    table = build(name, tmp_path)
    folder = tmp_path / "run"
    out = str(folder / "m.mp4")
    trial = {"movie": ["render", str(table), "--out", out, "--preset", "ultrafast"]}
    status, codes = run_case(table, folder, trial)
    assert status == 0, f"{name}: the process died or timed out (status {status})"
    assert codes == {"movie": 2}
    err = (folder / "movie.err").read_text()
    assert err.startswith("error: the movie from 0 to ")
    assert "raise --speed or choose a shorter window" in err
    assert err.count("\n") == 1
    assert not (folder / "m.mp4").exists()


SIDE_BY_SIDE = {
    "plant-end-1e308": "queue.level",
    "plant-odd-floats": "queue.load",
    "plant-int-extremes": "queue.level",
    "plant-escapes": "queue.level",
    "factory-count-min": "finished.count",
    "cashier-end-1e308": "served.count",
}


@pytest.mark.parametrize("name", sorted(SIDE_BY_SIDE))
def test_side_by_side_and_compare_draw_hostile_tables(name: str, tmp_path: Path) -> None:
    """The side-by-side movie (its KPI card and live chart) and ``compare --plot`` scale
    their bars and lines from the table's values: 1e308, NaN and -2**63 must draw."""
    table = build(name, tmp_path)
    folder = tmp_path / "run"
    pair = [str(table), str(table), "--side-by-side"]
    end = _end_time(table)
    trial = {
        "still": ["render", *pair, "--still", repr(end / 2), "--out", str(folder / "s.png")],
        "window": [
            *["render", *pair, "--from", "0", "--to", repr(min(2.0, end))],
            *["--out", str(folder / "w.mp4"), "--preset", "ultrafast", "--fps", "10"],
        ],
        "compare": [
            *["compare", str(table), str(table), "--plot", SIDE_BY_SIDE[name]],
            *["--out", str(folder / "p.png")],
        ],
    }
    status, codes = run_case(table, folder, trial)
    assert status == 0, f"{name}: the process died or timed out (status {status}) after {codes}"
    works = Hostile(name, "side by side", lambda path: path, "works")
    for command, code in codes.items():
        check_command(works, folder, command, code, size=(1920, 1080))
    assert set(codes) == set(trial)
    assert png_size(folder / "p.png")[0] == WIDTH
