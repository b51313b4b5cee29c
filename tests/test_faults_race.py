"""Two commands writing one output at once: the second to finish never silently replaces the first.

"Another command" is a real second process that writes through ``atomic_output``
while this one runs (started from inside this command's writer, so the order is
certain). A file that was there before the command began is replaced as before: the
user named it, or allowed a default name to be replaced.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from schemas.atomic import atomic_output, command
from schemas.errors import OutputError
from schemas.events import read_events
from tests.cli_helpers import run_cli

ROOT = Path(__file__).resolve().parents[1]


def _after_now(directory: Path) -> None:
    """Return once the file system's clock has passed this moment (its stamps are coarse),
    so a file written next is stamped after everything that happened before."""
    now = time.time_ns()
    probe = directory / ".clock-probe"
    while True:
        probe.unlink(missing_ok=True)
        probe.write_bytes(b"")
        if probe.stat().st_ctime_ns > now:
            probe.unlink()
            return


def _another_command_writes(target: Path, content: bytes) -> None:
    """A second simreel process publishes `content` at `target`, as any command would."""
    _after_now(target.parent)
    script = (
        "import sys\nfrom pathlib import Path\nfrom schemas.atomic import atomic_output\n"
        "with atomic_output(sys.argv[1]) as partial:\n"
        "    partial.write_bytes(sys.argv[2].encode())\n"
    )
    subprocess.run(
        [sys.executable, "-c", script, str(target), content.decode()], cwd=ROOT, check=True
    )


def _write_while_another_command_writes(target: Path, mine: bytes) -> None:
    """This command writes `mine` at `target` while another one publishes b"theirs" there."""
    with command(), atomic_output(target) as partial:
        partial.write_bytes(mine)
        _another_command_writes(target, b"theirs")


def _names(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def test_a_file_created_by_another_command_meanwhile_is_not_replaced(tmp_path: Path) -> None:
    target = tmp_path / "out.bin"
    with pytest.raises(OutputError) as error:
        _write_while_another_command_writes(target, b"mine")
    kept = tmp_path / "out.kept-1.bin"
    assert target.read_bytes() == b"theirs"
    assert kept.read_bytes() == b"mine"
    assert _names(tmp_path) == ["out.bin", "out.kept-1.bin"]
    assert str(error.value) == (
        f"cannot write {target}: another command wrote it while this one ran, so this "
        f"command's result was kept at {kept} instead; compare the two and keep the one you "
        f"want (mv {kept} {target} keeps this one)"
    )


def test_a_named_file_replaced_by_another_command_meanwhile_is_not_replaced_again(
    tmp_path: Path,
) -> None:
    target = tmp_path / "out.bin"
    target.write_bytes(b"yesterday")  # the user named it: replacing *this* is intended
    with pytest.raises(OutputError, match="another command wrote it"):
        _write_while_another_command_writes(target, b"mine")
    assert target.read_bytes() == b"theirs"
    assert (tmp_path / "out.kept-1.bin").read_bytes() == b"mine"


def test_kept_results_never_replace_each_other(tmp_path: Path) -> None:
    target = tmp_path / "out.bin"
    for mine in (b"first", b"second"):
        with pytest.raises(OutputError):
            _write_while_another_command_writes(target, mine)
    assert (tmp_path / "out.kept-1.bin").read_bytes() == b"first"
    assert (tmp_path / "out.kept-2.bin").read_bytes() == b"second"


def test_a_file_that_was_there_before_the_command_is_replaced(tmp_path: Path) -> None:
    target = tmp_path / "out.bin"
    target.write_bytes(b"yesterday")
    _after_now(tmp_path)
    with command(), atomic_output(target) as partial:
        partial.write_bytes(b"today")
    assert target.read_bytes() == b"today"
    assert _names(tmp_path) == ["out.bin"]


def test_a_command_replaces_what_it_wrote_itself(tmp_path: Path) -> None:
    target = tmp_path / "checkpoint.bin"
    with command():
        for content in (b"one", b"two", b"three"):
            _after_now(tmp_path)
            with atomic_output(target) as partial:
                partial.write_bytes(content)
    assert target.read_bytes() == b"three"
    assert _names(tmp_path) == ["checkpoint.bin"]


def test_record_refuses_to_replace_a_table_another_record_wrote_meanwhile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "table.parquet"
    real = pq.ParquetWriter.write_table

    def racing(writer: pq.ParquetWriter, table: object, **options: object) -> None:
        # While this record writes, another command publishes its table at the same path.
        _another_command_writes(out, b"the other command's table")
        real(writer, table, **options)

    # The table is written episode by episode through a ParquetWriter.
    monkeypatch.setattr(pq.ParquetWriter, "write_table", racing)
    code, stdout, err = run_cli(["record", "--policy", "first-legal", "--out", str(out)], capsys)
    kept = tmp_path / "table.kept-1.parquet"
    assert code != 0
    assert "wrote " not in stdout
    assert err.strip().splitlines() == [
        f"error: cannot write {out}: another command wrote it while this one ran, so this "
        f"command's result was kept at {kept} instead; compare the two and keep the one you "
        f"want (mv {kept} {out} keeps this one)"
    ]
    assert out.read_bytes() == b"the other command's table"
    assert read_events(kept).metadata.domain_id == "factory"
    assert _names(tmp_path) == ["table.kept-1.parquet", "table.parquet"]


def test_the_command_span_ends_with_the_command(tmp_path: Path) -> None:
    # After a CLI command in this process, library writes again begin when they write.
    with command():
        _after_now(tmp_path)
    target = tmp_path / "out.bin"
    target.write_bytes(b"written after that command")
    with atomic_output(target) as partial:
        partial.write_bytes(b"replaced")
    assert target.read_bytes() == b"replaced"
    assert os.listdir(tmp_path) == ["out.bin"]
