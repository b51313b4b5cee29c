"""The factory painter: a floor plan where workers walk, work and stall, and items flow.

Reads only the event table (through the paint kit's scene and frames) and the
factory's shared vocabulary; it never imports the simulation. Layout in design
units on a 1280 x 720 canvas, scaled once.

What a viewer sees:
- the four stations as machines along the line, stage 2 (s1, s2) side by side;
  a machine being worked on shows its item travelling through it and a progress bar;
- buffers A and B as segmented bars of 10;
- each worker as a badge whose colour and shape tell its state at a glance:
  working = green disc with a turning spinner, stalled = red octagon (a stop
  sign) with pause bars and what it waits for, walking = blue disc with an arrow,
  moving along the walkway (its position is the walking interval's progress);
- the finished count, the clock and a bar for the time left;
- each worker's whole-episode activity strip, future faded, with a cursor.

Speed: the floor, labels and both versions of the strips are painted once into
opaque surfaces; icons are antialiased once. A frame is one full blit plus small ones.
"""

from __future__ import annotations

from typing import Final

import pygame

from domains.factory.vocabulary import (
    BUFFER_A,
    BUFFER_B,
    BUFFER_CAPACITY,
    COLOURS,
    DOMAIN_ID,
    FINISHED,
    STATIONS,
    VOCABULARY,
    WALK_SECONDS,
    WORK_SECONDS,
    WORKERS,
    Attr,
    WaitingFor,
    WorkerState,
)
from stages.render.paintkit import (
    INK,
    MUTED,
    PANEL,
    PAPER,
    RULE,
    TRACK,
    ActivityBadges,
    ActivityStrips,
    ActorState,
    Colour,
    Frame,
    Header,
    Points,
    PolylinePath,
    Scene,
    Text,
    arrow_head,
    blit_centred,
    check_scene,
    colour_from_hex,
    dashed_line,
    draw_bar,
    draw_segmented_bar,
    episode_subtitle,
    frame_surface,
    mix,
    shadowed_panel,
)

WIDTH: Final = 1280
HEIGHT: Final = 720

# State colours come from the vocabulary, so this movie and the generic timeline agree.
WORKING: Final[Colour] = colour_from_hex(COLOURS[WorkerState.WORKING])
STALLED: Final[Colour] = colour_from_hex(COLOURS[WorkerState.STALLED])
WALKING: Final[Colour] = colour_from_hex(COLOURS[WorkerState.WALKING])
ITEM: Final[Colour] = (244, 183, 40)
ITEM_EDGE: Final[Colour] = (176, 120, 0)
STATE_COLOURS: Final[dict[str, Colour]] = {
    WorkerState.WORKING: WORKING,
    WorkerState.STALLED: STALLED,
    WorkerState.WALKING: WALKING,
}

_MACHINE_Y: Final = 214
_MACHINE_SIZE: Final = (132, 100)
_SPOT_Y: Final = 318
_WALK_Y: Final = 392
_BADGE_RADIUS: Final = 23
_STRIP_TOP: Final = 488
_STRIP_HEIGHT: Final = 28
_STRIP_GAP: Final = 12
_STRIP_LEFT: Final = 150
_STRIP_RIGHT: Final = 1232

_DESIGN_POINTS: Final = {
    "s0": (150.0, _MACHINE_Y),
    "s1": (560.0, _MACHINE_Y),
    "s2": (720.0, _MACHINE_Y),
    "s3": (1130.0, _MACHINE_Y),
    BUFFER_A: (355.0, _MACHINE_Y),
    BUFFER_B: (925.0, _MACHINE_Y),
    **{
        f"spot_{s}": (x, float(_SPOT_Y))
        for s, x in zip(STATIONS, (150, 560, 720, 1130), strict=True)
    },
}
_STAGE_OF: Final = {"s0": "stage 1", "s1": "stage 2", "s2": "stage 2", "s3": "stage 3"}
_BUFFER_NAMES: Final = {BUFFER_A: "buffer A", BUFFER_B: "buffer B"}


