"""Planning periods: the frequency of the history and the mapping of dates to periods."""

from __future__ import annotations

import numpy as np
import pandas as pd

from engine.inputs.contract import FREQUENCIES

_WEEKDAYS = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")


def normalize_freq(freq: str) -> str:
    """Return the canonical alias of a supported frequency.

    ``"W"`` alone means weeks starting on Monday (``"W-MON"``), the retail convention in China;
    pandas' own ``"W"`` (weeks ending on Sunday) is not used.

    Raises
    ------
    ValueError
        If ``freq`` is not one of `engine.inputs.contract.FREQUENCIES`.
    """
    text = str(freq).strip().upper()
    if text == "W":
        text = "W-MON"
    if text not in FREQUENCIES:
        raise ValueError(f"freq must be one of W, {', '.join(FREQUENCIES)}; found {freq!r}")
    return text


def infer_freq(dates: np.ndarray) -> str | None:
    """Infer the period frequency from the distinct dates of a history.

    Parameters
    ----------
    dates : numpy.ndarray of datetime64
        Distinct period dates (any order).

    Returns
    -------
    str or None
        ``"D"``, ``"W-XXX"`` or ``"MS"``; None when the dates fit none of them, or there are
        fewer than two distinct dates.
    """
    stamps = pd.DatetimeIndex(np.unique(dates))
    if len(stamps) < 2 or not (stamps == stamps.normalize()).all():
        return None
    gaps = np.diff(stamps.asi8) // (86_400 * 10**9)
    if (stamps.day == 1).all() and gaps.min() >= 28:
        return "MS"
    if (gaps % 7 == 0).all():
        return f"W-{_WEEKDAYS[stamps[0].weekday()]}"
    if gaps.min() == 1:
        return "D"
    return None


def off_frequency(dates: np.ndarray, freq: str) -> np.ndarray:
    """Mask of the dates that are not the first day of a period of ``freq``."""
    stamps = pd.DatetimeIndex(dates)
    off = np.asarray(stamps != stamps.normalize())
    if freq.startswith("W-"):
        off |= np.asarray(stamps.weekday != _WEEKDAYS.index(freq[2:]))
    elif freq == "MS":
        off |= np.asarray(stamps.day != 1)
    return off


def describe_dates(dates: np.ndarray) -> str:
    """Name what a set of off-frequency dates looks like ("dates on Sundays")."""
    stamps = pd.DatetimeIndex(dates)
    weekdays = set(stamps.weekday)
    if len(weekdays) == 1:
        day = _WEEKDAYS[weekdays.pop()]
        return f"dates on {day.title()}days (freq W-{day})"
    return "dates on several weekdays"


def period_range(first: np.datetime64, last: np.datetime64, freq: str) -> pd.DatetimeIndex:
    """All period start dates from ``first`` to ``last`` inclusive."""
    return pd.date_range(first, last, freq=freq)


def period_of(dates: np.ndarray, periods: pd.DatetimeIndex) -> np.ndarray:
    """Index of the period of ``periods`` containing each date.

    Dates before the first period give -1; dates after the last period give the last index.
    """
    stamps = pd.DatetimeIndex(dates)
    index = periods.searchsorted(stamps, side="right") - 1
    return np.asarray(index, dtype=np.int64)


def periods_per_year(freq: str) -> float:
    """Number of periods in a year (365.25 days, 52.18 weeks or 12 months)."""
    if freq == "D":
        return 365.25
    if freq == "MS":
        return 12.0
    return 365.25 / 7
