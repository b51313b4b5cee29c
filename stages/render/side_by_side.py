"""``simreel render A.parquet B.parquet --side-by-side``: two episodes, one clock, one movie.

:func:`render_side_by_side` is the typed stage function behind the render command's
``--side-by-side`` flag. It reads two tables of one domain (``stages.render.pairing``
refuses any other pair), paints each episode with the painter a single render would
choose (``--painter`` applies to both) and composes them (``stages.render.compositor``)
into one MP4 on one clock, or one PNG with ``--still``. Outputs are atomic, carry both
tables' provenance, and a default name never replaces an existing file without
``--force``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from pathlib import Path

from schemas.atomic import refuse_to_replace
from schemas.errors import ConfigError, RenderError
from schemas.events import read_events
from stages.render.cli import RenderOptions, RenderResult
from stages.render.compositor import Side, SideBySide
from stages.render.movie import FramePlan, encode_frames, even_surface
from stages.render.painters import PainterChoice, choose_painter
from stages.render.paintkit import Painter, Scene
from stages.render.pairing import check_comparable
from stages.render.png import write_png
from stages.render.provenance import ViewValue, mp4_tags, png_text, side_by_side_record
from stages.render.world import load_scene


@dataclass(frozen=True)
class SideBySideOptions:
    """What to render side by side; :meth:`validate` names the first bad value and the fix.

    Every option but the second table and its episode means what it means for a single
    render (:class:`~stages.render.cli.RenderOptions`), applied to both sides; the
    window (``--from``, ``--to``) is on the one clock.
    """

    base: RenderOptions
    """Side A's table and episode, and every shared option (``scale`` 1: a 1080p frame)."""
    second: Path
    """Side B's table."""
    second_episode: int | None = None
    """Side B's episode (``--episode-b``); None: the same as side A's."""

    @property
    def episode_b(self) -> int:
        """The episode drawn on side B."""
        return self.base.episode if self.second_episode is None else self.second_episode

    @property
    def out_path(self) -> Path:
        """``--out``, or :meth:`default_path`."""
        return self.base.out if self.base.out is not None else self.default_path()

    def default_path(self) -> Path:
        """``data/movies/<A stem>-vs-<B stem>`` plus what sets this run apart, as for a
        single render: ``-<painter>``, ``-ep<N>`` (``-ep<N>-<M>`` when the sides' episodes
        differ), then ``-t<T>.png`` for a still, or the window and ``.mp4``."""
        base = self.base
        name = f"{base.table.stem}-vs-{self.second.stem}"
        if base.painter is not None:
            name += f"-{base.painter}"
        if (base.episode, self.episode_b) != (0, 0):
            same = base.episode == self.episode_b
            name += f"-ep{base.episode}" if same else f"-ep{base.episode}-{self.episode_b}"
        # The single render's rules add the still's time or the window.
        named = replace(base, table=Path(f"{name}.parquet"), painter=None, episode=0, out=None)
        return named.default_path()

    def validate(self) -> None:
        """The single-render checks (with the side-by-side output name), then side B's own."""
        if self.base.gantt is not None:
            raise ConfigError(
                "--gantt draws the whole episode of one table; drop --side-by-side, or draw "
                "each table's timeline on its own"
            )
        replace(self.base, out=self.out_path).validate()
        if self.episode_b < 0:
            raise ConfigError(f"--episode-b ({self.episode_b}) must be >= 0")


def render_side_by_side(options: SideBySideOptions, *, progress: bool = False) -> RenderResult:
    """Render two tables' episodes side by side on one clock (atomically).

    Raises ConfigError for bad options, a pair of tables of two domains or versions, or
    a default output name that exists without `force`; TableError for a bad table;
    RenderError for an unknown painter, a missing episode or a time outside the clock.
    Nothing is written then.
    """
    options.validate()
    base = options.base
    out = options.out_path
    if base.out is None:
        refuse_to_replace(out, force=base.force)
    first, second = read_events(base.table), read_events(options.second)
    check_comparable(first.metadata, base.table, second.metadata, options.second)
    sides = []
    for path, table, episode in (
        (base.table, first, base.episode),
        (options.second, second, options.episode_b),
    ):
        scene, world = load_scene(table, episode)
        sides.append(Side(path, table, scene, world))
    choices: dict[int, PainterChoice] = {}

    def make_painter(scene: Scene, scale: float) -> Painter:
        choice = choose_painter(scene, base.painter, scale=scale)
        choices[id(scene)] = choice
        return choice.painter

    composer = SideBySide(sides, make_painter, scale=base.scale)
    painter = choices[id(sides[0].scene)]
    start, end = composer.times
    where = f"the clock runs from {start:g} to {end:g} s (the earlier start to the later end)"

    def record(view: dict[str, ViewValue]) -> dict[str, object]:
        return side_by_side_record(
            [(side.table, side.source, side.scene.episode.episode) for side in sides],
            painter=painter.name,
            view=view,
        )

    if base.still is not None:
        if not start <= base.still <= end:
            raise RenderError(f"--still {base.still:g} is outside both episodes: {where}")
        picture = even_surface(composer.size)
        composer.draw(picture, base.still)
        write_png(picture, out, png_text(record({"still": base.still})))
        return RenderResult(out, painter.name, 1, painter.notice)
    window_start = start if base.start is None else base.start
    window_end = end if base.end is None else base.end
    if not (math.isfinite(window_start) and start <= window_start < window_end <= end):
        raise RenderError(
            f"the window --from {window_start:g} --to {window_end:g} is not on the clock, or is "
            f"empty: {where}; choose {start:g} <= from < to <= {end:g}"
        )
    plan = FramePlan(start=window_start, end=window_end, fps=base.fps, speed=base.speed)
    view: dict[str, ViewValue] = {
        "from": window_start,
        "to": window_end,
        "fps": plan.fps,
        "speed": plan.speed,
    }
    encode_frames(
        composer.draw,
        composer.size,
        plan,
        out,
        preset=base.preset,
        progress=progress,
        metadata=mp4_tags(record(view)),
    )
    return RenderResult(out, painter.name, plan.total, painter.notice)
