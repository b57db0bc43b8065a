"""The targets stage: service-level stock targets per sku x location from the forecast.

One path with the library: the forecast stage adds every series' demand distribution over the
protection interval of its primary location and over the DCs' (echelon) interval
(`engine.stages.forecasting.add_protection`: `DemandForecaster.predict_protection`, calibrated
on backtest sums of the demand, bounded by the history), and this stage sums those
distributions over the series each location protects and hands them to
`models.policy.targets_from_protection`, the function `models.policy.targets_from_forecast`
uses. Per (sku, location):

- the demand protected: a location protects the streams it is the primary location of
  (`engine.network`), over its replenishment lead time L plus its review period R (the
  smallest review period of the channels it serves; 1 for DCs); a warehouse that replenishes
  other locations (store pools) also protects their streams over its own L + R, since their
  orders draw on its stock; a DC protects the demand of the locations it feeds
  (`engine.network.feeds`: two DCs split a SKU's demand by subtree) over its supply lead time
  plus one period. Means and variances of the streams add
  (independent streams), and so does the largest historical interval demand (a bound for the
  cap); a lane's lead-time standard deviation adds m^2 sd(L)^2 to the variances (m the mean
  demand per period);
- echelon levels of the buying locations (what purchases are sized on): the sums, over the
  locations a root feeds, of balanced-allocation levels (`echelon_moments`);
- the family: `models.distributions.choose_family` on the sums (count data when every stream
  is a count);
- service level: the demand-weighted mean of the service levels of the channels it serves,
  meaning the fill rate (``service="fill_rate"``, default) or the cycle service level; where
  it serves several streams, at least the pooled fill rate that gives every stream its own
  when they are served in priority order (replenishment of the locations it feeds first,
  `priority_service_levels`, `models.policy.priority_fill_rates`);
- the levels: the base-stock level meeting the service level with the exact shortage per
  review cycle (for a fill rate, less the expected sales lost over the lead time where the
  customers do not wait: `models.policy.lost_sales`), or, where the minimum lot (MOQ at DCs,
  pack size everywhere) exceeds a review period's demand, an (s, S) pair with S = s + lot
  (`models.policy.from_forecast`); capped at three times the largest historical interval
  demand (capped pairs are counted in the manifest).

The order-up-to level S is what the simulation and the deployment LP use with the reorder point
s (periodic review (s, S): order up to S when the inventory position is at or below s).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr

from engine.network import (
    SUPPLIER_LEAD_TIME_DAYS,
    SUPPLIER_LEAD_TIME_SD_DAYS,
    feeds,
    location_review_periods,
    pair_lead_times,
    primary_location,
    root_location,
    secondary_location,
    series_index,
    supply_terms,
)
from engine.outputs import TARGETS
from models.distributions import (
    COUNT_FAMILIES,
    FAMILY_LABELS,
    choose_family,
    family_codes,
    rescaled_variance,
)
from models.forecast.protection import interval_weights
from models.policy import lost_sales_shift, priority_fill_rates, targets_from_protection

POLICY = "s,S"


@dataclass(frozen=True)
class TargetConfig:
    """Settings of the targets stage.

    Attributes
    ----------
    service : {"fill_rate", "cycle"}
        Service measure the channels' service levels mean.
    supplier_lead_time_days, supplier_lead_time_sd_days : float
        Replenishment lead time of the DCs from suppliers and its standard deviation, days
        (converted to periods).
    default_service_level : float
        For pairs that serve no channel demand.
    """

    service: str = "fill_rate"
    supplier_lead_time_days: float = SUPPLIER_LEAD_TIME_DAYS
    supplier_lead_time_sd_days: float = SUPPLIER_LEAD_TIME_SD_DAYS
    default_service_level: float = 0.95


def add_targets(ds: xr.Dataset, config: TargetConfig = TargetConfig()) -> xr.Dataset:
    """Compute stock targets for every sku x location and add them to the dataset.

    Adds on (``sku``, ``location``): ``target_safety_stock``, ``target_reorder_point``,
    ``target_order_up_to``, ``target_service_level``, ``target_mean`` (per-period demand
    protected), ``target_capped`` (the level hit its history cap); on ``location``:
    ``target_lead_time``, ``target_review_period``.

    Parameters
    ----------
    ds : xarray.Dataset
        The planning dataset with the forecast and its protection intervals
        (`engine.stages.forecasting.add_forecast`).
    config : TargetConfig
    """
    n_sku, n_loc = ds.sizes["sku"], ds.sizes["location"]
    sku, channel, _ = series_index(ds)
    location = primary_location(ds)
    dc = np.flatnonzero(ds["location_kind"].values == "dc")
    served = location >= 0
    where = np.maximum(location, 0)
    counts = np.isin(family_codes(ds["forecast_distribution"].values[:, 0]), COUNT_FAMILIES)
    terms = supply_terms(ds, supplier_lead_time_days=config.supplier_lead_time_days,
                         supplier_lead_time_sd_days=config.supplier_lead_time_sd_days)
    lead, lead_sd = pair_lead_times(ds, terms)
    review = location_review_periods(ds)

    # installation targets: each stream at its primary location over that location's L + R;
    # at a DC the SKU's whole demand over the DC's supply lead time + 1
    at_store = served & ~np.isin(location, dc)     # a DC covers its own streams in its sum
    series = [np.flatnonzero(at_store)]
    at = [location[at_store]]
    moments = [protection_moments(ds, "protection", np.where(served, lead[sku, where], 0.0),
                                  np.where(served, review[where], 1.0), counts)]
    chain = feeds(ds)
    for d in dc:                   # a DC protects the streams of the locations it feeds
        below = np.flatnonzero(served & chain[d, where])
        series.append(below)
        at.append(np.full(len(below), d))
        moments.append(protection_moments(ds, "echelon_protection", lead[sku, d],
                                          np.ones(len(sku)), counts))
    # a warehouse that feeds others (store pools) also protects their streams, over its own
    # lead time and review period: their replenishment orders draw on its stock
    for d in np.setdiff1d(np.flatnonzero(chain.sum(axis=1) > 1), dc):
        below = np.flatnonzero(served & chain[d, where] & (where != d))
        series.append(below)
        at.append(np.full(len(below), d))
        moments.append(protection_moments(ds, "protection", lead[sku, d],
                                          np.full(len(sku), review[d]), counts))
    # the demand a stream's primary location does not meet is served by its next location
    # (the simulation's fulfilment order): that location protects the unmet share, 1 minus
    # the channel's fill rate, of the stream's demand over its own L + R (thinned: mean and
    # variance times the share), unless it already protects the stream by replenishing its
    # primary, or is a DC (which protects every stream below it)
    second = secondary_location(ds)
    spills = np.flatnonzero(served & (second >= 0) & ~np.isin(second, dc)
                            & ~chain[np.maximum(second, 0), where])
    if spills.size:
        unmet = 1.0 - np.clip(ds["service_level"].values[channel], 0.0, 1.0)
        at_second = np.where(np.isin(np.arange(len(sku)), spills), second, where)
        spill = protection_moments(ds, "protection", lead[sku, at_second], review[at_second],
                                   counts)
        series.append(spills)
        at.append(second[spills])
        moments.append({**{n: v * unmet for n, v in spill.items()}, "share": unmet})
    installation = _levels(ds, series, at, moments, lead + review[None, :], lead, lead_sd,
                           terms, counts, config, primary=location)

    # echelon targets of the buying locations: the sum of the balanced-allocation levels of
    # the locations each root feeds (`echelon_moments`)
    root = root_location(ds)[where]
    down = np.where(root == where, 0.0, lead[sku, where])
    echelon_lead = lead[sku, root] + down
    echelon_periods = echelon_lead + review[where]
    local = protection_moments(ds, "protection", np.where(served, lead[sku, where], 0.0),
                               np.where(served, review[where], 1.0), counts)
    full = protection_moments(ds, "echelon_protection", echelon_lead, review[where], counts)
    balanced = echelon_moments(sku, root, np.where(served, where, -1), local, full)
    interval = np.ones((n_sku, n_loc))
    interval_lead = np.zeros((n_sku, n_loc))
    np.maximum.at(interval, (sku[served], where[served]), echelon_periods[served])
    np.maximum.at(interval_lead, (sku[served], where[served]), echelon_lead[served])
    fed = _levels(ds, [np.flatnonzero(served)], [where[served]], [balanced],
                  interval, interval_lead, lead_sd, terms, counts, config, lost_shift=True)
    echelon = {"mean": np.zeros((n_sku, n_loc)), "reorder_point": np.zeros((n_sku, n_loc)),
               "order_up_to": np.zeros((n_sku, n_loc))}
    protected = np.zeros((n_sku, n_loc), dtype=bool)
    protected[sku[served], where[served]] = True
    k, j = np.nonzero(protected)
    root_of = np.full(n_loc, -1)
    root_of[where[served]] = root[served]
    for name in echelon:
        np.add.at(echelon[name], (k, root_of[j]), fed[name][k, j])
    buyer = terms.buys & (echelon["mean"] > 0)

    dims = ("sku", "location")
    return ds.assign({
        "target_safety_stock": (dims, installation["safety_stock"]),
        "target_reorder_point": (dims, installation["reorder_point"]),
        "target_order_up_to": (dims, installation["order_up_to"]),
        "target_service_level": (dims, installation["service_level"]),
        "target_mean": (dims, installation["per_period"]),
        "target_capped": (dims, installation["capped"]),
        "target_lead_time": (dims, lead),
        "target_review_period": ("location", review),
        "target_echelon_reorder_point": (dims, np.where(buyer, echelon["reorder_point"], 0.0)),
        "target_echelon_order_up_to": (dims, np.where(buyer, echelon["order_up_to"], 0.0)),
    })


def echelon_moments(sku: np.ndarray, root: np.ndarray, location: np.ndarray,
                    local: dict[str, np.ndarray],
                    full: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Each stream's demand moments as its location sees them under balanced allocation.

    A buying location (the root) orders for the locations it feeds; what it buys is split
    among them when it arrives, after the supply lead time L_s, and then travels L_d to them
    and must last their review period R. With the split in proportion to the locations' mean
    demand w_j (the balanced-allocation approximation of Eppen and Schrage), location j runs
    short when D_j(L_d + R) + w_j D(L_s) exceeds its share w_j S of the root's order-up-to level
    S, where D(L_s) is the demand of *all* the locations fed over L_s (pooled: their
    variances add). So location j's effective demand has mean m_j(L_s + L_d + R) and variance
    Var_j(L_d + R) + w_j^2 Var(L_s); the root's echelon levels are the sums over j of the
    levels meeting j's service level on that demand (`add_targets`), so every location fed,
    not just the pool, gets its fill rate. Pooled demand over the whole interval would
    promise the pool's fill rate and deliver less at every location.

    Parameters
    ----------
    sku, root, location : numpy.ndarray of int, shape (series,)
        The stream's SKU, the root that buys for it and its location (-1: none).
    local, full : dict of str to numpy.ndarray
        Each stream's moments over L_d + R at its location (`protection_moments`) and over
        L_s + L_d + R (the echelon interval); the L_s part is their difference.

    Returns
    -------
    dict of str to numpy.ndarray, shape (series,)
        The moments to sum per location: the full interval's means, the variance above
        spread over the location's streams in proportion to their means, and likewise for
        the lead-time part.
    """
    keep = location >= 0
    width = int(max(root.max(initial=0), location.max(initial=0))) + 1
    pair = np.unique(np.where(keep, sku * width + location, -1), return_inverse=True)[1]
    pool = np.unique(np.where(keep, sku * width + root, -1), return_inverse=True)[1]

    def total(values, by):
        return np.bincount(by, weights=np.where(keep, values, 0.0))[by]

    mean_j = total(local["mean"], pair)
    pool_mean = total(local["mean"], pool)
    share_in_j = np.where(mean_j > 0, local["mean"] / np.where(mean_j > 0, mean_j, 1.0), 0.0)
    w = np.where(pool_mean > 0, mean_j / np.where(pool_mean > 0, pool_mean, 1.0), 0.0)
    out = {"mean": full["mean"], "lead_mean": full["lead_mean"],
           "largest_sum": full["largest_sum"]}
    for name in ("variance", "lead_variance"):
        supply = np.maximum(full[name] - local[name], 0.0)    # Var over L_s, per stream
        out[name] = local[name] + share_in_j * w ** 2 * total(supply, pool)
    return {n: np.where(keep, v, 0.0) for n, v in out.items()}


