"""Upgrade event tables written by older schema versions to the current one.

A reader reads every older version and refuses newer ones. Each schema change adds
one :class:`Migration` from version ``n`` to ``n + 1`` to :data:`MIGRATIONS`, a
golden file ``data/fixtures/<domain>-v<n>.parquet`` written by the old code, and a
test that reads it (``tests/test_events_migrations.py`` fails when a registered
migration has no golden file). Migrations run in memory on read; files on disk are
never rewritten behind the user's back.

Registered: v1 → v2 (short-lived kinds, display hints and domain options; the
columns are unchanged). Tests also register a fake "v0" to exercise the chain.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

from schemas.errors import TableError

MigrationStep = Callable[[pa.Table, dict[str, Any]], tuple[pa.Table, dict[str, Any]]]
"""Takes the table and metadata document of version n, returns them in version n + 1."""


@dataclass(frozen=True)
class Migration:
    """One step from schema version ``from_version`` to ``from_version + 1``."""

    from_version: int
    description: str
    """What changed in the format, e.g. "v1 adds the seq column"."""
    step: MigrationStep


MIGRATIONS: dict[int, Migration] = {}
"""Registered migrations by the version they upgrade from."""


def register(from_version: int, description: str) -> Callable[[MigrationStep], MigrationStep]:
    """Decorator adding a migration step to :data:`MIGRATIONS`."""

    def add(step: MigrationStep) -> MigrationStep:
        if from_version in MIGRATIONS:
            raise ValueError(f"a migration from schema v{from_version} is already registered")
        MIGRATIONS[from_version] = Migration(from_version, description, step)
        return step

    return add


def refuse_newer(found: int, *, current: int, path: str | Path) -> None:
    """Raise TableError if version `found` is newer than this reader's `current` version."""
    if found > current:
        raise TableError(
            path,
            f"written by schema v{found}; this simreel reads up to v{current}",
            "upgrade simreel",
        )


def upgrade(
    table: pa.Table,
    document: dict[str, Any],
    *,
    found: int,
    current: int,
    path: str | Path,
    migrations: Mapping[int, Migration] | None = None,
) -> tuple[pa.Table, dict[str, Any]]:
    """Bring a version-`found` table and metadata document up to version `current`.

    Raises TableError for a version newer than `current` (the reader is too old) and
    for an older version without a complete chain of migrations.
    """
    registry = MIGRATIONS if migrations is None else migrations
    refuse_newer(found, current=current, path=path)
    version = found
    while version < current:
        migration = registry.get(version)
        if migration is None:
            raise TableError(
                path,
                f"written by schema v{version}, which this simreel cannot upgrade "
                f"(no migration from v{version} to v{version + 1}; it reads v{current})",
                "read it with the simreel release that wrote it and re-record, "
                "or report the file to the simreel maintainers",
            )
        try:
            table, document = migration.step(table, dict(document))
        except (KeyError, TypeError, ValueError, pa.ArrowException) as error:
            raise TableError(
                path,
                f"cannot upgrade from schema v{version} ({migration.description}): {error}",
                "the file does not match its declared version; re-record it",
            ) from None
        version += 1
        document["schema_version"] = version
    return table, document


@register(1, "v2 adds short-lived kinds, state colours, quantity attributes and domain options")
def _v1_to_v2(table: pa.Table, document: dict[str, Any]) -> tuple[pa.Table, dict[str, Any]]:
    """The columns are the same; v1 declared none of v2's additions, so each gets its empty
    value: no short-lived kinds, no colours, no quantities, no domain options.

    v1 readers ignored unknown keys, so any v2 key already in a v1 document meant nothing
    and is replaced. A malformed field (a vocabulary that is not an object) is passed on
    untouched: the metadata parser then names it, which a crash here could not.
    """
    upgraded = dict(document)
    vocabulary = document.get("vocabulary")
    if isinstance(vocabulary, dict):
        vocabulary = {**vocabulary, "short_lived": [], "colours": {}}
        attributes = vocabulary.get("attributes", [])
        if isinstance(attributes, list):
            vocabulary["attributes"] = [
                {**attribute, "quantity": False} if isinstance(attribute, dict) else attribute
                for attribute in attributes
            ]
        upgraded["vocabulary"] = vocabulary
    domain = document.get("domain")
    if isinstance(domain, dict):
        upgraded["domain"] = {**domain, "options": {}}
    return table, upgraded
