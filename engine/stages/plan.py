"""The plan stage: tonight's moves from the deployment LP (`solvers`), and the slow movers.

The planning dataset becomes a `solvers.DeploymentProblem` over a coverage horizon of ``C``
periods (``coverage_periods``, stretched by `plan_horizon` to the longest replenishment lane's
lead time + 1 in the time-phased plan):

- **streams** are the series; each may draw on the locations its channel's fulfilment rules
  allow in its region;
- **value of stock to a stream**: demand over the horizon ``D`` is taken from the forecast
  (mean and variance summed over the first ``C`` steps; negative binomial for count data,
  normal otherwise); the k-th unit allocated earns ``value x P(D > k)`` (the newsvendor
  marginal value), as a concave piecewise-linear curve (`models.policy.value.value_curves`:
  segments between quantiles of ``D``, an open last segment). ``value`` is what the
  simulation charges for the unit's shortage (`engine.economics`): the margin (channel price
  less unit cost, at least 20% of unit cost) for channels whose sales are lost, the backorder
  cost of waiting (10% of the margin per week) for channels whose customers wait;
- **target stock**: post-move stock below a location's reorder point (from the targets stage)
  costs ``0.5 x unit cost`` per unit, weighted by the highest priority of the channels the
  location may serve (relative to the highest priority; DCs count in full,
  `engine.network.location_priority`): a short DC favours high-priority locations;
- **fulfilment**: a unit served from a location other than the stream's primary one costs at
  least the bulk lane into the primary location (`engine.economics.fulfilment_costs`), so a
  stream eligible at a DC and at its warehouse is served from the warehouse when both can;
- **holding**: unit cost x the location's yearly holding rate over the horizon;
- **inbound**: shipments in transit and scheduled supply arriving within the horizon;
- **lanes**: those whose lead time is at most ``C`` (a move must arrive in time), with their
  costs and capacities; location capacities in volume (a location already over capacity may not
  grow);
- **presentation stock**: store pools (pools of offline channels) should show at least
  ``presentation_units`` of every SKU they sell; a shortfall costs ``0.5 x unit cost`` per unit;
- **fair share**: when a SKU's stock (on hand and inbound) is below its demand over the horizon,
  each stream should get at least half its share of what there is (``0.5 x mean x stock /
  demand``); a shortfall costs ``0.25 x margin`` per unit.

The LP plan is rounded to whole packs (`solvers.round_plan`). When the LP of a SKU chunk cannot be
solved, the SKUs of that chunk alone fall back to a policy-based plan: every location whose
inventory position (on hand, in transit and scheduled) is below its reorder point asks its
replenishment source (`engine.network`) to bring it to its order-up-to level, served in
priority order while the source has stock; the fallback is counted in the manifest.

**Slow movers**: a SKU whose stock (all locations) covers more than ``slow_cover_weeks`` of its
forecast demand (26 weeks, whatever the period length) is listed with a suggested clearance
promotion: on the channel with the largest forecast demand for it (or, without any, the channel
that sells most of its category), at a discount band growing with the excess cover (10-20% up
to twice the threshold, 20-40% up to four times, 40-60% beyond), for the surplus above the
threshold (at least one unit), from the location holding most of it. A SKU in its launch (no
sales row yet, or a first one less than ``launch_weeks`` ago) is never a slow mover: it has not
had the time to sell its stock.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
import xarray as xr

from engine.economics import (
    fulfilment_costs,
    service_value_horizon,
    service_value_per_period,
    stream_margins,
)
from engine.inputs.calendar import periods_per_year
from engine.network import (
    SUPPLIER_LEAD_TIME_DAYS,
    days_per_period,
    feeds,
    index_of,
    lane_kinds,
    location_priority,
    replenishment_lane,
    series_index,
)
from engine.outputs import ALLOCATION, CLEARANCE, PLAN, PURCHASE
from engine.stages.purchases import add_purchases, inventory_positions
from models.policy.value import COARSE_GRID, value_curves
from solvers import DeploymentProblem, SolveStatus, round_plan, solve_deployment

TARGET_PENALTY = 0.5
PRESENTATION_PENALTY = 0.5
FAIR_SHARE = 0.5
FAIR_SHARE_PENALTY = 0.25


@dataclass(frozen=True)
class PlanConfig:
    """Settings of the plan stage.

    Attributes
    ----------
    coverage_periods : int
        Periods of demand tonight's plan serves.
    solver : {"highs", "pulp"}
    chunk_skus : int
        SKUs per LP (`solvers.solve_deployment`): chunks of about 100 solve fastest; SKUs
        that share a binding capacity are solved in the same chunks by price and share
        coordination (`solvers.decomposition`), whose certified gap the run reports.
    presentation_units : float
        Minimum units of every SKU a store pool sells.
    fair_share : bool
        Soft fair share when a SKU is short.
    slow_cover_weeks : float
        Weeks of cover beyond which stock is a slow mover (converted to periods).
    launch_weeks : float
        A SKU whose first sales row is more recent than this (or that has none) is in its
        launch and never a slow mover.
    supplier_lead_time_days : float
        Supplier lead time of a buying location without a ``suppliers`` row, days
        (`engine.stages.purchases`).
    phased : bool
        The time-phased LP (`solvers.phased`; the default) rather than the one-period model,
        when ``coverage_periods`` > 1.
    """

    coverage_periods: int = 4
    solver: str = "highs"
    chunk_skus: int = 100
    presentation_units: float = 2.0
    fair_share: bool = True
    slow_cover_weeks: float = 26.0
    launch_weeks: float = 26.0
    supplier_lead_time_days: float = SUPPLIER_LEAD_TIME_DAYS
    phased: bool = True

    @property
    def periods(self) -> int:
        """Periods of the LP: ``coverage_periods`` when time-phased, else 1."""
        return self.coverage_periods if self.phased else 1


@dataclass(frozen=True)
class PlanOutcome:
    """What the plan stage reports to the run (besides the dataset)."""

    status: str
    objective: float
    build_seconds: float
    solve_seconds: float
    fallback_skus: tuple[str, ...]
    chunks: int
    optimality_gap: float = 0.0


def coverage_demand(ds: xr.Dataset, periods: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean and variance of every series' demand over the first ``periods`` forecast steps."""
    steps = min(periods, ds.sizes["step"])
    return (ds["forecast_mean"].values[:, :steps].sum(axis=1),
            ds["forecast_variance"].values[:, :steps].sum(axis=1))


