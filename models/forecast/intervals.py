"""Forecast distributions per step: quantiles, coverage and sample paths for every series.

Each step of each series gets a distribution with the forecast mean ``mu`` and a variance ``v``:

- count data (every observed value a whole number): negative binomial with
  ``v = mu + phi mu^2`` when ``phi > 0``, Poisson when ``phi = 0``; this gives quantiles to the
  intermittent series the Croston family leaves without any;
- other data: normal with variance ``v``, quantiles and draws floored at zero when the data are
  non-negative.

The dispersion comes from the rolling-origin backtest of the chosen model (see
`models.forecast.core`): per series by the method of moments on its backtest errors, shrunk
towards its class, then scaled per demand class by a factor ``k`` (``phi' = k^2 phi``, or
``v' = k^2 v``) chosen so that the backtest outcomes fall inside the central band (10-90% by
default) as often as the band promises: a split-conformal calibration of the spread.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

from models.distributions import (
    Family,
    cdf,
    choose_family,
    count_variance,
    negative_binomial_parameters,
    quantile,
)

SPREAD_LIMITS = (0.25, 4.0)
"""Smallest and largest spread factor ``k`` of the calibration."""
SPREAD_GRID = 33
"""Factors tried between the limits (evenly spaced in ``log k``, including k = 1)."""


@dataclass(frozen=True)
class StepDistribution:
    """Forecast distributions, one per series and step.

    Attributes
    ----------
    mean, variance : numpy.ndarray, shape (n, h)
    family : numpy.ndarray of int8, shape (n, h)
        `Family` codes.
    nonnegative : bool
        Whether normal quantiles and draws are floored at zero.
    clamped : numpy.ndarray of bool, shape (n,), optional
        Series whose variance was capped at its bound in some step.
    """

    mean: np.ndarray
    variance: np.ndarray
    family: np.ndarray
    nonnegative: bool = True
    clamped: np.ndarray | None = None

    def quantiles(self, probabilities: np.ndarray) -> np.ndarray:
        """Quantiles, shape (n, h, len(probabilities))."""
        out = np.empty(self.mean.shape + (len(probabilities),))
        for k, q in enumerate(probabilities):
            out[..., k] = quantile(self.family, self.mean, self.variance, q,
                                   nonnegative=self.nonnegative)
        return out

    def sample(self, n_samples: int, rng: np.random.Generator) -> np.ndarray:
        """Independent draws per step, shape (n, n_samples, h)."""
        mu = np.broadcast_to(self.mean[:, None, :], (self.mean.shape[0], n_samples,
                                                     self.mean.shape[1]))
        var = np.broadcast_to(self.variance[:, None, :], mu.shape)
        fam = np.broadcast_to(self.family[:, None, :], mu.shape)
        out = np.empty(mu.shape)
        normal = fam == Family.NORMAL
        out[normal] = mu[normal] + np.sqrt(var[normal]) * rng.standard_normal(normal.sum())
        if self.nonnegative:
            out[normal] = np.maximum(out[normal], 0.0)
        count = ~normal
        rate = mu[count].copy()
        negbin = (fam[count] == Family.NEGATIVE_BINOMIAL) & (mu[count] > 0)
        shape, _ = negative_binomial_parameters(mu[count][negbin], var[count][negbin])
        rate[negbin] = rng.gamma(shape, mu[count][negbin] / shape)
        out[count] = rng.poisson(rate)
        return out


def family_for(mean: np.ndarray, phi: np.ndarray, counts: bool) -> np.ndarray:
    """Family of each forecast step: for count data negative binomial where the series is
    overdispersed, Poisson otherwise; normal for other data.

    A count series' family depends on its excess dispersion ``phi`` alone, not on the mean of
    a step (a step forecast at zero keeps its series' family): the rule of
    `models.distributions.choose_family` is applied at unit mean, variance ``1 + phi``.
    """
    phi = np.broadcast_to(phi, np.shape(mean))
    if not counts:
        return np.full(phi.shape, Family.NORMAL, dtype=np.int8)
    return choose_family(np.ones(phi.shape), count_variance(1.0, phi), "negative_binomial")


def covered(y: np.ndarray, mean: np.ndarray, variance: np.ndarray, family: np.ndarray,
            low: float, high: float, nonnegative: bool = True) -> np.ndarray:
    """Whether each outcome lies inside the central band [q_low, q_high] (inclusive).

    For count families ``q_low <= y`` holds exactly when ``F(y) >= low`` and ``y <= q_high``
    when ``F(y - 1) < high``, so only the CDF is evaluated.
    """
    inside = np.zeros(y.shape, dtype=bool)
    normal = family == Family.NORMAL
    if normal.any():
        sd = np.sqrt(variance[normal])
        lo = mean[normal] + sd * special.ndtri(low)
        if nonnegative:
            lo = np.maximum(lo, 0.0)
        hi = mean[normal] + sd * special.ndtri(high)
        inside[normal] = (y[normal] >= lo) & (y[normal] <= hi)
    count = ~normal
    if count.any():
        yc, mc, vc, fc = y[count], mean[count], variance[count], family[count]
        inside[count] = ((cdf(fc, mc, vc, yc) >= low) & (cdf(fc, mc, vc, yc - 1) < high))
    return inside


def calibrate_spread(y: np.ndarray, mean: np.ndarray, phi: np.ndarray, variance: np.ndarray,
                     counts: bool, low: float, high: float, *, nonnegative: bool = True,
                     max_points: int = 20_000, seed: int = 0) -> float:
    """Spread factor ``k`` whose central band covers ``high - low`` of the outcomes.

    Parameters
    ----------
    y, mean : numpy.ndarray, shape (m,)
        Backtest outcomes and forecast means (flattened over series, windows and steps).
    phi, variance : numpy.ndarray, shape (m,)
        Dispersion (count data) or variance (other data) before calibration.
    counts : bool
        Count data (negative binomial / Poisson) or not (normal).
    low, high : float
        The band's probabilities.
    max_points : int
        Outcomes used (a seeded sample beyond it): the coverage of 20,000 outcomes has a
        standard error below 0.3 points, under the half-point tolerance of the choice.

    Returns
    -------
    float
        ``k`` in [0.25, 4], on a grid of `SPREAD_GRID` factors evenly spaced in ``log k``:
        the one whose coverage is nearest the band's (within half a point, the one nearest
        to 1).
    """
    if len(y) == 0:
        return 1.0
    if len(y) > max_points:
        pick = np.random.default_rng(seed).choice(len(y), max_points, replace=False)
        y, mean, phi, variance = y[pick], mean[pick], phi[pick], variance[pick]
    target = high - low

    def coverage(k: float) -> float:
        if counts:
            scaled_phi = phi * k**2
            var = count_variance(mean, scaled_phi)
            fam = family_for(mean, scaled_phi, True)
        else:
            var = variance * k**2
            fam = family_for(mean, phi, False)
        return covered(y, mean, var, fam, low, high, nonnegative).mean()

    grid = np.exp(np.linspace(np.log(SPREAD_LIMITS[0]), np.log(SPREAD_LIMITS[1]), SPREAD_GRID))
    miss = np.array([abs(coverage(k) - target) for k in grid])
    # discrete bands make coverage a step function of k, not always monotone (an intermittent
    # series' upper quantile can fall to 0 as its spread grows): of the factors whose coverage
    # is within half a point of the best, take the one nearest to 1, so that the choice does
    # not jump between the limits from one fit to the next
    near = miss <= miss.min() + 0.005
    return float(grid[near][np.argmin(np.abs(np.log(grid[near])))])
