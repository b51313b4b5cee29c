"""The ``simreel inspect`` command line."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import click

from schemas.scan import scan_events
from stages.inspect.summary import summarise
from stages.inspect.text import format_text


@click.command("inspect")
@click.argument("table", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print the summary as JSON for scripts, with per-episode detail (NaN and "
    "infinite figures as null).",
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

    Every row is checked as the table is read, a chunk at a time, so memory stays
    bounded whatever the table's size; a broken table gives one line and exit code 2.
    Counters are bucketed by --bucket seconds, widened to a round number for long
    episodes so that no episode has more than 60 buckets.
    Tables of many episodes are summarised per actor over all episodes (mean and
    range); the per-episode figures are in --json.

    \b
    Example:
        simreel inspect data/events/factory.parquet
        simreel inspect data/fixtures/factory-v1.parquet --json | jq .episodes
        simreel inspect data/events/factory.parquet --json | jq .levels.actors.buffer_a.per_episode
    """
    # Streamed: every row is checked, a chunk at a time, so memory stays bounded.
    summary = summarise(scan_events(table), bucket_seconds=bucket)
    if as_json:
        click.echo(json.dumps(_strict(summary), indent=2, allow_nan=False))
    else:
        click.echo(format_text(summary))


def _strict(value: Any) -> Any:
    """`value` with NaN and infinite floats as None: strict JSON, which every parser reads
    (a float attribute may hold anything, and a mean of it then too)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: _strict(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_strict(item) for item in value]
    return value
