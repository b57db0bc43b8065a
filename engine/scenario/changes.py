"""Apply a scenario's changes to the planning dataset.

Most changes edit the input before the forecast (`apply_changes`): promotions join the planned
promotions; a new channel, or a channel entering a new region, gets series that follow a like
channel or region at a share of its history; a closed location stops serving and receiving; lane,
capacity, service level, fulfilment and supply changes edit their tables. Demand multipliers act
on the forecast itself (`adjust_forecast`): mean times the multiplier in its window (partial
periods pro rata), the distribution rescaled with the same dispersion.

Every name a change uses (sku, category, channel, region, location) must exist in the base
network; an unknown one is an error naming the file, the line and the key.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import xarray as xr

from engine.inputs.dataset import lane_label
from engine.inputs.yamlfile import YamlFileError, YamlProblem
from engine.scenario.schema import Change, Scenario
from engine.stages.forecasting import follow_protection
from models.distributions import Family, family_codes
from models.forecast.intervals import StepDistribution

POST_FORECAST = ("demand",)


def apply_changes(ds: xr.Dataset, scenario: Scenario) -> tuple[xr.Dataset, list[str]]:
    """Apply every change that edits the input; returns the dataset and notes for the report.

    Raises
    ------
    engine.inputs.yamlfile.YamlFileError
        If a change names something the network does not have.
    """
    check_names(ds, scenario)
    notes: list[str] = []
    for change in scenario.changes:
        if change.kind in POST_FORECAST:
            continue
        ds = _APPLY[change.kind](ds, change.values, notes, horizon=scenario.config.horizon)
    unserved = unserved_series(ds)
    if len(unserved):
        notes.append(f"{len(unserved)} series have no eligible location after the changes and "
                     "go unserved, such as " + ", ".join(unserved[:3]))
    return _canonical_series(ds), notes


def check_names(ds: xr.Dataset, scenario: Scenario) -> None:
    """Check that every name the scenario's changes use exists in the base network ``ds``.

    Raises
    ------
    engine.inputs.yamlfile.YamlFileError
        Listing every unknown name with its file, line and key.
    """
    problems: list[YamlProblem] = []
    for change in scenario.changes:
        _check_names(ds, change, problems)
    if problems:
        raise YamlFileError(problems)


def unserved_series(ds: xr.Dataset) -> list[str]:
    """Series (sku|channel|region) that no location may serve."""
    channel = pd.Index(ds["channel"].values).get_indexer(ds["series_channel"].values)
    region = pd.Index(ds["region"].values).get_indexer(ds["series_region"].values)
    none = ~ds["eligible"].values.any(axis=2)[channel, region]
    return [f"{s}|{c}|{r}" for s, c, r in zip(ds["series_sku"].values[none],
                                               ds["series_channel"].values[none],
                                               ds["series_region"].values[none], strict=True)]


def adjust_forecast(ds: xr.Dataset, scenario: Scenario) -> xr.Dataset:
    """Apply the demand multipliers to the forecast of the matching series and periods."""
    factor = np.ones(ds["forecast_mean"].shape)
    for change in scenario.changes:
        if change.kind != "demand":
            continue
        values = change.values
        match = _series_match(ds, values.get("sku", "*"), values.get("channel", "*"),
                              values.get("region", "*"))
        share = _window_share(ds, values.get("start"), values.get("end"))
        factor[match] *= 1 + (values["multiplier"] - 1) * share[None, :]
    return scale_forecast(ds, factor)


def scale_forecast(ds: xr.Dataset, factor: np.ndarray) -> xr.Dataset:
    """Multiply forecast means by ``factor`` (series, step); variances follow each family
    (normal: times factor squared; Poisson: the new mean; negative binomial: the same
    overdispersion), quantiles are recomputed."""
    mean = ds["forecast_mean"].values
    variance = ds["forecast_variance"].values
    names = ds["forecast_distribution"].values
    family = family_codes(names)
    new_mean = mean * factor
    with np.errstate(divide="ignore", invalid="ignore"):
        phi = np.where(mean > 0, (variance - mean) / mean**2, 0.0)
    new_variance = np.select([family == Family.NORMAL, family == Family.POISSON],
                             [variance * factor**2, new_mean],
                             new_mean + np.maximum(phi, 0.0) * new_mean**2)
    distribution = StepDistribution(new_mean, new_variance, family, True)
    quantiles = distribution.quantiles(ds["quantile"].values)
    ds = ds.assign(forecast_mean=(("series", "step"), new_mean),
                   forecast_variance=(("series", "step"), new_variance),
                   forecast_quantile=(("series", "step", "quantile"), quantiles))
    # the protection intervals follow (scaled from the forecast before the change)
    before = ds.assign(forecast_mean=(("series", "step"), mean))
    return ds.assign(follow_protection(before, new_mean, default_ratio=factor.mean(axis=1)))


# -- names ----------------------------------------------------------------------------------------

_NAME_KEYS = {"channel": "channel", "like": "channel", "region": "region",
              "like_region": "region", "regions": "region", "location": "location",
              "locations": "location", "origin": "location", "destination": "location",
              "origin_region": "region", "destination_region": "region",
              "exclusive_of": "channel"}


def _check_names(ds: xr.Dataset, change: Change, problems: list[YamlProblem]) -> None:
    known = {dim: set(ds[dim].values.tolist()) for dim in ("channel", "region", "location")}
    values = change.values
    before = len(problems)
    new_channel = change.kind == "open_channel"
    for key, dim in _NAME_KEYS.items():
        if key not in values:
            continue
        if new_channel and key == "channel":
            if values[key] in known["channel"]:
                problems.append(change.problem(key, f"a new channel name, found the existing "
                                               f"channel {values[key]!r}"))
            continue
        names = values[key] if isinstance(values[key], list) else [values[key]]
        allowed_wildcard = change.kind in ("demand", "promotion", "service_level") and \
            key in ("channel", "region")
        for name in names:
            if allowed_wildcard and name == "*":
                continue
            if name not in known[dim]:
                problems.append(change.problem(key, f"a {dim} of the network "
                                               f"({', '.join(sorted(known[dim]))}), found "
                                               f"{name!r}"))
    if "sku" in values:
        pattern = values["sku"]
        categories = set(ds["category"].values.tolist())
        if pattern.startswith("category:"):
            if pattern[9:] not in categories:
                listed = ", ".join(sorted(categories))
                problems.append(change.problem("sku", f"a category ({listed}), found "
                                               f"{pattern[9:]!r}"))
        elif pattern != "*" and pattern not in set(ds["sku"].values.tolist()):
            problems.append(change.problem("sku", f"a sku of the network, category:NAME or *, "
                                           f"found {pattern!r}"))
    if change.kind == "fulfilment" and len(problems) == before:
        owner = dict(zip(ds["location"].values.tolist(), ds["location_channel"].values.tolist(),
                         strict=True))
        for location in values.get("locations", []):
            if owner.get(location) not in ("", values["channel"]):
                problems.append(change.problem("locations", f"a shared location or a pool of "
                                               f"{values['channel']}, found {location!r}, a "
                                               f"pool of {owner[location]!r}"))
    if change.kind == "open_channel" and "pool" in values:
        pool = values["pool"]
        if pool["location"] in known["location"]:
            problems.append(change.problem("pool", f"a new location name, found the existing "
                                           f"location {pool['location']!r}"))
        if pool["region"] not in known["region"]:
            problems.append(change.problem("pool", f"region: a region of the network, found "
                                           f"{pool['region']!r}"))


# -- helpers ---------------------------------------------------------------------------------------


def _series_match(ds: xr.Dataset, sku: str, channel: str, region: str) -> np.ndarray:
    series_sku = ds["series_sku"].values
    match = np.ones(ds.sizes["series"], dtype=bool)
    if sku.startswith("category:"):
        category = pd.Series(ds["category"].values, index=ds["sku"].values)
        match &= category.reindex(series_sku).to_numpy() == sku[9:]
    elif sku != "*":
        match &= series_sku == sku
    if channel != "*":
        match &= ds["series_channel"].values == channel
    if region != "*":
        match &= ds["series_region"].values == region
    return match


def _window_share(ds: xr.Dataset, start: dt.date | None, end: dt.date | None) -> np.ndarray:
    """Share of each forecast period's days inside [start, end] (all days when open)."""
    starts = pd.DatetimeIndex(ds["forecast_date"].values)
    ends = pd.date_range(starts[0], periods=len(starts) + 1, freq=ds.attrs["freq"])[1:]
    lo = np.datetime64(start) if start else starts[0].to_datetime64()
    hi = (np.datetime64(end) + np.timedelta64(1, "D")) if end else ends[-1].to_datetime64()
    day = np.timedelta64(1, "D")
    overlap = (np.minimum(ends.to_numpy(), hi) - np.maximum(starts.to_numpy(), lo)) / day
    return np.clip(overlap, 0, None) / ((ends - starts).to_numpy() / day)


