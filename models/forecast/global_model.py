"""One LightGBM model for all series of a panel, through mlforecast.

The statsforecast candidates (`models.forecast.candidates`) fit one small model per series. A
*global* model fits one gradient-boosted tree ensemble on the rows of every series at once
(the approach of most top M5 entries, Makridakis, Spiliotis & Assimakopoulos 2022), so a
series with a short or noisy history borrows the shape of the others: how demand follows its
recent level, its season and its promotions. `run_global_model` has the shape of
`models.forecast.runner.run_model` (a right-aligned panel ``values (n, T)`` with each series'
``start``, a ``cutoff`` column, ``horizon`` and ``season``) and returns the same `ModelRun`, so
the rolling-origin backtest (`models.forecast.selection`) can score it next to the per-series
models; one call is one fit on the columns before ``cutoff`` and a recursive forecast of the
``horizon`` columns from ``cutoff`` on.

Scaling
-------
Series of different sizes share one model through a per-series scale: every value of series
``i`` is divided by its level ``s_i``, the mean of ``|y|`` over its last ``scale_window``
periods before ``cutoff`` (over all the columns handed to the model when those are all
zero), and the forecast is multiplied back. A scaled series has a recent mean of one, so
``y_t / s_i = 1.3`` means the same thing for a series selling 3 units a week and one selling
3,000 (the mean scaling of Salinas et al. 2020, DeepAR). ``log s_i`` and the share of zero
periods in the scale window are static features, so the model can still tell large from small
and intermittent from smooth series.

Features (mlforecast: Nixtla 2022, https://nixtlaverse.nixtla.io/mlforecast)
-----------------------------------------------------------------------------
With season length ``m`` (12 monthly, 52 weekly, 7 daily):

- lags of the scaled target: 1, 2, 3, 4 and ``m`` (when ``1 < m <= 60``);
- rolling means of lag 1 (`ROLLING_WINDOWS`): over ``3, 6, 12`` periods monthly,
  ``4, 13, 52`` weekly, ``7, 14, 28`` daily;
- calendar: the position in the season (month of year, week of year, day of week; plus the
  month for daily data), from ``dates`` when given, else from the column index (which assumes
  every row's last column is the same period);
- ``promo``: the promotion flag (or intensity) of the period, in history and in the forecast
  periods (planned promotions are known in advance);
- ``price``: the period's price relative to the series' mean price before ``cutoff``;
- static: ``log s_i`` and the share of zero periods in the scale window.

Lags and rolling means that reach before a series' start are missing values, which LightGBM
routes down a learned default branch (Ke et al. 2017), so a series needs only ``min_length``
periods of history, not the longest lag.

Training window, loss and cost
------------------------------
The model learns from the targets of the last ``train_window`` columns before ``cutoff`` of
every series (default: two seasons, at least 26 periods; longer windows were no better on the
real data sets of issue 14); the frame handed to mlforecast holds those columns plus the
longest lookback. When there are more than ``max_rows`` such rows, a uniform sample of
``max_rows`` rows drawn with a fixed seed is used, so the fit cost is bounded whatever the
number of series. LightGBM (Ke et al. 2017) grows ``n_estimators`` trees of at most
``num_leaves`` leaves on features binned into ``max_bin`` bins, with ``num_threads`` threads and
``deterministic=True``: the same inputs and settings give the same forecast (another thread
count may change the last digits). The loss (``objective="auto"``) is the Tweedie deviance
(variance power 1.5, log link; the loss of many top M5 entries) when every training target is
non-negative, which suits zero-heavy demand, and squared error otherwise (say, sales net of
returns). The forecast is recursive (mlforecast's default): the step-``k`` prediction is the
lag-1 value of step ``k + 1``.

A tree ensemble predicts within the range of the scaled targets it was trained on, so a
forecast never exceeds the largest scaled value of the training rows times ``s_i`` (a
useful bound for stock targets), and, by the same token, it does not extrapolate a trend
beyond that range: on the trending M3 monthly series it is far behind Theta, while on retail
data with promotions it is among the best candidates (see the measurements of issue 14).

Cost, measured on the two shared cores of the development machine (a busy machine; an idle
one is faster): one fit and 13-step forecast of the 10,000 weekly demo series x 104 periods,
30,000 training rows, about 0.9 s (mlforecast features 0.2 s, LightGBM fit 0.15 s, recursive
forecast 0.35 s, the rest packing); the first call in a process also pays about 3 s for
importing mlforecast and LightGBM.

Fallbacks
---------
A series shorter than ``min_length`` periods before ``cutoff``, whose level ``s_i`` is zero
(it never sold), or whose forecast is not finite gets the window average of its last
``fallback_window`` periods (`models.forecast.runner.window_average`), as in `run_model`. When
fewer than ``min_rows`` training rows exist at all, every series falls back.

References
----------
Ke, G. et al. (2017). LightGBM: a highly efficient gradient boosting decision tree. NeurIPS 30.
Makridakis, S., Spiliotis, E. & Assimakopoulos, V. (2022). M5 accuracy competition: results,
findings, and conclusions. International Journal of Forecasting 38(4), 1346-1364.
Salinas, D., Flunkert, V., Gasthaus, J. & Januschowski, T. (2020). DeepAR: probabilistic
forecasting with autoregressive recurrent networks. IJF 36(3), 1181-1191.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from models.forecast.runner import ModelRun, window_average

Objective = Literal["auto", "regression", "tweedie"]
OBJECTIVES: tuple[Objective, ...] = ("auto", "regression", "tweedie")

GLOBAL_LGBM = "GlobalLGBM"
"""Candidate name of the global model in backtest tables and forecast outputs."""

ROLLING_WINDOWS = {1: (3, 6, 12), 4: (2, 4, 8), 7: (7, 14, 28), 12: (3, 6, 12),
                   52: (4, 13, 52)}
"""Rolling-mean windows (over lag 1) per season length; other seasons use ``(3, 6, 12)``."""


@dataclass(frozen=True)
class GlobalSettings:
    """Settings of the global LightGBM model (documented defaults).

    Parameters
    ----------
    n_estimators : int
        Boosting rounds (trees).
    learning_rate : float
        Shrinkage of each tree.
    num_leaves : int
        Most leaves per tree.
    min_child_samples : int
        Fewest training rows in a leaf.
    max_bin : int
        Histogram bins per feature (fewer: faster).
    num_threads : int
        LightGBM threads.
    max_rows : int
        Most training rows (a seeded uniform sample beyond).
    train_window : int, optional
        Columns before ``cutoff`` whose targets are training rows (default: two seasons,
        at least 26).
    scale_window : int, optional
        Periods over which each series' level ``s_i`` is measured (default: one season, at
        least 13).
    min_length : int
        Fewest periods of history before ``cutoff`` a series needs; shorter ones fall back.
    min_rows : int
        Fewest training rows for a fit; with fewer, every series falls back.
    seed : int
        Seed of the row sample and of LightGBM.
    objective : {"auto", "regression", "tweedie"}
        LightGBM loss: ``auto`` is the Tweedie deviance when every training target is
        non-negative and squared error otherwise; ``tweedie`` needs non-negative targets.
    """

    n_estimators: int = 40
    learning_rate: float = 0.1
    num_leaves: int = 15
    min_child_samples: int = 20
    max_bin: int = 63
    num_threads: int = 1
    max_rows: int = 30_000
    train_window: int | None = None
    scale_window: int | None = None
    min_length: int = 4
    min_rows: int = 200
    seed: int = 0
    objective: Objective = "auto"


@dataclass(frozen=True)
class _Features:
    """Lags, rolling windows and windows of one season length."""

    lags: tuple[int, ...]
    windows: tuple[int, ...]
    train_window: int
    scale_window: int

    @property
    def lookback(self) -> int:
        """Columns before a target that its features read."""
        return max(max(self.lags), max(self.windows) + 1)


def _features(season: int, settings: GlobalSettings) -> _Features:
    seasonal = (season,) if 1 < season <= 60 else ()
    lags = tuple(sorted({1, 2, 3, 4, *seasonal}))
    windows = ROLLING_WINDOWS.get(season, (3, 6, 12))
    train_window = settings.train_window or max(2 * season, 26)
    scale_window = settings.scale_window or max(season, 13)
    return _Features(lags, windows, train_window, scale_window)


def run_global_model(values: np.ndarray, start: np.ndarray, cutoff: int, horizon: int,
                     season: int, fallback_window: int, *, promo: np.ndarray | None = None,
                     price: np.ndarray | None = None, dates: np.ndarray | None = None,
                     settings: GlobalSettings = GlobalSettings()) -> ModelRun:
    """Fit one LightGBM model on all rows before ``cutoff`` and forecast ``horizon`` columns.

    Parameters
    ----------
    values : numpy.ndarray, shape (n, T)
        History (the cleaned baseline in the backtest), right-aligned; no NaN from each row's
        start on (a NaN is an unknown value: not a training target, a missing lag).
    start : numpy.ndarray of int, shape (n,)
        First column of each series.
    cutoff : int
        The history used is columns ``start`` to ``cutoff - 1``; ``1 <= cutoff <= T``.
    horizon : int
        Periods forecast, columns ``cutoff`` to ``cutoff + horizon - 1``.
    season : int
        Season length ``m`` (12 monthly, 52 weekly, 7 daily; 1 for none).
    fallback_window : int
        Periods averaged by the fallback forecast.
    promo : numpy.ndarray, shape (n, T + horizon) or (n, cutoff + horizon), optional
        Promotion flag or intensity of every period, the forecast periods included (planned
        promotions).
    price : numpy.ndarray, shape like ``promo``, optional
        Price per unit of every period (NaN where unknown).
    dates : numpy.ndarray of datetime64, shape like ``promo``, optional
        Date of every column of every row, for the calendar features.
    settings : GlobalSettings

    Returns
    -------
    ModelRun
        ``mean (n, horizon)``, ``fallback`` and ``failed`` masks ``(n,)``; ``failed`` marks
        series whose forecast was not finite, or all usable series when the fit raised.
    """
    _run_global_iv(values, start, cutoff, horizon, season, fallback_window, promo, price,
                   dates, settings)
    values = np.asarray(values, dtype=np.float64)
    start = np.asarray(start, dtype=np.int64)
    n = len(values)
    fallback_mean = window_average(values, start, cutoff, fallback_window)
    mean = np.repeat(fallback_mean[:, None], horizon, axis=1)
    failed = np.zeros(n, dtype=bool)
    spec = _features(season, settings)

    first = max(0, cutoff - spec.train_window - spec.lookback)
    history = values[:, first:cutoff]
    column = np.arange(first, cutoff)
    observed = (column[None, :] >= start[:, None]) & ~np.isnan(history)
    level, zero_share = _level(history, observed, column, cutoff, spec.scale_window)
    usable = (cutoff - start >= settings.min_length) & (level > 0)
    rows = np.flatnonzero(usable)
    if len(rows) == 0:
        return ModelRun(mean, ~usable, failed)

    frame, future = _frames(rows, history[rows], observed[rows], first, cutoff, horizon,
                            season, level[rows], zero_share[rows], promo, price, dates)
    try:
        forecast = _fit_predict(frame, future, spec, cutoff, horizon, settings)
    except _TooFewRows:
        return ModelRun(mean, np.ones(n, dtype=bool), failed)
    except Exception:  # a fit that raises leaves every series on the fallback
        failed[rows] = True
        return ModelRun(mean, np.ones(n, dtype=bool), failed)
    forecast = forecast.reshape(len(rows), horizon) * level[rows, None]
    finite = np.isfinite(forecast).all(axis=1)
    mean[rows[finite]] = forecast[finite]
    failed[rows[~finite]] = True
    return ModelRun(mean, ~usable | failed, failed)


class _TooFewRows(Exception):
    """Fewer training rows than ``min_rows``."""


def _level(history: np.ndarray, observed: np.ndarray, column: np.ndarray, cutoff: int,
           scale_window: int) -> tuple[np.ndarray, np.ndarray]:
    """Level ``s_i`` (mean |y| over the scale window, else over all columns) and zero share."""
    magnitude = np.where(observed, np.abs(np.nan_to_num(history)), 0.0)
    recent = observed & (column[None, :] >= cutoff - scale_window)
    count = recent.sum(axis=1)
    total = magnitude.sum(axis=1, where=recent)
    everything = magnitude.sum(axis=1)
    count_all = observed.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        level = np.where(total > 0, total / np.maximum(count, 1),
                         everything / np.maximum(count_all, 1))
        zero_share = ((magnitude == 0) & recent).sum(axis=1) / np.maximum(count, 1)
    return np.nan_to_num(level), zero_share


def _calendar(dates: np.ndarray | None, column: np.ndarray, season: int,
              shape: tuple[int, int]) -> dict[str, np.ndarray]:
    """Calendar features of every cell: position in the season (and month for daily)."""
    if season <= 1:
        return {}
    if dates is None:
        return {"season_position": np.broadcast_to(column % season, shape).astype(np.float32)}
    stamps = pd.DatetimeIndex(np.asarray(dates, dtype="datetime64[ns]").ravel())
    if season == 12:
        position = stamps.month - 1
    elif season == 52:
        position = np.minimum((stamps.dayofyear - 1) // 7, 51)
    elif season == 4:
        position = stamps.quarter - 1
    elif season == 7:
        position = stamps.dayofweek
    else:
        position = (stamps.dayofyear - 1) * season // 366
    out = {"season_position": np.asarray(position, dtype=np.float32).reshape(shape)}
    if season == 7:
        out["month"] = np.asarray(stamps.month, dtype=np.float32).reshape(shape)
    return out


def _frames(rows: np.ndarray, history: np.ndarray, observed: np.ndarray, first: int,
            cutoff: int, horizon: int, season: int, level: np.ndarray,
            zero_share: np.ndarray, promo: np.ndarray | None, price: np.ndarray | None,
            dates: np.ndarray | None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The long training frame (scaled history) and the future exogenous frame."""
    k = len(rows)
    span = np.arange(first, cutoff + horizon)
    exogenous = _calendar(None if dates is None else dates[rows][:, span], span, season,
                          (k, len(span)))
    if promo is not None:
        exogenous["promo"] = np.asarray(promo, dtype=np.float32)[rows][:, span]
    if price is not None:
        cells = np.asarray(price, dtype=np.float64)[rows][:, span]
        past = np.where(observed, cells[:, :cutoff - first], np.nan)
        with warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
            warnings.simplefilter("ignore", RuntimeWarning)
            reference = np.nanmean(past, axis=1)
            exogenous["price"] = (cells / reference[:, None]).astype(np.float32)

    # a series' cells must be contiguous for mlforecast: from its first observed column on
    begins = np.argmax(observed, axis=1)
    inside = np.arange(cutoff - first)[None, :] >= begins[:, None]
    series, cell = np.nonzero(inside)
    y = history[series, cell] / level[series]
    frame = {"unique_id": series.astype(np.int64), "ds": (cell + first).astype(np.int64),
             "y": y}
    for name, table in exogenous.items():
        frame[name] = table[series, cell]
    frame["log_level"] = np.log(level[series])
    frame["zero_share"] = zero_share[series]

    ahead = cutoff - first + np.arange(horizon)
    future = {"unique_id": np.repeat(np.arange(k, dtype=np.int64), horizon),
              "ds": np.tile(ahead + first, k).astype(np.int64)}
    for name, table in exogenous.items():
        future[name] = table[:, ahead].ravel()
    return pd.DataFrame(frame), pd.DataFrame(future)


