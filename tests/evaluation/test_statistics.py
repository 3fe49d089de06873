"""The statistics pinned to hand-computed values (Wilson, exact McNemar, the normal mean
interval, a seeded paired bootstrap)."""

from __future__ import annotations

import math

import pytest

from powawidget.evaluation.statistics import mcnemar_exact, mean_ci, paired_bootstrap, wilson


def test_wilson_bounds_by_hand() -> None:
    # 8 of 10: centre (0.8 + z²/20) / (1 + z²/10), half z·sqrt(0.016 + z²/400) / (1 + z²/10)
    z2 = 1.959963984540054**2
    centre = (0.8 + z2 / 20) / (1 + z2 / 10)
    half = 1.959963984540054 * math.sqrt(0.016 + z2 / 400) / (1 + z2 / 10)
    low, high = wilson(8, 10)
    assert low == pytest.approx(centre - half) and high == pytest.approx(centre + half)
    assert (round(low, 4), round(high, 4)) == (0.4902, 0.9433)  # the textbook 8/10 interval
    assert wilson(0, 10) == (0.0, pytest.approx(0.27753, abs=1e-5))
    assert wilson(10, 10) == (pytest.approx(0.72247, abs=1e-5), 1.0)
    assert wilson(0, 0) == (None, None)


def test_exact_mcnemar_on_known_tables() -> None:
    # discordant 1 vs 7: 2 · (C(8,0) + C(8,1)) / 2^8 = 18/256
    assert mcnemar_exact(1, 7) == 18 / 256
    assert mcnemar_exact(7, 1) == 18 / 256
    assert mcnemar_exact(0, 8) == 2 / 256
    # 3 vs 9: 2 · (1 + 12 + 66 + 220) / 4096
    assert mcnemar_exact(3, 9) == 2 * 299 / 4096
    assert mcnemar_exact(5, 5) == 1.0
    assert mcnemar_exact(0, 0) == 1.0


def test_mean_interval_by_hand() -> None:
    mean, low, high = mean_ci([1, 2, 3, 4])  # s² = 5/3, se = sqrt(5/12)
    half = 1.959963984540054 * math.sqrt(5 / 12)
    assert (mean, low, high) == (2.5, pytest.approx(2.5 - half), pytest.approx(2.5 + half))
    assert mean_ci([3.0]) == (3.0, None, None)
    assert mean_ci([]) == (None, None, None)


def test_paired_bootstrap_with_a_fixed_seed() -> None:
    diffs = [0.5, -0.25, 1.0, 0.0, 0.75]
    mean, low, high, p = paired_bootstrap(diffs, seed=42)
    assert mean == pytest.approx(0.4)
    assert (low, high) == (pytest.approx(0.0), pytest.approx(0.8))
    assert p == pytest.approx(130 / 2001)
    assert paired_bootstrap(diffs, seed=42) == (mean, low, high, p)  # the seed fixes it
    # seven of ten prompts gained a point: the interval is the resampled 2.5/97.5 %
    assert paired_bootstrap([0, 1, 1, 0, 1, 1, 1, 0, 1, 1], seed=0)[:3] == (
        pytest.approx(0.7),
        pytest.approx(0.4),
        pytest.approx(1.0),
    )


def test_paired_bootstrap_edges() -> None:
    assert paired_bootstrap([]) == (None, None, None, None)
    assert paired_bootstrap([0.0, 0.0, 0.0])[3] == 1.0  # no difference at all
    mean, low, high, p = paired_bootstrap([2.0, 2.0, 2.0])  # always the same gain
    assert (mean, low, high) == (2.0, 2.0, 2.0) and p == 1 / 2001