def _extend(ds: xr.Dataset, dim: str, block: xr.Dataset) -> xr.Dataset:
    """Append ``block`` along ``dim`` to every variable having that dimension."""
    along = [name for name, var in ds.variables.items() if dim in var.dims and name != dim]
    grown = xr.concat([ds[along], block[along]], dim=dim, data_vars="all", coords="all",
                      join="outer", combine_attrs="override")
    return ds.drop_dims(dim).merge(grown).assign_attrs(ds.attrs)


def _canonical_series(ds: xr.Dataset) -> xr.Dataset:
    """Series ordered by sku, channel and region (their dimension order), renumbered."""
    keys = [pd.Index(ds[dim].values).get_indexer(ds[f"series_{dim}"].values)
            for dim in ("sku", "channel", "region")]
    order = np.lexsort(keys[::-1])
    ds = ds.isel(series=order)
    return ds.assign_coords(series=np.arange(ds.sizes["series"]))


def _new_series(ds: xr.Dataset, rows: np.ndarray, *, channel=None, region=None,
                share: float = 1.0) -> xr.Dataset:
    """Copies of the given series (history times ``share``) under another channel or region."""
    block = ds[["sales", "sales_price", "promo"]].isel(series=rows)
    sales = block["sales"].values * share
    observed = ds["sales"].values[~np.isnan(ds["sales"].values)]
    if np.all(observed == np.round(observed)):
        # whole units, rounding the running total so each series keeps its total
        running = np.round(np.cumsum(np.nan_to_num(sales), axis=1))
        whole = np.diff(np.concatenate([np.zeros((len(sales), 1)), running], axis=1), axis=1)
        sales = np.where(np.isnan(sales), np.nan, whole)
    block = block.assign(sales=(("series", "period"), sales))
    n = len(rows)
    coords = {
        "series": ds.sizes["series"] + np.arange(n),
        "series_sku": ("series", ds["series_sku"].values[rows]),
        "series_channel": ("series", np.full(n, channel) if channel
                           else ds["series_channel"].values[rows]),
        "series_region": ("series", np.full(n, region) if region
                          else ds["series_region"].values[rows]),
    }
    return block.assign_coords(coords)


