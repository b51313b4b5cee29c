"""``simreel render A B --side-by-side``: two episodes on one clock, checked by pixels.

Each panel must be exactly what its own painter draws at the frame's time (so both
panels show the same simulated time), the episode that ended first must hold its last
state and say so, and the frame must fit 1080p.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import imageio_ffmpeg
import numpy as np
import pygame
import pytest

from schemas.events import read_events
from stages.render.compositor import ENDED, Side, SideBySide
from stages.render.kpi_card import KpiCard, kpi_rows
from stages.render.labels import SIDE_COLOURS, UNKNOWN_POLICY, policy_label
from stages.render.movie import FramePlan, even_surface
from stages.render.painters import choose_painter
from stages.render.paintkit import Text
from stages.render.world import load_scene
from tests.cli_helpers import run_cli
from tests.test_compare_tables import FIXTURES, MODEL_SHA, factory_as, rewritten, steady, write_shop

CASHIER = FIXTURES / "cashier-v2.parquet"
"""Two rules episodes: episode 0 ends at 228.75 s, episode 1 at 237.73 s."""


@pytest.fixture(scope="module")
def cashier_pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The cashier fixture as recorded by a model (A) and by the rules (B)."""
    folder = tmp_path_factory.mktemp("pair")

    def as_model(document: dict[str, Any]) -> None:
        document["provenance"]["policy"] = {"kind": "model", "sha256": MODEL_SHA}

    return rewritten(CASHIER, folder / "model.parquet", as_model), folder / "rules.parquet"


@pytest.fixture(scope="module", autouse=True)
def _rules_copy(cashier_pair: tuple[Path, Path]) -> None:
    shutil.copy(CASHIER, cashier_pair[1])


def _region(surface: pygame.Surface, rect: pygame.Rect) -> np.ndarray:
    return pygame.surfarray.array3d(surface.subsurface(rect)).copy()


def _composer(
    first: Path, second: Path, episodes: tuple[int, int], painter: str | None = None
) -> SideBySide:
    """The compositor the stage builds for episodes `episodes` of `first` and `second`."""
    sides = []
    for path, episode in zip((first, second), episodes, strict=True):
        table = read_events(path)
        scene, world = load_scene(table, episode)
        sides.append(Side(path, table, scene, world))
    return SideBySide(
        sides, lambda scene, k: choose_painter(scene, painter, scale=k).painter, scale=1.0
    )


def _still(argv: list[str], out: Path, capsys: pytest.CaptureFixture[str]) -> pygame.Surface:
    code, _, err = run_cli(["render", *argv, "--side-by-side", "--out", str(out)], capsys)
    assert code == 0, err
    return pygame.image.load(str(out))


