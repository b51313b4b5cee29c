"""A full disk or a file-size limit while writing: one line naming the file and the cause.

The file-size limit is real (``setrlimit(RLIMIT_FSIZE)`` in a child process: pyarrow
gets EFBIG, ffmpeg is killed by SIGXFSZ, libpng fails); a full disk is simulated
(a writer raising ENOSPC, or a file system reporting no free space), since tests
cannot fill a real one. Tables, stills, movies and both OCEL exports are checked:
every writer goes through ``schemas.atomic.atomic_output``. In every case: exit code
!= 0, one ``error:`` line naming the output and the cause, and no file left behind.
"""

from __future__ import annotations

import errno
import os
import resource
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pygame
import pytest

from schemas import write_failures
from schemas.atomic import atomic_output
from schemas.errors import OutputError, RenderError
from stages import record as record_module
from stages.render import movie
from stages.render.movie import FfmpegPipe
from tests.cli_helpers import run_cli

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "data" / "fixtures" / "factory-v2.parquet"
LIMIT = 4096
"""The child's file-size limit in bytes: smaller than any table, picture or movie."""
ENOSPC_TEXT = os.strerror(errno.ENOSPC)

_LIMITED = f"""
import resource, sys
_, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
resource.setrlimit(resource.RLIMIT_FSIZE, ({LIMIT}, hard))
from stages.cli import main
main(sys.argv[1:])
"""


def _simreel_with_size_limit(argv: list[str]) -> subprocess.CompletedProcess[str]:
    """Run ``simreel ARGV`` in a child process whose files may not grow past LIMIT bytes."""
    env = {**os.environ, "SDL_VIDEODRIVER": "dummy", "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run(
        [sys.executable, "-c", _LIMITED, *argv],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _error_lines(err: str) -> list[str]:
    # libpng prints its own complaint to the C stderr before pygame raises; it is not ours.
    return [line for line in err.strip().splitlines() if not line.startswith("libpng ")]


@pytest.mark.skipif(
    resource.getrlimit(resource.RLIMIT_FSIZE)[1] not in (resource.RLIM_INFINITY,)
    and resource.getrlimit(resource.RLIMIT_FSIZE)[1] < LIMIT,
    reason="the hard file-size limit is already below the test's",
)
@pytest.mark.parametrize(
    "argv",
    [
        ["record", "--policy", "first-legal", "--out", "{dir}/table.parquet"],
        ["render", str(GOLDEN), "--still", "10", "--out", "{dir}/still.png"],
        [
            "render",
            str(GOLDEN),
            "--from",
            "0",
            "--to",
            "5",
            "--fps",
            "5",
            "--scale",
            "0.5",
            "--preset",
            "ultrafast",
            "--out",
            "{dir}/movie.mp4",
        ],
        ["export", str(GOLDEN), "--ocel", "{dir}/log.json"],
        ["export", str(GOLDEN), "--ocel", "{dir}/log.sqlite"],
    ],
    ids=["record", "still", "movie", "export-json", "export-sqlite"],
)
def test_the_file_size_limit_is_one_line_naming_the_output_and_leaves_nothing(
    tmp_path: Path, argv: list[str]
) -> None:
    argv = [part.format(dir=tmp_path) for part in argv]
    out = argv[-1]
    result = _simreel_with_size_limit(argv)
    assert result.returncode != 0
    lines = _error_lines(result.stderr)
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"error: cannot write {out}: ")
    assert f"file-size limit of {LIMIT} bytes" in lines[0]
    assert "ulimit" in lines[0]
    assert "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_full_disk_while_recording_is_one_line_and_no_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    real = pq.ParquetWriter.write_table

    def full_disk(writer: pq.ParquetWriter, table: object, **options: object) -> None:
        real(writer, table, **options)  # a partial file exists when the disk fills up
        raise OSError(errno.ENOSPC, f"Error writing bytes to file. Detail: {ENOSPC_TEXT}")

    # The table is written episode by episode through a ParquetWriter.
    monkeypatch.setattr(pq.ParquetWriter, "write_table", full_disk)
    out = tmp_path / "table.parquet"
    code, _, err = run_cli(["record", "--policy", "first-legal", "--out", str(out)], capsys)
    assert code != 0
    assert err.strip().splitlines() == [
        f"error: cannot write {out}: no space left on the device; free some space on it, "
        "or write to another disk"
    ]
    assert list(tmp_path.iterdir()) == []