def _merge_series(ds: xr.Dataset, block: xr.Dataset) -> xr.Dataset:
    """Add series; where a (sku, channel, region) exists already, add the histories."""
    key = pd.Index(list(zip(ds["series_sku"].values, ds["series_channel"].values,
                            ds["series_region"].values, strict=True)))
    new_keys = list(zip(block["series_sku"].values, block["series_channel"].values,
                        block["series_region"].values, strict=True))
    existing = key.get_indexer(new_keys)
    sales = ds["sales"].values.copy()
    for i in np.flatnonzero(existing >= 0):
        row = existing[i]
        sales[row] = np.where(np.isnan(sales[row]) & np.isnan(block["sales"].values[i]),
                              np.nan, np.nan_to_num(sales[row])
                              + np.nan_to_num(block["sales"].values[i]))
    ds = ds.assign(sales=(("series", "period"), sales))
    fresh = np.flatnonzero(existing < 0)
    if len(fresh):
        block = block.isel(series=fresh).assign_coords(
            series=ds.sizes["series"] + np.arange(len(fresh)))
        ds = _extend(ds, "series", block)
    return ds


# -- the changes -----------------------------------------------------------------------------------


def _promotion(ds: xr.Dataset, values: dict, notes: list[str], *,
                horizon: int) -> xr.Dataset:
    uplift = values.get("uplift")
    if uplift is None:
        uplift = (1 - values["price_cut"]) ** values["elasticity"]
        notes.append(f"promotion: a {values['price_cut']:.0%} price cut with elasticity "
                     f"{values['elasticity']:g} lifts demand x{uplift:.2f}")
    block = xr.Dataset({
        "promotion_sku": ("promotion", [values.get("sku", "*")]),
        "promotion_channel": ("promotion", [values.get("channel", "*")]),
        "promotion_region": ("promotion", [values.get("region", "*")]),
        "promotion_start": ("promotion", [np.datetime64(values["start"], "ns")]),
        "promotion_end": ("promotion", [np.datetime64(values["end"], "ns")]),
        "promotion_uplift": ("promotion", [float(uplift)]),
    })
    return _extend(ds, "promotion", block)


