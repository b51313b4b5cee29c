"""The two typefaces every painter writes with, shipped inside the package.

DejaVu Sans regular and bold (licence: ``LICENSE`` beside them). They ship with
simreel, rather than being looked up on the system, so a movie looks the same on
every machine, and a real bold face is drawn instead of pygame's synthetic
emboldening, which at small sizes smears the dot of an "i" into an "l" and fills the
gaps between letters. The files are found from this module's own location, never
from the working directory.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from schemas.errors import RenderError

REGULAR: Final = "DejaVuSans.ttf"
BOLD: Final = "DejaVuSans-Bold.ttf"
FOLDER: Final = Path(__file__).resolve().parent


def face_path(*, bold: bool = False) -> Path:
    """The file of the regular or the bold face; RenderError if the install lost it."""
    path = FOLDER / (BOLD if bold else REGULAR)
    if not path.is_file():
        raise RenderError(
            f"the font {path} is missing: the simreel installation is incomplete "
            f"(expected {REGULAR} and {BOLD} in {FOLDER}); reinstall simreel"
        )
    return path
