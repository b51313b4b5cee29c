"""Each named actor's share of simulated time per state: *what* the actors did."""

from __future__ import annotations

from typing import Any, Final

import polars as pl

from schemas.metadata import TableMetadata
from stages.inspect.cells import columns, largest, listed, percent

_STATES_SHOWN: Final = 12
"""States listed per actor in the text, the largest shares (``--json`` lists all)."""
_SHOWN: float = 0.0005
"""Below this share a figure prints as 0.0%: no-state time that small is not listed."""


class StateShares:
    """Per named actor, the fraction of all episodes' simulated time spent in each state.

    Pooled over episodes (seconds in the state / all episodes' seconds), so a long
    episode weighs more than a short one. Instances of short-lived kinds are left out
    (see :mod:`stages.inspect.short_lived`). Accumulates seconds per (actor, state) chunk
    by chunk (:mod:`stages.inspect.source`)."""

    def __init__(self, metadata: TableMetadata) -> None:
        self._metadata = metadata
        self._named = list(metadata.vocabulary.actor_names)
        self._seconds: dict[tuple[str, str], float] = {}

    def add(self, frame: pl.DataFrame) -> None:
        seconds = self._seconds
        for actor, state, spent in (
            frame.filter(pl.col("actor").is_in(self._named))
            .group_by("actor", "state")
            .agg(seconds=(pl.col("end") - pl.col("start")).sum())
            .iter_rows()
        ):
            seconds[(actor, state)] = seconds.get((actor, state), 0.0) + spent

    def result(self) -> dict[str, dict[str, float]]:
        total = sum(summary.end_time for summary in self._metadata.episodes)
        seconds = self._seconds
        return {
            actor.name: {
                state: (seconds.get((actor.name, state), 0.0) / total if total > 0 else 0.0)
                for state in actor.states
            }
            for actor in self._metadata.vocabulary.actors
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
        shown, hidden = largest(states, _STATES_SHOWN)
        cells = [f"{state} {percent(share):>6}" for state, share in shown]
        if hidden:
            cells.append(f"(and {hidden} more states, see --json)")
        if rest >= _SHOWN:
            cells.append(f"(no state {percent(rest)})")
        rows.append([actor, *cells])
    if not rows and not constant:
        return []
    lines = ["", "Share of simulated time per actor and state (all episodes)", *columns(rows)]
    if constant:
        lines.append("  always in their only state: " + listed(constant, 12))
    return lines
