"""The world at simulated time t, looked up without scanning the episode's rows.

An episode's rows are split once into per-actor sorted lists of interval starts and
ends. The state of a named actor at ``t`` is then one binary search away (the last
interval starting at or before ``t``, if it has not ended before ``t``), so a frame
costs the same for a table of a hundred rows or a million.

Short-lived instances (``customer_17``) can number tens of thousands per episode while
a few dozen are alive at once, so they are not searched one by one. Per kind, the
instances are sorted by the start of their first interval, next to the running
maximum of their last ends (the *reach*). An instance can be in a state at ``t`` only
if it started at or before ``t`` (a binary search in the first starts) and some
instance up to it in that order has not ended before ``t`` (a binary search in the
reach, which never decreases). A frame therefore looks only at the instances that
started since the oldest one still alive: its cost follows the crowd around ``t``,
not the episode's length.

Building the look-ups costs the rows they are built from, so a still or a movie window
of a long episode builds them from the rows that show in it only (:func:`read_scene`,
which reads just those row groups, ``schemas/README.md`` section 2.2). For any time in
that window the world is the same as the whole episode's: an actor's state at ``t`` is
its last interval starting by ``t`` if it has not ended before ``t``, and that interval
shows in any window holding ``t``.
"""

from __future__ import annotations

import itertools
import math
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
from numpy.typing import NDArray

from schemas.errors import RenderError, TableError
from schemas.events import EventTable
from schemas.metadata import EpisodeSummary, TableMetadata
from schemas.vocabulary import Actor, ShortLivedKind, Vocabulary
from schemas.windows import EventFile
from stages.render.paintkit.scene import ActorState, AttributeValue, Frame, Scene


@dataclass(frozen=True)
class Timeline:
    """One actor's intervals in time order (rows of one episode)."""

    actor: str
    starts: NDArray[np.float64]
    """Sorted."""
    ends: NDArray[np.float64]
    states: tuple[str, ...]
    """State per interval."""
    rows: NDArray[np.int64]
    """Index of each interval in the episode's rows (for attribute look-ups)."""

    def __len__(self) -> int:
        return len(self.starts)


@dataclass(frozen=True)
class Census:
    """How many instances of a short-lived kind are in each state, over the episode.

    A step function: ``counts[k, i]`` instances are in state ``states[k]`` throughout
    the open span ``(times[i], times[i + 1])``. At the instants in ``times`` the
    frame rule applies instead (see :meth:`World.at`); a zero-length interval adds to
    no span.
    """

    kind: str
    states: tuple[str, ...]
    """The kind's declared states, in declaration order."""
    times: NDArray[np.float64]
    """Every instant at which some instance starts or ends an interval, ascending."""
    counts: NDArray[np.int64]
    """Shape ``(len(states), len(times))``; the last column is all zeros."""

    @property
    def peak(self) -> int:
        """The most instances ever in a state at once (0 for a kind with no intervals)."""
        return int(self.counts.sum(axis=0).max()) if self.counts.size else 0


