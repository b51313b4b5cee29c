"""The words a domain uses in its event table: actors, their states, typed attributes.

A domain declares its vocabulary once, in a module that both its simulation and its
painter import, so actor and state names are never repeated as string literals on
both sides. The same declaration is stored in every event table's metadata, which
lets a reader that has never seen the domain (the generic timeline painter, an
analyst with polars) interpret the table.

Two sorts of actors exist (schema v2):

* **named actors** (:class:`Actor`), declared one by one: a worker, a buffer, a lane;
* **short-lived kinds** (:class:`ShortLivedKind`): actors that come and go by the
  hundred (customers), declared once per kind. An instance is named by the kind's
  prefix and a number (``customer_17``), so a reader resolves any instance to its
  kind without having been told its name.

Display hints travel with the declaration, so every painter agrees: a colour per
state name (:attr:`Vocabulary.colours`) and which attributes are quantities
(:attr:`Attribute.quantity`: a level or a count, drawn as a height; never an id).

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
_PREFIX = re.compile(r"^[a-z][a-z0-9_]*_$")
_INSTANCE_NUMBER = re.compile(r"^(0|[1-9][0-9]*)$")
_COLOUR = re.compile(r"^#[0-9a-f]{6}$")


class VocabularyError(ValueError):
    """A vocabulary declaration (in code or in a table's metadata) is malformed."""


def _check_name(kind: str, name: object) -> str:
    if not isinstance(name, str) or not _NAME.fullmatch(name):
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
    quantity: bool = False
    """A level or a count (drawn as a height, summed over time); False for ids and labels."""

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
        if not isinstance(self.quantity, bool):
            raise VocabularyError(
                f"attribute {self.name!r}: quantity must be true or false, found {self.quantity!r}"
            )
        if self.quantity and self.type not in ("int64", "float64"):
            raise VocabularyError(
                f"attribute {self.name!r} is declared a quantity but has type {self.type!r}; "
                "only int64 and float64 attributes can be quantities"
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
        _check_states(f"actor {self.name!r}", self.states)
        if not self.kind:
            object.__setattr__(self, "kind", self.name)


@dataclass(frozen=True)
class ShortLivedKind:
    """Actors that come and go by the hundred (customers), declared once for all instances.

    An instance's name is :attr:`prefix` followed by a non-negative decimal number
    without leading zeros (``customer_0``, ``customer_17``); :meth:`instance` forms it.
    """

    kind: str
    """Name of the kind (e.g. "customer"); painters and summaries group instances by it."""
    prefix: str
    """Start of every instance name: lower-case snake_case ending in "_" (e.g. "customer_")."""
    states: tuple[str, ...]
    """States any instance may be in."""
    description: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", str(self.kind))
        object.__setattr__(self, "prefix", str(self.prefix))
        object.__setattr__(self, "states", tuple(str(state) for state in self.states))
        _check_name("short-lived kind", self.kind)
        if not _PREFIX.fullmatch(self.prefix):
            raise VocabularyError(
                f"short-lived kind {self.kind!r} has prefix {self.prefix!r}; expected "
                "lower-case snake_case ending in '_' (e.g. 'customer_')"
            )
        _check_states(f"short-lived kind {self.kind!r}", self.states)

    def instance(self, number: int) -> str:
        """The name of instance `number` (>= 0), e.g. ``customer_17``."""
        if isinstance(number, bool) or not isinstance(number, int) or number < 0:
            raise VocabularyError(f"instance number {number!r} must be an integer >= 0")
        return f"{self.prefix}{number}"

    def matches(self, name: str) -> bool:
        """True if `name` is an instance name of this kind."""
        return name.startswith(self.prefix) and bool(
            _INSTANCE_NUMBER.fullmatch(name[len(self.prefix) :])
        )

    @property
    def pattern(self) -> str:
        """A regular expression matching exactly the instance names (for Arrow, polars, SQL)."""
        return f"^{re.escape(self.prefix)}(0|[1-9][0-9]*)$"


Declaration = Actor | ShortLivedKind
"""What an actor name resolves to: a named actor, or the kind of a short-lived instance."""


@dataclass(frozen=True)
class Vocabulary:
    """Every actor, state and attribute a domain may write to an event table."""

    actors: tuple[Actor, ...]
    """Named actors, in display order."""
    attributes: tuple[Attribute, ...] = ()
    """Attribute columns, in column order."""
    short_lived: tuple[ShortLivedKind, ...] = ()
    """Kinds of short-lived actors, whose instances are not declared by name."""
    colours: Mapping[str, str] = field(default_factory=dict)
    """Display colour per state name ("#rrggbb"); one state name has one colour everywhere."""
    _actor_index: Mapping[str, Actor] = field(init=False, repr=False, compare=False)
    _attribute_index: Mapping[str, Attribute] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        actor_index = {actor.name: actor for actor in self.actors}
        if len(actor_index) != len(self.actors):
            raise VocabularyError(
                "an actor is declared twice: " + _dupes(a.name for a in self.actors)
            )
        kinds = [kind.kind for kind in self.short_lived]
        if len(set(kinds)) != len(kinds):
            raise VocabularyError("a short-lived kind is declared twice: " + _dupes(kinds))
        prefixes = [kind.prefix for kind in self.short_lived]
        if len(set(prefixes)) != len(prefixes):
            raise VocabularyError(
                "two short-lived kinds share the prefix " + _dupes(prefixes) + "; give each its own"
            )
        for actor in self.actors:
            for kind in self.short_lived:
                if kind.matches(actor.name):
                    raise VocabularyError(
                        f"named actor {actor.name!r} looks like an instance of short-lived kind "
                        f"{kind.kind!r} (prefix {kind.prefix!r}); rename the actor or the prefix"
                    )
        declarations: tuple[Declaration, ...] = (*self.actors, *self.short_lived)
        states = {state for d in declarations for state in d.states}
        colours = {}
        for state, colour in dict(self.colours).items():
            if state not in states:
                raise VocabularyError(
                    f"colours: {state!r} is not a declared state; declared states: {sorted(states)}"
                )
            if not isinstance(colour, str) or not _COLOUR.fullmatch(colour.lower()):
                raise VocabularyError(
                    f"colours: state {state!r} has colour {colour!r}; expected '#rrggbb' "
                    "(six hexadecimal digits)"
                )
            colours[str(state)] = colour.lower()
        object.__setattr__(self, "colours", colours)
        attribute_index = {attr.name: attr for attr in self.attributes}
        if len(attribute_index) != len(self.attributes):
            raise VocabularyError(
                "an attribute is declared twice: " + _dupes(a.name for a in self.attributes)
            )
        object.__setattr__(self, "_actor_index", actor_index)
        object.__setattr__(self, "_attribute_index", attribute_index)

    def actor(self, name: str) -> Actor:
        """The declaration of named actor `name`; KeyError names the declared actors."""
        try:
            return self._actor_index[name]
        except KeyError:
            raise KeyError(
                f"actor {name!r} is not declared; declared actors: {sorted(self._actor_index)}"
            ) from None

    def declaration(self, name: str) -> Declaration:
        """What actor `name` is: a named actor or an instance's short-lived kind.

        KeyError names the declared actors and the instance patterns.
        """
        actor = self._actor_index.get(name)
        if actor is not None:
            return actor
        kind = self.kind_of(name)
        if kind is not None:
            return kind
        patterns = [f"{kind.prefix}<n>" for kind in self.short_lived]
        raise KeyError(
            f"actor {name!r} is not declared; declared actors: {sorted(self._actor_index)}"
            + (f", short-lived instances: {patterns}" if patterns else "")
        )

    def kind_of(self, name: str) -> ShortLivedKind | None:
        """The short-lived kind `name` is an instance of, or None."""
        for kind in self.short_lived:
            if kind.matches(name):
                return kind
        return None

    def short_lived_kind(self, kind: str) -> ShortLivedKind:
        """The short-lived kind called `kind`; KeyError names the declared kinds."""
        for declared in self.short_lived:
            if declared.kind == kind:
                return declared
        raise KeyError(
            f"short-lived kind {kind!r} is not declared; declared kinds: "
            f"{[k.kind for k in self.short_lived]}"
        )

    @property
    def state_names(self) -> tuple[str, ...]:
        """Every state name, in declaration order (named actors first), each once."""
        names: dict[str, None] = {}
        declarations: tuple[Declaration, ...] = (*self.actors, *self.short_lived)
        for declaration in declarations:
            names.update(dict.fromkeys(declaration.states))
        return tuple(names)

    @property
    def quantities(self) -> tuple[str, ...]:
        """Names of the attributes declared as quantities."""
        return tuple(a.name for a in self.attributes if a.quantity)

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
                {
                    "name": a.name,
                    "type": a.type,
                    "description": a.description,
                    "quantity": a.quantity,
                }
                for a in self.attributes
            ],
            "short_lived": [
                {
                    "kind": k.kind,
                    "prefix": k.prefix,
                    "states": list(k.states),
                    "description": k.description,
                }
                for k in self.short_lived
            ],
            "colours": dict(self.colours),
        }

    @classmethod
    def from_json(cls, data: object) -> Vocabulary:
        """Parse the metadata form; raises VocabularyError naming the bad field."""
        if not isinstance(data, Mapping):
            raise VocabularyError(f"vocabulary must be an object, found {type(data).__name__}")
        actors_raw = data.get("actors")
        attributes_raw = data.get("attributes", [])
        short_lived_raw = data.get("short_lived", [])
        colours_raw = data.get("colours", {})
        if not isinstance(actors_raw, list):
            raise VocabularyError("vocabulary.actors must be a list of actor objects")
        if not isinstance(attributes_raw, list):
            raise VocabularyError("vocabulary.attributes must be a list of attribute objects")
        if not isinstance(short_lived_raw, list):
            raise VocabularyError("vocabulary.short_lived must be a list of kind objects")
        if not isinstance(colours_raw, Mapping):
            raise VocabularyError("vocabulary.colours must be an object of state: '#rrggbb'")
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
                    quantity=raw.get("quantity", False),
                )
            )
        kinds = []
        for i, raw in enumerate(short_lived_raw):
            if not isinstance(raw, Mapping) or not isinstance(raw.get("states"), list):
                raise VocabularyError(
                    f"vocabulary.short_lived[{i}] must be an object with 'kind', 'prefix' "
                    "and a 'states' list"
                )
            kinds.append(
                ShortLivedKind(
                    kind=raw.get("kind"),  # type: ignore[arg-type]  # validated by the kind
                    prefix=raw.get("prefix"),  # type: ignore[arg-type]
                    states=tuple(raw["states"]),
                    description=str(raw.get("description", "")),
                )
            )
        return cls(
            actors=tuple(actors),
            attributes=tuple(attributes),
            short_lived=tuple(kinds),
            colours=dict(colours_raw),
        )


def _check_states(owner: str, states: tuple[str, ...]) -> None:
    if not states:
        raise VocabularyError(f"{owner} declares no states; declare at least one")
    for state in states:
        _check_name(f"state of {owner}", state)
    if len(set(states)) != len(states):
        raise VocabularyError(f"{owner} declares a state twice: {states}")


def _dupes(names: Iterable[str]) -> str:
    return ", ".join(sorted(name for name, count in Counter(names).items() if count > 1))