def plan_horizon(ds: xr.Dataset, config: PlanConfig) -> PlanConfig:
    """``config`` with a time-phased horizon long enough for every replenishment lane.

    A move on a lane of lead time L >= C arrives after the horizon and is not offered, so a
    network whose replenishment lanes take longer than ``coverage_periods`` (a daily network
    with week-long DC to warehouse lanes) could never be replenished tonight. The horizon is
    stretched to the longest replenishment lane's lead time + 1 periods (whole periods,
    rounded up), within the forecast horizon; the one-period model keeps its setting.
    """
    if not config.phased or ds.sizes.get("lane", 0) == 0:
        return config
    lane = replenishment_lane(ds)
    lane = lane[lane >= 0]
    if lane.size == 0:
        return config
    longest = int(np.ceil(ds["lead_time"].values[lane].max() - 1e-9))
    periods = max(config.coverage_periods, min(longest + 1, ds.sizes["step"]))
    return replace(config, coverage_periods=periods)


def build_problem(ds: xr.Dataset, config: PlanConfig) -> DeploymentProblem:
    """The deployment LP data of the planning dataset (see the module docstring); the horizon
    is `plan_horizon`'s."""
    config = plan_horizon(ds, config)
    n_sku, n_loc = ds.sizes["sku"], ds.sizes["location"]
    sku, channel, region = series_index(ds)
    unit_cost = ds["unit_cost"].values
    mean, variance = coverage_demand(ds, config.coverage_periods)
    counts = ds["forecast_distribution"].values[:, 0] != "normal"
    margin = stream_margins(ds)
    width, value = value_curves(mean, variance,
                                service_value_horizon(ds, config.coverage_periods),
                                counts=counts)
    phase = period_curves(ds, config, counts) if config.periods > 1 else {}

    eligible = ds["eligible"].values[channel, region]                   # (series, location)
    pair_stream, pair_location = np.nonzero(eligible)

    usable = usable_lanes(ds, config)
    origin = index_of(ds, "location", ds["lane_origin"].values)[usable]
    destination = index_of(ds, "location", ds["lane_destination"].values)[usable]

    per_year = periods_per_year(ds.attrs["freq"])
    holding = unit_cost[:, None] * ds["holding_rate"].values[None, :] / per_year \
        * (1 if config.periods > 1 else config.coverage_periods)
    top = max(float(ds["priority"].values.max()), 1e-12)
    weight = location_priority(ds) / top
    target = ds["target_reorder_point"].values if "target_reorder_point" in ds \
        else np.zeros((n_sku, n_loc))
    if config.periods > 1:
        # a location that serves no stream, or a buying location that feeds others (a DC),
        # keeps stock for the later moves the LP plans, valued by the demand they reach (and
        # its own streams by their curves): no installation floor of its own
        serves = np.zeros(n_loc, dtype=bool)
        serves[pair_location] = True
        feeds_others = (replenishment_lane(ds) < 0) & (feeds(ds).sum(axis=1) > 1)
        target = np.where((serves & ~feeds_others)[None, :], target, 0.0)

    store = _store_pools(ds)
    sells = np.zeros((n_sku, n_loc), dtype=bool)
    sells[sku[pair_stream], pair_location] = mean[pair_stream] > 0
    presentation = np.where(store[None, :] & sells, config.presentation_units, 0.0)

    inbound = inbound_within(ds, config.coverage_periods)
    if config.periods > 1:
        phase["inbound_schedule"] = inbound_schedule(ds, config.periods)
    floor = np.zeros(len(sku))
    if config.fair_share:
        stock = (ds["on_hand"].values + inbound).sum(axis=1)
        demand = np.bincount(sku, weights=mean, minlength=n_sku)
        short = (demand > 0) & (stock < demand)
        ratio = np.where(short, stock / np.where(short, demand, 1), 0.0)
        floor = FAIR_SHARE * mean * ratio[sku]

    return DeploymentProblem(
        n_skus=n_sku, n_locations=n_loc,
        lane_origin=origin, lane_destination=destination,
        lane_cost=ds["cost_per_unit"].values[usable],
        lane_capacity=ds["lane_capacity"].values[usable],
        on_hand=ds["on_hand"].values, inbound=inbound,
        stream_sku=sku, pair_stream=pair_stream, pair_location=pair_location,
        segment_width=width, segment_value=value,
        unit_volume=ds["unit_volume"].values,
        location_capacity=ds["location_capacity"].values,
        holding_cost=holding,
        safety_stock=target,
        shortfall_penalty=TARGET_PENALTY * unit_cost[:, None] * weight[None, :],
        min_presentation=presentation,
        presentation_penalty=PRESENTATION_PENALTY * unit_cost[:, None] * np.ones((1, n_loc)),
        fair_share_floor=floor,
        fair_share_penalty=FAIR_SHARE_PENALTY * margin,
        fulfilment_cost=fulfilment_costs(ds, pair_stream, pair_location),
        **phase,
    )


