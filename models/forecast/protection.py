"""Demand over the protection interval, calibrated on backtests of the summed demand.

A periodic-review policy with lead time L and review period R orders up to a level that must
cover the demand D_P over the protection interval P = L + R; its expected shortage per review
cycle is E[(D_P - S)+] - E[(D_L - S)+] (Axsäter 2015, section 5.6). Adding per-step variances
as if the steps were independent misjudges D_P (forecast errors of neighbouring steps share
the level error), and a spread calibrated on one-step coverage says little about the upper tail
a fill rate depends on. So the distribution of D_P is learned from what matters:

1. **Sums in the backtest.** In every rolling-origin backtest window of the chosen model, the
   actual demand and the forecast summed over the first P steps (and over the first L steps),
   a fractional last step counting by its fraction. Protection intervals longer than the
   backtest horizon h use the h-step sums (the relative dispersion of a sum does not fall once
   level errors dominate).
2. **Dispersion of the sums per series**, by the method of moments on the errors of the sums
   (`models.forecast.dispersion.moments`: negative binomial excess dispersion phi for count
   data, ``Var = mu + phi mu^2``, else the squared coefficient of variation ``Var = c mu^2``),
   each forecast sum floored in the denominator at half the series' mean level times P, and
   shrunk towards its demand class with the weight of `SHRINK_WINDOWS` windows.
3. **A spread factor per demand class**, ``k`` (dispersion times ``k^2``), chosen so that the
   order-up-to levels computed from these distributions for fill rates of 80, 90, 95 and 98%
   (`models.distributions.loss_levels`, netting the lead-time demand) deliver those fill rates
   on the backtest sums, each window judged with the per-series dispersion estimated without
   it and the model chosen without it (`models.forecast.selection.cross_fitted_forecast`), so
   that the factor is honest about the noise of both: the ``k`` (on a grid, log-spaced in
   `SPREAD_LIMITS`) minimising the squared log ratio of realised to allowed shortfall, summed
   over beta (a shortfall twice or half the allowed one count alike), recent windows weighing
   more (`RECENCY`).
4. **Bounds tied to the history.** No variance of D_P exceeds `VARIANCE_CAP` times the larger
   of the mean square of the series' historical P-period sums (since its first sale) and the
   square of its forecast mean over the interval: a standard deviation at most twice what the
   history (or the forecast itself) could justify. Every clamped series is counted.

References
----------
S. Axsäter, *Inventory Control*, 3rd ed., Springer, 2015, section 5.6 (periodic review,
order-up-to policies, fill rate).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from models.distributions import choose_family, loss_levels
from models.forecast.dispersion import FLOOR_SHARE, moments

SHRINK_WINDOWS = 4.0
"""Credibility of the class pool, in backtest windows."""
RECENCY = 0.5
"""Weight of a backtest window relative to the next more recent one: forecast errors cluster in
time (a holiday season, a scheme change), and the latest window says most about the next
periods."""
SPREAD_LIMITS = (0.35, 2.8)
"""Smallest and largest spread factor ``k`` of the sums."""
SPREAD_GRID = 25
"""Factors tried between the limits (log-spaced, including k = 1)."""
FILL_RATES = (0.8, 0.9, 0.95, 0.98)
"""Fill rates at which the spread factor is calibrated."""
MAX_POINTS = 2000
"""Backtest windows per class used in the calibration (a seeded sample beyond it)."""
VARIANCE_CAP = 4.0
"""A protection-interval variance is at most this times max(mean square of the historical
interval sums, forecast mean^2)."""


def interval_weights(length: float, steps: int) -> np.ndarray:
    """Weight of each of ``steps`` forecast steps in a sum over ``length`` periods: 1 for the
    whole periods, the fraction for a partial last one, 0 after."""
    return np.clip(length - np.arange(steps), 0.0, 1.0)


@dataclass(frozen=True)
class ProtectionFit:
    """The calibrated dispersion of the sums over one protection interval.

    Attributes
    ----------
    lead_time, review_period : float
        L and R, periods.
    dispersion : numpy.ndarray, shape (n,)
        Per-series dispersion (phi, or c) of the sums over L + R periods, before ``spread``.
    lead_dispersion : numpy.ndarray, shape (n,)
        The same for the sums over L periods (zeros when L = 0).
    spread : dict of int to float
        Per demand class code, the calibrated factor ``k``.
    windows : int
        Backtest windows with a complete sum (all series).
    """

    lead_time: float
    review_period: float
    dispersion: np.ndarray
    lead_dispersion: np.ndarray
    spread: dict[int, float]
    windows: int

    def variance(self, mean: np.ndarray, lead_mean: np.ndarray, class_code: np.ndarray, *,
                 counts: bool) -> tuple[np.ndarray, np.ndarray]:
        """Variances of D_P and D_L for forecast means ``mean`` and ``lead_mean``."""
        k = np.ones(len(class_code))
        for code, factor in self.spread.items():
            k[class_code == code] = factor
        return (_variance(mean, self.dispersion * k**2, counts),
                _variance(lead_mean, self.lead_dispersion * k**2, counts))


def _variance(mean: np.ndarray, dispersion: np.ndarray, counts: bool) -> np.ndarray:
    return mean + dispersion * mean**2 if counts else dispersion * mean**2


def interval_sums(values: np.ndarray, length: float, offset: int = 0) -> np.ndarray:
    """Sums of ``length`` steps from step ``offset`` (fractional last step) along the last
    axis; NaN where a step that counts is NaN."""
    values = values[..., offset:]
    weights = interval_weights(length, values.shape[-1])
    used = weights > 0
    return (values[..., used] * weights[used]).sum(axis=-1)


def fit_protection(actual: np.ndarray, forecast: np.ndarray, class_code: np.ndarray, *,
                   level: np.ndarray, lead_time: float, review_period: float, counts: bool,
                   nonnegative: bool, offset: int = 0, seed: int = 0) -> ProtectionFit:
    """Calibrate the distribution of the sums over L + R periods (module docstring).

    Parameters
    ----------
    actual, forecast : numpy.ndarray, shape (n, W, h)
        Backtest outcomes and the deployed forecast (NaN where absent).
    class_code : numpy.ndarray of int, shape (n,)
        Demand class of each series; calibrated classes are those with backtest windows.
    level : numpy.ndarray, shape (n,)
        Mean level of each series, units per period.
    lead_time, review_period : float
        L >= 0 and R > 0, periods.
    offset : int
        Steps between the forecast origin and the start of the interval (0: right after it).
    counts, nonnegative : bool
        Count data (negative binomial / Poisson) or not; demand never negative.
    seed : int
        Seed of the sample of windows when a class has more than `MAX_POINTS`.
    """
    n, _, h = actual.shape
    offset = min(int(offset), h - 1)
    total = min(lead_time + review_period, float(h - offset))
    lead = min(lead_time, max(total - review_period, 0.0))
    sum_actual = interval_sums(actual, total, offset)
    sum_forecast = interval_sums(forecast, total, offset)
    ok = np.isfinite(sum_actual) & np.isfinite(sum_forecast)
    lead_actual = (interval_sums(actual, lead, offset) if lead > 0
                   else np.zeros_like(sum_actual))
    lead_forecast = (interval_sums(forecast, lead, offset) if lead > 0
                     else np.zeros_like(sum_actual))
    ok &= np.isfinite(lead_actual) & np.isfinite(lead_forecast)
    level = np.abs(np.asarray(level, float))
    dispersion = _shrunk(np.where(ok, sum_actual, 0.0), np.where(ok, sum_forecast, 0.0), ok,
                         FLOOR_SHARE * total * level, class_code, counts)
    lead_dispersion = (_shrunk(np.where(ok, lead_actual, 0.0), np.where(ok, lead_forecast, 0.0),
                               ok, FLOOR_SHARE * lead * level, class_code, counts)
                       if lead > 0 else np.zeros(n))
    # the dispersion each window's calibration sees is estimated without that window, so the
    # factor also covers the noise of the per-series estimates (a series whose few windows
    # happened to be calm is not rewarded in the window that made them calm)
    held_out = np.zeros(ok.shape)
    lead_held_out = np.zeros(ok.shape)
    for w in range(ok.shape[1]):
        others = ok.copy()
        others[:, w] = False
        held_out[:, w] = _shrunk(np.where(others, sum_actual, 0.0),
                                 np.where(others, sum_forecast, 0.0), others,
                                 FLOOR_SHARE * total * level, class_code, counts)
        if lead > 0:
            lead_held_out[:, w] = _shrunk(np.where(others, lead_actual, 0.0),
                                          np.where(others, lead_forecast, 0.0), others,
                                          FLOOR_SHARE * lead * level, class_code, counts)
    rng = np.random.default_rng(seed)
    spread = {}
    for code in np.unique(class_code):
        rows, windows = np.nonzero(ok & (class_code == code)[:, None])
        if len(rows) == 0:
            continue
        if len(rows) > MAX_POINTS:
            pick = rng.choice(len(rows), MAX_POINTS, replace=False)
            rows, windows = rows[pick], windows[pick]
        spread[int(code)] = _calibrate(
            sum_actual[rows, windows], np.maximum(sum_forecast[rows, windows], 0.0),
            held_out[rows, windows], lead_actual[rows, windows],
            np.maximum(lead_forecast[rows, windows], 0.0), lead_held_out[rows, windows],
            windows,
            review_share=review_period / (lead + review_period), counts=counts,
            nonnegative=nonnegative)
    return ProtectionFit(float(lead_time), float(review_period), dispersion, lead_dispersion,
                         spread, int(ok.sum()))


def recency_weights(n_windows: int) -> np.ndarray:
    """Weight of each backtest window (0 the most recent): `RECENCY` to the power of its age."""
    return RECENCY ** np.arange(n_windows)


def _shrunk(actual, forecast, ok, floor, class_code, counts) -> np.ndarray:
    """Per-series dispersion of the sums (recent windows weigh more), shrunk towards the
    class pool."""
    e2 = np.where(ok, (actual - forecast) ** 2, 0.0)
    f = np.where(ok, forecast, 0.0)
    floor = np.where(ok, floor[:, None], 0.0)
    recency = recency_weights(ok.shape[1])[None, :]
    windows = (ok * recency).sum(axis=1)
    out = np.zeros(len(class_code))
    for code in np.unique(class_code):
        rows = class_code == code
        if not windows[rows].any():
            continue
        pooled = float(moments(e2[rows], f[rows], floor[rows], None, counts, recency))
        # a series' own dispersion is the median of its windows' dispersions: one window with
        # a holiday the model missed must not set its stock for the rest of the year (the class
        # factor, calibrated on every window, carries the level of the tails)
        per_window = np.where(ok[rows], moments(e2[rows][..., None], f[rows][..., None],
                                                floor[rows][..., None], -1, counts), np.nan)
        seen = ok[rows].any(axis=1)
        own = np.full(int(rows.sum()), pooled)
        own[seen] = np.nanmedian(per_window[seen], axis=1)
        weight = windows[rows]
        out[rows] = (weight * own + SHRINK_WINDOWS * pooled) / (weight + SHRINK_WINDOWS)
    return out


def _calibrate(actual, forecast, dispersion, lead_actual, lead_forecast, lead_dispersion,
               window, *, review_share: float, counts: bool, nonnegative: bool) -> float:
    """The spread factor whose levels deliver the fill rates `FILL_RATES` on these sums.

    The realised shortfall is pooled over the windows with the weights `recency_weights` (so
    that the factor covers the periods of every regime the windows saw, a holiday season the
    model missed included, as the replay of a season must), and the squared log ratios of
    realised to allowed shortfall are summed over the fill rates. The factor is searched on a
    log-spaced grid of `SPREAD_GRID` factors in `SPREAD_LIMITS`, coarse (every sixth) then
    fine around the best; of the factors within 2% of the best error, the one nearest to 1.
    """
    n_windows = int(window.max()) + 1
    weight = recency_weights(n_windows)
    demand = np.bincount(window, weights=np.maximum(actual - lead_actual, 0.0),
                         minlength=n_windows)
    if demand @ weight <= 0:
        return 1.0
    tile = len(FILL_RATES)
    allowed_share = np.repeat(1.0 - np.asarray(FILL_RATES), len(actual))
    actual, lead_actual = np.tile(actual, tile), np.tile(lead_actual, tile)
    forecast, lead_forecast = np.tile(forecast, tile), np.tile(lead_forecast, tile)
    dispersion, lead_dispersion = np.tile(dispersion, tile), np.tile(lead_dispersion, tile)
    allowed = allowed_share * forecast * review_share
    cell = np.repeat(np.arange(tile), len(window)) * n_windows + np.tile(window, tile)
    grid = np.exp(np.linspace(np.log(SPREAD_LIMITS[0]), np.log(SPREAD_LIMITS[1]),
                              SPREAD_GRID))
    errors = np.full(len(grid), np.nan)

    def error(g: int) -> float:
        if np.isnan(errors[g]):
            k2 = grid[g] ** 2
            variance = _variance(forecast, dispersion * k2, counts)
            lead_variance = np.minimum(_variance(lead_forecast, lead_dispersion * k2, counts),
                                       variance)
            codes = choose_family(forecast, variance, counts=counts, nonnegative=nonnegative)
            lead_codes = choose_family(lead_forecast, lead_variance, counts=counts,
                                       nonnegative=nonnegative)
            level = loss_levels(codes, forecast, variance, allowed,
                                netted=(lead_codes, lead_forecast, lead_variance),
                                whole_units=counts)
            short = np.maximum(actual - level, 0.0) - np.maximum(lead_actual - level, 0.0)
            realised = np.bincount(cell, weights=short, minlength=tile * n_windows).reshape(
                tile, n_windows) @ weight / (demand @ weight)
            ratio = np.maximum(realised / (1.0 - np.asarray(FILL_RATES)), 0.01)
            errors[g] = float((np.log(ratio) ** 2).sum())
        return errors[g]

    coarse = list(range(0, len(grid), 6))
    best = min(coarse, key=error)
    for g in range(max(best - 2, 0), min(best + 3, len(grid))):
        error(g)
    tried = np.isfinite(errors)
    near = tried & (errors <= np.nanmin(errors) * 1.02 + 1e-12)
    return float(grid[near][np.argmin(np.abs(np.log(grid[near])))])


def history_sums(values: np.ndarray, start: np.ndarray, length: float
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Mean square and largest of each series' historical sums over ``length`` periods.

    Parameters
    ----------
    values : numpy.ndarray, shape (n, T)
        History (NaN before each series starts, treated as no demand).
    start : numpy.ndarray of int, shape (n,)
        First period of each series to count (its first sale).
    length : float
        Interval, periods (a fractional part counts the next period by its fraction).

    Returns
    -------
    mean_square, largest : numpy.ndarray, shape (n,)
        Over every window that lies inside the series (0 for a series with none).
    """
    n, t = values.shape
    filled = np.nan_to_num(values)
    weights = interval_weights(length, int(np.ceil(length)))
    span = len(weights)
    if span == 0 or t < span:
        return np.zeros(n), np.zeros(n)
    sums = np.zeros((n, t - span + 1))
    for k, w in enumerate(weights):
        sums += w * filled[:, k:t - span + 1 + k]
    inside = np.arange(t - span + 1)[None, :] >= start[:, None]
    count = inside.sum(axis=1)
    mean_square = np.where(count > 0, (np.where(inside, sums, 0.0) ** 2).sum(axis=1)
                           / np.maximum(count, 1), 0.0)
    largest = np.where(count > 0, np.where(inside, sums, -np.inf).max(axis=1), 0.0)
    return mean_square, largest
