"""simreel's own OCEL 2.0 JSON writer: microsecond times, typed values, streamed.

The layout is the OCEL 2.0 JSON format (``eventTypes``, ``objectTypes``, ``events``,
``objects``; ocel-standard.org, "JSON"): attribute values are JSON numbers, strings or
booleans as their type declares (a float NaN, which JSON cannot hold, is ``null``);
times are ISO 8601 in UTC with six decimals (``1970-01-01T00:00:05.250000Z``). pm4py's
own writer would round times to whole seconds, merging the many events a simulation has
within one second.

Every event and object is rendered to its JSON text by polars expressions (strings are
escaped by polars' JSON encoder, so text from the table cannot break the file), then
written a chunk at a time: no Python work per event.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Final

import polars as pl

from schemas.atomic import atomic_output
from stages.export.model import JSON_TYPES, OcelLog, Progress, TypeDeclaration

JSON_TIME: Final = "%Y-%m-%dT%H:%M:%S%.6fZ"
"""strftime format of every time in the JSON file."""
CHUNK: Final = 100_000
"""Events or objects rendered and written at a time (bounds the memory for text)."""


def write_json(log: OcelLog, path: Path, progress: Progress | None = None) -> None:
    """Write `log` to `path` as OCEL 2.0 JSON, atomically; `progress` is told each time
    a chunk of events or objects is written."""
    done = progress or (lambda _: None)
    with atomic_output(path) as temporary, temporary.open("w", encoding="utf-8") as out:
        out.write('{\n"eventTypes": ' + _types(log.event_types))
        out.write(',\n"objectTypes": ' + _types(log.object_types))
        out.write(',\n"events": [')
        _write_items(out, _event_texts(log), done)
        out.write('\n],\n"objects": [')
        _write_items(out, _object_texts(log), done)
        out.write("\n]\n}\n")


def json_text(value: pl.Expr) -> pl.Expr:
    """Per row: `value` as a JSON literal (a quoted, escaped string; a number; true or
    false; null), by polars' JSON encoder."""
    return pl.struct(value.alias("v")).struct.json_encode().str.slice(5).str.head(-1)


def _types(declarations: Iterable[TypeDeclaration]) -> str:
    return json.dumps(
        [
            {
                "name": declaration.name,
                "attributes": [
                    {"name": name, "type": JSON_TYPES[kind]}
                    for name, kind in declaration.attributes
                ],
            }
            for declaration in declarations
        ],
        ensure_ascii=False,
    )


def _event_texts(log: OcelLog) -> Iterable[tuple[int, list[str]]]:
    """Per chunk of events: their number plus their relations', and their JSON texts as
    pieces to concatenate.

    An event's relationships are many rows of ``log.relations``; rather than gathering
    them per event (a slow string aggregation), each relation row becomes one piece: the
    first of an event carries the event's head, the last closes it.
    """
    names = [name for name in log.events.columns if name not in ("id", "type", "time")]
    attributes = [
        pl.when(pl.col(name).is_not_null()).then(
            pl.concat_str(_open_item(name), json_text(pl.col(name)), pl.lit("}"))
        )
        for name in names
    ]
    head = pl.concat_str(
        pl.lit(',\n{"id":'),
        json_text(pl.col("id")),
        pl.lit(',"type":'),
        json_text(pl.col("type")),
        pl.lit(',"time":"'),
        pl.col("time").dt.strftime(JSON_TIME),
        pl.lit('","attributes":['),
        pl.concat_str(attributes, separator=",", ignore_nulls=True) if attributes else pl.lit(""),
        pl.lit('],"relationships":['),
    )
    item = pl.concat_str(
        pl.lit('{"objectId":'),
        json_text(pl.col("object_id")),
        pl.lit(',"qualifier":'),
        json_text(pl.col("qualifier")),
        pl.lit("}"),
    )
    indices = log.relations.get_column("event_index")
    for offset in range(0, log.events.height, CHUNK):
        heads = (
            log.events.slice(offset, CHUNK)
            .select(head.alias("head"))
            .with_row_index("event_index", offset)
        )
        bounds = pl.Series([offset, offset + heads.height], dtype=indices.dtype)
        low, high = indices.search_sorted(bounds, side="left").to_list()
        related = log.relations.slice(low, high - low).select("event_index", item.alias("item"))
        lonely = heads.join(related, on="event_index", how="anti").select(
            "event_index", pl.lit(None, pl.String).alias("item")
        )
        index = pl.col("event_index")
        pieces = (
            pl.concat([related, lonely])
            .sort("event_index", maintain_order=True)
            .join(heads, on="event_index", how="left", maintain_order="left")
            .select(
                pl.concat_str(
                    # A chunk holds whole events: its first row opens one, its last closes one.
                    pl.when(index.ne_missing(index.shift(1)))
                    .then(pl.col("head"))
                    .otherwise(pl.when(pl.col("item").is_not_null()).then(pl.lit(","))),
                    pl.col("item"),
                    pl.when(index.ne_missing(index.shift(-1))).then(pl.lit("]}")),
                    ignore_nulls=True,
                )
            )
        )
        yield heads.height + related.height, pieces.to_series().to_list()


