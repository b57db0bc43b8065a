"""The network's structure as arrays: who serves which demand stream, how locations are fed, and
what kind of move each lane makes.

Rules (documented here once, used by the targets, the deployment LP and the simulation):

- **Primary location of a stream** (sku, channel, region): among the locations the fulfilment
  rules allow, the channel's own pool first, then a regional warehouse (RDC) in the stream's
  region, then an RDC elsewhere, then a DC; ties go to the earlier location. Stock targets
  assign each stream's demand to its primary location.
- **Replenishment lane of a location**: the inbound lane with the shortest lead time from a
  location of a higher tier (a DC feeds RDCs and pools, an RDC feeds pools); DCs are fed by
  suppliers (no lane).
- **Kind of a lane's moves**: ``deploy`` from a DC, or from an RDC into a pool (forward to a
  channel); ``transfer`` between RDCs (or DCs); ``cross_channel`` out of a pool (to another
  channel's pool or back to shared stock).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

TIER = {"dc": 0, "rdc": 1, "pool": 2}


def index_of(ds: xr.Dataset, dim: str, labels: np.ndarray) -> np.ndarray:
    """Positions of ``labels`` on the dimension ``dim``."""
    return pd.Index(ds[dim].values).get_indexer(labels)


def series_index(ds: xr.Dataset) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sku, channel and region position of every series."""
    return (index_of(ds, "sku", ds["series_sku"].values),
            index_of(ds, "channel", ds["series_channel"].values),
            index_of(ds, "region", ds["series_region"].values))


def primary_location(ds: xr.Dataset) -> np.ndarray:
    """Location position serving each series (see the module docstring); -1 if none."""
    _, channel, region = series_index(ds)
    kind = ds["location_kind"].values
    owner = ds["location_channel"].values
    location_region = ds["location_region"].values
    channels = ds["channel"].values
    regions = ds["region"].values
    # preference score of location l for (channel c, region r): lower is better
    own_pool = (kind[None, :] == "pool") & (owner[None, :] == channels[:, None])      # (c, l)
    local_rdc = (kind[None, :] == "rdc") & (location_region[None, :] == regions[:, None])  # (r, l)
    score = np.full((len(channels), len(regions), len(kind)), 4, dtype=np.int64)
    score = np.where((kind == "dc")[None, None, :], 3, score)
    score = np.where((kind == "rdc")[None, None, :], 2, score)
    score = np.where(local_rdc[None, :, :], 1, score)
    score = np.where(own_pool[:, None, :], 0, score)
    score = np.where(ds["eligible"].values, score, 99)
    best = np.argmin(score, axis=2)
    best = np.where(np.min(score, axis=2) < 99, best, -1)
    return best[channel, region]


def replenishment_lane(ds: xr.Dataset) -> np.ndarray:
    """Inbound replenishment lane position of every location (-1 for DCs and unfed ones)."""
    kind = ds["location_kind"].values
    tier = np.array([TIER[k] for k in kind])
    origin = index_of(ds, "location", ds["lane_origin"].values)
    destination = index_of(ds, "location", ds["lane_destination"].values)
    lead = ds["lead_time"].values.astype(float)
    feeding = tier[origin] < tier[destination]
    out = np.full(len(kind), -1)
    for lane in np.argsort(lead, kind="stable")[::-1]:
        if feeding[lane]:
            out[destination[lane]] = lane
    out[tier == TIER["dc"]] = -1
    return out


def lane_kinds(ds: xr.Dataset) -> np.ndarray:
    """``deploy``, ``transfer`` or ``cross_channel`` for every lane."""
    kind = ds["location_kind"].values
    origin = index_of(ds, "location", ds["lane_origin"].values)
    destination = index_of(ds, "location", ds["lane_destination"].values)
    from_kind, to_kind = kind[origin], kind[destination]
    return np.where(from_kind == "dc", "deploy",
                    np.where(from_kind == "pool", "cross_channel",
                             np.where(to_kind == "pool", "deploy", "transfer")))


def location_priority(ds: xr.Dataset) -> np.ndarray:
    """Highest priority of the channels the fulfilment rules let each location serve; DCs
    (which feed everyone) and locations serving no channel get the highest priority of all."""
    priority = ds["priority"].values.astype(float)
    serves = ds["eligible"].values.any(axis=1)                          # (channel, location)
    best = np.where(serves, priority[:, None], 0.0).max(axis=0)
    feeds_all = (ds["location_kind"].values == "dc") | ~serves.any(axis=0)
    best[feeds_all] = priority.max()
    return best


SUPPLIER_LEAD_TIME_DAYS = 28.0
"""Default replenishment lead time of a location without an inbound lane (a DC, from its
suppliers), days."""
SUPPLIER_LEAD_TIME_SD_DAYS = 7.0
"""Default standard deviation of that lead time, days."""


def days_per_period(freq: str) -> float:
    """Days in a period of the frequency (a month counts 365.25 / 12 days)."""
    return 1.0 if freq == "D" else (365.25 / 12 if freq == "MS" else 7.0)


def replenishment_lead_times(ds: xr.Dataset, *, supplier_lead_time_days: float,
                             supplier_lead_time_sd_days: float) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard deviation of every location's replenishment lead time, periods: its
    replenishment lane's, or the supplier's (given in days) for a location without one."""
    lane = replenishment_lane(ds)
    period_days = days_per_period(ds.attrs["freq"])
    lead = np.where(lane >= 0, ds["lead_time"].values[np.maximum(lane, 0)],
                    supplier_lead_time_days / period_days).astype(float)
    sd = np.where(lane >= 0, ds["lead_time_sd"].values[np.maximum(lane, 0)],
                  supplier_lead_time_sd_days / period_days).astype(float)
    return lead, sd


def location_review_periods(ds: xr.Dataset) -> np.ndarray:
    """Review period of every location, periods: the smallest of the channels whose streams it
    is the primary location of (1 when none, and for DCs)."""
    _, channel, _ = series_index(ds)
    location = primary_location(ds)
    review = np.full(ds.sizes["location"], np.inf)
    served = location >= 0
    np.minimum.at(review, location[served], ds["review_period"].values[channel[served]])
    review[~np.isfinite(review)] = 1.0
    review[ds["location_kind"].values == "dc"] = 1.0
    return review
