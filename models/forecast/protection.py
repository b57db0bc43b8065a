"""Demand over the protection interval, calibrated on backtests of the summed demand.

A periodic-review policy with lead time L and review period R orders up to a level that must
cover the demand D_P over the protection interval P = L + R; its expected shortage per review
cycle is E[(D_P - S)+] - E[(D_L - S)+] (Axsäter 2015, section 5.6). Adding per-step variances
as if the steps were independent misjudges D_P (forecast errors of neighbouring steps share
the level error), and a spread calibrated on one-step coverage says little about the upper tail
a fill rate depends on. So the distribution of D_P is learned from what matters:

1. **Sums in the backtest.** In every rolling-origin backtest window of the chosen model, the
   actual demand and the forecast summed over every interval of P steps (and its first L
   steps) that starts at or after the decision's offset, a fractional last step counting by its
   fraction: the windows then cover a whole stretch of target periods whatever the alignment
   of the origin to the calendar (a holiday week is not in or out of the sample by the day of
   the run); the errors of intervals that start later are scaled back by the growth of the
   forecast dispersion with the step (the decision at the offset is not charged for errors of
   longer leads). Protection intervals longer than the
   backtest horizon h use the h-step sums (the relative dispersion of a sum does not fall once
   level errors dominate).
2. **Dispersion of the sums per series**, by the method of moments on the errors of the sums
   (`models.forecast.dispersion.moments`: negative binomial excess dispersion phi for count
   data, ``Var = mu + phi mu^2``, else the squared coefficient of variation ``Var = c mu^2``),
   each forecast sum floored in the denominator at half the series' mean level times P, and
   shrunk with the weight of `SHRINK_WINDOWS` windows towards its class's dispersion at the
   series' level: a line ``log dispersion = a + b log level`` fitted over the class's series
   (Taylor's power law, variance proportional to a power of the mean; the slope ``b`` within
   `TAYLOR_SLOPE_LIMITS`), so that a large, steady series is not pulled to the relative
   spread of the class's small ones. On the stallion replay this prior, against the class's
   plain pool, cut the stock at a 98% fill rate by 4% at the same delivered fill rate.
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
TAYLOR_MIN_SERIES = 5
"""Series with a dispersion and a level a class needs to fit its dispersion-level line (else
the prior is the class's pooled dispersion)."""
TAYLOR_SLOPE_LIMITS = (-1.5, 0.5)
"""Slope of log dispersion on log level: Taylor exponents of demand lie in [0.5, 2.5]
(dispersion ~ mean^(exponent - 2))."""
VARIANCE_CAP = 4.0
"""A protection-interval variance is at most this times max(mean square of the historical
interval sums, forecast mean^2)."""


def interval_weights(length, steps: int) -> np.ndarray:
    """Weight of each of ``steps`` forecast steps in a sum over ``length`` periods: 1 for the
    whole periods, the fraction for a partial last one, 0 after; shape (steps,) for one
    length, (n, steps) for an array of n lengths."""
    return np.clip(np.asarray(length, float)[..., None] - np.arange(steps), 0.0, 1.0)


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
                   nonnegative: bool, offset: int = 0, growth: np.ndarray | None = None,
                   seed: int = 0) -> ProtectionFit:
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
    growth : numpy.ndarray, shape (n, h), optional
        Growth of each series' per-step forecast dispersion with the step
        (`models.forecast.dispersion.Dispersion.step_factor`): errors of intervals that start
        later than ``offset`` are scaled back to the offset's (none when not given).
    counts, nonnegative : bool
        Count data (negative binomial / Poisson) or not; demand never negative.
    seed : int
        Seed of the sample of windows when a class has more than `MAX_POINTS`.
    """
    n, n_windows, h = actual.shape
    offset = min(int(offset), h - 1)
    total = min(lead_time + review_period, float(h - offset))
    lead = min(lead_time, max(total - review_period, 0.0))
    # every interval of the windows that starts at or after the offset: the windows then cover
    # a whole stretch of target periods whatever the calendar alignment of the origin (the
    # intervals starting later are a little harder to forecast: the conservative side)
    starts = range(offset, max(h - int(np.ceil(total - 1e-9)), offset) + 1)
    column_window = np.repeat(np.arange(n_windows), len(starts))

    def sums(values: np.ndarray, length: float) -> np.ndarray:
        if length <= 0:
            return np.zeros((n, n_windows * len(starts)))
        return np.stack([interval_sums(values, length, j) for j in starts],
                        axis=2).reshape(n, -1)

    def lead_adjusted(outcome: np.ndarray, predicted: np.ndarray, length: float) -> np.ndarray:
        """Outcomes of intervals that start later, brought to the error scale of the
        decision's own start: the error shrunk by sqrt(g(start) / g(j)), g the mean growth
        of the per-step dispersion over the interval's steps."""
        if growth is None or length <= 0:
            return outcome
        span = int(np.ceil(length - 1e-9))
        mean_growth = np.stack([growth[:, j:j + span].mean(axis=1) for j in starts], axis=1)
        shrink = np.sqrt(mean_growth[:, :1] / np.maximum(mean_growth, 1e-12))
        shrink = np.broadcast_to(shrink[:, None, :], (n, n_windows, len(starts))).reshape(n, -1)
        return predicted + (outcome - predicted) * shrink

    sum_forecast, lead_forecast = sums(forecast, total), sums(forecast, lead)
    sum_actual = lead_adjusted(sums(actual, total), sum_forecast, total)
    lead_actual = lead_adjusted(sums(actual, lead), lead_forecast, lead)
    ok = (np.isfinite(sum_actual) & np.isfinite(sum_forecast) & np.isfinite(lead_actual)
          & np.isfinite(lead_forecast))
    level = np.abs(np.asarray(level, float))
    dispersion = _shrunk(np.where(ok, sum_actual, 0.0), np.where(ok, sum_forecast, 0.0), ok,
                         FLOOR_SHARE * total * level, class_code, counts, column_window, level)
    lead_dispersion = (_shrunk(np.where(ok, lead_actual, 0.0), np.where(ok, lead_forecast, 0.0),
                               ok, FLOOR_SHARE * lead * level, class_code, counts,
                               column_window, level) if lead > 0 else np.zeros(n))
    # the dispersion each window's calibration sees is estimated without that window, so the
    # factor also covers the noise of the per-series estimates (a series whose few windows
    # happened to be calm is not rewarded in the window that made them calm)
    held_out = np.zeros(ok.shape)
    lead_held_out = np.zeros(ok.shape)
    for w in range(n_windows):
        mine = column_window == w
        others = ok & ~mine[None, :]
        held_out[:, mine] = _shrunk(np.where(others, sum_actual, 0.0),
                                    np.where(others, sum_forecast, 0.0), others,
                                    FLOOR_SHARE * total * level, class_code, counts,
                                    column_window, level)[:, None]
        if lead > 0:
            lead_held_out[:, mine] = _shrunk(np.where(others, lead_actual, 0.0),
                                             np.where(others, lead_forecast, 0.0), others,
                                             FLOOR_SHARE * lead * level, class_code, counts,
                                             column_window, level)[:, None]
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
            column_window[windows],
            review_share=review_period / (lead + review_period), counts=counts,
            nonnegative=nonnegative)
    return ProtectionFit(float(lead_time), float(review_period), dispersion, lead_dispersion,
                         spread, int(ok.sum()))


