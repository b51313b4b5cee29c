"""Stalled time per named actor, and what it waited for: *why* the work did not flow.

The rule, which needs nothing but the table (no domain code):

* a state is a **stall state** of an actor when one of the words of its snake_case
  name is in :data:`STALL_WORDS` (``stalled``, ``waiting_for_room``, ``idle``,
  ``blocked``, ...);
* a row is **stalled** when its state is a stall state of its actor, or when it
  carries a value in the :data:`WAITING_FOR` attribute (a domain that says what an
  actor waits for is stalled whatever it calls the state);
* that value, where the table has the attribute, is **what it waited for**; stalled
  rows without it are counted under ``None`` (text: "not said").

Only named actors are covered: a short-lived kind's waiting (customers queueing) is
already the share of its lifetimes in each state. Shares are of simulated time:
pooled over the episodes (like the state shares), with the per-episode mean and range
for tables of many episodes.
"""

from __future__ import annotations

from typing import Any, Final

import polars as pl

from schemas.metadata import TableMetadata
from schemas.vocabulary import Actor
from stages.inspect.cells import listed, percent, seconds
from stages.inspect.figures import spread
from stages.inspect.source import compact
from stages.terminal import printable

STALL_WORDS: Final = ("stalled", "stall", "waiting", "blocked", "idle", "starved")
"""Words of a state name that mark the actor as not working for want of something."""
WAITING_FOR: Final = "waiting_for"
"""Attribute that says what a stalled actor waits for (the factory's ``item``/``room``)."""
RULE: Final = (
    "a state whose name has a word of " + "/".join(STALL_WORDS) + f", or a {WAITING_FOR} value"
)
_RULE_SHORT: Final = f"states stalled/waiting/blocked/idle/..., or rows with {WAITING_FOR}"
_KEY: Final = "\x1f"
"""Joins an actor and a state into one key; the unit separator cannot occur in a valid name."""
_REASONS_SHOWN: Final = 6
"""``waiting_for`` values listed per actor in the text (``--json`` lists all)."""


def stall_states(actor: Actor) -> tuple[str, ...]:
    """The states of `actor` whose name marks a stall (see the module docstring)."""
    return tuple(state for state in actor.states if set(STALL_WORDS) & set(state.split("_")))


