"""Render-stage figures for ``make bench`` (figures, never pass/fail).

Prints, for the default factory movie (1280 x 720, 30 fps, 5x speed, preset medium):
- frames/s rendering the whole movie (paint + pipe + encode), best of 2;
- frames/s of the same episode side by side with itself (``--side-by-side``, 1920 x
  1080), and its share of the single movie's;
- frames/s encoding the same frames alone (pre-painted into a raw file that is
  ffmpeg's stdin, so no Python runs while it encodes), and the ratio of the two;
- the world look-up time per frame for the episode tiled to 1x, 10x and 100x its rows;
- frames/s of the world look-up with ~100 and ~10,000 short-lived instances arriving at
  the same rate (so about as many alive at once): it should barely change;
- the import time of the render stage (a fresh interpreter);
- peak memory of this process and of the ffmpeg children;
- big tables (:mod:`stages.bench_tables`): time and peak memory of ``inspect``, a still
  and a 10 s window of synthetic tables of 10^5 and 10^6 rows, generated in a temporary
  folder (``make bench-tables`` adds 10^7 rows).
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from schemas.events import read_events
from schemas.vocabulary import Actor, ShortLivedKind, Vocabulary
from stages import bench_tables
from stages.render.compositor import Side, SideBySide
from stages.render.movie import (
    DEFAULT_CRF,
    FramePlan,
    encode_frames,
    ffmpeg_command,
    frame_pixels,
    frame_surface,
    raw_pixel_format,
    write_movie,
)
from stages.render.painters import choose_painter
from stages.render.world import World, load_scene

_ROUNDS = 2
_TABLES = (Path("data/events/factory.parquet"), Path("data/fixtures/factory-v1.parquet"))


def _tiled(table: pa.Table, copies: int, duration: float) -> pa.Table:
    """`table`'s rows repeated `copies` times, each copy shifted `duration` later."""
    parts = []
    for k in range(copies):
        shift = k * duration
        part = table.set_column(
            table.schema.get_field_index("start"), "start", pc.add(table.column("start"), shift)
        )
        part = part.set_column(
            part.schema.get_field_index("end"), "end", pc.add(part.column("end"), shift)
        )
        parts.append(part)
    return pa.concat_tables(parts)


def _lookup_microseconds(world: World, span: float, samples: int = 3000) -> float:
    times = np.random.default_rng(0).uniform(0.0, span, samples).tolist()
    started = time.perf_counter()
    for t in times:
        world.at(t)
    return (time.perf_counter() - started) / samples * 1e6


_CROWD = Vocabulary(
    actors=(Actor("till", ("open",)),),
    short_lived=(ShortLivedKind("customer", "customer_", ("arriving", "queued", "served")),),
)


def _crowd(instances: int, gap: float) -> tuple[pa.Table, float]:
    """A synthetic episode: a customer every `gap` s, each alive 7 to 37 s in three states."""
    rng = np.random.default_rng(0)
    arrivals = np.arange(instances) * gap
    waits = rng.uniform(0.0, 30.0, instances)
    bounds = np.stack([arrivals, arrivals + 2.0, arrivals + 2.0 + waits, arrivals + 7.0 + waits])
    names = [f"customer_{k}" for k in range(instances)]
    end = float(bounds[-1].max())
    actor = [*(name for name in names for _ in range(3)), "till"]
    state = [*(("arriving", "queued", "served") * instances), "open"]
    start = [*bounds[:-1].T.ravel().tolist(), 0.0]
    stop = [*bounds[1:].T.ravel().tolist(), end]
    order = np.argsort(start, kind="stable")
    table = pa.table(
        {
            "episode": pa.array(np.zeros(len(order), np.int32)),
            "seq": pa.array(np.arange(len(order), dtype=np.int64)),
            "actor": pa.array([actor[i] for i in order], pa.string()),
            "state": pa.array([state[i] for i in order], pa.string()),
            "start": pa.array(np.asarray(start)[order]),
            "end": pa.array(np.asarray(stop)[order]),
        }
    )
    return table, end


def _print_short_lived(samples: int = 3000) -> None:
    for instances in (100, 10_000):
        table, end = _crowd(instances, gap=3.0)
        started = time.perf_counter()
        world = World(table, _CROWD)
        build = time.perf_counter() - started
        micro = _lookup_microseconds(world, end, samples)
        alive = np.mean(
            [len(world.at(t).instances("customer")) for t in np.linspace(0.0, end, 200)]
        )
        print(
            f"look-up, {instances:>6} short-lived instances: {1e6 / micro:9,.0f} frames/s "
            f"({alive:.1f} alive on average; World built in {build * 1000:.0f} ms)"
        )