class _KindIndex:
    """One short-lived kind's instances in first-start order, flattened for the look-up."""

    def __init__(
        self,
        kind: ShortLivedKind,
        instances: list[tuple[int, str, NDArray[np.int64]]],
        starts: NDArray[np.float64],
        ends: NDArray[np.float64],
        states: list[str],
        columns: dict[str, list[AttributeValue]],
    ) -> None:
        """`instances` holds (number, name, rows sorted by start) per instance."""
        self.kind = kind
        self.columns = columns
        instances = sorted(instances, key=lambda item: (float(starts[item[2][0]]), item[0]))
        self.numbers = [number for number, _, _ in instances]
        self.names = [name for _, name, _ in instances]
        self.position = {name: k for k, name in enumerate(self.names)}
        lengths = [len(rows) for _, _, rows in instances]
        self.offsets = [0, *np.cumsum(lengths, dtype=np.int64).tolist()]
        rows = (
            np.concatenate([rows for _, _, rows in instances])
            if instances
            else np.zeros(0, np.int64)
        )
        self.rows_array = rows
        self.starts_array = np.ascontiguousarray(starts[rows], dtype=np.float64)
        self.ends_array = np.ascontiguousarray(ends[rows], dtype=np.float64)
        self.rows = rows.tolist()
        self.starts = self.starts_array.tolist()
        self.ends = self.ends_array.tolist()
        self.states = [states[row] for row in self.rows]
        self.first_starts = [self.starts[offset] for offset in self.offsets[:-1]]
        # An instance's intervals are in start order but may overlap in a hand-made
        # table, so its last end is the maximum, not the last interval's end.
        self.last_ends = [max(self.ends[a:b]) for a, b in itertools.pairwise(self.offsets)]
        self.reach = np.maximum.accumulate(self.last_ends).tolist() if instances else []

    def alive(self, time: float) -> tuple[ActorState, ...]:
        """The instances in a state at `time`, by instance number."""
        first = bisect_left(self.reach, time)  # everything before it ended before `time`
        stop = bisect_right(self.first_starts, time)  # everything from it starts after
        starts, ends, offsets, last_ends = self.starts, self.ends, self.offsets, self.last_ends
        columns = self.columns
        found: list[tuple[int, ActorState]] = []
        for k in range(first, stop):
            if last_ends[k] < time:
                continue
            low, high = offsets[k], offsets[k + 1]
            index = bisect_right(starts, time, low, high) - 1
            end = ends[index]
            if time > end:
                continue  # in a gap between two of its intervals
            start = starts[index]
            found.append(
                (
                    self.numbers[k],
                    ActorState(
                        self.names[k],
                        self.states[index],
                        start,
                        end,
                        _progress(time, start, end),
                        self.rows[index],
                        columns,
                    ),
                )
            )
        # First-start order is nearly number order (instances are numbered as they
        # appear), so this sort is close to linear.
        found.sort(key=lambda item: item[0])
        return tuple(state for _, state in found)

    def timeline(self, name: str) -> Timeline:
        k = self.position.get(name)
        if k is None:
            return _empty_timeline(name)
        low, high = self.offsets[k], self.offsets[k + 1]
        return Timeline(
            actor=name,
            starts=self.starts_array[low:high],
            ends=self.ends_array[low:high],
            states=tuple(self.states[low:high]),
            rows=self.rows_array[low:high],
        )

    def census(self) -> Census:
        states = self.kind.states
        times = np.unique(np.concatenate([self.starts_array, self.ends_array]))
        state_of = np.array([states.index(state) for state in self.states], dtype=np.int64)
        counts = np.zeros((len(states), len(times)), dtype=np.int64)
        for k in range(len(states)):
            mine = state_of == k
            # In the span after `times[i]`: intervals started at or before it minus those
            # ended at or before it (a zero-length interval cancels out).
            started = np.searchsorted(np.sort(self.starts_array[mine]), times, side="right")
            ended = np.searchsorted(np.sort(self.ends_array[mine]), times, side="right")
            counts[k] = started - ended
        return Census(kind=self.kind.kind, states=states, times=times, counts=counts)