def _open_channel(ds: xr.Dataset, values: dict, notes: list[str], *,
                horizon: int) -> xr.Dataset:
    new, like = values["channel"], values["like"]
    regions = values["regions"]
    along = [n for n, v in ds.data_vars.items() if "channel" in v.dims]
    block = ds[along].sel(channel=[like]).assign_coords(channel=[new])
    if "kind" in values:
        block["channel_kind"] = ("channel", [values["kind"]])
    if "price_index" in values:
        block["price_index"] = ("channel", [values["price_index"]])
    eligible = block["eligible"].values.copy()
    owner = ds["location_channel"].values
    eligible[:, :, owner == like] = False                   # the like channel's own pools
    region_index = pd.Index(ds["region"].values)
    keep = np.zeros(ds.sizes["region"], dtype=bool)
    keep[region_index.get_indexer(regions)] = True
    eligible[:, ~keep, :] = False
    block["eligible"] = (("channel", "region", "location"), eligible)
    ds = _extend(ds, "channel", block)
    if "pool" in values:
        ds = _add_pool(ds, new, regions, values["pool"])
    rows = np.flatnonzero((ds["series_channel"].values == like)
                          & np.isin(ds["series_region"].values, regions))
    ds = _merge_series(ds, _new_series(ds, rows, channel=new, share=values["share"]))
    notes.append(f"open_channel: {new} like {like} at {values['share']:g} of its demand in "
                 f"{', '.join(regions)} ({len(rows)} series)")
    return ds


def _add_pool(ds: xr.Dataset, channel: str, regions: list[str], pool: dict) -> xr.Dataset:
    name = pool["location"]
    origin = pool.get("origin") or str(ds["location"].values[
        ds["location_kind"].values == "dc"][0])
    along = [n for n, v in ds.data_vars.items() if "location" in v.dims]
    block = ds[along].isel(location=[0]).assign_coords(location=[name])
    block["location_kind"] = ("location", ["pool"])
    block["location_region"] = ("location", [pool["region"]])
    block["location_channel"] = ("location", [channel])
    block["location_capacity"] = ("location", [np.inf])
    block["holding_rate"] = ("location", [float(ds["holding_rate"].values.max())])
    block["on_hand"] = (("sku", "location"), np.zeros((ds.sizes["sku"], 1)))
    eligible = np.zeros((ds.sizes["channel"], ds.sizes["region"], 1), dtype=bool)
    channel_at = int(np.flatnonzero(ds["channel"].values == channel)[0])
    region_index = pd.Index(ds["region"].values)
    eligible[channel_at, region_index.get_indexer(regions), 0] = True
    block["eligible"] = (("channel", "region", "location"), eligible)
    for var in along:
        if var not in ("location_kind", "location_region", "location_channel",
                       "location_capacity", "holding_rate", "on_hand", "eligible"):
            block[var] = xr.zeros_like(block[var])
    ds = _extend(ds, "location", block)
    lane = xr.Dataset({
        "lane_origin": ("lane", [origin]), "lane_destination": ("lane", [name]),
        "lead_time": ("lane", [int(pool["lead_time"])]), "lead_time_sd": ("lane", [0.0]),
        "cost_per_unit": ("lane", [float(pool.get("cost_per_unit", 0.0))]),
        "lane_capacity": ("lane", [np.inf]),
    }, coords={"lane": lane_label(np.array([origin]), np.array([name]))})
    return _extend(ds, "lane", lane)


