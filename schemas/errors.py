"""The error hierarchy for user mistakes (bad files, bad options).

Every message says what is wrong, where (file, field, row), what was expected, what
was found, and the fix. The CLI prints such errors as one line and exits non-zero;
anything else that escapes is a bug and keeps its traceback.
"""

from __future__ import annotations

from pathlib import Path


class SimreelError(Exception):
    """A problem the user can fix; the message says how."""

    exit_code = 2


class TableError(SimreelError):
    """An event table is unreadable or breaks the schema."""

    def __init__(self, path: str | Path, problem: str, fix: str = "") -> None:
        self.path = Path(path)
        self.problem = problem
        self.fix = fix
        super().__init__(f"{path}: {problem}" + (f"; {fix}" if fix else ""))


class ModelError(SimreelError):
    """A model file or its card is missing, unreadable or does not fit the domain."""


class ConfigError(SimreelError):
    """An option or configuration value is out of range."""


class RenderError(SimreelError):
    """A movie or picture cannot be made from the given table and options."""


class OutputError(SimreelError):
    """An output file cannot be written or published: a full disk, no permission, a race.

    Nothing is left half-written: the message names the output, the cause and the fix.
    """

    def __init__(self, path: str | Path, problem: str, fix: str) -> None:
        self.path = Path(path)
        self.problem = problem
        self.fix = fix
        super().__init__(f"cannot write {path}: {problem}; {fix}")
