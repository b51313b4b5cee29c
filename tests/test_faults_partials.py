"""``kill -9`` while writing: the partial file it leaves is removed by the next write there.

A partial's name carries its writer's host and process id, and the writer holds a
lock on it; a later ``atomic_output`` in the same directory removes the partials of
writers that are gone, and only those.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from schemas import partials
from schemas.atomic import atomic_output
from tests.cli_helpers import run_cli

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "data" / "fixtures" / "factory-v2.parquet"

_WRITER = """
import sys, time
from schemas.atomic import atomic_output
with atomic_output(sys.argv[1]) as partial:
    partial.write_bytes(b"half a table")
    print(partial, flush=True)
    time.sleep(600)
"""


def _start_writer(target: Path) -> tuple[subprocess.Popen[str], Path]:
    """A process writing `target` that stays in the middle of it; returns it and its partial."""
    writer = subprocess.Popen(
        [sys.executable, "-c", _WRITER, str(target)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert writer.stdout is not None
    partial = Path(writer.stdout.readline().strip())
    assert partial.is_file(), "the writer did not start"
    return writer, partial


@pytest.fixture
def writers() -> Iterator[list[subprocess.Popen[str]]]:
    """Writers a test starts; any still running at its end are killed."""
    started: list[subprocess.Popen[str]] = []
    yield started
    for writer in started:
        if writer.poll() is None:
            writer.kill()
        writer.wait()
        if writer.stdout is not None:
            writer.stdout.close()


def _write(target: Path) -> None:
    with atomic_output(target) as partial:
        partial.write_bytes(b"complete")


def test_the_partial_of_a_killed_writer_is_removed_by_the_next_write(
    tmp_path: Path, writers: list[subprocess.Popen[str]]
) -> None:
    writer, partial = _start_writer(tmp_path / "table.parquet")
    writers.append(writer)
    assert partial.name.startswith(f".table.parquet.{partials.host_token()}~{writer.pid}.")
    assert partial.name.endswith(".partial.parquet")
    writer.send_signal(signal.SIGKILL)
    writer.wait()
    assert partial.exists()  # nobody could clean up: the process died at once
    _write(tmp_path / "other.parquet")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other.parquet"]


def test_the_partial_of_a_live_writer_is_left_alone(
    tmp_path: Path, writers: list[subprocess.Popen[str]]
) -> None:
    writer, partial = _start_writer(tmp_path / "table.parquet")
    writers.append(writer)
    _write(tmp_path / "other.parquet")
    assert partial.read_bytes() == b"half a table"
    writer.kill()
    writer.wait()
    _write(tmp_path / "other.parquet")
    assert not partial.exists()


def test_a_partial_still_locked_by_its_writer_is_left_alone(
    tmp_path: Path, writers: list[subprocess.Popen[str]]
) -> None:
    # A writer whose process id looks dead from here (another PID namespace on this host)
    # still holds the partial's lock.
    writer, partial = _start_writer(tmp_path / "table.parquet")
    writers.append(writer)
    disguised = partial.with_name(partial.name.replace(f"~{writer.pid}.", "~999999999."))
    partial.rename(disguised)
    _write(tmp_path / "other.parquet")
    assert disguised.exists()


def test_partials_of_other_hosts_and_other_files_are_left_alone(tmp_path: Path) -> None:
    other_host = tmp_path / ".table.parquet.elsewhere~999999999.abcd1234.partial.parquet"
    user_file = tmp_path / ".notes.partial"
    for path in (other_host, user_file):
        path.write_bytes(b"keep")
    _write(tmp_path / "other.parquet")
    assert other_host.exists()
    assert user_file.exists()


def test_old_style_partials_are_removed_once_a_day_old(tmp_path: Path) -> None:
    stale = tmp_path / ".movie.mp4.k3j5h2l1.partial.mp4"
    fresh = tmp_path / ".table.parquet.a8d7f6g5.partial.parquet"
    for path in (stale, fresh):
        path.write_bytes(b"old simreel's partial")
    day_ago = time.time() - partials.LEGACY_AGE_SECONDS - 60
    os.utime(stale, (day_ago, day_ago))
    _write(tmp_path / "other.parquet")
    assert not stale.exists()
    assert fresh.exists()


def test_a_movie_killed_mid_render_leaves_nothing_after_the_next_render(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The real case: the renderer is killed while ffmpeg writes; ffmpeg (in its own
    # session) then finishes a complete movie into the partial file.
    out = tmp_path / "movie.mp4"
    argv = ["render", str(GOLDEN), "--fps", "30", "--scale", "0.25", "--preset", "ultrafast"]
    script = "import sys\nfrom stages.cli import main\nmain(sys.argv[1:])"
    env = {**os.environ, "SDL_VIDEODRIVER": "dummy"}
    renderer = subprocess.Popen(
        [sys.executable, "-c", script, *argv, "--out", str(out)],
        cwd=ROOT,
        env=env,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while not any(p.name.endswith(".partial.mp4") for p in tmp_path.iterdir()):
            assert renderer.poll() is None, "the render ended before it was killed"
            assert time.monotonic() < deadline, "no partial movie appeared"
            time.sleep(0.02)
    finally:
        renderer.kill()
        renderer.wait()
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".partial.mp4")]
    still = tmp_path / "still.png"
    argv = ["render", str(GOLDEN), "--still", "1", "--scale", "0.25", "--out", str(still)]
    assert run_cli(argv, capsys)[0] == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["still.png"]