@pytest.mark.parametrize("painter", [None, "timeline"])
def test_each_panel_is_its_own_painter_at_the_one_time(
    cashier_pair: tuple[Path, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    painter: str | None,
) -> None:
    first, second = cashier_pair
    composer = _composer(first, second, (0, 1), painter)
    extra = ["--painter", painter] if painter else []
    for time in (30.0, 120.5):
        picture = _still(
            [str(first), str(second), "--episode-b", "1", "--still", f"{time}", *extra],
            tmp_path / "still.png",
            capsys,
        )
        assert picture.get_size() == composer.size
        for index, side in enumerate(composer.sides):
            # An independent painter at the panel's scale, drawing the side's world at `time`.
            own = choose_painter(side.scene, painter, scale=composer.layout.panel_scale).painter
            expected = pygame.Surface(own.size, 0, 32)
            own.draw(expected, side.world.at(time))
            panel = _region(picture, composer.panel_rects[index])
            assert np.array_equal(panel, pygame.surfarray.array3d(expected)), (index, time)


def test_the_frame_fits_1080p_and_720p(
    cashier_pair: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first, second = cashier_pair
    argv = [str(first), str(second), "--still", "50"]
    assert _still(argv, tmp_path / "a.png", capsys).get_size() == (1920, 1080)
    small = _still([*argv, "--scale", "0.6667"], tmp_path / "b.png", capsys)
    assert small.get_size() == (1280, 720)
    timeline = _still([*argv, "--painter", "timeline"], tmp_path / "c.png", capsys)
    assert timeline.get_width() == 1920
    assert timeline.get_height() <= 1080


def test_the_episode_that_ends_first_holds_its_last_state_and_says_so(
    cashier_pair: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first, second = cashier_pair
    composer = _composer(first, second, (0, 1))
    base = [str(first), str(second), "--episode-b", "1"]
    before = _still([*base, "--still", "200"], tmp_path / "before.png", capsys)
    early = _still([*base, "--still", "231"], tmp_path / "early.png", capsys)
    late = _still([*base, "--still", "236"], tmp_path / "late.png", capsys)
    a_rect, b_rect = composer.panel_rects
    # A ended at 228.75 s: its panel is the same at 231 and 236 s; B still plays.
    assert np.array_equal(_region(early, a_rect), _region(late, a_rect))
    assert not np.array_equal(_region(early, b_rect), _region(late, b_rect))

    def has_ended_colour(picture: pygame.Surface, rect: pygame.Rect) -> bool:
        pixels = _region(picture, rect).reshape(-1, 3)
        return bool((pixels == np.array(ENDED)).all(axis=1).any())

    assert has_ended_colour(late, a_rect)  # the banner on the panel
    assert has_ended_colour(late, composer.status_rect(0))  # "ended at 228.8 s"
    assert not has_ended_colour(late, b_rect)
    assert not has_ended_colour(late, composer.status_rect(1))
    assert not has_ended_colour(before, a_rect)
    assert not has_ended_colour(before, composer.status_rect(0))


def test_a_frame_drawn_over_the_previous_one_equals_a_fresh_one(
    cashier_pair: tuple[Path, Path],
) -> None:
    # The movie redraws only what changes; any order of times must give the still's pixels.
    first, second = cashier_pair
    reused = _composer(first, second, (0, 1))
    fresh = _composer(first, second, (0, 1))
    surface = even_surface(reused.size)
    for time in (0.0, 5.0, 5.2, 100.0, 228.0, 229.0, 230.0, 237.7, 150.0, 231.0, 12.0):
        reused.draw(surface, time)
        expected = even_surface(fresh.size)
        fresh.draw(expected, time)
        assert np.array_equal(
            pygame.surfarray.array3d(surface), pygame.surfarray.array3d(expected)
        ), time


def test_labels_show_each_sides_policy_in_its_colour(
    cashier_pair: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first, second = cashier_pair
    composer = _composer(first, second, (0, 0))
    picture = _still([str(first), str(second), "--still", "10"], tmp_path / "s.png", capsys)
    for index, label in enumerate(composer.layout.labels):
        pixels = _region(picture, label).reshape(-1, 3)
        own, other = SIDE_COLOURS[index], SIDE_COLOURS[1 - index]
        assert (pixels == np.array(own)).all(axis=1).sum() > 400  # the A / B chip
        assert not (pixels == np.array(other)).all(axis=1).any()


def test_policy_labels_come_from_the_provenance_escaped() -> None:
    model = {"policy": {"kind": "model", "sha256": MODEL_SHA, "path": "/x/model.zip"}}
    assert policy_label(model) == "model 3f2a1c00…"
    sampled = {"policy": {"kind": "model", "sha256": MODEL_SHA, "sampled": True}}
    assert policy_label(sampled) == "model 3f2a1c00… sampled"
    assert policy_label({"policy": {"kind": "random", "seed": 0}}) == "random"
    assert policy_label({"policy": {"kind": "rules", "batch": 9}}) == "rules"
    assert policy_label({}) == UNKNOWN_POLICY
    assert policy_label({"policy": "rules"}) == UNKNOWN_POLICY
    assert policy_label({"policy": {"kind": "x\x1b[2J\u202e"}}) == "x\\x1b[2J\\u202e"


def test_kpi_bars_are_on_one_scale(tmp_path: Path) -> None:
    first = write_shop(tmp_path / "a.parquet", [steady(10, 5.0, 60.0)], policy={"kind": "rules"})
    second = write_shop(tmp_path / "b.parquet", [steady(5, 5.0, 60.0)], policy={"kind": "random"})
    rows = kpi_rows(
        read_events(first).metadata.episodes[0], read_events(second).metadata.episodes[0]
    )
    assert [(row.name, row.a, row.b) for row in rows] == [
        ("sold", 10.0, 5.0),
        ("reward", 10.0, 5.0),
        ("episode ends at (s)", 60.0, 60.0),
    ]
    surface = pygame.Surface((800, 400), 0, 32)
    card = KpiCard(
        surface.get_rect(), rows, list(zip("AB", SIDE_COLOURS, strict=True)), Text(), 1.0
    )
    card.paint(surface)
    pixels = pygame.surfarray.array3d(surface)
    first_row = pixels[:, 84:130]  # under the title and the header: the "sold" row
    blue = (first_row == np.array(SIDE_COLOURS[0])).all(axis=2).sum()
    orange = (first_row == np.array(SIDE_COLOURS[1])).all(axis=2).sum()
    assert blue > 0
    assert orange > 0
    assert blue / orange == pytest.approx(2.0, rel=0.1)


def test_the_live_chart_follows_both_counters_on_the_clock(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A shop domain has no painter: both panels are timelines; the counter is charted.
    first = write_shop(tmp_path / "a.parquet", [steady(19, 5.0, 100.0)], policy={"kind": "rules"})
    second = write_shop(tmp_path / "b.parquet", [steady(6, 10.0, 60.0)], policy={"kind": "random"})
    composer = _composer(first, second, (0, 0))
    assert composer.times == (0.0, 100.0)
    chart = composer.live_chart
    assert chart is not None
    for time, a, b, b_at in ((42.5, 8.0, 4.0, 42.5), (80.0, 16.0, 6.0, 60.0)):
        picture = _still(
            [str(first), str(second), "--still", f"{time}"], tmp_path / "s.png", capsys
        )
        frame = chart.chart
        a_dot = picture.get_at((round(frame.x(time)), round(frame.y(a))))
        b_dot = picture.get_at((round(frame.x(b_at)), round(frame.y(b))))
        assert tuple(a_dot)[:3] == SIDE_COLOURS[0], time
        assert tuple(b_dot)[:3] == SIDE_COLOURS[1], time


def _tags(movie: Path) -> dict[str, str]:
    result = subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-i", str(movie), "-f", "ffmetadata", "-"],
        capture_output=True,
        text=True,
        check=True,
    )
    tags = {}
    for line in result.stdout.splitlines()[1:]:
        key, _, value = line.partition("=")
        tags[key] = re.sub(r"\\(.)", r"\1", value)
    return tags


def _frames(movie: Path) -> tuple[str, int]:
    result = subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-i", str(movie), "-map", "0:v:0", "-f", "null", "-"],
        capture_output=True,
        text=True,
        check=False,
    )
    size = re.search(r"Video: h264.*?, (\d+x\d+)", result.stderr)
    frames = re.findall(r"frame=\s*(\d+)", result.stderr)
    assert size is not None, result.stderr
    assert frames, result.stderr
    return size.group(1), int(frames[-1])


def test_the_movie_runs_to_the_later_end_with_both_tables_provenance(
    cashier_pair: tuple[Path, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first, second = cashier_pair
    monkeypatch.chdir(tmp_path)
    argv = ["render", str(first), str(second), "--side-by-side", "--episode-b", "1"]
    argv += ["--fps", "2", "--speed", "60", "--scale", "0.25", "--preset", "ultrafast"]
    code, out, err = run_cli(argv, capsys)
    assert code == 0, err
    movie = Path("data/movies/model-vs-rules-ep0-1.mp4")
    assert f"wrote {movie}" in out
    plan = FramePlan(0.0, read_events(CASHIER).metadata.episodes[1].end_time, 2, 60.0)
    assert _frames(movie) == ("480x270", plan.total)
    tags = _tags(movie)
    record = json.loads(tags["comment"])
    assert [side["table"]["file"] for side in record["side_by_side"]] == [
        "model.parquet",
        "rules.parquet",
    ]
    assert [side["episode"] for side in record["side_by_side"]] == [0, 1]
    assert record["side_by_side"][0]["recorded"]["model_sha256"] == MODEL_SHA
    assert record["view"]["to"] == pytest.approx(plan.end)
    assert tags["title"].startswith("simreel: cashier episode 0 vs episode 1 from 0 s")
    # The default name is never replaced without --force.
    movie.write_bytes(b"an earlier movie")
    code, _, err = run_cli(argv, capsys)
    assert code == 2
    assert "--force" in err
    assert movie.read_bytes() == b"an earlier movie"


def test_default_names_say_what_was_drawn() -> None:
    from stages.render.cli import RenderOptions
    from stages.render.side_by_side import SideBySideOptions

    def name(**kwargs: Any) -> str:
        second_episode = kwargs.pop("episode_b", None)
        base = RenderOptions(table=Path("data/events/m.parquet"), **kwargs)
        options = SideBySideOptions(base, Path("x/r.parquet"), second_episode)
        return str(options.out_path)

    assert name() == "data/movies/m-vs-r.mp4"
    assert name(still=150.0) == "data/movies/m-vs-r-t150.png"
    assert name(painter="timeline", start=60.0, end=120.0) == (
        "data/movies/m-vs-r-timeline-60-120s.mp4"
    )
    assert name(episode=2) == "data/movies/m-vs-r-ep2.mp4"
    assert name(episode=2, episode_b=3) == "data/movies/m-vs-r-ep2-3.mp4"
    assert name(out=Path("mine.mp4")) == "mine.mp4"


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        (["--side-by-side"], "needs two tables"),
        (["TABLE_B"], "--side-by-side"),
        (["TABLE_B", "--side-by-side", "--gantt", "g.png"], "--gantt"),
        (["--episode-b", "1"], "needs --side-by-side"),
        (["TABLE_B", "--side-by-side", "--still", "400"], "outside both episodes"),
        (["TABLE_B", "--side-by-side", "--episode-b", "7", "--still", "5"], "episode 7"),
        (["TABLE_B", "--side-by-side", "--out", "x.png"], "must end in .mp4"),
    ],
)
def test_bad_side_by_side_options_fail_with_one_line(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    extra: list[str],
    words: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    first = factory_as(tmp_path / "a.parquet", {"kind": "model", "sha256": MODEL_SHA})
    second = factory_as(tmp_path / "b.parquet", {"kind": "random"})
    argv = ["render", str(first), *(str(second) if e == "TABLE_B" else e for e in extra)]
    code, out, err = run_cli(argv, capsys)
    assert code == 2, err
    assert out == ""
    assert err.startswith("error: ")
    assert len(err.strip().splitlines()) == 1
    assert words in err
    assert not (tmp_path / "data").exists()
    assert not (tmp_path / "x.png").exists()