class World:
    """Look-ups of every actor's state at any simulated time of one episode.

    Args:
        table: The episode's rows in (start, seq) order, in the event table's column layout.
        vocabulary: The table's vocabulary (actors, short-lived kinds, attribute names).
    """

    def __init__(self, table: pa.Table, vocabulary: Vocabulary) -> None:
        self.table = table
        self.vocabulary = vocabulary
        starts = table.column("start").to_numpy()
        ends = table.column("end").to_numpy()
        states = table.column("state").to_pylist()
        # Attributes become Python lists once: indexing a list is the cheapest per-frame read.
        self.columns: dict[str, list[AttributeValue]] = {
            name: table.column(name).to_pylist()
            for name in vocabulary.attribute_names
            if name in table.column_names
        }
        named: dict[str, NDArray[np.int64]] = {}
        instances: dict[str, list[tuple[int, str, NDArray[np.int64]]]] = {
            kind.kind: [] for kind in vocabulary.short_lived
        }
        for name, rows in _rows_by_actor(table, starts):
            declaration = _declaration(vocabulary, name)
            if isinstance(declaration, Actor):
                named[name] = rows
            elif declaration is not None:
                number = int(name[len(declaration.prefix) :])
                instances[declaration.kind].append((number, name, rows))
        self.timelines: tuple[Timeline, ...] = tuple(
            _timeline(actor, named.get(actor), starts, ends, states)
            for actor in vocabulary.actor_names
        )
        """The named actors' timelines, in vocabulary order (also those with no interval).
        Short-lived instances are not among them: see :meth:`timeline`, :meth:`instances`
        and :meth:`census`."""
        self._named = {timeline.actor: timeline for timeline in self.timelines}
        self._kinds = {
            kind.kind: _KindIndex(kind, instances[kind.kind], starts, ends, states, self.columns)
            for kind in vocabulary.short_lived
        }
        # Python lists for the per-frame searches: bisect on a list beats numpy per call.
        self._lookup = [
            (t.actor, t.starts.tolist(), t.ends.tolist(), t.states, t.rows.tolist())
            for t in self.timelines
            if len(t)
        ]

    def at(self, time: float) -> Frame:
        """Every actor's interval containing `time`, with its progress.

        Intervals are closed on both ends; where one interval ends and the next starts
        at `time`, the later one wins, so the last interval shows only at the very
        end (progress 1) — "the final state at the last instant". The same rule holds
        for named actors and short-lived instances.
        """
        states: dict[str, ActorState] = {}
        columns = self.columns
        for actor, starts, ends, names, rows in self._lookup:
            index = bisect_right(starts, time) - 1
            if index < 0:
                continue
            end = ends[index]
            if time > end:
                continue  # in a gap after a closed interval
            start = starts[index]
            states[actor] = ActorState(
                actor, names[index], start, end, _progress(time, start, end), rows[index], columns
            )
        short_lived = {kind: index.alive(time) for kind, index in self._kinds.items()}
        return Frame(time=time, states=states, short_lived=short_lived)

    def timeline(self, actor: str) -> Timeline:
        """The intervals of a named actor or of a short-lived instance (``customer_17``).

        An instance name of a declared kind that never occurs in the episode has an
        empty timeline, as does a named actor without rows. KeyError names the actors
        and the instance patterns if `actor` is neither.
        """
        timeline = self._named.get(actor)
        if timeline is not None:
            return timeline
        kind = self.vocabulary.kind_of(actor)
        if kind is None:
            patterns = [f"{k.prefix}<n>" for k in self.vocabulary.short_lived]
            raise KeyError(
                f"actor {actor!r} is not declared; actors: {list(self.vocabulary.actor_names)}"
                + (f", short-lived instances: {patterns}" if patterns else "")
            )
        return self._kinds[kind.kind].timeline(actor)

    def instances(self, kind: str) -> tuple[str, ...]:
        """The names of every instance of short-lived kind `kind` in the episode, by number;
        KeyError names the declared kinds."""
        index = self._kind(kind)
        return tuple(name for _, name in sorted(zip(index.numbers, index.names, strict=True)))

    def census(self, kind: str) -> Census:
        """How many instances of `kind` are in each state over time (a lane of counts for
        the timeline painter); KeyError names the declared kinds."""
        return self._kind(kind).census()

    def _kind(self, kind: str) -> _KindIndex:
        index = self._kinds.get(kind)
        if index is None:
            raise KeyError(
                f"short-lived kind {kind!r} is not declared; declared kinds: {sorted(self._kinds)}"
            )
        return index


def _progress(time: float, start: float, end: float) -> float:
    span = end - start
    return 1.0 if span <= 0.0 else min(max((time - start) / span, 0.0), 1.0)


def _declaration(vocabulary: Vocabulary, name: str) -> Actor | ShortLivedKind | None:
    try:
        return vocabulary.declaration(name)
    except KeyError:  # a validated table has no such row; a hand-made one is drawn without it
        return None


def _rows_by_actor(
    table: pa.Table, starts: NDArray[np.float64]
) -> list[tuple[str, NDArray[np.int64]]]:
    """Each actor's row indices, sorted by start (ties keep the table's order, i.e. seq)."""
    if table.num_rows == 0:
        return []
    encoded = table.column("actor").combine_chunks().dictionary_encode()
    codes = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    names = encoded.dictionary.to_pylist()
    # lexsort is stable: equal (actor, start) rows stay in table order, which the
    # "later interval wins" rule relies on.
    order = np.lexsort((starts, codes))
    bounds = [0, *(np.flatnonzero(np.diff(codes[order])) + 1).tolist(), len(order)]
    return [
        (names[int(codes[order[low]])], order[low:high].astype(np.int64))
        for low, high in itertools.pairwise(bounds)
    ]


