"""One stock, several demand streams served in priority order: the pooled fill rate to set.

A location that serves several channels from one stock serves them one after another (higher
priority first); short in a review cycle, the last streams go without. A pooled base-stock
level set on the demand-weighted mean of the streams' fill rates then over-serves the first
streams and under-serves the last. `priority_fill_rates` returns, per location, the pooled fill
rate whose level gives every stream at least its own.

Model (periodic review, base stock S, lead time L, review period R). In a cycle the stock S
first meets the demand of all streams over the lead time, D(L), in the order it comes; within
the review period the streams are served one after another. With P_i the review-period demand
of stream i and the streams served before it, stream i is short by what D(L) + P_i lacks beyond
what D(L) + P_{i-1} lacked, so its expected shortage per cycle is

    ES_i(S) = E[(D(L) + P_i - S)+] - E[(D(L) + P_{i-1} - S)+]

(P_0 = 0; summed over the streams this is the pooled shortage per review cycle
E[(D(L+R) - S)+] - E[(D(L) - S)+] of Axsäter 2015, section 5.6), and its fill rate is
1 - ES_i(S) / E[D_i over R]. Streams are independent and normal here (means and variances
add): the split between streams is what this function is for; the pooled level itself is then
set on the location's own demand family for the returned fill rate. Each stream's smallest level
meeting its fill rate is found by bisection (60 halvings of [0, mean + 12 sd + 1]); the
location's level is the largest of them, and the pooled fill rate at that level is returned, at
most `MAX_FILL_RATE`.

References
----------
S. Axsäter, *Inventory Control*, 3rd ed., Springer, 2015, section 5.6.
"""

from __future__ import annotations

import numpy as np

from models.checks import float_array
from models.distributions import standard_normal_loss

MAX_FILL_RATE = 0.999
"""Largest pooled fill rate returned."""
HALVINGS = 60
"""Bisection steps per stream (the bracket shrinks by 2**-60)."""


def priority_fill_rates(group, fill_rate, mean, variance, lead_mean,
                        lead_variance) -> tuple[np.ndarray, np.ndarray]:
    """The pooled fill rate of each group of streams served in priority order.

    Parameters
    ----------
    group : array_like of int, shape (n,)
        The location (any integer code) of each stream; the streams of a group are contiguous
        and in serving order (first served first).
    fill_rate : array_like, shape (n,)
        Each stream's fill rate target in (0, 1).
    mean, variance : array_like, shape (n,)
        Each stream's demand over the protection interval L + R.
    lead_mean, lead_variance : array_like, shape (n,)
        Its demand over L alone (mean < ``mean``: some demand falls in the review period).

    Returns
    -------
    groups : numpy.ndarray of int, shape (g,)
        The groups, in order of appearance.
    pooled : numpy.ndarray, shape (g,)
        The fill rate to set each group's pooled level for.

    Examples
    --------
    Two streams of N(100, 20^2) per cycle (L = 0, R = 1), asking 0.99 and 0.90 (mean 0.945).
    Served in that order, the second stream binds: the pool is set for 0.95 (the first then gets
    more than 0.99). Served the other way round, the 0.99 stream comes last and the pool needs
    0.995.

    >>> _, first = priority_fill_rates([0, 0], [0.99, 0.90], [100, 100], [400, 400], [0, 0],
    ...                                [0, 0])
    >>> _, last = priority_fill_rates([0, 0], [0.90, 0.99], [100, 100], [400, 400], [0, 0],
    ...                               [0, 0])
    >>> round(float(first[0]), 3), round(float(last[0]), 3)
    (0.95, 0.995)
    """
    group = np.asarray(group)
    values = [float_array(v, name) for v, name in (
        (fill_rate, "fill_rate"), (mean, "mean"), (variance, "variance"),
        (lead_mean, "lead_mean"), (lead_variance, "lead_variance"))]
    target, m, v, lm, lv = values
    n = group.size
    if group.ndim != 1 or any(x.shape != (n,) for x in values):
        raise ValueError("group, fill_rate, mean, variance, lead_mean and lead_variance must "
                         "be 1-d arrays of one length")
    if n == 0:
        return group[:0], np.zeros(0)
    start = np.r_[True, group[1:] != group[:-1]]
    if np.unique(group[start]).size != int(start.sum()):
        raise ValueError("the streams of a group must be contiguous")
    cycle = m - lm
    if not (np.all((target > 0) & (target < 1)) and np.all(cycle > 0)
            and np.all(v >= 0) and np.all(lv >= 0)):
        raise ValueError("fill rates must be in (0, 1), variances >= 0 and every stream must "
                         "have demand in its review period (mean > lead_mean)")
    first = np.flatnonzero(start)
    size = np.diff(np.r_[first, n])
    lead_m = np.repeat(np.add.reduceat(lm, first), size)          # the group's D(L)
    lead_v = np.repeat(np.add.reduceat(lv, first), size)
    review_m, review_v = cycle, np.maximum(v - lv, 0.0)
    through_m = lead_m + _group_cumsum(review_m, start)
    through_v = lead_v + _group_cumsum(review_v, start)
    before_m, before_v = through_m - review_m, through_v - review_v
    allowed = (1.0 - target) * cycle

    low = np.zeros(n)
    high = through_m + 12.0 * np.sqrt(through_v) + 1.0
    for _ in range(HALVINGS):
        middle = 0.5 * (low + high)
        short = (_normal_shortage(through_m, through_v, middle)
                 - _normal_shortage(before_m, before_v, middle)) > allowed
        low = np.where(short, middle, low)
        high = np.where(short, high, middle)
    level = np.maximum.reduceat(high, first)
    last = np.r_[first[1:] - 1, n - 1]
    pooled_cycle = through_m[last] - lead_m[last]
    short = (_normal_shortage(through_m[last], through_v[last], level)
             - _normal_shortage(lead_m[last], lead_v[last], level))
    pooled = 1.0 - short / pooled_cycle
    return group[start], np.clip(pooled, 0.0, MAX_FILL_RATE)


def _group_cumsum(x: np.ndarray, start: np.ndarray) -> np.ndarray:
    """Running sums of ``x`` restarting where ``start`` is True."""
    total = np.cumsum(x)
    first = np.flatnonzero(start)
    offset = np.r_[0.0, total[first[1:] - 1]]
    return total - np.repeat(offset, np.diff(np.r_[first, x.size]))


def _normal_shortage(mean: np.ndarray, variance: np.ndarray, level: np.ndarray) -> np.ndarray:
    """E[(D - level)+] for D ~ N(mean, variance) (variance 0: the mean)."""
    sd = np.sqrt(variance)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (level - mean) / np.where(sd > 0, sd, 1.0)
    return np.where(sd > 0, sd * standard_normal_loss(z), np.maximum(mean - level, 0.0))
