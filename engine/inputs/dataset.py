"""The planning dataset: one `xarray.Dataset` built from the checked input tables, and back.

Dimensions
----------
``sku``, ``channel``, ``region``, ``location``, ``lane``
    The entities, in the order of their tables (regions in order of first appearance in
    ``locations``).
``series``
    The (sku, channel, region) combinations that trade, ordered by sku, channel and region; their
    labels are the coordinates ``series_sku``, ``series_channel`` and ``series_region``.
``period``
    History periods, the first day of each (``attrs["freq"]`` gives the frequency).
``shipment``, ``receipt``, ``promotion``, ``term``
    Rows of the optional ``in_transit``, ``supply``, ``promotions`` and ``suppliers`` tables.

Variables
---------
sku: ``category``, ``unit_cost``, ``list_price``, ``unit_volume``, ``pack_size``, ``moq``.
channel: ``channel_kind``, ``price_index``, ``priority``, ``service_level``, ``backorders``,
``review_period``. location: ``location_kind``, ``location_region``, ``location_channel`` (owner of
a pool, ``""`` for shared), ``location_capacity``, ``holding_rate``. lane: ``lane_origin``,
``lane_destination``, ``lead_time``, ``lead_time_sd``, ``cost_per_unit``, ``lane_capacity``.
``eligible(channel, region, location)``: the fulfilment rules. ``on_hand(sku, location)``: stock
now (0 where the inventory table has no row). ``channel_price(sku, channel)``: price overrides (NaN
where none). ``sales(series, period)``: units sold, NaN before the series' first row and 0 in later
periods without a row; ``sales_price(series, period)`` (NaN where not recorded) and
``promo(series, period)``. Row tables: ``shipment_*``, ``receipt_*``, ``promotion_*``,
``term_*`` (supply terms), one variable per column.

The conversion is lossless: ``build_dataset(to_tables(ds))`` is identical to ``ds``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from engine.inputs.calendar import period_range
from engine.inputs.contract import TABLES
from engine.inputs.validate import CheckedTables

ENTITY_VARIABLES: dict[str, tuple[str, dict[str, str]]] = {
    "skus": ("sku", {"category": "category", "unit_cost": "unit_cost",
                     "list_price": "list_price", "unit_volume": "unit_volume",
                     "pack_size": "pack_size", "moq": "moq"}),
    "channels": ("channel", {"kind": "channel_kind", "price_index": "price_index",
                             "priority": "priority", "service_level": "service_level",
                             "backorders": "backorders", "review_period": "review_period"}),
    "locations": ("location", {"kind": "location_kind", "region": "location_region",
                               "channel": "location_channel", "capacity": "location_capacity",
                               "holding_rate": "holding_rate"}),
    "lanes": ("lane", {"origin": "lane_origin", "destination": "lane_destination",
                       "lead_time": "lead_time", "lead_time_sd": "lead_time_sd",
                       "cost_per_unit": "cost_per_unit", "capacity": "lane_capacity"}),
}
"""Entity tables: dimension, and dataset variable of each non-key column."""

ROW_TABLES: dict[str, tuple[str, tuple[str, ...]]] = {
    "in_transit": ("shipment", ("sku", "origin", "destination", "quantity", "arrival_date")),
    "supply": ("receipt", ("sku", "location", "date", "quantity")),
    "promotions": ("promotion", ("sku", "channel", "region", "start", "end", "uplift")),
    "suppliers": ("term", ("sku", "location", "supplier", "lead_time", "lead_time_sd", "moq",
                           "pack_size", "unit_cost", "max_units_per_period")),
}
"""Row tables: dimension; each column becomes the variable ``{dimension}_{column}``."""

_ARRIVAL_RENAME = {"arrival_date": "arrival"}


def lane_label(origin: np.ndarray, destination: np.ndarray) -> np.ndarray:
    """Lane coordinate labels, ``"origin->destination"``."""
    return np.char.add(np.char.add(origin.astype(str), "->"), destination.astype(str))


def _row_variable(dim: str, column: str) -> str:
    return f"{dim}_{_ARRIVAL_RENAME.get(column, column)}"


def _text(values) -> np.ndarray:
    """Text values as a numpy unicode array."""
    if isinstance(values, pd.Series):
        values = values.array
    if isinstance(values, pd.Categorical):
        categories = np.asarray(values.categories, dtype=str)
        if len(categories) == 0:
            return np.array([], dtype=str)
        return categories[values.codes]
    return np.asarray(values, dtype=str)


def build_dataset(checked: CheckedTables, *, period_span=None) -> xr.Dataset:
    """Assemble the planning dataset from checked tables.

    Parameters
    ----------
    checked : CheckedTables
        Output of `engine.inputs.validate.check_tables`.
    period_span : (date, date), optional
        First and last period of the history (default: of the sales dates); a partition read
        on its own keeps the whole input's periods.

    Returns
    -------
    xarray.Dataset
        The planning dataset described in this module's docstring.
    """
    tables = checked.tables
    coords: dict[str, object] = {}
    data: dict[str, object] = {}

    for table, (dim, columns) in ENTITY_VARIABLES.items():
        frame = tables[table]
        if table == "lanes":
            origin, destination = _text(frame["origin"]), _text(frame["destination"])
            coords[dim] = lane_label(origin, destination)
        else:
            coords[dim] = _text(frame[dim])
        for column, variable in columns.items():
            values = frame[column]
            array = _text(values) if isinstance(values.dtype, pd.CategoricalDtype) \
                else values.to_numpy()
            data[variable] = (dim, array)
    coords["region"] = pd.unique(np.asarray(data["location_region"][1])).astype(str)

    index = {dim: pd.Index(coords[dim]) for dim in ("sku", "channel", "region", "location")}

    rules = tables["fulfilment"]
    eligible = np.zeros((len(index["channel"]), len(index["region"]), len(index["location"])),
                        dtype=bool)
    eligible[_codes(rules["channel"], index["channel"]), _codes(rules["region"], index["region"]),
             _codes(rules["location"], index["location"])] = True
    data["eligible"] = (("channel", "region", "location"), eligible)

    stock = tables["inventory"]
    on_hand = np.zeros((len(index["sku"]), len(index["location"])))
    on_hand[_codes(stock["sku"], index["sku"]), _codes(stock["location"], index["location"])] = \
        stock["on_hand"].to_numpy()
    data["on_hand"] = (("sku", "location"), on_hand)

    channel_price = np.full((len(index["sku"]), len(index["channel"])), np.nan)
    if "prices" in tables:
        prices = tables["prices"]
        channel_price[_codes(prices["sku"], index["sku"]),
                      _codes(prices["channel"], index["channel"])] = prices["price"].to_numpy()
    data["channel_price"] = (("sku", "channel"), channel_price)

    for table, (dim, columns) in ROW_TABLES.items():
        frame = tables.get(table)
        for column in columns:
            if frame is None:
                kind = _row_kind(table, column)
                array = np.array([], dtype=kind)
            else:
                values = frame[column]
                array = _text(values) if isinstance(values.dtype, pd.CategoricalDtype) \
                    else values.to_numpy()
            data[_row_variable(dim, column)] = (dim, array)

    series_coords, period, sales_vars = _sales_arrays(tables["sales"], index, checked.freq,
                                                      period_span)
    coords.update(series_coords)
    coords["period"] = period
    data.update(sales_vars)

    ds = xr.Dataset(data, coords=coords, attrs={"freq": checked.freq})
    return ds


def _row_kind(table: str, column: str) -> str:
    kind = TABLES[table].column(column).type
    return {"str": "<U1", "float": "float64", "int": "int64", "date": "datetime64[ns]"}[kind]


def _codes(values: pd.Series, index: pd.Index) -> np.ndarray:
    """Position of each value in a dimension's index."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        positions = index.get_indexer(np.asarray(values.cat.categories, dtype=str))
        return positions[values.cat.codes.to_numpy()]
    return index.get_indexer(np.asarray(values, dtype=str))


