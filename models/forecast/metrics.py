"""Forecast accuracy measures, per series and aggregated.

Scaled errors divide by the in-sample one-step naive error of the training history, so series
of any volume can be averaged (Hyndman & Koehler 2006; RMSSE as in the M5 competition, Makridakis
et al. 2022):

    RMSSE = sqrt( mean_h (y - f)^2 / mean_t (y_t - y_{t-1})^2 )
    MASE  =       mean_h |y - f|   / mean_t |y_t - y_{t-1}|

A series whose training history never changes has no scale; its scaled errors are NaN and are
left out of averages. WAPE and bias aggregate over a set of series and steps:
``WAPE = sum |y - f| / sum |y|`` and ``bias = (sum f - sum y) / sum |y|``.
"""

from __future__ import annotations

import numpy as np


def naive_scale(history: np.ndarray, power: int) -> np.ndarray:
    """Mean of ``|y_t - y_{t-1}| ** power`` over each row's history (NaN before its start)."""
    diffs = np.abs(np.diff(history, axis=1)) ** power
    valid = ~np.isnan(diffs)
    total = np.where(valid, diffs, 0.0).sum(axis=1)
    count = valid.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        scale = total / count
    return np.where((count > 0) & (scale > 0), scale, np.nan)


def rmsse(actual: np.ndarray, forecast: np.ndarray, history: np.ndarray) -> np.ndarray:
    """Root mean squared scaled error per row (NaN where the row has no scale)."""
    scale = naive_scale(history, 2)
    with np.errstate(invalid="ignore"):
        return np.sqrt(np.nanmean((actual - forecast) ** 2, axis=1) / scale)


def mase(actual: np.ndarray, forecast: np.ndarray, history: np.ndarray) -> np.ndarray:
    """Mean absolute scaled error per row (NaN where the row has no scale)."""
    scale = naive_scale(history, 1)
    with np.errstate(invalid="ignore"):
        return np.nanmean(np.abs(actual - forecast), axis=1) / scale


def wape(actual: np.ndarray, forecast: np.ndarray) -> float:
    """Weighted absolute percentage error over all cells (NaN actuals ignored)."""
    ok = ~np.isnan(actual)
    denominator = np.abs(actual[ok]).sum()
    return float(np.abs(actual[ok] - forecast[ok]).sum() / denominator) if denominator else np.nan


def bias(actual: np.ndarray, forecast: np.ndarray) -> float:
    """Relative bias of the total: positive when the forecast is too high."""
    ok = ~np.isnan(actual)
    denominator = np.abs(actual[ok]).sum()
    return float((forecast[ok].sum() - actual[ok].sum()) / denominator) if denominator else np.nan


def interval_coverage(actual: np.ndarray, low: np.ndarray, high: np.ndarray) -> float:
    """Share of outcomes inside [low, high] (inclusive; NaN actuals ignored)."""
    ok = ~np.isnan(actual)
    return float(((actual[ok] >= low[ok]) & (actual[ok] <= high[ok])).mean()) if ok.any() \
        else np.nan
