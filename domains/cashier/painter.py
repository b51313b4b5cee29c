"""The cashier painter: a shop floor where customers are sent to three checkout lanes.

Reads only the event table (through the paint kit's scene and frames) and the
cashier's shared vocabulary; it never imports the simulation. Layout in design units
on a 1280 x 720 canvas, scaled once.

What a viewer sees:
- the entrance on the left and the dispatcher beside it; the customer it is sending
  walks from it to the lane it was sent to (its position is the arriving interval's
  progress);
- each lane's queue as a segmented bar of 10, packed towards the checkout, with the
  count above it; a full queue turns red-orange ("full": one more customer overruns it);
- two cashiers, told apart by an S or F tag on the badge and their caption
  ("slow 7 s", "fast 4 s"), at their checkouts or walking the aisle behind them; the
  badge's colour and shape tell the state: serving = green disc with a turning
  spinner, stalled = red octagon (a stop sign) with pause bars, walking = blue disc
  with an arrow; the checkout's desk is outlined in the same colour;
- the customer being served at the checkout, with a bar of the service's progress;
- served customers walking out to the exit (position = the leaving interval's progress),
  and the served count, which rises as each one is out;
- a lane that overruns outlined in dark red with an "overrun" tag and a cross at its
  entry, from the moment the customer that overruns it is sent there (that customer
  walks in dark red): the overrun is the episode's last instant, which a movie's
  frames may step over;
- the clock and a bar for the time left of the 300 s horizon;
- each cashier's whole-episode activity strip, future faded, with a cursor.

Speed: the floor, labels and both versions of the strips are painted once into
opaque surfaces; badges and customer discs are antialiased once. A frame is one full
blit plus small ones.
"""

from __future__ import annotations

import bisect
import math
from typing import Final

import pygame

from domains.cashier.vocabulary import (
    CASHIER_START_LANES,
    CASHIERS,
    COLOURS,
    CUSTOMER,
    DISPATCHER,
    DOMAIN_ID,
    HORIZON,
    LANES,
    QUEUE_CAPACITY,
    SERVED,
    SERVICE,
    VOCABULARY,
    Attr,
    CashierState,
    CustomerState,
    DispatcherState,
    LaneState,
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
    supersampled,
)

WIDTH: Final = 1280
HEIGHT: Final = 720

# Every state colour is the vocabulary's, so this movie and the generic timeline agree.
SERVING: Final[Colour] = colour_from_hex(COLOURS[CashierState.SERVING])
STALLED: Final[Colour] = colour_from_hex(COLOURS[CashierState.STALLED])
WALKING: Final[Colour] = colour_from_hex(COLOURS[CashierState.WALKING])
DISPATCHING: Final[Colour] = colour_from_hex(COLOURS[DispatcherState.DISPATCHING])
QUEUE: Final[Colour] = colour_from_hex(COLOURS[LaneState.QUEUE])
OVERRUN: Final[Colour] = colour_from_hex(COLOURS[LaneState.OVERRUN])
ARRIVING: Final[Colour] = colour_from_hex(COLOURS[CustomerState.ARRIVING])
BEING_SERVED: Final[Colour] = colour_from_hex(COLOURS[CustomerState.BEING_SERVED])
LEAVING: Final[Colour] = colour_from_hex(COLOURS[CustomerState.LEAVING])
FULL: Final[Colour] = mix(QUEUE, STALLED, 0.7)
"""Cells of a full queue: a warning, distinct from the overrun mark itself."""
IDLE: Final[Colour] = MUTED
"""A cashier in no state (the instant of a decision)."""
STATE_COLOURS: Final[dict[str, Colour]] = {
    CashierState.SERVING: SERVING,
    CashierState.STALLED: STALLED,
    CashierState.WALKING: WALKING,
}

