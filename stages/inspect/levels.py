"""Levels of buffers and queues: how full they were, for how long, and when they peaked.

Covered: every named actor other than a counter (a counter's rise is reported by
:mod:`stages.inspect.counters`) whose rows hold values of an attribute declared a
quantity (``quantity: true``); its level is the first such attribute. Tables of schema
v1 declare no quantities, so they are skipped with a note rather than guessed from
numeric columns (an item id is numeric too, and its "mean level" would be nonsense).

The rules:

* **time-weighted**: a level counts for the seconds its row lasted, and shares are of
  the time the level was recorded (for a buffer, its whole episodes). A zero-length
  row holds no time but still counts for the peak and the time it was first reached;
* **empty** = level 0 (or below);
* **full** = the highest level the actor reached anywhere in the table. Schema v2 has
  no capacity field, so this is what was seen, not what fits: a buffer that never
  filled is "full" at its peak. The output says so;
* **peak** of an episode = its highest level; ``first_peak_at`` is the start of the
  first row at that level and ``seconds_at_peak`` the time spent there (the README's
  polars question computes the same).
"""

from __future__ import annotations

import math
from typing import Any, Final

import polars as pl

from schemas.metadata import TableMetadata
from stages.inspect.cells import number, percent, seconds
from stages.inspect.counters import COUNTER_KIND
from stages.inspect.figures import spread
from stages.inspect.source import compact

FULL_RULE: Final = "the highest level seen, no capacity being declared"
EMPTY_RULE: Final = "0 or below"
_LISTED_LEVELS: Final = 12
"""Up to this many distinct levels the time at each is listed; beyond, a histogram."""
_BINS: Final = 10


_DISTINCT: Final = 4096
"""Distinct levels per actor counted one by one while scanning; an actor with more (a
continuous level) is binned in a second pass once its range is known, so memory stays
bounded by this, not by the rows."""
_PARTS: Final = 16