class Stalls:
    """Per named actor that has a stall state or stalled rows: its stalled seconds and share
    (all episodes and per episode), and the seconds per ``waiting_for`` value.

    Chunk by chunk, the stalled seconds and intervals are summed per (actor, episode,
    state, ``waiting_for``); every figure is a sum over those."""

    def __init__(self, metadata: TableMetadata) -> None:
        self._metadata = metadata
        vocabulary = metadata.vocabulary
        self._declared = {actor.name: stall_states(actor) for actor in vocabulary.actors}
        self._has_reason = WAITING_FOR in vocabulary.attribute_names
        self._parts: list[pl.DataFrame] = []
        self._stall_keys = [
            f"{name}{_KEY}{state}" for name, states in self._declared.items() for state in states
        ]

    def add(self, frame: pl.DataFrame) -> None:
        # One key per (actor, stall state), looked up at once: an expression per actor
        # would grow with the vocabulary (100,000 actors overflow polars' planner).
        in_stall_state = pl.concat_str(pl.col("actor"), pl.lit(_KEY), pl.col("state")).is_in(
            self._stall_keys
        )
        reason = (
            pl.col(WAITING_FOR).cast(pl.String) if self._has_reason else pl.lit(None, pl.String)
        )
        rows = frame.filter(
            pl.col("actor").is_in(list(self._declared)) & (in_stall_state | reason.is_not_null())
        ).select(
            "episode",
            "actor",
            "state",
            seconds=pl.col("end") - pl.col("start"),
            waiting_for=reason,
        )
        self._parts.append(
            rows.group_by("actor", "episode", "state", "waiting_for").agg(
                pl.col("seconds").sum(), intervals=pl.len().cast(pl.Int64)
            )
        )
        compact(
            self._parts, ["actor", "episode", "state", "waiting_for"], ["seconds", "intervals"], 16
        )

    def result(self) -> dict[str, Any]:
        schema = {
            "actor": pl.String,
            "episode": pl.Int32,
            "state": pl.String,
            "waiting_for": pl.String,
            "seconds": pl.Float64,
            "intervals": pl.Int64,
        }
        rows = (
            pl.concat(self._parts, how="vertical_relaxed")
            if self._parts
            else pl.DataFrame(schema=schema)
        )
        per_episode: dict[str, dict[int, float]] = {}
        for row in rows.group_by("actor", "episode").agg(pl.col("seconds").sum()).iter_rows():
            per_episode.setdefault(row[0], {})[row[1]] = row[2]
        states_seen: dict[str, list[str]] = {}
        for actor, state, _ in (
            rows.group_by("actor", "state").agg(pl.col("seconds").sum()).sort("seconds").rows()
        ):
            states_seen.setdefault(actor, []).insert(0, state)  # most seconds first
        reasons: dict[str, list[dict[str, Any]]] = {}
        for actor, value, total, intervals in (
            rows.group_by("actor", "waiting_for")
            .agg(pl.col("seconds").sum(), pl.col("intervals").sum())
            .sort("seconds", "waiting_for", descending=[True, False], nulls_last=True)
            .iter_rows()
        ):
            reasons.setdefault(actor, []).append(
                {"value": value, "seconds": total, "intervals": intervals}
            )
        declared = self._declared
        episodes = self._metadata.episodes
        all_time = sum(summary.end_time for summary in episodes)
        actors: dict[str, Any] = {}
        for actor in self._metadata.vocabulary.actors:
            if not declared[actor.name] and actor.name not in per_episode:
                continue
            found = per_episode.get(actor.name, {})
            detail = [
                {
                    "episode": s.episode,
                    "seconds": found.get(s.episode, 0.0),
                    "share": found.get(s.episode, 0.0) / s.end_time if s.end_time > 0 else None,
                }
                for s in episodes
            ]
            stalled = float(sum(found.values()))
            actors[actor.name] = {
                "stall_states": list(declared[actor.name]),
                "states_seen": states_seen.get(actor.name, []),
                "seconds": stalled,
                "share": stalled / all_time if all_time > 0 else None,
                "episode_share": spread(e["share"] for e in detail),
                "waiting_for": [
                    {**r, "share": r["seconds"] / stalled if stalled > 0 else None}
                    for r in reasons.get(actor.name, [])
                ]
                if self._has_reason
                else None,
                "per_episode": detail,
            }
        return {
            "rule": RULE,
            "attribute": WAITING_FOR if self._has_reason else None,
            "actors": actors,
        }


def stalls_text(found: dict[str, Any], episodes: int) -> list[str]:
    """One line per actor: how much of the time it was stalled and for what.

    For many episodes the seconds are per episode (means) and the reasons are shares of
    the stalled time, so the line is as short for 3000 episodes as for one."""
    actors = found["actors"]
    if not actors:
        return []
    many = episodes > 1
    lines = ["", f"Stalled time per actor ({_RULE_SHORT})"]
    width = max(len(name) for name in actors)
    for name, data in actors.items():
        head = f"  {name.ljust(width)}  "
        if not data["seconds"]:
            lines.append(head + "never stalled")
            continue
        label = "+".join(data["states_seen"]) or "stalled"
        text = f"{label} {percent(data['share'])} of the time"
        share = data["episode_share"]
        if many and share is not None:
            text += (
                f"; per episode {seconds(data['seconds'] / episodes)}, "
                f"{percent(share['mean'])} on average ({percent(share['min'])}"
                f"-{percent(share['max'])})"
            )
        else:
            text += f" ({seconds(data['seconds'])})"
        reasons = data["waiting_for"]
        if reasons and any(r["value"] is not None for r in reasons):
            cells = [
                f"{'not said' if r['value'] is None else printable(r['value'])} "
                + f"{seconds(r['seconds'] / episodes if many else r['seconds'])} "
                + f"({percent(r['share'])})"
                for r in reasons
            ]
            text += "; waiting for " + listed(cells, _REASONS_SHOWN)
        lines.append(head + text)
    return lines
