"""Finding a painter for a table: by its domain id in the ``simreel.painters`` entry points.

A package ships a painter by declaring, in its ``pyproject.toml``::

    [project.entry-points."simreel.painters"]
    mydomain = "mypackage.painter:MyPainter"

where ``MyPainter(scene, scale=1.0)`` returns a :class:`~stages.render.paintkit.Painter`.
The generic timeline painter is built in under the name ``timeline``; it draws any
table and is used when a domain has no painter.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata

from schemas.errors import RenderError
from stages.render.paintkit.scene import Painter, PainterFactory, Scene

ENTRY_POINT_GROUP = "simreel.painters"
TIMELINE = "timeline"
"""Name of the built-in generic painter (``--painter timeline``)."""


@dataclass(frozen=True)
class PainterChoice:
    """The painter chosen for a scene and why (a notice to print, if any)."""

    name: str
    painter: Painter
    notice: str | None = None
    """One line for the user when the choice was not the obvious one (e.g. a fallback)."""


def installed_painters() -> dict[str, metadata.EntryPoint]:
    """Entry points of the ``simreel.painters`` group, by name."""
    return {entry.name: entry for entry in metadata.entry_points(group=ENTRY_POINT_GROUP)}


def painter_names() -> list[str]:
    """Every name ``--painter`` accepts."""
    return sorted({TIMELINE, *installed_painters()})


def _timeline_factory() -> PainterFactory:
    # Imported on demand: a movie with a domain painter never loads the timeline module.
    from stages.render.timeline import TimelinePainter

    return TimelinePainter


def _load(entry: metadata.EntryPoint) -> PainterFactory:
    try:
        loaded: object = entry.load()
    except Exception as error:  # a broken third-party package must not look like our bug
        raise RenderError(
            f"the painter {entry.name!r} ({entry.value}) cannot be imported: "
            f"{type(error).__name__}: {error}; reinstall the package that provides it "
            "or use --painter timeline"
        ) from error
    if not callable(loaded):
        raise RenderError(
            f"the painter entry point {entry.name!r} names {entry.value}, which is not callable; "
            "it must name a painter class or factory"
        )
    factory: Callable[..., Painter] = loaded
    return factory


def choose_painter(
    scene: Scene, requested: str | None = None, *, scale: float = 1.0
) -> PainterChoice:
    """The painter for `scene`: `requested` by name, else the domain's own, else the timeline.

    Raises RenderError for an unknown `requested` name (listing the known ones), or
    when the requested painter refuses the scene.
    """
    entries = installed_painters()
    notice = None
    if requested is None:
        if scene.domain_id in entries:
            name = scene.domain_id
        else:
            name = TIMELINE
            notice = (
                f"no painter is installed for domain {scene.domain_id!r}; "
                "drawing the generic timeline (--painter timeline)"
            )
    elif requested == TIMELINE or requested in entries:
        name = requested
    else:
        raise RenderError(
            f"unknown painter {requested!r}; choose one of {', '.join(painter_names())}"
        )
    factory = _timeline_factory() if name == TIMELINE else _load(entries[name])
    painter = factory(scene, scale=scale)
    if not isinstance(painter, Painter):
        raise RenderError(
            f"the painter {name!r} returned {type(painter).__name__}, which has no "
            "size and draw(surface, frame); fix the painter package"
        )
    width, height = painter.size
    if width < 2 or height < 2:
        raise RenderError(
            f"the painter {name!r} asks for a {width}x{height} picture; raise --scale"
        )
    return PainterChoice(name=name, painter=painter, notice=notice)
