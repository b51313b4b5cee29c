"""``simreel inspect TABLE``: what happened in a recording, summarised with polars.

Works for any domain, reading only the table and its metadata: the episodes with
their KPIs, each named actor's share of time per state, the short-lived kinds (how
many instances, how long they lived, how they spent their lives), how counters rose
over time, and the provenance. Counters are the actors whose vocabulary ``kind`` is
``"counter"`` (the factory's ``finished``); their value is their first quantity
attribute that holds values (first numeric attribute in tables without quantities),
and the summary shows by how much it rose in each time bucket (a minute by default).

Instances of short-lived kinds are summarised per kind, never one by one: a table
may hold thousands of customers. Everything is computed with polars group-bys, so
the cost does not grow with Python work per row or per instance.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Final

import click
import polars as pl

from schemas.errors import ConfigError
from schemas.events import EventTable, read_events

COUNTER_KIND: Final = "counter"
"""Vocabulary ``kind`` of actors whose numeric attribute counts something up."""
_NUMERIC: Final = ("int64", "float64")
_MAX_TEXT_EPISODES: Final = 10
"""Episodes listed in the text summary (``--json`` lists all)."""


def summarise(events: EventTable, *, bucket_seconds: float = 60.0) -> dict[str, Any]:
    """A JSON-ready summary of `events` (the ``--json`` output)."""
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
        "state_share": _state_share(events, frame),
        "short_lived": _short_lived(events, frame),
        "counters": _counters(events, frame, bucket_seconds),
        "provenance": meta.provenance,
    }


def _state_share(events: EventTable, frame: pl.DataFrame) -> dict[str, dict[str, float]]:
    """Per named actor, the fraction of all episodes' simulated time spent in each state.

    Instances of short-lived kinds are left out here (see :func:`_short_lived`)."""
    total = sum(summary.end_time for summary in events.metadata.episodes)
    named = list(events.metadata.vocabulary.actor_names)
    seconds = {
        (row["actor"], row["state"]): row["seconds"]
        for row in frame.filter(pl.col("actor").is_in(named))
        .group_by("actor", "state")
        .agg(seconds=(pl.col("end") - pl.col("start")).sum())
        .iter_rows(named=True)
    }
    return {
        actor.name: {
            state: (seconds.get((actor.name, state), 0.0) / total if total > 0 else 0.0)
            for state in actor.states
        }
        for actor in events.metadata.vocabulary.actors
    }


def _short_lived(events: EventTable, frame: pl.DataFrame) -> dict[str, dict[str, Any]]:
    """Per short-lived kind: its instances (in all and per episode), their mean lifetime and
    the share of their lifetimes spent in each state.

    An instance is one actor name in one episode; its lifetime runs from the start of its
    first interval to the end of its last (gaps count as "no state"). Shares divide the
    seconds in a state by the sum of all the kind's lifetimes.
    """
    kinds = events.metadata.vocabulary.short_lived
    if not kinds:
        return {}
    # Resolve each distinct actor name once, then join: the regexes run over the names,
    # not over every row.
    resolved = pl.lit(None, dtype=pl.String)
    for kind in kinds:  # a name matches at most one kind, so the order is moot
        resolved = (
            pl.when(pl.col("actor").str.contains(kind.pattern))
            .then(pl.lit(kind.kind))
            .otherwise(resolved)
        )
    names = (
        frame.select(pl.col("actor").unique())
        .with_columns(kind=resolved)
        .filter(pl.col("kind").is_not_null())
    )
    rows = frame.select("episode", "actor", "state", "start", "end").join(names, on="actor")
    instances = rows.group_by("kind", "episode", "actor").agg(
        lifetime=pl.col("end").max() - pl.col("start").min()
    )
    totals = {
        row["kind"]: row
        for row in instances.group_by("kind")
        .agg(
            instances=pl.len(),
            mean_lifetime=pl.col("lifetime").mean(),
            lifetimes=pl.col("lifetime").sum(),
        )
        .iter_rows(named=True)
    }
    per_episode = {
        (row["kind"], row["episode"]): row["instances"]
        for row in instances.group_by("kind", "episode")
        .agg(instances=pl.len())
        .iter_rows(named=True)
    }
    seconds = {
        (row["kind"], row["state"]): row["seconds"]
        for row in rows.group_by("kind", "state")
        .agg(seconds=(pl.col("end") - pl.col("start")).sum())
        .iter_rows(named=True)
    }
    result: dict[str, dict[str, Any]] = {}
    for kind in kinds:
        total = totals.get(kind.kind, {"instances": 0, "mean_lifetime": None, "lifetimes": 0.0})
        lifetimes = total["lifetimes"]
        result[kind.kind] = {
            "prefix": kind.prefix,
            "pattern": kind.pattern,
            "instances": total["instances"],
            "per_episode": [
                {"episode": s.episode, "instances": per_episode.get((kind.kind, s.episode), 0)}
                for s in events.metadata.episodes
            ],
            "mean_lifetime": total["mean_lifetime"],
            "state_share": {
                state: (seconds.get((kind.kind, state), 0.0) / lifetimes if lifetimes > 0 else 0.0)
                for state in kind.states
            },
        }
    return result


def _counters(events: EventTable, frame: pl.DataFrame, bucket: float) -> dict[str, Any]:
    """Per counter actor and episode, the rise of its value in each time bucket."""
    vocabulary = events.metadata.vocabulary
    # A declared quantity is the counter's value for sure; an id (an item number) is
    # not, so plain numeric attributes come last (tables older than v2 have no quantities).
    numeric = [
        *vocabulary.quantities,
        *(a.name for a in vocabulary.attributes if a.type in _NUMERIC and not a.quantity),
    ]
    result: dict[str, Any] = {}
    for actor in vocabulary.actors:
        if actor.kind != COUNTER_KIND:
            continue
        rows = frame.filter(pl.col("actor") == actor.name)
        value = next((name for name in numeric if rows[name].null_count() < rows.height), None)
        if value is None:
            continue
        rises = (
            rows.sort("episode", "start", "seq")
            .with_columns(
                bucket=(pl.col("start") // bucket).cast(pl.Int64),
                # The first interval holds the starting value, not a rise.
                rise=(pl.col(value) - pl.col(value).shift(1)).over("episode").fill_null(0),
            )
            .group_by("episode", "bucket")
            .agg(pl.col("rise").sum())
        )
        found = {(r["episode"], r["bucket"]): r["rise"] for r in rises.iter_rows(named=True)}
        per_episode = []
        for summary in events.metadata.episodes:
            buckets = max(1, math.ceil(summary.end_time / bucket))
            counts = [found.get((summary.episode, b), 0) for b in range(buckets)]
            # A change at exactly end_time (an item finished at t = 300) joins the last bucket.
            counts[-1] += sum(
                v for (e, b), v in found.items() if e == summary.episode and b >= buckets
            )
            per_episode.append({"episode": summary.episode, "rises": counts})
        result[actor.name] = {
            "attribute": value,
            "bucket_seconds": bucket,
            "per_episode": per_episode,
        }
    return result


def format_text(summary: dict[str, Any]) -> str:
    """The human-readable form of :func:`summarise`'s result."""
    options = summary["domain"].get("options") or {}
    lines = [
        f"{summary['path']}: simreel.events v{summary['schema_version']}"
        + (f" (migrated from v{summary['migrated_from']})" if summary["migrated_from"] else "")
        + f", domain {summary['domain']['id']} v{summary['domain']['version']}"
        + (f" ({_flat(options)})" if options else "")
        + f", {len(summary['episodes'])} episode(s), {summary['rows']} intervals",
        "",
        "Episodes",
    ]
    episodes = summary["episodes"]
    kpi_names = sorted({name for episode in episodes for name in episode["kpis"]})
    header = ["episode", "seed", "reward", *kpi_names, "rows", "end"]
    table = [
        [
            str(e["episode"]),
            "-" if e["seed"] is None else str(e["seed"]),
            f"{e['total_reward']:.2f}",
            *(_number(e["kpis"].get(name)) for name in kpi_names),
            str(e["rows"]),
            f"{e['end_time']:g}s",
        ]
        for e in episodes[:_MAX_TEXT_EPISODES]
    ]
    lines += _columns([header, *table])
    if len(episodes) > _MAX_TEXT_EPISODES:
        lines.append(f"  ... and {len(episodes) - _MAX_TEXT_EPISODES} more (see --json)")
    lines += ["", "Share of simulated time per actor and state (all episodes)"]
    share_rows = []
    for actor, shares in summary["state_share"].items():
        rest = max(0.0, 1.0 - sum(shares.values()))
        cells = [f"{state} {share:6.1%}" for state, share in shares.items()]
        if rest >= 0.0005:
            cells.append(f"(no state {rest:.1%})")
        share_rows.append([actor, *cells])
    lines += _columns(share_rows)
    lines += _short_lived_text(summary.get("short_lived", {}))
    for actor, counter in summary["counters"].items():
        bucket = counter["bucket_seconds"]
        lines += ["", f"{actor} ({counter['attribute']}) rise per {bucket:g}s bucket"]
        per_episode = counter["per_episode"]
        width = max((len(e["rises"]) for e in per_episode), default=0)
        header = ["episode", *(f"{_number(b * bucket)}-" for b in range(width)), "total"]
        rows = [
            [str(e["episode"]), *(_number(v) for v in e["rises"]), _number(sum(e["rises"]))]
            for e in per_episode[:_MAX_TEXT_EPISODES]
        ]
        lines += _columns([header, *rows])
    lines += ["", "Provenance"]
    for key, value in summary["provenance"].items():
        lines.append(f"  {key}: {_flat(value)}")
    return "\n".join(lines)


