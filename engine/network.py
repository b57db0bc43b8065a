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
- **Buying locations and their supply terms**: a location without a replenishment lane (a DC,
  or a location no higher tier feeds) buys from suppliers. Its terms per SKU (`supply_terms`)
  come from the most specific row of the ``suppliers`` table (a SKU over ``category:NAME`` over
  ``*``); without a row, the configured supplier lead time and the SKU's pack size and MOQ.
- **Root of a location**: the buying location at the top of its chain of replenishment lanes
  (itself for a buyer); a purchase there covers the demand of every location it roots.
- **Kind of a lane's moves**: ``deploy`` from a DC, or from an RDC into a pool (forward to a
  channel); ``transfer`` between RDCs (or DCs); ``cross_channel`` out of a pool (to another
  channel's pool or back to shared stock).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr

from engine.inputs.contract import LOCATION_TIERS as TIER


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


def secondary_location(ds: xr.Dataset) -> np.ndarray:
    """The location next in each series' preference after its primary (the same order as
    `primary_location`), where its demand the primary cannot meet is served; -1 if none."""
    _, channel, region = series_index(ds)
    kind = ds["location_kind"].values
    owner = ds["location_channel"].values
    location_region = ds["location_region"].values
    own_pool = (kind[None, :] == "pool") & (owner[None, :] == ds["channel"].values[:, None])
    local_rdc = (kind[None, :] == "rdc") \
        & (location_region[None, :] == ds["region"].values[:, None])
    score = np.full((len(own_pool), len(local_rdc), len(kind)), 4 * len(kind), dtype=np.int64)
    score = np.where((kind == "dc")[None, None, :], 3 * len(kind), score)
    score = np.where((kind == "rdc")[None, None, :], 2 * len(kind), score)
    score = np.where(local_rdc[None, :, :], len(kind), score)
    score = np.where(own_pool[:, None, :], 0, score)
    score = score + np.arange(len(kind))             # ties: the location order, as simulated
    score = np.where(ds["eligible"].values, score, -1)[channel, region]
    primary = primary_location(ds)
    rows = np.flatnonzero(primary >= 0)
    score[rows, primary[rows]] = -1
    score = np.where(score < 0, np.iinfo(np.int64).max, score)
    second = np.argmin(score, axis=1)
    return np.where(score[np.arange(len(second)), second] < np.iinfo(np.int64).max, second, -1)


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


def lead_periods(days: float, freq: str) -> float:
    """A lead time in days as whole periods, rounded up: a delivery is used from the start of
    the first period it is there for (28 days is 4 weeks, or 1 month, not 0.92)."""
    return float(np.ceil(days / days_per_period(freq) - 1e-9))


def replenishment_lead_times(ds: xr.Dataset, *, supplier_lead_time_days: float,
                             supplier_lead_time_sd_days: float) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard deviation of every location's replenishment lead time, periods: its
    replenishment lane's, or the supplier's (given in days) for a location without one."""
    lane = replenishment_lane(ds)
    period_days = days_per_period(ds.attrs["freq"])
    lead = np.where(lane >= 0, _lane_values(ds, "lead_time", lane),
                    lead_periods(supplier_lead_time_days, ds.attrs["freq"])).astype(float)
    sd = np.where(lane >= 0, _lane_values(ds, "lead_time_sd", lane),
                  supplier_lead_time_sd_days / period_days).astype(float)
    return lead, sd


def _lane_values(ds: xr.Dataset, variable: str, lane: np.ndarray) -> np.ndarray:
    """A lane variable at each position of ``lane`` (0 where -1, also with no lanes at all)."""
    values = ds[variable].values.astype(float)
    if not len(values):
        return np.zeros(len(lane))
    return np.where(lane >= 0, values[np.maximum(lane, 0)], 0.0)


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


def _parent(ds: xr.Dataset) -> np.ndarray:
    """Each location's replenishment source (the origin of its replenishment lane), -1 for
    none."""
    lane = replenishment_lane(ds)
    origin = index_of(ds, "location", ds["lane_origin"].values)
    return np.where(lane >= 0, origin[np.maximum(lane, 0)] if len(origin) else -1, -1)


def root_location(ds: xr.Dataset) -> np.ndarray:
    """The buying location at the top of each location's chain of replenishment lanes."""
    parent = _parent(ds)
    root = np.arange(len(parent))
    for _ in range(len(parent)):          # tiers strictly rise along replenishment lanes
        up = parent[root]
        if (up < 0).all():
            break
        root = np.where(up >= 0, up, root)
    return root


def feeds(ds: xr.Dataset) -> np.ndarray:
    """``out[a, b]``: location a is on location b's chain of replenishment lanes (a feeds b,
    directly or through other locations; every location feeds itself). Shape (location,
    location)."""
    parent = _parent(ds)
    n = len(parent)
    out = np.eye(n, dtype=bool)
    at = np.arange(n)
    for _ in range(n):                  # tiers strictly rise along replenishment lanes
        at = np.where(at >= 0, parent[np.maximum(at, 0)], -1)
        if (at < 0).all():
            break
        below = np.flatnonzero(at >= 0)
        out[at[below], below] = True
    return out


@dataclass(frozen=True)
class SupplyTerms:
    """Supply terms of every (sku, location); meaningful where ``buys``.

    Attributes
    ----------
    buys : numpy.ndarray of bool, shape (sku, location)
        The location buys the SKU from a supplier (it has no replenishment lane).
    supplier : numpy.ndarray of str
        Supplier name (``"supplier"`` by default).
    lead_time, lead_time_sd : numpy.ndarray of float
        Periods from ordering to receipt, and its standard deviation.
    moq, pack_size : numpy.ndarray of float
        Minimum order quantity and units per case of a purchase.
    unit_cost : numpy.ndarray of float
        Purchase cost of one unit.
    max_units : numpy.ndarray of float
        Largest purchase per period (inf: unlimited).
    """

    buys: np.ndarray
    supplier: np.ndarray
    lead_time: np.ndarray
    lead_time_sd: np.ndarray
    moq: np.ndarray
    pack_size: np.ndarray
    unit_cost: np.ndarray
    max_units: np.ndarray


def supply_terms(ds: xr.Dataset, *, supplier_lead_time_days: float = SUPPLIER_LEAD_TIME_DAYS,
                 supplier_lead_time_sd_days: float = SUPPLIER_LEAD_TIME_SD_DAYS) -> SupplyTerms:
    """Supply terms of every (sku, location) (module docstring: buying locations).

    Rows of the ``suppliers`` table (``term_*`` variables) apply from the least to the most
    specific (``*``, then ``category:NAME``, then a SKU), so the most specific one wins.
    """
    n_sku, n_loc = ds.sizes["sku"], ds.sizes["location"]
    shape = (n_sku, n_loc)
    period_days = days_per_period(ds.attrs["freq"])
    buys = np.broadcast_to(replenishment_lane(ds)[None, :] < 0, shape).copy()
    terms = {
        "supplier": np.full(shape, "supplier", dtype=object),
        "lead_time": np.full(shape, lead_periods(supplier_lead_time_days, ds.attrs["freq"])),
        "lead_time_sd": np.full(shape, supplier_lead_time_sd_days / period_days),
        "moq": np.broadcast_to(ds["moq"].values[:, None].astype(float), shape).copy(),
        "pack_size": np.broadcast_to(ds["pack_size"].values[:, None].astype(float),
                                     shape).copy(),
        "unit_cost": np.broadcast_to(ds["unit_cost"].values[:, None].astype(float),
                                     shape).copy(),
        "max_units": np.full(shape, np.inf),
    }
    if ds.sizes.get("term", 0):
        selector = ds["term_sku"].values.astype(str)
        rank = np.where(selector == "*", 0, np.where(np.char.startswith(selector, "category:"),
                                                     1, 2))
        category = ds["category"].values.astype(str)
        skus = ds["sku"].values.astype(str)
        location = index_of(ds, "location", ds["term_location"].values)
        columns = {"supplier": "term_supplier", "lead_time": "term_lead_time",
                   "lead_time_sd": "term_lead_time_sd", "moq": "term_moq",
                   "pack_size": "term_pack_size", "unit_cost": "term_unit_cost",
                   "max_units": "term_max_units_per_period"}
        for row in np.argsort(rank, kind="stable"):
            if location[row] < 0:                 # a location a scenario removed
                continue
            if rank[row] == 0:
                rows = np.ones(n_sku, dtype=bool)
            elif rank[row] == 1:
                rows = category == selector[row][len("category:"):]
            else:
                rows = skus == selector[row]
            for name, variable in columns.items():
                value = ds[variable].values[row]
                if name == "unit_cost" and not np.isfinite(value):
                    continue                      # empty: the SKU's unit cost
                terms[name][rows, location[row]] = value
    return SupplyTerms(buys=buys, **terms)


def pair_lead_times(ds: xr.Dataset, terms: SupplyTerms) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard deviation of the replenishment lead time of every (sku, location),
    periods: its replenishment lane's, or its supplier's where it buys."""
    lane = replenishment_lane(ds)
    lead = np.where(terms.buys, terms.lead_time, _lane_values(ds, "lead_time", lane)[None, :])
    sd = np.where(terms.buys, terms.lead_time_sd,
                  _lane_values(ds, "lead_time_sd", lane)[None, :])
    return lead.astype(float), sd.astype(float)
