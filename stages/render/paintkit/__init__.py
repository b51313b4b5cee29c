"""The paint kit: everything a painter may use from the render stage.

A painter (``domains/<id>/painter.py`` or a third-party package) imports only this
package, ``schemas`` and its domain's shared vocabulary; the import contract in
``.importlinter`` enforces it. It offers the scene and frame types painters receive,
layout geometry (named points, polyline paths walked by a fraction) and drawing
helpers (cached text, continuous and segmented bars, antialiased sprites).
"""

from stages.render.paintkit.draw import (
    CATEGORICAL,
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
from stages.render.paintkit.scene import (
    ActorState,
    AttributeValue,
    Frame,
    Painter,
    PainterFactory,
    Scene,
)

__all__ = [
    "CATEGORICAL",
    "INK",
    "MUTED",
    "PANEL",
    "PAPER",
    "RULE",
    "TRACK",
    "ActorState",
    "AttributeValue",
    "Colour",
    "Frame",
    "Painter",
    "PainterFactory",
    "Point",
    "Points",
    "PolylinePath",
    "Scene",
    "Text",
    "arrow_head",
    "blit_centred",
    "colour_from_hex",
    "dashed_line",
    "disc",
    "draw_bar",
    "draw_segmented_bar",
    "frame_surface",
    "lerp",
    "mix",
    "opaque",
    "shadowed_panel",
    "supersampled",
]
