"""Support for the big-table tests (no tests here): small tables in the pruning layout.

The tables are regular on purpose, so which row groups a window needs is known by
counting: ``ACTORS`` machines each run back-to-back 1 s intervals, so every second
holds ``len(ACTORS)`` rows, and with ``ROWS_PER_GROUP`` rows per row group each row
group is a time slice of ``ROWS_PER_GROUP / len(ACTORS)`` seconds.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

import numpy as np
import pyarrow as pa

from schemas.events import EventWriter
from schemas.vocabulary import Actor, Attribute, ShortLivedKind, Vocabulary

ACTORS: Final = ("press", "drill", "lathe")
ROWS_PER_GROUP: Final = 6
"""Two seconds of the three machines per row group."""
SECONDS: Final = 20
"""Length of every episode; each has 3 x 20 = 60 rows, 10 row groups."""
VOCABULARY: Final = Vocabulary(
    actors=(
        *(Actor(name, ("idle", "busy"), kind="machine") for name in ACTORS),
        Actor("shift", ("on",), kind="shift"),
    ),
    short_lived=(ShortLivedKind("job", "job_", ("queued", "worked")),),
    attributes=(Attribute("item", "int64", "the item being worked on"),),
)


def machine_rows(seconds: int = SECONDS, *, offset: int = 0) -> pa.Table:
    """Each machine busy or idle in turn for 1 s, back to back, in start (emission) order;
    busy intervals carry an item number."""
    actor, state, start, item = [], [], [], []
    for t in range(seconds):
        for k, name in enumerate(ACTORS):
            busy = (t + k) % 2 == 0
            actor.append(name)
            state.append("busy" if busy else "idle")
            start.append(float(t))
            item.append(offset + 100 * k + t if busy else None)
    starts = np.asarray(start)
    return pa.table(
        {
            "actor": pa.array(actor, pa.string()),
            "state": pa.array(state, pa.string()),
            "start": pa.array(starts),
            "end": pa.array(starts + 1.0),
            "item": pa.array(item, pa.int64()),
        }
    )


def with_rows(table: pa.Table, extra: list[tuple[str, str, float, float]]) -> pa.Table:
    """`table` plus `extra` rows (actor, state, start, end), re-sorted by start (stable)."""
    more = pa.table(
        {
            "actor": pa.array([row[0] for row in extra], pa.string()),
            "state": pa.array([row[1] for row in extra], pa.string()),
            "start": pa.array([row[2] for row in extra], pa.float64()),
            "end": pa.array([row[3] for row in extra], pa.float64()),
            "item": pa.nulls(len(extra), pa.int64()),
        }
    )
    both = pa.concat_tables([table, more])
    order = np.argsort(both.column("start").to_numpy(), kind="stable")
    return both.take(pa.array(order))


def write_plant(
    path: Path,
    episodes: list[pa.Table],
    *,
    rows_per_group: int = ROWS_PER_GROUP,
    end_time: float = SECONDS,
) -> Path:
    """Write `episodes` (rows as :func:`machine_rows` gives them) in the pruning layout."""
    with EventWriter(
        path,
        domain_id="plant",
        domain_version=0,
        vocabulary=VOCABULARY,
        provenance={"writer": "tests"},
        row_group_rows=rows_per_group,
    ) as writer:
        for rows in episodes:
            writer.add_rows(rows, end_time=end_time)
    return path
