"""``simreel domains`` and ``simreel check-domain``: the installed domains, and their check.

:func:`installed_domains` describes every domain the ``simreel.domains`` entry points
offer (built in, or from a package of its own) and :func:`domains_command` prints it;
:func:`check_domain_command` runs :func:`domains.check.check_domain` on one domain's
variants and prints each check as it passes. Every text that comes from a package
(names, descriptions, error messages) is escaped before it reaches the terminal.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

import click

from domains.check import DomainCheckReport, PassedCheck, check_domain
from domains.domain import DomainOption
from domains.registry import (
    describe_options,
    domain_package,
    known_domains,
    load_domain,
    parse_option_pairs,
    resolve_options,
)
from stages.terminal import one_line, printable

GENERIC_PAINTER: Final = "generic timeline"


@dataclass(frozen=True)
class InstalledDomain:
    """One installed domain as ``simreel domains`` shows it."""

    domain_id: str
    package: str
    """The distribution that declares it (``simreel`` for the built-in ones)."""
    package_version: str
    version: int | None
    """``domain_version``; None when the domain cannot be imported."""
    options: tuple[DomainOption, ...] = ()
    kpi_names: tuple[str, ...] = ()
    painter: str = GENERIC_PAINTER
    """The registered painter (name and where it lives), or the generic timeline."""
    problem: str | None = None
    """Why the domain cannot be imported, if it cannot."""


def installed_domains() -> list[InstalledDomain]:
    """Every installed domain, by id; a domain whose package is broken is listed with the
    reason instead of stopping the listing."""
    # Imported here, not with the module: the painters' registry loads pygame.
    from stages.render.painters import installed_painters

    painters = installed_painters()
    found = []
    for domain_id in known_domains():
        distribution = domain_package(domain_id)
        package, package_version = distribution["name"], distribution["version"]
        painter = painters.get(domain_id)
        shown = GENERIC_PAINTER if painter is None else f"{painter.name} ({painter.value})"
        try:
            domain_class = load_domain(domain_id)
        except Exception as error:  # a broken package must not hide the others
            problem = f"cannot be imported: {type(error).__name__}: {error}"
            found.append(
                InstalledDomain(domain_id, package, package_version, None, problem=problem)
            )
            continue
        found.append(
            InstalledDomain(
                domain_id,
                package,
                package_version,
                domain_class.domain_version,
                tuple(domain_class.options),
                tuple(domain_class.kpi_names),
                shown,
            )
        )
    return found


def format_domain(domain: InstalledDomain) -> list[str]:
    """The lines ``simreel domains`` prints for `domain`, each escaped."""
    head = f"{domain.domain_id}  ({domain.package} {domain.package_version})"
    if domain.problem is not None:
        lines = [head, f"  {domain.problem}; reinstall that package"]
    else:
        variants = "; ".join(_describe_option(option) for option in domain.options)
        lines = [
            head,
            f"  version   {domain.version}",
            f"  variants  {variants or 'none (no options)'}",
            f"  KPIs      {', '.join(domain.kpi_names) or 'none'}",
            f"  painter   {domain.painter}",
        ]
    return [one_line(line) for line in lines]


def _describe_option(option: DomainOption) -> str:
    choices = ", ".join(
        f"{choice} (default)" if index == 0 else str(choice)
        for index, choice in enumerate(option.choices)
    )
    return f"--option {option.name}={{{choices}}}: {option.description}"


@click.command("domains")
def domains_command() -> None:
    """List the installed domains: the package that provides each (name and version), its
    domain_version, variants (--option NAME=VALUE and the choices, the default first),
    KPIs and painter (the generic timeline for a domain without one).

    A package adds a domain through the 'simreel.domains' entry points and its painter
    through 'simreel.painters' (see docs/your-own-domain.md).

    \b
    Example:
        simreel domains
        simreel check-domain cashier
    """
    for domain in installed_domains():
        click.echo("\n".join(format_domain(domain)))


def variants(options: Sequence[DomainOption], given: Mapping[str, str]) -> list[dict[str, str]]:
    """The variants to check: `given` alone (other options at their defaults) when any
    option is given, else every combination of every option's choices."""
    if given:
        return [dict(given)]
    names = [option.name for option in options]
    combinations = itertools.product(*(option.choices for option in options))
    return [
        {name: str(value) for name, value in zip(names, values, strict=True)}
        for values in combinations
    ]


@click.command("check-domain")
@click.argument("name")
@click.option(
    "--option",
    "option_pairs",
    multiple=True,
    metavar="NAME=VALUE",
    help="Check this variant only (repeatable); default: every variant.",
)
@click.option(
    "--episodes", type=int, default=3, show_default=True, help="Episodes played per variant."
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of episode 0.")
def check_domain_command(
    name: str, option_pairs: tuple[str, ...], episodes: int, seed: int
) -> None:
    """Check that the installed domain NAME keeps simreel's contract, printing each check
    as it passes: its declaration and training defaults, masks, observations, that every
    episode ends, the recorded rows against its vocabulary, its KPIs, determinism
    (the same seed and decisions give the same table), Gymnasium's check_env and a
    still drawn by its painter. Episodes are played with the seeded random legal policy.

    The first failing check stops the command with one line saying what is wrong and
    how to fix it (exit code 1). In a domain's own tests, call
    domains.check.check_domain(NAME) instead.

    \b
    Example:
        simreel check-domain cashier
        simreel check-domain cashier --option dispatcher=automatic --episodes 10
    """
    domain_class = load_domain(name)  # ConfigError lists the installed domains
    given = parse_option_pairs(option_pairs)
    resolve_options(domain_class, given)  # ConfigError names a bad option before any check
    distribution = domain_package(name)
    package, package_version = distribution["name"], distribution["version"]
    checked = variants(domain_class.options, given)
    for options in checked:
        variant = {key: str(value) for key, value in resolve_options(domain_class, options).items()}
        label = f"{name} ({describe_options(variant)})"
        click.echo(
            one_line(
                f"{label}, from {package} {package_version}: "
                f"{episodes} episode{'s' if episodes != 1 else ''} from seed {seed}"
            )
        )
        report = check_domain(name, options, episodes, seed, on_pass=_print_check)
        _print_summary(label, report)
    if len(checked) > 1:
        click.echo(one_line(f"{name}: all {len(checked)} variants pass"))


def _print_check(check: PassedCheck) -> None:
    click.echo(f"  ok  {printable(check.name):<18} {printable(check.detail)}")


def _print_summary(label: str, report: DomainCheckReport) -> None:
    for note in report.notes:
        click.echo(f"  --  {printable(note)}")
    click.echo(one_line(f"{label} passes all {len(report.passed)} checks"))
