"""What a rendered movie or picture records about its own making, in its own metadata.

A movie or a still travels without its event table (mailed, pasted into a report),
so the file itself says which table it shows (file name and sha256), which schema,
domain and episode, how that table was recorded (seed, policy, model digest) and
which simreel drew it. The record is compact JSON, ASCII only, so every metadata
container holds it unchanged: the MP4 ``comment`` tag and a PNG ``Comment`` text
chunk. A one-line ``title`` beside it is what players and file browsers show.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from schemas.events import EventTable
from schemas.provenance import sha256_file, simreel_version
from stages.terminal import printable

ViewValue = float | int | bool


def recorded_essentials(provenance: Mapping[str, Any]) -> dict[str, Any]:
    """The parts of a table's own provenance that identify the recording: its seed, the
    policy's kind, for a trained model the model file's sha256, and the recording's
    simreel version, commit and time (only those the table has; a hand-made table may
    have none). Not the model's path: it names a folder on the recording machine."""
    essentials: dict[str, Any] = {}
    if "seed" in provenance:
        essentials["seed"] = provenance["seed"]
    policy = provenance.get("policy")
    if isinstance(policy, Mapping):
        if "kind" in policy:
            essentials["policy"] = policy["kind"]
        if "sha256" in policy:
            essentials["model_sha256"] = policy["sha256"]
    for key in ("simreel_version", "git_commit", "created_at"):
        if key in provenance:
            essentials[key] = provenance[key]
    return essentials


def render_record(
    table: EventTable,
    source: Path,
    *,
    episode: int,
    painter: str,
    view: Mapping[str, ViewValue],
) -> dict[str, Any]:
    """The provenance of a picture or movie of `episode` of `table` (read from `source`).

    `view` says what was drawn: ``{"still": t}``, ``{"gantt": True}`` or the movie's
    window, frame rate and speed.
    """
    return {
        "simreel_version": simreel_version(),
        **episode_record(table, source, episode=episode),
        "domain": domain_record(table),
        "painter": painter,
        "view": dict(view),
    }


def episode_record(table: EventTable, source: Path, *, episode: int) -> dict[str, Any]:
    """Which table (file name, sha256, schema version) and episode a picture shows, and how
    that table was recorded."""
    metadata = table.metadata
    summary = metadata.episode(episode)
    return {
        "table": table_record(table, source),
        "episode": episode,
        "episode_seed": summary.seed if summary is not None else None,
        "recorded": recorded_essentials(metadata.provenance),
    }


def table_record(table: EventTable, source: Path) -> dict[str, Any]:
    """The table's file name, sha256 and the schema version the file holds (an older
    table is migrated on reading)."""
    metadata = table.metadata
    return {
        "file": source.name,
        "sha256": sha256_file(source),
        "schema_version": (
            metadata.schema_version if metadata.migrated_from is None else metadata.migrated_from
        ),
    }


def domain_record(table: EventTable) -> dict[str, Any]:
    """The table's domain id and version, and its options when it has any."""
    metadata = table.metadata
    domain: dict[str, Any] = {"id": metadata.domain_id, "version": metadata.domain_version}
    if metadata.domain_options:
        domain["options"] = dict(metadata.domain_options)
    return domain


def side_by_side_record(
    panels: Sequence[tuple[EventTable, Path, int]],
    *,
    painter: str,
    view: Mapping[str, ViewValue],
) -> dict[str, Any]:
    """The provenance of a side-by-side picture or movie: per side (A, then B) what
    :func:`episode_record` says, with the side's domain (two variants of one domain may
    be compared), then the painter and the view (the one clock's window, or the still)."""
    return {
        "simreel_version": simreel_version(),
        "side_by_side": [
            {**episode_record(table, source, episode=episode), "domain": domain_record(table)}
            for table, source, episode in panels
        ],
        "domain": domain_record(panels[0][0]),
        "painter": painter,
        "view": dict(view),
    }


def title(record: Mapping[str, Any]) -> str:
    """One line for players and file browsers: domain, episode, what was drawn, the table
    (both sides' for a side-by-side record)."""
    view = record["view"]
    if "still" in view:
        what = f"at t = {view['still']:g} s"
    elif view.get("gantt"):
        what = "timeline"
    else:
        what = f"from {view['from']:g} s to {view['to']:g} s"
    domain = record["domain"]["id"]
    sides = record.get("side_by_side")
    if sides:
        first, second = sides[0], sides[1]
        line = (
            f"simreel: {domain} episode {first['episode']} vs episode {second['episode']} "
            f"{what} ({first['table']['file']} vs {second['table']['file']})"
        )
    else:
        line = f"simreel: {domain} episode {record['episode']} {what} ({record['table']['file']})"
    # The domain id and file names may hold anything; a NUL cannot even be passed to ffmpeg.
    return printable(line)


def _compact(record: Mapping[str, Any]) -> str:
    return json.dumps(record, separators=(",", ":"), ensure_ascii=True, allow_nan=False)


def mp4_tags(record: Mapping[str, Any]) -> dict[str, str]:
    """The record as MP4 tags (``ffmpeg -metadata``): ``title``, and ``comment`` holding
    the record as compact JSON. Both are standard iTunes-style tags (``©nam``, ``©cmt``)
    that ffprobe, players and file browsers read."""
    return {"title": title(record), "comment": _compact(record)}


def png_text(record: Mapping[str, Any]) -> dict[str, str]:
    """The record as PNG text entries under the registered keywords ``Title``,
    ``Software`` and ``Comment`` (the compact JSON)."""
    return {
        "Title": title(record),
        "Software": f"simreel {record['simreel_version']}",
        "Comment": _compact(record),
    }