def _levels(ds: xr.Dataset, series: list[np.ndarray], at: list[np.ndarray],
            moments: list[dict[str, np.ndarray]], periods: np.ndarray, lead: np.ndarray,
            lead_sd: np.ndarray, terms, counts: np.ndarray,
            config: TargetConfig, *, primary: np.ndarray | None = None,
            lost_shift: bool = False) -> dict[str, np.ndarray]:
    """Targets of every (sku, location) from the demand of the streams it protects.

    ``series[k]`` (stream positions) are protected at ``at[k]`` (location positions) with
    interval moments ``moments[k]`` (arrays over all streams); ``periods`` and ``lead`` are
    each pair's interval length and the lead time within it. Means and variances of the
    streams add, and so does the largest historical interval demand; a lead time's standard
    deviation adds m^2 sd(L)^2. The service level is the demand-weighted mean of the streams'
    levels. Given each series' ``primary`` location (installation levels), it is at least the
    pooled level that gives every stream its own when they are served in priority order
    (`priority_service_levels`). Fill-rate levels net the sales lost over the lead time by
    the location's own lost-sales customers (given ``primary``), or by every lost-sales
    customer protected (``lost_shift``: echelon levels, whose lead time is the whole way
    from the supplier to the customer's location).
    """
    n_sku, n_loc = ds.sizes["sku"], ds.sizes["location"]
    sku, channel, _ = series_index(ds)
    weight = ds["forecast_mean"].values.sum(axis=1)
    level = ds["service_level"].values[channel]
    names = ("mean", "variance", "lead_mean", "lead_variance", "largest_sum")
    lost_channel = ~ds["backorders"].values.astype(bool)[channel]
    pair = {n: np.zeros((n_sku, n_loc))
            for n in (*names, "weight", "level", "noncount", "lost_weight")}
    for rows, where, m in zip(series, at, moments, strict=True):
        index = (sku[rows], where)
        for n in names:
            np.add.at(pair[n], index, m[n][rows])
        share = m["share"][rows] if "share" in m else 1.0     # a part of the stream's demand
        np.add.at(pair["weight"], index, share * weight[rows])
        np.add.at(pair["level"], index, share * weight[rows] * level[rows])
        np.add.at(pair["noncount"], index, (~counts[rows]).astype(float))
        if primary is not None or lost_shift:   # customers who do not wait (replenishment
            own = True if primary is None else primary[rows] == where   # is re-requested)
            np.add.at(pair["lost_weight"], index, weight[rows] * (lost_channel[rows] & own))
    has = pair["weight"] > 0
    service_level = np.where(has, pair["level"] / np.where(has, pair["weight"], 1.0),
                             config.default_service_level)
    if primary is not None:
        service_level = np.maximum(service_level, priority_service_levels(
            ds, series, at, moments, primary))
    all_counts = pair["noncount"] == 0

    per_period = pair["mean"] / np.maximum(periods, 1e-12)
    lead_variance = (per_period * lead_sd) ** 2
    variance = pair["variance"] + lead_variance
    lead_demand_variance = pair["lead_variance"] + lead_variance
    family = choose_family(pair["mean"], variance, counts=all_counts)
    lead_family = choose_family(pair["lead_mean"], lead_demand_variance, counts=all_counts)
    # purchases from suppliers come in the supplier's packs and MOQ (`engine.network`);
    # internal moves between locations only keep whole packs of the SKU
    pack = np.where(terms.buys, terms.pack_size, ds["pack_size"].values[:, None])
    moq = np.where(terms.buys, terms.moq, 0.0)
    review = np.broadcast_to(np.maximum(periods - lead, 1e-9), (n_sku, n_loc))
    ids = pd.RangeIndex(n_sku * n_loc)
    table = pd.DataFrame({
        "unique_id": ids, "lead_time": lead.ravel(), "review_period": review.ravel(),
        "mean": pair["mean"].ravel(), "variance": variance.ravel(),
        "family": FAMILY_LABELS[family.ravel()], "lead_mean": pair["lead_mean"].ravel(),
        "lead_variance": lead_demand_variance.ravel(),
        "lead_family": FAMILY_LABELS[lead_family.ravel()],
        "largest_sum": pair["largest_sum"].ravel(),
    })
    result = targets_from_protection(
        table, service_level=pd.Series(np.clip(service_level, 1e-6, 1 - 1e-6).ravel(),
                                       index=ids),
        service=config.service, pack_size=pd.Series(pack.ravel().astype(float), index=ids),
        moq=pd.Series(moq.ravel(), index=ids))
    shape = (n_sku, n_loc)
    out = {c: result[c].to_numpy().reshape(shape)
           for c in ("safety_stock", "reorder_point", "order_up_to", "capped")}
    if (primary is not None or lost_shift) and config.service == "fill_rate":
        # customers of lost-sales channels do not wait: the lead time's lost sales are not
        # owed, so the level is lower by their expected number (`models.policy.lost_sales`),
        # in whole units (rounded down: never below what the fill rate needs)
        lost = np.where(has, pair["lost_weight"] / np.where(has, pair["weight"], 1.0), 0.0)
        shift = np.floor(lost * lost_sales_shift(np.clip(service_level, 0.0, 1.0),
                                                 pair["lead_mean"]) + 1e-9)
        for c in ("safety_stock", "reorder_point", "order_up_to"):
            out[c] = out[c] - shift
        out["reorder_point"] = np.maximum(out["reorder_point"], 0.0)
        out["order_up_to"] = np.maximum(out["order_up_to"], out["reorder_point"])
    return {**out, "service_level": service_level, "per_period": per_period,
            "mean": pair["mean"]}