class Levels:
    """Per buffer-like actor: mean level, time empty and full, time per level (or per range
    of levels), when it first got full, and per episode its peak and when it reached it.

    Chunk by chunk, per (attribute, actor, episode): seconds, level x seconds, the peak
    of the chunk with its first start and seconds, the lowest level, seconds empty; and
    seconds per (attribute, actor, level). An episode's peak is the highest chunk peak,
    reached first at the earliest start among the chunks that reached it, for the
    seconds they spent at it; "full" (the actor's highest level anywhere) is then an
    episode's peak where it equals the actor's, so one pass suffices unless an actor has
    more than :data:`_DISTINCT` levels (see :meth:`needs_second_pass`).
    """

    def __init__(self, metadata: TableMetadata) -> None:
        self._metadata = metadata
        vocabulary = metadata.vocabulary
        self._candidates = [a.name for a in vocabulary.actors if a.kind != COUNTER_KIND]
        self._episodes: dict[str, list[pl.DataFrame]] = {q: [] for q in vocabulary.quantities}
        self._levels: dict[str, list[pl.DataFrame]] = {q: [] for q in vocabulary.quantities}
        self._binned: dict[tuple[str, str], tuple[float, float, bool]] = {}
        """(attribute, actor) → (lowest, highest level, whole levels?) of an actor whose
        levels are counted per range in the second pass."""
        self._bins: dict[tuple[str, str], dict[int, float]] = {}

    def _rows(self, frame: pl.DataFrame, attribute: str) -> pl.DataFrame:
        return frame.filter(
            pl.col("actor").is_in(self._candidates) & pl.col(attribute).is_not_null()
        ).select(
            "actor",
            "episode",
            "start",
            value=pl.col(attribute),
            seconds=pl.col("end") - pl.col("start"),
        )

    def add(self, frame: pl.DataFrame) -> None:
        for attribute in self._episodes:
            rows = self._rows(frame, attribute)
            if rows.height == 0:
                continue
            value, span, start = pl.col("value"), pl.col("seconds"), pl.col("start")
            at_peak = value == value.max()
            self._episodes[attribute].append(
                rows.group_by("actor", "episode").agg(
                    seconds=span.sum(),
                    weighted=(value * span).sum(),
                    peak=value.max(),
                    low=value.min(),
                    first_peak_at=start.filter(at_peak).min(),
                    seconds_at_peak=span.filter(at_peak).sum(),
                    seconds_empty=span.filter(value <= 0).sum(),
                )
            )
            levels = self._levels[attribute]
            levels.append(rows.group_by("actor", "value").agg(pl.col("seconds").sum()))
            compact(levels, ["actor", "value"], ["seconds"], _PARTS)
            parts = self._episodes[attribute]
            if len(parts) > _PARTS:
                parts[:] = [_merge_episodes(parts)]

    def needs_second_pass(self) -> bool:
        """Whether an actor had too many distinct levels to count one by one: then feed
        every chunk again to :meth:`add_bins` before :meth:`result`."""
        for attribute, parts in self._levels.items():
            if not parts:
                continue
            merged = pl.concat(parts).group_by("actor", "value").agg(pl.col("seconds").sum())
            parts[:] = [merged]
            # Up to the listed levels, each level is listed: never binned.
            limit = max(_DISTINCT, _LISTED_LEVELS)
            many = merged.group_by("actor").agg(n=pl.len()).filter(pl.col("n") > limit)
            for actor in many["actor"].to_list():
                low, high = (
                    float(v)
                    for v in merged.filter(pl.col("actor") == actor)
                    .select(low=pl.min("value"), high=pl.max("value"))
                    .row(0)
                )
                integral = self._metadata.vocabulary.attribute(attribute).type == "int64"
                self._binned[(attribute, actor)] = (low, high, integral)
                parts[:] = [parts[0].filter(pl.col("actor") != actor)]
        return bool(self._binned)

    def add_bins(self, frame: pl.DataFrame) -> None:
        """Second pass: seconds per range of levels of the actors with many levels."""
        for (attribute, actor), (low, high, integral) in self._binned.items():
            rows = self._rows(frame.filter(pl.col("actor") == actor), attribute)
            index, _ = _bin_index(low, high, integral)
            found = self._bins.setdefault((attribute, actor), {})
            for b, spent in rows.group_by(index.alias("bin")).agg(pl.col("seconds").sum()).rows():
                found[b] = found.get(b, 0.0) + spent

    def result(self) -> dict[str, Any]:
        meta = self._metadata
        vocabulary = meta.vocabulary
        result: dict[str, Any] = {
            "full_rule": FULL_RULE,
            "empty_rule": EMPTY_RULE,
            "skipped": None,
            "actors": {},
        }
        if not vocabulary.quantities:
            if meta.migrated_from is not None or meta.schema_version < 2:
                result["skipped"] = (
                    f"a schema v{meta.migrated_from or meta.schema_version} table declares no "
                    "quantity attributes, so no attribute is known to be a level"
                )
            return result
        found: dict[str, Any] = {}
        for attribute in vocabulary.quantities:
            parts = self._episodes[attribute]
            if not parts:
                continue
            per_episode = _finish_episodes(_merge_episodes(parts))
            levels = self._levels[attribute]
            distribution = (
                pl.concat(levels).group_by("actor", "value").agg(pl.col("seconds").sum())
                if levels
                else pl.DataFrame(schema={"actor": pl.String, "value": pl.Float64})
            )
            integral = vocabulary.attribute(attribute).type == "int64"
            for actor in per_episode["actor"].unique().to_list():
                if actor in found:
                    continue  # its level is an earlier quantity attribute
                binned = self._binned.get((attribute, actor))
                found[actor] = _actor(
                    attribute,
                    per_episode.filter(pl.col("actor") == actor).drop("actor"),
                    distribution.filter(pl.col("actor") == actor).drop("actor").sort("value"),
                    integral,
                    None
                    if binned is None
                    else (binned[0], binned[1], self._bins.get((attribute, actor), {})),
                )
        # In vocabulary order, whatever attribute each level came from.
        result["actors"] = {a.name: found[a.name] for a in vocabulary.actors if a.name in found}
        return result


