"""Baseline stock levels from the history alone: what a planner's spreadsheet would set.

The decision replays (`benchmarks/bench_decisions.py`, `engine.backtesting`) judge omnistock's
targets against these, computed from the same history before each origin:

- ``textbook``: per-period mean m of the last 13 periods, standard deviation s of the last 52
  (fewer where the history is shorter), level P m + z s sqrt(P) over a protection interval of
  P = L + R periods, z = Phi^-1(beta) (`textbook_levels`);
- ``textbook_loss``: the same m and s, the smallest level y with
  sigma_P G((y - mu_P) / sigma_P) <= (1 - beta) R m, G the standard normal loss function
  (`textbook_loss_levels`; Axsäter 2015, section 5.3);
- ``empirical``: the beta-quantile of the series' historical P-period rolling sums
  (`empirical_levels`).

Every function takes the history as an array (series, periods) with NaN before a series starts,
and interval lengths as one number or one per series.

References
----------
S. Axsäter, *Inventory Control*, 3rd ed., Springer, 2015, chapter 5.
"""

from __future__ import annotations

import numpy as np
from scipy import special, stats

MEAN_WINDOW = 13
"""Periods averaged for the textbook mean."""
SD_WINDOW = 52
"""Periods of the textbook standard deviation."""
LOSS_Z_MAX = 8.0
"""Largest z of the loss-function baseline: G(8) = 6e-17, so a zero mean m (no allowed
shortage) gives mu_P + 8 sigma_P instead of an unbounded level."""


def window_statistics(y_before: np.ndarray, *, mean_window: int = MEAN_WINDOW,
                      sd_window: int = SD_WINDOW) -> tuple[np.ndarray, np.ndarray]:
    """Per-period mean m over the last ``mean_window`` periods and standard deviation s
    (ddof 1) over the last ``sd_window`` periods of each series' history.

    Parameters
    ----------
    y_before : numpy.ndarray, shape (series, periods)
        History before the origin; NaN before a series starts (not counted).

    Returns
    -------
    m, s : numpy.ndarray, shape (series,)
        Units per period; 0 without history (s = 0 with fewer than two periods).
    """
    recent = y_before[:, -mean_window:]
    count = (~np.isnan(recent)).sum(axis=1)
    m = np.zeros(len(y_before))
    np.divide(np.nansum(recent, axis=1), count, out=m, where=count > 0)
    spread = y_before[:, -sd_window:]
    count = (~np.isnan(spread)).sum(axis=1)
    centre = np.zeros(len(y_before))
    np.divide(np.nansum(spread, axis=1), count, out=centre, where=count > 0)
    squares = np.nansum((spread - centre[:, None]) ** 2, axis=1)
    s = np.zeros(len(y_before))
    np.divide(squares, count - 1, out=s, where=count > 1)
    return m, np.sqrt(s)


def textbook_levels(m: np.ndarray, s: np.ndarray, beta: float,
                    periods: float | np.ndarray) -> np.ndarray:
    """Base-stock level P m + z s sqrt(P), z = Phi^-1(beta), floored at 0 (units)."""
    periods = np.asarray(periods, dtype=float)
    level = periods * m + stats.norm.ppf(beta) * s * np.sqrt(periods)
    return np.maximum(level, 0.0)


def standard_normal_loss(z: np.ndarray) -> np.ndarray:
    """G(z) = E[(Z - z)+] = phi(z) - z (1 - Phi(z)) for a standard normal Z."""
    return stats.norm.pdf(z) - z * special.ndtr(-z)


def textbook_loss_levels(m: np.ndarray, s: np.ndarray, beta: float,
                         periods: float | np.ndarray, *, review: float | np.ndarray = 1.0,
                         iterations: int = 200) -> np.ndarray:
    """Smallest level y with sigma_P G((y - mu_P) / sigma_P) <= (1 - beta) R m (units).

    mu_P = P m, sigma_P = s sqrt(P); the allowed shortage (1 - beta) R m is the fill-rate
    condition per review period R (Axsäter 2015, equation 5.27, neglecting the shortage
    already present at the start of a cycle). G decreases, so z = (y - mu_P) / sigma_P is found
    by bisection on [-a, `LOSS_Z_MAX`] with a = (1 - beta) R m / sigma_P (G(-a) > a); at most
    ``iterations`` halvings. With sigma_P = 0 the level is mu_P - (1 - beta) R m. Floored at 0.
    """
    m = np.asarray(m, dtype=float)
    periods = np.broadcast_to(np.asarray(periods, dtype=float), m.shape)
    mu, sigma = periods * m, s * np.sqrt(periods)
    allowed = (1.0 - beta) * np.asarray(review, dtype=float) * m
    spread = sigma > 0
    target = np.zeros(m.shape)
    np.divide(allowed, sigma, out=target, where=spread)
    low = np.minimum(-target, LOSS_Z_MAX)
    high = np.full(m.shape, LOSS_Z_MAX)
    for _ in range(iterations):
        middle = 0.5 * (low + high)
        short = standard_normal_loss(middle) > target  # too much shortage: go higher
        low = np.where(short, middle, low)
        high = np.where(short, high, middle)
        if np.all(high - low <= 1e-10 * (1.0 + np.abs(high))):
            break
    level = np.where(spread, mu + sigma * high, mu - allowed)
    return np.maximum(level, 0.0)


def protection_sums(y_before: np.ndarray, periods: int) -> np.ndarray:
    """Rolling ``periods``-period sums of each series' history, NaN where a window is not all
    observed; shape (series, T - periods + 1) (zero columns when the history is shorter)."""
    periods = max(int(periods), 1)
    width = y_before.shape[1] - periods + 1
    if width <= 0:
        return np.zeros((len(y_before), 0))
    return sum(y_before[:, k:k + width] for k in range(periods))


def empirical_levels(y_before: np.ndarray, beta: float,
                     periods: float | np.ndarray) -> np.ndarray:
    """beta-quantile (linear interpolation) of each series' historical P-period sums.

    A fractional P is rounded to whole periods. Series with history shorter than P periods
    get P times their mean; none, 0.
    """
    lengths = np.broadcast_to(np.maximum(np.rint(np.asarray(periods, dtype=float)), 1),
                              (len(y_before),))
    out = np.zeros(len(y_before))
    for length in np.unique(lengths):
        rows = np.flatnonzero(lengths == length)
        history = y_before[rows]
        sums = protection_sums(history, int(length))
        valid = (~np.isnan(sums)).any(axis=1) if sums.shape[1] else np.zeros(len(rows), bool)
        if valid.any():
            out[rows[valid]] = np.nanquantile(sums[valid], beta, axis=1)
        short = ~valid & (~np.isnan(history)).any(axis=1)
        if short.any():
            observed = history[short]
            count = (~np.isnan(observed)).sum(axis=1)
            out[rows[short]] = length * np.nansum(observed, axis=1) / count
    return out


def baseline_levels(y_before: np.ndarray, betas, periods: float | np.ndarray, *,
                    review: float | np.ndarray = 1.0) -> dict[str, np.ndarray]:
    """Levels of every baseline for every beta, ``{name: (len(betas), series)}``."""
    m, s = window_statistics(y_before)
    return {
        "textbook": np.stack([textbook_levels(m, s, b, periods) for b in betas]),
        "textbook_loss": np.stack([textbook_loss_levels(m, s, b, periods, review=review)
                                   for b in betas]),
        "empirical": np.stack([empirical_levels(y_before, b, periods) for b in betas]),
    }
