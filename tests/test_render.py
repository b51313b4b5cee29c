"""The render stage end to end: timing, movies probed with ffmpeg, stills by pixels, errors."""

from __future__ import annotations

import contextlib
import re
import subprocess
from pathlib import Path

import imageio_ffmpeg
import pygame
import pytest

from domains.factory.painter import ITEM, STALLED, WORKING, FactoryPainter
from domains.factory.vocabulary import BUFFER_A, BUFFER_CAPACITY, WORKERS, Attr, WorkerState
from schemas.errors import RenderError
from schemas.events import read_events
from stages.cli import main
from stages.render import movie
from stages.render.movie import FramePlan, paint_still, write_movie
from stages.render.painters import choose_painter
from stages.render.world import World, load_scene
from tests.test_render_tables import write_factory_table, write_invented_table

GOLDEN = Path("data/fixtures/factory-v1.parquet")


@pytest.fixture(scope="module")
def factory_table(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_factory_table(tmp_path_factory.mktemp("tables") / "factory.parquet")


@pytest.fixture(scope="module")
def bakery_table(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_invented_table(tmp_path_factory.mktemp("tables") / "bakery.parquet")


def _probe(movie: Path) -> tuple[str, str, int]:
    """(codec line, frame size, frame count) read by the bundled ffmpeg."""
    result = subprocess.run(
        [
            imageio_ffmpeg.get_ffmpeg_exe(),
            "-hide_banner",
            "-i",
            str(movie),
            "-map",
            "0:v",
            "-c",
            "copy",
            "-f",
            "null",
            "-",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    video = re.search(r"Video: (\w+).*?, (yuv\w+).*?, (\d+x\d+)", result.stderr)
    frames = re.findall(r"frame=\s*(\d+)", result.stderr)
    assert video is not None, result.stderr
    assert frames, result.stderr
    return f"{video.group(1)} {video.group(2)}", video.group(3), int(frames[-1])


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """Run ``simreel`` like a user; returns (exit code, stderr)."""
    try:
        main(argv)
        code = 0
    except SystemExit as exit_info:
        code = int(exit_info.code or 0)
    return code, capsys.readouterr().err


# -- timing ---------------------------------------------------------------------------


def test_frame_plan_shows_every_time_once_plus_held_seconds() -> None:
    plan = FramePlan(start=10.0, end=20.0, fps=30, speed=5.0)
    times = list(plan.video_times())
    assert plan.animated == 61  # 10 s at 1/6 s per frame, both ends included
    assert len(times) == plan.total == 61 + 2 * 30
    assert times[:31] == [10.0] * 31
    assert times[-31:] == [pytest.approx(20.0)] * 31
    animated = times[30:-30]
    assert animated == [pytest.approx(10.0 + k * 5.0 / 30) for k in range(61)]
    assert len(set(animated)) == len(animated)


def test_frame_plan_stops_at_the_last_whole_step_and_holds_the_end_itself() -> None:
    plan = FramePlan(start=0.0, end=1.0, fps=3, speed=0.4)  # step 0.1333..
    assert plan.animated == 8
    times = list(plan.video_times())
    assert len(times) == plan.total == 8 + 2 * 3
    # the last whole step (0.9333) is shown once; the held second is the end itself, so
    # an event exactly at the end (an overrun, an item at t = 300) is on screen
    assert times[-4] == pytest.approx(7 * 0.4 / 3)
    assert times[-3:] == [1.0] * 3
    assert max(times) == 1.0


# -- the movie ------------------------------------------------------------------------


def test_movie_is_browser_h264_with_the_planned_frame_count(
    factory_table: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "movie.mp4"
    argv = ["render", str(factory_table), "--from", "10", "--to", "20", "--fps", "10"]
    argv += ["--scale", "0.25", "--preset", "ultrafast", "--out", str(out)]
    code, err = _run(argv, capsys)
    assert code == 0, err
    codec, size, frames = _probe(out)
    assert codec == "h264 yuv420p"
    assert size == "320x180"
    # 10 simulated s at 5 per video s and 10 fps: 21 frames, plus 2 held seconds.
    assert frames == 21 + 2 * 10
    assert list(tmp_path.iterdir()) == [out]


@pytest.mark.skipif(not GOLDEN.is_file(), reason="golden fixture not committed yet")
def test_golden_fixture_renders(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "golden.mp4"
    argv = ["render", str(GOLDEN), "--to", "6", "--fps", "5", "--scale", "0.25"]
    code, err = _run([*argv, "--preset", "ultrafast", "--out", str(out)], capsys)
    assert code == 0, err
    assert _probe(out)[2] == 7 + 2 * 5


def test_ctrl_c_leaves_no_partial_movie(factory_table: Path, tmp_path: Path) -> None:
    scene, world = load_scene(read_events(factory_table), 0)
    painter = FactoryPainter(scene, scale=0.25)
    calls = 0

    class Interrupting:
        size = painter.size

        def draw(self, surface: pygame.Surface, frame: object) -> None:
            nonlocal calls
            calls += 1
            if calls == 5:
                raise KeyboardInterrupt
            painter.draw(surface, frame)  # type: ignore[arg-type]

    plan = FramePlan(start=0.0, end=30.0, fps=10, speed=5.0)
    with pytest.raises(KeyboardInterrupt):
        write_movie(Interrupting(), world, plan, tmp_path / "movie.mp4", preset="ultrafast")
    assert list(tmp_path.iterdir()) == []


def test_ffmpeg_failure_is_one_clear_error(
    factory_table: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = movie.ffmpeg_command

    def broken(*args: object, **kwargs: object) -> list[str]:
        command = original(*args, **kwargs)  # type: ignore[arg-type]
        return [("no_such_codec" if part == "libx264" else part) for part in command]

    monkeypatch.setattr(movie, "ffmpeg_command", broken)
    scene, world = load_scene(read_events(factory_table), 0)
    plan = FramePlan(start=0.0, end=2.0, fps=5, speed=5.0)
    with pytest.raises(RenderError, match=r"ffmpeg failed \(exit code \d+\): .*Encoder not found"):
        write_movie(FactoryPainter(scene, scale=0.25), world, plan, tmp_path / "m.mp4")
    assert list(tmp_path.iterdir()) == []


# -- stills, checked by pixels ----------------------------------------------------------


def _first_time(world: World, worker: str, state: str) -> tuple[float, str]:
    """Mid-time and station of the first interval of `worker` in `state` longer than 1 s."""
    timeline = world.timeline(worker)
    for start, end, name, row in zip(
        timeline.starts, timeline.ends, timeline.states, timeline.rows, strict=True
    ):
        if name == state and end - start > 1.0:
            return (start + end) / 2, str(world.columns[Attr.STATION][int(row)])
    raise AssertionError(f"{worker} never {state} for more than 1 s")


@pytest.mark.parametrize(("state", "colour"), [("working", WORKING), ("stalled", STALLED)])
def test_still_shows_a_worker_in_its_state_colour_at_its_station(
    factory_table: Path, state: str, colour: tuple[int, int, int]
) -> None:
    scene, world = load_scene(read_events(factory_table), 0)
    painter = FactoryPainter(scene)
    for worker in WORKERS:
        try:
            time, station = _first_time(world, worker, state)
        except AssertionError:
            continue
        surface = paint_still(painter, world, time)
        x, y = painter.spot(station)
        # Above the badge's centre: the body colour, clear of the icon.
        sample = surface.get_at((x, round(y - 0.7 * painter.badge_radius())))[:3]
        assert sample == colour, f"{worker} {state} at {station}, t={time}"
        return
    pytest.fail(f"no worker is ever {state}")


def test_still_shows_the_buffer_level_as_filled_segments(factory_table: Path) -> None:
    scene, world = load_scene(read_events(factory_table), 0)
    painter = FactoryPainter(scene)
    timeline = world.timeline(BUFFER_A)
    levels = world.columns[Attr.LEVEL]
    index = max(range(len(timeline)), key=lambda i: levels[int(timeline.rows[i])] or 0)
    level = int(levels[int(timeline.rows[index])] or 0)
    assert 0 < level < BUFFER_CAPACITY
    surface = paint_still(painter, world, float(timeline.starts[index] + timeline.ends[index]) / 2)
    bar = painter.buffer_rect(BUFFER_A)
    cell = bar.width / BUFFER_CAPACITY
    filled = [
        surface.get_at((round(bar.left + (k + 0.5) * cell), bar.centery))[:3] == ITEM
        for k in range(BUFFER_CAPACITY)
    ]
    assert filled == [True] * level + [False] * (BUFFER_CAPACITY - level)


def test_walking_worker_is_between_stations(factory_table: Path) -> None:
    scene, world = load_scene(read_events(factory_table), 0)
    painter = FactoryPainter(scene)
    time, station = _first_time(world, WORKERS[0], WorkerState.WALKING)
    surface = paint_still(painter, world, time)
    x, y = painter.spot(station)
    radius = round(0.7 * painter.badge_radius())
    assert surface.get_at((x, y - radius))[:3] not in (WORKING, STALLED)  # it has left


# -- other domains, the timeline, bad inputs ----------------------------------------------


def test_invented_domain_renders_through_the_timeline(
    bakery_table: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "bakery.mp4"
    argv = ["render", str(bakery_table), "--fps", "5", "--speed", "20", "--scale", "0.5"]
    code, err = _run([*argv, "--preset", "ultrafast", "--out", str(out)], capsys)
    assert code == 0, err
    assert "no painter is installed for domain 'bakery'" in err
    assert _probe(out)[2] == 16 + 2 * 5


def test_timeline_on_request_and_gantt(
    factory_table: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scene, _ = load_scene(read_events(factory_table), 0)
    assert choose_painter(scene, "timeline").name == "timeline"
    assert choose_painter(scene).name == "factory"
    out = tmp_path / "gantt.png"
    code, err = _run(["render", str(factory_table), "--gantt", str(out)], capsys)
    assert code == 0, err
    picture = pygame.image.load(str(out))
    assert picture.get_width() == 1280


def test_still_png(factory_table: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "frame.png"
    code, err = _run(["render", str(factory_table), "--still", "42.5", "--out", str(out)], capsys)
    assert code == 0, err
    assert pygame.image.load(str(out)).get_size() == (1280, 720)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--painter", "cubist"], "unknown painter 'cubist'"),
        (["--episode", "3"], "episode 3 is not in the table"),
        (["--from", "250", "--to", "400"], "not inside the episode"),
        (["--from", "50", "--to", "40"], "not inside the episode"),
        (["--still", "301"], "outside the episode"),
        (["--fps", "0"], "--fps (0)"),
        (["--preset", "warp"], "--preset 'warp' is unknown"),
        (["--speed", "-1"], "--speed (-1.0)"),
    ],
)
def test_bad_options_fail_with_one_line_and_no_output(
    factory_table: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    extra: list[str],
    message: str,
) -> None:
    suffix = ".png" if "--still" in extra else ".mp4"
    out = tmp_path / f"out{suffix}"
    code, err = _run(["render", str(factory_table), "--out", str(out), *extra], capsys)
    assert code == 2
    assert message in err
    assert len(err.strip().splitlines()) == 1
    assert list(tmp_path.iterdir()) == []


def test_bad_table_fails_cleanly(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    table = tmp_path / "broken.parquet"
    table.write_bytes(b"not parquet at all")
    code, err = _run(["render", str(table), "--out", str(tmp_path / "m.mp4")], capsys)
    assert code == 2
    assert "broken.parquet" in err
    assert len(err.strip().splitlines()) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken.parquet"]


def test_factory_painter_refuses_another_domain(
    bakery_table: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["render", str(bakery_table), "--painter", "factory", "--out", str(tmp_path / "m.mp4")]
    code, err = _run(argv, capsys)
    assert code == 2
    assert "use --painter timeline" in err


def test_help_has_an_example(capsys: pytest.CaptureFixture[str]) -> None:
    with contextlib.suppress(SystemExit):
        main(["render", "--help"])
    assert "Example:" in capsys.readouterr().out
