"""The ``simreel inspect`` command line."""

from __future__ import annotations

import json
from pathlib import Path

import click

from schemas.events import read_events
from stages.inspect.summary import summarise
from stages.inspect.text import format_text


@click.command("inspect")
@click.argument("table", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print the summary as JSON for scripts, with per-episode detail.",
)
@click.option(
    "--bucket",
    type=float,
    default=60.0,
    show_default=True,
    help="Seconds per time bucket of the counters (e.g. items finished per minute).",
)
def inspect_command(table: Path, as_json: bool, bucket: float) -> None:
    """Summarise an event table: episodes, KPIs, time per state, short-lived kinds, stalled
    time and what it waited for, buffer levels, counters.

    The table is checked fully first; a broken table gives one line and exit code 2.
    Tables of many episodes are summarised per actor over all episodes (mean and
    range); the per-episode figures are in --json.

    \b
    Example:
        simreel inspect data/events/factory.parquet
        simreel inspect data/fixtures/factory-v1.parquet --json | jq .episodes
        simreel inspect data/events/factory.parquet --json | jq .levels.actors.buffer_a.per_episode
    """
    summary = summarise(read_events(table), bucket_seconds=bucket)
    if as_json:
        click.echo(json.dumps(summary, indent=2))
    else:
        click.echo(format_text(summary))
