"""The words a domain uses in its event table: actors, their states, typed attributes.

A domain declares its vocabulary once, in a module that both its simulation and its
painter import, so actor and state names are never repeated as string literals on
both sides. The same declaration is stored in every event table's metadata, which
lets a reader that has never seen the domain (the generic timeline painter, an
analyst with polars) interpret the table.

This module depends on the standard library only.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal, get_args

AttributeType = Literal["int64", "float64", "string", "bool"]
"""Parquet physical types an attribute column may have (all columns are nullable)."""

ATTRIBUTE_TYPES: Final[tuple[str, ...]] = get_args(AttributeType)

RESERVED_COLUMNS: Final[tuple[str, ...]] = ("episode", "seq", "actor", "state", "start", "end")
"""Columns every event table has; attribute names may not reuse them."""

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


class VocabularyError(ValueError):
    """A vocabulary declaration (in code or in a table's metadata) is malformed."""


def _check_name(kind: str, name: object) -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        raise VocabularyError(
            f"{kind} name {name!r} is not valid: expected lower-case snake_case "
            "(letters, digits, underscores, starting with a letter)"
        )
    return name


@dataclass(frozen=True)
class Attribute:
    """One typed attribute column an interval may carry."""

    name: str
    type: AttributeType
    description: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", str(self.name))  # StrEnum members become plain str
        _check_name("attribute", self.name)
        if self.name in RESERVED_COLUMNS:
            raise VocabularyError(
                f"attribute name {self.name!r} is reserved for a table column; "
                f"choose a name outside {RESERVED_COLUMNS}"
            )
        if self.type not in ATTRIBUTE_TYPES:
            raise VocabularyError(
                f"attribute {self.name!r} has type {self.type!r}; expected one of {ATTRIBUTE_TYPES}"
            )


@dataclass(frozen=True)
class Actor:
    """Something whose state changes over time: a worker, a buffer, a counter."""

    name: str
    states: tuple[str, ...]
    kind: str = ""
    """Groups actors drawn alike (e.g. "worker"); defaults to the name."""
    description: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", str(self.name))
        object.__setattr__(self, "states", tuple(str(state) for state in self.states))
        _check_name("actor", self.name)
        if not self.states:
            raise VocabularyError(f"actor {self.name!r} declares no states; declare at least one")
        for state in self.states:
            _check_name(f"state of actor {self.name!r}", state)
        if len(set(self.states)) != len(self.states):
            raise VocabularyError(f"actor {self.name!r} declares a state twice: {self.states}")
        if not self.kind:
            object.__setattr__(self, "kind", self.name)


@dataclass(frozen=True)
class Vocabulary:
    """Every actor, state and attribute a domain may write to an event table."""

    actors: tuple[Actor, ...]
    attributes: tuple[Attribute, ...] = ()
    _actor_index: Mapping[str, Actor] = field(init=False, repr=False, compare=False)
    _attribute_index: Mapping[str, Attribute] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        actor_index = {actor.name: actor for actor in self.actors}
        if len(actor_index) != len(self.actors):
            raise VocabularyError(
                "an actor is declared twice: " + _dupes(a.name for a in self.actors)
            )
        attribute_index = {attr.name: attr for attr in self.attributes}
        if len(attribute_index) != len(self.attributes):
            raise VocabularyError(
                "an attribute is declared twice: " + _dupes(a.name for a in self.attributes)
            )
        object.__setattr__(self, "_actor_index", actor_index)
        object.__setattr__(self, "_attribute_index", attribute_index)

    def actor(self, name: str) -> Actor:
        """The declaration of actor `name`; KeyError names the declared actors."""
        try:
            return self._actor_index[name]
        except KeyError:
            raise KeyError(
                f"actor {name!r} is not declared; declared actors: {sorted(self._actor_index)}"
            ) from None

    def attribute(self, name: str) -> Attribute:
        """The declaration of attribute `name`; KeyError names the declared attributes."""
        try:
            return self._attribute_index[name]
        except KeyError:
            raise KeyError(
                f"attribute {name!r} is not declared; declared: {sorted(self._attribute_index)}"
            ) from None

    @property
    def actor_names(self) -> tuple[str, ...]:
        return tuple(self._actor_index)

    @property
    def attribute_names(self) -> tuple[str, ...]:
        return tuple(self._attribute_index)

    def to_json(self) -> dict[str, Any]:
        """The form stored under `vocabulary` in a table's metadata."""
        return {
            "actors": [
                {
                    "name": a.name,
                    "kind": a.kind,
                    "states": list(a.states),
                    "description": a.description,
                }
                for a in self.actors
            ],
            "attributes": [
                {"name": a.name, "type": a.type, "description": a.description}
                for a in self.attributes
            ],
        }

    @classmethod
    def from_json(cls, data: object) -> Vocabulary:
        """Parse the metadata form; raises VocabularyError naming the bad field."""
        if not isinstance(data, Mapping):
            raise VocabularyError(f"vocabulary must be an object, found {type(data).__name__}")
        actors_raw = data.get("actors")
        attributes_raw = data.get("attributes", [])
        if not isinstance(actors_raw, list):
            raise VocabularyError("vocabulary.actors must be a list of actor objects")
        if not isinstance(attributes_raw, list):
            raise VocabularyError("vocabulary.attributes must be a list of attribute objects")
        actors = []
        for i, raw in enumerate(actors_raw):
            if not isinstance(raw, Mapping) or not isinstance(raw.get("states"), list):
                raise VocabularyError(
                    f"vocabulary.actors[{i}] must be an object with 'name' and a 'states' list"
                )
            actors.append(
                Actor(
                    name=raw.get("name"),  # type: ignore[arg-type]  # validated by Actor
                    states=tuple(raw["states"]),
                    kind=str(raw.get("kind") or ""),
                    description=str(raw.get("description", "")),
                )
            )
        attributes = []
        for i, raw in enumerate(attributes_raw):
            if not isinstance(raw, Mapping):
                raise VocabularyError(f"vocabulary.attributes[{i}] must be an object")
            attributes.append(
                Attribute(
                    name=raw.get("name"),  # type: ignore[arg-type]  # validated by Attribute
                    type=raw.get("type"),  # type: ignore[arg-type]
                    description=str(raw.get("description", "")),
                )
            )
        return cls(actors=tuple(actors), attributes=tuple(attributes))


def _dupes(names: Iterable[str]) -> str:
    return ", ".join(sorted(name for name, count in Counter(names).items() if count > 1))
