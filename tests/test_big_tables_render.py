"""``simreel render`` reads what it draws: a still or a window of one episode reads only
that episode's row groups that show in it, and draws exactly what a whole read draws.

Proved by recording which row groups the renderer asks pyarrow for (never by a time),
on small tables in row groups of six rows (``tests/big_tables_support.py``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pygame
import pytest

from schemas.events import read_events
from schemas.windows import open_events
from stages.bench_tables import EPISODES, generate
from stages.render.cli import RenderOptions, render
from stages.render.world import WindowScene, World, load_scene, read_scene
from tests.big_tables_support import (
    ACTORS,
    SECONDS,
    VOCABULARY,
    machine_rows,
    with_rows,
    write_plant,
)


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, ...] | str]:
    """Every read of row data: the row groups asked for, or "all" for a whole-file read."""
    found: list[tuple[int, ...] | str] = []
    real_groups = pq.ParquetFile.read_row_groups
    real_read = pq.ParquetFile.read

    def read_row_groups(self: pq.ParquetFile, row_groups: list[int], **options: object) -> pa.Table:
        found.append(tuple(row_groups))
        return real_groups(self, row_groups, **options)

    def read(self: pq.ParquetFile, **options: object) -> pa.Table:
        found.append("all")
        return real_read(self, **options)

    monkeypatch.setattr(pq.ParquetFile, "read_row_groups", read_row_groups)
    monkeypatch.setattr(pq.ParquetFile, "read", read)
    return found


def _jobs(seconds: int) -> list[tuple[str, str, float, float]]:
    """A job arriving every second, queued 1.5 s, worked 2 s."""
    rows = []
    for k in range(seconds - 4):
        rows += [
            (f"job_{k}", "queued", k + 0.25, k + 1.75),
            (f"job_{k}", "worked", k + 1.75, k + 3.75),
        ]
    return rows


def _plant(path: Path) -> Path:
    busy = with_rows(machine_rows(), [("shift", "on", 0.0, SECONDS), *_jobs(SECONDS)])
    return write_plant(path, [machine_rows(), busy, machine_rows()])


def test_a_still_reads_only_its_episodes_slices(tmp_path: Path, reads: list[object]) -> None:
    path = _plant(tmp_path / "plant.parquet")
    render(RenderOptions(table=path, episode=1, still=12.5, out=tmp_path / "still.png"))
    # Episode 1's rows are in row groups 10 to 10 + n: the still read its first slice
    # (the shift, on since 0) and the slices around t = 12.5, nothing of episodes 0 and 2.
    source = open_events(path)
    first, count = source.metadata.layout.episodes[1]
    assert len(reads) == 1
    assert reads[0] != "all"
    read = set(reads[0])
    assert read < set(range(first, first + count)), "only episode 1, not all of it"
    assert first in read, "the slice with the shift's interval, still open at 12.5"
    assert len(read) <= 4
    assert pygame.image.load(str(tmp_path / "still.png")).get_width() == 1280


def test_a_window_movie_reads_only_its_slices(tmp_path: Path, reads: list[object]) -> None:
    path = _plant(tmp_path / "plant.parquet")
    options = RenderOptions(
        table=path, episode=2, start=4.0, end=7.0, fps=2, preset="ultrafast", out=tmp_path / "w.mp4"
    )
    render(options)
    layout = open_events(path).metadata.layout
    assert layout is not None
    first = layout.episodes[2][0]
    # Slice k of an episode holds the starts 2k and 2k + 1; the window shows the
    # intervals starting at 3 (ending at 4) to 7.
    assert reads == [(first + 1, first + 2, first + 3)]


def test_a_table_without_the_layout_still_renders_by_reading_it_whole(
    tmp_path: Path, reads: list[object]
) -> None:
    path = _plant(tmp_path / "plant.parquet")
    legacy = tmp_path / "legacy.parquet"
    table = pq.read_table(path)
    document = pq.read_metadata(path).metadata[b"simreel"].replace(b'"layout"', b'"x_layout"')
    pq.write_table(table.replace_schema_metadata({b"simreel": document}), legacy)
    render(RenderOptions(table=legacy, episode=1, still=12.5, out=tmp_path / "still.png"))
    assert reads == ["all"]


# -- the world of a window is the world of the episode, inside the window ---------------------


def _states(world: World, time: float) -> dict[str, tuple[str, float, float, object]]:
    frame = world.at(time)
    found = {name: (s.state, s.start, s.end, s.attr("item")) for name, s in frame.states.items()}
    for kind, alive in frame.short_lived.items():
        for s in alive:
            found[f"{kind}:{s.actor}"] = (s.state, s.start, s.end, s.attr("item"))
    return found


@pytest.mark.parametrize("window", [(12.5, 12.5), (3.0, 9.5), (0.0, 2.0), (19.0, SECONDS)])
def test_the_world_of_a_window_matches_the_world_of_the_whole_episode(
    tmp_path: Path, window: tuple[float, float]
) -> None:
    path = _plant(tmp_path / "plant.parquet")
    _, scene, world = read_scene(open_events(path), 1, window)
    _, whole = load_scene(read_events(path), 1)
    assert isinstance(scene, WindowScene)
    assert scene.window == window
    assert scene.table.num_rows < whole.table.num_rows
    for time in np.linspace(window[0], window[1], 41):
        assert _states(world, float(time)) == _states(whole, float(time))


def test_a_scene_read_whole_says_so(tmp_path: Path) -> None:
    path = write_plant(tmp_path / "plant.parquet", [machine_rows(3)], rows_per_group=1000)
    _, scene, _ = read_scene(open_events(path), 0, (1.0, 1.0))
    assert isinstance(scene, WindowScene)
    assert scene.window is None
    assert scene.shown == (0.0, SECONDS)
    assert scene.table.num_rows == 3 * len(ACTORS)
    assert scene.vocabulary == VOCABULARY


# -- the benchmark's tables -------------------------------------------------------------------


def test_the_benchmark_generates_valid_tables_in_the_layout(tmp_path: Path) -> None:
    path = tmp_path / "bench.parquet"
    rows, end_time = generate(path, 3_000, 7)
    events = read_events(path)
    assert events.table.num_rows == rows
    assert 2_900 <= rows <= 3_100
    assert len(events.metadata.episodes) == EPISODES
    assert events.metadata.layout is not None
    assert events.metadata.episodes[-1].end_time == end_time
    machines = [a.name for a in events.metadata.vocabulary.actors if a.kind == "machine"]
    assert len(machines) == 7