def _merge_episodes(parts: list[pl.DataFrame]) -> pl.DataFrame:
    """Partial per-(actor, episode) figures of several chunks merged into one per pair."""
    rows = pl.concat(parts, how="vertical_relaxed")
    at_peak = pl.col("peak") == pl.col("peak").max()
    return rows.group_by("actor", "episode").agg(
        seconds=pl.col("seconds").sum(),
        weighted=pl.col("weighted").sum(),
        peak=pl.col("peak").max(),
        low=pl.col("low").min(),
        first_peak_at=pl.col("first_peak_at").filter(at_peak).min(),
        seconds_at_peak=pl.col("seconds_at_peak").filter(at_peak).sum(),
        seconds_empty=pl.col("seconds_empty").sum(),
    )


def _finish_episodes(rows: pl.DataFrame) -> pl.DataFrame:
    """One row per actor and episode with the figures of :class:`Levels`: "full" is the
    actor's highest level, so an episode was full only at its own peak, when that is it."""
    full = pl.col("peak") >= pl.col("peak").max().over("actor")
    return (
        rows.with_columns(
            first_full_at=pl.when(full).then(pl.col("first_peak_at")),
            seconds_full=pl.when(full).then(pl.col("seconds_at_peak")).otherwise(0.0),
        )
        .select(
            "actor",
            "episode",
            "seconds",
            "weighted",
            "peak",
            "first_peak_at",
            "seconds_at_peak",
            "first_full_at",
            "seconds_full",
            "seconds_empty",
        )
        .sort("actor", "episode")
    )


