"""One rule for output extensions in every command: the last suffix, in any case.

``record`` used to refuse ``UP.PARQUET`` while ``render`` accepted ``UP.MP4``; both
now go through :func:`schemas.atomic.require_suffix` / :func:`output_suffix`.
"""

from __future__ import annotations

from pathlib import Path

import pygame
import pytest

from schemas.atomic import output_suffix, require_suffix
from schemas.errors import ConfigError
from schemas.events import read_events
from tests.cli_helpers import run_cli

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "data" / "fixtures" / "factory-v2.parquet"


@pytest.mark.parametrize(
    ("name", "suffix"),
    [
        ("t.parquet", ".parquet"),
        ("UP.PARQUET", ".parquet"),
        ("Mixed.Mp4", ".mp4"),
        ("archive.tar.GZ", ".gz"),
        ("no_extension", ""),
        (".hidden", ""),
    ],
)
def test_the_extension_is_the_last_suffix_lower_cased(name: str, suffix: str) -> None:
    assert output_suffix(Path("some/dir") / name) == suffix


def test_require_suffix_accepts_any_case_and_names_what_it_found() -> None:
    assert require_suffix("UP.PARQUET", ".parquet", what="tables") == ".parquet"
    assert require_suffix("log.SQLite", ".json", ".sqlite", what="OCEL logs") == ".sqlite"
    with pytest.raises(ConfigError) as error:
        require_suffix("t.csv", ".parquet", what="event tables are Parquet files")
    assert str(error.value) == (
        "output t.csv must end in .parquet (event tables are Parquet files); it ends in .csv"
    )
    with pytest.raises(ConfigError, match=r"\.json or \.sqlite .*; it has no extension"):
        require_suffix("log", ".json", ".sqlite", what="OCEL logs")


def test_record_writes_an_upper_case_parquet_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "UP.PARQUET"
    code, _, err = run_cli(["record", "--policy", "first-legal", "--out", str(out)], capsys)
    assert code == 0, err
    assert read_events(out).metadata.domain_id == "factory"
    assert [p.name for p in tmp_path.iterdir()] == ["UP.PARQUET"]


def test_record_still_refuses_another_extension(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "table.PARQUET.csv"
    code, _, err = run_cli(["record", "--policy", "first-legal", "--out", str(out)], capsys)
    assert code == 2
    assert err.strip() == (
        f"error: output {out} must end in .parquet (event tables are Parquet files); "
        "it ends in .csv"
    )
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("name", "extra"),
    [
        ("UP.MP4", ["--from", "0", "--to", "2", "--fps", "2", "--preset", "ultrafast"]),
        ("UP.PNG", ["--still", "1"]),
    ],
)
def test_render_accepts_upper_case_names_the_same_way(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, extra: list[str]
) -> None:
    out = tmp_path / name
    argv = ["render", str(GOLDEN), "--scale", "0.25", *extra, "--out", str(out)]
    code, _, err = run_cli(argv, capsys)
    assert code == 0, err
    assert out.stat().st_size > 0
    if name.endswith(".PNG"):
        assert pygame.image.load(str(out)).get_width() == 320
    assert [p.name for p in tmp_path.iterdir()] == [name]
