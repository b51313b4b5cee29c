"""No control character from a table or a file name reaches the terminal, on any path.

``simreel inspect`` escapes what it prints; so must every other line the command writes:
errors from ``main()`` (a table's message may quote a KPI name, a usage error an
argument), the ``wrote ...`` lines (a default output name is made from the table's
name), ``compare``, ``export``, and the progress bar of a movie on a terminal.
"""

from __future__ import annotations

import fcntl
import json
import os
import pty
import select
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

from stages.terminal import one_line, printable, printable_lines
from tests.cli_helpers import run_cli
from tests.test_hostile_cli import ROOT, unsafe_characters
from tests.test_hostile_tables import (
    ESCAPES,
    PLANT_ATTRIBUTES,
    RAW_CONTROLS,
    document,
    escapes_everywhere,
    plant,
    plant_rows,
    plant_vocabulary,
    write_raw,
)

EVIL_NAME = "evil\x1b]0;pwned\x07\u202e"
"""A file name as a download may carry it: an OSC title sequence and a bidi override."""


def _inert(text: str) -> None:
    assert not unsafe_characters(text), unsafe_characters(text)[:5]
    assert not any(ch in text for ch in RAW_CONTROLS)


def test_printable_escapes_every_control_and_format_character() -> None:
    assert printable("plain · text é") == "plain · text é"
    for ch in RAW_CONTROLS:
        assert ch not in printable(ESCAPES)
    assert printable("a\x00b\u202ec\ud800") == "a\\x00b\\u202ec\\ud800"
    assert one_line("first\nsecond\n") == "first\\nsecond"
    assert printable_lines("usage \x1b[2J\nError: x\x07\n") == "usage \\x1b[2J\nError: x\\x07"


def test_an_error_quoting_a_tables_text_is_one_inert_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A KPI that is not a number: the reader's message names the field, i.e. the KPI name.
    rows = plant_rows(10.0)
    meta = document(plant_vocabulary(), rows, 10.0)
    meta["episodes"][0]["kpis"] = {ESCAPES: "not a number"}
    path = write_raw(tmp_path / "bad.parquet", meta, rows, PLANT_ATTRIBUTES)
    code, out, err = run_cli(["inspect", str(path)], capsys)
    assert code == 2
    assert out == ""
    assert err.startswith("error: ")
    assert err.count("\n") == 1
    _inert(err)
    assert "\\x1b[31mred" in err  # shown, escaped: the reader sees what the table holds


def test_an_error_naming_a_file_from_anywhere_is_inert(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / f"{EVIL_NAME}.parquet"
    code, out, err = run_cli(["inspect", str(missing)], capsys)
    assert code == 2
    assert err.count("\n") == 1
    _inert(out + err)
    code, out, err = run_cli(["render", f"--{EVIL_NAME}"], capsys)  # no such option
    assert code == 2
    _inert(out + err)
    assert "\\x1b]0;pwned" in err


def test_the_wrote_line_of_render_is_inert(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    table = escapes_everywhere(tmp_path / f"{EVIL_NAME}.parquet")
    monkeypatch.chdir(tmp_path)
    code, out, err = run_cli(["render", str(table), "--still", "5"], capsys)
    assert code == 0, err
    _inert(out + err)
    assert out.startswith("wrote data/movies/evil\\x1b]0;pwned\\x07\\u202e-t5.png")
    assert "note: no painter is installed for domain" in err


def test_compare_and_its_plot_line_are_inert(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = escapes_everywhere(tmp_path / f"{EVIL_NAME}-a.parquet")
    second = escapes_everywhere(tmp_path / "b.parquet")
    plot = tmp_path / f"{EVIL_NAME}.png"
    code, out, err = run_cli(
        ["compare", str(first), str(second), "--plot", "queue.level", "--out", str(plot)], capsys
    )
    assert code == 0, err
    _inert(out + err)
    assert "wrote " in out
    assert plot.exists()
    code, out, err = run_cli(["compare", str(first), str(second), "--json"], capsys)
    assert code == 0, err
    _inert(out + err)
    assert json.loads(out)


def test_export_is_inert(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    table = escapes_everywhere(tmp_path / "escapes.parquet")
    code, out, err = run_cli(
        ["export", str(table), "--ocel", str(tmp_path / f"{EVIL_NAME}.json")], capsys
    )
    assert code == 0, err
    _inert(out + err)
    assert "OCEL 2.0" in out


def test_inspect_is_inert(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    table = escapes_everywhere(tmp_path / f"{EVIL_NAME}.parquet")
    code, out, err = run_cli(["inspect", str(table)], capsys)
    assert code == 0, err
    _inert(out + err)
    assert "\\x1b[31mred" in out
    code, out, err = run_cli(["inspect", str(table), "--json"], capsys)
    assert code == 0, err
    _inert(out + err)


def _read_terminal(master: int, process: subprocess.Popen[bytes], limit: float) -> bytes:
    """Everything the process writes to its terminal until it exits (or `limit` seconds)."""
    seen = b""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # the other end closed
                break
            if not chunk:
                break
            seen += chunk
        elif process.poll() is not None:
            break
    return seen


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
def test_the_progress_bar_on_a_terminal_is_inert(tmp_path: Path) -> None:
    """On a terminal the movie's progress bar is shown, labelled with the output's name."""
    table = plant(tmp_path / "plain.parquet")
    out = tmp_path / f"{EVIL_NAME}.mp4"
    master, slave = pty.openpty()
    # A terminal of 0 columns (a new pty's size) shows an empty bar: give it a real width.
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 240, 0, 0))
    env = {**os.environ, "SDL_VIDEODRIVER": "dummy", "PYGAME_HIDE_SUPPORT_PROMPT": "1"}
    env["PYTHONPATH"] = str(ROOT)
    command = "from stages.cli import main; main()"
    argv = ["render", str(table), "--out", str(out), "--preset", "ultrafast", "--fps", "10"]
    process = subprocess.Popen(
        [sys.executable, "-c", command, *argv],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=env,
        cwd=tmp_path,
    )
    os.close(slave)
    try:
        seen = _read_terminal(master, process, 120.0).decode("utf-8", "replace")
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()
        os.close(master)
    assert process.returncode == 0, seen
    assert "frame/s" in seen or "frame]" in seen, seen  # the bar was drawn
    assert "\x1b]0;pwned" not in seen
    assert "\u202e" not in seen
    assert "\\x1b]0;pwned" in seen
