"""Festival calendar: windows of days whose demand differs, and their exposure per period.

An event is a window of days repeating every year, either on fixed month-days (618: 1-18 June)
or relative to the Spring Festival (Chinese New Year, a lunar date). The exposure of a period to
an event is the share of the period's days inside the window, so weekly and monthly periods
partly covered by a festival get a partial effect: multiplier = 1 + (u - 1) x exposure.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

SPRING_FESTIVAL = {
    2015: "2015-02-19", 2016: "2016-02-08", 2017: "2017-01-28", 2018: "2018-02-16",
    2019: "2019-02-05", 2020: "2020-01-25", 2021: "2021-02-12", 2022: "2022-02-01",
    2023: "2023-01-22", 2024: "2024-02-10", 2025: "2025-01-29", 2026: "2026-02-17",
    2027: "2027-02-06", 2028: "2028-01-26", 2029: "2029-02-13", 2030: "2030-02-03",
    2031: "2031-01-23", 2032: "2032-02-11", 2033: "2033-01-31", 2034: "2034-02-19",
    2035: "2035-02-08",
}
"""Gregorian date of the Spring Festival (Chinese New Year's day), 2015-2035."""


@dataclass(frozen=True)
class Festival:
    """A yearly window of days.

    Parameters
    ----------
    name : str
    start, end : str
        ``MM-DD`` for a fixed date, or ``cny+N`` / ``cny-N``: N days after / before the Spring
        Festival. Both ends are included.
    """

    name: str
    start: str
    end: str

    def window(self, year: int) -> tuple[pd.Timestamp, pd.Timestamp] | None:
        """First and last day of the window in ``year`` (None when the year is not covered)."""
        if (self.start.startswith("cny") or self.end.startswith("cny")) \
                and year not in SPRING_FESTIVAL:
            return None
        return self._day(self.start, year), self._day(self.end, year)

    @staticmethod
    def _day(text: str, year: int) -> pd.Timestamp:
        if text.startswith("cny"):
            return pd.Timestamp(SPRING_FESTIVAL[year]) + pd.Timedelta(days=int(text[3:]))
        return pd.Timestamp(f"{year}-{text}")


CHINA_RETAIL_FESTIVALS = (
    Festival("spring_gifting", "cny-21", "cny-1"),
    Festival("spring_holiday", "cny+0", "cny+6"),
    Festival("womens_day", "03-01", "03-08"),
    Festival("618", "06-01", "06-18"),
    Festival("double_11", "10-20", "11-11"),
    Festival("double_12", "12-01", "12-12"),
)
"""The festivals of Chinese retail and e-commerce: Spring Festival gifting (three weeks before)
and holiday (the festival week, when couriers stop), Women's Day (38), 618, Double 11 (with its
pre-sale) and Double 12."""


def exposure(periods: pd.DatetimeIndex, freq: str,
             festivals: tuple[Festival, ...]) -> np.ndarray:
    """Share of each period's days inside each festival window.

    Parameters
    ----------
    periods : pandas.DatetimeIndex
        First day of consecutive periods of frequency ``freq``.
    freq : str
        Pandas frequency alias.
    festivals : tuple of Festival

    Returns
    -------
    numpy.ndarray, shape (festival, period)
        Values in [0, 1].
    """
    if len(festivals) == 0 or len(periods) == 0:
        return np.zeros((len(festivals), len(periods)))
    after = pd.date_range(periods[-1], periods=2, freq=freq)[1]
    days = pd.date_range(periods[0], after - pd.Timedelta(days=1), freq="D")
    period_of_day = periods.searchsorted(days, side="right") - 1
    days_in_period = np.bincount(period_of_day, minlength=len(periods))
    out = np.zeros((len(festivals), len(periods)))
    for j, festival in enumerate(festivals):
        inside = np.zeros(len(days), dtype=bool)
        for year in range(days[0].year, days[-1].year + 1):
            window = festival.window(year)
            if window is not None:
                inside |= np.asarray((days >= window[0]) & (days <= window[1]))
        out[j] = np.bincount(period_of_day, weights=inside, minlength=len(periods)) \
            / np.maximum(days_in_period, 1)
    return out