def period_curves(ds: xr.Dataset, config: PlanConfig,
                  counts: np.ndarray) -> dict[str, object]:
    """The time-phased LP's fields: periods, lane lead times and the value curves per period.

    Stream s's period-t curve values its cumulative service Y through period t at
    ``v x E[min(D[0..t], Y)]``, D[0..t] its demand over forecast steps 0..t (mean and variance
    summed over the steps) and v `engine.economics.service_value_per_period`: ``margin / C``
    for a lost-sale channel (the horizon's expected sales counted once per period they are
    available for, `solvers.phased`), the backorder cost per period for a channel whose
    customers wait (the shortfall through t is the backlog the simulation charges at the end
    of t), on the quantiles of `COARSE_GRID`. Later moves
    (after tonight) follow the replenishment lanes (`engine.network.replenishment_lane`):
    the plan's intention to replenish; tonight any usable lane may move stock.
    """
    periods = config.periods
    steps = min(periods, ds.sizes["step"])
    mean = np.cumsum(ds["forecast_mean"].values[:, :steps], axis=1)
    variance = np.cumsum(ds["forecast_variance"].values[:, :steps], axis=1)
    if steps < periods:   # a forecast shorter than the horizon: its last step repeats
        extra = np.arange(1, periods - steps + 1)
        mean = np.concatenate([mean, mean[:, -1:] + extra * ds["forecast_mean"].values[:, -1:]],
                              axis=1)
        variance = np.concatenate(
            [variance, variance[:, -1:] + extra * ds["forecast_variance"].values[:, -1:]],
            axis=1)
    n = mean.shape[0]
    per_period = service_value_per_period(ds, periods)
    width, value = value_curves(mean.ravel(), variance.ravel(), np.repeat(per_period, periods),
                                counts=np.repeat(counts, periods), grid=COARSE_GRID)
    segments = width.shape[1]
    usable = usable_lanes(ds, config)
    lead = ds["lead_time"].values[usable]
    replenishing = np.isin(usable, replenishment_lane(ds))
    return {"periods": periods, "lane_lead_time": lead.astype(np.int64),
            "later_lanes": replenishing,
            "period_width": width.reshape(n, periods, segments),
            "period_value": value.reshape(n, periods, segments)}


