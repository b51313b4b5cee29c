"""The frame loop: paint each frame and pipe its raw pixels straight into ffmpeg.

Timing is exact and testable without video: :class:`FramePlan` says which
simulated time every video frame shows (frame k of the animation shows
``start + k * speed / fps``, each exactly once, plus one held second at each end).

Speed: the frame surface is a 32-bit surface whose memory ffmpeg reads as is
(``-f rawvideo -pix_fmt bgr0`` on a little-endian machine): each frame is one
``write`` of the surface's buffer, no conversion or copy in Python. Colour
conversion and encoding run in the ffmpeg process, in parallel with painting.

Movies are written through ``schemas.atomic.atomic_output``: an error, an ffmpeg
failure or Ctrl-C leaves no partial movie. Pictures are written by
``stages.render.png``.
"""

from __future__ import annotations

import contextlib
import math
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Final

import imageio_ffmpeg
import pygame
from tqdm import tqdm

from schemas import write_failures
from schemas.atomic import atomic_output
from schemas.errors import RenderError
from stages.render.paintkit import Painter, frame_surface
from stages.render.world import World
from stages.terminal import printable

PRESETS: Final = (
    "ultrafast",
    "superfast",
    "veryfast",
    "faster",
    "fast",
    "medium",
    "slow",
    "slower",
    "veryslow",
)
"""libx264 presets, fastest first."""
DEFAULT_CRF: Final = 18
"""Visually lossless for flat graphics, and flat graphics keep the file small anyway."""
HOLD_SECONDS: Final = 1.0
"""The first and the last frame are each held this long."""
_EPSILON: Final = 1e-9


@dataclass(frozen=True)
class FramePlan:
    """Which simulated time each video frame shows.

    The animation has frames k = 0..n with ``time(k) = start + k * speed / fps`` and
    n the largest k with ``time(k) <= end``; the first of them is shown ``hold`` extra
    times (one second at `fps`). The held last second shows ``end`` itself: when
    ``time(n)`` falls short of it, those copies are a frame painted at ``end``, so what
    happens exactly at the end (a lane overrunning, an item finished at t = 300) is
    always on screen.
    """

    start: float
    end: float
    fps: int
    speed: float
    hold_seconds: float = HOLD_SECONDS

    @property
    def step(self) -> float:
        """Simulated seconds between consecutive frames."""
        return self.speed / self.fps

    @property
    def animated(self) -> int:
        """Frames of the animation proper (each simulated time once)."""
        return math.floor((self.end - self.start) / self.step + _EPSILON) + 1

    @property
    def hold(self) -> int:
        """Extra copies of the first frame, and of the last."""
        return round(self.hold_seconds * self.fps)

    @property
    def total(self) -> int:
        """Frames in the video file."""
        return self.animated + 2 * self.hold

    def time(self, k: int) -> float:
        """Simulated time of animation frame `k` (computed, never accumulated: no drift)."""
        return self.start + k * self.step

    def schedule(self) -> Iterator[tuple[float, int]]:
        """(simulated time, copies) per painted frame: each time is painted once and
        written `copies` times."""
        last = self.animated - 1
        ends_short = self.hold > 0 and self.time(last) < self.end - _EPSILON * self.step
        for k in range(self.animated):
            held_here = k == last and not ends_short
            copies = 1 + (self.hold if k == 0 else 0) + (self.hold if held_here else 0)
            yield self.time(k), copies
        if ends_short:
            yield self.end, self.hold

    def video_times(self) -> Iterator[float]:
        """The simulated time of every video frame, in order (``total`` values)."""
        for time, copies in self.schedule():
            for _ in range(copies):
                yield time