def _expand_channel(ds: xr.Dataset, values: dict, notes: list[str], *,
                horizon: int) -> xr.Dataset:
    channel, regions = values["channel"], values["regions"]
    rows = np.flatnonzero((ds["series_channel"].values == channel)
                          & (ds["series_region"].values == values["like_region"]))
    eligible = ds["eligible"].values.copy()
    c = int(np.flatnonzero(ds["channel"].values == channel)[0])
    kind = ds["location_kind"].values
    location_region = ds["location_region"].values
    for region in regions:
        r = int(np.flatnonzero(ds["region"].values == region)[0])
        ds = _merge_series(ds, _new_series(ds, rows, region=region, share=values["share"]))
        if "locations" in values:
            chosen = np.isin(ds["location"].values, values["locations"])
        else:
            chosen = (kind == "rdc") & (location_region == region)
        eligible[c, r, chosen] = True
    ds = ds.assign(eligible=(("channel", "region", "location"), eligible))
    notes.append(f"expand_channel: {channel} into {', '.join(regions)} like "
                 f"{values['like_region']} at {values['share']:g} ({len(rows)} series each)")
    return ds


def _close_location(ds: xr.Dataset, values: dict, notes: list[str], *,
                horizon: int) -> xr.Dataset:
    name = values["location"]
    when = values.get("from")
    last = pd.Timestamp(ds["period"].values[-1])
    horizon_end = pd.date_range(last, periods=horizon + 2, freq=ds.attrs["freq"])[-1]
    if when is not None and pd.Timestamp(when) >= horizon_end:
        notes.append(f"close_location: {name} closes on {when}, after the planning horizon; "
                     "no effect tonight")
        return ds
    at = int(np.flatnonzero(ds["location"].values == name)[0])
    eligible = ds["eligible"].values.copy()
    eligible[:, :, at] = False
    inbound = ds["lane_destination"].values == name
    ds = ds.assign(eligible=(("channel", "region", "location"), eligible))
    ds = ds.isel(lane=np.flatnonzero(~inbound))
    notes.append(f"close_location: {name} closed: it serves no demand and receives nothing "
                 f"({int(inbound.sum())} inbound lanes removed)")
    return ds


def _location_capacity(ds: xr.Dataset, values: dict, notes: list[str], *,
                horizon: int) -> xr.Dataset:
    capacity = ds["location_capacity"].values.copy()
    at = ds["location"].values == values["location"]
    capacity[at] = values["capacity"] if "capacity" in values \
        else capacity[at] * values["multiplier"]
    return ds.assign(location_capacity=("location", capacity))


def _lane(ds: xr.Dataset, values: dict, notes: list[str], *,
                horizon: int) -> xr.Dataset:
    region_of = dict(zip(ds["location"].values, ds["location_region"].values, strict=True))
    origin = ds["lane_origin"].values
    destination = ds["lane_destination"].values
    match = np.ones(ds.sizes["lane"], dtype=bool)
    if "origin" in values:
        match &= origin == values["origin"]
    if "destination" in values:
        match &= destination == values["destination"]
    if "origin_region" in values:
        match &= np.isin([region_of[o] for o in origin], values["origin_region"])
    if "destination_region" in values:
        match &= np.isin([region_of[d] for d in destination], values["destination_region"])
    lead = ds["lead_time"].values.copy()
    if "lead_time" in values:
        lead[match] = values["lead_time"]
    if "lead_time_add" in values:
        lead[match] = np.maximum(lead[match] + values["lead_time_add"], 0)
    cost = ds["cost_per_unit"].values * np.where(match, values.get("cost_multiplier", 1.0), 1.0)
    capacity = ds["lane_capacity"].values.copy()
    if "capacity" in values:
        capacity[match] = values["capacity"]
    notes.append(f"lane: {int(match.sum())} lanes changed")
    return ds.assign(lead_time=("lane", lead), cost_per_unit=("lane", cost),
                     lane_capacity=("lane", capacity))


