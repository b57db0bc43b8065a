"""The value of stock to a demand stream: newsvendor marginal values as concave curves.

Allocating stock to a stream whose demand over a horizon is D, the k-th unit sells with
probability P(D >= k) and earns the margin when it does: its expected marginal value is
``margin x P(D > k - 1)``, the newsvendor's marginal revenue (Snyder and Shen 2019, section 3.2;
Arrow, Harris and Marschak 1951). As a function of the stock allocated this is decreasing, so the
expected revenue is concave and a linear program can carry it as a piecewise-linear curve.

`value_curves` builds that curve for many streams at once: segment end points at the quantiles
`SURVIVAL_GRID` of D (2%, 10%, 20%, ..., 90%, 95%, 98%, 99.5%), each segment valued at the
survival probability of its midpoint times the margin, and an open last segment valued at the
survival of the 99.5% quantile. Demand is negative binomial (or Poisson where not
overdispersed) for count data, normal otherwise (`models.distributions`).

References
----------
L. V. Snyder and Z.-J. M. Shen, *Fundamentals of Supply Chain Theory*, 2nd ed., Wiley, 2019,
chapter 3 (the newsvendor problem).
"""

from __future__ import annotations

import numpy as np

from models.distributions import Family, choose_family, quantile, survival

SURVIVAL_GRID = np.array([0.02, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.98, 0.995])
"""Probabilities whose quantiles of D bound the curve's segments."""

COARSE_GRID = np.array([0.2, 0.5, 0.8, 0.9, 0.95, 0.98, 0.995])
"""A coarser grid for curves that come many to a stream (one per period of a time-phased LP):
fine where stock decisions are made (the upper quantiles), coarse below the median."""

_MIN_VARIANCE = 1e-12
"""Variances are floored here so that a normal demand with no spread keeps a (steep) curve."""


def value_curves(mean: np.ndarray, variance: np.ndarray, margin: np.ndarray, *,
                 counts, grid: np.ndarray = SURVIVAL_GRID) -> tuple[np.ndarray, np.ndarray]:
    """Segment widths and values of each stream's concave expected-revenue curve.

    Parameters
    ----------
    mean, variance : numpy.ndarray, shape (stream,)
        Mean and variance of each stream's demand D over the horizon, units and units^2.
    margin : numpy.ndarray, shape (stream,)
        Value of one unit sold, currency per unit.
    counts : bool or numpy.ndarray of bool, shape (stream,)
        Whether each stream's demand is a count (negative binomial or Poisson) or not
        (normal).
    grid : numpy.ndarray, default `SURVIVAL_GRID`
        Increasing probabilities whose quantiles bound the segments (`COARSE_GRID`: fewer).

    Returns
    -------
    width, value : numpy.ndarray, shape (stream, len(grid) + 1)
        Width of each segment, units (the last is infinite), and the value per unit on it,
        non-increasing along each row (``margin x P(D > midpoint)``).
    """
    n = len(mean)
    mean = np.maximum(mean, 0.0)[:, None]
    variance = np.maximum(variance, _MIN_VARIANCE)[:, None]
    count = np.broadcast_to(np.asarray(counts, dtype=bool), (n,))[:, None]
    codes = np.where(count, choose_family(mean, variance, "negative_binomial"),
                     np.int8(Family.NORMAL)).astype(np.int8)
    grid = np.asarray(grid, dtype=float)
    points = np.zeros((n, len(grid) + 1))
    points[:, 1:] = quantile(codes, mean, variance, grid[None, :])
    points = np.maximum.accumulate(points, axis=1)
    width = np.diff(points, axis=1)
    middle = (points[:, :-1] + points[:, 1:]) / 2
    survive = survival(codes, mean, variance, middle)
    last = survival(codes, mean, variance, points[:, -1:])
    width = np.concatenate([width, np.full((n, 1), np.inf)], axis=1)
    survive = np.concatenate([survive, last], axis=1)
    survive = np.minimum.accumulate(survive, axis=1)     # guard rounding: stays concave
    return width, margin[:, None] * survive
