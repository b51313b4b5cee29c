"""The OCEL 2.0 log an export builds, in memory, before either writer serialises it.

One representation for both formats keeps them identical by construction: the JSON and
the SQLite writer only lay out these frames (``schemas/OCEL.md`` says what each holds).
Frames are polars, so nothing here is a Python object per event.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Final

import polars as pl

from schemas.vocabulary import AttributeType

JSON_TYPES: Final[Mapping[AttributeType, str]] = {
    "int64": "integer",
    "float64": "float",
    "string": "string",
    "bool": "boolean",
}
"""OCEL 2.0 JSON attribute type of each event table attribute type."""
SQLITE_TYPES: Final[Mapping[AttributeType, str]] = {
    "int64": "INTEGER",
    "float64": "REAL",
    "string": "TEXT",
    "bool": "BOOLEAN",
}
"""OCEL 2.0 SQLite column type of each event table attribute type."""

Progress = Callable[[int], None]
"""A writer calls it with the number of events or objects it has just written."""


@dataclass(frozen=True)
class TypeDeclaration:
    """An event type or object type and the attributes its events or objects may carry."""

    name: str
    attributes: tuple[tuple[str, AttributeType], ...] = ()
    """(attribute name, its event-table type), in column order."""


@dataclass(frozen=True)
class OcelLog:
    """An object-centric event log: what an OCEL 2.0 file holds, format aside."""

    event_types: tuple[TypeDeclaration, ...]
    object_types: tuple[TypeDeclaration, ...]
    events: pl.DataFrame
    """``id``, ``type``, ``time`` (UTC, microseconds), then one column per event attribute
    (null where an event has no value); in time order, as written."""
    relations: pl.DataFrame
    """Event-to-object relations: ``event_index`` (the event's row in :attr:`events`),
    ``event_id``, ``object_id``, ``qualifier``; sorted by ``event_index``, no (event,
    object, qualifier) twice."""
    objects: pl.DataFrame
    """``id``, ``type``, in order of first appearance."""
    object_values: Mapping[str, pl.DataFrame]
    """Per object type: ``id``, ``time``, ``changed_field``, then one column per attribute
    of the type. Each object has one row with ``changed_field`` null (its values from
    ``time`` on), then one row per change, naming the attribute that changed."""
    links: pl.DataFrame
    """Object-to-object relations: ``source_id``, ``target_id``, ``qualifier``."""

    def counts(self) -> dict[str, int]:
        """Sizes for the command's one-line report."""
        return {
            "events": self.events.height,
            "event_types": len(self.event_types),
            "objects": self.objects.height,
            "object_types": len(self.object_types),
            "relations": self.relations.height,
        }
