"""Which objects a row names: its actor, and the things and actors its attributes point at.

An event table has no foreign keys; the vocabulary says enough to find them
(``schemas/OCEL.md``, section "Objects"):

* the row's **actor** is an object (qualifier ``actor``);
* an ``int64`` attribute named like a **short-lived kind** holds instance numbers
  (the cashier's ``customer``: 7 is ``customer_7``);
* a ``string`` attribute whose value is an **actor's name** (``lane1``, ``cashier_fast``)
  points at that actor;
* a **thing** attribute (an ``int64`` id that is neither a quantity nor an instance
  number: the factory's ``item``) makes one object per value, typed by the attribute.

Every object id starts with ``ep<episode>/``: the same name in two episodes is two
objects (``schemas/README.md``, section 3).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import polars as pl

from schemas.errors import ConfigError
from schemas.metadata import TableMetadata
from schemas.vocabulary import ShortLivedKind, Vocabulary

ACTOR: Final = "actor"
"""Qualifier of the relation between an event and the actor whose row it comes from."""
EPISODE_TYPE: Final = "episode"
"""Object type of the one object per episode (its seed, reward and KPIs)."""
THING_TYPES: Final = ("int64", "string")
"""Attribute types whose values can name a thing (floats and flags cannot)."""


@dataclass(frozen=True)
class Slot:
    """One way a row names an object: the qualifier, and per row the object's id and type
    (both null where the row names none)."""

    qualifier: str
    object_id: pl.Expr
    object_type: pl.Expr


@dataclass(frozen=True)
class References:
    """The attributes that name objects, by how they name them."""

    instances: tuple[tuple[str, ShortLivedKind], ...]
    """(attribute, kind): an int64 attribute named like the kind holds instance numbers."""
    actor_names: tuple[str, ...]
    """String attributes whose values may be actor names."""
    things: tuple[str, ...]
    """Attributes each of whose values is an object of the attribute's own type."""

    def slots(self, vocabulary: Vocabulary) -> list[Slot]:
        """The actor's slot first, then one per attribute, in column order."""
        prefix = pl.format("ep{}/", pl.col("episode"))
        slots = [Slot(ACTOR, pl.concat_str(prefix, pl.col("actor")), pl.col("kind"))]
        instance_kinds = dict(self.instances)
        for attribute in vocabulary.attributes:
            name = attribute.name
            value = pl.col(name)
            if name in instance_kinds:
                kind = instance_kinds[name]
                slots.append(
                    Slot(
                        name,
                        pl.when(value >= 0).then(
                            pl.concat_str(prefix, pl.lit(kind.prefix), value.cast(pl.String))
                        ),
                        pl.when(value >= 0).then(pl.lit(kind.kind)),
                    )
                )
            elif name in self.things:
                slots.append(
                    Slot(
                        name,
                        pl.concat_str(prefix, pl.lit(f"{name}:"), value.cast(pl.String)),
                        pl.when(value.is_not_null()).then(pl.lit(name)),
                    )
                )
            elif name in self.actor_names:
                kind_of_value = kind_of(value, vocabulary)
                slots.append(
                    Slot(
                        name,
                        pl.when(kind_of_value.is_not_null()).then(pl.concat_str(prefix, value)),
                        kind_of_value,
                    )
                )
        return slots


def kind_of(name: pl.Expr, vocabulary: Vocabulary) -> pl.Expr:
    """Per value: the kind of the actor it names (named actor or instance), else null."""
    named = {actor.name: actor.kind for actor in vocabulary.actors}
    result = name.replace_strict(named, default=None, return_dtype=pl.String)
    for kind in vocabulary.short_lived:  # a name matches at most one kind
        result = pl.when(name.str.contains(kind.pattern)).then(pl.lit(kind.kind)).otherwise(result)
    return result


def kinds(vocabulary: Vocabulary) -> list[str]:
    """Every kind once: the named actors' kinds in declaration order, then short-lived."""
    ordered = [actor.kind for actor in vocabulary.actors] + [k.kind for k in vocabulary.short_lived]
    return list(dict.fromkeys(ordered))


def choose_references(metadata: TableMetadata, things: Sequence[str] | None) -> References:
    """The references of a table's rows; `things` are the attributes the user named as
    things (None: the default, see :func:`default_things`).

    ConfigError names an attribute that cannot be a thing, and why.
    """
    vocabulary = metadata.vocabulary
    short_lived = {kind.kind: kind for kind in vocabulary.short_lived}
    all_kinds = set(kinds(vocabulary))
    if things is None:
        chosen = default_things(metadata)
    else:
        chosen = tuple(dict.fromkeys(things))
        for name in chosen:
            _check_thing(vocabulary, name, all_kinds)
    instances = tuple(
        (a.name, short_lived[a.name])
        for a in vocabulary.attributes
        if a.type == "int64" and a.name in short_lived and a.name not in chosen
    )
    actor_names = tuple(
        a.name for a in vocabulary.attributes if a.type == "string" and a.name not in chosen
    )
    return References(instances=instances, actor_names=actor_names, things=chosen)


def default_things(metadata: TableMetadata) -> tuple[str, ...]:
    """The int64 attributes declared ``quantity: false`` whose name is no kind's.

    A table migrated from schema v1 declares no quantities, so a level and an id look
    alike there: it gets no things unless the user names them (``--objects``).
    """
    if metadata.migrated_from is not None and metadata.migrated_from < 2:
        return ()
    vocabulary = metadata.vocabulary
    all_kinds = set(kinds(vocabulary))
    return tuple(
        a.name
        for a in vocabulary.attributes
        if a.type == "int64" and not a.quantity and a.name not in all_kinds
    )


def _check_thing(vocabulary: Vocabulary, name: str, all_kinds: set[str]) -> None:
    declared = {a.name: a for a in vocabulary.attributes}
    attribute = declared.get(name)
    if attribute is None:
        raise ConfigError(
            f"--objects: {name!r} is not an attribute of this table; its attributes are "
            f"{sorted(declared)}"
        )
    if attribute.type not in THING_TYPES:
        raise ConfigError(
            f"--objects: attribute {name!r} has type {attribute.type}; only int64 and "
            "string attributes can name objects; leave it out"
        )
    if attribute.quantity:
        raise ConfigError(
            f"--objects: attribute {name!r} is a quantity (a level or a count), not an id; "
            "leave it out"
        )
    if name in all_kinds or name == EPISODE_TYPE:
        raise ConfigError(
            f"--objects: attribute {name!r} has the name of an object type the export "
            f"already has (the kinds {sorted(all_kinds)} and {EPISODE_TYPE!r}); leave it out"
        )
