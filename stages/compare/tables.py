"""The two tables ``simreel compare`` reads, checked to be of one domain and version."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from schemas.events import EventTable, read_events
from stages.render.labels import policy_label
from stages.render.pairing import check_comparable


@dataclass(frozen=True)
class ComparedTable:
    """One side of a comparison."""

    letter: str
    """``A`` or ``B``: B - A is what the differences are."""
    path: Path
    table: EventTable

    @property
    def policy(self) -> str:
        """The recording policy in a few words (escaped), from the table's provenance."""
        return policy_label(self.table.metadata.provenance)

    @property
    def episodes(self) -> int:
        return len(self.table.metadata.episodes)


def read_pair(first: Path, second: Path) -> tuple[ComparedTable, ComparedTable]:
    """Both tables, read and validated; ConfigError if they are of two domains or versions
    (TableError if either is not a valid event table)."""
    a, b = read_events(first), read_events(second)
    check_comparable(a.metadata, first, b.metadata, second)
    return ComparedTable("A", first, a), ComparedTable("B", second, b)
