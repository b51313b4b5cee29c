"""The packaged faces: found from the package, a real bold, small labels that stay legible.

Checked by glyph metrics and bitmaps: pygame's default font emboldened again with
``set_bold`` widened every glyph and, at the movie's label sizes, merged the dot of an
"i" into its stem (bold labels read "tlme left").
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pygame
import pytest

import stages.render.paintkit
from stages.render.paintkit import Text
from stages.render.paintkit.fonts import face_path

FONTS = Path(stages.render.paintkit.__file__).resolve().parent / "fonts"
BOLD_LABEL_SIZES = range(14, 23)
"""Design sizes the painters draw bold labels at (at scale 1, the 720p default)."""


@pytest.fixture(autouse=True)
def _fonts() -> None:
    if not pygame.font.get_init():
        pygame.font.init()


def _ink(sprite: pygame.Surface) -> np.ndarray:
    """Where a text sprite is inked: (width, height) booleans, alpha over a quarter."""
    return pygame.surfarray.array_alpha(sprite) >= 64


def _blank_runs(inked: np.ndarray) -> list[int]:
    """Lengths of the runs of `inked` False between its first and last True."""
    where = np.flatnonzero(inked)
    runs, length = [], 0
    for value in inked[where[0] : where[-1] + 1]:
        if value:
            if length:
                runs.append(length)
            length = 0
        else:
            length += 1
    return runs


def test_the_faces_ship_in_the_package_and_load_from_any_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # nothing may be looked up relative to the working directory
    assert face_path() == FONTS / "DejaVuSans.ttf"
    assert face_path(bold=True) == FONTS / "DejaVuSans-Bold.ttf"
    licence = (FONTS / "LICENSE").read_text()
    assert "Bitstream Vera" in licence
    assert "DejaVu" in licence
    assert Text().render("shipped", 20, bold=True).get_width() > 0


@pytest.mark.parametrize("label", ["time left", "working"])
def test_bold_text_is_the_bold_face_not_synthetic_emboldening(label: str) -> None:
    text = Text()
    pixels = text.pixels(20)
    bold_face = pygame.font.Font(FONTS / "DejaVuSans-Bold.ttf", pixels)
    regular_face = pygame.font.Font(FONTS / "DejaVuSans.ttf", pixels)
    # The label's advance is the bold face's own.
    assert text.render(label, 20, bold=True).get_width() == bold_face.size(label)[0]
    assert text.render(label, 20).get_width() == regular_face.size(label)[0]
    # ...which emboldening the regular face would not give.
    regular_face.set_bold(True)
    assert text.render(label, 20, bold=True).get_width() != regular_face.size(label)[0]


@pytest.mark.parametrize("size", BOLD_LABEL_SIZES)
def test_a_bold_i_keeps_its_dot_apart_and_differs_from_an_l(size: int) -> None:
    text = Text()
    i_rows = _ink(text.render("i", size, bold=True)).any(axis=0)
    l_rows = _ink(text.render("l", size, bold=True)).any(axis=0)
    assert len(_blank_runs(i_rows)) == 1, f"no gap between the dot and the stem at {size}"
    assert _blank_runs(l_rows) == []


@pytest.mark.parametrize(
    ("label", "size", "bold"),
    [("time left", 20, False), ("W0 · working", 18, True), ("walking", 17, False)],
)
def test_letters_of_a_word_are_closer_than_words(label: str, size: int, bold: bool) -> None:
    text = Text()
    columns = _ink(text.render(label, size, bold=bold)).any(axis=1)
    space = text.width(" ", size, bold=bold)
    gaps = _blank_runs(columns)
    within_words = [gap for gap in gaps if gap < space]
    between_words = len(gaps) - len(within_words)
    assert between_words == label.count(" "), (label, gaps, space)
