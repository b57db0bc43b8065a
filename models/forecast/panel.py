"""Many series as one right-aligned matrix: the layout every forecasting step works on.

A `Panel` holds ``n`` series of at most ``T`` periods as an ``(n, T)`` float matrix whose last
column is each series' last period; earlier columns before a series starts are NaN. Missing rows
inside a series are zero sales (retail semantics: no row, no sale); a NaN ``y`` is an unknown
value, imputed later from the baseline. Dates are kept per series as the index of its last period
on one global period grid, so calendar features are looked up by position.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

_SEASONS = (("W", 52), ("D", 7), ("B", 5), ("M", 12), ("Q", 4), ("Y", 1), ("A", 1),
            ("H", 24), ("h", 24))


def season_length(freq: str) -> int:
    """Periods per yearly (or weekly, for days) cycle of a frequency alias.

    ``W-MON`` -> 52, ``D`` -> 7, ``MS`` -> 12, ``QS`` -> 4; 1 when there is no natural season.
    """
    name = pd.tseries.frequencies.to_offset(freq).name
    for prefix, length in _SEASONS:
        if name.startswith(prefix):
            return length
    return 1


@dataclass(frozen=True)
class Panel:
    """Series packed as a right-aligned matrix.

    Attributes
    ----------
    ids : numpy.ndarray
        Series identifiers (``unique_id``), sorted.
    y : numpy.ndarray, shape (n, T)
        Values; NaN before a series starts (and where the value is unknown).
    start : numpy.ndarray of int, shape (n,)
        Column of each series' first observation.
    promo : numpy.ndarray of bool, shape (n, T)
        Promotion flag of each period (False where not given).
    grid : pandas.DatetimeIndex
        The global period grid: every period from the earliest history date to the latest.
    end : numpy.ndarray of int, shape (n,)
        Position on ``grid`` of each series' last period.
    freq : str
        Pandas frequency alias of the periods.
    """

    ids: np.ndarray
    y: np.ndarray
    start: np.ndarray
    promo: np.ndarray
    grid: pd.DatetimeIndex
    end: np.ndarray
    freq: str

    @property
    def n_series(self) -> int:
        return self.y.shape[0]

    @property
    def n_periods(self) -> int:
        return self.y.shape[1]

    def lengths(self) -> np.ndarray:
        """Number of periods from each series' first observation to its last."""
        return self.n_periods - self.start

    def grid_positions(self) -> np.ndarray:
        """Position on ``grid`` of every column of every series, shape (n, T) (may be < 0)."""
        return self.end[:, None] - (self.n_periods - 1) + np.arange(self.n_periods)[None, :]

    def future_dates(self, horizon: int) -> np.ndarray:
        """Dates of the next ``horizon`` periods of every series, shape (n, horizon)."""
        extended = pd.date_range(self.grid[0], periods=len(self.grid) + horizon, freq=self.freq)
        positions = self.end[:, None] + 1 + np.arange(horizon)[None, :]
        return extended.to_numpy()[positions]

    def from_first_sale(self) -> Panel:
        """The panel with each series starting at its first non-zero value.

        Leading zeros are periods before a launch (an export that lists an item before it
        sells): counting them would drag a new series' level, shares and classification down to
        a pre-launch average. A series that never sold keeps its start.
        """
        sold = np.nan_to_num(self.y) != 0
        first = np.where(sold.any(axis=1), sold.argmax(axis=1), self.start)
        start = np.maximum(self.start, first)
        y = self.y.copy()
        y[np.arange(self.n_periods)[None, :] < start[:, None]] = np.nan
        return Panel(self.ids, y, start, self.promo, self.grid, self.end, self.freq)

    def take(self, rows: np.ndarray) -> Panel:
        """The panel of the given rows (same grid)."""
        return Panel(self.ids[rows], self.y[rows], self.start[rows], self.promo[rows], self.grid,
                     self.end[rows], self.freq)


def from_long(history: pd.DataFrame, freq: str) -> Panel:
    """Pack a long table (``unique_id``, ``ds``, ``y``, optional ``promo``) into a `Panel`.

    Parameters
    ----------
    history : pandas.DataFrame
        One row per series and period; ``ds`` dates on ``freq``.
    freq : str
        Pandas frequency alias (``W-MON``, ``D``, ``MS`` ...).

    Raises
    ------
    ValueError
        If a date is off the frequency, or a (unique_id, ds) pair repeats.
    """
    ids, id_codes = _sorted_codes(history["unique_id"].to_numpy())
    dates = pd.DatetimeIndex(history["ds"])
    grid = pd.date_range(dates.min(), dates.max(), freq=freq)
    if len(grid) == 0 or grid[0] != dates.min():
        row = int(np.argmin(dates.asi8))
        raise ValueError(f"history.ds row {row}: {dates[row].date()} is not on the frequency "
                         f"{freq!r}")
    position = grid.get_indexer(dates)
    if (position < 0).any():
        row = int(np.argmax(position < 0))
        raise ValueError(f"history.ds row {row}: {dates[row].date()} is not on the frequency "
                         f"{freq!r}")
    n = len(ids)
    first = np.full(n, len(grid), dtype=np.int64)
    np.minimum.at(first, id_codes, position)
    last = np.full(n, -1, dtype=np.int64)
    np.maximum.at(last, id_codes, position)
    width = int((last - first).max()) + 1
    column = position - last[id_codes] + width - 1
    y = np.full((n, width), np.nan)
    cells = id_codes.astype(np.int64) * width + column
    if len(np.unique(cells)) != len(cells):
        raise ValueError("history: a (unique_id, ds) pair appears more than once")
    start = width - 1 - (last - first)
    inside = np.arange(width)[None, :] >= start[:, None]
    y[inside] = 0.0
    y.ravel()[cells] = history["y"].to_numpy(dtype=np.float64)
    promo = np.zeros((n, width), dtype=bool)
    if "promo" in history.columns:
        promo.ravel()[cells] = history["promo"].fillna(0).to_numpy().astype(bool)
    return Panel(ids, y, start, promo, grid, last, freq)


def _sorted_codes(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    codes, uniques = pd.factorize(values, sort=True)
    return np.asarray(uniques), codes
