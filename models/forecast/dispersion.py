"""Forecast dispersion per series and step, learned from backtest errors and calibrated.

From the chosen model's rolling-origin backtest (outcomes ``y``, forecasts ``f``):

- per series, the method of moments: for count data the negative binomial excess dispersion
  ``phi = (sum e^2 - sum f) / sum f'^2`` (``E e^2 = f + phi f^2``), otherwise the squared
  coefficient of variation of the error ``c = sum e^2 / sum f'^2``, where
  ``f' = max(f, FLOOR_SHARE x level)`` floors each forecast at a share of the series' own mean
  level (a backtest forecast near zero, as at a launch or after a single sale, would otherwise
  divide by almost nothing: dispersions of 1e16 were seen on real data); shrunk towards the
  pooled value of its demand class with the weight of ``SHRINK_POINTS`` backtest points;
- per class and step ``h``, a growth factor: the pooled dispersion of step ``h`` over the pooled
  dispersion of all steps, made non-decreasing in ``h`` (errors grow with the horizon); steps
  beyond the backtest use the last factor;
- per class, a spread factor ``k`` (dispersion times ``k^2``) so that the backtest outcomes fall
  inside the central band as often as it promises (`models.forecast.intervals.calibrate_spread`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from models.forecast.intervals import calibrate_spread

SHRINK_POINTS = 20.0
"""Credibility of the class pool, in backtest points: a series with n points gets weight
n / (n + SHRINK_POINTS) on its own estimate."""
FLOOR_SHARE = 0.5
"""Backtest forecasts below this share of the series' mean level count at that share in the
denominator of the dispersion (see the module docstring)."""


@dataclass(frozen=True)
class Dispersion:
    """Learned dispersion.

    Attributes
    ----------
    per_series : numpy.ndarray, shape (n,)
        Shrunk dispersion of each series (phi, or CV^2 of the error), before the class factors.
    step_factor : dict of int to numpy.ndarray
        Per class code, the growth factor of each backtest step.
    spread : dict of int to float
        Per class code, the calibrated spread factor ``k``.
    """

    per_series: np.ndarray
    step_factor: dict[int, np.ndarray]
    spread: dict[int, float]

    def at(self, class_code: np.ndarray, horizon: int) -> np.ndarray:
        """Calibrated dispersion per series and step, shape (n, horizon)."""
        out = np.repeat(self.per_series[:, None], horizon, axis=1)
        for code, factor in self.step_factor.items():
            rows = class_code == code
            steps = factor[np.minimum(np.arange(horizon), len(factor) - 1)]
            out[rows] *= steps[None, :] * self.spread[code] ** 2
        return out


def moments(e2: np.ndarray, f: np.ndarray, floor: np.ndarray, axis, counts: bool,
            weight: np.ndarray | float = 1.0) -> np.ndarray:
    """Method-of-moments dispersion of squared errors ``e2`` around forecasts ``f`` (zeros
    where absent), each forecast floored at ``floor`` (zero where absent) in the denominator
    (module docstring); each point counts by ``weight`` (broadcast)."""
    squares = np.maximum((weight * np.maximum(f, floor) ** 2).sum(axis=axis), 1e-12)
    if counts:
        return np.maximum(0.0, ((weight * e2).sum(axis=axis) - (weight * f).sum(axis=axis))
                          / squares)
    return (weight * e2).sum(axis=axis) / squares


def estimate_dispersion(actual: np.ndarray, forecast: np.ndarray, class_code: np.ndarray, *,
                        level: np.ndarray, counts: bool, low: float, high: float,
                        nonnegative: bool) -> Dispersion:
    """Estimate per-series dispersion, per-class step growth and spread (module docstring).

    Parameters
    ----------
    actual, forecast : numpy.ndarray, shape (n, W, h)
        Backtest outcomes and forecasts (NaN where absent).
    class_code : numpy.ndarray of int, shape (n,)
    level : numpy.ndarray, shape (n,)
        Mean level of each series (its mean demand per period since its first sale).
    counts : bool
        Count data (negative binomial) or not (normal).
    low, high : float
        Probabilities of the central band to calibrate (no calibration when equal).
    nonnegative : bool
    """
    n = len(class_code)
    ok = ~np.isnan(actual) & ~np.isnan(forecast)
    f = np.where(ok, forecast, 0.0)
    e2 = np.where(ok, (actual - forecast) ** 2, 0.0)
    points = ok.reshape(n, -1).sum(axis=1)
    floor = np.where(ok, FLOOR_SHARE * np.asarray(level, float)[:, None, None], 0.0)
    per_series = np.zeros(n)
    step_factor: dict[int, np.ndarray] = {}
    spread: dict[int, float] = {}
    for code in np.unique(class_code):
        rows = class_code == code
        pooled = float(moments(e2[rows], f[rows], floor[rows], None, counts))
        own = moments(e2[rows].reshape(rows.sum(), -1), f[rows].reshape(rows.sum(), -1),
                      floor[rows].reshape(rows.sum(), -1), 1, counts)
        weight = points[rows]
        per_series[rows] = (weight * own + SHRINK_POINTS * pooled) / (weight + SHRINK_POINTS)
        by_step = moments(e2[rows], f[rows], floor[rows], (0, 1), counts)
        factor = np.ones(actual.shape[2]) if pooled <= 0 else by_step / pooled
        factor = np.clip(np.maximum.accumulate(np.where(np.isfinite(factor), factor, 1.0)),
                         0.25, 4.0)
        step_factor[int(code)] = factor
        if low < high:
            mask = ok[rows]
            dispersion = (per_series[rows][:, None, None] * factor[None, None, :])
            dispersion = np.broadcast_to(dispersion, mask.shape)[mask]
            mean = forecast[rows][mask]
            spread[int(code)] = calibrate_spread(actual[rows][mask], mean, dispersion,
                                                 dispersion * mean**2, counts, low, high,
                                                 nonnegative=nonnegative)
        else:
            spread[int(code)] = 1.0
    return Dispersion(per_series, step_factor, spread)
