"""Two event tables that may be put side by side: one domain, one version of its rules.

A factory episode beside a cashier episode compares nothing, and neither do two
versions of one domain (the rules changed between them, so a KPI may mean something
else). Both the side-by-side movie and ``simreel compare`` refuse such a pair before
any work, with a message that names both files and what each holds. Two variants of
one domain (``--option dispatcher=automatic`` against the default) are comparable: that
is a question worth asking, and every label shows the options.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from schemas.errors import ConfigError
from schemas.metadata import OptionValue, TableMetadata
from stages.terminal import printable


def describe_domain(metadata: TableMetadata) -> str:
    """``cashier version 0 (dispatcher=automatic)``, escaped for a terminal."""
    text = f"{printable(metadata.domain_id)} version {metadata.domain_version}"
    options = options_text(metadata.domain_options)
    return f"{text} ({options})" if options else text


def options_text(options: Mapping[str, OptionValue]) -> str:
    """``dispatcher=automatic, ...`` (escaped), or the empty string for no options."""
    return ", ".join(f"{printable(str(k))}={printable(str(v))}" for k, v in options.items())


def check_comparable(
    first: TableMetadata, first_path: Path, second: TableMetadata, second_path: Path
) -> None:
    """Raise ConfigError unless both tables hold episodes of one domain at one version.

    The message names both files and what each holds, and says what to pass instead.
    """
    a, b = printable(str(first_path)), printable(str(second_path))
    if first.domain_id != second.domain_id:
        raise ConfigError(
            f"{a} holds {describe_domain(first)} episodes but {b} holds "
            f"{describe_domain(second)} episodes; two tables are compared only within one "
            "domain: pass two tables of the same domain"
        )
    if first.domain_version != second.domain_version:
        raise ConfigError(
            f"{a} was recorded with {describe_domain(first)} but {b} with "
            f"{describe_domain(second)}; the rules changed between the versions, so their "
            "figures do not compare: re-record the older table with this simreel"
        )
