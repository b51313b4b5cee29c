"""Intervals to instants: the OCEL events and event-to-object relations of a table.

An interval [start, end) of an actor in a state becomes (``schemas/OCEL.md``, "Events"):

* ``<kind>: enter <state>`` at ``start``, carrying the row's attribute values;
* ``<kind>: leave <state>`` at ``end``, with the same values, unless the interval lasts
  until the episode ends: the recording stopped, the actor did not leave. Then its end
  is the episode's one ``episode end`` event, which relates to every actor still in a
  state and to what they held.

So each object's events bracket every interval it took part in: a lifetime or a state's
duration is the time between two of its events, exactly as in the table.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import polars as pl

from schemas.vocabulary import Declaration, Vocabulary
from stages.export.clock import as_timestamp
from stages.export.model import TypeDeclaration
from stages.export.references import EPISODE_TYPE, Slot, kinds
from stages.export.rows import ORDER, ends, episode_end, starts

END_TYPE: Final = "episode end"
"""Event type of the end of an episode (no kind has a space in its name: no clash)."""
ENTER: Final = "enter"
LEAVE: Final = "leave"


@dataclass(frozen=True)
class EventFrames:
    """The events in file order and their relations (with each object's type)."""

    events: pl.DataFrame
    """``id``, ``type``, ``time``, then the attribute columns."""
    relations: pl.DataFrame
    """``event_index`` (the event's row in ``events``), ``event_id``, ``object_id``,
    ``qualifier``, ``object_type``, ``episode``."""


def build_events(
    rows: pl.DataFrame,
    episodes: pl.DataFrame,
    attributes: Sequence[str],
    slots: Sequence[Slot],
) -> EventFrames:
    """Enter, leave and episode-end events of `rows` (:func:`~stages.export.rows.prepare_rows`)
    and `episodes` (:func:`~stages.export.rows.episode_frame`), and their relations to the
    objects `slots` name."""
    ids = [f"_id{i}" for i in range(len(slots))]
    types = [f"_type{i}" for i in range(len(slots))]
    rows = rows.with_columns(
        *(slot.object_id.alias(name) for slot, name in zip(slots, ids, strict=True)),
        *(slot.object_type.alias(name) for slot, name in zip(slots, types, strict=True)),
    )
    carried = ["episode", *attributes, *ids, *types]
    enter = rows.select(
        *starts(),
        *carried,
        id=pl.format("ep{}/{}/" + ENTER, pl.col("episode"), pl.col("seq")),
        type=pl.format("{}: " + ENTER + " {}", pl.col("kind"), pl.col("state")),
    )
    leave = rows.filter(~pl.col("open")).select(
        *ends(),
        *carried,
        id=pl.format("ep{}/{}/" + LEAVE, pl.col("episode"), pl.col("seq")),
        type=pl.format("{}: " + LEAVE + " {}", pl.col("kind"), pl.col("state")),
    )
    finales = episodes.with_columns(seq=pl.lit(-1, pl.Int64)).select(
        *episode_end(),
        "episode",
        id=pl.format("ep{}", pl.col("episode")),
        type=pl.lit(END_TYPE),
    )
    instants = (
        pl.concat([enter, leave, finales], how="diagonal").sort(ORDER).with_row_index("order")
    )
    events = instants.select(
        "id", "type", as_timestamp(pl.col("time_us")).alias("time"), *attributes
    )
    return EventFrames(events=events, relations=_relations(instants, rows, slots))


def _relations(instants: pl.DataFrame, rows: pl.DataFrame, slots: Sequence[Slot]) -> pl.DataFrame:
    """One row per (event, object, qualifier), grouped by event in file order: each
    event's slots in slot order; an episode end relates to its episode, then to what
    every interval still open held (each object and qualifier once)."""
    finales = instants.filter(pl.col("type") == END_TYPE)
    still_open = rows.filter(pl.col("open")).join(finales.select("episode", "order"), on="episode")
    moments = instants.filter(pl.col("type") != END_TYPE).with_columns(seq=pl.lit(-1, pl.Int64))
    ending = [
        finales.select(
            "order",
            pl.lit(-1, pl.Int64).alias("seq"),
            pl.lit(-1, pl.Int32).alias("slot"),
            "episode",
            object_id="id",
            qualifier=pl.lit("episode"),
            object_type=pl.lit(EPISODE_TYPE),
        )
    ]
    parts = []
    for i, slot in enumerate(slots):
        columns = [
            "order",
            "seq",
            pl.lit(i, pl.Int32).alias("slot"),
            "episode",
            pl.col(f"_id{i}").alias("object_id"),
            pl.lit(slot.qualifier).alias("qualifier"),
            pl.col(f"_type{i}").alias("object_type"),
        ]
        parts.append(moments.select(columns).filter(pl.col("object_id").is_not_null()))
        ending.append(still_open.select(columns).filter(pl.col("object_id").is_not_null()))
    # Only an episode's end can name one object twice with one qualifier (two open
    # intervals holding the same thing); an enter or leave event has distinct qualifiers.
    parts.append(
        pl.concat(ending)
        .sort("order", "seq", "slot")
        .unique(["order", "object_id", "qualifier"], keep="first", maintain_order=True)
    )
    relations = pl.concat(parts).sort("order", "seq", "slot")
    event_ids = instants.get_column("id").gather(relations.get_column("order"))
    return relations.select(
        event_index=pl.col("order"),
        event_id=event_ids,
        object_id="object_id",
        qualifier="qualifier",
        object_type="object_type",
        episode="episode",
    )


def event_types(rows: pl.DataFrame, vocabulary: Vocabulary) -> tuple[TypeDeclaration, ...]:
    """The event types that occur, in vocabulary order (kinds, then their states; enter
    before leave), each with the attributes its rows ever hold; ``episode end`` last."""
    attributes = vocabulary.attributes
    present = {
        (row["kind"], row["state"]): row
        for row in rows.group_by("kind", "state")
        .agg(
            *(pl.col(a.name).is_not_null().any() for a in attributes),
            _left=(~pl.col("open")).any(),
        )
        .iter_rows(named=True)
    }
    states: dict[str, dict[str, None]] = {kind: {} for kind in kinds(vocabulary)}
    declarations: tuple[Declaration, ...] = (*vocabulary.actors, *vocabulary.short_lived)
    for declaration in declarations:
        kind = declaration.kind
        states[kind].update(dict.fromkeys(declaration.states))
    declared = []
    for kind, kind_states in states.items():
        for state in kind_states:
            row = present.get((kind, state))
            if row is None:
                continue
            held = tuple((a.name, a.type) for a in attributes if row[a.name])
            declared.append(TypeDeclaration(f"{kind}: {ENTER} {state}", held))
            if row["_left"]:
                declared.append(TypeDeclaration(f"{kind}: {LEAVE} {state}", held))
    return (*declared, TypeDeclaration(END_TYPE))