def priority_service_levels(ds: xr.Dataset, series: list[np.ndarray], at: list[np.ndarray],
                            moments: list[dict[str, np.ndarray]],
                            primary: np.ndarray) -> np.ndarray:
    """The fill rate each (sku, location) must be set for so that every stream it protects,
    served in priority order, gets its own channel's fill rate (0 where it protects one stream);
    ``primary`` is each series' primary location.

    A location serves replenishment of the locations it feeds first (the simulation ships to
    requesters before its own customers' demand), then its own channels by decreasing priority
    (ties: series order); `models.policy.priority_fill_rates` gives the pooled fill rate that
    meets every own channel's in that order (the replenishment uses stock but asks for no fill
    rate here: the locations fed hold their own targets).
    """
    sku, channel, _ = series_index(ds)
    priority = ds["priority"].values[channel].astype(float)
    target = ds["service_level"].values[channel].astype(float)
    shape = (ds.sizes["sku"], ds.sizes["location"])
    parts = []
    for rows, where, m in zip(series, at, moments, strict=True):
        own = primary[rows] == where
        parts.append(pd.DataFrame({
            "pair": sku[rows] * shape[1] + where, "rank": np.where(own, priority[rows], np.inf),
            "series": rows,
            # replenishment of the locations fed comes first and is their locations' promise,
            # not this one's: it uses stock but asks for no fill rate here
            "target": np.where(own, np.clip(target[rows], 1e-6, 1 - 1e-6), 1e-6),
            **{n: m[n][rows] for n in ("mean", "variance", "lead_mean", "lead_variance")}}))
    entries = pd.concat(parts, ignore_index=True)
    entries = entries[entries["mean"] > entries["lead_mean"]]       # demand within the cycle
    entries = entries[entries.groupby("pair")["pair"].transform("size") > 1]
    out = np.zeros(shape[0] * shape[1])
    if entries.empty:
        return out.reshape(shape)
    entries = entries.sort_values(["pair", "rank", "series"], ascending=[True, False, True])
    pairs, pooled = priority_fill_rates(
        entries["pair"].to_numpy(), entries["target"].to_numpy(), entries["mean"].to_numpy(),
        entries["variance"].to_numpy(), entries["lead_mean"].to_numpy(),
        entries["lead_variance"].to_numpy())
    out[pairs] = pooled
    return out.reshape(shape)


