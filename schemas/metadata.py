"""The JSON document stored under the ``simreel`` key of every event table.

Parsing is strict about the fields a reader relies on (each problem names the field,
e.g. ``simreel.episodes[2].rows``, what was expected and what was found) and lenient
about everything else: unknown keys are ignored, so a later minor addition does not
break an older reader. The layout is specified in ``schemas/README.md``.

Standard library only (plus :mod:`schemas.vocabulary` and :mod:`schemas.errors`).
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, TypeGuard

from schemas.errors import TableError
from schemas.vocabulary import Vocabulary, VocabularyError

SCHEMA_NAME: Final = "simreel.events"
"""Value of ``schema`` in the metadata: marks a Parquet file as a simreel event table."""
SCHEMA_VERSION: Final = 2
"""The version this code writes, and the newest it reads."""
METADATA_KEY: Final = "simreel"
"""The one Parquet key-value metadata key simreel reserves."""

_FIX_REWRITE = "re-record the table, or fix the writer following schemas/README.md"

MAX_METADATA_BYTES: Final = 64 * 1024 * 1024
"""Largest metadata document a reader decodes. Decoding costs several times its size in
memory, and the footer is read before anything else, so a hostile or broken file must not
be able to exhaust memory there; a recording of 100,000 episodes with a dozen KPIs each
stays far below it."""
MAX_METADATA_DEPTH: Final = 64
"""Deepest nesting of objects and lists a reader accepts in the metadata document. The
vocabulary needs 5 levels and simreel's provenance 4; every reader and printer of a value
(``simreel inspect``'s provenance lines, the movie's tags) may then recurse safely, far
from Python's recursion limit."""

OptionValue = str | int | float | bool
"""A domain option's value: a JSON scalar."""


@dataclass(frozen=True)
class EpisodeSummary:
    """One entry of ``episodes`` in the metadata: how an episode ran and what it achieved."""

    episode: int
    """Episode number, as in the table's ``episode`` column."""
    seed: int | None
    """Seed the environment was reset with (None: not seeded, or not applicable)."""
    total_reward: float
    """Sum of the rewards the policy received during the episode."""
    end_time: float
    """Simulated seconds at which the episode ended; every interval ends by then."""
    rows: int
    """Number of table rows (intervals) of this episode."""
    kpis: dict[str, float] = field(default_factory=dict)
    """The domain's key figures at the end of the episode, e.g. ``{"finished_items": 27.0}``."""

    def to_json(self) -> dict[str, Any]:
        return {
            "episode": self.episode,
            "seed": self.seed,
            "total_reward": self.total_reward,
            "end_time": self.end_time,
            "rows": self.rows,
            "kpis": dict(self.kpis),
        }


LAYOUT_VERSION: Final = 1
"""Version of the physical layout rules (``schemas/README.md`` section 2.2) this code writes
and prunes by; an index of another version is ignored (the table is then read whole)."""


@dataclass(frozen=True)
class RowGroupIndex:
    """The metadata's ``layout``: where each episode's rows lie in the file's row groups.

    Its presence says the file follows the layout of ``schemas/README.md`` section 2.2 (no
    row group holds two episodes; each episode's groups are consecutive and in time order),
    so a reader may read one episode's groups, pruned by the Parquet statistics of
    ``start`` and ``end``, instead of the whole file. It is checked against the Parquet
    footer before any pruning (:mod:`schemas.windows`).
    """

    row_group_rows: int
    """The most rows the writer put in one row group (an episode longer is cut into slices)."""
    episodes: tuple[tuple[int, int], ...]
    """Per entry of ``TableMetadata.episodes``, in the same order: its first row group and
    how many consecutive row groups hold its rows (0 for an episode without rows)."""
    version: int = LAYOUT_VERSION

    def to_json(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "row_group_rows": self.row_group_rows,
            "episodes": [[first, count] for first, count in self.episodes],
        }


