"""A planner's summary of the planning dataset: the network, the history and the stock."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr

from engine.inputs.calendar import periods_per_year


@dataclass(frozen=True)
class NetworkSummary:
    """Headline figures and two tables of a planning dataset.

    Attributes
    ----------
    headline : dict of str to str
        Label to formatted value, in reading order.
    channels : pandas.DataFrame
        One row per channel: kind, regions traded, series, units in the last year, share of
        units, eligible locations.
    locations : pandas.DataFrame
        One row per location: kind, region, owner, units on hand, stock value, volume used as a
        share of capacity.
    """

    headline: dict[str, str]
    channels: pd.DataFrame
    locations: pd.DataFrame


def summarize(ds: xr.Dataset) -> NetworkSummary:
    """Summarise a planning dataset for a planner.

    Parameters
    ----------
    ds : xarray.Dataset
        The planning dataset.
    """
    freq = ds.attrs.get("freq", "")
    periods = ds["period"].values
    year = min(len(periods), round(periods_per_year(freq)))
    recent = np.nan_to_num(ds["sales"].values[:, -year:]).sum(axis=1)
    series_channel = ds["series_channel"].values
    channels = list(ds["channel"].values)
    units_by_channel = pd.Series(recent).groupby(series_channel).sum().reindex(channels,
                                                                               fill_value=0.0)
    series_by_channel = pd.Series(series_channel).value_counts().reindex(channels, fill_value=0)
    eligible = ds["eligible"].values
    regions = ds["region"].values
    traded = pd.DataFrame({"channel": series_channel, "region": ds["series_region"].values})
    regions_by_channel = traded.drop_duplicates().groupby("channel")["region"].count()
    channel_table = pd.DataFrame({
        "kind": ds["channel_kind"].values,
        "regions": regions_by_channel.reindex(channels, fill_value=0).to_numpy(),
        "series": series_by_channel.to_numpy(),
        "units_last_year": units_by_channel.to_numpy(),
        "share": units_by_channel.to_numpy() / max(units_by_channel.sum(), 1e-12),
        "locations": eligible.any(axis=1).sum(axis=1),
    }, index=pd.Index(channels, name="channel"))

    on_hand = ds["on_hand"].values
    volume = (on_hand * ds["unit_volume"].values[:, None]).sum(axis=0)
    capacity = ds["location_capacity"].values
    location_table = pd.DataFrame({
        "kind": ds["location_kind"].values,
        "region": ds["location_region"].values,
        "owner": ds["location_channel"].values,
        "on_hand": on_hand.sum(axis=0),
        "stock_value": (on_hand * ds["unit_cost"].values[:, None]).sum(axis=0),
        "capacity_used": np.where(np.isfinite(capacity) & (capacity > 0),
                                  volume / np.where(capacity > 0, capacity, 1), np.nan),
    }, index=pd.Index(ds["location"].values, name="location"))

    first = pd.Timestamp(periods[0]).date()
    last = pd.Timestamp(periods[-1]).date()
    kinds = pd.Series(ds["channel_kind"].values).value_counts()
    location_kinds = pd.Series(ds["location_kind"].values).value_counts()
    headline = {
        "SKUs": f"{ds.sizes['sku']:,} in {len(np.unique(ds['category'].values))} categories",
        "channels": f"{ds.sizes['channel']} (" + ", ".join(f"{n} {k}" for k, n in
                                                          kinds.items()) + ")",
        "regions": f"{len(regions)}: {', '.join(regions)}",
        "locations": f"{ds.sizes['location']} (" + ", ".join(f"{n} {k}" for k, n in
                                                            location_kinds.items()) + ")",
        "lanes": f"{ds.sizes['lane']}",
        "history": f"{len(periods)} periods ({freq}) from {first} to {last}",
        "series traded": f"{ds.sizes['series']:,} sku x channel x region",
        "units sold, last year": f"{recent.sum():,.0f}",
        "stock on hand": f"{on_hand.sum():,.0f} units worth "
                         f"{location_table['stock_value'].sum():,.0f}",
        "in transit": f"{ds['shipment_quantity'].values.sum():,.0f} units in "
                      f"{ds.sizes['shipment']:,} shipments",
        "scheduled supply": f"{ds['receipt_quantity'].values.sum():,.0f} units in "
                            f"{ds.sizes['receipt']:,} receipts",
        "planned promotions": f"{ds.sizes['promotion']}",
    }
    return NetworkSummary(headline, channel_table, location_table)


def forecast_summary(ds: xr.Dataset) -> pd.DataFrame:
    """One row per demand class: series, forecast units over the horizon, most common model."""
    classes = pd.Series(ds["demand_class"].values)
    units = pd.Series(ds["forecast_mean"].values.sum(axis=1))
    models = pd.Series(ds["forecast_model"].values)
    rows = []
    for name in ("smooth", "erratic", "intermittent", "lumpy", "new", "inactive"):
        mask = (classes == name).to_numpy()
        if not mask.any():
            continue
        top = models[mask].value_counts()
        rows.append({"demand_class": name, "series": int(mask.sum()),
                     "forecast_units": float(units[mask].sum()), "model": top.index[0],
                     "model_share": float(top.iloc[0] / mask.sum())})
    return pd.DataFrame(rows).set_index("demand_class")


def middle_out_summary(forecaster) -> str | None:
    """One line on the middle-out choice: parents split, and backtest RMSSE of each option."""
    if getattr(forecaster, "parent_", None) is None:
        return None
    choice = forecaster.middle_out_choice_
    rmsse = choice.rmsse
    return (f"middle-out: {int(choice.use.sum()):,} of {len(choice.use):,} sku x channel parents "
            f"split to regions; backtest RMSSE of their children: each region "
            f"{rmsse['direct']:.3f}, middle-out {rmsse['middle_out']:.3f}, chosen "
            f"{rmsse['chosen']:.3f}")


def targets_summary(ds: xr.Dataset) -> pd.DataFrame:
    """Per location: demand protected per period, safety stock, order-up-to, stock on hand and
    the mean replenishment lead time over its SKUs."""
    return pd.DataFrame({
        "kind": ds["location_kind"].values,
        "demand_per_period": ds["target_mean"].values.sum(axis=0),
        "safety_stock": ds["target_safety_stock"].values.clip(min=0).sum(axis=0),
        "order_up_to": ds["target_order_up_to"].values.sum(axis=0),
        "on_hand": ds["on_hand"].values.sum(axis=0),
        "lead_time": ds["target_lead_time"].values.mean(axis=0),
    }, index=pd.Index(ds["location"].values, name="location"))
