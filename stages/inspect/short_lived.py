"""Short-lived kinds (customers): summarised per kind, never one instance at a time.

A table may hold hundreds of thousands of instances, so everything is a polars
group-by over the rows, and the text is two lines per kind whatever their number.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from schemas.events import EventTable
from stages.inspect.cells import number, percent


def short_lived(events: EventTable, frame: pl.DataFrame) -> dict[str, dict[str, Any]]:
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


def short_lived_text(kinds: dict[str, dict[str, Any]]) -> list[str]:
    """Two lines per kind (one if the kind has a single state), whatever the number of
    instances or episodes."""
    if not kinds:
        return []
    lines = ["", "Short-lived actors (all episodes; shares of the instances' lifetimes)"]
    for kind, data in kinds.items():
        counts = [e["instances"] for e in data["per_episode"]]
        if len(counts) > 1:
            spread = (
                f"per episode min {min(counts)}, mean {number(sum(counts) / len(counts))}, "
                f"max {max(counts)}"
            )
        else:
            spread = "in one episode" if counts else "no episodes"
        lifetime = data["mean_lifetime"]
        lines.append(
            f"  {kind} ({data['prefix']}<n>): {data['instances']} instances ({spread}), "
            "mean lifetime " + ("-" if lifetime is None else f"{number(lifetime)}s")
        )
        shares = data["state_share"]
        rest = max(0.0, 1.0 - sum(shares.values()))
        if not data["instances"] or (len(shares) == 1 and rest < 0.0005):
            continue  # "100%" of the only state says nothing
        cells = [f"{state} {percent(share)}" for state, share in shares.items()]
        if rest >= 0.0005:
            cells.append(f"(no state {percent(rest)})")
        lines.append("    " + "  ".join(cells))
    return lines