def recency_weights(n_windows: int) -> np.ndarray:
    """Weight of each backtest window (0 the most recent): `RECENCY` to the power of its age."""
    return RECENCY ** np.arange(n_windows)


def _shrunk(actual, forecast, ok, floor, class_code, counts, column_window,
            level) -> np.ndarray:
    """Per-series dispersion of the sums (recent windows weigh more; ``column_window`` gives
    the window of each column), shrunk with the weight of the windows seen towards the
    class's dispersion at the series' ``level`` (`taylor_prior`)."""
    e2 = np.where(ok, (actual - forecast) ** 2, 0.0)
    f = np.where(ok, forecast, 0.0)
    floor = np.where(ok, floor[:, None], 0.0)
    recency = recency_weights(int(column_window.max()) + 1)[column_window][None, :]
    columns_per_window = np.bincount(column_window, minlength=int(column_window.max()) + 1)
    windows = (ok * recency / columns_per_window[column_window][None, :]).sum(axis=1)
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
        prior = taylor_prior(own, level[rows], seen & (weight > 0), weight, pooled)
        out[rows] = (weight * own + SHRINK_WINDOWS * prior) / (weight + SHRINK_WINDOWS)
    return out


def taylor_prior(dispersion: np.ndarray, level: np.ndarray, seen: np.ndarray,
                 weight: np.ndarray, pooled: float) -> np.ndarray:
    """A class's dispersion at each series' level: ``exp(a + b log level)``, the line fitted
    by weighted least squares to the log dispersions of the ``seen`` series with a positive
    dispersion and level (Taylor's power law), ``b`` clipped to `TAYLOR_SLOPE_LIMITS` and the
    result to the range of the fitted dispersions;
    ``pooled`` for every series when fewer than `TAYLOR_MIN_SERIES` series fit or their
    levels are all equal, and for a series without a positive level."""
    prior = np.full(len(dispersion), float(pooled))
    fit = seen & (dispersion > 0) & (level > 0)
    if fit.sum() < TAYLOR_MIN_SERIES:
        return prior
    x, y, w = np.log(level[fit]), np.log(dispersion[fit]), weight[fit]
    x_mean, y_mean = np.average(x, weights=w), np.average(y, weights=w)
    spread = np.average((x - x_mean) ** 2, weights=w)
    if spread <= 1e-12:
        return prior
    slope = np.clip(np.average((x - x_mean) * (y - y_mean), weights=w) / spread,
                    *TAYLOR_SLOPE_LIMITS)
    positive = level > 0
    # no extrapolation beyond the dispersions seen in the class
    line = y_mean + slope * (np.log(level[positive]) - x_mean)
    prior[positive] = np.exp(np.clip(line, y.min(), y.max()))
    return prior


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
        The mean square over every window that starts at or after the first sale (0 for a
        series with none); the largest over every window that holds a period from the first
        sale on (so a series that first sold in its last period has that sale as its largest
        sum; 0 for a series that never sold).
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
    reaches = np.arange(t - span + 1)[None, :] >= (start[:, None] - span + 1)
    largest = np.maximum(np.where(reaches, sums, 0.0).max(axis=1), 0.0)
    return mean_square, largest
