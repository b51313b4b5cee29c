"""``simreel compare A B``: policy A against policy B, from two tables of one domain.

:func:`compare` is the typed stage function, :func:`compare_command` its thin click
wrapper. It reads only the tables (no simulation code: ``.importlinter``), so two
recordings compare years later, without a model or a simulator.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import click

from schemas.atomic import refuse_to_replace
from schemas.errors import ConfigError
from stages.compare.intervals import CONFIDENCE, Interval
from stages.compare.kpis import KpiComparison, compare_kpis
from stages.compare.plot import write_plot
from stages.compare.tables import ComparedTable, read_pair
from stages.compare.text import format_text
from stages.render.pairing import describe_domain
from stages.render.provenance import recorded_essentials
from stages.render.series import Quantity, resolve
from stages.terminal import printable

PLOTS: Final = Path("data/plots")
"""Where a plot goes without ``--out``."""
MIN_SCALE: Final = 0.25
MAX_SCALE: Final = 4.0


@dataclass(frozen=True)
class CompareOptions:
    """What to compare; :meth:`validate` names the first bad value and the fix."""

    first: Path
    """Table A (differences are B - A)."""
    second: Path
    """Table B."""
    plot: str | None = None
    """A quantity to plot over time (``finished``, ``finished.count``); None: no plot."""
    out: Path | None = None
    """The plot's PNG, replaced if it exists (the user named it); None: :meth:`default_plot`."""
    scale: float = 1.0
    """The plot's size over 1280 x 720."""
    force: bool = False
    """Replace the plot at its default name if it exists (else refused: ConfigError)."""

    def default_plot(self, quantity: Quantity) -> Path:
        """``data/plots/<A stem>-vs-<B stem>-<actor>-<attribute>.png``."""
        name = f"{self.first.stem}-vs-{self.second.stem}-{quantity.actor}-{quantity.attribute}"
        return PLOTS / f"{name}.png"

    def validate(self) -> None:
        """Check the options that need no table."""
        if self.out is not None and self.plot is None:
            raise ConfigError(
                f"--out {self.out} names the plot's file, but no plot was asked for; "
                "add --plot QUANTITY (e.g. --plot finished) or drop --out"
            )
        if self.out is not None and self.out.suffix.lower() != ".png":
            raise ConfigError(f"--out {self.out}: the plot is a PNG; name the file .png")
        if self.out is not None and self.out.is_dir():
            raise ConfigError(f"--out {self.out} is a directory; give a file name")
        if not (math.isfinite(self.scale) and MIN_SCALE <= self.scale <= MAX_SCALE):
            raise ConfigError(f"--scale ({self.scale}) must be between {MIN_SCALE} and {MAX_SCALE}")


@dataclass(frozen=True)
class CompareReport:
    """What :func:`compare` found (and wrote)."""

    domain: str
    """The domain and version, escaped (``factory version 0``)."""
    tables: tuple[ComparedTable, ComparedTable]
    kpis: list[KpiComparison]
    plot: Path | None = None
    """The plot written, if one was asked for."""
    quantity: Quantity | None = field(default=None)

    def text(self) -> str:
        """The report for a terminal (table text escaped)."""
        return format_text(self.domain, self.tables, self.kpis)

    def to_json(self) -> dict[str, Any]:
        """Every figure, for scripts: per KPI both means and B - A with their intervals."""
        metadata = self.tables[0].table.metadata
        return {
            "domain": {"id": metadata.domain_id, "version": metadata.domain_version},
            "confidence": CONFIDENCE,
            "tables": {
                table.letter: {
                    "path": str(table.path),
                    "policy": table.policy,
                    "recorded": recorded_essentials(table.table.metadata.provenance),
                    "episodes": table.episodes,
                    "options": dict(table.table.metadata.domain_options),
                }
                for table in self.tables
            },
            "kpis": [_kpi_json(comparison) for comparison in self.kpis],
            "plot": (
                None
                if self.plot is None or self.quantity is None
                else {"path": str(self.plot), "quantity": self.quantity.name}
            ),
        }