def test_a_full_disk_keeps_the_table_that_was_there(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "table.parquet"
    out.write_bytes(b"yesterday's table")

    def full_disk(writer: pq.ParquetWriter, table: object, **options: object) -> None:
        raise OSError(errno.ENOSPC, ENOSPC_TEXT)

    monkeypatch.setattr(pq.ParquetWriter, "write_table", full_disk)
    code, _, err = run_cli(["record", "--policy", "first-legal", "--out", str(out)], capsys)
    assert code != 0
    assert "no space left" in err
    assert out.read_bytes() == b"yesterday's table"
    assert [p.name for p in tmp_path.iterdir()] == ["table.parquet"]


def test_a_full_disk_while_saving_a_still_is_named_though_pygame_says_only_failed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def failing_save(surface: pygame.Surface, where: str) -> None:
        Path(where).write_bytes(b"\x89PNG half")
        raise pygame.error("Error writing the PNG file.")

    monkeypatch.setattr(pygame.image, "save", failing_save)
    monkeypatch.setattr(write_failures, "free_bytes", lambda directory: 0)
    out = tmp_path / "still.png"
    code, _, err = run_cli(["render", str(GOLDEN), "--still", "10", "--out", str(out)], capsys)
    assert code != 0
    assert err.strip().splitlines() == [
        f"error: cannot write {out}: no space left on the device; free some space on it, "
        "or write to another disk"
    ]
    assert list(tmp_path.iterdir()) == []


def test_a_failure_with_room_on_the_disk_keeps_its_own_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Only a failure the disk explains is blamed on the disk.
    monkeypatch.setattr(write_failures, "free_bytes", lambda directory: 10 << 30)
    with pytest.raises(RenderError, match="not the disk"), atomic_output(tmp_path / "x.png"):
        raise RenderError("not the disk")
    monkeypatch.setattr(write_failures, "free_bytes", lambda directory: 0)
    with pytest.raises(OutputError, match="no space left"), atomic_output(tmp_path / "x.png"):
        raise RenderError("Error writing the PNG file.")
    assert list(tmp_path.iterdir()) == []


def _fake_encoder(script: str, out: Path | None = None) -> list[str]:
    """A stand-in for ffmpeg: a shell `script` that reads the frames and fails its way;
    like ffmpeg's, its last argument is the output (``$1`` in `script`)."""
    return ["sh", "-c", f"cat >/dev/null; {script}", "sh", str(out or "/dev/null")]


def test_ffmpeg_killed_at_the_file_size_limit_says_so() -> None:
    with pytest.raises(RenderError) as error, FfmpegPipe(_fake_encoder("kill -XFSZ $$")):
        pass
    message = str(error.value)
    assert "exit code -25" in message
    assert "file-size limit" in message or "larger than its file system allows" in message
    assert "no message" not in message


def test_ffmpeg_out_of_space_names_the_movie_not_its_partial_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def encoder(out: Path, *args: object, **kwargs: object) -> list[str]:
        return _fake_encoder(
            'printf x > "$1"; '
            f"echo '[out#0/mp4] Error writing trailer: {ENOSPC_TEXT}' >&2; "
            "echo 'Conversion failed!' >&2; exit 1",
            out,
        )

    monkeypatch.setattr(movie, "ffmpeg_command", encoder)
    out = tmp_path / "movie.mp4"
    argv = ["render", str(GOLDEN), "--from", "0", "--to", "2", "--fps", "2", "--scale", "0.25"]
    code, _, err = run_cli([*argv, "--out", str(out)], capsys)
    assert code != 0
    lines = err.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"error: cannot write {out}: the encoder stopped (exit code 1): ")
    assert "no space left on the device; free some space" in lines[0]
    assert list(tmp_path.iterdir()) == []


def test_ffmpeg_failing_for_another_reason_keeps_its_last_words() -> None:
    failing = _fake_encoder("echo 'Unknown encoder' >&2; exit 3")
    with (
        pytest.raises(RenderError, match=r"ffmpeg failed \(exit code 3\): Unknown encoder"),
        FfmpegPipe(failing),
    ):
        pass


def test_an_os_error_no_stage_explained_is_one_line_with_exit_1(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def failing(*args: object, **kwargs: object) -> None:
        raise OSError(errno.EIO, os.strerror(errno.EIO), "/mnt/usb/data/events")

    monkeypatch.setattr(record_module, "record", failing)
    code, _, err = run_cli(["record", "--policy", "first-legal"], capsys)
    assert code == 1
    assert err.strip().splitlines() == [
        "error: /mnt/usb/data/events: input/output error (the disk or its connection failed); "
        "check the disk"
    ]


def test_an_os_error_about_another_file_is_not_blamed_on_the_output(tmp_path: Path) -> None:
    # E.g. a font that cannot be read while painting: a different problem, told as it is.
    with (
        pytest.raises(FileNotFoundError, match=r"font\.ttf"),
        atomic_output(tmp_path / "x.png"),
    ):
        raise FileNotFoundError(errno.ENOENT, "No such file or directory", "font.ttf")
    assert list(tmp_path.iterdir()) == []


def test_publishing_onto_a_directory_is_one_clear_error(tmp_path: Path) -> None:
    target = tmp_path / "out.mp4"
    (target / "inside").mkdir(parents=True)
    with (
        pytest.raises(OutputError, match=r"cannot write .*out\.mp4: "),
        atomic_output(target) as partial,
    ):
        partial.write_bytes(b"movie")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.mp4"]
