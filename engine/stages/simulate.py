"""The simulate stage: the network under tonight's plan and the targets, sampled many times.

The planning dataset becomes `engine.simulation.NetworkArrays`:

- **network**: every location is replenished by the origin of its replenishment lane
  (`engine.network`); a buying location (a DC) by its supplier, which ships at most its
  ``max_units_per_period`` (`engine.network.supply_terms`) per order. A lane's lead time is its mean
  and standard deviation rounded to whole periods (a discretised normal, floored at zero); the
  supplier's from the configuration;
- **policies**: (s, S) at every location from the targets stage, reviewed every R periods, R
  the review period the targets were sized for (a location's smallest channel review period;
  1 for DCs);
- **start**: stock on hand after tonight's moves leave their origins; the moves arrive after
  their lane's mean lead time, shipments in transit on their arrival date, scheduled supply at
  the DC on its date, tonight's purchase orders after their supplier lead time;
- **streams**: every series, served first from the locations where tonight's plan ring-fenced
  stock for it (the largest allocation first), then from its other eligible locations in the
  preference order of `engine.network` (its primary location first); its channel decides
  whether unmet demand waits (backorders, costing 10% of the margin per week waited) or is
  lost (costing the margin): `engine.economics`, the penalties the plan was made with; demand
  per period is drawn from the forecast distribution of each step (negative binomial, Poisson
  or normal), made to agree with the distribution the targets were set on: over each series'
  protection interval its variance is the calibrated one (`demand_parameters`: per-step
  variances scaled down, or a level error shared by the periods of a sample when the
  calibrated sums are wider than independent periods);
- **rationing** at a short source: by the priority of the channels a location serves, or fair
  share (configuration ``rationing``).

The result is kept as KPI variables on the dataset and written to ``kpis.parquet`` per sku x
channel x region (streams), per sku x location, and rolled up by channel, by region, by channel x
region and in total, each with its mean and its 10th and 90th percentile across samples.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr
from scipy import stats

from engine.economics import shortage_costs
from engine.inputs.calendar import periods_per_year
from engine.network import (
    SUPPLIER_LEAD_TIME_DAYS,
    SUPPLIER_LEAD_TIME_SD_DAYS,
    index_of,
    location_priority,
    pair_lead_times,
    replenishment_lane,
    series_index,
    supply_terms,
)
from engine.outputs import KPIS
from engine.simulation import NetworkArrays, simulate_network
from engine.simulation.network import DEFAULT_EXECUTION, Execution
from engine.stages.targets import interval_sum
from models.distributions import Family, family_codes

QUANTILES = (0.1, 0.9)
SPREAD_KPIS = ("fill_rate", "cycle_service_level", "lost_sales")
"""Stream KPIs written with their spread across samples (``_q10``, ``_q90``)."""
STREAM_COLUMNS = ("demand", *(f"{kpi}{statistic}" for kpi in SPREAD_KPIS
                              for statistic in ("", "_q10", "_q90")),
                  "backorders", "shortage_cost")
"""Columns of the stream rows of ``kpis.parquet``, each the dataset variable ``kpi_NAME``."""


@dataclass(frozen=True)
class SimulationConfig:
    """Settings of the simulate stage.

    Attributes
    ----------
    samples : int
        Monte Carlo sample paths per SKU.
    seed : int
        Seed of every SKU's randomness (`engine.simulation.network`, *Seeding*).
    rationing : {"priority", "fair_share"}
        How a short source splits its stock.
    supplier_lead_time_days, supplier_lead_time_sd_days : float
        Mean and standard deviation of a DC's replenishment lead time from its suppliers, days.
    execution : {"serial", "prange", "threads"}
        How `engine.simulation.simulate_network` spreads the SKUs over the cores; results are
        identical either way. Not a run setting: the nightly run takes it from where its
        partition work runs (``executor.simulation_execution``: "serial" on Dask workers, which
        already run one task per core).
    """

    samples: int = 200
    seed: int = 0
    rationing: str = "priority"
    supplier_lead_time_days: float = SUPPLIER_LEAD_TIME_DAYS
    supplier_lead_time_sd_days: float = SUPPLIER_LEAD_TIME_SD_DAYS
    execution: Execution = DEFAULT_EXECUTION


def sku_keys(skus: np.ndarray) -> np.ndarray:
    """A stable 62-bit integer per SKU id (the seed key of its randomness)."""
    return np.array([int.from_bytes(hashlib.sha256(str(s).encode()).digest()[:8], "little")
                     >> 2 for s in skus], dtype=np.int64)


def network_arrays(ds: xr.Dataset, config: SimulationConfig) -> NetworkArrays:
    """Pack the planning dataset (after targets and plan) into the simulator's arrays."""
    n_sku, n_loc = ds.sizes["sku"], ds.sizes["location"]
    horizon = ds.sizes["step"]
    lane = replenishment_lane(ds)
    origin = index_of(ds, "location", ds["lane_origin"].values)
    source = np.where(lane >= 0, origin[np.maximum(lane, 0)] if len(origin) else -1, -1)
    terms = supply_terms(ds, supplier_lead_time_days=config.supplier_lead_time_days,
                         supplier_lead_time_sd_days=config.supplier_lead_time_sd_days)
    pair_lead, pair_sd = pair_lead_times(ds, terms)
    # one inbound lead-time distribution per location: a buying location's is the median of
    # its SKUs' supply terms (per-SKU supplier lead times are a limit of the kernel)
    mean_lead = np.median(pair_lead, axis=0) if n_sku else pair_lead.sum(axis=0)
    sd_lead = np.median(pair_sd, axis=0) if n_sku else pair_sd.sum(axis=0)
    pmf = lead_time_pmf(mean_lead, sd_lead)

    sku, channel, region = series_index(ds)
    order = np.argsort(sku, kind="stable")
    assert (order == np.arange(len(sku))).all(), "series are ordered by sku"
    counts = np.bincount(sku, minlength=n_sku)
    stream_locations, stream_ptr = preference_lists(ds, channel, region, allocated_units(ds))
    unit_cost = ds["unit_cost"].values
    backorders = ds["backorders"].values[channel]

    on_hand = ds["on_hand"].values.astype(float).copy()
    arrivals = np.zeros((n_sku, n_loc, horizon + 1))
    receipts = np.zeros((n_sku, n_loc, horizon + 1))
    _add_scheduled(ds, arrivals, horizon, "shipment", "destination", "arrival")
    _add_scheduled(ds, receipts, horizon, "receipt", "location", "date")
    if "move_quantity" in ds and ds.sizes.get("move", 0):
        move_sku = index_of(ds, "sku", ds["move_sku"].values)
        move_origin = index_of(ds, "location", ds["move_origin"].values)
        move_destination = index_of(ds, "location", ds["move_destination"].values)
        move_lane = index_of(ds, "lane", ds["move_lane"].values)
        quantity = ds["move_quantity"].values
        np.add.at(on_hand, (move_sku, move_origin), -quantity)
        arrive = np.clip(np.round(ds["lead_time"].values[move_lane]).astype(int), 0, horizon)
        np.add.at(arrivals, (move_sku, move_destination, arrive), quantity)
    if ds.sizes.get("purchase", 0):          # tonight's purchase orders, on their lead time
        buyer = index_of(ds, "location", ds["purchase_location"].values)
        due = np.clip(np.round(ds["purchase_lead_time"].values).astype(int), 0, horizon)
        np.add.at(receipts, (index_of(ds, "sku", ds["purchase_sku"].values), buyer, due),
                  ds["purchase_quantity"].values)
    on_hand = np.maximum(on_hand, 0.0)

    holding = unit_cost[:, None] * ds["holding_rate"].values[None, :] \
        / periods_per_year(ds.attrs["freq"])
    reorder = ds["target_reorder_point"].values.astype(float)
    up_to = np.maximum(ds["target_order_up_to"].values.astype(float), reorder)
    return NetworkArrays(
        source=source, lead_time_pmf=pmf, location_priority=location_priority(ds),
        sku_key=sku_keys(ds["sku"].values), reorder_point=reorder, order_up_to=up_to,
        holding_cost=holding, on_hand=on_hand, arrivals=arrivals, receipts=receipts,
        sku_stream_ptr=np.concatenate([[0], np.cumsum(counts)]),
        stream_ptr=stream_ptr, stream_locations=stream_locations,
        backorders=backorders,
        shortage_cost=shortage_costs(ds),
        stream_priority=ds["priority"].values[channel].astype(float),
        review_period=review_periods(ds),
        supply_limit=np.where(terms.buys, terms.max_units, np.inf),
    )


