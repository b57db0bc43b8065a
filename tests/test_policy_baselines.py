"""The history-only baselines of the decision replays (`models.policy.baselines`), by hand."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from models.policy import baselines


def test_window_statistics_count_only_observed_periods():
    y = np.array([[np.nan, np.nan, 2.0, 4.0, 6.0], [np.nan] * 5, [np.nan] * 4 + [3.0]])
    m, s = baselines.window_statistics(y, mean_window=2, sd_window=5)
    assert m.tolist() == [5.0, 0.0, 3.0]
    assert s == pytest.approx([2.0, 0.0, 0.0])


def test_textbook_level_by_hand():
    level = baselines.textbook_levels(np.array([10.0]), np.array([3.0]), 0.95, 2)
    assert level[0] == pytest.approx(20 + stats.norm.ppf(0.95) * 3 * np.sqrt(2))


def test_textbook_loss_level_meets_the_allowed_shortage_exactly():
    m, s = np.array([10.0, 4.0, 0.0]), np.array([3.0, 5.0, 2.0])
    level = baselines.textbook_loss_levels(m, s, 0.95, np.array([2.0, 3.0, 2.0]))
    sigma = s * np.sqrt([2.0, 3.0, 2.0])
    mu = m * np.array([2.0, 3.0, 2.0])
    shortage = sigma * baselines.standard_normal_loss((level - mu) / sigma)
    assert shortage[:2] == pytest.approx(0.05 * m[:2], rel=1e-8)
    # no demand, no allowed shortage: the search stops at its documented end
    assert level[2] == pytest.approx(baselines.LOSS_Z_MAX * sigma[2])


def test_empirical_level_is_the_quantile_of_interval_sums():
    y = np.arange(1.0, 11.0)[None, :]
    # two-period sums 3, 5, ..., 19: the median is 11
    assert baselines.empirical_levels(y, 0.5, 2)[0] == pytest.approx(11.0)
    # a history shorter than the interval: the interval times its mean
    short = np.array([[np.nan] * 8 + [2.0, 4.0]])
    assert baselines.empirical_levels(short, 0.9, 4)[0] == pytest.approx(12.0)


def test_per_series_intervals_equal_one_call_per_length():
    rng = np.random.default_rng(5)
    y = rng.poisson(4.0, (6, 40)).astype(float)
    periods = np.array([1, 2, 3, 2, 5, 1])
    together = baselines.baseline_levels(y, (0.9, 0.98), periods)
    for k, p in enumerate(periods):
        alone = baselines.baseline_levels(y[k:k + 1], (0.9, 0.98), int(p))
        for name in together:
            assert together[name][:, k] == pytest.approx(alone[name][:, 0])
