"""Rolling-origin backtest of candidate models and the choice among them.

For window ``w = 1 .. W`` the history is cut ``w x h`` periods before its end; each candidate
forecasts the next ``h`` periods from the cleaned baseline before the cut, the forecast is
multiplied by the promotion and festival multipliers of those periods (known in history), and
compared with what was actually sold. Candidates are scored by RMSSE (`models.forecast.metrics`)
over all windows of a series. Each class also gets an ensemble, the mean of its three best
candidates. The choice is made per demand class (the option with the lowest mean RMSSE over the
class's series: robust, one choice per class) or per series.

The uplift estimates and the local baseline around the cut use the whole history, a small
look-ahead that the final holdout evaluations in the tests do not have.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from models.forecast.candidates import ENSEMBLE, Candidate
from models.forecast.metrics import naive_scale
from models.forecast.runner import run_model

Selection = Literal["class", "series"]
ENSEMBLE_SIZE = 3
SELECTIONS: tuple[Selection, ...] = ("class", "series")


@dataclass(frozen=True)
class Backtest:
    """Backtest forecasts of every candidate for a set of series.

    Attributes
    ----------
    actual : numpy.ndarray, shape (n, W, h)
        What was sold after each cut (NaN where the series had not started).
    forecasts : dict of str to numpy.ndarray, shape (n, W, h)
        Forecast of each candidate, multipliers applied; NaN where the history before the cut
        was too short to forecast from.
    failed : numpy.ndarray of int, shape (n,)
        Number of candidate fits that raised or gave non-finite forecasts, per series.
    """

    actual: np.ndarray
    forecasts: dict[str, np.ndarray]
    failed: np.ndarray


def rolling_backtest(values: np.ndarray, actual: np.ndarray, start: np.ndarray,
                     multiplier: np.ndarray, candidates: tuple[Candidate, ...], *, season: int,
                     horizon: int, n_windows: int, fallback_window: int,
                     nonnegative: bool) -> Backtest:
    """Backtest every candidate over ``n_windows`` cuts of ``horizon`` periods.

    Parameters
    ----------
    values : numpy.ndarray, shape (n, T)
        Cleaned baseline history.
    actual : numpy.ndarray, shape (n, T)
        Raw history (what was sold).
    start : numpy.ndarray of int, shape (n,)
    multiplier : numpy.ndarray, shape (n, T)
        Promotion and festival multiplier of every history period.
    candidates : tuple of Candidate
    season, horizon, n_windows, fallback_window : int
    nonnegative : bool
        Floor forecasts at zero.
    """
    n, t = values.shape
    cuts = [t - w * horizon for w in range(1, n_windows + 1)]
    window_actual = np.full((n, n_windows, horizon), np.nan)
    names = [c.name for c in candidates]
    forecasts = {name: np.full((n, n_windows, horizon), np.nan) for name in names}
    failed = np.zeros(n, dtype=np.int64)
    for w, cut in enumerate(cuts):
        if cut < 2:
            continue
        trained = (cut - start) >= 2
        rows = np.flatnonzero(trained)
        window_actual[rows, w] = actual[rows, cut:cut + horizon]
        for candidate in candidates:
            run = run_model(candidate, values[rows], start[rows], cut, horizon, season,
                            fallback_window)
            mean = run.mean * multiplier[rows, cut:cut + horizon]
            forecasts[candidate.name][rows, w] = np.maximum(mean, 0.0) if nonnegative else mean
            failed[rows] += run.failed
    return Backtest(window_actual, forecasts, failed)


def series_rmsse(actual: np.ndarray, forecast: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """RMSSE per series over all windows and steps (NaN where not scorable)."""
    n = actual.shape[0]
    squared = (actual.reshape(n, -1) - forecast.reshape(n, -1)) ** 2
    counted = ~np.isnan(squared)
    total = np.where(counted, squared, 0.0).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.sqrt(total / counted.sum(axis=1) / scale)


@dataclass(frozen=True)
class Choice:
    """The model chosen for each series, and the evidence.

    Attributes
    ----------
    model : numpy.ndarray of str, shape (n,)
        Candidate name or ``ensemble`` per series.
    members : dict of int to tuple of str
        Per group, the candidates averaged by its ensemble.
    table : dict of int to dict of str to float
        Per group, the mean backtest RMSSE of every candidate and of the ensemble.
    ensemble_forecast : numpy.ndarray, shape (n, W, h)
        Backtest forecast of each series' group ensemble.
    """

    model: np.ndarray
    members: dict[int, tuple[str, ...]]
    table: dict[int, dict[str, float]]
    ensemble_forecast: np.ndarray


def choose(backtest: Backtest, history: np.ndarray, group: np.ndarray, selection: Selection,
           default: str) -> Choice:
    """Pick a candidate, or the ensemble of the group's best ``ENSEMBLE_SIZE``, per series.

    Parameters
    ----------
    backtest : Backtest
    history : numpy.ndarray, shape (n, T)
        Baseline history, for the RMSSE scale.
    group : numpy.ndarray of int, shape (n,)
        Demand class of each series; with ``selection="class"`` one choice per group.
    selection : {"class", "series"}
    default : str
        Candidate for groups without any score.
    """
    scale = naive_scale(history, 2)
    names = list(backtest.forecasts)
    scores = np.column_stack([series_rmsse(backtest.actual, backtest.forecasts[name], scale)
                              for name in names])
    n = len(group)
    model = np.full(n, default, dtype=object)
    members: dict[int, tuple[str, ...]] = {}
    table: dict[int, dict[str, float]] = {}
    ensemble = np.full(backtest.actual.shape, np.nan)
    for g in np.unique(group):
        rows = np.flatnonzero(group == g)
        block = scores[rows]
        scorable = np.isfinite(block).all(axis=1)
        means = block[scorable].mean(axis=0) if scorable.any() else np.full(len(names), np.nan)
        ranked = [names[i] for i in np.argsort(np.where(np.isfinite(means), means, np.inf))]
        members[int(g)] = tuple(ranked[:ENSEMBLE_SIZE])
        ensemble[rows] = np.mean([backtest.forecasts[m][rows] for m in members[int(g)]], axis=0)
        own = series_rmsse(backtest.actual[rows], ensemble[rows], scale[rows])
        table[int(g)] = {**dict(zip(names, means.tolist(), strict=True)),
                         ENSEMBLE: float(own[scorable].mean()) if scorable.any() else np.nan}
        options = np.array([*names, ENSEMBLE], dtype=object)
        class_means = np.array([table[int(g)][name] for name in options])
        if not np.isfinite(class_means).any():
            continue
        best_of_group = options[int(np.nanargmin(class_means))]
        model[rows] = best_of_group
        if selection == "series":
            full = np.column_stack([block, own])
            mine = np.isfinite(full).all(axis=1)
            model[rows[mine]] = options[np.argmin(full[mine], axis=1)]
    return Choice(model.astype(str), members, table, ensemble)


def cross_fitted_forecast(backtest: Backtest, history: np.ndarray, group: np.ndarray,
                          selection: Selection, default: str) -> np.ndarray:
    """The backtest forecast of the model each window would have got without being seen.

    For every window ``w``, the choice is made (`choose`) on the other windows only, and the
    forecast of that choice on window ``w`` is kept: errors free of the winner's curse (the
    chosen model looks better on the windows that chose it than it will on new data), for
    calibrating the spread of decisions. With one window, the ordinary choice is used.

    Returns
    -------
    numpy.ndarray, shape (n, W, h)
    """
    n, n_windows, _ = backtest.actual.shape
    out = np.full(backtest.actual.shape, np.nan)
    for w in range(n_windows):
        others = [v for v in range(n_windows) if v != w] or [w]
        part = Backtest(backtest.actual[:, others],
                        {name: f[:, others] for name, f in backtest.forecasts.items()},
                        backtest.failed)
        chosen = choose(part, history, group, selection, default)
        for name in np.unique(chosen.model):
            rows = chosen.model == name
            if name == ENSEMBLE:
                g_rows = np.flatnonzero(rows)
                for g in np.unique(group[g_rows]):
                    members = chosen.members[int(g)]
                    pick = g_rows[group[g_rows] == g]
                    out[pick, w] = np.mean([backtest.forecasts[m][pick, w] for m in members],
                                           axis=0)
            else:
                out[rows, w] = backtest.forecasts[name][rows, w]
    return out