def usable_lanes(ds: xr.Dataset, config: PlanConfig) -> np.ndarray:
    """Lanes whose moves arrive within the coverage horizon (positions on ``lane``): lead time
    below ``coverage_periods`` in the time-phased LP (a move arriving at period C serves no
    period of the horizon), at most ``coverage_periods`` in the one-period model; none into a
    location of capacity 0 (closed: nothing is moved in, `closed_locations`)."""
    lead = ds["lead_time"].values
    arrives = lead < config.periods if config.periods > 1 else lead <= config.coverage_periods
    destination = index_of(ds, "location", ds["lane_destination"].values)
    return np.flatnonzero(arrives & (ds["location_capacity"].values[destination] > 0))


def closed_locations(ds: xr.Dataset) -> list[str]:
    """Locations of capacity 0: no move goes in; the run's manifest lists them."""
    return [str(v) for v in ds["location"].values[ds["location_capacity"].values == 0]]


def _store_pools(ds: xr.Dataset) -> np.ndarray:
    owner = ds["location_channel"].values
    offline = set(ds["channel"].values[ds["channel_kind"].values == "offline"])
    return (ds["location_kind"].values == "pool") & np.isin(owner, list(offline))


def inbound_within(ds: xr.Dataset, periods: int) -> np.ndarray:
    """Units arriving at each (sku, location) within the next ``periods`` periods."""
    return inbound_schedule(ds, periods).sum(axis=2)


def inbound_schedule(ds: xr.Dataset, periods: int) -> np.ndarray:
    """Units arriving at each (sku, location) at the start of each of the next ``periods``
    periods, shape (sku, location, periods): what `inbound_within` counts, by arrival period
    (a date before the second period after the history's last counts at period 0)."""
    n_sku, n_loc = ds.sizes["sku"], ds.sizes["location"]
    out = np.zeros((n_sku, n_loc, periods))
    last = pd.Timestamp(ds["period"].values[-1])
    bounds = pd.date_range(last, periods=periods + 2, freq=ds.attrs["freq"])[2:].to_numpy()
    for prefix, where in (("shipment", "destination"), ("receipt", "location")):
        if ds.sizes.get(prefix, 0) == 0:
            continue
        date = ds[f"{prefix}_arrival" if prefix == "shipment" else "receipt_date"].values
        period = np.searchsorted(bounds, date, side="right")
        soon = period < periods
        sku = index_of(ds, "sku", ds[f"{prefix}_sku"].values[soon])
        location = index_of(ds, "location", ds[f"{prefix}_{where}"].values[soon])
        np.add.at(out, (sku, location, period[soon]), ds[f"{prefix}_quantity"].values[soon])
    return out


