"""Holdout backtests of the whole pipeline against simple benchmarks, and their summaries.

`evaluate` cuts the history ``w x horizon`` periods before its end for
``w = 1 .. holdout_windows``,
fits the pipeline on what comes before the cut, forecasts ``horizon`` periods (promotion flags
in the holdout are passed as planned promotions, as a planner would know them) and compares
with what was sold. The benchmarks (Naive, SeasonalNaive, WindowAverage, or any candidate name)
are statsforecast models fitted on the raw history of every series. `summarize` aggregates
RMSSE, MASE, WAPE, bias and the coverage of the central band by any grouping.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from models.forecast import candidates as cand
from models.forecast.core import DemandForecaster
from models.forecast.metrics import naive_scale
from models.forecast.panel import season_length
from models.forecast.runner import run_model

PIPELINE = "omnistock"
BENCHMARKS = ("Naive", "SeasonalNaive", "WindowAverage")
_BY_NAME = {c.name: c for c in (cand.NAIVE, cand.SEASONAL_NAIVE, cand.WINDOW_AVERAGE, cand.SES,
                                cand.ETS_LEVEL, cand.SEASONAL_ES, cand.SEASONAL_WINDOW,
                                cand.CROSTON_SBA, cand.CROSTON_OPTIMIZED, cand.TSB, cand.ADIDA,
                                cand.IMAPA, cand.THETA, cand.OPTIMIZED_THETA, cand.AUTO_ETS,
                                cand.AUTO_THETA, cand.GLOBAL_LGBM)}
BENCHMARK_MODELS = tuple(_BY_NAME)
"""Names usable as benchmarks."""


def evaluate(history: pd.DataFrame, *, horizon: int, freq: str, holdout_windows: int = 1,
             benchmarks: Sequence[str] = BENCHMARKS, groups: pd.DataFrame | None = None,
             **settings) -> pd.DataFrame:
    """Holdout errors of the pipeline and the benchmarks, per series and window.

    Parameters
    ----------
    history : pandas.DataFrame
        ``unique_id``, ``ds``, ``y`` and optionally ``promo``.
    horizon : int
        Periods per holdout window.
    freq : str
        Pandas frequency alias.
    holdout_windows : int
        Holdout windows, the latest first.
    benchmarks : sequence of str
        Statsforecast models fitted on the raw history (`BENCHMARK_MODELS`).
    groups : pandas.DataFrame, optional
        Passed to `DemandForecaster.fit`.
    **settings
        `DemandForecaster` settings (``quantiles`` sets the band whose coverage is measured).

    Returns
    -------
    pandas.DataFrame
        One row per (series, window, method): ``unique_id``, ``window``, ``method``,
        ``demand_class`` (the pipeline's class at that cut), ``rmsse``, ``mase``,
        ``abs_error``, ``actual``, ``forecast`` (sums over the window), ``covered`` and
        ``points`` (outcomes inside the band, and outcomes; pipeline only).
    """
    unknown = [b for b in benchmarks if b not in _BY_NAME]
    if unknown:
        raise ValueError(f"benchmarks must be among {', '.join(BENCHMARK_MODELS)}; "
                         f"found {', '.join(unknown)}")
    dates = pd.DatetimeIndex(history["ds"])
    grid = pd.date_range(dates.min(), dates.max(), freq=freq)
    rows = []
    for window in range(1, holdout_windows + 1):
        cut = grid[len(grid) - window * horizon]
        end = grid[min(len(grid) - 1, len(grid) - (window - 1) * horizon - 1)]
        train = history[dates < cut]
        test = history[(dates >= cut) & (dates <= end)]
        rows.append(_one_window(train, test, window, horizon, freq, benchmarks, groups,
                                settings))
    return pd.concat(rows, ignore_index=True)


def _one_window(train, test, window, horizon, freq, benchmarks, groups, settings):
    forecaster = DemandForecaster(freq=freq, **settings).fit(train, groups=groups)
    future = test[["unique_id", "ds", "promo"]] if "promo" in test.columns else None
    distribution, _ = forecaster.predict_distribution(horizon, future=future)
    panel = forecaster.panel_
    actual = _actuals(test, panel, horizon)
    quantiles = np.asarray(forecaster.quantiles)
    band = distribution.quantiles(np.array([quantiles.min(), quantiles.max()]))
    classes = forecaster.classes_.names()
    methods = {PIPELINE: distribution.mean}
    season = season_length(freq)
    for name in benchmarks:
        run = run_model(_BY_NAME[name], panel.y, panel.start, panel.n_periods, horizon, season,
                        forecaster.derived_.level_window)
        methods[name] = run.mean
    scale2 = naive_scale(panel.y, 2)
    scale1 = naive_scale(panel.y, 1)
    frames = []
    for method, mean in methods.items():
        error = np.where(np.isnan(actual), np.nan, actual - mean)
        with np.errstate(invalid="ignore"):
            mse = np.nanmean(error**2, axis=1)
            mae = np.nanmean(np.abs(error), axis=1)
        inside = (actual >= band[..., 0]) & (actual <= band[..., 1])
        points = (~np.isnan(actual)).sum(axis=1)
        frames.append(pd.DataFrame({
            "unique_id": panel.ids, "window": window, "method": method,
            "demand_class": classes,
            "rmsse": np.sqrt(mse / scale2), "mase": mae / scale1,
            "abs_error": np.nansum(np.abs(error), axis=1),
            "actual": np.nansum(actual, axis=1),
            "forecast": np.where(np.isnan(actual), 0.0, mean).sum(axis=1),
            "covered": np.where(method == PIPELINE, inside.sum(axis=1), 0),
            "points": np.where(method == PIPELINE, points, 0),
        }))
    return pd.concat(frames, ignore_index=True)


def _actuals(test: pd.DataFrame, panel, horizon: int) -> np.ndarray:
    """Holdout values per series and step; missing rows are zero sales, unseen series NaN."""
    actual = np.zeros((panel.n_series, horizon))
    if len(test) == 0:
        return actual
    row = pd.Index(panel.ids).get_indexer(test["unique_id"])
    grid = pd.date_range(panel.grid[0], periods=len(panel.grid) + horizon, freq=panel.freq)
    position = grid.get_indexer(pd.DatetimeIndex(test["ds"]))
    known = row >= 0
    step = position - panel.end[np.maximum(row, 0)] - 1
    inside = known & (position >= 0) & (step >= 0) & (step < horizon)
    actual[row[inside], step[inside]] = test["y"].to_numpy(float)[inside]
    return actual


def summarize(evaluation: pd.DataFrame, by: Sequence[str] = ("method",)) -> pd.DataFrame:
    """Aggregate `evaluate` rows: mean RMSSE and MASE, WAPE, bias and band coverage.

    Parameters
    ----------
    evaluation : pandas.DataFrame
        Output of `evaluate` (extra columns, such as a channel, may be added to group by).
    by : sequence of str
        Grouping columns; ``method`` should be among them.
    """
    grouped = evaluation.groupby(list(by), sort=True)
    out = pd.DataFrame({
        "series": grouped["unique_id"].nunique(),
        "rmsse": grouped["rmsse"].mean(),
        "mase": grouped["mase"].mean(),
        "wape": grouped["abs_error"].sum() / grouped["actual"].sum().replace(0, np.nan),
        "bias": (grouped["forecast"].sum() - grouped["actual"].sum())
        / grouped["actual"].sum().replace(0, np.nan),
        "coverage": grouped["covered"].sum() / grouped["points"].sum().replace(0, np.nan),
    })
    return out.reset_index()
