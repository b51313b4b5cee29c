"""Find a domain's simulation by its id, through the ``simreel.domains`` entry-point group.

A third-party package makes its domain available to ``simreel train`` and
``simreel record`` by declaring, in its own ``pyproject.toml``::

    [project.entry-points."simreel.domains"]
    mydomain = "mypackage.simulation:MyDomain"
"""

from __future__ import annotations

from importlib import metadata
from typing import TYPE_CHECKING

from schemas.errors import ConfigError

if TYPE_CHECKING:
    from domains.domain import Domain

DOMAIN_GROUP = "simreel.domains"
_BUILT_IN = {"factory": "domains.factory.simulation:FactoryDomain"}


def _entry_points() -> dict[str, metadata.EntryPoint]:
    found = {
        name: metadata.EntryPoint(name=name, value=value, group=DOMAIN_GROUP)
        for name, value in _BUILT_IN.items()
    }
    found.update({ep.name: ep for ep in metadata.entry_points(group=DOMAIN_GROUP)})
    return found


def known_domains() -> list[str]:
    """Ids of every installed domain."""
    return sorted(_entry_points())


def load_domain(domain_id: str) -> type[Domain]:
    """The Domain class registered as `domain_id`; ConfigError lists the known ids."""
    entry_points = _entry_points()
    if domain_id not in entry_points:
        raise ConfigError(
            f"unknown domain {domain_id!r}; installed domains: {', '.join(known_domains())} "
            f"(a package adds one through the {DOMAIN_GROUP!r} entry-point group)"
        )
    loaded: type[Domain] = entry_points[domain_id].load()
    return loaded