def _fit_predict(frame: pd.DataFrame, future: pd.DataFrame, spec: _Features, cutoff: int,
                 horizon: int, settings: GlobalSettings) -> np.ndarray:
    """Build the features with mlforecast, fit LightGBM on a sample, forecast recursively."""
    import lightgbm as lgb
    from mlforecast import MLForecast
    from mlforecast.lag_transforms import RollingMean

    model = lgb.LGBMRegressor(
        n_estimators=settings.n_estimators, learning_rate=settings.learning_rate,
        num_leaves=settings.num_leaves, min_child_samples=settings.min_child_samples,
        max_bin=settings.max_bin, num_threads=settings.num_threads, deterministic=True,
        force_col_wise=True, random_state=settings.seed, verbose=-1)
    pipeline = MLForecast(models={GLOBAL_LGBM: model}, freq=1, lags=list(spec.lags),
                          lag_transforms={1: [RollingMean(window_size=w, min_samples=1)
                                              for w in spec.windows]},
                          num_threads=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        prepared = pipeline.preprocess(frame, static_features=["log_level", "zero_share"],
                                       dropna=False, keep_last_n=spec.lookback,
                                       validate_data=False)
        columns = pipeline.ts.features_order_
        target = prepared["y"].to_numpy()
        trainable = ((prepared["ds"].to_numpy() >= cutoff - spec.train_window)
                     & np.isfinite(target) & prepared["lag1"].notna().to_numpy())
        picked = np.flatnonzero(trainable)
        if len(picked) < settings.min_rows:
            raise _TooFewRows
        if len(picked) > settings.max_rows:
            sample = np.random.default_rng(settings.seed).choice(
                len(picked), settings.max_rows, replace=False)
            picked = picked[np.sort(sample)]
        features = prepared[columns].iloc[picked]
        objective = settings.objective
        if objective == "auto":
            objective = "tweedie" if (target[picked] >= 0).all() else "regression"
        model.set_params(objective=objective)
        pipeline.fit_models(features, target[picked])
        predicted = pipeline.predict(horizon, X_df=future)
    return predicted[GLOBAL_LGBM].to_numpy(dtype=np.float64)


def _run_global_iv(values, start, cutoff, horizon, season, fallback_window, promo, price,
                   dates, settings) -> None:
    values = np.asarray(values)
    if values.ndim != 2 or not np.issubdtype(values.dtype, np.number):
        raise ValueError(f"values must be a two-dimensional array of numbers (series, "
                         f"period); found shape {values.shape} of {values.dtype}")
    n, t = values.shape
    start = np.asarray(start)
    if start.shape != (n,) or not np.issubdtype(start.dtype, np.integer):
        raise ValueError(f"start must be {n} whole numbers, one per row of values; found "
                         f"shape {start.shape} of {start.dtype}")
    for name, value, smallest in (("cutoff", cutoff, 1), ("horizon", horizon, 1),
                                  ("season", season, 1), ("fallback_window", fallback_window, 1)):
        if not isinstance(value, (int, np.integer)) or value < smallest:
            raise ValueError(f"{name} must be a whole number >= {smallest}; found {value!r}")
    if cutoff > t:
        raise ValueError(f"cutoff must be at most the number of columns of values ({t}); "
                         f"found {cutoff}")
    for name, table in (("promo", promo), ("price", price), ("dates", dates)):
        if table is None:
            continue
        shape = np.shape(table)
        if len(shape) != 2 or shape[0] != n or shape[1] < cutoff + horizon:
            raise ValueError(f"{name} must have shape ({n}, at least cutoff + horizon = "
                             f"{cutoff + horizon}); found {shape}")
    if not isinstance(settings, GlobalSettings):
        raise TypeError(f"settings must be a GlobalSettings; found {type(settings).__name__}")
    for name in ("n_estimators", "num_leaves", "min_child_samples", "max_bin", "num_threads",
                 "max_rows", "min_length", "min_rows"):
        value = getattr(settings, name)
        if not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"settings.{name} must be a whole number >= 1; found {value!r}")
    for name in ("train_window", "scale_window"):
        value = getattr(settings, name)
        if value is not None and (not isinstance(value, (int, np.integer)) or value < 1):
            raise ValueError(f"settings.{name} must be None or a whole number >= 1; found "
                             f"{value!r}")
    if not settings.learning_rate > 0:
        raise ValueError(f"settings.learning_rate must be > 0; found {settings.learning_rate!r}")
    if settings.objective not in OBJECTIVES:
        raise ValueError(f"settings.objective must be one of {', '.join(OBJECTIVES)}; found "
                         f"{settings.objective!r}")