def review_periods(ds: xr.Dataset) -> np.ndarray:
    """Whole periods between a location's reviews: the review period its targets were sized
    for (``target_review_period``, rounded, at least 1), or every period."""
    if "target_review_period" not in ds:
        return np.ones(ds.sizes["location"], dtype=np.int64)
    return np.maximum(np.round(ds["target_review_period"].values), 1).astype(np.int64)


def lead_time_pmf(mean: np.ndarray, sd: np.ndarray) -> np.ndarray:
    """Whole-period lead-time probabilities: a normal rounded to the nearest period, floored at
    zero (a point mass where the standard deviation is zero)."""
    top = int(np.ceil((mean + 4 * sd).max())) + 1
    edges = np.arange(top + 1) + 0.5                                   # k covers (k-1/2, k+1/2]
    with np.errstate(divide="ignore", invalid="ignore"):
        cdf = stats.norm.cdf((edges[None, :] - mean[:, None]) / sd[:, None])
    point = sd <= 0
    cdf[point] = (edges[None, :] >= np.round(mean[point])[:, None] + 0.5).astype(float)
    cdf[:, -1] = 1.0
    pmf = np.diff(np.concatenate([np.zeros((len(mean), 1)), cdf], axis=1), axis=1)
    return pmf / pmf.sum(axis=1, keepdims=True)


