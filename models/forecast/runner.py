"""Run one statsforecast model over many series of a panel, with a fallback per series.

Each series is handed to the model as the plain 1-D array of its history (the statsforecast
model API, ``model.forecast(y=..., h=...)``), so nothing but the model's own kernel runs per
series. A series too short for the model, a fit that raises, or a forecast that is not finite
gets the fallback forecast instead: the mean of its last few periods, computed for all series at
once.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from models.forecast.candidates import Candidate


@dataclass(frozen=True)
class ModelRun:
    """Forecasts of one model for a set of series.

    Attributes
    ----------
    mean : numpy.ndarray, shape (n, h)
        Point forecasts.
    fallback : numpy.ndarray of bool, shape (n,)
        Series that got the fallback forecast (too short, failed, or not finite).
    failed : numpy.ndarray of bool, shape (n,)
        Series whose fit raised or gave a non-finite forecast.
    """

    mean: np.ndarray
    fallback: np.ndarray
    failed: np.ndarray


def window_average(values: np.ndarray, start: np.ndarray, cutoff: int, window: int) -> np.ndarray:
    """Mean of the last ``window`` periods before ``cutoff`` of each row (from its start)."""
    lo = np.maximum(start, cutoff - window)
    filled = np.nan_to_num(values[:, :cutoff])
    sums = np.concatenate([np.zeros((len(values), 1)), np.cumsum(filled, axis=1)], axis=1)
    rows = np.arange(len(values))
    total = sums[rows, cutoff] - sums[rows, np.clip(lo, 0, cutoff)]
    return total / np.maximum(cutoff - lo, 1)


def run_model(candidate: Candidate, values: np.ndarray, start: np.ndarray, cutoff: int,
              horizon: int, season: int, fallback_window: int) -> ModelRun:
    """Forecast ``horizon`` periods after column ``cutoff`` for every row of ``values``.

    Parameters
    ----------
    candidate : Candidate
    values : numpy.ndarray, shape (n, T)
        Cleaned history (no NaN from each row's start on).
    start : numpy.ndarray of int, shape (n,)
        First column of each series.
    cutoff : int
        The history used is columns ``start`` to ``cutoff - 1``.
    horizon : int
    season : int
        Season length passed to the candidate.
    fallback_window : int
        Periods averaged by the fallback forecast.
    """
    if candidate.run is not None:  # a global model: one fit over all rows
        return candidate.run(values, start, cutoff, horizon, season, fallback_window)
    n = len(values)
    fallback_mean = window_average(values, start, cutoff, fallback_window)
    mean = np.repeat(fallback_mean[:, None], horizon, axis=1)
    length = cutoff - start
    usable = length >= max(candidate.min_length(season), 1)
    failed = np.zeros(n, dtype=bool)
    model = candidate.make(season)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with np.errstate(all="ignore"):
            for i in np.flatnonzero(usable):
                y = values[i, start[i]:cutoff]
                try:
                    forecast = model.forecast(y=y, h=horizon)["mean"]
                except Exception:  # a model that cannot fit this series falls back
                    failed[i] = True
                    continue
                if np.isfinite(forecast).all():
                    mean[i] = forecast
                else:
                    failed[i] = True
    return ModelRun(mean, ~usable | failed, failed)
