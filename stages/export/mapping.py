"""An event table to an OCEL 2.0 log in memory: the whole mapping, step by step.

The steps are one module each: :mod:`~stages.export.rows` (what each row needs to know
about its neighbours), :mod:`~stages.export.references` (which objects a row names),
:mod:`~stages.export.events` (intervals to instants), :mod:`~stages.export.objects`
(objects and their changing attributes). ``schemas/OCEL.md`` is the specification.
"""

from __future__ import annotations

import polars as pl

from schemas.errors import TableError
from schemas.events import EventTable
from stages.export.clock import Clock
from stages.export.events import build_events, event_types
from stages.export.model import OcelLog
from stages.export.objects import build_objects
from stages.export.references import EPISODE_TYPE, References, kind_of, kinds
from stages.export.rows import episode_frame, prepare_rows


def build_log(
    events: EventTable, *, episode: int | None, clock: Clock, references: References
) -> OcelLog:
    """The OCEL log of `events` (of one episode, or of all for None).

    TableError if `episode` is not in the table, or a kind is named like the export's
    episode object type.
    """
    metadata = events.metadata
    vocabulary = metadata.vocabulary
    if episode is not None:
        events.episode(episode)  # TableError naming the episodes the table has
    if EPISODE_TYPE in kinds(vocabulary):
        raise TableError(
            events.path or "<event table>",
            f"its vocabulary has a kind named {EPISODE_TYPE!r}, the OCEL object type simreel "
            "gives each episode",
            "rename that kind in the domain's vocabulary to export the table",
        )
    summaries = [s for s in metadata.episodes if episode is None or s.episode == episode]
    rows = prepare_rows(events, summaries, clock)
    episodes = episode_frame(summaries, clock)
    references = _naming_actors(rows, references, events)
    frames = build_events(
        rows, episodes, list(vocabulary.attribute_names), references.slots(vocabulary)
    )
    objects = build_objects(rows, frames.relations, episodes, summaries, vocabulary)
    present = set(frames.events.get_column("type").unique().to_list())
    return OcelLog(
        event_types=tuple(t for t in event_types(rows, vocabulary) if t.name in present),
        object_types=objects.object_types,
        events=frames.events,
        relations=frames.relations.select("event_index", "event_id", "object_id", "qualifier"),
        objects=objects.objects,
        object_values=objects.object_values,
        links=objects.links,
    )


def _naming_actors(rows: pl.DataFrame, references: References, events: EventTable) -> References:
    """`references` less the string attributes none of whose values is an actor's name
    (checked over distinct values: no relation column for nothing)."""
    vocabulary = events.metadata.vocabulary
    naming = tuple(
        name
        for name in references.actor_names
        if rows.select(kind_of(pl.col(name).unique(), vocabulary).is_not_null().any()).item()
    )
    return References(instances=references.instances, actor_names=naming, things=references.things)