def preference_lists(ds: xr.Dataset, channel: np.ndarray, region: np.ndarray,
                     allocated: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Eligible locations of every series in preference order (CSR): the channel's own pool,
    an RDC in the region, another RDC, a DC (as `engine.network.primary_location`).

    With ``allocated`` (series x location units the plan ring-fenced for the series), the
    locations holding a series' allocation come first, the largest first, then the others in
    the order above.
    """
    kind = ds["location_kind"].values
    owner = ds["location_channel"].values
    location_region = ds["location_region"].values
    channels = ds["channel"].values
    regions = ds["region"].values
    L = len(kind)
    rank = np.full((len(channels), len(regions), L), 4, dtype=np.int64)
    rank = np.where((kind == "dc")[None, None, :], 3, rank)
    rank = np.where((kind == "rdc")[None, None, :], 2, rank)
    local = (kind[None, :] == "rdc") & (location_region[None, :] == regions[:, None])
    rank = np.where(local[None], 1, rank)
    own = (kind[None, :] == "pool") & (owner[None, :] == channels[:, None])
    rank = np.where(own[:, None, :], 0, rank)
    eligible = ds["eligible"].values[channel, region]                  # (series, location)
    key = (rank * L + np.arange(L))[channel, region].astype(float)      # < 5 L
    if allocated is not None:                # whole units first, by size, then by the rule
        first = eligible & (allocated > 0)
        key = np.where(first, key - np.round(allocated) * 5.0 * L, key)
    key = np.where(eligible, key, np.inf)
    order = np.argsort(key, axis=1, kind="stable")
    valid = np.take_along_axis(key, order, axis=1) < np.inf
    counts = valid.sum(axis=1)
    locations = order[valid].astype(np.int64)
    return locations, np.concatenate([[0], np.cumsum(counts)])


def allocated_units(ds: xr.Dataset) -> np.ndarray | None:
    """Units the plan ring-fenced per (series, location), or None without an allocation."""
    if ds.sizes.get("allocation", 0) == 0 or "allocation_units" not in ds:
        return None
    out = np.zeros((ds.sizes["series"], ds.sizes["location"]))
    np.add.at(out, (ds["allocation_series"].values.astype(np.int64),
                    index_of(ds, "location", ds["allocation_location"].values)),
              ds["allocation_units"].values)
    return out


def _period(ds: xr.Dataset, dates: np.ndarray, horizon: int) -> np.ndarray:
    """Forecast step (0-based) in which each date falls: 0 for dates before the first step,
    ``horizon`` (not simulated) for dates after the last step's period ends."""
    starts = pd.DatetimeIndex(ds["forecast_date"].values)
    end = pd.date_range(starts[-1], periods=2, freq=ds.attrs["freq"])[-1]
    dates = pd.DatetimeIndex(dates)
    step = starts.searchsorted(dates, side="right") - 1
    step = np.where(dates >= end, horizon, step)
    return np.clip(step, 0, horizon)


def _add_scheduled(ds: xr.Dataset, pipeline: np.ndarray, horizon: int, dim: str, where: str,
                   when: str) -> None:
    """Add a row table's quantities (shipments or receipts) to a pipeline on their period."""
    if ds.sizes.get(dim, 0) == 0:
        return
    sku = index_of(ds, "sku", ds[f"{dim}_sku"].values)
    location = index_of(ds, "location", ds[f"{dim}_{where}"].values)
    step = _period(ds, ds[f"{dim}_{when}"].values, horizon)
    np.add.at(pipeline, (sku, location, step), ds[f"{dim}_quantity"].values)


def demand_parameters(ds: xr.Dataset) -> tuple[np.ndarray, np.ndarray, np.ndarray,
                                              np.ndarray]:
    """Per-period demand mean, variance and family of every series, and its level variance,
    for the simulator: the demand the targets were set on.

    The targets protect each series' demand over its protection interval P = L + R with the
    variance the forecast stage calibrated on backtest sums (``protection_variance``, T),
    while the forecast's per-period variances v_t, added as if the periods were independent,
    give V = sum over P of v_t. Where T < V the per-period variances are scaled by T / V
    (counts stay at least Poisson); where T > V, the periods share a level error
    (`engine.simulation.simulate_network`, ``demand_level_variance``) of variance
    c = (T - V) / (Q + M^2), M and Q the interval's mean and the family's excess variance, so
    that the simulated demand over P has the calibrated variance T whatever the period.

    Returns
    -------
    mean, variance : numpy.ndarray, shape (series, step)
    family : numpy.ndarray of int8, shape (series,)
    level : numpy.ndarray, shape (series,)
    """
    mean = np.maximum(ds["forecast_mean"].values, 0.0)
    variance = ds["forecast_variance"].values.copy()
    family = family_codes(ds["forecast_distribution"].values[:, 0])
    negbin = family == Family.NEGATIVE_BINOMIAL
    level = np.zeros(len(family))
    if "protection_variance" in ds:
        length = ds["protection_lead_time"].values + ds["protection_review_period"].values

        def over_interval(values):
            return interval_sum(values, length)

        poisson = (family == Family.POISSON)[:, None]
        excess = np.where(negbin[:, None], variance - mean, np.where(poisson, 0.0, variance))
        M, Q = over_interval(mean), over_interval(excess)
        V = over_interval(np.where(poisson, mean, variance))        # what the draws give
        T = ds["protection_variance"].values
        ok = (M > 0) & (V > 0) & np.isfinite(T) & (T > 0)
        narrower = ok & (T < V)
        variance[narrower] *= (T / np.where(narrower, V, 1.0))[narrower, None]
        wider = ok & (T > V)
        level[wider] = (T - V)[wider] / (np.maximum(Q, 0.0) + M**2)[wider]
    # the negative binomial needs variance above the mean in every period
    variance[negbin] = np.maximum(variance[negbin], mean[negbin] * (1 + 1e-6) + 1e-9)
    return mean, variance, family, level


def add_simulation(ds: xr.Dataset, config: SimulationConfig = SimulationConfig()) -> xr.Dataset:
    """Simulate the network and add the KPIs (see the module docstring)."""
    arrays = network_arrays(ds, config)
    mean, variance, family, level = demand_parameters(ds)
    result = simulate_network(arrays, samples=config.samples, periods=ds.sizes["step"],
                              seed=config.seed, demand_mean=mean, demand_variance=variance,
                              demand_family=family, demand_level_variance=level,
                              rationing=config.rationing,
                              execution=config.execution)
    summary = result.summary(QUANTILES)
    stream_kpi = list(summary.stream_kpis)
    location_kpi = list(summary.location_kpis)

    def stream(name, stat=0):
        return summary.stream[:, stream_kpi.index(name), stat]

    def location(name, stat=0):
        return summary.location[:, :, location_kpi.index(name), stat]

    sl = ("sku", "location")
    return ds.assign({
        "kpi_demand": ("series", stream("demand")),
        "kpi_served": ("series", stream("served")),
        "kpi_fill_rate": ("series", stream("fill_rate")),
        "kpi_fill_rate_q10": ("series", stream("fill_rate", 1)),
        "kpi_fill_rate_q90": ("series", stream("fill_rate", 2)),
        "kpi_cycle_service_level": ("series", stream("cycle_service_level")),
        "kpi_cycle_service_level_q10": ("series", stream("cycle_service_level", 1)),
        "kpi_cycle_service_level_q90": ("series", stream("cycle_service_level", 2)),
        "kpi_lost_sales": ("series", stream("lost")),
        "kpi_lost_sales_q10": ("series", stream("lost", 1)),
        "kpi_lost_sales_q90": ("series", stream("lost", 2)),
        "kpi_backorders": ("series", stream("backorders")),
        "kpi_shortage_cost": ("series", stream("shortage_cost")),
        "kpi_avg_on_hand": (sl, location("avg_on_hand")),
        "kpi_avg_on_hand_q10": (sl, location("avg_on_hand", 1)),
        "kpi_avg_on_hand_q90": (sl, location("avg_on_hand", 2)),
        "kpi_holding_cost": (sl, location("holding_cost")),
        "kpi_orders": (sl, location("orders")),
        "kpi_served_units": (sl, location("served_units")),
        "kpi_samples_demand": (("series", "sample"), result.stream("demand")),
        "kpi_samples_served": (("series", "sample"), result.stream("served")),
        "kpi_samples_lost": (("series", "sample"), result.stream("lost")),
    })


def kpi_table(ds: xr.Dataset) -> pd.DataFrame:
    """Rows of ``kpis.parquet`` (`engine.outputs.KPIS`, module docstring): one per stream, per
    sku x location, and the roll-ups by channel, region, channel x region and in total.

    Columns: level, sku, channel, region, location, demand, fill_rate (with q10, q90),
    cycle_service_level (with q10, q90), lost_sales (with q10, q90), backorders, avg_on_hand
    (with q10, q90), holding_cost, shortage_cost, orders (replenishment orders placed by a
    location), turns (yearly: demand per period over average stock on hand).
    """
    periods = ds.sizes["step"]
    per_year = periods_per_year(ds.attrs["freq"])
    streams = pd.DataFrame({
        "level": "stream", "sku": ds["series_sku"].values, "channel": ds["series_channel"].values,
        "region": ds["series_region"].values, "location": "",
        **{name: ds[f"kpi_{name}"].values for name in STREAM_COLUMNS},
    })
    k, j = np.nonzero((ds["kpi_avg_on_hand"].values > 0) | (ds["kpi_served_units"].values > 0))
    avg = ds["kpi_avg_on_hand"].values[k, j]
    served = ds["kpi_served_units"].values[k, j]
    locations = pd.DataFrame({
        "level": "location", "sku": ds["sku"].values[k], "channel": "", "region": "",
        "location": ds["location"].values[j], "demand": served,
        "avg_on_hand": avg,
        "avg_on_hand_q10": ds["kpi_avg_on_hand_q10"].values[k, j],
        "avg_on_hand_q90": ds["kpi_avg_on_hand_q90"].values[k, j],
        "holding_cost": ds["kpi_holding_cost"].values[k, j],
        "orders": ds["kpi_orders"].values[k, j],
        "turns": np.where(avg > 0, served / periods * per_year / np.where(avg > 0, avg, 1),
                          np.nan),
    })
    rollups = [_rollup(ds, keys, label) for keys, label in (
        (("series_channel",), "channel"), (("series_region",), "region"),
        (("series_channel", "series_region"), "channel_region"), ((), "total"))]
    total_stock = ds["kpi_avg_on_hand"].values.sum()
    for frame in rollups:
        if frame["level"].iloc[0] == "total":
            frame["avg_on_hand"] = total_stock
            frame["holding_cost"] = ds["kpi_holding_cost"].values.sum()
            frame["turns"] = frame["demand"] / periods * per_year / max(total_stock, 1e-12)
    return KPIS.conform(pd.concat([streams, locations, *rollups], ignore_index=True))


def _rollup(ds: xr.Dataset, keys: tuple[str, ...], level: str) -> pd.DataFrame:
    """Sums per sample, then the mean and percentiles of the group's fill rate and lost sales."""
    if keys:
        labels = pd.DataFrame({k: ds[k].values for k in keys})
        codes = labels.groupby(list(keys), sort=False).ngroup().to_numpy()
        first = labels.drop_duplicates().reset_index(drop=True)
    else:
        codes = np.zeros(ds.sizes["series"], dtype=int)
        first = pd.DataFrame(index=[0])
    groups = codes.max() + 1
    samples = ds.sizes["sample"]

    def per_sample(name):
        out = np.zeros((groups, samples))
        np.add.at(out, codes, ds[name].values)
        return out

    demand, served, lost = (per_sample(f"kpi_samples_{n}") for n in ("demand", "served",
                                                                      "lost"))
    with np.errstate(invalid="ignore", divide="ignore"):
        fill = np.where(demand > 0, served / demand, np.nan)
    weights = np.bincount(codes, weights=ds["kpi_demand"].values, minlength=groups)
    csl = np.bincount(codes, weights=ds["kpi_demand"].values
                      * np.nan_to_num(ds["kpi_cycle_service_level"].values), minlength=groups)
    q10, q90 = QUANTILES
    frame = pd.DataFrame({
        "level": level, "sku": "",
        "channel": first["series_channel"].values if "series_channel" in keys else "",
        "region": first["series_region"].values if "series_region" in keys else "",
        "location": "",
        "demand": demand.mean(axis=1),
        "fill_rate": served.mean(axis=1) / np.where(demand.mean(axis=1) > 0,
                                                    demand.mean(axis=1), np.nan),
        "fill_rate_q10": _nanquantile(fill, q10),
        "fill_rate_q90": _nanquantile(fill, q90),
        "cycle_service_level": csl / np.where(weights > 0, weights, np.nan),
        "lost_sales": lost.mean(axis=1),
        "lost_sales_q10": np.quantile(lost, q10, axis=1),
        "lost_sales_q90": np.quantile(lost, q90, axis=1),
        "shortage_cost": np.bincount(codes, weights=ds["kpi_shortage_cost"].values,
                                     minlength=groups),
    })
    return frame


def _nanquantile(values: np.ndarray, q: float) -> np.ndarray:
    """Row quantiles ignoring NaN; NaN for rows with no values."""
    out = np.full(values.shape[0], np.nan)
    rows = ~np.isnan(values).all(axis=1)
    if rows.any():
        out[rows] = np.nanquantile(values[rows], q, axis=1)
    return out
