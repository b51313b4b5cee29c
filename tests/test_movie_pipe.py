"""The ffmpeg pipe is widened so a frame crosses in a few writes (the render speed hinges on it)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from stages.render.movie import FfmpegPipe, ffmpeg_command

F_GETPIPE_SZ = 1032


@pytest.mark.skipif(sys.platform != "linux", reason="pipe sizes are a Linux feature")
def test_pipe_to_ffmpeg_is_one_mebibyte(tmp_path: Path) -> None:
    import fcntl

    if int(Path("/proc/sys/fs/pipe-max-size").read_text()) < 1 << 20:
        pytest.skip("this machine caps pipes below 1 MiB")
    command = ffmpeg_command(tmp_path / "out.mp4", (16, 16), 30, "bgr0", "ultrafast", 23)
    with FfmpegPipe(command) as pipe:
        size = fcntl.fcntl(pipe._stdin.fileno(), getattr(fcntl, "F_GETPIPE_SZ", F_GETPIPE_SZ))
        pipe.write(memoryview(bytes(16 * 16 * 4)))
    assert size == 1 << 20
    assert (tmp_path / "out.mp4").stat().st_size > 0
