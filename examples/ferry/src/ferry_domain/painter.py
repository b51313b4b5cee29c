"""The ferry painter: a river, the landing on its west bank, two ferries going back and forth.

It reads only the event table (through the paint kit's scene and frames) and the ferry's
shared vocabulary, never the simulation: a table renders without SimPy or a model. The
layout is in design units on a 1280 x 720 canvas, scaled once; the static picture and
both versions of the activity strips are painted once, so a frame is a few blits.
"""

from __future__ import annotations

from typing import Final

import pygame

from ferry_domain.vocabulary import (
    COLOURS,
    DELIVERED,
    DOMAIN_ID,
    FERRIES,
    FERRY_CAPACITY,
    HORIZON,
    LANDING,
    LANDING_CAPACITY,
    VOCABULARY,
    Attr,
    FerryState,
    LandingState,
)
from stages.render.paintkit import (
    INK,
    MUTED,
    PAPER,
    TRACK,
    ActivityStrips,
    ActorState,
    Colour,
    Frame,
    Header,
    Scene,
    Text,
    check_scene,
    colour_from_hex,
    draw_segmented_bar,
    episode_subtitle,
    frame_surface,
    lerp,
    mix,
    shadowed_panel,
)

WIDTH: Final = 1280
HEIGHT: Final = 720
RIVER: Final[Colour] = (112, 176, 222)
"""The water: no state has this colour, so a test can find the river in a still."""
BANK: Final[Colour] = (226, 218, 196)
STATE_COLOURS: Final[dict[str, Colour]] = {s: colour_from_hex(COLOURS[s]) for s in FerryState}
QUEUE: Final = colour_from_hex(COLOURS[LandingState.QUEUE])
OVERFLOW: Final = colour_from_hex(COLOURS[LandingState.OVERFLOW])

_RIVER_X: Final = (400, 880)
_DOCK_X: Final = (460.0, 820.0)
"""Where a ferry's centre is when docked at the west and at the east bank."""
_LANE_Y: Final = (210.0, 370.0)
_BOAT: Final = (112, 56)
_QUEUE_BAR: Final = (48, 270, 320, 44)
_STRIPS: Final = {"left": 150, "right": 1232, "top": 520, "height": 28, "gap": 12}


