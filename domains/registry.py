"""Find a domain's simulation by its id, through the ``simreel.domains`` entry-point group.

A third-party package makes its domain available to ``simreel train`` and
``simreel record`` by declaring, in its own ``pyproject.toml``::

    [project.entry-points."simreel.domains"]
    mydomain = "mypackage.simulation:MyDomain"
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import partial
from importlib import metadata
from typing import TYPE_CHECKING

from schemas.errors import ConfigError

if TYPE_CHECKING:
    from domains.domain import Domain

DOMAIN_GROUP = "simreel.domains"
BUILT_IN_PACKAGE = "simreel"
"""The distribution of the built-in domains."""
_BUILT_IN = {
    "factory": "domains.factory.simulation:FactoryDomain",
    "cashier": "domains.cashier.simulation:CashierDomain",
}


def _entry_points() -> dict[str, metadata.EntryPoint]:
    found = {
        name: metadata.EntryPoint(name=name, value=value, group=DOMAIN_GROUP)
        for name, value in _BUILT_IN.items()
    }
    found.update({ep.name: ep for ep in metadata.entry_points(group=DOMAIN_GROUP)})
    return found


def domain_package(domain_id: str) -> dict[str, str]:
    """The distribution that provides `domain_id` and its version, e.g. ``{"name":
    "simreel-ferry", "version": "0.1.0"}`` (``simreel`` for the built-in domains): what a
    model card and a table's provenance name, since the package's code is the domain's
    rules as much as ``domain_version`` is."""
    for entry in metadata.entry_points(group=DOMAIN_GROUP):
        if entry.name == domain_id and entry.dist is not None:
            return {"name": entry.dist.name, "version": entry.dist.version}
    try:
        version = metadata.version(BUILT_IN_PACKAGE)
    except metadata.PackageNotFoundError:
        version = "unknown"
    return {"name": BUILT_IN_PACKAGE, "version": version}


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


def resolve_options(domain_class: type[Domain], given: Mapping[str, str]) -> dict[str, str]:
    """Every option of `domain_class` with its value: `given` ones checked, the rest defaults.

    ConfigError names an unknown option or value and lists what the domain accepts.
    """
    declared = {option.name: option for option in domain_class.options}
    for name, value in given.items():
        option = declared.get(name)
        if option is None:
            accepted = (
                ", ".join(f"{o.name} ({'|'.join(o.choices)})" for o in domain_class.options)
                or "none"
            )
            raise ConfigError(
                f"domain {domain_class.domain_id!r} has no option {name!r}; its options: {accepted}"
            )
        if value not in option.choices:
            raise ConfigError(
                f"option {name}={value!r} is not one of {', '.join(option.choices)} "
                f"(domain {domain_class.domain_id!r}: {option.description})"
            )
    return {
        option.name: given.get(option.name, option.choices[0]) for option in domain_class.options
    }


def domain_factory(domain_class: type[Domain], options: Mapping[str, str]) -> Callable[[], Domain]:
    """A picklable function building `domain_class` with `options` (for envs in other processes)."""
    return partial(domain_class, **resolve_options(domain_class, options))


def parse_option_pairs(pairs: Sequence[str]) -> dict[str, str]:
    """``["dispatcher=automatic"]`` as a dict; ConfigError for a pair without ``=``."""
    options: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise ConfigError(
                f"--option {pair!r} must be NAME=VALUE, e.g. --option dispatcher=automatic"
            )
        options[name.strip()] = value.strip()
    return options


def option_flags(options: Mapping[str, str]) -> str:
    """Options as command-line flags: `` --option dispatcher=automatic`` (empty for none)."""
    return "".join(f" --option {name}={value}" for name, value in options.items())


def describe_options(options: Mapping[str, str]) -> str:
    """Options as people write them: ``dispatcher=automatic`` (or ``no options``)."""
    return ", ".join(f"{name}={value}" for name, value in options.items()) or "no options"


def run_label(domain_class: type[Domain], options: Mapping[str, str], *parts: str) -> str:
    """A file or folder name for one run: ``<domain>[-<option values>]-<parts...>``.

    Only options that differ from the domain's defaults appear (by value, in declaration
    order), so the default variant is named as if no option were given, and each variant
    gets a name of its own: ``cashier-automatic-rules-seed0``. Every part is made safe
    for a file name (a domain may declare any string as an option value).
    """
    resolved = resolve_options(domain_class, options)
    defaults = {option.name: option.choices[0] for option in domain_class.options}
    changed = [value for name, value in resolved.items() if value != defaults[name]]
    return "-".join(_file_safe(part) for part in (domain_class.domain_id, *changed, *parts))


def _file_safe(part: str) -> str:
    return "".join(c if c.isalnum() or c in "._-" else "_" for c in str(part))