@dataclass(frozen=True)
class TableMetadata:
    """The parsed ``simreel`` metadata document of an event table."""

    schema_version: int
    """Version of the data as held in memory (after any migration: :data:`SCHEMA_VERSION`)."""
    domain_id: str
    domain_version: int
    vocabulary: Vocabulary
    episodes: tuple[EpisodeSummary, ...]
    provenance: dict[str, Any]
    """Free-form record of how the table was made (policy, versions, creation time)."""
    migrated_from: int | None = None
    """The schema version found in the file when it was older and has been migrated."""
    domain_options: dict[str, OptionValue] = field(default_factory=dict)
    """The domain variant the episodes were simulated with, e.g. ``{"dispatcher": "automatic"}``."""
    layout: RowGroupIndex | None = None
    """Where each episode's rows are (None: a table written without the layout, by hand or
    by an older simreel; it is read whole)."""

    def episode(self, k: int) -> EpisodeSummary | None:
        """The summary of episode `k`, or None if the table has no such episode."""
        for summary in self.episodes:
            if summary.episode == k:
                return summary
        return None

    def to_json(self) -> dict[str, Any]:
        """The document written under :data:`METADATA_KEY` (always the current version)."""
        document = {
            "schema": SCHEMA_NAME,
            "schema_version": self.schema_version,
            "domain": {
                "id": self.domain_id,
                "version": self.domain_version,
                "options": dict(self.domain_options),
            },
            "vocabulary": self.vocabulary.to_json(),
            "episodes": [summary.to_json() for summary in self.episodes],
            "provenance": self.provenance,
        }
        if self.layout is not None:
            document["layout"] = self.layout.to_json()
        return document

    def dumps(self) -> str:
        """Strict JSON (no NaN or Infinity, which many JSON parsers reject)."""
        return json.dumps(self.to_json(), allow_nan=False, ensure_ascii=False)


def read_document(path: str | Path, raw: bytes | None) -> dict[str, Any]:
    """Decode the raw metadata value into a JSON object, or raise a TableError saying why not."""
    if raw is None:
        raise TableError(
            path,
            f"the Parquet file has no {METADATA_KEY!r} key in its key-value metadata, "
            "so it is not a simreel event table",
            "write it with simreel (simreel record) or add the metadata described in "
            "schemas/README.md",
        )
    if len(raw) > MAX_METADATA_BYTES:
        raise TableError(
            path,
            f"metadata {METADATA_KEY!r} is {len(raw):,} bytes; a reader decodes at most "
            f"{MAX_METADATA_BYTES:,}",
            "keep large data out of the metadata (provenance, KPIs) and re-record the table",
        )
    try:
        document = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise TableError(
            path, f"metadata {METADATA_KEY!r} is not valid UTF-8 JSON ({error})", _FIX_REWRITE
        ) from None
    except ValueError as error:  # valid JSON Python will not decode: an integer of 5,000 digits
        raise TableError(
            path,
            f"metadata {METADATA_KEY!r} holds a value no reader decodes ({error})",
            _FIX_REWRITE,
        ) from None
    except RecursionError:  # json's decoder refuses nesting deeper than the stack allows
        raise _too_deep(path, None) from None
    depth = nesting_depth(document)
    if depth > MAX_METADATA_DEPTH:
        raise _too_deep(path, depth)
    if not isinstance(document, dict):
        raise TableError(
            path,
            f"metadata {METADATA_KEY!r} must be a JSON object, found {type(document).__name__}",
            _FIX_REWRITE,
        )
    if document.get("schema") != SCHEMA_NAME:
        raise TableError(
            path,
            f"metadata field {METADATA_KEY}.schema must be {SCHEMA_NAME!r}, "
            f"found {document.get('schema')!r}",
            "this file holds another kind of data; pass a simreel event table",
        )
    return document


def nesting_depth(value: object) -> int:
    """How deeply `value` nests lists and objects (a scalar: 0, ``[]``: 1, ``[{}]``: 2).

    Iterative, so a document nested deeper than Python's recursion limit is measured, not
    crashed on."""
    deepest = 0
    pending: list[tuple[object, int]] = [(value, 0)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, dict):
            children: list[object] = list(item.values())
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, depth + 1)
        pending.extend((child, depth + 1) for child in children)
    return deepest


