"""Per KPI and the reward: each table's mean with its interval, and B - A with its own.

The figures are the episodes' KPIs from each table's metadata, over all its episodes
(``stages.episode_stats.kpi_stats``, the numbers ``simreel record`` prints). A
verdict in plain words is given only when the interval of B - A excludes 0: otherwise
the tables do not show a difference, however far apart the means look.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from schemas.metadata import EpisodeSummary
from stages.compare.intervals import Interval, mean_interval, welch
from stages.episode_stats import REWARD, KpiStats, kpi_stats


@dataclass(frozen=True)
class KpiComparison:
    """One KPI (or the reward) of both tables."""

    name: str
    """As the tables name it (not escaped: the text output escapes it)."""
    a: KpiStats | None
    """Table A's statistics; None if none of its episodes reports this KPI."""
    b: KpiStats | None
    a_mean: Interval | None
    b_mean: Interval | None
    difference: Interval | None
    """B - A; None if a side lacks the KPI."""

    @property
    def verdict(self) -> str | None:
        """``B higher than A`` or ``B lower than A`` when the difference's interval excludes
        0; None otherwise (no difference shown, or no interval)."""
        if self.difference is None or not self.difference.excludes_zero:
            return None
        return "B higher than A" if self.difference.estimate > 0 else "B lower than A"


def compare_kpis(a: Sequence[EpisodeSummary], b: Sequence[EpisodeSummary]) -> list[KpiComparison]:
    """Every KPI either table reports (A's order, then B's own), then the reward."""
    stats_a = {stats.name: stats for stats in kpi_stats(a)}
    stats_b = {stats.name: stats for stats in kpi_stats(b)}
    names = [name for name in dict.fromkeys([*stats_a, *stats_b]) if name != REWARD]
    if REWARD in stats_a or REWARD in stats_b:
        names.append(REWARD)
    found = []
    for name in names:
        first, second = stats_a.get(name), stats_b.get(name)
        found.append(
            KpiComparison(
                name=name,
                a=first,
                b=second,
                a_mean=mean_interval(first) if first is not None else None,
                b_mean=mean_interval(second) if second is not None else None,
                difference=(
                    welch(first, second) if first is not None and second is not None else None
                ),
            )
        )
    return found
