"""How many actors a timeline lane of counts holds in each state, over time and at an instant.

A lane of counts (:class:`~stages.render.lanes.Lane` with ``counts``) stands for a
short-lived kind's instances, for the named actors of one kind, or for everything the
busiest lanes leave out. It is drawn as a stacked chart of the count per state, so its
cost must not grow with the states either: past :data:`MOST_STACKED` states the ones
held longest are stacked and the rest share one band, :data:`OTHER`.

Rows are assigned to lanes once, with one dictionary look-up per distinct actor name
(an instance resolves to its kind by its prefix: everything up to its last ``_``), so
a table with thousands of instances costs no Python work per row.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

from schemas.vocabulary import ShortLivedKind, Vocabulary
from stages.render.lanes import Lane
from stages.render.paintkit import Frame
from stages.render.world import Census

OTHER: Final = "other states"
"""The band of the states a lane of counts does not stack one by one."""
MOST_STACKED: Final = 10
"""Bands a lane of counts stacks at most, :data:`OTHER` included."""


@dataclass(frozen=True)
class LaneCounts:
    """One lane of counts: its census over the episode and where each state is stacked."""

    census: Census
    """Counts per stacked band (``census.states``, bottom up; maybe ending in :data:`OTHER`)."""
    band: Mapping[str, int]
    """Each state of the lane's actors: the index of the band it is counted in."""


def _dictionary(column: pa.ChunkedArray) -> tuple[list[str], NDArray[np.int64]]:
    encoded = column.combine_chunks().dictionary_encode()
    codes = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    return [str(name) for name in encoded.dictionary.to_pylist()], codes


def _instance_kind(name: str, by_prefix: Mapping[str, ShortLivedKind]) -> ShortLivedKind | None:
    # Every prefix ends in "_" and an instance number has no "_": the prefix is the name
    # up to its last "_" (schemas/README.md, section 4.1).
    cut = name.rfind("_") + 1
    kind = by_prefix.get(name[:cut]) if cut else None
    return kind if kind is not None and kind.matches(name) else None


def row_lanes(table: pa.Table, vocabulary: Vocabulary, lanes: Sequence[Lane]) -> NDArray[np.int64]:
    """For each row of `table`, the index in `lanes` of the lane of counts that counts it,
    or -1 (a row of an actor with a lane of its own)."""
    if table.num_rows == 0:
        return np.zeros(0, np.int64)
    member = {name: j for j, lane in enumerate(lanes) for name in lane.members}
    kind_lane = {kind.kind: j for j, lane in enumerate(lanes) for kind in lane.kinds}
    by_prefix = {kind.prefix: kind for kind in vocabulary.short_lived}
    named = set(vocabulary.actor_names)
    names, codes = _dictionary(table.column("actor"))
    of_name = np.full(len(names), -1, np.int64)
    for index, name in enumerate(names):
        lane = member.get(name)
        if lane is None and name not in named:
            kind = _instance_kind(name, by_prefix)
            lane = kind_lane.get(kind.kind) if kind is not None else None
        if lane is not None:
            of_name[index] = lane
    return of_name[codes]


def _bands(states: Sequence[str], seconds: NDArray[np.float64]) -> tuple[list[str], list[int]]:
    """The stacked bands and, per state, its band: every state while they are few, else
    the states held longest (in declaration order) and :data:`OTHER`."""
    if len(states) <= MOST_STACKED:
        return list(states), list(range(len(states)))
    longest = sorted(range(len(states)), key=lambda k: (-float(seconds[k]), k))
    kept = sorted(longest[: MOST_STACKED - 1])
    position = {k: band for band, k in enumerate(kept)}
    other = len(kept)
    return [states[k] for k in kept] + [OTHER], [position.get(k, other) for k in range(len(states))]


def lane_counts(
    lane: Lane,
    states: Sequence[str],
    starts: NDArray[np.float64],
    ends: NDArray[np.float64],
    state_codes: NDArray[np.int64],
    state_names: Sequence[str],
) -> LaneCounts:
    """The census of `lane` from its rows: their starts, ends, and states as codes into
    `state_names`; `states` are the lane's possible states in declaration order."""
    slot_of = {state: k for k, state in enumerate(states)}
    code_slot = np.array([slot_of.get(name, -1) for name in state_names], np.int64)
    slots = code_slot[state_codes] if len(state_codes) else np.zeros(0, np.int64)
    known = slots >= 0  # a state not declared for the lane's actors: not counted
    starts, ends, slots = starts[known], ends[known], slots[known]
    seconds = np.bincount(slots, weights=ends - starts, minlength=len(states)).astype(np.float64)
    bands, band_of_slot = _bands(states, seconds)
    band = np.array(band_of_slot, np.int64)[slots] if len(slots) else np.zeros(0, np.int64)
    times = np.unique(np.concatenate([starts, ends]))
    counts = np.zeros((len(bands), len(times)), dtype=np.int64)
    for k in range(len(bands)):
        mine = band == k
        # In the span after `times[i]`: intervals started at or before it minus those
        # ended at or before it (a zero-length interval cancels out).
        started = np.searchsorted(np.sort(starts[mine]), times, side="right")
        ended = np.searchsorted(np.sort(ends[mine]), times, side="right")
        counts[k] = started - ended
    census = Census(kind=lane.name, states=tuple(bands), times=times, counts=counts)
    return LaneCounts(census, {state: band_of_slot[k] for k, state in enumerate(states)})


