"""Means with 95 % confidence intervals (Student t), the form of the paper's tables."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

AVERAGE = "Average"  # the row that pools every category, as in the paper's tables


@dataclass(frozen=True)
class MeanCI:
    mean: float
    ci95: float  # half-width of the 95 % interval; NaN with fewer than two values
    n: int

    def format(self, digits: int = 2) -> str:
        if self.n == 0 or math.isnan(self.mean):
            return "n/a"
        if math.isnan(self.ci95):
            return f"{self.mean:.{digits}f}"
        return f"{self.mean:.{digits}f} (±{self.ci95:.{digits}f})"


def mean_ci(values: Iterable[float], confidence: float = 0.95) -> MeanCI:
    """Mean and t-interval half-width of the finite values (NaN marks 'undefined')."""
    x = np.asarray([v for v in values if v is not None], dtype=np.float64)
    x = x[np.isfinite(x)]
    n = int(x.size)
    if n == 0:
        return MeanCI(math.nan, math.nan, 0)
    mean = float(x.mean())
    if n < 2:
        return MeanCI(mean, math.nan, n)
    sem = float(x.std(ddof=1)) / math.sqrt(n)
    half = float(stats.t.ppf(0.5 + confidence / 2, df=n - 1)) * sem
    return MeanCI(mean, half, n)


def summarise(
    values: Sequence[float], groups: Sequence[str], confidence: float = 0.95
) -> dict[str, MeanCI]:
    """Per-group mean/CI plus the pooled ``Average`` row (every value once)."""
    if len(values) != len(groups):
        raise ValueError("values and groups differ in length")
    by_group: dict[str, list[float]] = {}
    for v, g in zip(values, groups):
        by_group.setdefault(g, []).append(v)
    out = {g: mean_ci(by_group[g], confidence) for g in sorted(by_group)}
    out[AVERAGE] = mean_ci(values, confidence)
    return out


def summarise_table(
    rows: Sequence[Mapping[str, float]], groups: Sequence[str], metrics: Sequence[str]
) -> dict[str, dict[str, MeanCI]]:
    """metric -> group -> MeanCI for per-utterance score rows."""
    return {m: summarise([float(r.get(m, math.nan)) for r in rows], groups) for m in metrics}
