"""``simreel render``: an event table into an MP4 movie, a PNG still or a Gantt chart.

:func:`render` is the typed stage function; :func:`render_command` its thin click
wrapper. Nothing here imports simulation code: the table is all the renderer knows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Final

import click

from schemas.atomic import refuse_to_replace
from schemas.errors import ConfigError, RenderError
from schemas.windows import open_events
from stages.render.movie import PRESETS, FramePlan, paint_still, write_movie
from stages.render.painters import TIMELINE, choose_painter
from stages.render.paintkit import Scene
from stages.render.png import write_png
from stages.render.provenance import ViewValue, mp4_tags, png_text, render_record
from stages.render.world import read_scene
from stages.terminal import one_line

DEFAULT_TABLE: Final = Path("data/events/factory.parquet")
MOVIES: Final = Path("data/movies")
MAX_FPS: Final = 120
MAX_SCALE: Final = 4.0
MIN_SCALE: Final = 0.1
MAX_FRAMES: Final = 1_000_000
"""Frames a movie may have at most (over 9 hours at 30 frames per second)."""


@dataclass(frozen=True)
class RenderOptions:
    """What to render; :meth:`validate` names the first bad value and the fix."""

    table: Path = DEFAULT_TABLE
    """The event table to draw."""
    episode: int = 0
    """The table's episode to draw."""
    fps: int = 30
    """Video frames per second."""
    speed: float = 5.0
    """Simulated seconds per video second."""
    start: float | None = None
    """First simulated second shown (None: the episode's start)."""
    end: float | None = None
    """Last simulated second shown (None: the episode's end)."""
    scale: float = 1.0
    """Picture size over the painter's design size (1: 1280 pixels wide; side by side,
    the two panels' canvas: 1920 pixels wide)."""
    preset: str = "medium"
    """libx264 preset: how long the encoder works on a smaller file."""
    out: Path | None = None
    """The file to write, replaced if it exists (None: a default name, see :meth:`default_path`)."""
    painter: str | None = None
    """Painter name, ``timeline``, or None for the domain's own painter."""
    still: float | None = None
    """Write the world at this simulated time as one PNG instead of a movie."""
    gantt: Path | None = None
    """Write the whole episode as one timeline picture to this PNG instead of a movie
    (replaced if it exists: the user named it)."""
    force: bool = False
    """Replace the file at the default name if it exists (else refused: ConfigError)."""

    @property
    def out_path(self) -> Path:
        """The file to write: ``--gantt``, ``--out``, or :meth:`default_path`."""
        if self.gantt is not None:
            return self.gantt
        if self.out is not None:
            return self.out
        return self.default_path()

    @property
    def named_output(self) -> bool:
        """Whether the user named the output file (then it may be replaced)."""
        return self.gantt is not None or self.out is not None

    def default_path(self) -> Path:
        """``data/movies/<table stem>`` plus what sets this run apart, so two different
        renders of one table never share a default name.

        ``-<painter>`` when one is asked for, ``-ep<N>`` for an episode other than 0,
        then for a still ``-t<T>.png``, for a movie with a window ``-<from>-<to>s.mp4``
        (``-from<F>s`` or ``-to<T>s`` when only one end is given), else ``.mp4``.
        """
        name = self.table.stem
        if self.painter is not None:
            name += f"-{self.painter}"
        if self.episode != 0:
            name += f"-ep{self.episode}"
        if self.still is not None:
            return MOVIES / f"{name}-t{self.still:g}.png"
        if self.start is not None and self.end is not None:
            name += f"-{self.start:g}-{self.end:g}s"
        elif self.start is not None:
            name += f"-from{self.start:g}s"
        elif self.end is not None:
            name += f"-to{self.end:g}s"
        return MOVIES / f"{name}.mp4"

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

    Raises TableError for a bad table, ConfigError for bad options or a default
    output name that exists without `force`, and RenderError for an unknown painter,
    an episode not in the table, a time window outside the episode or an encoder
    failure; in every case nothing is written. The movie or picture carries its
    provenance in its own metadata (see ``stages.render.provenance``).
    """
    options.validate()
    out = options.out_path
    if not options.named_output:
        refuse_to_replace(out, force=options.force)
    # Read only what is drawn: the episode's intervals that show in the still or the
    # window (every row of the table only for a table without the layout index).
    source = open_events(options.table)
    table, scene, world = read_scene(source, options.episode, _drawn_window(options))
    scene = with_movie_window(scene, options)
    requested = TIMELINE if options.gantt is not None else options.painter
    choice = choose_painter(scene, requested, scale=options.scale)
    where = f"episode {options.episode} runs from {scene.start_time:g} to {scene.end_time:g} s"

    def record(view: dict[str, ViewValue]) -> dict[str, object]:
        return render_record(
            table, options.table, episode=options.episode, painter=choice.name, view=view
        )

    if options.gantt is not None:
        gantt = getattr(choice.painter, "gantt", None)
        if not callable(gantt):  # only reachable if TIMELINE stops naming the timeline painter
            raise RenderError(f"the painter {choice.name!r} cannot draw a whole-episode picture")
        write_png(gantt(), out, png_text(record({"gantt": True})))
        return RenderResult(out, choice.name, 1, choice.notice)
    if options.still is not None:
        if not scene.start_time <= options.still <= scene.end_time:
            raise RenderError(f"--still {options.still:g} is outside the episode: {where}")
        picture = paint_still(choice.painter, world, options.still)
        write_png(picture, out, png_text(record({"still": options.still})))
        return RenderResult(out, choice.name, 1, choice.notice)
    start = scene.start_time if options.start is None else options.start
    end = scene.end_time if options.end is None else options.end
    if not scene.start_time <= start < end <= scene.end_time:
        raise RenderError(
            f"the window --from {start:g} --to {end:g} is not inside the episode, or is empty: "
            f"{where}; choose {scene.start_time:g} <= from < to <= {scene.end_time:g}"
        )
    check_frame_count(start, end, options)
    plan = FramePlan(start=start, end=end, fps=options.fps, speed=options.speed)
    tags = mp4_tags(record({"from": start, "to": end, "fps": plan.fps, "speed": plan.speed}))
    write_movie(
        choice.painter,
        world,
        plan,
        out,
        preset=options.preset,
        progress=progress,
        metadata=tags,
    )
    return RenderResult(out, choice.name, plan.total, choice.notice)


def with_movie_window(scene: Scene, options: RenderOptions) -> Scene:
    """`scene` with the movie's window (``--from``, ``--to``) as ``Scene.window``, so a
    painter whose time axis follows it (the timeline) spans the seconds the movie shows;
    unchanged for a still, a Gantt chart or a movie of the whole episode."""
    if options.still is not None or options.gantt is not None:
        return scene
    if options.start is None and options.end is None:
        return scene
    start = scene.start_time if options.start is None else options.start
    end = scene.end_time if options.end is None else options.end
    return replace(scene, window=(start, end))


def check_frame_count(start: float, end: float, options: RenderOptions) -> None:
    """Refuse a movie of more than :data:`MAX_FRAMES` frames: its length comes from the
    table (an episode may claim to last 1e308 s), and no one waits for it to be encoded."""
    frames = (end - start) / (options.speed / options.fps)
    if not frames <= MAX_FRAMES:
        raise RenderError(
            f"the movie from {start:g} to {end:g} s at --speed {options.speed:g} and --fps "
            f"{options.fps} would have {frames:.3g} frames, more than {MAX_FRAMES:,}; "
            "raise --speed or choose a shorter window with --from and --to"
        )


def _drawn_window(options: RenderOptions) -> tuple[float, float] | None:
    """The simulated times the output shows: the still's instant, the movie's window, or
    None for the whole episode (a Gantt chart, or a movie without --from and --to)."""
    if options.gantt is not None:
        return None
    if options.still is not None:
        return (options.still, options.still)
    if options.start is None and options.end is None:
        return None
    start = 0.0 if options.start is None else options.start
    end = math.inf if options.end is None else options.end
    # An empty or reversed window is refused once the scene is known, with the episode's
    # span in the message; reading one instant is enough to get there.
    return (start, max(start, end))


@click.command("render")
@click.argument("tables", type=click.Path(path_type=Path, dir_okay=False), nargs=-1)
@click.option("--fps", type=int, default=30, show_default=True, help="Video frames per second.")
@click.option(
    "--speed",
    type=float,
    default=5.0,
    show_default=True,
    help="Simulated seconds per video second.",
)
@click.option("--episode", type=int, default=0, show_default=True, help="Episode to render.")
@click.option(
    "--side-by-side",
    is_flag=True,
    default=False,
    help="Render two tables (A B) of one domain side by side on one clock, into one movie.",
)
@click.option(
    "--episode-b",
    type=int,
    default=None,
    help="With --side-by-side: the episode of table B (default: the same as --episode).",
)
@click.option("--from", "start", type=float, default=None, help="First simulated second shown.")
@click.option("--to", "end", type=float, default=None, help="Last simulated second shown.")
@click.option(
    "--scale",
    type=float,
    default=1.0,
    show_default=True,
    help="Picture size factor (1 = 720p; 1080p with --side-by-side).",
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
    help="Output file, replaced if it exists (default: a name under data/movies/ that says "
    "what was drawn, see above).",
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
    help="Write the whole episode as one timeline picture to PNG instead of a movie "
    "(replaced if it exists).",
)
@click.option(
    "--force",
    is_flag=True,
    default=False,
    help="Replace the output at its default name if it exists (a file named with --out "
    "or --gantt is always replaced).",
)
def render_command(
    tables: tuple[Path, ...],
    fps: int,
    speed: float,
    episode: int,
    side_by_side: bool,
    episode_b: int | None,
    start: float | None,
    end: float | None,
    scale: float,
    preset: str,
    out: Path | None,
    painter: str | None,
    still: float | None,
    gantt: Path | None,
    force: bool,
) -> None:
    """Paint an event table into an MP4 movie (H.264, plays in browsers).

    TABLES is one table, by default data/events/factory.parquet, or two tables A B of
    one domain with --side-by-side: one movie, both episodes on one clock (the one
    that ends first holds its last state), each panel labelled with its policy, the
    KPIs under them; 1920 x 1080 at --scale 1, written by default to
    data/movies/<A>-vs-<B>.mp4 (or -t<T>.png with --still). Video frame k shows simulated
    time from + k * speed / fps; the first and last frames are held for one second.
    Domains without a painter are drawn as a generic timeline. The output is
    written atomically: an error or Ctrl-C leaves no partial file. The movie or
    picture carries its provenance (table file and sha256, schema, domain, episode,
    seed, policy, model sha256, simreel version) in its own metadata.

    Without --out the file goes to data/movies/ under a name that says what was
    drawn: <table>[-<painter>][-ep<N>][-<from>-<to>s].mp4, or
    <table>[-<painter>][-ep<N>]-t<T>.png for --still. If that file exists the
    command stops unless --force is given; a file named with --out or --gantt is
    replaced.

    \b
    Example:
        simreel render data/events/factory.parquet      # data/movies/factory.mp4
        simreel render data/events/factory.parquet --speed 10 --from 60 --to 120
                                                        # data/movies/factory-60-120s.mp4
        simreel render data/events/factory.parquet --painter timeline --episode 2
                                                        # data/movies/factory-timeline-ep2.mp4
        simreel render data/events/factory.parquet --still 42.5 --out frame.png
        simreel render data/events/factory.parquet --gantt episode.png
        simreel render data/events/factory.parquet --force   # replace factory.mp4
        simreel render a.parquet b.parquet --side-by-side   # data/movies/a-vs-b.mp4
    """
    if len(tables) > 2 or (len(tables) == 2 and not side_by_side):
        raise ConfigError(
            f"render draws one table, got {len(tables)}; to compare two, pass two tables "
            "and --side-by-side"
        )
    if side_by_side and len(tables) != 2:
        raise ConfigError(
            f"--side-by-side needs two tables (A B), got {len(tables)}: "
            "simreel render A.parquet B.parquet --side-by-side"
        )
    if episode_b is not None and not side_by_side:
        raise ConfigError("--episode-b is the episode of table B; it needs --side-by-side")
    options = RenderOptions(
        table=tables[0] if tables else DEFAULT_TABLE,
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
        force=force,
    )
    if side_by_side:
        # Imported here: it builds on this module (RenderOptions).
        from stages.render.side_by_side import SideBySideOptions, render_side_by_side

        pair = SideBySideOptions(options, second=tables[1], second_episode=episode_b)
        result = render_side_by_side(pair, progress=True)
    else:
        result = render(options, progress=True)
    # The notice comes after the work, but it must be seen: it explains the picture.
    if result.notice:
        click.echo(f"note: {one_line(result.notice)}", err=True)
    kind = "frames" if result.frames > 1 else "picture"
    # The default name comes from the table's: escaped like everything a table may say.
    wrote = f"wrote {result.path} ({result.painter} painter, {result.frames} {kind})"
    click.echo(one_line(wrote))
