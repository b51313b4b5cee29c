"""Big-table figures for ``make bench``: synthetic tables of 10^5 to 10^7 rows, generated
here into a temporary folder (never committed), and what reading them costs.

Per table size it prints the time and peak memory (RSS) of ``simreel inspect``, of a
still of one episode (``render --still``) and of a 10 s window movie (``render --from
--to``), each a fresh ``simreel`` process, as a user runs them; and for reference a
polars lazy scan of the same window. Peak RSS is the largest resident size of the
process or of any child it waited for (ffmpeg), from ``wait4``.

The tables are of a made-up plant with no painter (so the generic timeline draws them):
``actors`` machines (kind ``machine``) going idle → busy → blocked at random, each busy
interval carrying the item it works on, a queue whose level is a quantity and a
``finished`` counter, over 10 episodes; the still and the window are in the middle of
the last episode. Figures, never pass/fail: the targets are in the issue, the tests
prove the pruning itself (``tests/test_big_tables.py``).

Run ``python -m stages.bench_tables --sizes 1e5,1e6,1e7`` (``make bench-tables``) for
the 10^7-row table, which takes minutes to generate.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from schemas.events import EventWriter
from schemas.vocabulary import Actor, Attribute, Vocabulary

EPISODES: Final = 10
"""Episodes per table unless a size says otherwise (``1e6:1``: one long episode)."""
MEAN_SECONDS: Final = 2.0
"""Mean length of a machine's interval: 100 machines then make 50 rows per second."""
WINDOW_SECONDS: Final = 10.0
DEFAULT_SIZES: Final = (
    (100_000, 100, EPISODES),
    (1_000_000, 100, EPISODES),
    (1_000_000, 1_000, EPISODES),
)
"""(rows, machines, episodes) that ``make bench`` measures; 10^7 rows is ``make bench-tables``."""
_STATES: Final = ("idle", "busy", "blocked")


def vocabulary(machines: int) -> Vocabulary:
    """The synthetic plant: `machines` machines, a queue (a level) and a counter."""
    return Vocabulary(
        actors=(
            *(Actor(f"machine_{k:04d}", _STATES, kind="machine") for k in range(machines)),
            Actor("queue", ("length",), kind="queue"),
            Actor("finished", ("count",), kind="counter"),
        ),
        attributes=(
            Attribute("item", "int64", "the item a busy machine works on"),
            Attribute("level", "int64", "items waiting in the queue", quantity=True),
            Attribute("count", "int64", "items finished so far", quantity=True),
        ),
    )


def _episode(rng: np.random.Generator, rows: int, machines: int) -> tuple[pa.Table, float]:
    """One episode of about `rows` rows in emission (start) order, and its end time."""
    wanted = max(2 * machines, round(0.9 * rows))
    per_actor = round(1.2 * wanted / machines) + 2
    durations = rng.exponential(MEAN_SECONDS, (machines, per_actor)) + 0.01
    ends = np.cumsum(durations, axis=1)
    # The episode ends when the machines have made about `wanted` intervals in all.
    end_time = float(np.partition(ends.ravel(), wanted - 1)[wanted - 1])
    # Each interval starts where the last one ended (ends - durations may round below it).
    starts = np.concatenate([np.zeros((machines, 1)), ends[:, :-1]], axis=1)
    keep = ends <= end_time
    machine = np.repeat(np.arange(machines), per_actor).reshape(machines, per_actor)[keep]
    state = rng.integers(0, len(_STATES), (machines, per_actor))[keep]
    m_start, m_end = starts[keep], ends[keep]
    # The queue and the counter each hold about 5% of the rows.
    changes = max(2, round(0.05 * rows))
    times = np.sort(rng.uniform(0.0, end_time, changes))
    q_start = np.concatenate([[0.0], times])
    q_end = np.concatenate([times, [end_time]])
    level = np.abs(np.cumsum(rng.integers(-1, 2, len(q_start))))
    count = np.arange(len(q_start), dtype=np.int64)
    names = np.array([f"machine_{k:04d}" for k in range(machines)], dtype=object)
    actor = np.concatenate(
        [
            names[machine],
            np.full(len(q_start), "queue", object),
            np.full(len(q_start), "finished", object),
        ]
    )
    state_names = np.array(_STATES, dtype=object)
    states = np.concatenate(
        [
            state_names[state],
            np.full(len(q_start), "length", object),
            np.full(len(q_start), "count", object),
        ]
    )
    start = np.concatenate([m_start, q_start, q_start])
    end = np.concatenate([m_end, q_end, q_end])
    m, q = len(m_start), len(q_start)
    busy = state == 1
    order = np.argsort(start, kind="stable")

    def column(values: Sequence[np.ndarray], valid: Sequence[np.ndarray]) -> pa.Array:
        """An int64 column from (machines, queue, counter) parts, null where not valid."""
        data = np.concatenate([np.asarray(v, np.int64) for v in values])[order]
        return pa.array(data, mask=~np.concatenate(valid)[order])

    yes, no = np.ones(q, bool), np.zeros(q, bool)
    zeros = np.zeros(q, np.int64)
    table = pa.table(
        {
            "actor": pa.array(actor[order], pa.string()),
            "state": pa.array(states[order], pa.string()),
            "start": pa.array(start[order]),
            "end": pa.array(end[order]),
            "item": column([rng.integers(0, 1_000_000, m), zeros, zeros], [busy, no, no]),
            "level": column([np.zeros(m), level, zeros], [np.zeros(m, bool), yes, no]),
            "count": column([np.zeros(m), zeros, count], [np.zeros(m, bool), no, yes]),
        }
    )
    return table, end_time


