"""95% intervals: of a mean over episodes, and of the difference of two means (Welch).

A table of 20 random episodes and one of 5 sampled-model episodes differ in their
means by chance alone; an interval says how far. The mean's interval is
``mean ± t(0.975, n - 1) · sd / √n``; the difference B - A uses Welch's t, which does
not assume the two policies vary alike (a deterministic model does not vary at all),
with the Welch-Satterthwaite degrees of freedom. Student's t quantile is computed
here (the regularized incomplete beta function by its continued fraction, then
bisection): scipy is not a dependency for one function.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist
from typing import Final

from stages.episode_stats import KpiStats

CONFIDENCE: Final = 0.95
"""Every interval's coverage."""
_NORMAL_DF: Final = 1e7
"""Beyond this many degrees of freedom, t is the normal distribution to 7 digits."""


@dataclass(frozen=True)
class Interval:
    """An estimate and its 95% interval; no interval when there is too little data."""

    estimate: float
    low: float | None
    """None: fewer than 2 episodes on a side, so the spread is unknown."""
    high: float | None
    df: float | None = None
    """Degrees of freedom of the t quantile used (None: none was needed, or no interval)."""

    @property
    def excludes_zero(self) -> bool:
        """Whether the whole interval lies on one side of 0 (then the sign is a finding)."""
        if self.low is None or self.high is None:
            return False
        return self.low > 0 or self.high < 0


def mean_interval(stats: KpiStats) -> Interval:
    """The mean of `stats` with its 95% interval (none for a single episode)."""
    if stats.episodes < 2:
        return Interval(stats.mean, None, None)
    df = float(stats.episodes - 1)
    half = t_quantile(0.5 + CONFIDENCE / 2, df) * stats.standard_error
    return Interval(stats.mean, stats.mean - half, stats.mean + half, df)


def welch(a: KpiStats, b: KpiStats) -> Interval:
    """B's mean minus A's with its 95% Welch interval (none unless both have 2 episodes).

    When neither side varies (every episode alike in each table) the difference is
    exact: an interval of width 0.
    """
    estimate = b.mean - a.mean
    if a.episodes < 2 or b.episodes < 2:
        return Interval(estimate, None, None)
    va = a.std**2 / a.episodes
    vb = b.std**2 / b.episodes
    error = math.sqrt(va + vb)
    if error == 0.0:
        return Interval(estimate, estimate, estimate)
    df = (va + vb) ** 2 / (va**2 / (a.episodes - 1) + vb**2 / (b.episodes - 1))
    half = t_quantile(0.5 + CONFIDENCE / 2, df) * error
    return Interval(estimate, estimate - half, estimate + half, df)


def t_quantile(p: float, df: float) -> float:
    """The `p` quantile of Student's t with `df` (> 0, not necessarily whole) degrees of
    freedom, for 0.5 <= p < 1 (ValueError otherwise: a caller's bug, not user input)."""
    if not (0.5 <= p < 1.0 and df > 0):
        raise ValueError(f"t quantile needs 0.5 <= p < 1 and df > 0, got p={p}, df={df}")
    if df >= _NORMAL_DF:
        return NormalDist().inv_cdf(p)
    low, high = 0.0, 1.0
    while t_cdf(high, df) < p:
        low, high = high, high * 2
    for _ in range(200):
        middle = (low + high) / 2
        if t_cdf(middle, df) < p:
            low = middle
        else:
            high = middle
        if high - low <= 1e-12 * max(1.0, high):
            break
    return (low + high) / 2


def t_cdf(t: float, df: float) -> float:
    """P(T <= t) for Student's t with `df` degrees of freedom."""
    tail = 0.5 * _incomplete_beta(df / 2, 0.5, df / (df + t * t))
    return 1.0 - tail if t >= 0 else tail


def _incomplete_beta(a: float, b: float, x: float) -> float:
    """The regularized incomplete beta function I_x(a, b) (Numerical Recipes, 6.4)."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = (
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    )
    front = math.exp(log_front)
    # The continued fraction converges fast for x < (a + 1) / (a + b + 2); else use symmetry.
    if x < (a + 1) / (a + b + 2):
        return front * _beta_fraction(a, b, x) / a
    return 1.0 - front * _beta_fraction(b, a, 1.0 - x) / b


def _beta_fraction(a: float, b: float, x: float) -> float:
    """The continued fraction of the incomplete beta function, by Lentz's method."""
    tiny = 1e-300
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1)
    d = 1.0 / (d if abs(d) > tiny else tiny)
    result = d
    for m in range(1, 500):
        for numerator in (
            m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
            -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1)),
        ):
            d = 1.0 + numerator * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + numerator / c
            c = c if abs(c) > tiny else tiny
            result *= c * d
        if abs(c * d - 1.0) < 1e-15:
            break
    return result
