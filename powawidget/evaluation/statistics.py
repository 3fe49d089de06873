"""The statistics of scored evaluations: Wilson intervals, exact McNemar, paired bootstrap.

Written with the standard library on purpose: the shipped notebooks run under the `demo`
extra, which has no SciPy, and these three are a few lines each (binomial sums, one
quadratic, resampling with a seeded `random.Random`, so a seed gives the same interval on
every platform and NumPy version).
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence

Z95 = 1.959963984540054
"""The standard normal's 97.5th percentile: a two-sided 95 % interval."""
BOOTSTRAP_RESAMPLES = 2000
BOOTSTRAP_SEED = 0


def wilson(successes: int, n: int, z: float = Z95) -> tuple[float | None, float | None]:
    """The Wilson score interval of a proportion `successes / n` (None, None for n = 0).

    Unlike the normal ("Wald") interval it stays inside [0, 1] and is honest near 0 % and
    100 %, which small prompt sets hit often.
    """
    if n <= 0:
        return None, None
    p = successes / n
    z2 = z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == n else min(1.0, centre + half)
    return low, high


def mcnemar_exact(a_only: int, b_only: int) -> float:
    """Two-sided exact McNemar p-value from the discordant pairs of a paired pass/fail table.

    `a_only`: prompts that passed with A and failed with B; `b_only`: the other way round.
    Under "no difference" each discordant pair is a fair coin: p = 2 · P(X <= min) for
    X ~ Binomial(a_only + b_only, 1/2), capped at 1 (1.0 when nothing is discordant).
    """
    n = a_only + b_only
    if n == 0:
        return 1.0
    k = min(a_only, b_only)
    tail = sum(math.comb(n, i) for i in range(k + 1)) / 2**n
    return min(1.0, 2 * tail)


def mean_ci(
    values: Sequence[float], z: float = Z95
) -> tuple[float | None, float | None, float | None]:
    """(mean, low, high): the mean with a normal-approximation 95 % interval (n - 1 in the
    variance); the interval is None below two values."""
    n = len(values)
    if n == 0:
        return None, None, None
    mean = sum(values) / n
    if n < 2:
        return mean, None, None
    variance = sum((v - mean) ** 2 for v in values) / (n - 1)
    half = z * math.sqrt(variance / n)
    return mean, mean - half, mean + half


def paired_bootstrap(
    differences: Sequence[float],
    *,
    resamples: int = BOOTSTRAP_RESAMPLES,
    seed: int = BOOTSTRAP_SEED,
) -> tuple[float | None, float | None, float | None, float | None]:
    """(mean difference, 95 % low, 95 % high, two-sided p) of per-prompt paired differences.

    Resamples the prompts with replacement `resamples` times (seeded); the interval is the
    2.5th and 97.5th percentiles of the resampled means, and p is the share of resampled
    means, shifted to a true mean of zero, at least as far from zero as the observed one
    counted as (extreme + 1) / (resamples + 1). All None without differences.
    """
    n = len(differences)
    if n == 0:
        return None, None, None, None
    observed = sum(differences) / n
    rng = random.Random(seed)
    means = sorted(sum(rng.choices(differences, k=n)) / n for _ in range(resamples))
    low = _quantile(means, 0.025)
    high = _quantile(means, 0.975)
    extreme = sum(1 for m in means if abs(m - observed) >= abs(observed) - 1e-12)
    p = (extreme + 1) / (resamples + 1)
    return observed, low, high, min(1.0, p)


def _quantile(ordered: Sequence[float], q: float) -> float:
    """The q-quantile of sorted values, linear between neighbours (NumPy's default)."""
    position = q * (len(ordered) - 1)
    below = math.floor(position)
    above = min(below + 1, len(ordered) - 1)
    return ordered[below] + (ordered[above] - ordered[below]) * (position - below)


__all__ = ["Z95", "mcnemar_exact", "mean_ci", "paired_bootstrap", "wilson"]