class FerryPainter:
    """Paints ferry episodes; the ``simreel.painters`` entry point ``ferry``.

    Args:
        scene: A ferry episode (RenderError for another domain's table).
        scale: Size factor over 1280 x 720.
    """

    def __init__(self, scene: Scene, *, scale: float = 1.0) -> None:
        check_scene(scene, DOMAIN_ID, VOCABULARY)
        self.scene = scene
        self._k = scale
        self._size = (round(WIDTH * scale), round(HEIGHT * scale))
        self._text = Text(scale)
        self._header = Header(self._text, scale)
        self._strips = ActivityStrips(scene, FERRIES, STATE_COLOURS, scale=scale, **_STRIPS)
        self.overflow_at = self._overflow_time()
        """When the landing overflowed (None if it never did)."""
        self._background = self._paint_background(fade=True)
        self._bright = self._paint_background(fade=False)

    @property
    def size(self) -> tuple[int, int]:
        return self._size

    def _s(self, value: float) -> int:
        return round(value * self._k)

    def _overflow_time(self) -> float | None:
        table = self.scene.table
        for actor, state, start in zip(
            table.column("actor").to_pylist(),
            table.column("state").to_pylist(),
            table.column("start").to_pylist(),
            strict=True,
        ):
            if actor == LANDING and state == LandingState.OVERFLOW:
                return float(start)
        return None

    # -- the static picture --------------------------------------------------------

    def _paint_background(self, *, fade: bool) -> pygame.Surface:
        s, text = self._s, self._text
        surface = frame_surface(self._size)
        surface.fill(PAPER)
        subtitle = episode_subtitle(self.scene)
        if self.overflow_at is not None:
            subtitle += f" · the landing overflowed at {self.overflow_at:.1f} s"
        self._header.paint(
            surface,
            title="River crossing",
            subtitle=subtitle,
            time_left_label=f"time left of {HORIZON:g} s",
            count_label="delivered",
        )
        shadowed_panel(surface, pygame.Rect(s(24), s(104), s(1208), s(380)), BANK, radius=s(14))
        pygame.draw.rect(surface, RIVER, pygame.Rect(s(_RIVER_X[0]), s(104), s(480), s(380)))
        text.draw(surface, "landing", (s(48), s(136)), 20, INK, anchor="midleft", bold=True)
        text.draw(surface, "east bank", (s(1208), s(136)), 20, INK, anchor="midright", bold=True)
        for index, ferry in enumerate(FERRIES):
            rect = self._strips.rect(index)
            label = ferry.replace("_", " ")
            text.draw(surface, label, (s(40), rect.centery), 20, INK, anchor="midleft")
        self._strips.paint(surface, text, fade=fade)
        x = s(40)
        for state, colour in STATE_COLOURS.items():
            chip = pygame.Rect(x, s(650), s(22), s(18))
            pygame.draw.rect(surface, colour, chip, border_radius=s(4))
            at = (chip.right + s(8), chip.centery)
            x = text.draw(surface, state, at, 20, INK, anchor="midleft").right + s(28)
        return surface

    # -- per frame -----------------------------------------------------------------

    def draw(self, surface: pygame.Surface, frame: Frame) -> None:
        """The river at `frame.time`: the landing's queue, both ferries, the counter."""
        surface.blit(self._background, (0, 0))
        self._strips.draw(surface, self._bright, frame.time)
        delivered = frame.state(DELIVERED)
        self._header.draw(
            surface,
            time=frame.time,
            left=HORIZON - frame.time,
            total=HORIZON,
            count=delivered.attr(Attr.COUNT) if delivered is not None else None,
            colour=STATE_COLOURS[FerryState.CROSSING],
        )
        self._draw_landing(surface, frame.state(LANDING))
        for lane, ferry in enumerate(FERRIES):
            self._draw_ferry(surface, lane, frame.state(ferry))

    def _draw_landing(self, surface: pygame.Surface, state: ActorState | None) -> None:
        s, text = self._s, self._text
        level = state.attr(Attr.LEVEL) if state is not None else None
        filled = min(max(level, 0), LANDING_CAPACITY) if isinstance(level, int) else 0
        bar = pygame.Rect(*(s(v) for v in _QUEUE_BAR))
        overflowed = state is not None and state.state == LandingState.OVERFLOW
        colour = OVERFLOW if overflowed else QUEUE
        draw_segmented_bar(surface, bar, filled, LANDING_CAPACITY, colour, TRACK, gap=s(3))
        label = "overflow!" if overflowed else f"{filled} / {LANDING_CAPACITY} cars waiting"
        at = (bar.left, bar.bottom + s(22))
        text.draw(surface, label, at, 20, colour, anchor="midleft", bold=True)

    def _draw_ferry(self, surface: pygame.Surface, lane: int, state: ActorState | None) -> None:
        s, text = self._s, self._text
        west, east = (_DOCK_X[0], _LANE_Y[lane]), (_DOCK_X[1], _LANE_Y[lane])
        name = state.state if state is not None else "deciding"
        if name == FerryState.CROSSING and state is not None:
            centre = lerp(west, east, state.progress)
        elif name == FerryState.RETURNING and state is not None:
            centre = lerp(east, west, state.progress)
        else:
            centre = west
        colour = STATE_COLOURS.get(name, MUTED)
        hull = pygame.Rect(0, 0, s(_BOAT[0]), s(_BOAT[1]))
        hull.center = (s(centre[0]), s(centre[1]))
        pygame.draw.rect(surface, mix(colour, PAPER, 0.55), hull, border_radius=s(16))
        pygame.draw.rect(surface, colour, hull, width=max(2, s(4)), border_radius=s(16))
        cars = state.attr(Attr.CARS) if state is not None else None
        aboard = min(max(cars, 0), FERRY_CAPACITY) if isinstance(cars, int) else 0
        deck = hull.inflate(-s(24), -s(20))
        draw_segmented_bar(surface, deck, aboard, FERRY_CAPACITY, INK, TRACK, gap=s(3))
        caption = f"{FERRIES[lane].replace('_', ' ')}: {name}"
        text.draw(surface, caption, (hull.centerx, hull.top - s(14)), 18, INK, bold=True)
