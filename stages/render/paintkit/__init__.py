"""The paint kit: everything a painter may use from the render stage.

A painter (``domains/<id>/painter.py`` or a third-party package) imports only this
package, ``schemas`` and its domain's shared vocabulary; the import contract in
``.importlinter`` enforces it. It offers the scene and frame types painters receive
(and ``check_scene``, which refuses a table a painter cannot draw), layout geometry
(named points, polyline paths walked by a fraction) and drawing helpers (cached text in
the packaged DejaVu Sans faces, fitted with an ellipsis, shrunk or wrapped to a width;
continuous and segmented bars, antialiased sprites). Text from a table may hold
anything: ``Text`` makes every string ``drawable`` (control and format characters
escaped, length bounded) before measuring or rendering it, and ``ticks`` chooses a time
axis's ticks from the span shown, never from a count the table sets.

For pictures of people or machines at work it also offers the pieces the built-in
painters share: ``ActivityBadges`` (busy disc with a turning spinner, stalled octagon
with pause bars, walking disc with an arrow per heading), ``ActivityStrips`` (each
actor's states over the whole episode, the future faded, with a cursor) and the
``Header`` of a 1280 x 720 canvas (title, clock, a bar of the time left formatted by
``minutes_left``, and a counter).
"""

from stages.render.paintkit.badges import HEADINGS, SPINNER_STEPS, ActivityBadges
from stages.render.paintkit.draw import (
    CATEGORICAL,
    ELLIPSIS,
    INK,
    MUTED,
    PANEL,
    PAPER,
    RULE,
    TRACK,
    Colour,
    Text,
    arrow_head,
    blit_centred,
    colour_from_hex,
    dashed_line,
    disc,
    draw_bar,
    draw_segmented_bar,
    frame_surface,
    mix,
    opaque,
    shadowed_panel,
    supersampled,
)
from stages.render.paintkit.geometry import Point, Points, PolylinePath, lerp
from stages.render.paintkit.header import Header, episode_subtitle, minutes_left
from stages.render.paintkit.inert import drawable
from stages.render.paintkit.scale import seconds_label, tick_label, ticks
from stages.render.paintkit.scene import (
    ActorState,
    AttributeValue,
    Frame,
    Painter,
    PainterFactory,
    Scene,
    check_scene,
)
from stages.render.paintkit.strips import ActivityStrips, Interval, actor_intervals

__all__ = [
    "CATEGORICAL",
    "ELLIPSIS",
    "HEADINGS",
    "INK",
    "MUTED",
    "PANEL",
    "PAPER",
    "RULE",
    "SPINNER_STEPS",
    "TRACK",
    "ActivityBadges",
    "ActivityStrips",
    "ActorState",
    "AttributeValue",
    "Colour",
    "Frame",
    "Header",
    "Interval",
    "Painter",
    "PainterFactory",
    "Point",
    "Points",
    "PolylinePath",
    "Scene",
    "Text",
    "actor_intervals",
    "arrow_head",
    "blit_centred",
    "check_scene",
    "colour_from_hex",
    "dashed_line",
    "disc",
    "draw_bar",
    "draw_segmented_bar",
    "drawable",
    "episode_subtitle",
    "frame_surface",
    "lerp",
    "minutes_left",
    "mix",
    "opaque",
    "seconds_label",
    "shadowed_panel",
    "supersampled",
    "tick_label",
    "ticks",
]