def add_plan(ds: xr.Dataset, config: PlanConfig = PlanConfig(), *,
             problem: DeploymentProblem | None = None,
             backorders: np.ndarray | None = None) -> tuple[xr.Dataset, PlanOutcome]:
    """Solve tonight's deployment and add the moves and the post-move stock to the dataset.

    Adds on ``move``: ``move_sku``, ``move_origin``, ``move_destination``, ``move_lane``,
    ``move_quantity``, ``move_kind``, ``move_reason``; on (``sku``, ``location``):
    ``position_after_plan`` (stock after the moves, inbound included) and ``inbound``; on
    ``allocation``: the stock ring-fenced for each series at each location after tonight's
    moves (``allocation_series``, ``allocation_location``, ``allocation_units``; whole units,
    none when the plan fell back); the purchase orders (`engine.stages.purchases`, with
    ``backorders`` per (sku, location) where a replay has them). ``problem`` is the
    `build_problem` of ``ds`` when the caller has built it already.
    """
    config = plan_horizon(ds, config)
    tic = time.perf_counter()
    if problem is None:
        problem = build_problem(ds, config)
    build = time.perf_counter() - tic
    tic = time.perf_counter()
    result = solve_deployment(problem, backend=config.solver,
                              chunk_skus=config.chunk_skus,
                              skip_failed_chunks=True)
    fallback: tuple[str, ...] = ()
    allocation = np.zeros(problem.n_pairs)
    usable = usable_lanes(ds, config)
    if result.status == SolveStatus.OPTIMAL:
        rounded = round_plan(problem, result, pack_size=ds["pack_size"].values)
        move_sku, move_lane, move_quantity = rounded.move_sku, rounded.move_lane, \
            rounded.move_quantity
        allocation = np.asarray(rounded.allocation, dtype=float)
        status, objective = "optimal", float(result.objective)
        if result.failed_skus.size:       # chunks the LP could not solve fall back alone
            failed = result.failed_skus
            extra = policy_plan(ds, usable, location_priority(ds), skus=failed)
            move_sku, move_lane, move_quantity = (
                np.concatenate([a, b]) for a, b in zip((move_sku, move_lane, move_quantity),
                                                       extra, strict=True))
            fallback = tuple(ds["sku"].values[failed])
            status = f"optimal; {len(failed)} SKUs fell back ({result.diagnosis})"
    else:
        move_sku, move_lane, move_quantity = policy_plan(ds, usable, location_priority(ds))
        fallback = tuple(ds["sku"].values)
        status, objective = f"fallback ({result.status.name.lower()})", float("nan")
    solve = time.perf_counter() - tic
    lane = usable[move_lane]
    position = ds["on_hand"].values + inbound_within(ds, config.coverage_periods)
    origin = index_of(ds, "location", ds["lane_origin"].values[lane])
    destination = index_of(ds, "location", ds["lane_destination"].values[lane])
    after = position.copy()
    np.add.at(after, (move_sku, origin), -move_quantity)
    np.add.at(after, (move_sku, destination), move_quantity)
    kind = lane_kinds(ds)[lane]
    reason = move_reasons(ds, move_sku, origin, destination, kind, position)
    ds = ds.assign({
        "move_sku": ("move", ds["sku"].values[move_sku]),
        "move_origin": ("move", ds["location"].values[origin]),
        "move_destination": ("move", ds["location"].values[destination]),
        "move_lane": ("move", ds["lane"].values[lane]),
        "move_quantity": ("move", np.asarray(move_quantity, dtype=float)),
        "move_kind": ("move", kind.astype(str)),
        "move_reason": ("move", reason),
        "position_after_plan": (("sku", "location"), after),
        "inbound": (("sku", "location"), position - ds["on_hand"].values),
    })
    kept = allocation > 0
    ds = ds.assign({
        "allocation_series": ("allocation", np.asarray(problem.pair_stream)[kept]),
        "allocation_location": ("allocation",
                                ds["location"].values[np.asarray(problem.pair_location)[kept]]),
        "allocation_units": ("allocation", allocation[kept]),
    })
    if "target_echelon_order_up_to" in ds:   # a re-plan of moves alone has no echelon levels
        ds = add_purchases(ds, supplier_lead_time_days=config.supplier_lead_time_days,
                           backorders=backorders)
    ds = add_slow_movers(ds, config)
    gap = float(result.optimality_gap) if result.success else float("nan")
    return ds, PlanOutcome(status, objective, build, solve, fallback, int(result.chunks), gap)


