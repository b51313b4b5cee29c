"""Default output names: one per kind of render, never silently replaced; --force and --out."""

from __future__ import annotations

import itertools
import shutil
from pathlib import Path

import pygame
import pytest

from stages.render.cli import RenderOptions
from tests.cli_helpers import run_cli

FIXTURE = Path(__file__).resolve().parents[1] / "data" / "fixtures" / "factory-v2.parquet"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory holding a copy of the factory fixture (default outputs land
    in its data/movies/)."""
    shutil.copy(FIXTURE, tmp_path / "factory.parquet")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_default_names_differ_per_painter_episode_window_and_still() -> None:
    table = Path("data/events/factory.parquet")
    variants = {
        "painter": [None, "timeline"],
        "episode": [0, 2],
        "window": [(None, None), (60.0, 120.0), (60.0, None), (None, 120.0)],
        "still": [None, 42.5],
    }
    names = []
    for painter, episode, (start, end), still in itertools.product(*variants.values()):
        if still is not None and (start, end) != (None, None):
            continue  # a still has no window
        options = RenderOptions(
            table=table, painter=painter, episode=episode, start=start, end=end, still=still
        )
        names.append(options.out_path)
    assert len(set(names)) == len(names), names
    assert all(name.parent == Path("data/movies") for name in names)
    assert RenderOptions(table=table).out_path.name == "factory.mp4"
    named = RenderOptions(table=table, painter="timeline", episode=2, start=60.0, end=120.0)
    assert named.out_path.name == "factory-timeline-ep2-60-120s.mp4"
    assert RenderOptions(table=table, episode=1, still=42.5).out_path.name == (
        "factory-ep1-t42.5.png"
    )


def _still(extra: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code, _, err = run_cli(["render", "factory.parquet", "--still", "150", *extra], capsys)
    return code, err


def test_an_existing_default_output_is_refused_and_left_alone(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = _still([], capsys)
    assert code == 0, err
    target = workdir / "data" / "movies" / "factory-t150.png"
    target.write_bytes(b"an earlier picture")
    code, err = _still([], capsys)
    assert code == 2
    assert "--force" in err
    assert str(Path("data/movies/factory-t150.png")) in err
    assert len(err.strip().splitlines()) == 1
    assert target.read_bytes() == b"an earlier picture"
    assert sorted(p.name for p in target.parent.iterdir()) == ["factory-t150.png"]


def test_an_existing_default_movie_is_refused_too(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = workdir / "data" / "movies" / "factory-to4s.mp4"
    target.parent.mkdir(parents=True)
    target.write_bytes(b"the demo movie")
    argv = ["render", "factory.parquet", "--to", "4", "--fps", "5", "--scale", "0.25"]
    code, _, err = run_cli([*argv, "--preset", "ultrafast"], capsys)
    assert code == 2
    assert "pass --force" in err
    assert target.read_bytes() == b"the demo movie"
    assert sorted(p.name for p in target.parent.iterdir()) == ["factory-to4s.mp4"]
    code, _, err = run_cli([*argv, "--preset", "ultrafast", "--force"], capsys)
    assert code == 0, err
    assert target.read_bytes()[4:8] == b"ftyp"  # an MP4 now


def test_force_replaces_the_default_output(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = workdir / "data" / "movies" / "factory-timeline-t150.png"
    target.parent.mkdir(parents=True)
    target.write_bytes(b"an earlier picture")
    code, err = _still(["--painter", "timeline", "--force"], capsys)
    assert code == 0, err
    assert target.read_bytes().startswith(PNG_SIGNATURE)
    assert pygame.image.load(str(target)).get_width() == 1280
    assert sorted(p.name for p in target.parent.iterdir()) == [target.name]


@pytest.mark.parametrize("option", ["--out", "--gantt"])
def test_a_file_the_user_names_is_replaced_without_force(
    workdir: Path, capsys: pytest.CaptureFixture[str], option: str
) -> None:
    named = workdir / "mine.png"
    named.write_bytes(b"yesterday's picture")
    argv = ["render", "factory.parquet", option, str(named)]
    if option == "--out":
        argv += ["--still", "150"]
    code, _, err = run_cli(argv, capsys)
    assert code == 0, err
    assert named.read_bytes().startswith(PNG_SIGNATURE)
    assert not (workdir / "data").exists()  # nothing written under a default name