def _timeline(
    actor: str,
    rows: NDArray[np.int64] | None,
    starts: NDArray[np.float64],
    ends: NDArray[np.float64],
    states: list[str],
) -> Timeline:
    if rows is None:
        return _empty_timeline(actor)
    return Timeline(
        actor=actor,
        starts=np.ascontiguousarray(starts[rows], dtype=np.float64),
        ends=np.ascontiguousarray(ends[rows], dtype=np.float64),
        states=tuple(states[int(row)] for row in rows),
        rows=rows,
    )


def _empty_timeline(actor: str) -> Timeline:
    return Timeline(
        actor=actor,
        starts=np.zeros(0, np.float64),
        ends=np.zeros(0, np.float64),
        states=(),
        rows=np.zeros(0, np.int64),
    )


@dataclass(frozen=True)
class WindowScene(Scene):
    """A :class:`Scene` that says which part of the episode its ``table`` holds.

    Why: a still or a window of a long episode reads only the rows that show in it
    (:mod:`schemas.windows`), so a painter must not take ``table`` for the whole episode
    when :attr:`window` is set. ``load_scene`` and ``read_scene`` always return one;
    painters that ignore :attr:`window` keep working (it is a Scene).
    """

    window: tuple[float, float] | None = None
    """None: ``table`` holds every row of the episode. (from, to): it holds exactly the
    intervals that show between those times (``start <= to`` and ``end >= from``), which
    is all :meth:`World.at` needs for any time in the window."""

    @property
    def shown(self) -> tuple[float, float]:
        """The span of simulated time whose intervals ``table`` holds in full."""
        return self.window if self.window is not None else (self.start_time, self.end_time)


def load_scene(table: EventTable, episode: int) -> tuple[Scene, World]:
    """The scene of `episode` and its look-ups; RenderError if the table has no such episode.

    `table` is a whole table (:func:`~schemas.events.read_events`) or one episode read
    by :meth:`~schemas.windows.EventFile.read`; the scene's :attr:`WindowScene.window`
    says which part of the episode it holds.
    """
    summary = _summary(table.metadata, table.path, episode)
    try:
        rows = table.episode(episode)
    except TableError as error:  # the metadata and rows disagree; read_events prevents it
        raise RenderError(str(error)) from None
    starts = rows.column("start").to_numpy()
    start_time = min(0.0, float(starts.min())) if len(starts) else 0.0
    end_time = float(summary.end_time)
    if not math.isfinite(end_time) or end_time <= start_time:
        raise RenderError(
            f"{table.path or 'the table'}: episode {episode} lasts no time "
            f"(end_time {end_time}); there is nothing to animate"
        )
    metadata = table.metadata
    scene = WindowScene(
        domain_id=metadata.domain_id,
        domain_version=metadata.domain_version,
        vocabulary=metadata.vocabulary,
        episode=summary,
        table=rows,
        start_time=start_time,
        end_time=end_time,
        provenance=metadata.provenance,
        window=None if table.selection is None else table.selection.window,
    )
    return scene, World(rows, metadata.vocabulary)


def read_scene(
    source: EventFile, episode: int, window: tuple[float, float] | None = None
) -> tuple[EventTable, Scene, World]:
    """Read what `window` = (from, to) of `episode` shows (all of it for None) and build
    its scene and look-ups: the cost follows the window, not the table
    (:mod:`schemas.windows`). RenderError if the table has no such episode.

    The window is clipped to the episode (a still or window outside it reads nothing;
    the caller's own checks then say why it cannot be drawn).
    """
    summary = _summary(source.metadata, source.path, episode)
    if window is not None:
        low, high = window
        end = summary.end_time
        window = (min(max(low, 0.0), end), min(max(high, 0.0), end))
        if window[0] > window[1]:
            window = (window[1], window[1])
    table = source.read(episode, window)
    scene, world = load_scene(table, episode)
    return table, scene, world


def _summary(metadata: TableMetadata, path: object, episode: int) -> EpisodeSummary:
    summary = metadata.episode(episode)
    if summary is None:
        numbers = [s.episode for s in metadata.episodes]
        raise RenderError(
            f"{path or 'the table'}: episode {episode} is not in the table, "
            f"which holds episodes {numbers}; choose one with --episode"
        )
    return summary


def numeric_attributes(vocabulary: Vocabulary) -> Sequence[str]:
    """Names of the int64 and float64 attributes (the ones a generic view can plot or print)."""
    return tuple(a.name for a in vocabulary.attributes if a.type in ("int64", "float64"))
