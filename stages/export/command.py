"""``simreel export``: an event table to an OCEL 2.0 file, for process-mining tools.

:func:`export_ocel` is the typed stage function, :func:`export_command` its thin click
wrapper. The export reads only the table (no simulation code: ``.importlinter``);
``schemas/OCEL.md`` specifies the mapping.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Final

import click
from tqdm import tqdm

from schemas.errors import ConfigError
from schemas.events import read_events
from stages.export.clock import DEFAULT_EPOCH, Clock, parse_epoch
from stages.export.mapping import build_log
from stages.export.model import OcelLog, Progress
from stages.export.ocel_json import write_json
from stages.export.ocel_sqlite import write_sqlite
from stages.export.references import choose_references, default_things
from stages.terminal import printable

FORMATS: Final[Mapping[str, str]] = {
    ".json": "json",
    ".jsonocel": "json",
    ".sqlite": "sqlite",
    ".sqlite3": "sqlite",
    ".db": "sqlite",
}
"""OCEL file extension (any case) -> format."""
WRITERS: Final[Mapping[str, Callable[[OcelLog, Path, Progress | None], None]]] = {
    "json": write_json,
    "sqlite": write_sqlite,
}


@dataclass(frozen=True)
class ExportOptions:
    """What to export, and where to."""

    table: Path
    """The event table to read."""
    ocel: Path
    """The OCEL file to write (replaced if it exists: the user named it); its extension
    chooses the format (:data:`FORMATS`)."""
    episode: int | None = None
    """The one episode to export; None exports all."""
    epoch: datetime = DEFAULT_EPOCH
    """Calendar time (UTC) of second 0 of the table's first episode."""
    objects: tuple[str, ...] | None = None
    """Attributes whose values are things (one object per value); None: the default
    (int64 ids that are neither quantities nor kinds, see ``schemas/OCEL.md``)."""

    def format(self) -> str:
        """``json`` or ``sqlite``; ConfigError for any other extension."""
        suffix = self.ocel.suffix.lower()
        if suffix not in FORMATS:
            raise ConfigError(
                f"--ocel {self.ocel}: unknown OCEL format {suffix or '(no extension)'!r}; "
                "name the file .json (OCEL 2.0 JSON) or .sqlite, .sqlite3, .db (OCEL 2.0 SQLite)"
            )
        return FORMATS[suffix]


@dataclass(frozen=True)
class ExportReport:
    """What an export wrote."""

    path: Path
    """The OCEL file written."""
    format: str
    """``json`` or ``sqlite``."""
    episodes: list[int]
    """The episodes exported."""
    counts: dict[str, int] = field(default_factory=dict)
    """Events, event types, objects, object types and relations written."""
    things: tuple[str, ...] = ()
    """The attributes whose values became objects."""
    note: str = ""
    """A caveat for the user (e.g. a schema v1 table's missing things), or empty."""


def export_ocel(options: ExportOptions, *, progress: bool = False) -> ExportReport:
    """Read `options.table`, map it to OCEL 2.0 and write `options.ocel`.

    Every user mistake (unknown extension, unreadable table, missing episode, bad
    ``--objects``) raises a SimreelError before anything is written. `progress` shows a
    bar of the rows written (events, relations, objects), on a terminal only.
    """
    fmt = options.format()
    if options.ocel.resolve() == options.table.resolve():
        raise ConfigError(
            f"--ocel {options.ocel} is the table being read; choose another file name"
        )
    events = read_events(options.table)
    metadata = events.metadata
    clock = Clock.for_episodes(metadata.episodes, options.epoch)
    references = choose_references(metadata, options.objects)
    log = build_log(events, episode=options.episode, clock=clock, references=references)
    bar = tqdm(
        total=log.events.height + log.relations.height + log.objects.height,
        desc=printable(options.ocel.name),
        unit="row",
        # None: show the bar only on a terminal, never in logs or captured output.
        disable=None if progress else True,
        leave=False,
    )
    with bar:
        WRITERS[fmt](log, options.ocel, bar.update)
    note = ""
    if options.objects is None and not default_things(metadata) and metadata.migrated_from:
        note = (
            f"schema v{metadata.migrated_from} table: it declares no quantities, so no "
            "attribute became a thing object; name id attributes with --objects (e.g. item)"
        )
    return ExportReport(
        path=options.ocel,
        format=fmt,
        episodes=[s.episode for s in metadata.episodes if options.episode in (None, s.episode)],
        counts=log.counts(),
        things=references.things,
        note=note,
    )


@click.command("export")
@click.argument("table", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--ocel",
    type=click.Path(path_type=Path, dir_okay=False),
    required=True,
    help="OCEL 2.0 file to write: .json (or .jsonocel) for JSON, .sqlite, .sqlite3 or .db "
    "for SQLite. Replaced if it exists.",
)
@click.option("--episode", type=int, default=None, help="Export only this episode (default: all).")
@click.option(
    "--epoch",
    default=DEFAULT_EPOCH.isoformat().replace("+00:00", "Z"),
    show_default=True,
    help="UTC date and time of second 0 of the first episode; episode i starts i days "
    "later (more if episodes are longer than a day).",
)
@click.option(
    "--objects",
    default=None,
    help="Comma-separated attributes whose values are objects of their own (e.g. item); "
    "'' for none. Default: int64 attributes that are neither quantities nor named like a kind.",
)
def export_command(
    table: Path, ocel: Path, episode: int | None, epoch: str, objects: str | None
) -> None:
    """Export an event table as an OCEL 2.0 object-centric event log (JSON or SQLite), for
    process-mining tools such as pm4py.

    Each interval becomes two events, `<kind>: enter <state>` and `<kind>: leave <state>`
    (or the episode's `episode end`); actors, the things they handle (items) and
    short-lived instances (customers) are objects, related to events with qualifiers;
    an actor's state and its levels are object attributes that change over time. Times
    are to the microsecond. The mapping is specified in schemas/OCEL.md.

    \b
    Example:
        simreel export data/events/factory.parquet --ocel data/ocel/factory.json
        simreel export data/events/cashier.parquet --ocel cashier.sqlite --episode 0
        simreel export TABLE --ocel log.json --epoch 2024-01-01T08:00:00Z --objects item
    """
    things = None if objects is None else tuple(n.strip() for n in objects.split(",") if n.strip())
    report = export_ocel(
        ExportOptions(
            table=table,
            ocel=ocel,
            episode=episode,
            epoch=parse_epoch(epoch),
            objects=things,
        ),
        progress=True,
    )
    counts = report.counts
    click.echo(
        printable(
            f"{report.path}: OCEL 2.0 {report.format}, {_episodes(report.episodes)}: "
            f"{counts['events']} events of {counts['event_types']} types, "
            f"{counts['objects']} objects of {counts['object_types']} types, "
            f"{counts['relations']} event-object relations"
            + (f"; thing attributes: {', '.join(report.things)}" if report.things else "")
        )
    )
    if report.note:
        click.echo(printable(report.note))


def _episodes(numbers: list[int]) -> str:
    """``episode 3``, ``episodes [0, 1, 2]``, or for many ``1078 episodes (0 to 1077)``."""
    if len(numbers) == 1:
        return f"episode {numbers[0]}"
    if len(numbers) <= 10:
        return f"episodes {numbers}"
    return f"{len(numbers)} episodes ({numbers[0]} to {numbers[-1]})"