def raw_pixel_format(surface: pygame.Surface) -> str:
    """ffmpeg's name for `surface`'s memory layout (e.g. ``bgr0``), so no conversion is needed."""
    if surface.get_bytesize() != 4:
        raise RenderError(
            "frames must be 32-bit surfaces to be piped as they are, "
            f"got {surface.get_bitsize()}-bit"
        )
    channels = {}
    for name, mask, shift in zip("rgba", surface.get_masks(), surface.get_shifts(), strict=True):
        if mask:
            channels[shift // 8 if sys.byteorder == "little" else 3 - shift // 8] = name
    return "".join(channels.get(byte, "0") for byte in range(4))


def frame_pixels(surface: pygame.Surface) -> memoryview:
    """A view of `surface`'s pixel memory (no copy); release it before drawing again."""
    # BufferProxy exports the buffer protocol; pygame's type stubs do not say so.
    return memoryview(surface.get_buffer())  # type: ignore[arg-type]


def ffmpeg_command(
    out: Path,
    size: tuple[int, int],
    fps: int,
    pixel_format: str,
    preset: str,
    crf: int,
    *,
    metadata: Mapping[str, str] | None = None,
) -> list[str]:
    """The encoder command: raw frames on stdin to a browser-friendly H.264 MP4 at `out`,
    tagged with `metadata` (standard MP4 tag names such as ``title`` and ``comment``)."""
    width, height = size
    tags = [
        part for key, value in (metadata or {}).items() for part in ("-metadata", f"{key}={value}")
    ]
    return [
        imageio_ffmpeg.get_ffmpeg_exe(),
        "-hide_banner",
        "-loglevel",
        "error",
        "-y",
        "-f",
        "rawvideo",
        "-pix_fmt",
        pixel_format,
        "-s",
        f"{width}x{height}",
        "-framerate",
        str(fps),
        "-i",
        "pipe:0",
        "-an",
        "-c:v",
        "libx264",
        "-preset",
        preset,
        "-crf",
        str(crf),
        "-pix_fmt",
        "yuv420p",
        *tags,
        "-movflags",
        "+faststart",
        "-f",
        "mp4",
        str(out),
    ]


_F_SETPIPE_SZ = 1031  # Linux fcntl command; not exported by Python's fcntl module before 3.10
_PIPE_BYTES = 1 << 20


def _widen_pipe(stream: IO[bytes]) -> None:
    """Grow the pipe to 1 MiB so a 3.7 MB frame crosses in 4 writes, not ~56 (Linux only)."""
    try:
        import fcntl

        fcntl.fcntl(stream.fileno(), getattr(fcntl, "F_SETPIPE_SZ", _F_SETPIPE_SZ), _PIPE_BYTES)
    except (ImportError, OSError):
        pass  # other systems, or a lower pipe-max-size: the default pipe still works


class FfmpegPipe:
    """An ffmpeg process fed raw frames on stdin; errors become RenderError with ffmpeg's words.

    Use as a context manager: on leaving normally the stream is closed and the
    encoder awaited; on an exception (Ctrl-C included) ffmpeg is killed.
    """

    def __init__(self, command: list[str]) -> None:
        # Closed in __exit__ (the process outlives this call, so no `with` here).
        self._stderr: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115
        try:
            # Own session: Ctrl-C in a terminal reaches only us; we stop ffmpeg ourselves.
            self._process = subprocess.Popen(
                command,
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=self._stderr,
                start_new_session=True,
            )
        except OSError as error:
            self._stderr.close()
            raise RenderError(f"cannot start ffmpeg ({command[0]}): {error}") from None
        if self._process.stdin is None:  # cannot happen with stdin=PIPE; keeps mypy honest
            raise RenderError("ffmpeg started without a stdin pipe")
        self._stdin: IO[bytes] = self._process.stdin
        _widen_pipe(self._stdin)

    def __enter__(self) -> FfmpegPipe:
        return self

    def write(self, pixels: memoryview) -> None:
        """Send one frame's raw pixels (any object with the buffer protocol)."""
        try:
            self._stdin.write(pixels)
        except (BrokenPipeError, ValueError):
            self._process.wait()
            raise self._failure() from None

    def _failure(self) -> RenderError:
        """Why ffmpeg failed: the disk or the file-size limit when its exit or words say so
        (killed by SIGXFSZ, "No space left on device"), else its last line."""
        self._stderr.seek(0)
        text = self._stderr.read().decode(errors="replace")
        lines = [line.strip() for line in text.splitlines()]
        last = next((line for line in reversed(lines) if line), "no message")
        code = self._process.returncode
        output = self._process.args[-1] if isinstance(self._process.args, list) else ""
        reason = write_failures.process_failure(output, code, text)
        return RenderError(reason or f"ffmpeg failed (exit code {code}): {last}")

    def __exit__(self, kind: object, error: object, traceback: object) -> None:
        try:
            if error is None:
                with contextlib.suppress(BrokenPipeError):
                    self._stdin.close()
                if self._process.wait() != 0:
                    raise self._failure()
        finally:
            if self._process.poll() is None:
                self._process.kill()
                self._process.wait()
            self._stderr.close()


def write_movie(
    painter: Painter,
    world: World,
    plan: FramePlan,
    out: Path,
    *,
    preset: str = "medium",
    crf: int = DEFAULT_CRF,
    progress: bool = False,
    on_frame: Callable[[pygame.Surface], None] | None = None,
    metadata: Mapping[str, str] | None = None,
) -> Path:
    """Paint every frame of `plan` with `painter` and encode them into the MP4 `out` (atomically).

    `on_frame`, if given, sees each painted frame (the bench uses it to keep copies);
    `metadata` becomes the movie's tags (its provenance, see ``stages.render.provenance``).
    """

    def paint(surface: pygame.Surface, time: float) -> None:
        painter.draw(surface, world.at(time))

    return encode_frames(
        paint,
        painter.size,
        plan,
        out,
        preset=preset,
        crf=crf,
        progress=progress,
        on_frame=on_frame,
        metadata=metadata,
    )


def encode_frames(
    paint: Callable[[pygame.Surface, float], None],
    size: tuple[int, int],
    plan: FramePlan,
    out: Path,
    *,
    preset: str = "medium",
    crf: int = DEFAULT_CRF,
    progress: bool = False,
    on_frame: Callable[[pygame.Surface], None] | None = None,
    metadata: Mapping[str, str] | None = None,
) -> Path:
    """The frame loop: ``paint(surface, t)`` for every simulated time of `plan`, piped into
    the MP4 `out` (atomically).

    Why a callable rather than a painter: a side-by-side movie paints two worlds on one
    clock, and this loop (one reused surface, no copy per frame) must serve both. `paint`
    must cover every pixel of `size` (rounded up to even numbers for yuv420p).
    """
    surface = even_surface(size)
    pixel_format = raw_pixel_format(surface)
    buffer_check = surface.get_buffer()
    if buffer_check.length != surface.get_width() * surface.get_height() * 4:
        raise RenderError("the frame surface has padded rows; it cannot be piped as raw video")
    del buffer_check  # a live buffer locks the surface against blits
    bar = tqdm(
        total=plan.total,
        unit="frame",
        desc=printable(out.name),  # a name from the table's: no escape reaches the terminal
        disable=None if progress else True,
        leave=False,
    )
    with atomic_output(out) as temporary:
        command = ffmpeg_command(
            temporary,
            surface.get_size(),
            plan.fps,
            pixel_format,
            preset,
            crf,
            metadata=metadata,
        )
        with bar, FfmpegPipe(command) as pipe:
            for time, copies in plan.schedule():
                paint(surface, time)
                if on_frame is not None:
                    on_frame(surface)
                # A view of the surface's memory: nothing is copied. Released before the
                # next frame, because a surface with a live view cannot be blitted to.
                with frame_pixels(surface) as pixels:
                    for _ in range(copies):
                        pipe.write(pixels)
                bar.update(copies)
    return out


def even_surface(size: tuple[int, int]) -> pygame.Surface:
    """The reusable frame: `size` rounded up to even numbers (yuv420p needs them), black."""
    width, height = size
    surface = frame_surface((width + width % 2, height + height % 2))
    surface.fill((0, 0, 0))
    return surface


def paint_still(painter: Painter, world: World, time: float) -> pygame.Surface:
    """The world at simulated `time` as one picture."""
    surface = even_surface(painter.size)
    painter.draw(surface, world.at(time))
    return surface
