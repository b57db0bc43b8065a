"""Demand multipliers of the retail calendar: seasons, festivals and weekdays, per period.

Festivals of Chinese e-commerce and retail, each a window of days with an uplift per channel:

- Spring Festival (Chinese New Year): gift sets sell from three weeks before; in the festival
  week couriers stop and online sales fall, stores less so;
- Women's Day ("38", 1-8 March): skincare and makeup promotions online;
- 618 (1-18 June, JD's anniversary festival), Double 11 (20 October - 11 November, the largest
  shopping festival), Double 12 (1-12 December): marketplace and live-stream promotions with
  discounts.

The festival windows are those of `models.forecast.events.CHINA_RETAIL_FESTIVALS` (the calendar
the forecast learns from); the uplifts per channel are the demo's own. Multipliers are built day
by day and averaged into periods, so weekly and daily demos share them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from engine.demo.network import CATEGORIES, CATEGORY_SEASON, CHANNELS
from models.forecast.events import CHINA_RETAIL_FESTIVALS, Festival


@dataclass(frozen=True)
class FestivalEffect:
    """How a festival of `CHINA_RETAIL_FESTIVALS` moves the demo's demand.

    ``uplift`` maps channels to demand multipliers (``"*"`` for every other channel);
    ``discount`` is the price cut during the festival; ``categories`` limits it (None: all).
    """

    festival: Festival
    uplift: dict[str, float]
    discount: float
    categories: tuple[str, ...] | None = None


_WINDOWS = {f.name: f for f in CHINA_RETAIL_FESTIVALS}

FESTIVAL_EFFECTS = (
    FestivalEffect(_WINDOWS["spring_gifting"], {"*": 2.2}, 0.10, ("gift_sets",)),
    FestivalEffect(_WINDOWS["spring_holiday"],
                   {"store_direct": 0.75, "franchise": 0.7, "ka_supermarket": 0.8, "*": 0.5},
                   0.0),
    FestivalEffect(_WINDOWS["womens_day"],
                   {"tmall": 1.6, "jd": 1.5, "douyin": 1.7, "kuaishou": 1.5, "wechat_mini": 1.3},
                   0.15, ("skincare", "makeup")),
    FestivalEffect(_WINDOWS["618"],
                   {"jd": 2.8, "tmall": 2.2, "douyin": 2.2, "kuaishou": 2.0, "wechat_mini": 1.4,
                    "amazon_xb": 1.1}, 0.20),
    FestivalEffect(_WINDOWS["double_11"],
                   {"tmall": 3.0, "jd": 2.5, "douyin": 2.5, "kuaishou": 2.0, "wechat_mini": 1.5,
                    "store_direct": 1.1, "ka_supermarket": 1.1}, 0.20),
    FestivalEffect(_WINDOWS["double_12"], {"tmall": 1.4, "jd": 1.4, "douyin": 1.3}, 0.10),
)


@dataclass(frozen=True)
class CalendarEffects:
    """Per-period multipliers.

    Attributes
    ----------
    event : numpy.ndarray, shape (channel, category, period)
        Festival demand multiplier (1 outside festivals).
    discount : numpy.ndarray, shape (channel, category, period)
        Average festival discount, fraction of the price.
    season : numpy.ndarray, shape (category, period)
        Yearly seasonality multiplier.
    years : numpy.ndarray, shape (period,)
        Years since the first period (for trends).
    weekday : numpy.ndarray, shape (channel, period)
        Day-of-week multiplier (1 for weekly periods).
    """

    event: np.ndarray
    discount: np.ndarray
    season: np.ndarray
    years: np.ndarray
    weekday: np.ndarray


def calendar_effects(periods: pd.DatetimeIndex, freq: str) -> CalendarEffects:
    """Build the calendar multipliers for the given period starts.

    Parameters
    ----------
    periods : pandas.DatetimeIndex
        First day of each period.
    freq : {"D", "W-MON"}
        Period frequency; weekly periods average seven days.
    """
    days_per_period = 1 if freq == "D" else 7
    days = pd.date_range(periods[0], periods[-1] + pd.Timedelta(days=days_per_period - 1))
    n_ch, n_cat = len(CHANNELS), len(CATEGORIES)
    event = np.ones((n_ch, n_cat, len(days)))
    discount = np.zeros((n_ch, n_cat, len(days)))
    channel_index = {c.channel: i for i, c in enumerate(CHANNELS)}
    for effect in FESTIVAL_EFFECTS:
        cats = [CATEGORIES.index(c) for c in effect.categories] if effect.categories \
            else list(range(n_cat))
        for year in range(days[0].year, days[-1].year + 1):
            window = effect.festival.window(year)
            if window is None:
                continue
            inside = np.asarray((days >= window[0]) & (days <= window[1]))
            if not inside.any():
                continue
            for channel, i in channel_index.items():
                uplift = effect.uplift.get(channel, effect.uplift.get("*"))
                if uplift is None:
                    continue
                for c in cats:
                    event[i, c, inside] *= uplift
                    if effect.discount and uplift > 1:
                        discount[i, c, inside] = effect.discount

    doy = np.asarray(days.dayofyear, dtype=float)
    season = np.empty((n_cat, len(days)))
    for c, category in enumerate(CATEGORIES):
        amplitude, peak = CATEGORY_SEASON[category]
        season[c] = 1 + amplitude * np.cos(2 * np.pi * (doy - peak) / 365.25)

    weekday = np.ones((n_ch, len(days)))
    if freq == "D":
        dow = np.asarray(days.weekday)
        offline = np.array([0.85, 0.85, 0.88, 0.9, 1.0, 1.3, 1.22])
        online = np.array([1.0, 0.97, 0.97, 0.98, 1.0, 1.03, 1.05])
        for i, ch in enumerate(CHANNELS):
            pattern = offline if ch.kind == "offline" else online
            weekday[i] = (pattern / pattern.mean())[dow]

    def per_period(values: np.ndarray) -> np.ndarray:
        shape = values.shape[:-1] + (len(periods), days_per_period)
        return values.reshape(shape).mean(axis=-1)

    years = (np.asarray(periods - periods[0], dtype="timedelta64[D]").astype(float)) / 365.25
    return CalendarEffects(per_period(event), per_period(discount), per_period(season), years,
                           per_period(weekday))