_LANE_Y: Final = (195.0, 295.0, 395.0)
_MID_Y: Final = _LANE_Y[1]
_ENTRANCE_X: Final = 24.0
_DISPATCHER_X: Final = 132.0
_LANE_ENTRY_X: Final = 318.0
_QUEUE_X: Final = 520.0
_QUEUE_SIZE: Final = (360, 32)
_COUNTER_X: Final = 750.0
"""Where the customer being served stands."""
_DESK_X: Final = 792.0
_SPOT_X: Final = 834.0
"""Where a cashier stands, behind the desk."""
_AISLE_X: Final = 888.0
_CAPTION_X: Final = 918.0
_EXIT_RUN_X: Final = 1080.0
_EXIT_X: Final = 1256.0
_OUT_DY: Final = 44.0
"""How far below its lane a served customer passes the desk on its way out."""
_BADGE_RADIUS: Final = 23
_CUSTOMER_RADIUS: Final = 14
_FLOOR: Final = (24, 104, 1232, 366)
_STRIP_TOP: Final = 500
_STRIP_HEIGHT: Final = 28
_STRIP_GAP: Final = 12
_STRIP_LEFT: Final = 150
_STRIP_RIGHT: Final = 1232
_LEGEND_Y: Final = (636, 676)

_DESIGN_POINTS: Final = {
    "dispatcher": (_DISPATCHER_X, _MID_Y),
    "exit": (_EXIT_X, _MID_Y),
    **{f"entry_{lane}": (_LANE_ENTRY_X, y) for lane, y in zip(LANES, _LANE_Y, strict=True)},
    **{f"counter_{lane}": (_COUNTER_X, y) for lane, y in zip(LANES, _LANE_Y, strict=True)},
    **{f"spot_{lane}": (_SPOT_X, y) for lane, y in zip(LANES, _LANE_Y, strict=True)},
}
_SERVICE_SECONDS: Final = dict(zip(CASHIERS, (d.mean for d in SERVICE), strict=True))
_NAMES: Final = dict(zip(CASHIERS, ("slow", "fast"), strict=True))
_TAGS: Final = dict(zip(CASHIERS, ("S", "F"), strict=True))


def _customer_number(name: str) -> str:
    return name[len(CUSTOMER.prefix) :]


