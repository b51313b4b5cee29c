"""The whole summary of an event table as one JSON-ready dict (the ``--json`` output).

One pass over the rows feeds every section (:mod:`stages.inspect.source`), so a table is
read once, a chunk at a time, whatever its size; a second pass runs only when some
buffer has too many distinct levels to count one by one (:class:`~stages.inspect.levels.Levels`).
"""

from __future__ import annotations

import math
from typing import Any

from schemas.errors import ConfigError
from schemas.events import EventTable
from schemas.scan import ScannedTable
from stages.inspect.counters import Counters
from stages.inspect.levels import Levels
from stages.inspect.shares import StateShares
from stages.inspect.short_lived import ShortLived
from stages.inspect.source import TableRows
from stages.inspect.stalls import Stalls


def summarise(events: EventTable | ScannedTable, *, bucket_seconds: float = 60.0) -> dict[str, Any]:
    """A JSON-ready summary of `events`: every figure the text shows, and per-episode detail
    the text leaves out (``per_episode`` lists).

    `events` is a table read whole (:func:`~schemas.events.read_events`) or a file opened
    for one checked pass (:func:`~schemas.scan.scan_events`: memory bounded by a chunk).
    """
    if not (math.isfinite(bucket_seconds) and bucket_seconds > 0):
        raise ConfigError(f"bucket ({bucket_seconds}) must be a positive number of seconds")
    rows = TableRows(events)
    meta = rows.metadata
    shares, short_lived, stalls = StateShares(meta), ShortLived(meta), Stalls(meta)
    levels, counters = Levels(meta), Counters(meta, bucket_seconds)
    sections = (shares, short_lived, stalls, levels, counters)
    count = 0
    for frame in rows.frames():
        count += frame.height
        for section in sections:
            section.add(frame)
    if levels.needs_second_pass():
        for frame in rows.frames():
            levels.add_bins(frame)
    return {
        "path": str(rows.path) if rows.path else None,
        "schema_version": meta.schema_version,
        "migrated_from": meta.migrated_from,
        "domain": {
            "id": meta.domain_id,
            "version": meta.domain_version,
            "options": dict(meta.domain_options),
        },
        "rows": count,
        "episodes": [summary.to_json() for summary in meta.episodes],
        "state_share": shares.result(),
        "short_lived": short_lived.result(),
        "stalls": stalls.result(),
        "levels": levels.result(),
        "counters": counters.result(),
        "provenance": meta.provenance,
    }
