"""The objects of an export, their time-varying attributes, and object-to-object links.

Objects are every id an event relates to (``schemas/OCEL.md``, "Objects"): actors,
the things and actors their attributes name, and one object per episode. An actor's
``state`` and its quantity attributes (a buffer's ``level``) are object attributes that
change over time: a value is written when it changes, at the instant of the event that
changed it. ``state`` is the empty string while the actor is in no state (between two
intervals, or after a short-lived instance's last).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import polars as pl

from schemas.metadata import EpisodeSummary
from schemas.vocabulary import AttributeType, Vocabulary
from stages.export.clock import as_timestamp
from stages.export.model import TypeDeclaration
from stages.export.references import EPISODE_TYPE, kinds
from stages.export.rows import ORDER, ends, starts

STATE: Final = "state"
"""Object attribute holding an actor's current state."""
NO_STATE: Final = ""
"""Value of ``state`` while the actor is in no state."""
KPI_PREFIX: Final = "kpi:"
"""Episode attributes for KPIs are named ``kpi:<name>``: no clash with the fixed ones."""


@dataclass(frozen=True)
class ObjectFrames:
    """What :class:`~stages.export.model.OcelLog` holds about objects."""

    object_types: tuple[TypeDeclaration, ...]
    objects: pl.DataFrame
    object_values: dict[str, pl.DataFrame]
    links: pl.DataFrame


def build_objects(
    rows: pl.DataFrame,
    relations: pl.DataFrame,
    episodes: pl.DataFrame,
    summaries: Sequence[EpisodeSummary],
    vocabulary: Vocabulary,
) -> ObjectFrames:
    """Objects in order of first appearance in `relations`, with their attribute values."""
    objects = relations.unique("object_id", keep="first", maintain_order=True).select(
        id="object_id", type="object_type", episode="episode"
    )
    links = objects.filter(pl.col("type") != EPISODE_TYPE).select(
        source_id="id", target_id=pl.format("ep{}", pl.col("episode")), qualifier=pl.lit("episode")
    )
    quantities = [a for a in vocabulary.attributes if a.quantity]
    used = (
        rows.group_by("kind").agg(*(pl.col(a.name).is_not_null().any() for a in quantities))
        if quantities
        else rows.select(pl.col("kind").unique())
    )
    kind_quantities = {
        row["kind"]: [(a.name, a.type) for a in quantities if row[a.name]]
        for row in used.iter_rows(named=True)
    }
    episode_values = _episode_values(summaries)
    declarations = _object_types(objects, vocabulary, kind_quantities, episode_values)
    actor_values = _actor_values(rows, [a.name for a in quantities])
    static = (
        objects.join(actor_values.select("id").unique(), on="id", how="anti", maintain_order="left")
        .join(episodes.select("episode", "start_us"), on="episode", how="left")
        .join(episode_values, on="id", how="left")
        .with_columns(time=as_timestamp(pl.col("start_us")), changed_field=pl.lit(None, pl.String))
    )
    values: dict[str, pl.DataFrame] = {}
    for declaration in declarations:
        columns = ["id", "time", "changed_field", *(name for name, _ in declaration.attributes)]
        own = pl.concat(
            [
                actor_values.filter(pl.col("type") == declaration.name),
                static.filter(pl.col("type") == declaration.name),
            ],
            how="diagonal_relaxed",
        )
        values[declaration.name] = own.select(
            pl.col(name) if name in own.columns else pl.lit(None).alias(name) for name in columns
        )
    return ObjectFrames(
        object_types=declarations,
        objects=objects.drop("episode"),
        object_values=values,
        links=links,
    )


def _actor_values(rows: pl.DataFrame, quantities: Sequence[str]) -> pl.DataFrame:
    """Per actor object: its first values (``changed_field`` null), then each change."""
    actor_id = pl.format("ep{}/{}", pl.col("episode"), pl.col("actor"))
    entered = rows.select(*starts(), id=actor_id, type="kind", first="first", value="state")
    emptied = rows.filter(pl.col("gap_after") & ~pl.col("open")).select(
        *ends(), id=actor_id, type="kind", first=pl.lit(False), value=pl.lit(NO_STATE)
    )
    changes = [_changes(pl.concat([entered, emptied]), STATE)]
    for name in quantities:
        entries = rows.filter(pl.col(name).is_not_null()).select(
            *starts(), id=actor_id, type="kind", first="first", value=name
        )
        changes.append(_changes(entries, name))
    initial = rows.filter(pl.col("first")).select(
        *starts(),
        id=actor_id,
        type="kind",
        changed_field=pl.lit(None, pl.String),
        **{STATE: pl.col("state")},
        **{name: pl.col(name) for name in quantities},
    )
    return (
        pl.concat([initial, *changes], how="diagonal")
        .sort(*ORDER, pl.col("changed_field").is_not_null())
        .with_columns(time=as_timestamp(pl.col("time_us")))
        .drop(*ORDER)
    )


def _changes(entries: pl.DataFrame, name: str) -> pl.DataFrame:
    """The entries of attribute `name` that change its value, less the first row's (that
    one is the initial value)."""
    previous = pl.col("value").shift(1).over("id")
    return (
        entries.sort("id", *ORDER)
        .filter(pl.col("value").ne_missing(previous) & ~pl.col("first"))
        .select(*ORDER, "id", "type", changed_field=pl.lit(name), **{name: pl.col("value")})
    )


def _episode_values(summaries: Sequence[EpisodeSummary]) -> pl.DataFrame:
    """The episode objects' attributes: number, seed, reward, end, rows and KPIs."""
    kpis = list(dict.fromkeys(name for summary in summaries for name in summary.kpis))
    return pl.DataFrame(
        {
            "id": [f"ep{s.episode}" for s in summaries],
            "number": [s.episode for s in summaries],
            "seed": [s.seed for s in summaries],
            "total_reward": [s.total_reward for s in summaries],
            "end_time": [s.end_time for s in summaries],
            "rows": [s.rows for s in summaries],
            **{KPI_PREFIX + kpi: [s.kpis.get(kpi) for s in summaries] for kpi in kpis},
        },
        schema={
            "id": pl.String,
            "number": pl.Int64,
            "seed": pl.Int64,
            "total_reward": pl.Float64,
            "end_time": pl.Float64,
            "rows": pl.Int64,
            **{KPI_PREFIX + kpi: pl.Float64 for kpi in kpis},
        },
    )


def _object_types(
    objects: pl.DataFrame,
    vocabulary: Vocabulary,
    kind_quantities: dict[str, list[tuple[str, AttributeType]]],
    episode_values: pl.DataFrame,
) -> tuple[TypeDeclaration, ...]:
    """Kinds (vocabulary order), then things (attribute order), then the episode type;
    only types that have objects."""
    present = set(objects.get_column("type").unique().to_list())
    declared: list[TypeDeclaration] = [
        TypeDeclaration(kind, ((STATE, "string"), *kind_quantities.get(kind, [])))
        for kind in kinds(vocabulary)
        if kind in present
    ]
    declared += [
        TypeDeclaration(a.name)
        for a in vocabulary.attributes
        if a.name in present and a.name not in {d.name for d in declared}
    ]
    if EPISODE_TYPE in present:
        declared.append(
            TypeDeclaration(
                EPISODE_TYPE,
                tuple(
                    (name, "int64" if dtype == pl.Int64 else "float64")
                    for name, dtype in episode_values.schema.items()
                    if name != "id"
                ),
            )
        )
    return tuple(declared)
