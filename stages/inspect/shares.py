"""Each named actor's share of simulated time per state: *what* the actors did."""

from __future__ import annotations

from typing import Any

import polars as pl

from schemas.events import EventTable
from stages.inspect.cells import columns, listed, percent

_SHOWN: float = 0.0005
"""Below this share a figure prints as 0.0%: no-state time that small is not listed."""


def state_share(events: EventTable, frame: pl.DataFrame) -> dict[str, dict[str, float]]:
    """Per named actor, the fraction of all episodes' simulated time spent in each state.

    Pooled over episodes (seconds in the state / all episodes' seconds), so a long
    episode weighs more than a short one. Instances of short-lived kinds are left out
    (see :mod:`stages.inspect.short_lived`)."""
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


def state_share_text(shares: dict[str, dict[str, Any]]) -> list[str]:
    """One line per actor, except actors with a single state that fills their whole time.

    Why: ``buffer_a  level 100.0%`` says nothing (a buffer's story is in its levels),
    so such actors are only named, on one line at the end."""
    rows = []
    constant = []
    for actor, states in shares.items():
        rest = max(0.0, 1.0 - sum(states.values()))
        if len(states) == 1 and rest < _SHOWN:
            constant.append(f"{actor} ({next(iter(states))})")
            continue
        cells = [f"{state} {percent(share):>6}" for state, share in states.items()]
        if rest >= _SHOWN:
            cells.append(f"(no state {percent(rest)})")
        rows.append([actor, *cells])
    if not rows and not constant:
        return []
    lines = ["", "Share of simulated time per actor and state (all episodes)", *columns(rows)]
    if constant:
        lines.append("  always in their only state: " + listed(constant, 12))
    return lines