class CashierPainter:
    """Paints cashier episodes; the ``simreel.painters`` entry point ``cashier``.

    Args:
        scene: A cashier episode (RenderError for another domain's table).
        scale: Size factor over 1280 x 720.
    """

    def __init__(self, scene: Scene, *, scale: float = 1.0) -> None:
        check_scene(scene, DOMAIN_ID, VOCABULARY)
        self.scene = scene
        self._k = scale
        self._size = (round(WIDTH * scale), round(HEIGHT * scale))
        self._text = Text(scale)
        self._points = Points(_DESIGN_POINTS, scale=scale)
        self._walks = self._walk_paths()
        self._arrivals = {lane: self._arrival_path(lane) for lane in LANES}
        self._exits = {lane: self._exit_path(lane) for lane in LANES}
        self._header = Header(self._text, scale)
        self._badges = ActivityBadges(
            _BADGE_RADIUS * scale, busy=SERVING, stalled=STALLED, walking=WALKING, idle=IDLE
        )
        self._tags = {cashier: self._paint_tag(_TAGS[cashier]) for cashier in CASHIERS}
        self._dispatcher = {
            colour: self._paint_dispatcher(colour) for colour in (DISPATCHING, IDLE)
        }
        self._customers = {
            colour: self._paint_customer(colour)
            for colour in (ARRIVING, BEING_SERVED, LEAVING, OVERRUN)
        }
        self._queue_bars = self._paint_queue_bars()
        self._read_table()
        self._strips = ActivityStrips(
            scene,
            CASHIERS,
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

    # -- positions, for tests and overlays ------------------------------------------

    def spot(self, lane: str) -> tuple[int, int]:
        """Pixel centre of the badge of a cashier standing at `lane`'s checkout."""
        return self._points.pixel(f"spot_{lane}")

    def counter(self, lane: str) -> tuple[int, int]:
        """Pixel centre of the customer being served at `lane`'s checkout."""
        return self._points.pixel(f"counter_{lane}")

    def dispatcher(self) -> tuple[int, int]:
        """Pixel centre of the dispatcher, where every customer starts its walk to a lane."""
        return self._points.pixel("dispatcher")

    def exit(self) -> tuple[int, int]:
        """Pixel centre of the exit, where served customers end their walk out."""
        return self._points.pixel("exit")

    def lane_entry(self, lane: str) -> tuple[int, int]:
        """Where a customer sent to `lane` ends its walk from the dispatcher."""
        return self._points.pixel(f"entry_{lane}")

    def queue_rect(self, lane: str) -> pygame.Rect:
        """Pixel rectangle of `lane`'s segmented queue bar."""
        return self._rect(_QUEUE_X, _LANE_Y[LANES.index(lane)], *_QUEUE_SIZE)

    def lane_rect(self, lane: str) -> pygame.Rect:
        """Pixel rectangle of `lane`'s row (its entry, queue and counter), outlined when
        the lane overruns."""
        y = _LANE_Y[LANES.index(lane)]
        left, right = _LANE_ENTRY_X - 14, _COUNTER_X + 22
        return pygame.Rect(
            self._s(left), self._s(y - 48), self._s(right) - self._s(left), self._s(84)
        )

    def floor_rect(self) -> pygame.Rect:
        """Pixel rectangle of the shop floor: everything that moves (the strips are below)."""
        return pygame.Rect(*(self._s(v) for v in _FLOOR))

    def badge_radius(self) -> float:
        """Radius of a cashier badge in pixels."""
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
        """A cashier's walk between two checkouts: out into the aisle, along it, back in.

        The aisle runs behind the spots, so a cashier walking past a staffed lane does
        not cross its colleague's badge.
        """
        k = self._k
        paths = {}
        for a, source in enumerate(LANES):
            for b, target in enumerate(LANES):
                if a == b:
                    continue
                (x0, y0), (x1, y1) = self._points[f"spot_{source}"], self._points[f"spot_{target}"]
                turn = 28 * k * (1 if y1 > y0 else -1)
                aisle = _AISLE_X * k
                paths[(source, target)] = PolylinePath(
                    [(x0, y0), (aisle, y0 + turn), (aisle, y1 - turn), (x1, y1)]
                )
        return paths

    def _arrival_path(self, lane: str) -> PolylinePath:
        """From the dispatcher out along the middle, across to the lane, into its entry."""
        k, points = self._k, self._points
        x0, y0 = points["dispatcher"]
        x1, y1 = points[f"entry_{lane}"]
        return PolylinePath([(x0, y0), ((_DISPATCHER_X + 70) * k, y0), (x1 - 46 * k, y1), (x1, y1)])

    def _exit_path(self, lane: str) -> PolylinePath:
        """From the counter under the desk and the cashier, then to the exit."""
        k, points = self._k, self._points
        x0, y0 = points[f"counter_{lane}"]
        low = y0 + _OUT_DY * k
        return PolylinePath([(x0, y0), (x0 + 30 * k, low), (_EXIT_RUN_X * k, low), points["exit"]])

    # -- what the whole table says -------------------------------------------------

    def _read_table(self) -> None:
        """Facts a frame cannot tell: the overrun and its customer's walk, and each
        cashier's lane between its intervals."""
        table = self.scene.table
        actors = table.column("actor").to_pylist()
        states = table.column("state").to_pylist()
        starts = table.column("start").to_pylist()
        ends = table.column("end").to_pylist()
        lanes = table.column(Attr.LANE).to_pylist()
        destinations = table.column(Attr.DESTINATION).to_pylist()
        rows = list(zip(actors, states, starts, ends, lanes, destinations, strict=True))
        # Where a cashier stands once an interval has ended: the lane it walked to, or
        # the lane it stayed at. Read while it is in no state (a decision's instant).
        self._after: dict[str, tuple[list[float], list[str]]] = {}
        for cashier in CASHIERS:
            finished = sorted(
                (end, str(destination if state == CashierState.WALKING else lane))
                for a, state, _, end, lane, destination in rows
                if a == cashier
            )
            self._after[cashier] = ([e for e, _ in finished], [lane for _, lane in finished])
        self.overrun: tuple[str, float] | None = None
        """The lane that overran and when, if one did."""
        self._overrun_from = self._overrun_time = math.inf
        for actor, state, start, _, _, _ in rows:
            if state == LaneState.OVERRUN and actor in LANES:
                self.overrun = (actor, start)
        if self.overrun is not None:
            lane, time = self.overrun
            self._overrun_time = time
            # The customer that overran was sent at the start of the last dispatching
            # interval to that lane ending at the overrun; the mark shows from then.
            sent = [
                start
                for actor, _, start, end, to, _ in rows
                if actor == DISPATCHER and to == lane and end == time
            ]
            self._overrun_from = min(sent, default=time)

    def overrun_shown(self, time: float) -> str | None:
        """The lane carrying the overrun mark at `time`, if any."""
        if self.overrun is not None and time >= self._overrun_from:
            return self.overrun[0]
        return None

    # -- sprites -------------------------------------------------------------------

    def _paint_queue_bars(self) -> list[pygame.Surface]:
        """A queue bar per level, 0 to full, painted on the floor's colour: one blit a frame."""
        size = self.queue_rect(LANES[0]).size
        bars = []
        for level in range(QUEUE_CAPACITY + 1):
            bar = frame_surface(size)
            bar.fill(PANEL)
            # The queue packs towards the checkout (the right), so the bar is drawn
            # with its first `QUEUE_CAPACITY - level` cells empty.
            draw_segmented_bar(
                bar,
                bar.get_rect(),
                QUEUE_CAPACITY - level,
                QUEUE_CAPACITY,
                mix(TRACK, PANEL, 0.2),
                FULL if level == QUEUE_CAPACITY else QUEUE,
                gap=max(1, self._s(3)),
                radius=self._s(4),
            )
            bars.append(bar)
        return bars

    def _paint_tag(self, letter: str) -> pygame.Surface:
        """The small S or F tag on a badge's shoulder that tells the two cashiers apart."""
        radius = 9.5 * self._k
        side = math.ceil(radius * 2) + 2

        def paint(big: pygame.Surface, f: float) -> None:
            centre = (big.get_width() / 2, big.get_height() / 2)
            pygame.draw.circle(big, INK, centre, radius * f)
            pygame.draw.circle(big, PANEL, centre, (radius - 1.6 * self._k) * f)

        tag = supersampled((side, side), paint)
        self._text.draw(tag, letter, (side / 2, side / 2 + 0.5), 16, INK, bold=True)
        return tag

    def _paint_dispatcher(self, colour: Colour) -> pygame.Surface:
        """The dispatcher: a disc with one stem forking into three arrows, one per lane."""
        radius = 26 * self._k
        side = math.ceil(radius * 2) + 4

        def paint(big: pygame.Surface, f: float) -> None:
            cx, cy = big.get_width() / 2, big.get_height() / 2
            r = radius * f
            pygame.draw.circle(big, PANEL, (cx, cy), r)
            pygame.draw.circle(big, colour, (cx, cy), r * 0.86)
            width = round(r * 0.11)
            fork = (cx - r * 0.1, cy)
            pygame.draw.line(big, PANEL, (cx - r * 0.55, cy), fork, width)
            for dy in (-0.4, 0.0, 0.4):
                bend = (cx + r * 0.15, cy + dy * r)
                tip = (cx + r * 0.52, cy + dy * r)
                pygame.draw.line(big, PANEL, fork, bend, width)
                pygame.draw.line(big, PANEL, bend, tip, width)
                arrow_head(big, PANEL, (tip[0] + r * 0.1, tip[1]), 0.0, r * 0.26)

        return supersampled((side, side), paint)

    def _paint_customer(self, colour: Colour) -> pygame.Surface:
        radius = _CUSTOMER_RADIUS * self._k
        side = math.ceil(radius * 2) + 4

        def paint(big: pygame.Surface, f: float) -> None:
            centre = (big.get_width() / 2, big.get_height() / 2)
            pygame.draw.circle(big, PANEL, centre, radius * f)
            pygame.draw.circle(big, colour, centre, (radius - 2 * self._k) * f)

        return supersampled((side, side), paint)

    # -- the static picture --------------------------------------------------------

    def _paint_background(self, *, fade: bool) -> pygame.Surface:
        surface = frame_surface(self._size)
        surface.fill(PAPER)
        s, scene = self._s, self.scene
        subtitle = episode_subtitle(scene)
        if self.overrun is not None:
            lane, time = self.overrun
            subtitle += f" · lane {LANES.index(lane)} overran at {time:.1f} s"
        else:
            subtitle += f" · {scene.duration:g} s simulated"
        self._header.paint(
            surface,
            title="Checkout",
            subtitle=subtitle,
            time_left_label=f"time left of {HORIZON:g} s",
            count_label="served",
        )
        shadowed_panel(surface, self.floor_rect(), radius=s(14), shadow=s(3))
        self._paint_floor(surface)
        self._paint_strips(surface, fade=fade)
        self._paint_legend(surface)
        return surface

    def _paint_floor(self, surface: pygame.Surface) -> None:
        s, text, points = self._s, self._text, self._points
        path_ink = mix(PANEL, RULE, 0.8)
        for lane in LANES:
            for path in (self._arrivals[lane], self._exits[lane]):
                dashed_line(
                    surface, path_ink, list(path.points), width=max(1, s(2)), dash=s(7), gap=s(6)
                )
        aisle_top, aisle_bottom = _LANE_Y[0] - 42, _LANE_Y[-1] + 30
        dashed_line(
            surface,
            RULE,
            [(s(_AISLE_X), s(aisle_top)), (s(_AISLE_X), s(aisle_bottom))],
            width=max(1, s(3)),
            dash=s(10),
            gap=s(8),
        )
        heading_y = s(124)
        text.draw(surface, "queues (10 places each)", (s(_QUEUE_X), heading_y), 18, MUTED)
        text.draw(surface, "checkouts", (s(_DESK_X), heading_y), 18, MUTED)
        text.draw(surface, "aisle", (s(_AISLE_X), heading_y), 18, MUTED)
        # Entrance and exit: doorways cut into the floor's walls, with an arrow through.
        for label, x, anchor, inside in (
            ("entrance", _ENTRANCE_X + 8, "bottomleft", 1),
            ("exit", _EXIT_X - 8, "bottomright", -1),
        ):
            door = self._rect(x, _MID_Y, 16, 74)
            pygame.draw.rect(surface, mix(TRACK, INK, 0.1), door, border_radius=s(4))
            arrow_head(surface, MUTED, (door.centerx + s(6), door.centery), 0.0, s(12))
            corner = (door.left + s(4), door.top) if inside > 0 else (door.right - s(4), door.top)
            text.draw(surface, label, (corner[0], corner[1] - s(6)), 17, MUTED, anchor=anchor)
        dispatcher = points.pixel("dispatcher")
        text.draw(surface, "dispatcher", (dispatcher[0], dispatcher[1] + s(40)), 18, INK, bold=True)
        for index, lane in enumerate(LANES):
            y = _LANE_Y[index]
            bar = self.queue_rect(lane)
            text.draw(
                surface,
                f"lane {index}",
                (bar.left, s(y - 30)),
                20,
                INK,
                anchor="midleft",
                bold=True,
            )
            desk = self._desk(lane)
            shadowed_panel(surface, desk, mix(PANEL, INK, 0.06), radius=s(6), shadow=s(2))
            for centre, radius in (
                (points.pixel(f"spot_{lane}"), _BADGE_RADIUS + 5),
                (points.pixel(f"counter_{lane}"), _CUSTOMER_RADIUS + 5),
            ):
                pygame.draw.circle(surface, mix(PAPER, INK, 0.05), centre, s(radius))

    def _desk(self, lane: str) -> pygame.Rect:
        return self._rect(_DESK_X, _LANE_Y[LANES.index(lane)], 24, 66)

    def _paint_strips(self, surface: pygame.Surface, *, fade: bool) -> None:
        """Each cashier's activity over the whole episode (faded: the future)."""
        s, text = self._s, self._text
        for index, cashier in enumerate(CASHIERS):
            rect = self._strips.rect(index)
            label = f"{_NAMES[cashier]} {_SERVICE_SECONDS[cashier]:g} s"
            blit_centred(surface, self._tags[cashier], (s(42), rect.centery))
            text.draw(surface, label, (s(58), rect.centery), 20, INK, anchor="midleft")
        self._strips.paint(surface, text, fade=fade)

    def _paint_legend(self, surface: pygame.Surface) -> None:
        s, text = self._s, self._text
        self._badges.draw_legend(
            surface,
            text,
            ("serving", "stalled (waiting for a customer)", "walking to another checkout"),
            (s(32), s(_LEGEND_Y[0])),
            pad=s(8),
            gap=s(28),
        )
        y = s(_LEGEND_Y[1])
        x = s(32)
        text.draw(surface, "customers:", (x, y), 20, MUTED, anchor="midleft")
        x += s(96)
        for colour, label in (
            (ARRIVING, "walking to a lane"),
            (QUEUE, "waiting"),
            (BEING_SERVED, "being served"),
            (LEAVING, "walking out"),
        ):
            if colour == QUEUE:
                cell = pygame.Rect(0, 0, s(22), s(18))
                cell.midleft = (x, y)
                pygame.draw.rect(surface, QUEUE, cell, border_radius=s(4))
                right = cell.right
            else:
                right = blit_centred(
                    surface, self._customers[colour], (x + s(_CUSTOMER_RADIUS), y)
                ).right
            x = text.draw(surface, label, (right + s(8), y), 20, INK, anchor="midleft").right
            x += s(26)
        cell = pygame.Rect(0, 0, s(22), s(18))
        cell.midleft = (x, y)
        pygame.draw.rect(surface, FULL, cell, border_radius=s(4))
        x = text.draw(
            surface, "queue full", (cell.right + s(8), y), 20, INK, anchor="midleft"
        ).right
        mark = pygame.Rect(0, 0, s(22), s(18))
        mark.midleft = (x + s(26), y)
        pygame.draw.rect(surface, OVERRUN, mark, width=max(2, s(3)), border_radius=s(4))
        text.draw(surface, "overrun", (mark.right + s(8), y), 20, INK, anchor="midleft")

    # -- per frame -----------------------------------------------------------------

    def draw(self, surface: pygame.Surface, frame: Frame) -> None:
        """The shop at `frame.time`: queues, dispatcher, customers, cashiers, counters, strips."""
        surface.blit(self._background, (0, 0))
        text = self._text
        time = frame.time
        # Strips: the past in full colour, then the cursor.
        self._strips.draw(surface, self._bright, time)
        # Header: served count, clock and the time left of the horizon.
        served = frame.state(SERVED)
        self._header.draw(
            surface,
            time=time,
            left=HORIZON - time,
            total=HORIZON,
            count=served.attr(Attr.COUNT) if served is not None else None,
            colour=WALKING,
        )
        overrun = self.overrun_shown(time)
        for lane in LANES:
            self._draw_queue(surface, lane, frame.state(lane), overrun == lane)
        self._draw_dispatcher(surface, frame.state(DISPATCHER))
        for customer in frame.instances(CUSTOMER.kind):
            self._draw_customer(surface, customer, overrun)
        staffed = {
            self._draw_cashier(surface, cashier, frame.state(cashier), time) for cashier in CASHIERS
        }
        for lane in LANES:
            # Customers still queue at a checkout nobody stands at or walks to: say why
            # its queue does not move.
            if lane not in staffed:
                text.draw(surface, "unstaffed", self._points[f"spot_{lane}"], 14, MUTED)

    def _draw_queue(
        self, surface: pygame.Surface, lane: str, state: ActorState | None, overran: bool
    ) -> None:
        s, text = self._s, self._text
        level = state.attr(Attr.LEVEL) if state is not None else None
        filled = min(max(int(level), 0), QUEUE_CAPACITY) if isinstance(level, int) else 0
        full = filled == QUEUE_CAPACITY
        bar = self.queue_rect(lane)
        surface.blit(self._queue_bars[filled], bar)
        y = s(_LANE_Y[LANES.index(lane)] - 30)
        if overran:
            row = self.lane_rect(lane)
            pygame.draw.rect(surface, OVERRUN, row, width=max(2, s(4)), border_radius=s(10))
            when = text.fit(f"overrun at {self._overrun_time:.1f} s", 18, bar.width, bold=True)
            tag = text.render(when, 18, PANEL, bold=True)
            pill = tag.get_rect(midright=(bar.right, y)).inflate(s(14), s(6))
            pygame.draw.rect(surface, OVERRUN, pill, border_radius=pill.height // 2)
            blit_centred(surface, tag, pill.center)
            # A cross at the lane's entry: nobody more gets in.
            x0, y0 = self._points[f"entry_{lane}"]
            arm = s(14)
            for dy in (-arm, arm):
                pygame.draw.line(
                    surface, OVERRUN, (x0 - arm, y0 - dy), (x0 + arm, y0 + dy), max(2, s(5))
                )
        elif full:
            text.draw(surface, "full", (bar.right, y), 19, FULL, anchor="midright", bold=True)
        else:
            text.draw(
                surface,
                f"{filled} / {QUEUE_CAPACITY}",
                (bar.right, y),
                18,
                MUTED,
                anchor="midright",
            )

    def _draw_dispatcher(self, surface: pygame.Surface, state: ActorState | None) -> None:
        s = self._s
        centre = self._points["dispatcher"]
        dispatching = state is not None and state.state == DispatcherState.DISPATCHING
        blit_centred(surface, self._dispatcher[DISPATCHING if dispatching else IDLE], centre)
        if dispatching and state is not None:
            lane = state.attr(Attr.LANE)
            if isinstance(lane, str) and lane in LANES:
                caption = f"sends to lane {LANES.index(lane)}"
                self._text.draw(
                    surface, caption, (centre[0], centre[1] - s(40)), 16, DISPATCHING, bold=True
                )

    def _draw_customer(
        self, surface: pygame.Surface, customer: ActorState, overrun: str | None
    ) -> None:
        """A customer on its way in, at a counter, or on its way out; queued ones are the
        queue bars' cells."""
        lane = customer.attr(Attr.LANE)
        if not isinstance(lane, str) or lane not in LANES:
            return
        state = customer.state
        if state == CustomerState.ARRIVING:
            position = self._arrivals[lane].at(customer.progress)
            # The customer whose arrival overruns its lane walks in the overrun's colour.
            doomed = lane == overrun and customer.end >= self._overrun_time
            colour = OVERRUN if doomed else ARRIVING
        elif state == CustomerState.BEING_SERVED:
            position = self._points[f"counter_{lane}"]
            colour = BEING_SERVED
            s = self._s
            bar = pygame.Rect(0, 0, s(40), s(6))
            bar.center = (round(position[0]), round(position[1] + s(_CUSTOMER_RADIUS + 12)))
            draw_bar(surface, bar, customer.progress, BEING_SERVED, TRACK)
        elif state == CustomerState.LEAVING:
            position = self._exits[lane].at(customer.progress)
            colour = LEAVING
        else:
            return
        blit_centred(surface, self._customers[colour], position)
        number = _customer_number(customer.actor)
        # Shrunk, then cut, to the disc: an instance number may have any number of digits.
        width = self._s(2 * _CUSTOMER_RADIUS - 4)
        label, size = self._text.shrink(
            number, 16 if len(number) < 3 else 13, width, smallest=9, bold=True
        )
        self._text.draw(surface, label, position, size, PANEL, bold=True)

    def _draw_cashier(
        self, surface: pygame.Surface, cashier: str, state: ActorState | None, time: float
    ) -> str | None:
        """A cashier's badge at its checkout or on its way, with its tag and caption;
        returns the lane whose checkout it stands at or walks to."""
        s = self._s
        name = f"{_NAMES[cashier]} {_SERVICE_SECONDS[cashier]:g} s"
        if state is None:
            lane = self._lane_after(cashier, time)
            spot = self._points[f"spot_{lane}"]
            blit_centred(surface, self._badges.idle(), spot)
            self._draw_caption(surface, spot, name, "deciding", IDLE)
        elif state.state == CashierState.WALKING:
            source, destination = state.attr(Attr.LANE), state.attr(Attr.DESTINATION)
            path = self._walks.get((str(source), str(destination)))
            if path is None:
                return None
            lane = str(destination)
            spot = path.at(state.progress)
            blit_centred(surface, self._badges.walking(path.heading(state.progress)), spot)
            self._draw_caption(surface, spot, name, f"to lane {LANES.index(lane)}", WALKING)
        else:
            at = state.attr(Attr.LANE)
            if not isinstance(at, str) or at not in LANES:
                return None
            lane = at
            spot = self._points[f"spot_{lane}"]
            colour = STATE_COLOURS.get(state.state, INK)
            pygame.draw.rect(
                surface, colour, self._desk(lane), width=max(2, s(3)), border_radius=s(6)
            )
            if state.state == CashierState.SERVING:
                # The spinner turns with simulated time, so it stops when the movie pauses.
                blit_centred(surface, self._badges.busy(time), spot)
                customer = state.attr(Attr.CUSTOMER)
                caption = f"serving #{customer}" if customer is not None else "serving"
            else:
                blit_centred(surface, self._badges.stalled(), spot)
                caption = "waits for a customer"
            self._draw_caption(surface, spot, name, caption, colour)
        offset = 0.72 * _BADGE_RADIUS * self._k
        blit_centred(surface, self._tags[cashier], (spot[0] + offset, spot[1] - offset))
        return lane

    def _draw_caption(
        self,
        surface: pygame.Surface,
        spot: tuple[float, float],
        name: str,
        caption: str,
        colour: Colour,
    ) -> None:
        s, text = self._s, self._text
        x = spot[0] + s(_CAPTION_X - _SPOT_X)
        # The caption holds a customer number from the table: it ends at the exit's wall.
        room = s(_EXIT_X) - round(x)
        caption = text.fit(caption, 17, room, bold=True)
        text.draw(surface, name, (x, spot[1] - s(10)), 19, INK, anchor="midleft", bold=True)
        text.draw(surface, caption, (x, spot[1] + s(11)), 17, colour, anchor="midleft", bold=True)

    def _lane_after(self, cashier: str, time: float) -> str:
        """The lane a cashier in no state stands at: where its last interval left it."""
        ends, lanes = self._after[cashier]
        index = bisect.bisect_right(ends, time) - 1
        if index < 0 or lanes[index] not in LANES:
            return LANES[CASHIER_START_LANES[CASHIERS.index(cashier)]]
        return lanes[index]