def _object_texts(log: OcelLog) -> Iterable[tuple[int, list[str]]]:
    """Per chunk of objects: their number and JSON texts, in the order of ``log.objects``.

    Objects are fewer than events, so their attribute values and relationships are
    gathered per object with a group-by.
    """
    values = pl.concat(
        [
            pl.DataFrame(schema={"id": pl.String, "item": pl.String}),
            *(_value_items(frame) for frame in log.object_values.values()),
        ]
    )
    attributes = values.group_by("id", maintain_order=True).agg(
        attributes=pl.col("item").str.join(",")
    )
    link = pl.concat_str(
        pl.lit('{"objectId":'),
        json_text(pl.col("target_id")),
        pl.lit(',"qualifier":'),
        json_text(pl.col("qualifier")),
        pl.lit("}"),
    )
    links = (
        log.links.select(pl.col("source_id").alias("id"), link.alias("item"))
        .group_by("id", maintain_order=True)
        .agg(links=pl.col("item").str.join(","))
    )
    objects = log.objects.join(attributes, on="id", how="left", maintain_order="left").join(
        links, on="id", how="left", maintain_order="left"
    )
    for offset in range(0, objects.height, CHUNK):
        chunk = objects.slice(offset, CHUNK).select(
            pl.concat_str(
                pl.lit(',\n{"id":'),
                json_text(pl.col("id")),
                pl.lit(',"type":'),
                json_text(pl.col("type")),
                pl.lit(',"attributes":['),
                pl.col("attributes").fill_null(""),
                pl.lit('],"relationships":['),
                pl.col("links").fill_null(""),
                pl.lit("]}"),
            )
        )
        yield chunk.height, chunk.to_series().to_list()


def _value_items(frame: pl.DataFrame) -> pl.DataFrame:
    """``id`` and the JSON text of each attribute value of `frame` (an object type's rows:
    the first values, then one row per change), in row order."""
    names = [name for name in frame.columns if name not in ("id", "time", "changed_field")]
    time = pl.col("time").dt.strftime(JSON_TIME)
    items = [
        pl.when(
            pl.col(name).is_not_null()
            & (pl.col("changed_field").is_null() | (pl.col("changed_field") == name))
        ).then(
            pl.concat_str(
                pl.lit('{"name":' + json.dumps(name, ensure_ascii=False) + ',"time":"'),
                time,
                pl.lit('","value":'),
                json_text(pl.col(name)),
                pl.lit("}"),
            )
        )
        for name in names
    ]
    item = pl.concat_str(items, separator=",", ignore_nulls=True) if items else pl.lit("")
    return frame.select("id", item.alias("item")).filter(pl.col("item") != "")


def _open_item(name: str) -> pl.Expr:
    return pl.lit('{"name":' + json.dumps(name, ensure_ascii=False) + ',"value":')


def _write_items(out: IO[str], chunks: Iterable[tuple[int, list[str]]], done: Progress) -> None:
    """Write the pieces of JSON array items; each item's text starts with ``,\\n``, which
    the array's first item must not have."""
    first = True
    for count, texts in chunks:
        if not texts:
            continue
        text = "".join(texts)
        out.write(text[1:] if first else text)
        first = False
        done(count)
