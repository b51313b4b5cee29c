"""Many episodes in a few lines: per KPI the mean, spread, minimum and maximum.

``simreel record --episodes 3000`` must not print 3,000 lines; beyond a handful of
episodes it prints these statistics instead (the per-episode lines stay behind
``--per-episode``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from schemas.events import EpisodeSummary

REWARD: Final = "reward"
"""The name under which the episode's total reward is summarised beside the KPIs."""


@dataclass(frozen=True)
class KpiStats:
    """One KPI over a set of episodes."""

    name: str
    episodes: int
    mean: float
    std: float
    """Sample standard deviation (n - 1); 0 for a single episode."""
    minimum: float
    maximum: float

    @property
    def standard_error(self) -> float:
        """Standard error of the mean: how far the mean itself may be off."""
        return self.std / math.sqrt(self.episodes)


def kpi_stats(summaries: Sequence[EpisodeSummary]) -> list[KpiStats]:
    """Statistics of every KPI the episodes report (in first-seen order), then the reward."""
    names: dict[str, None] = {}
    for summary in summaries:
        names.update(dict.fromkeys(summary.kpis))
    columns = {name: [s.kpis[name] for s in summaries if name in s.kpis] for name in names}
    columns[REWARD] = [s.total_reward for s in summaries]
    return [_stats(name, values) for name, values in columns.items() if values]


def _stats(name: str, values: Sequence[float]) -> KpiStats:
    count = len(values)
    mean = math.fsum(values) / count
    variance = math.fsum((v - mean) ** 2 for v in values) / (count - 1) if count > 1 else 0.0
    return KpiStats(name, count, mean, math.sqrt(variance), min(values), max(values))


def format_stats(stats: KpiStats) -> str:
    """``customers_served: mean 81.3 ± 0.47 (sd 21.1), min 12, max 120 over 2000 episodes``."""
    return (
        f"{stats.name}: mean {stats.mean:.4g} ± {stats.standard_error:.2g} "
        f"(sd {stats.std:.3g}), min {stats.minimum:.4g}, max {stats.maximum:.4g} "
        f"over {stats.episodes} episodes"
    )