def _too_deep(path: str | Path, depth: int | None) -> TableError:
    found = "too deep to decode" if depth is None else f"{depth} levels deep"
    return TableError(
        path,
        f"metadata {METADATA_KEY!r} nests objects and lists {found}; a reader accepts at most "
        f"{MAX_METADATA_DEPTH} levels",
        "flatten the provenance (or other free-form values) and re-record the table",
    )


def schema_version_of(path: str | Path, document: Mapping[str, Any]) -> int:
    """The ``schema_version`` of a decoded document (a non-negative integer)."""
    version = document.get("schema_version")
    if not _is_int(version) or version < 0:
        raise TableError(
            path,
            f"metadata field {METADATA_KEY}.schema_version must be a non-negative integer, "
            f"found {version!r}",
            _FIX_REWRITE,
        )
    return int(version)


def parse_metadata(
    path: str | Path, document: Mapping[str, Any], *, migrated_from: int | None = None
) -> TableMetadata:
    """Check every field of a current-version document and build a :class:`TableMetadata`."""
    field_ = _Fields(path)
    version = schema_version_of(path, document)
    domain = field_.mapping(document, "domain")
    domain_id = field_.string(domain, "id", "domain.id")
    domain_version = field_.integer(domain, "version", "domain.version")
    domain_options = field_.options(domain)
    try:
        vocabulary = Vocabulary.from_json(document.get("vocabulary"))
    except VocabularyError as error:
        raise TableError(
            path, f"metadata field {METADATA_KEY}.vocabulary is malformed: {error}", _FIX_REWRITE
        ) from None
    raw_episodes = document.get("episodes")
    if not isinstance(raw_episodes, list):
        raise TableError(
            path,
            f"metadata field {METADATA_KEY}.episodes must be a list of episode objects, "
            f"found {_describe(raw_episodes)}",
            _FIX_REWRITE,
        )
    episodes = tuple(field_.episode(raw, i) for i, raw in enumerate(raw_episodes))
    numbers = [summary.episode for summary in episodes]
    if any(b <= a for a, b in itertools.pairwise(numbers)):
        raise TableError(
            path,
            f"metadata field {METADATA_KEY}.episodes must list each episode once in ascending "
            f"order, found episode numbers {numbers}",
            _FIX_REWRITE,
        )
    provenance = document.get("provenance", {})
    if not isinstance(provenance, dict):
        raise TableError(
            path,
            f"metadata field {METADATA_KEY}.provenance must be an object, "
            f"found {_describe(provenance)}",
            _FIX_REWRITE,
        )
    return TableMetadata(
        schema_version=version,
        domain_id=domain_id,
        domain_version=domain_version,
        vocabulary=vocabulary,
        episodes=episodes,
        provenance=provenance,
        migrated_from=migrated_from,
        domain_options=domain_options,
        layout=field_.layout(document.get("layout"), len(episodes)),
    )