def _service_level(ds: xr.Dataset, values: dict, notes: list[str], *,
                horizon: int) -> xr.Dataset:
    level = ds["service_level"].values.copy()
    match = np.ones(len(level), dtype=bool) if values["channel"] == "*" \
        else ds["channel"].values == values["channel"]
    level[match] = values["level"]
    return ds.assign(service_level=("channel", level))


def _fulfilment(ds: xr.Dataset, values: dict, notes: list[str], *,
                horizon: int) -> xr.Dataset:
    channel, region = values["channel"], values["region"]
    c = int(np.flatnonzero(ds["channel"].values == channel)[0])
    r = int(np.flatnonzero(ds["region"].values == region)[0])
    eligible = ds["eligible"].values.copy()
    eligible[c, r, :] = np.isin(ds["location"].values, values["locations"])
    excluded = values.get("exclusive_of", [])
    for other in excluded:
        eligible[int(np.flatnonzero(ds["channel"].values == other)[0]), r, :] = False
    ds = ds.assign(eligible=(("channel", "region", "location"), eligible))
    if excluded:
        rows = np.flatnonzero(np.isin(ds["series_channel"].values, excluded)
                              & (ds["series_region"].values == region))
        if values.get("transfer_demand", True) and len(rows):
            ds = _merge_series(ds, _new_series(ds, rows, channel=channel))
        ds = ds.isel(series=np.setdiff1d(np.arange(ds.sizes["series"]), rows))
        fate = f"moved to {channel}" if values.get("transfer_demand", True) else "dropped"
        notes.append(f"fulfilment: {region} exclusive to {channel}; {len(rows)} series of "
                     f"{', '.join(excluded)} {fate}")
    return ds


def _supply(ds: xr.Dataset, values: dict, notes: list[str], *,
                horizon: int) -> xr.Dataset:
    if ds.sizes.get("receipt", 0) == 0:
        notes.append("supply: no scheduled supply to change")
        return ds
    sku = values.get("sku", "*")
    receipt_sku = ds["receipt_sku"].values
    if sku.startswith("category:"):
        category = pd.Series(ds["category"].values, index=ds["sku"].values)
        match = category.reindex(receipt_sku).to_numpy() == sku[9:]
    else:
        match = np.ones(len(receipt_sku), dtype=bool) if sku == "*" else receipt_sku == sku
    if "location" in values:
        match &= ds["receipt_location"].values == values["location"]
    dates = pd.DatetimeIndex(ds["receipt_date"].values)
    if values.get("delay_periods"):
        step = pd.tseries.frequencies.to_offset(ds.attrs["freq"])
        shifted = pd.DatetimeIndex([d + values["delay_periods"] * step for d in dates])
        dates = pd.DatetimeIndex(np.where(match, shifted, dates))
    quantity = ds["receipt_quantity"].values * np.where(match, 1 - values.get("cut", 0.0), 1.0)
    notes.append(f"supply: {int(match.sum())} receipts changed")
    return ds.assign(receipt_date=("receipt", dates.to_numpy()),
                     receipt_quantity=("receipt", quantity))


_APPLY = {
    "promotion": _promotion, "open_channel": _open_channel, "expand_channel": _expand_channel,
    "close_location": _close_location, "location_capacity": _location_capacity,
    "lane": _lane, "service_level": _service_level, "fulfilment": _fulfilment,
    "supply": _supply,
}
