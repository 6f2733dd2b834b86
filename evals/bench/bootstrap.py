"""Bootstrap 95 % intervals of a mean over cases: resample the cases with replacement
(a fixed seed, so a re-run prints the same interval) and take the percentiles."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

RESAMPLES = 2_000
SEED = 20261202


@dataclass(frozen=True)
class Estimate:
    """A mean over cases and its bootstrap interval."""

    mean: float
    low: float
    high: float
    n: int

    def text(self, signed: bool = False) -> str:
        """ "0.920 [0.850, 0.975]"; ``signed`` writes "+0.020 [-0.050, +0.100]"."""
        f = "{:+.3f}" if signed else "{:.3f}"
        return f"{f.format(self.mean)} [{f.format(self.low)}, {f.format(self.high)}]"

    def verdict(self) -> str:
        """For a difference: which side the whole interval lies on, if it does."""
        if self.low > 0:
            return "ahead"
        if self.high < 0:
            return "behind"
        return "not separable"


def bootstrap(
    values: Sequence[float], resamples: int = RESAMPLES, seed: int = SEED, level: float = 0.95
) -> Estimate:
    """The mean of ``values`` with its percentile bootstrap interval.

    >>> bootstrap([1.0, 1.0, 1.0]).text()
    '1.000 [1.000, 1.000]'
    """
    data = np.asarray(values, dtype=float)
    if data.size == 0:
        return Estimate(float("nan"), float("nan"), float("nan"), 0)
    rng = np.random.default_rng(seed)
    means = data[rng.integers(0, data.size, size=(resamples, data.size))].mean(axis=1)
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(means, [tail, 100 - tail])
    return Estimate(float(data.mean()), float(low), float(high), int(data.size))


def paired_difference(
    a: Sequence[float], b: Sequence[float], resamples: int = RESAMPLES, seed: int = SEED
) -> Estimate:
    """The mean of ``a - b`` over the same cases: the cases are resampled together, so
    what both systems find hard does not widen the interval."""
    if len(a) != len(b):
        raise ValueError(f"paired values differ in length: {len(a)} vs {len(b)}")
    return bootstrap([x - y for x, y in zip(a, b, strict=True)], resamples, seed)
