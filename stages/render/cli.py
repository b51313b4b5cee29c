"""``simreel render``: an event table into an MP4 movie, a PNG still or a Gantt chart.

:func:`render` is the typed stage function; :func:`render_command` its thin click
wrapper. Nothing here imports simulation code: the table is all the renderer knows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import click

from schemas.errors import ConfigError, RenderError
from schemas.events import read_events
from stages.render.movie import PRESETS, FramePlan, paint_still, write_movie, write_png
from stages.render.painters import TIMELINE, choose_painter
from stages.render.world import load_scene

DEFAULT_TABLE: Final = Path("data/events/factory.parquet")
MOVIES: Final = Path("data/movies")
MAX_FPS: Final = 120
MAX_SCALE: Final = 4.0
MIN_SCALE: Final = 0.1


@dataclass(frozen=True)
class RenderOptions:
    """What to render; :meth:`validate` names the first bad value and the fix."""

    table: Path = DEFAULT_TABLE
    episode: int = 0
    fps: int = 30
    speed: float = 5.0
    """Simulated seconds per video second."""
    start: float | None = None
    """First simulated second shown (None: the episode's start)."""
    end: float | None = None
    """Last simulated second shown (None: the episode's end)."""
    scale: float = 1.0
    preset: str = "medium"
    out: Path | None = None
    painter: str | None = None
    """Painter name, ``timeline``, or None for the domain's own painter."""
    still: float | None = None
    """Write the world at this simulated time as one PNG instead of a movie."""
    gantt: Path | None = None
    """Write the whole episode as one timeline picture to this PNG instead of a movie."""

    @property
    def out_path(self) -> Path:
        """The file to write: ``--gantt``, ``--out``, or a default under ``data/movies``."""
        if self.gantt is not None:
            return self.gantt
        if self.out is not None:
            return self.out
        if self.still is not None:
            return MOVIES / f"{self.table.stem}-t{self.still:g}.png"
        return MOVIES / f"{self.table.stem}.mp4"

    def validate(self) -> None:
        """Check the options that need no table (ranges, file kinds)."""
        if isinstance(self.fps, bool) or not 1 <= self.fps <= MAX_FPS:
            raise ConfigError(f"--fps ({self.fps}) must be an integer from 1 to {MAX_FPS}")
        if not (math.isfinite(self.speed) and self.speed > 0):
            raise ConfigError(
                f"--speed ({self.speed}) must be a positive number of simulated seconds "
                "per video second"
            )
        if not MIN_SCALE <= self.scale <= MAX_SCALE:
            raise ConfigError(f"--scale ({self.scale}) must be between {MIN_SCALE} and {MAX_SCALE}")
        if self.preset not in PRESETS:
            raise ConfigError(
                f"--preset {self.preset!r} is unknown; choose one of {', '.join(PRESETS)}"
            )
        if self.episode < 0:
            raise ConfigError(f"--episode ({self.episode}) must be >= 0")
        if self.still is not None and self.gantt is not None:
            raise ConfigError("--still and --gantt each write one picture; give only one of them")
        suffix = ".png" if self.still is not None or self.gantt is not None else ".mp4"
        if self.out_path.suffix.lower() != suffix:
            raise ConfigError(f"output {self.out_path} must end in {suffix}")
        if self.out_path.is_dir():
            raise ConfigError(f"output {self.out_path} is a directory; give a file name")
        for name, value in (("--from", self.start), ("--to", self.end), ("--still", self.still)):
            if value is not None and not math.isfinite(value):
                raise ConfigError(f"{name} ({value}) must be a finite number of simulated seconds")


@dataclass(frozen=True)
class RenderResult:
    """What :func:`render` wrote."""

    path: Path
    painter: str
    frames: int
    """Video frames written (1 for a picture)."""
    notice: str | None = None


def render(options: RenderOptions, *, progress: bool = False) -> RenderResult:
    """Render `options.table` to a movie, a still or a Gantt chart (atomically).

    Raises TableError for a bad table, ConfigError for bad options and RenderError
    for an unknown painter, an episode not in the table, a time window outside the
    episode or an encoder failure; in every case nothing is written.
    """
    options.validate()
    table = read_events(options.table)
    scene, world = load_scene(table, options.episode)
    requested = TIMELINE if options.gantt is not None else options.painter
    choice = choose_painter(scene, requested, scale=options.scale)
    out = options.out_path
    where = f"episode {options.episode} runs from {scene.start_time:g} to {scene.end_time:g} s"
    if options.gantt is not None:
        gantt = getattr(choice.painter, "gantt", None)
        if not callable(gantt):  # only reachable if TIMELINE stops naming the timeline painter
            raise RenderError(f"the painter {choice.name!r} cannot draw a whole-episode picture")
        write_png(gantt(), out)
        return RenderResult(out, choice.name, 1, choice.notice)
    if options.still is not None:
        if not scene.start_time <= options.still <= scene.end_time:
            raise RenderError(f"--still {options.still:g} is outside the episode: {where}")
        write_png(paint_still(choice.painter, world, options.still), out)
        return RenderResult(out, choice.name, 1, choice.notice)
    start = scene.start_time if options.start is None else options.start
    end = scene.end_time if options.end is None else options.end
    if not scene.start_time <= start < end <= scene.end_time:
        raise RenderError(
            f"the window --from {start:g} --to {end:g} is not inside the episode, or is empty: "
            f"{where}; choose {scene.start_time:g} <= from < to <= {scene.end_time:g}"
        )
    plan = FramePlan(start=start, end=end, fps=options.fps, speed=options.speed)
    write_movie(choice.painter, world, plan, out, preset=options.preset, progress=progress)
    return RenderResult(out, choice.name, plan.total, choice.notice)


@click.command("render")
@click.argument(
    "table", type=click.Path(path_type=Path, dir_okay=False), default=DEFAULT_TABLE, required=False
)
@click.option("--fps", type=int, default=30, show_default=True, help="Video frames per second.")
@click.option(
    "--speed",
    type=float,
    default=5.0,
    show_default=True,
    help="Simulated seconds per video second.",
)
@click.option("--episode", type=int, default=0, show_default=True, help="Episode to render.")
@click.option("--from", "start", type=float, default=None, help="First simulated second shown.")
@click.option("--to", "end", type=float, default=None, help="Last simulated second shown.")
@click.option(
    "--scale", type=float, default=1.0, show_default=True, help="Picture size factor (1 = 720p)."
)
@click.option(
    "--preset",
    default="medium",
    show_default=True,
    help="x264 encoder preset: ultrafast (big file, quick) ... veryslow.",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Output file (default: data/movies/<table name>.mp4, or .png with --still).",
)
@click.option(
    "--painter",
    default=None,
    help="Painter name, or 'timeline' for the generic one (default: the domain's own).",
)
@click.option(
    "--still",
    type=float,
    default=None,
    metavar="T",
    help="Write the world at simulated time T as one PNG instead of a movie.",
)
@click.option(
    "--gantt",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    metavar="PNG",
    help="Write the whole episode as one timeline picture instead of a movie.",
)
def render_command(
    table: Path,
    fps: int,
    speed: float,
    episode: int,
    start: float | None,
    end: float | None,
    scale: float,
    preset: str,
    out: Path | None,
    painter: str | None,
    still: float | None,
    gantt: Path | None,
) -> None:
    """Paint an event table into an MP4 movie (H.264, plays in browsers).

    TABLE defaults to data/events/factory.parquet; the movie goes to
    data/movies/<table name>.mp4. Video frame k shows simulated time
    from + k * speed / fps; the first and last frames are held for one second.
    Domains without a painter are drawn as a generic timeline. The output is
    written atomically: an error or Ctrl-C leaves no partial file.

    \b
    Example:
        simreel render data/events/factory.parquet --speed 10 --from 60 --to 120
        simreel render data/events/factory.parquet --still 42.5 --out frame.png
        simreel render data/events/factory.parquet --gantt episode.png
    """
    options = RenderOptions(
        table=table,
        episode=episode,
        fps=fps,
        speed=speed,
        start=start,
        end=end,
        scale=scale,
        preset=preset,
        out=out,
        painter=painter,
        still=still,
        gantt=gantt,
    )
    # The notice comes after the work, but it must be seen: it explains the picture.
    result = render(options, progress=True)
    if result.notice:
        click.echo(f"note: {result.notice}", err=True)
    kind = "frames" if result.frames > 1 else "picture"
    click.echo(f"wrote {result.path} ({result.painter} painter, {result.frames} {kind})")