def _import_seconds() -> float:
    code = (
        "import time; t = time.perf_counter(); import stages.render.cli, stages.render.movie; "
        "print(time.perf_counter() - t)"
    )
    env = {**os.environ, "SDL_VIDEODRIVER": "dummy", "PYGAME_HIDE_SUPPORT_PROMPT": "1"}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    return float(result.stdout.strip().splitlines()[-1])


def run() -> None:
    """Print the render figures (see the module docstring)."""
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    table_path = next((path for path in _TABLES if path.is_file()), None)
    if table_path is None:
        print("no factory table: run `make record` (or add data/fixtures/factory-v1.parquet)")
        _print_short_lived()
        _print_big_tables()
        return
    table = read_events(table_path)
    scene, world = load_scene(table, 0)
    painter = choose_painter(scene).painter
    plan = FramePlan(start=scene.start_time, end=scene.end_time, fps=30, speed=5.0)
    print(f"table {table_path}: {len(scene.table)} rows; movie {plan.total} frames")

    with tempfile.TemporaryDirectory() as folder:
        movie = Path(folder) / "bench.mp4"
        # The same frames, pre-painted to disk, to be encoded with nothing else running.
        raw = Path(folder) / "frames.raw"
        surface = frame_surface(painter.size)
        started = time.perf_counter()
        with raw.open("wb") as sink:
            for at, copies in plan.schedule():
                painter.draw(surface, world.at(at))
                with frame_pixels(surface) as pixels:
                    for _ in range(copies):
                        sink.write(pixels)
        paint_fps = plan.total / (time.perf_counter() - started)
        command = ffmpeg_command(
            Path(folder) / "encode-only.mp4",
            surface.get_size(),
            plan.fps,
            raw_pixel_format(surface),
            "medium",
            DEFAULT_CRF,
        )
        # The same episode against itself, side by side on one 1080p frame.
        side = Side(table_path, table, scene, world)
        composer = SideBySide(
            [side, side], lambda s, k: choose_painter(s, scale=k).painter, scale=1.0
        )
        # Alternate the runs and keep each one's best: other load on a shared
        # machine then hits all alike instead of skewing the ratios.
        render_fps = encode_fps = side_fps = 0.0
        for _ in range(_ROUNDS):
            started = time.perf_counter()
            write_movie(painter, world, plan, movie, preset="medium")
            render_fps = max(render_fps, plan.total / (time.perf_counter() - started))
            started = time.perf_counter()
            encode_frames(composer.draw, composer.size, plan, movie, preset="medium")
            side_fps = max(side_fps, plan.total / (time.perf_counter() - started))
            with raw.open("rb") as source:
                started = time.perf_counter()
                subprocess.run(command, stdin=source, check=True)
                encode_fps = max(encode_fps, plan.total / (time.perf_counter() - started))
        raw.unlink()

    print(f"render (paint + pipe + encode): {render_fps:7.1f} frames/s")
    print(f"encode only (same frames):      {encode_fps:7.1f} frames/s")
    print(f"ratio render / encode-only:     {render_fps / encode_fps:7.1%}  (target >= 85%)")
    print(f"paint + write to disk only:     {paint_fps:7.1f} frames/s")
    width, height = composer.size
    share = width * height / (painter.size[0] * painter.size[1])
    print(
        f"side by side ({width} x {height}):   {side_fps:7.1f} frames/s "
        f"({side_fps / render_fps:.0%} of one movie; {share:.2f}x its pixels)"
    )

    duration = scene.end_time - scene.start_time
    for copies in (1, 10, 100):
        tiled = World(_tiled(scene.table, copies, duration), scene.vocabulary)
        micro = _lookup_microseconds(tiled, duration * copies)
        print(f"look-up per frame, {copies:>3}x rows ({len(tiled.table):>6}): {micro:6.1f} µs")
    _print_short_lived()
    print(f"import of the render stage:     {_import_seconds() * 1000:7.0f} ms")
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"peak memory: this process {own:.0f} MB, largest child (ffmpeg) {children:.0f} MB")
    _print_big_tables()


def _print_big_tables() -> None:
    """Cost of reading big tables: each figure from a fresh process (stages.bench_tables)."""
    print()
    bench_tables.run(bench_tables.DEFAULT_SIZES)


if __name__ == "__main__":
    run()
