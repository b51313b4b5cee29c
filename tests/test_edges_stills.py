"""A still shows the world at exactly the time asked, the same picture as the movie's frame then.

A still taken at ``int(time)`` passed every earlier test: none compared a still at
2.5 s with one at 2.0 s, or a still with the movie's frame at the same instant. At
2.0 s and 2.5 s of the golden factory episode a worker is working, so its machine's
item and progress bar move between them (not only the clock).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pygame
import pytest

from domains.factory.painter import FactoryPainter
from schemas.events import read_events
from stages.render.movie import FramePlan, paint_still, write_movie
from stages.render.world import World, load_scene
from tests.cli_helpers import run_cli

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "data" / "fixtures" / "factory-v2.parquet"
SCALE = 0.5
FLOOR = (24, 104, 1232, 340)
"""The factory floor in design units (x, y, width, height): below the header's clock."""


@pytest.fixture(scope="module")
def factory() -> tuple[FactoryPainter, World]:
    scene, world = load_scene(read_events(GOLDEN), 0)
    return FactoryPainter(scene, scale=SCALE), world


def _pixels(surface: pygame.Surface) -> np.ndarray:
    return pygame.surfarray.array3d(surface).copy()


def _floor(pixels: np.ndarray) -> np.ndarray:
    x, y, width, height = (round(v * SCALE) for v in FLOOR)
    return pixels[x : x + width, y : y + height]


def test_a_still_at_a_fraction_of_a_second_is_not_the_whole_second(
    factory: tuple[FactoryPainter, World],
) -> None:
    painter, world = factory
    half = _pixels(paint_still(painter, world, 2.5))
    whole = _pixels(paint_still(painter, world, 2.0))
    assert not np.array_equal(_floor(half), _floor(whole))  # the floor itself moved
    assert np.array_equal(half, _pixels(paint_still(painter, world, 2.5)))  # and it is stable


def test_a_still_is_the_movies_frame_at_the_same_instant(
    factory: tuple[FactoryPainter, World], tmp_path: Path
) -> None:
    painter, world = factory
    frames: list[np.ndarray] = []
    plan = FramePlan(start=2.0, end=3.0, fps=2, speed=1.0, hold_seconds=0.0)
    assert [time for time, _ in plan.schedule()] == [2.0, 2.5, 3.0]
    write_movie(
        painter,
        world,
        plan,
        tmp_path / "movie.mp4",
        preset="ultrafast",
        on_frame=lambda surface: frames.append(_pixels(surface)),
    )
    for time, frame in zip((2.0, 2.5, 3.0), frames, strict=True):
        assert np.array_equal(_pixels(paint_still(painter, world, time)), frame), time
    assert not np.array_equal(frames[0], frames[1])


def test_render_still_writes_the_picture_of_the_time_it_names(
    factory: tuple[FactoryPainter, World], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    painter, world = factory
    pictures = {}
    for time in ("2", "2.5"):
        out = tmp_path / f"still-{time}.png"
        argv = ["render", str(GOLDEN), "--still", time, "--scale", str(SCALE), "--out", str(out)]
        code, _, err = run_cli(argv, capsys)
        assert code == 0, err
        pictures[time] = _pixels(pygame.image.load(str(out)))
    assert np.array_equal(pictures["2.5"], _pixels(paint_still(painter, world, 2.5)))
    assert not np.array_equal(pictures["2.5"], pictures["2"])
