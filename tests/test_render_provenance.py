"""Movies and pictures carry their table's provenance in their own metadata.

Read back independently of the writer: the MP4's tags through the bundled ffmpeg
(``-f ffmetadata``, what ``ffprobe -show_format`` shows too), the PNG's text chunks by
walking its chunks and checking each CRC.
"""

from __future__ import annotations

import hashlib
import json
import re
import struct
import subprocess
import zlib
from importlib import metadata
from pathlib import Path
from typing import Any

import imageio_ffmpeg
import pygame
import pytest

from domains.factory.vocabulary import DOMAIN_ID, DOMAIN_VERSION, VOCABULARY
from schemas.events import write_events
from stages.render.png import text_chunk, with_text
from tests.cli_helpers import run_cli
from tests.test_render_tables import factory_episode

FIXTURES = Path(__file__).resolve().parents[1] / "data" / "fixtures"
MODEL_SHA = "ab" * 32
RECORDED = {
    "policy": {"kind": "model", "path": "/home/someone/model.zip", "sha256": MODEL_SHA},
    "seed": 7,
    "episodes": 1,
    "simreel_version": "0.0.9",
    "created_at": "2026-01-01T00:00:00+00:00",
}


@pytest.fixture(scope="module")
def table(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A factory table as ``simreel record`` writes it for a model (a made-up digest)."""
    return write_events(
        tmp_path_factory.mktemp("tables") / "recorded.parquet",
        [factory_episode(seed=7)],
        domain_id=DOMAIN_ID,
        domain_version=DOMAIN_VERSION,
        vocabulary=VOCABULARY,
        provenance=RECORDED,
    )


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _mp4_tags(movie: Path) -> dict[str, str]:
    """The movie's global tags, as ffmpeg's metadata dump (ffmetadata) lists them."""
    result = subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-i", str(movie), "-f", "ffmetadata", "-"],
        capture_output=True,
        text=True,
        check=True,
    )
    tags = {}
    for line in result.stdout.splitlines()[1:]:  # after the ";FFMETADATA1" header
        key, _, value = line.partition("=")
        # ffmetadata escapes '=', ';', '#', '\' and newlines with a backslash.
        tags[key] = re.sub(r"\\(.)", r"\1", value)
    return tags


def _png_chunks(path: Path) -> list[tuple[bytes, bytes]]:
    """(type, data) of every chunk, in order; fails on a bad CRC."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    chunks, offset = [], 8
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        kind = data[offset + 4 : offset + 8]
        body = data[offset + 8 : offset + 8 + length]
        (crc,) = struct.unpack(">I", data[offset + 8 + length : offset + 12 + length])
        assert crc == zlib.crc32(kind + body), f"bad CRC in {kind!r}"
        chunks.append((kind, body))
        offset += 12 + length
    return chunks


def _png_text(path: Path) -> dict[str, str]:
    chunks = _png_chunks(path)
    kinds = [kind for kind, _ in chunks]
    assert kinds[0] == b"IHDR"
    assert kinds[-1] == b"IEND"
    text = {}
    for index, (kind, body) in enumerate(chunks):
        if kind == b"tEXt":
            assert index < kinds.index(b"IDAT"), "text chunks come before the image data"
            keyword, _, value = body.partition(b"\0")
            text[keyword.decode("latin-1")] = value.decode("latin-1")
    return text


def _check_record(record: dict[str, Any], table: Path, view: dict[str, Any]) -> None:
    assert record["table"] == {
        "file": table.name,
        "sha256": _sha256(table),
        "schema_version": 2,
    }
    assert record["domain"] == {"id": DOMAIN_ID, "version": DOMAIN_VERSION}
    assert record["episode"] == 0
    assert record["episode_seed"] == 7
    assert record["recorded"] == {
        "seed": 7,
        "policy": "model",
        "model_sha256": MODEL_SHA,
        "simreel_version": "0.0.9",
        "created_at": "2026-01-01T00:00:00+00:00",
    }
    assert record["simreel_version"] == metadata.version("simreel")
    assert record["view"] == view


def test_the_movie_carries_the_tables_provenance(
    table: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "movie.mp4"
    argv = ["render", str(table), "--from", "2", "--to", "6", "--fps", "5", "--scale", "0.25"]
    code, _, err = run_cli([*argv, "--preset", "ultrafast", "--out", str(out)], capsys)
    assert code == 0, err
    tags = _mp4_tags(out)
    record = json.loads(tags["comment"])
    _check_record(record, table, {"from": 2.0, "to": 6.0, "fps": 5, "speed": 5.0})
    assert tags["title"] == "simreel: factory episode 0 from 2 s to 6 s (recorded.parquet)"
    assert "/home/someone" not in tags["comment"]  # the recording machine's folders stay out


@pytest.mark.parametrize(
    ("option", "view"), [(["--still", "150"], {"still": 150.0}), (["--gantt"], {"gantt": True})]
)
def test_stills_and_gantt_pictures_carry_it_in_text_chunks(
    table: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    option: list[str],
    view: dict[str, Any],
) -> None:
    out = tmp_path / "picture.png"
    where = [str(out)] if option == ["--gantt"] else ["--out", str(out)]
    argv = ["render", str(table), *option, *where]
    code, _, err = run_cli(argv, capsys)
    assert code == 0, err
    text = _png_text(out)
    _check_record(json.loads(text["Comment"]), table, view)
    assert text["Software"] == f"simreel {metadata.version('simreel')}"
    assert text["Title"].startswith("simreel: factory episode 0 ")
    assert pygame.image.load(str(out)).get_width() == 1280  # still a valid picture


def test_options_and_the_schema_version_of_the_file_are_recorded(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, options, version in (
        ("cashier-v2.parquet", {"dispatcher": "controlled"}, 2),
        ("factory-v1.parquet", None, 1),  # migrated on reading: the file still holds v1
    ):
        out = tmp_path / f"{name}.png"
        code, _, err = run_cli(["render", str(FIXTURES / name), "--gantt", str(out)], capsys)
        assert code == 0, err
        record = json.loads(_png_text(out)["Comment"])
        assert record["domain"].get("options") == options
        assert record["table"]["schema_version"] == version
        assert record["table"]["sha256"] == _sha256(FIXTURES / name)


def test_text_that_is_not_latin_1_goes_into_an_itxt_chunk(tmp_path: Path) -> None:
    surface = pygame.Surface((4, 3), 0, 32)
    plain = tmp_path / "plain.png"
    pygame.image.save(surface, str(plain))
    tagged = tmp_path / "tagged.png"
    tagged.write_bytes(with_text(plain.read_bytes(), {"Title": "Kassen → Spur 2", "Author": "é"}))
    chunks = dict(_png_chunks(tagged))
    assert chunks[b"iTXt"] == b"Title\0\0\0\0\0" + "Kassen → Spur 2".encode()
    assert chunks[b"tEXt"] == b"Author\0\xe9"
    assert pygame.image.load(str(tagged)).get_size() == (4, 3)
    with pytest.raises(ValueError, match="not a PNG text keyword"):
        text_chunk("  spaced", "x")