def _sales_arrays(sales: pd.DataFrame, index: dict[str, pd.Index], freq: str,
                  period_span=None):
    sku = _codes(sales["sku"], index["sku"]).astype(np.int64)
    channel = _codes(sales["channel"], index["channel"]).astype(np.int64)
    region = _codes(sales["region"], index["region"]).astype(np.int64)
    n_channel, n_region = len(index["channel"]), len(index["region"])
    key = (sku * n_channel + channel) * n_region + region
    row_codes, keys = pd.factorize(key)
    order = np.argsort(keys, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    series = rank[row_codes]
    keys = keys[order]

    dates = sales["date"].to_numpy()
    date_codes, distinct = pd.factorize(dates)
    first, last = period_span if period_span is not None else (distinct.min(), distinct.max())
    periods = period_range(first, last, freq)
    period = periods.get_indexer(pd.DatetimeIndex(distinct))[date_codes]

    shape = (len(keys), len(periods))
    units = np.full(shape, np.nan)
    units[series, period] = sales["units"].to_numpy()
    first = np.argmax(~np.isnan(units), axis=1)
    units[(np.arange(shape[1]) >= first[:, None]) & np.isnan(units)] = 0.0
    price = np.full(shape, np.nan)
    price[series, period] = sales["price"].to_numpy()
    promo = np.zeros(shape, dtype=bool)
    promo[series, period] = sales["promo"].to_numpy()

    series_region = keys % n_region
    series_channel = (keys // n_region) % n_channel
    series_sku = keys // (n_region * n_channel)
    coords = {
        "series": np.arange(len(keys)),
        "series_sku": ("series", np.asarray(index["sku"])[series_sku].astype(str)),
        "series_channel": ("series", np.asarray(index["channel"])[series_channel].astype(str)),
        "series_region": ("series", np.asarray(index["region"])[series_region].astype(str)),
    }
    variables = {
        "sales": (("series", "period"), units),
        "sales_price": (("series", "period"), price),
        "promo": (("series", "period"), promo),
    }
    return coords, periods.to_numpy(), variables


# ---------------------------------------------------------------------------------------------
# dataset -> tables


def to_tables(ds: xr.Dataset) -> dict[str, pd.DataFrame]:
    """Turn the planning dataset back into contract tables, in canonical order.

    Entity tables keep the dimension order; ``fulfilment``, ``inventory`` and ``prices`` list
    their rows in dimension order; ``sales`` lists series by series, by date. A sales row is
    written where units are non-zero, at a series' first period, or where a promotion or price is
    recorded; inventory rows only where stock is non-zero; optional tables only when they have
    rows.

    Parameters
    ----------
    ds : xarray.Dataset
        A planning dataset.

    Returns
    -------
    dict of str to pandas.DataFrame
        Tables by contract name, columns in contract order.
    """
    tables: dict[str, pd.DataFrame] = {}
    for table, (dim, columns) in ENTITY_VARIABLES.items():
        frame = {}
        if table != "lanes":
            frame[dim] = _categorical(ds[dim].values)
        for column, variable in columns.items():
            values = ds[variable].values
            frame[column] = _categorical(values) if values.dtype.kind == "U" else values
        tables[table] = pd.DataFrame(frame)[list(TABLES[table].column_names)]

    channel, region, location = np.nonzero(ds["eligible"].values)
    tables["fulfilment"] = pd.DataFrame({
        "channel": _labels(ds["channel"].values, channel),
        "region": _labels(ds["region"].values, region),
        "location": _labels(ds["location"].values, location),
    })
    tables["sales"] = _sales_table(ds)

    on_hand = ds["on_hand"].values
    sku, loc = np.nonzero(on_hand != 0)
    tables["inventory"] = pd.DataFrame({
        "sku": _labels(ds["sku"].values, sku),
        "location": _labels(ds["location"].values, loc),
        "on_hand": on_hand[sku, loc],
    })

    for table, (dim, columns) in ROW_TABLES.items():
        if ds.sizes.get(dim, 0) == 0:
            continue
        frame = {}
        for column in columns:
            values = ds[_row_variable(dim, column)].values
            frame[column] = _categorical(values) if values.dtype.kind == "U" else values
        tables[table] = pd.DataFrame(frame)

    prices = ds["channel_price"].values
    sku, ch = np.nonzero(~np.isnan(prices))
    if len(sku):
        tables["prices"] = pd.DataFrame({
            "sku": _labels(ds["sku"].values, sku),
            "channel": _labels(ds["channel"].values, ch),
            "price": prices[sku, ch],
        })
    return {name: tables[name] for name in TABLES if name in tables}


def _categorical(values: np.ndarray) -> pd.Categorical:
    codes, uniques = pd.factorize(values)
    return pd.Categorical.from_codes(codes, pd.Index(uniques.astype(object), dtype=object))


def _labels(labels: np.ndarray, codes: np.ndarray) -> pd.Categorical:
    return pd.Categorical.from_codes(codes, pd.Index(labels.astype(object), dtype=object))


def _sales_table(ds: xr.Dataset) -> pd.DataFrame:
    units = ds["sales"].values
    price = ds["sales_price"].values
    promo = ds["promo"].values
    recorded = ~np.isnan(units)
    first = np.zeros(units.shape, dtype=bool)
    first[np.arange(units.shape[0]), np.argmax(recorded, axis=1)] = True
    with np.errstate(invalid="ignore"):
        written = recorded & ((units != 0) | first | promo | ~np.isnan(price))
    series, period = np.nonzero(written)
    codes = {
        dim: pd.Index(ds[dim].values).get_indexer(ds[f"series_{dim}"].values)
        for dim in ("sku", "channel", "region")
    }
    return pd.DataFrame({
        "date": ds["period"].values[period],
        "sku": _labels(ds["sku"].values, codes["sku"][series]),
        "channel": _labels(ds["channel"].values, codes["channel"][series]),
        "region": _labels(ds["region"].values, codes["region"][series]),
        "units": units[series, period],
        "price": price[series, period],
        "promo": promo[series, period],
    })