def _interval_json(interval: Interval | None) -> dict[str, float | None] | None:
    if interval is None:
        return None
    return {
        "estimate": interval.estimate,
        "low": interval.low,
        "high": interval.high,
        "df": interval.df,
    }


def _kpi_json(comparison: KpiComparison) -> dict[str, Any]:
    sides: dict[str, Any] = {}
    for letter, stats, mean in (
        ("A", comparison.a, comparison.a_mean),
        ("B", comparison.b, comparison.b_mean),
    ):
        sides[letter] = (
            None
            if stats is None
            else {
                "episodes": stats.episodes,
                "sd": stats.std,
                "min": stats.minimum,
                "max": stats.maximum,
                "mean": _interval_json(mean),
            }
        )
    return {
        "name": comparison.name,
        **sides,
        "difference": _interval_json(comparison.difference),
        "verdict": comparison.verdict,
    }


def compare(options: CompareOptions) -> CompareReport:
    """Compare table B with table A per KPI, and plot a quantity if asked (atomically).

    Raises TableError for a bad table, ConfigError for bad options, two tables of two
    domains or versions, a quantity the tables do not hold, or a default plot name
    that exists without `force`; nothing is written then.
    """
    options.validate()
    tables = read_pair(options.first, options.second)
    first, second = tables
    kpis = compare_kpis(first.table.metadata.episodes, second.table.metadata.episodes)
    domain = describe_domain(first.table.metadata)
    if options.plot is None:
        return CompareReport(domain, tables, kpis)
    # The quantity must be in both tables: resolving it in each names the one lacking it.
    quantity = resolve(first.table, options.plot)
    resolve(second.table, quantity.name)
    out = options.out if options.out is not None else options.default_plot(quantity)
    if options.out is None:
        refuse_to_replace(out, force=options.force)
    write_plot(out, quantity, tables, scale=options.scale)
    return CompareReport(domain, tables, kpis, out, quantity)


@click.command("compare")
@click.argument("first", metavar="A", type=click.Path(path_type=Path, dir_okay=False))
@click.argument("second", metavar="B", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--json", "as_json", is_flag=True, default=False, help="Print JSON for scripts.")
@click.option(
    "--plot",
    metavar="QUANTITY",
    default=None,
    help="Also draw QUANTITY over simulated time for both tables as a PNG: an actor whose "
    "rows carry a quantity (finished, served, buffer_a) or actor.attribute.",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="The plot's PNG, replaced if it exists (default: data/plots/<A>-vs-<B>-<quantity>.png).",
)
@click.option(
    "--scale", type=float, default=1.0, show_default=True, help="Plot size factor (1 = 1280 x 720)."
)
@click.option(
    "--force",
    is_flag=True,
    default=False,
    help="Replace the plot at its default name if it exists.",
)
def compare_command(
    first: Path,
    second: Path,
    as_json: bool,
    plot: str | None,
    out: Path | None,
    scale: float,
    force: bool,
) -> None:
    """Compare policy B with policy A: per KPI and the reward, each table's mean with its
    95% interval over all its episodes, and B - A with its Welch interval.

    A and B are event tables of one domain and version (e.g. the committed model and the
    random baseline). A plain-words verdict (B higher / lower than A) is printed only when
    the interval of B - A excludes 0. With --plot, also a PNG of a quantity over
    simulated time: per table the mean over episodes with its 95% band, and each
    episode as a thin line.

    \b
    Example:
        simreel compare data/events/a.parquet data/events/b.parquet
        simreel compare a.parquet b.parquet --json
        simreel compare a.parquet b.parquet --plot finished --out finished.png
    """
    options = CompareOptions(
        first=first, second=second, plot=plot, out=out, scale=scale, force=force
    )
    report = compare(options)
    if as_json:
        click.echo(json.dumps(report.to_json(), indent=2, allow_nan=False))
        return
    click.echo(report.text())
    if report.plot is not None:
        click.echo(f"\nwrote {printable(str(report.plot))}")
