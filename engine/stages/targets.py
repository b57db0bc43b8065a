"""The targets stage: service-level stock targets per sku x location from the forecast.

For every location, the demand it protects is the forecast of the streams it is the primary
location of (`engine.network`); a DC protects the whole demand of the SKU (the echelon view: it
feeds every location downstream, so its stock must cover the aggregate downstream demand over
its own replenishment lead time). Per (sku, location):

- per-period mean and variance: the sums over its streams (independent streams) of the forecast
  mean and variance, averaged over the first ``ceil(L + R)`` forecast steps (the protection
  interval), so festivals and promotions inside it raise the target;
- lead time ``L`` and its standard deviation: the location's replenishment lane (for a DC the
  configured supplier lead time); review period ``R``: the smallest review period of the
  channels it serves (1 for DCs);
- service level: the demand-weighted mean of the service levels of the channels it serves;
- `models.policy.stock_targets` then gives safety stock, reorder point s and order-up-to S
  (periodic review (s, S): order up to S when the inventory position is at or below s), with
  the SKU's pack size everywhere and its MOQ at DCs (the MOQ binds orders to suppliers; moves
  between locations only keep whole packs).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr

from engine.network import primary_location, replenishment_lane, series_index
from engine.outputs import TARGETS
from models.policy import stock_targets

POLICY = "s,S"


@dataclass(frozen=True)
class TargetConfig:
    """Settings of the targets stage.

    Attributes
    ----------
    service : {"cycle", "fill_rate"}
        Service measure the channels' service levels mean.
    supplier_lead_time_days, supplier_lead_time_sd_days : float
        Replenishment lead time of the DCs from suppliers and its standard deviation, days
        (converted to periods).
    default_service_level : float
        For pairs that serve no channel demand.
    """

    service: str = "cycle"
    supplier_lead_time_days: float = 28.0
    supplier_lead_time_sd_days: float = 7.0
    default_service_level: float = 0.95


def _days_per_period(freq: str) -> float:
    return 1.0 if freq == "D" else (365.25 / 12 if freq == "MS" else 7.0)


def add_targets(ds: xr.Dataset, config: TargetConfig = TargetConfig()) -> xr.Dataset:
    """Compute stock targets for every sku x location and add them to the dataset.

    Adds on (``sku``, ``location``): ``target_safety_stock``, ``target_reorder_point``,
    ``target_order_up_to``, ``target_service_level``, ``target_mean`` (per-period demand
    protected), and on ``location``: ``target_lead_time``, ``target_review_period``.

    Parameters
    ----------
    ds : xarray.Dataset
        The planning dataset with the forecast (`engine.stages.forecasting.add_forecast`).
    config : TargetConfig
    """
    n_sku, n_loc = ds.sizes["sku"], ds.sizes["location"]
    horizon = ds.sizes["step"]
    sku, channel, _ = series_index(ds)
    location = primary_location(ds)
    kind = ds["location_kind"].values
    dc = kind == "dc"
    mean = ds["forecast_mean"].values
    variance = ds["forecast_variance"].values

    # per-step demand of every (sku, location), and the demand-weighted service level
    pair_mean = np.zeros((n_sku, n_loc, horizon))
    pair_var = np.zeros((n_sku, n_loc, horizon))
    served = location >= 0
    np.add.at(pair_mean, (sku[served], location[served]), mean[served])
    np.add.at(pair_var, (sku[served], location[served]), variance[served])
    weight = mean.sum(axis=1)
    level = ds["service_level"].values[channel]
    level_sum = np.zeros((n_sku, n_loc))
    weight_sum = np.zeros((n_sku, n_loc))
    np.add.at(level_sum, (sku[served], location[served]), (weight * level)[served])
    np.add.at(weight_sum, (sku[served], location[served]), weight[served])
    # echelon view: every DC protects the whole demand of the SKU
    total_mean = np.zeros((n_sku, horizon))
    total_var = np.zeros((n_sku, horizon))
    np.add.at(total_mean, sku, mean)
    np.add.at(total_var, sku, variance)
    sku_level = np.bincount(sku, weights=weight * level, minlength=n_sku)
    sku_weight = np.bincount(sku, weights=weight, minlength=n_sku)
    pair_mean[:, dc] = total_mean[:, None, :]
    pair_var[:, dc] = total_var[:, None, :]
    level_sum[:, dc] = sku_level[:, None]
    weight_sum[:, dc] = sku_weight[:, None]
    service_level = np.where(weight_sum > 0, level_sum / np.where(weight_sum > 0, weight_sum, 1),
                             config.default_service_level)

    lead, lead_sd = _lead_times(ds, config)
    review = _review_periods(ds, location, channel)
    steps = np.clip(np.ceil(lead + review).astype(int), 1, horizon)
    covered = np.arange(horizon)[None, :] < steps[:, None]                  # (location, step)
    per_period_mean = (pair_mean * covered[None]).sum(axis=2) / steps[None, :]
    per_period_var = (pair_var * covered[None]).sum(axis=2) / steps[None, :]

    pack = ds["pack_size"].values[:, None]
    # the minimum order quantity binds orders to suppliers, placed by DCs; internal moves
    # between locations only keep whole packs
    moq = np.where(dc[None, :], ds["moq"].values[:, None], 0)
    result = stock_targets(per_period_mean, per_period_var, lead_time=lead[None, :],
                           lead_time_sd=lead_sd[None, :], review_period=review[None, :],
                           service_level=np.clip(service_level, 1e-6, 1 - 1e-6),
                           service=config.service, pack_size=pack, moq=moq)
    dims = ("sku", "location")
    return ds.assign({
        "target_safety_stock": (dims, np.asarray(result.safety_stock, dtype=float)),
        "target_reorder_point": (dims, np.asarray(result.reorder_point, dtype=float)),
        "target_order_up_to": (dims, np.asarray(result.order_up_to, dtype=float)),
        "target_service_level": (dims, service_level),
        "target_mean": (dims, per_period_mean),
        "target_lead_time": ("location", lead),
        "target_review_period": ("location", review),
    })


def _lead_times(ds: xr.Dataset, config: TargetConfig) -> tuple[np.ndarray, np.ndarray]:
    """Replenishment lead time mean and standard deviation of every location, periods."""
    lane = replenishment_lane(ds)
    period_days = _days_per_period(ds.attrs["freq"])
    lead = np.where(lane >= 0, ds["lead_time"].values[np.maximum(lane, 0)],
                    config.supplier_lead_time_days / period_days).astype(float)
    sd = np.where(lane >= 0, ds["lead_time_sd"].values[np.maximum(lane, 0)],
                  config.supplier_lead_time_sd_days / period_days).astype(float)
    return lead, sd


def _review_periods(ds: xr.Dataset, location: np.ndarray, channel: np.ndarray) -> np.ndarray:
    """Smallest review period of the channels a location serves (1 when none, and for DCs)."""
    review = np.full(ds.sizes["location"], np.inf)
    served = location >= 0
    np.minimum.at(review, location[served], ds["review_period"].values[channel[served]])
    review[~np.isfinite(review)] = 1.0
    review[ds["location_kind"].values == "dc"] = 1.0
    return review


def targets_table(ds: xr.Dataset) -> pd.DataFrame:
    """Rows of ``targets.parquet`` (`engine.outputs.TARGETS`): every sku x location with demand
    to protect or a target.

    Columns: sku, location, safety_stock, reorder_point, order_up_to, service_level, policy.
    """
    keep = (ds["target_mean"].values > 0) | (ds["target_order_up_to"].values > 0)
    sku, location = np.nonzero(keep)
    return TARGETS.conform(pd.DataFrame({
        "sku": ds["sku"].values[sku],
        "location": ds["location"].values[location],
        "safety_stock": ds["target_safety_stock"].values[sku, location],
        "reorder_point": ds["target_reorder_point"].values[sku, location],
        "order_up_to": ds["target_order_up_to"].values[sku, location],
        "service_level": ds["target_service_level"].values[sku, location],
        "policy": POLICY,
    }))
