"""The whole summary of an event table as one JSON-ready dict (the ``--json`` output)."""

from __future__ import annotations

import math
from typing import Any

from schemas.errors import ConfigError
from schemas.events import EventTable
from stages.inspect.counters import counters
from stages.inspect.levels import levels
from stages.inspect.shares import state_share
from stages.inspect.short_lived import short_lived
from stages.inspect.stalls import stalls


def summarise(events: EventTable, *, bucket_seconds: float = 60.0) -> dict[str, Any]:
    """A JSON-ready summary of `events`: every figure the text shows, and per-episode detail
    the text leaves out (``per_episode`` lists)."""
    if not (math.isfinite(bucket_seconds) and bucket_seconds > 0):
        raise ConfigError(f"bucket ({bucket_seconds}) must be a positive number of seconds")
    meta = events.metadata
    frame = events.to_polars()
    return {
        "path": str(events.path) if events.path else None,
        "schema_version": meta.schema_version,
        "migrated_from": meta.migrated_from,
        "domain": {
            "id": meta.domain_id,
            "version": meta.domain_version,
            "options": dict(meta.domain_options),
        },
        "rows": frame.height,
        "episodes": [summary.to_json() for summary in meta.episodes],
        "state_share": state_share(events, frame),
        "short_lived": short_lived(events, frame),
        "stalls": stalls(events, frame),
        "levels": levels(events, frame),
        "counters": counters(events, frame, bucket_seconds),
        "provenance": meta.provenance,
    }