class _Fields:
    """Typed accessors that raise a TableError naming the metadata field."""

    def __init__(self, path: str | Path) -> None:
        self._path = path

    def _fail(self, name: str, expected: str, found: object) -> TableError:
        return TableError(
            self._path,
            f"metadata field {METADATA_KEY}.{name} must be {expected}, found {_describe(found)}",
            _FIX_REWRITE,
        )

    def mapping(self, parent: Mapping[str, Any], key: str) -> Mapping[str, Any]:
        value = parent.get(key)
        if not isinstance(value, Mapping):
            raise self._fail(key, "an object", value)
        return value

    def string(self, parent: Mapping[str, Any], key: str, name: str) -> str:
        value = parent.get(key)
        if not isinstance(value, str) or not value:
            raise self._fail(name, "a non-empty string", value)
        return value

    def integer(self, parent: Mapping[str, Any], key: str, name: str, minimum: int = 0) -> int:
        value = parent.get(key)
        if not _is_int(value) or value < minimum:
            raise self._fail(name, f"an integer >= {minimum}", value)
        return int(value)

    def options(self, domain: Mapping[str, Any]) -> dict[str, OptionValue]:
        value = domain.get("options", {})
        if not isinstance(value, Mapping):
            raise self._fail("domain.options", "an object of option: value", value)
        for key, option in value.items():
            if isinstance(option, float) and not math.isfinite(option):
                raise self._fail(f"domain.options.{key}", "a string, number or boolean", option)
            if not isinstance(option, str | int | float | bool):
                raise self._fail(f"domain.options.{key}", "a string, number or boolean", option)
        return dict(value)

    def number(
        self, parent: Mapping[str, Any], key: str, name: str, default: float | None
    ) -> float:
        value = parent.get(key, default)
        if not _is_number(value):
            raise self._fail(name, "a finite number", value)
        return float(value)

    def layout(self, raw: object, episodes: int) -> RowGroupIndex | None:
        """The row-group index, None if absent or of a layout version this reader does not
        know (the table is then read whole, as any table without one)."""
        if raw is None:
            return None
        if not isinstance(raw, Mapping):
            raise self._fail("layout", "an object (schemas/README.md section 2.2)", raw)
        version = raw.get("version")
        if _is_int(version) and version != LAYOUT_VERSION:
            return None
        if version != LAYOUT_VERSION:
            raise self._fail("layout.version", f"the integer {LAYOUT_VERSION}", version)
        rows = self.integer(raw, "row_group_rows", "layout.row_group_rows", minimum=1)
        entries = raw.get("episodes")
        if not isinstance(entries, list) or len(entries) != episodes:
            raise self._fail(
                "layout.episodes",
                f"a list of {episodes} [first row group, count] pairs, one per episode",
                entries,
            )
        pairs = []
        for i, entry in enumerate(entries):
            if not (
                isinstance(entry, list)
                and len(entry) == 2
                and all(_is_int(v) and v >= 0 for v in entry)
            ):
                raise self._fail(
                    f"layout.episodes[{i}]",
                    "a pair [first row group, count] of integers >= 0",
                    entry,
                )
            pairs.append((int(entry[0]), int(entry[1])))
        return RowGroupIndex(row_group_rows=rows, episodes=tuple(pairs))

    def episode(self, raw: object, i: int) -> EpisodeSummary:
        name = f"episodes[{i}]"
        if not isinstance(raw, Mapping):
            raise self._fail(name, "an object", raw)
        seed = raw.get("seed")
        if seed is not None and not _is_int(seed):
            raise self._fail(f"{name}.seed", "an integer or null", seed)
        end_time = self.number(raw, "end_time", f"{name}.end_time", None)
        if end_time < 0:
            raise self._fail(f"{name}.end_time", "a number >= 0", end_time)
        kpis = raw.get("kpis", {})
        if not isinstance(kpis, Mapping):
            raise self._fail(f"{name}.kpis", "an object of numbers", kpis)
        for key, value in kpis.items():
            if not _is_number(value):
                raise self._fail(f"{name}.kpis.{key}", "a finite number", value)
        return EpisodeSummary(
            episode=self.integer(raw, "episode", f"{name}.episode"),
            seed=None if seed is None else int(seed),
            total_reward=self.number(raw, "total_reward", f"{name}.total_reward", 0.0),
            end_time=end_time,
            rows=self.integer(raw, "rows", f"{name}.rows"),
            kpis={str(key): float(value) for key, value in kpis.items()},
        )


def _is_int(value: object) -> TypeGuard[int]:
    # bool is an int subclass; JSON true is not a count.
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    if not isinstance(value, int | float) or isinstance(value, bool):
        return False
    try:
        return math.isfinite(float(value))
    except OverflowError:  # an integer too large for a float
        return False


def _describe(value: object) -> str:
    if value is None:
        return "nothing (missing or null)"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
