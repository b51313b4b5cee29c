"""Short-lived kinds (customers): summarised per kind, never one instance at a time.

A table may hold hundreds of thousands of instances, so everything is a polars
group-by over the rows, and the text is two lines per kind whatever their number.
"""

from __future__ import annotations

from typing import Any, Final

import polars as pl

from schemas.metadata import TableMetadata
from stages.inspect.cells import largest, number, percent

_STATES_SHOWN: Final = 12
"""States listed per kind in the text, the largest shares (``--json`` lists all)."""
_PARTS: Final = 16
"""Partial aggregates kept before they are merged (see :func:`~stages.inspect.source.compact`)."""


class ShortLived:
    """Per short-lived kind: its instances (in all and per episode), their mean lifetime and
    the share of their lifetimes spent in each state.

    An instance is one actor name in one episode; its lifetime runs from the start of its
    first interval to the end of its last (gaps count as "no state"). Shares divide the
    seconds in a state by the sum of all the kind's lifetimes. Chunk by chunk, each
    instance's earliest start and latest end are kept (one row per instance), and the
    seconds per (kind, state).
    """

    def __init__(self, metadata: TableMetadata) -> None:
        self._metadata = metadata
        self._kinds = metadata.vocabulary.short_lived
        self._instances: list[pl.DataFrame] = []
        self._seconds: dict[tuple[str, str], float] = {}

    def add(self, frame: pl.DataFrame) -> None:
        if not self._kinds:
            return
        # Resolve each distinct actor name once, then join: the regexes run over the names,
        # not over every row.
        resolved = pl.lit(None, dtype=pl.String)
        for kind in self._kinds:  # a name matches at most one kind, so the order is moot
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
        self._instances.append(
            rows.group_by("kind", "episode", "actor").agg(
                first=pl.col("start").min(), last=pl.col("end").max()
            )
        )
        if len(self._instances) > _PARTS:
            merged = pl.concat(self._instances).group_by("kind", "episode", "actor")
            self._instances = [merged.agg(pl.col("first").min(), pl.col("last").max())]
        seconds = self._seconds
        for kind, state, spent in (
            rows.group_by("kind", "state")
            .agg(seconds=(pl.col("end") - pl.col("start")).sum())
            .iter_rows()
        ):
            seconds[(kind, state)] = seconds.get((kind, state), 0.0) + spent

    def result(self) -> dict[str, dict[str, Any]]:
        if not self._kinds:
            return {}
        schema = {"kind": pl.String, "episode": pl.Int32, "actor": pl.String}
        parts = self._instances or [
            pl.DataFrame(schema={**schema, "first": pl.Float64, "last": pl.Float64})
        ]
        instances = (
            pl.concat(parts)
            .group_by("kind", "episode", "actor")
            .agg(lifetime=pl.col("last").max() - pl.col("first").min())
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
        seconds = self._seconds
        result: dict[str, dict[str, Any]] = {}
        for kind in self._kinds:
            total = totals.get(kind.kind, {"instances": 0, "mean_lifetime": None, "lifetimes": 0.0})
            lifetimes = total["lifetimes"]
            result[kind.kind] = {
                "prefix": kind.prefix,
                "pattern": kind.pattern,
                "instances": total["instances"],
                "per_episode": [
                    {"episode": s.episode, "instances": per_episode.get((kind.kind, s.episode), 0)}
                    for s in self._metadata.episodes
                ],
                "mean_lifetime": total["mean_lifetime"],
                "state_share": {
                    state: (
                        seconds.get((kind.kind, state), 0.0) / lifetimes if lifetimes > 0 else 0.0
                    )
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
        shown, hidden = largest(shares, _STATES_SHOWN)
        cells = [f"{state} {percent(share)}" for state, share in shown]
        if hidden:
            cells.append(f"(and {hidden} more states, see --json)")
        if rest >= 0.0005:
            cells.append(f"(no state {percent(rest)})")
        lines.append("    " + "  ".join(cells))
    return lines