def _short_lived_text(kinds: dict[str, dict[str, Any]]) -> list[str]:
    """Two lines per kind, whatever the number of instances or episodes."""
    if not kinds:
        return []
    lines = ["", "Short-lived actors (all episodes; shares of the instances' lifetimes)"]
    for kind, data in kinds.items():
        counts = [e["instances"] for e in data["per_episode"]]
        if len(counts) > 1:
            spread = (
                f"per episode min {min(counts)}, mean {_number(sum(counts) / len(counts))}, "
                f"max {max(counts)}"
            )
        else:
            spread = "in one episode" if counts else "no episodes"
        lifetime = data["mean_lifetime"]
        lines.append(
            f"  {kind} ({data['prefix']}<n>): {data['instances']} instances ({spread}), "
            "mean lifetime " + ("-" if lifetime is None else f"{_number(lifetime)}s")
        )
        shares = data["state_share"]
        cells = [f"{state} {share:.1%}" for state, share in shares.items()]
        rest = max(0.0, 1.0 - sum(shares.values()))
        if data["instances"] and rest >= 0.0005:
            cells.append(f"(no state {rest:.1%})")
        lines.append("    " + "  ".join(cells))
    return lines


def _columns(rows: list[list[str]]) -> list[str]:
    """Left-aligned columns, indented by two spaces."""
    if not rows:
        return []
    widths = [max(len(row[i]) for row in rows if i < len(row)) for i in range(max(map(len, rows)))]
    return [
        "  " + "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip()
        for row in rows
    ]


def _number(value: float | None) -> str:
    if value is None:
        return "-"
    return str(int(value)) if float(value).is_integer() else f"{value:.3g}"


def _flat(value: object) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k}={_flat(v)}" for k, v in value.items())
    return str(value)


@click.command("inspect")
@click.argument("table", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON for scripts.")
@click.option(
    "--bucket",
    type=float,
    default=60.0,
    show_default=True,
    help="Seconds per time bucket of the counters (e.g. items finished per minute).",
)
def inspect_command(table: Path, as_json: bool, bucket: float) -> None:
    """Summarise an event table: episodes, KPIs, time per state, short-lived kinds, counters.

    The table is checked fully first; a broken table gives one line and exit code 2.

    \b
    Example:
        simreel inspect data/events/factory.parquet
        simreel inspect data/fixtures/factory-v1.parquet --json | jq .episodes
    """
    summary = summarise(read_events(table), bucket_seconds=bucket)
    if as_json:
        click.echo(json.dumps(summary, indent=2))
    else:
        click.echo(format_text(summary))
