"""The world at simulated time t, looked up in O(log n) per actor.

An episode's rows are split once into per-actor sorted arrays of interval starts
and ends. The state of an actor at ``t`` is then one ``np.searchsorted`` away (the
last interval starting at or before ``t``, if it has not ended before ``t``), so
a frame costs the same for a table of a hundred rows or a million: nothing scans
the log per frame.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
from numpy.typing import NDArray

from schemas.errors import RenderError, TableError
from schemas.events import EventTable
from schemas.vocabulary import Vocabulary
from stages.render.paintkit.scene import ActorState, AttributeValue, Frame, Scene


@dataclass(frozen=True)
class Timeline:
    """One actor's intervals in time order (rows of one episode)."""

    actor: str
    starts: NDArray[np.float64]
    """Sorted; the array :meth:`World.at` searches."""
    ends: NDArray[np.float64]
    states: tuple[str, ...]
    """State per interval."""
    rows: NDArray[np.int64]
    """Index of each interval in the episode's rows (for attribute look-ups)."""

    def __len__(self) -> int:
        return len(self.starts)


class World:
    """Look-ups of every actor's state at any simulated time of one episode.

    Args:
        table: The episode's rows in (start, seq) order, in the v1 column layout.
        vocabulary: The table's vocabulary (actor order, attribute names).
    """

    def __init__(self, table: pa.Table, vocabulary: Vocabulary) -> None:
        self.table = table
        self.vocabulary = vocabulary
        actor_column = np.asarray(table.column("actor").to_numpy(zero_copy_only=False))
        starts = table.column("start").to_numpy()
        ends = table.column("end").to_numpy()
        states = table.column("state").to_pylist()
        # Attributes become Python lists once: indexing a list is the cheapest per-frame read.
        self.columns: dict[str, list[AttributeValue]] = {
            name: table.column(name).to_pylist()
            for name in vocabulary.attribute_names
            if name in table.column_names
        }
        timelines = []
        for actor in vocabulary.actor_names:
            rows = np.flatnonzero(actor_column == actor).astype(np.int64)
            # Rows are ordered by (start, seq), so each actor's starts are already sorted;
            # a stable sort keeps that order for a table built by hand out of order.
            order = np.argsort(starts[rows], kind="stable")
            rows = rows[order]
            timelines.append(
                Timeline(
                    actor=actor,
                    starts=np.ascontiguousarray(starts[rows], dtype=np.float64),
                    ends=np.ascontiguousarray(ends[rows], dtype=np.float64),
                    states=tuple(states[int(row)] for row in rows),
                    rows=rows,
                )
            )
        self.timelines: tuple[Timeline, ...] = tuple(timelines)
        # Python-float copies for the scalar reads after each search (numpy scalars are slow).
        self._lookup = [
            (t.actor, t.starts, t.ends.tolist(), t.starts.tolist(), t.states, t.rows.tolist())
            for t in self.timelines
            if len(t)
        ]

    def at(self, time: float) -> Frame:
        """Every actor's interval containing `time`, with its progress.

        Intervals are closed on both ends; where one interval ends and the next starts
        at `time`, the later one wins, so the last interval shows only at the very
        end (progress 1) — "the final state at the last instant".
        """
        states: dict[str, ActorState] = {}
        columns = self.columns
        for actor, starts, ends, start_list, names, rows in self._lookup:
            index = int(np.searchsorted(starts, time, side="right")) - 1
            if index < 0:
                continue
            end = ends[index]
            if time > end:
                continue  # in a gap after a closed interval
            start = start_list[index]
            span = end - start
            progress = 1.0 if span <= 0.0 else min(max((time - start) / span, 0.0), 1.0)
            states[actor] = ActorState(
                actor, names[index], start, end, progress, rows[index], columns
            )
        return Frame(time=time, states=states)

    def timeline(self, actor: str) -> Timeline:
        """`actor`'s intervals; KeyError names the actors of the vocabulary."""
        for timeline in self.timelines:
            if timeline.actor == actor:
                return timeline
        raise KeyError(f"actor {actor!r} is not declared; actors: {self.vocabulary.actor_names}")


def load_scene(table: EventTable, episode: int) -> tuple[Scene, World]:
    """The scene of `episode` and its look-ups; RenderError if the table has no such episode."""
    summary = table.metadata.episode(episode)
    if summary is None:
        numbers = [s.episode for s in table.metadata.episodes]
        raise RenderError(
            f"{table.path or 'the table'}: episode {episode} is not in the table, "
            f"which holds episodes {numbers}; choose one with --episode"
        )
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
    scene = Scene(
        domain_id=metadata.domain_id,
        domain_version=metadata.domain_version,
        vocabulary=metadata.vocabulary,
        episode=summary,
        table=rows,
        start_time=start_time,
        end_time=end_time,
        provenance=metadata.provenance,
    )
    return scene, World(rows, metadata.vocabulary)


def numeric_attributes(vocabulary: Vocabulary) -> Sequence[str]:
    """Names of the int64 and float64 attributes (the ones a generic view can plot or print)."""
    return tuple(a.name for a in vocabulary.attributes if a.type in ("int64", "float64"))