def generate(
    path: Path, rows: int, machines: int, *, episodes: int = EPISODES, seed: int = 0
) -> tuple[int, float]:
    """Write a synthetic table of about `rows` rows over `episodes` episodes; returns its
    row count and the last episode's end time."""
    rng = np.random.default_rng(seed)
    total, end_time = 0, 0.0
    with EventWriter(
        path,
        domain_id="bench-plant",
        domain_version=0,
        vocabulary=vocabulary(machines),
        provenance={"writer": "stages.bench_tables", "seed": seed},
    ) as writer:
        for _ in range(episodes):
            table, end_time = _episode(rng, rows // episodes, machines)
            writer.add_rows(table, end_time=end_time)
            total += table.num_rows
    return total, end_time


@dataclass(frozen=True)
class Measure:
    """One command's wall time and peak resident memory."""

    seconds: float
    peak_mb: float
    code: int


_LAUNCHER: Final = """
import os, subprocess, sys, time
started = time.perf_counter()
child = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL)
_, status, usage = os.wait4(child.pid, 0)
print(time.perf_counter() - started, usage.ru_maxrss, os.waitstatus_to_exitcode(status))
"""
"""Runs a command and prints its wall time, peak RSS (KiB) and exit code. Why a launcher:
a child's peak RSS counts the pages it shared with its parent before ``exec``, so it must
be forked from a small process, not from this one, which holds the generated tables."""


def measure(argv: Sequence[str]) -> Measure:
    """Run `argv` in a fresh process; its wall time and the peak RSS of it or any child it
    waited for (``wait4`` reports the process tree's maximum)."""
    env = {**os.environ, "SDL_VIDEODRIVER": "dummy", "PYGAME_HIDE_SUPPORT_PROMPT": "1"}
    result = subprocess.run(
        [sys.executable, "-c", _LAUNCHER, *argv],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    seconds, kilobytes, code = result.stdout.split()
    if int(code):
        sys.stderr.write(result.stderr)
    return Measure(float(seconds), int(kilobytes) / 1024, int(code))


def _simreel(*argv: str) -> list[str]:
    return [
        sys.executable,
        "-c",
        "import sys; from stages.cli import main; main(sys.argv[1:])",
        *argv,
    ]


def _polars_window(path: Path, episode: int, low: float, high: float) -> list[str]:
    code = (
        "import sys, polars as pl; "
        f"pl.scan_parquet(sys.argv[1]).filter((pl.col('episode') == {episode}) & "
        f"(pl.col('start') <= {high!r}) & (pl.col('end') >= {low!r})).collect()"
    )
    return [sys.executable, "-c", code, str(path)]


def _render(path: Path, folder: Path, episode: int, window: tuple[float, float]) -> list[str]:
    """A still at `window`'s start when it has no width, else a movie of the window."""
    low, high = window
    argv = ["render", str(path), "--episode", str(episode)]
    if low == high:
        return _simreel(*argv, "--still", f"{low!r}", "--out", str(folder / "still.png"))
    return _simreel(
        *argv, "--from", f"{low!r}", "--to", f"{high!r}", "--out", str(folder / "window.mp4")
    )


def _without_layout(path: Path, out: Path) -> Path:
    """`path` as a table written without the layout: pyarrow's default row groups, and
    no ``layout`` in the metadata (as by hand or by an older simreel)."""
    table = pq.read_table(path)
    document = json.loads(pq.read_metadata(path).metadata[b"simreel"])
    document.pop("layout")
    pq.write_table(table.replace_schema_metadata({"simreel": json.dumps(document)}), out)
    return out


def bench_size(
    folder: Path, rows: int, machines: int, episodes: int = EPISODES, *, legacy: bool = False
) -> dict[str, Measure | float | int]:
    """Generate one table and measure what reading it costs (`legacy`: also the still and
    the window of the same table written without the layout, read whole)."""
    path = folder / f"plant-{rows}-{machines}.parquet"
    started = time.perf_counter()
    written, end_time = generate(path, rows, machines, episodes=episodes)
    generated = time.perf_counter() - started
    episode = episodes - 1
    middle = end_time / 2
    window = (middle, middle + WINDOW_SECONDS)
    found: dict[str, Measure | float | int] = {
        "rows": written,
        "machines": machines,
        "megabytes": path.stat().st_size / 1e6,
        "generated": generated,
        "inspect": measure(_simreel("inspect", str(path))),
        "still": measure(_render(path, folder, episode, (middle, middle))),
        "window": measure(_render(path, folder, episode, window)),
        "polars": measure(_polars_window(path, episode, *window)),
    }
    if legacy:
        whole = _without_layout(path, folder / "legacy.parquet")
        found["legacy still"] = measure(_render(whole, folder, episode, (middle, middle)))
        found["legacy window"] = measure(_render(whole, folder, episode, window))
    return found


def _cell(found: Measure | float | int) -> str:
    if not isinstance(found, Measure):
        return str(found)
    failed = "" if found.code == 0 else f" (exit {found.code})"
    return f"{found.seconds:6.1f} s {found.peak_mb:6.0f} MB{failed}"


LEGACY_MAX_ROWS: Final = 1_000_000
"""Largest table measured without the layout too: read whole, 10^7 rows need minutes and
gigabytes (the issue's figures), too much for a shared machine."""


def run(sizes: Sequence[tuple[int, int, int]] = DEFAULT_SIZES, *, legacy: bool = False) -> None:
    """Print the figures for each (rows, machines, episodes) in `sizes`; `legacy` adds a
    line per size up to :data:`LEGACY_MAX_ROWS` for the same table without the layout."""
    print(
        f"synthetic tables: machines' intervals {MEAN_SECONDS:g} s on average; still and "
        f"{WINDOW_SECONDS:g} s window in the middle of the last episode"
    )
    header = f"{'rows':>10} {'actors':>6} {'eps':>4} {'file':>7}  {'inspect':>16}  {'still':>16}  "
    header += f"{'10 s window':>16}  {'polars window':>16}"
    print(header, flush=True)
    with tempfile.TemporaryDirectory(prefix="simreel-bench-") as folder:
        baseline: float | None = None
        for rows, machines, episodes in sizes:
            found = bench_size(
                Path(folder),
                rows,
                machines,
                episodes,
                legacy=legacy and rows <= LEGACY_MAX_ROWS,
            )
            window = found["window"]
            line = (
                f"{found['rows']:>10,} {machines:>6} {episodes:>4} {found['megabytes']:5.0f}MB  "
                f"{_cell(found['inspect'])}  {_cell(found['still'])}  "
                f"{_cell(window)}  {_cell(found['polars'])}"
            )
            if isinstance(window, Measure):
                baseline = window.seconds if baseline is None else baseline
                line += f"  window {window.seconds / baseline:.1f}x the first size's"
            print(line, flush=True)
            if "legacy still" in found:
                print(
                    f"{'  same, without the layout (read whole):':<{32 + 18}}"
                    f"{_cell(found['legacy still'])}  {_cell(found['legacy window'])}",
                    flush=True,
                )
            for name in Path(folder).iterdir():
                name.unlink()


def _sizes(text: str) -> list[tuple[int, int, int]]:
    """``1e5,1e6,1e7``, each optionally ``xMACHINES`` and ``:EPISODES`` (``1e6x1000``,
    ``1e6:1``); machines default to 100, episodes to :data:`EPISODES`."""
    sizes = []
    for part in text.split(","):
        size, _, episodes = part.partition(":")
        rows, _, machines = size.partition("x")
        sizes.append((int(float(rows)), int(machines or 100), int(episodes or EPISODES)))
    return sizes


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--sizes",
        type=_sizes,
        default=list(DEFAULT_SIZES),
        help="comma-separated row counts, each optionally xMACHINES (default: 1e5,1e6,1e6x1000)",
    )
    parser.add_argument(
        "--legacy",
        action="store_true",
        help="also measure the still and the window of each table (up to 10^6 rows) "
        "written without the layout, which is read whole",
    )
    arguments = parser.parse_args(argv)
    run(arguments.sizes, legacy=arguments.legacy)


if __name__ == "__main__":
    main()