def count_lanes(
    table: pa.Table, vocabulary: Vocabulary, lanes: Sequence[Lane]
) -> dict[str, LaneCounts]:
    """The census of every lane of counts in `lanes`, by lane name."""
    assigned = row_lanes(table, vocabulary, lanes)
    starts = table.column("start").to_numpy()
    ends = table.column("end").to_numpy()
    if table.num_rows:
        state_names, state_codes = _dictionary(table.column("state"))
    else:
        state_names, state_codes = [], np.zeros(0, np.int64)
    found = {}
    for j, lane in enumerate(lanes):
        if not lane.counts:
            continue
        rows = np.flatnonzero(assigned == j)
        found[lane.name] = lane_counts(
            lane,
            lane.states(vocabulary),
            starts[rows],
            ends[rows],
            state_codes[rows],
            state_names,
        )
    return found


def column_means(census: Census, edges: NDArray[np.float64]) -> NDArray[np.float64]:
    """The mean count per state over each span ``[edges[j], edges[j + 1]]``.

    Shape ``(len(census.states), len(edges) - 1)``. Averaging over a pixel column's time
    span, rather than sampling one instant, keeps a rush shorter than a pixel visible in
    proportion to its length: the chart's area is the instance-seconds in each state.
    """
    times, counts = census.times, census.counts.astype(np.float64)
    if len(times) == 0:
        return np.zeros((len(census.states), len(edges) - 1))
    # Instance-seconds per state up to each census time, then up to each edge.
    steps = np.diff(times)
    integral = np.zeros_like(counts)
    integral[:, 1:] = np.cumsum(counts[:, :-1] * steps, axis=1)
    index = np.searchsorted(times, edges, side="right") - 1
    inside = index >= 0
    safe = np.clip(index, 0, None)
    at_edges = integral[:, safe] + counts[:, safe] * (edges - times[safe])
    at_edges[:, ~inside] = 0.0
    widths = np.diff(edges)
    return np.diff(at_edges, axis=1) / np.where(widths > 0, widths, 1.0)


class FrameCounter:
    """Counts, per lane of counts and band, the actors in a state at a frame's instant."""

    def __init__(self, lanes: Sequence[Lane], counts: Mapping[str, LaneCounts]) -> None:
        self._member = {name: lane.name for lane in lanes for name in lane.members}
        self._kind = {kind.kind: lane.name for lane in lanes for kind in lane.kinds}
        self._counts = counts

    def count(self, frame: Frame) -> dict[str, list[int]]:
        """Per lane name, the number of its actors in each band at ``frame.time``."""
        found = {name: [0] * len(c.census.states) for name, c in self._counts.items()}
        if self._member:
            for actor, state in frame.states.items():
                name = self._member.get(actor)
                if name is not None:
                    found[name][self._counts[name].band.get(state.state, 0)] += 1
        for kind, instances in frame.short_lived.items():
            name = self._kind.get(kind)
            if name is None:
                continue
            band, tally = self._counts[name].band, found[name]
            for instance in instances:
                tally[band.get(instance.state, 0)] += 1
        return found


def activity(table: pa.Table, vocabulary: Vocabulary) -> dict[str, int]:
    """Intervals per named actor, and per short-lived kind (all its instances', by the
    kind's name): how busy each lane would be, to rank lanes that do not all fit."""
    if table.num_rows == 0:
        return {}
    counted = pc.value_counts(table.column("actor"))
    names = counted.field("values").to_pylist()
    numbers = counted.field("counts").to_pylist()
    by_prefix = {kind.prefix: kind for kind in vocabulary.short_lived}
    named = set(vocabulary.actor_names)
    found: dict[str, int] = {}
    for name, number in zip(names, numbers, strict=True):
        key = name if name in named else None
        if key is None:
            kind = _instance_kind(str(name), by_prefix)
            key = kind.kind if kind is not None else None
        if key is not None:
            found[key] = found.get(key, 0) + int(number)
    return found