def protection_moments(ds: xr.Dataset, prefix: str, lead: np.ndarray, review: np.ndarray,
                       counts: np.ndarray) -> dict[str, np.ndarray]:
    """Each series' demand moments over its interval L + R now, from the forecast stage's.

    A series whose interval is the one the forecast stage calibrated (``{prefix}_lead_time``,
    ``{prefix}_review_period``) keeps its moments. One whose interval changed since (a scenario
    that changes a lane's lead time, or closes its primary location) gets the forecast summed
    over its new interval (steps beyond the horizon at the mean of the horizon's) with the
    relative dispersion of its calibrated interval kept (``Var = mu + d mu^2`` for counts,
    ``d mu^2`` otherwise), and its largest historical interval demand scaled by the lengths.

    Returns
    -------
    dict of str to numpy.ndarray, shape (series,)
        ``mean``, ``variance``, ``lead_mean``, ``lead_variance``, ``largest_sum``.
    """
    out = {n: ds[f"{prefix}_{n}"].values.astype(float).copy()
           for n in ("mean", "variance", "lead_mean", "lead_variance", "largest_sum")}
    old_lead = ds[f"{prefix}_lead_time"].values
    old_total = old_lead + ds[f"{prefix}_review_period"].values
    changed = np.flatnonzero(~np.isclose(old_lead, lead) | ~np.isclose(old_total, lead + review))
    if not changed.size:
        return out
    steps = ds["forecast_mean"].values[changed]
    count = counts[changed]
    for mean_name, variance_name, length in (("mean", "variance", (lead + review)[changed]),
                                             ("lead_mean", "lead_variance", lead[changed])):
        new_mean = interval_sum(steps, length)
        out[variance_name][changed] = rescaled_variance(
            out[mean_name][changed], out[variance_name][changed], new_mean, counts=count)
        out[mean_name][changed] = new_mean
    out["largest_sum"][changed] *= (lead + review)[changed] / np.maximum(old_total[changed],
                                                                         1e-12)
    return out


def interval_sum(steps: np.ndarray, length: np.ndarray) -> np.ndarray:
    """Per-step values (forecast means or variances) summed over ``length`` periods per row
    (fractional last period; periods beyond the forecast horizon at the mean of the horizon's).
    """
    horizon = steps.shape[1]
    weights = interval_weights(length, horizon)
    beyond = np.maximum(length - horizon, 0.0)
    return (steps * weights).sum(axis=1) + beyond * steps.mean(axis=1)


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