class FactoryPainter:
    """Paints factory episodes; the ``simreel.painters`` entry point ``factory``.

    Args:
        scene: A factory episode (RenderError for another domain's table).
        scale: Size factor over 1280 x 720.
    """

    def __init__(self, scene: Scene, *, scale: float = 1.0) -> None:
        check_scene(scene, DOMAIN_ID, VOCABULARY)
        self.scene = scene
        self._k = scale
        self._size = (round(WIDTH * scale), round(HEIGHT * scale))
        self._text = Text(scale)
        self._points = Points(_DESIGN_POINTS, scale=scale)
        self._paths = self._walk_paths()
        self._header = Header(self._text, scale)
        self._badges = ActivityBadges(
            _BADGE_RADIUS * scale, busy=WORKING, stalled=STALLED, walking=WALKING
        )
        self._strips = ActivityStrips(
            scene,
            WORKERS,
            STATE_COLOURS,
            left=_STRIP_LEFT,
            right=_STRIP_RIGHT,
            top=_STRIP_TOP,
            height=_STRIP_HEIGHT,
            gap=_STRIP_GAP,
            scale=scale,
        )
        self._background = self._paint_background(fade=True)
        self._bright = self._paint_background(fade=False)

    @property
    def size(self) -> tuple[int, int]:
        return self._size

    def spot(self, station: str) -> tuple[int, int]:
        """Pixel centre of the badge of a worker standing at `station` (for tests and overlays)."""
        return self._points.pixel(f"spot_{station}")

    def buffer_rect(self, buffer: str) -> pygame.Rect:
        """Pixel rectangle of `buffer`'s segmented bar."""
        x, y = _DESIGN_POINTS[buffer]
        return self._rect(x, y, 150, 30)

    def badge_radius(self) -> float:
        """Radius of a worker badge in pixels."""
        return _BADGE_RADIUS * self._k

    def _s(self, value: float) -> int:
        return round(value * self._k)

    def _rect(self, x: float, y: float, width: float, height: float) -> pygame.Rect:
        """A rectangle centred on design point (x, y), in pixels."""
        rect = pygame.Rect(0, 0, self._s(width), self._s(height))
        rect.center = (self._s(x), self._s(y))
        return rect

    # -- geometry ------------------------------------------------------------------

    def _walk_paths(self) -> dict[tuple[str, str], PolylinePath]:
        """A path between every two stations: down to the walkway, along it, up to the spot."""
        paths = {}
        for a, source in enumerate(STATIONS):
            for b, target in enumerate(STATIONS):
                if a == b:
                    continue
                (x0, y0), (x1, y1) = self._points[f"spot_{source}"], self._points[f"spot_{target}"]
                # Short walks (s1-s2: 1 s) dip less, so speed on screen stays plausible.
                dip = self._s(_WALK_Y - _SPOT_Y) * min(1.0, WALK_SECONDS[a][b] / 4.0)
                run = min(self._s(40), abs(x1 - x0) / 3) * (1 if x1 > x0 else -1)
                paths[(source, target)] = PolylinePath(
                    [(x0, y0), (x0 + run, y0 + dip), (x1 - run, y1 + dip), (x1, y1)]
                )
        return paths

    # -- the static picture --------------------------------------------------------

    def _paint_background(self, *, fade: bool) -> pygame.Surface:
        surface = frame_surface(self._size)
        surface.fill(PAPER)
        s = self._s
        self._header.paint(
            surface,
            title="Factory floor",
            subtitle=f"{episode_subtitle(self.scene)} · {self._speed_hint()}",
            time_left_label="time left",
            count_label="finished",
        )
        shadowed_panel(
            surface, pygame.Rect(s(24), s(104), s(1232), s(340)), radius=s(14), shadow=s(3)
        )
        self._paint_floor(surface)
        self._paint_strips(surface, fade=fade)
        self._paint_legend(surface)
        return surface

    def _speed_hint(self) -> str:
        return f"{self.scene.duration:g} s simulated"

    def _paint_floor(self, surface: pygame.Surface) -> None:
        s, text, points = self._s, self._text, self._points
        line_y = s(_MACHINE_Y)
        # The item flow: s0 -> A -> s1/s2 -> B -> s3 (a conveyor behind the machines).
        pygame.draw.line(surface, TRACK, (s(150), line_y), (s(1130), line_y), s(10))
        for arrow_x in (250, 455, 640, 820, 1028):
            arrow_head(surface, RULE, (s(arrow_x + 9), line_y), 0.0, s(12))
        # The walkway.
        dashed_line(
            surface,
            RULE,
            [(s(150), s(_WALK_Y)), (s(1130), s(_WALK_Y))],
            width=max(1, s(3)),
            dash=s(10),
            gap=s(8),
        )
        text.draw(surface, "walkway", (s(640), s(_WALK_Y + 22)), 17, MUTED)
        for index, station in enumerate(STATIONS):
            x, y = _DESIGN_POINTS[station]
            rect = self._rect(x, y, *_MACHINE_SIZE)
            shadowed_panel(surface, rect, PANEL, radius=s(12), shadow=s(3), border=RULE)
            band = pygame.Rect(rect.left, rect.top, rect.width, s(30))
            pygame.draw.rect(
                surface,
                mix(PANEL, INK, 0.06),
                band,
                border_top_left_radius=s(12),
                border_top_right_radius=s(12),
            )
            text.draw(
                surface,
                station,
                (rect.left + s(12), band.centery),
                24,
                INK,
                anchor="midleft",
                bold=True,
            )
            text.draw(
                surface,
                f"{WORK_SECONDS[index]:g} s",
                (rect.right - s(12), band.centery),
                18,
                MUTED,
                anchor="midright",
            )
            text.draw(surface, _STAGE_OF[station], (rect.centerx, rect.bottom - s(11)), 17, MUTED)
            # The slot the item passes through while worked on.
            pygame.draw.rect(
                surface, mix(PANEL, INK, 0.04), self._slot(station), border_radius=s(6)
            )
            spot = points.pixel(f"spot_{station}")
            pygame.draw.circle(surface, mix(PAPER, INK, 0.05), spot, s(_BADGE_RADIUS + 5))
        for name in (BUFFER_A, BUFFER_B):
            buffer_x, buffer_y = _DESIGN_POINTS[name]
            text.draw(
                surface, _BUFFER_NAMES[name], (s(buffer_x), s(buffer_y - 40)), 20, INK, bold=True
            )

    def _slot(self, station: str) -> pygame.Rect:
        x, y = _DESIGN_POINTS[station]
        return self._rect(x, y + 2, _MACHINE_SIZE[0] - 24, 28)

    def _paint_strips(self, surface: pygame.Surface, *, fade: bool) -> None:
        """Each worker's activity over the whole episode (faded: the future)."""
        s, text = self._s, self._text
        for index, worker in enumerate(WORKERS):
            rect = self._strips.rect(index)
            text.draw(surface, worker, (s(32), rect.centery), 20, INK, anchor="midleft")
        self._strips.paint(surface, text, fade=fade)

    def _paint_legend(self, surface: pygame.Surface) -> None:
        s, text = self._s, self._text
        y = s(650)
        x = self._badges.draw_legend(
            surface,
            text,
            ("working", "stalled (waiting for an item or room)", "walking"),
            (s(32), y),
            pad=s(8),
            gap=s(28),
        )
        item = pygame.Rect(0, 0, s(18), s(18))
        item.center = (x + s(9), y)
        pygame.draw.rect(surface, ITEM, item, border_radius=s(4))
        pygame.draw.rect(surface, ITEM_EDGE, item, width=max(1, s(2)), border_radius=s(4))
        text.draw(surface, "item", (item.right + s(8), y), 20, INK, anchor="midleft")

    # -- per frame -----------------------------------------------------------------

    def draw(self, surface: pygame.Surface, frame: Frame) -> None:
        """The floor at `frame.time`: machines, buffers, workers, counters, strips."""
        surface.blit(self._background, (0, 0))
        s, text, scene = self._s, self._text, self.scene
        # Strips: the past in full colour, then the cursor.
        self._strips.draw(surface, self._bright, frame.time)
        # Header: finished count, clock and the time left.
        finished = frame.state(FINISHED)
        self._header.draw(
            surface,
            time=frame.time,
            left=scene.end_time - frame.time,
            total=scene.duration,
            count=finished.attr(Attr.COUNT) if finished is not None else None,
            colour=WALKING,
        )
        for name in (BUFFER_A, BUFFER_B):
            state = frame.state(name)
            level = state.attr(Attr.LEVEL) if state is not None else None
            filled = int(level) if isinstance(level, int) else 0
            x, y = _DESIGN_POINTS[name]
            draw_segmented_bar(
                surface,
                self.buffer_rect(name),
                filled,
                BUFFER_CAPACITY,
                ITEM,
                mix(TRACK, PANEL, 0.2),
                gap=max(1, s(3)),
                radius=s(4),
            )
            level_text = text.fit(f"{filled} / {BUFFER_CAPACITY}", 19, s(150))
            text.draw(surface, level_text, (s(x), s(y + 34)), 19, MUTED)
        for worker in WORKERS:
            state = frame.state(worker)
            if state is not None:
                self._draw_worker(surface, worker, state, frame.time)

    def _draw_worker(
        self, surface: pygame.Surface, worker: str, state: ActorState, time: float
    ) -> None:
        """A worker's badge at its station or on its way, its caption, and its machine's item."""
        s, text = self._s, self._text
        station = state.attr(Attr.STATION)
        if not isinstance(station, str) or station not in STATIONS:
            return
        label = worker.replace("worker", "W")
        if state.state == WorkerState.WALKING:
            destination = state.attr(Attr.DESTINATION)
            path = self._paths.get((station, str(destination)))
            if path is None:
                return
            position = path.at(state.progress)
            blit_centred(surface, self._badges.walking(path.heading(state.progress)), position)
            text.draw(
                surface,
                f"{label} to {destination}",
                (position[0], position[1] + s(36)),
                18,
                WALKING,
                bold=True,
            )
            return
        spot = self._points[f"spot_{station}"]
        machine = self._rect(*_DESIGN_POINTS[station], *_MACHINE_SIZE)
        colour = STATE_COLOURS.get(state.state, INK)
        pygame.draw.rect(surface, colour, machine, width=max(2, s(3)), border_radius=s(12))
        if state.state == WorkerState.WORKING:
            # The spinner's phase is simulated time's, so it stops when the movie pauses.
            blit_centred(surface, self._badges.busy(time), spot)
            slot = self._slot(station)
            self._draw_item(surface, slot, state.progress, state.attr(Attr.ITEM))
            bar = pygame.Rect(slot.left, slot.bottom + s(4), slot.width, s(5))
            draw_bar(surface, bar, state.progress, WORKING, TRACK)
            caption, ink = "working", WORKING
        else:
            blit_centred(surface, self._badges.stalled(), spot)
            waiting = state.attr(Attr.WAITING_FOR)
            caption = "waits for room" if waiting == WaitingFor.ROOM else "waits for an item"
            ink = STALLED
            if waiting == WaitingFor.ROOM:
                self._draw_item(surface, self._slot(station), 1.0, state.attr(Attr.ITEM))
        text.draw(surface, f"{label} · {caption}", (spot[0], spot[1] + s(36)), 18, ink, bold=True)

    def _draw_item(
        self, surface: pygame.Surface, slot: pygame.Rect, progress: float, item: object
    ) -> None:
        s = self._s
        side = s(22)
        x = slot.left + s(4) + side / 2 + (slot.width - s(8) - side) * progress
        rect = pygame.Rect(0, 0, side, side)
        rect.center = (round(x), slot.centery)
        pygame.draw.rect(surface, ITEM, rect, border_radius=s(4))
        pygame.draw.rect(surface, ITEM_EDGE, rect, width=max(1, s(2)), border_radius=s(4))
        if isinstance(item, int):
            # Shrunk, then cut, to the item's square: an id may be anything up to 2**63 - 1.
            label, size = self._text.shrink(
                str(item), 15 if 0 <= item < 100 else 12, side - s(2), smallest=9
            )
            self._text.draw(surface, label, rect.center, size, INK)