def move_reasons(ds, sku, origin, destination, kind, position) -> np.ndarray:
    """A planner's reason for every move."""
    target = ds["target_reorder_point"].values if "target_reorder_point" in ds \
        else np.zeros(position.shape)
    name = ds["location"].values
    owner = ds["location_channel"].values
    short = position[sku, destination] < target[sku, destination]
    over = position[sku, origin] > target[sku, origin]
    reasons = np.empty(len(sku), dtype=object)
    for i in range(len(sku)):
        o, d = origin[i], destination[i]
        if kind[i] == "deploy":
            reasons[i] = (f"forward deploy: {name[d]} below its reorder point" if short[i]
                          else f"forward deploy: stock {name[d]}'s forecast demand")
        elif kind[i] == "transfer":
            reasons[i] = (f"rebalance between regions: {name[o]} "
                          f"{'above target' if over[i] else 'can spare stock'}, {name[d]} "
                          f"{'short' if short[i] else 'sells more'}")
        else:
            to = f"{owner[d]} pool" if owner[d] else "shared stock"
            reasons[i] = f"cross-channel transfer: {owner[o]} pool stock to {to} ({name[d]})"
    return reasons.astype(str)


def policy_plan(ds: xr.Dataset, usable_lanes: np.ndarray, priority: np.ndarray, *,
                skus: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The fallback plan: bring locations whose inventory position (on hand + everything in
    transit or scheduled to arrive) is below their reorder point up to order-up-to
    (`replenishment_moves`); only the SKUs ``skus`` (positions) when given."""
    reorder_point = ds["target_reorder_point"].values
    if skus is not None:
        keep = np.zeros(ds.sizes["sku"], dtype=bool)
        keep[skus] = True
        reorder_point = np.where(keep[:, None], reorder_point, -np.inf)
    return replenishment_moves(ds, usable_lanes, priority, position=inventory_positions(ds),
                               reorder_point=reorder_point,
                               order_up_to=ds["target_order_up_to"].values)


def replenishment_moves(ds: xr.Dataset, usable_lanes: np.ndarray, priority: np.ndarray, *,
                        position: np.ndarray, reorder_point: np.ndarray,
                        order_up_to: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each location whose ``position`` is below its reorder point asks its replenishment
    source (`engine.network`) for the rest up to ``order_up_to``, in whole packs; a source
    serves its requesters in decreasing priority while it has stock on hand.

    Returns
    -------
    sku, lane, quantity : numpy.ndarray
        Moves, ``lane`` as a position in ``usable_lanes``.
    """
    source_lane = replenishment_lane(ds)
    position_of = {int(lane): k for k, lane in enumerate(usable_lanes)}
    origin = index_of(ds, "location", ds["lane_origin"].values)
    on_hand = ds["on_hand"].values.copy()
    pack = ds["pack_size"].values
    below = position < reorder_point
    need = np.where(below, np.maximum(order_up_to - position, 0.0), 0.0)
    moves = ([], [], [])
    for location in np.argsort(-priority, kind="stable"):
        lane = int(source_lane[location])
        if lane < 0 or lane not in position_of:
            continue
        source = origin[lane]
        give = np.floor(np.minimum(need[:, location], on_hand[:, source]) / pack) * pack
        moving = np.flatnonzero(give > 0)
        on_hand[moving, source] -= give[moving]
        moves[0].append(moving)
        moves[1].append(np.full(len(moving), position_of[lane]))
        moves[2].append(give[moving])
    if not moves[0]:
        return np.zeros(0, int), np.zeros(0, int), np.zeros(0)
    return tuple(np.concatenate(part) for part in moves)


def add_slow_movers(ds: xr.Dataset, config: PlanConfig) -> xr.Dataset:
    """Slow movers with a suggested clearance channel and discount band (module docstring)."""
    n_sku = ds.sizes["sku"]
    sku, channel, _ = series_index(ds)
    per_period = ds["forecast_mean"].values.mean(axis=1)
    demand = np.bincount(sku, weights=per_period, minlength=n_sku)
    stock = ds["on_hand"].values.sum(axis=1) + ds["inbound"].values.sum(axis=1)
    cover = np.where(demand > 0, stock / np.where(demand > 0, demand, 1), np.inf)   # periods
    period_weeks = days_per_period(ds.attrs["freq"]) / 7.0
    threshold = config.slow_cover_weeks / period_weeks                             # periods
    surplus = stock - demand * threshold
    slow = (stock > 0) & (cover > threshold) & (surplus >= 1.0) & ~in_launch(ds, config)
    by_channel = np.zeros((n_sku, ds.sizes["channel"]))
    np.add.at(by_channel, (sku, channel), per_period)
    category = ds["category"].values
    category_channel = pd.DataFrame(by_channel).groupby(category).sum()
    best = np.where(by_channel.max(axis=1) > 0, by_channel.argmax(axis=1),
                    category_channel.loc[category].to_numpy().argmax(axis=1))
    excess = cover / threshold
    band = np.where(excess <= 2, "10-20%", np.where(excess <= 4, "20-40%", "40-60%"))
    keep = np.flatnonzero(slow)
    holder = ds["on_hand"].values.argmax(axis=1)
    return ds.assign({
        "slow_sku": ("slow_mover", ds["sku"].values[keep]),
        "slow_location": ("slow_mover", ds["location"].values[holder[keep]]),
        "slow_cover": ("slow_mover", cover[keep] * period_weeks),         # weeks
        "slow_surplus": ("slow_mover", np.round(np.maximum(surplus[keep], 0.0))),
        "slow_channel": ("slow_mover", ds["channel"].values[best[keep]]),
        "slow_discount": ("slow_mover", band[keep]),
    })


def in_launch(ds: xr.Dataset, config: PlanConfig) -> np.ndarray:
    """Per SKU: no sales row yet, or a first one less than ``config.launch_weeks`` ago."""
    n_sku, n_period = ds.sizes["sku"], ds.sizes["period"]
    sku, _, _ = series_index(ds)
    listed = ~np.isnan(ds["sales"].values)
    first = np.where(listed.any(axis=1), listed.argmax(axis=1), n_period)
    first_sku = np.full(n_sku, n_period)
    np.minimum.at(first_sku, sku, first)
    weeks = (n_period - first_sku) * days_per_period(ds.attrs["freq"]) / 7.0
    return weeks < config.launch_weeks


def plan_table(ds: xr.Dataset) -> pd.DataFrame:
    """Rows of ``plan.parquet`` (`engine.outputs.PLAN`): tonight's moves, the purchases, then
    the slow movers to clear.

    Columns: sku, origin, destination, quantity, kind (deploy, transfer, cross_channel,
    purchase, clearance), reason, channel and discount_band (clearance rows only), lane
    (moves only).
    """
    moves = pd.DataFrame({
        "sku": ds["move_sku"].values, "origin": ds["move_origin"].values,
        "destination": ds["move_destination"].values, "quantity": ds["move_quantity"].values,
        "kind": ds["move_kind"].values, "reason": ds["move_reason"].values,
        "channel": "", "discount_band": "", "lane": ds["move_lane"].values,
    })
    purchases = pd.DataFrame({
        "sku": ds["purchase_sku"].values, "origin": ds["purchase_supplier"].values,
        "destination": ds["purchase_location"].values,
        "quantity": ds["purchase_quantity"].values, "kind": PURCHASE,
        "reason": ds["purchase_reason"].values, "channel": "", "discount_band": "", "lane": "",
    }) if "purchase_sku" in ds else None
    cover = ds["slow_cover"].values
    clearance = pd.DataFrame({
        "sku": ds["slow_sku"].values, "origin": ds["slow_location"].values, "destination": "",
        "quantity": ds["slow_surplus"].values, "kind": CLEARANCE,
        "reason": [f"slow mover: {c:,.0f} weeks of cover" if np.isfinite(c)
                   else "slow mover: no forecast demand in any channel" for c in cover],
        "channel": ds["slow_channel"].values, "discount_band": ds["slow_discount"].values,
        "lane": "",
    })
    return PLAN.conform(pd.concat([moves, purchases, clearance], ignore_index=True))


def allocation_table(ds: xr.Dataset) -> pd.DataFrame:
    """Rows of ``allocation.parquet`` (`engine.outputs.ALLOCATION`): units ring-fenced per sku,
    channel, region and location after tonight's plan (the LP's allocation, in whole units)."""
    series = ds["allocation_series"].values
    return ALLOCATION.conform(pd.DataFrame({
        "sku": ds["series_sku"].values[series],
        "channel": ds["series_channel"].values[series],
        "region": ds["series_region"].values[series],
        "location": ds["allocation_location"].values,
        "units": ds["allocation_units"].values,
    }))