def _bin_index(low: float, high: float, integral: bool) -> tuple[pl.Expr, float]:
    """The bin of each ``value`` (:data:`_BINS` equal ranges from `low` to `high`) and the
    bins' width. Whole levels: each range holds whole levels; a range of no width (NaN or
    infinite levels) puts everything in the first bin rather than failing."""
    value = pl.col("value")
    if integral:
        width = float(math.ceil((high - low + 1) / _BINS)) if math.isfinite(high - low) else 0.0
    else:
        width = (high - low) / _BINS
    if not (math.isfinite(width) and width > 0):
        return pl.lit(0, pl.Int64), width
    if integral:
        return ((value - low) // width).cast(pl.Int64, strict=False).fill_null(0), width
    index = ((value - low) / width).floor().clip(0, _BINS - 1)
    return index.cast(pl.Int64, strict=False).fill_null(0), width


def _actor(
    attribute: str,
    per_episode: pl.DataFrame,
    distribution: pl.DataFrame,
    integral: bool,
    binned: tuple[float, float, dict[int, float]] | None = None,
) -> dict[str, Any]:
    """The aggregate over episodes of one actor, and its per-episode detail. `binned` is
    (lowest level, highest level, seconds per range) for an actor counted in ranges by the
    second pass (its `distribution` is then empty)."""
    episodes = per_episode.to_dicts()
    total = sum(e["seconds"] for e in episodes)
    for e in episodes:
        weighted = e.pop("weighted")
        e["mean"] = weighted / e["seconds"] if e["seconds"] > 0 else None
    full = max(e["peak"] for e in episodes)
    full_seconds = sum(e["seconds_full"] for e in episodes)
    empty_seconds = sum(e["seconds_empty"] for e in episodes)
    reached = [e["first_full_at"] for e in episodes if e["first_full_at"] is not None]
    return {
        "attribute": attribute,
        "seconds": total,
        "mean": sum(e["mean"] * e["seconds"] for e in episodes if e["mean"] is not None) / total
        if total > 0
        else None,
        "full": full,
        "seconds_full": full_seconds,
        "share_full": full_seconds / total if total > 0 else None,
        "seconds_empty": empty_seconds,
        "share_empty": empty_seconds / total if total > 0 else None,
        "reached_full": {
            "episodes": len(reached),
            "of": len(episodes),
            "first_at": spread(reached),
        },
        "peak": spread(e["peak"] for e in episodes),
        "time_at_level": (
            _ranges(*binned, total, integral)
            if binned is not None
            else _distribution(distribution, total, integral)
        ),
        "per_episode": episodes,
    }


def _distribution(distribution: pl.DataFrame, total: float, integral: bool) -> list[dict[str, Any]]:
    """Seconds and share at each level, or per range of levels when there are many.

    Ranges: :data:`_BINS` of equal width from the lowest to the highest level; for whole
    levels each range holds whole levels (``from`` to ``to`` inclusive), for fractional
    ones the last range includes its upper end."""
    if distribution.height <= _LISTED_LEVELS:
        return [
            {"level": level, "seconds": spent, "share": _share(spent, total)}
            for level, spent in distribution.iter_rows()
        ]
    low, high = (
        float(v) for v in distribution.select(low=pl.min("value"), high=pl.max("value")).row(0)
    )
    index, _ = _bin_index(low, high, integral)
    bins = dict(distribution.group_by(index.alias("bin")).agg(pl.col("seconds").sum()).iter_rows())
    return _ranges(low, high, bins, total, integral)


def _ranges(
    low: float, high: float, bins: dict[int, float], total: float, integral: bool
) -> list[dict[str, Any]]:
    """The ranges of :func:`_distribution` from the seconds per range number."""
    _, width = _bin_index(low, high, integral)
    if not (math.isfinite(width) and width > 0):
        # NaN or infinite levels, or a single level: one range holding everything.
        spent = sum(bins.values())
        return [{"from": low, "to": high, "seconds": spent, "share": _share(spent, total)}]

    def edge(at: float) -> float | int:
        return int(at) if integral else at

    return [
        {
            "from": edge(low + b * width),
            "to": edge(low + (b + 1) * width - (1 if integral else 0)),
            "seconds": bins.get(b, 0.0),
            "share": _share(bins.get(b, 0.0), total),
        }
        for b in range(max(bins, default=0) + 1)
    ]


def _share(value: float, total: float) -> float | None:
    return value / total if total > 0 else None


def levels_text(found: dict[str, Any], episodes: int) -> list[str]:
    """Two or three lines per actor; the same whether the table has 1 or 3000 episodes."""
    if found["skipped"]:
        return ["", f"Levels: not reported: {found['skipped']}"]
    actors = found["actors"]
    if not actors:
        return []
    lines = [
        "",
        "Levels (time-weighted; empty = " + EMPTY_RULE + "; full = " + FULL_RULE + ")",
    ]
    many = episodes > 1
    for name, data in actors.items():
        full = number(data["full"])
        head = (
            f"  {name} ({data['attribute']}): mean {number(data['mean'])}, "
            f"empty {percent(data['share_empty'])}, full ({full}) {percent(data['share_full'])}"
        )
        reached = data["reached_full"]
        first = reached["first_at"]
        if not many:
            if first is not None and data["seconds_full"] > 0:
                head += f" ({seconds(data['seconds_full'])}), first at {seconds(first['min'])}"
            elif first is not None:
                head += f" (only for an instant, at {seconds(first['min'])})"
            lines.append(head)
        else:
            lines.append(head)
            peak = data["peak"]
            text = f"    full in {reached['episodes']}/{reached['of']} episodes"
            if first is not None and first["min"] == first["max"]:
                text += f", first at {seconds(first['min'])}"
            elif first is not None:
                text += (
                    f", first at {seconds(first['mean'])} on average "
                    f"({seconds(first['min'])}-{seconds(first['max'])})"
                )
            if peak is not None and peak["min"] != peak["max"]:
                text += (
                    f"; peak per episode {number(peak['mean'])} on average "
                    f"({number(peak['min'])}-{number(peak['max'])})"
                )
            lines.append(text)
        spent = [entry for entry in data["time_at_level"] if entry["seconds"] > 0]
        if len(spent) > 1:
            cells = [
                (
                    number(entry["level"])
                    if "level" in entry
                    else f"{number(entry['from'])}-{number(entry['to'])}"
                )
                + f" {percent(entry['share'])}"
                for entry in spent
            ]
            lines.append("    time at level  " + "  ".join(cells))
    return lines
