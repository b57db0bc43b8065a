"""`reoptimize`: tonight's deployment LP again for a few SKUs, without rerunning the night.

The planning-dataset slice of the chosen SKUs is rebuilt from the run directory: the network
tables of ``network/`` (through `engine.inputs.dataset.build_dataset`, with one empty sales row per
forecast series standing in for the history, which the plan stage does not read), the forecast
means, variances and distributions of ``forecast.parquet``, and the reorder points and
order-up-to levels of ``targets.parquet``. `engine.stages.plan.add_plan` then builds and solves the
same LP as the night (`engine.stages.plan.build_problem`), with the run's solver and coverage
horizon, and rounds it to whole packs.

What is held fixed: every other SKU's moves, ring-fences and stock. Capacities are shared
with them, so the slice gets what they leave: a lane's capacity less the units other SKUs'
planned moves use on it (parallel lanes between two locations: charged to the first), and a
location's volume capacity less the volume other SKUs hold there after their planned moves
(under the night's ``no_growth`` rule, from ``max(capacity, volume held before the moves)``).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from engine.inputs.dataset import build_dataset
from engine.inputs.validate import CheckedTables
from engine.orders.plan import Plan, PlanParts, PlanState, Replan
from engine.orders.rundir import RunData, readonly, sort_moves
from engine.orders.sourcing import stock_iv
from engine.stages.plan import PlanConfig, add_plan, inbound_within


def reoptimize(plan: Plan, *, skus: Sequence[str],
               stock: pd.DataFrame | Mapping | None = None) -> Plan:
    """Re-solve tonight's deployment LP for a few SKUs and return the updated plan.

    Parameters
    ----------
    plan : engine.Plan
        The plan to start from (not changed).
    skus : sequence of str
        The SKUs to re-plan (at least one; repeats are ignored).
    stock : DataFrame or mapping, optional
        Stock on hand now, before any of tonight's moves, for SKUs among ``skus``: a
        DataFrame with columns ``sku``, ``location``, ``units`` or a mapping
        ``{(sku, location): units}``; each SKU it names gets exactly these units (0 at
        locations not listed). Other re-planned SKUs start from the plan's working stock
        plus their planned outbound moves (on hand less what committed orders took).

    Returns
    -------
    engine.Plan
        A new plan: the re-planned SKUs have new moves, ring-fences and stock (their
        committed counts restart at 0), every other SKU is as in ``plan`` (its working stock
        and ring-fences at the time of the call). ``replans`` records this call.

    Raises
    ------
    engine.orders.UnknownNameError
        For an unknown SKU.
    ValueError, TypeError
        For a ``plan`` that is not a `Plan`, an empty or malformed ``skus``, a bad ``stock``,
        or ``stock`` naming a SKU that is not re-planned.

    Notes
    -----
    Capacities shared with other SKUs are what they leave (module docstring). Two parts of the
    LP are computed over the SKUs of the LP rather than the whole night and may differ
    slightly: the count-data choice of the value curves (all distributions of the LP's
    streams non-normal) and the priority weight of a location (the highest priority among the
    channels of the LP's streams it may serve).
    """
    tic = time.perf_counter()
    if not isinstance(plan, Plan):
        raise TypeError(f"plan must be an engine.Plan; found {type(plan).__name__}")
    state = plan.state()
    data = state.data
    chosen = _skus_iv(skus, data)
    override = stock_iv(stock, data)
    if override is not None:
        outside = np.setdiff1d(override.sku, chosen)
        if len(outside):
            raise ValueError(f"stock names SKU {data.skus.labels[outside[0]]!r}, which is not "
                             "among the skus to re-plan")
    network, inbound = state.network.get(lambda: _network_dataset(data))

    # stock before tonight's moves: working stock plus the old plan's outbound moves
    before = state.stock + state.outbound
    if override is not None:
        before[override.sku] = override.units
    config = data.config
    settings = PlanConfig(coverage_periods=int(config.get("coverage_periods", 4)),
                          solver=str(config.get("solver", "highs")))
    piece = _slice(data, network, chosen, before, inbound, state.moves)
    piece, outcome = add_plan(piece, settings)

    moves = {
        "sku": data.skus.codes(piece["move_sku"].values),
        "origin": data.locations.codes(piece["move_origin"].values),
        "destination": data.locations.codes(piece["move_destination"].values),
        "quantity": np.asarray(piece["move_quantity"].values, dtype=float),
        "kind": np.asarray(piece["move_kind"].values, dtype=object),
        "reason": np.asarray(piece["move_reason"].values, dtype=object),
    }
    old = state.moves
    keep = ~np.isin(old["sku"], chosen)
    merged = sort_moves({name: np.concatenate([old[name][keep], moves[name]]) for name in old})

    series = piece["allocation_series"].values
    new_key = data.stream_key(data.skus.codes(piece["series_sku"].values[series]),
                              data.channels.codes(piece["series_channel"].values[series]),
                              data.regions.codes(piece["series_region"].values[series]))
    new_location = data.locations.codes(piece["allocation_location"].values)
    new_units = np.asarray(piece["allocation_units"].values, dtype=float)
    old_key, old_location, old_units = _fence_entries(state)
    kept = ~np.isin(data.stream_parts(old_key)[0], chosen)

    outbound = np.zeros((len(chosen), len(data.locations)))
    row = np.searchsorted(chosen, moves["sku"])
    np.add.at(outbound, (row, moves["origin"]), moves["quantity"])
    on_hand = np.array(state.on_hand)
    on_hand[chosen] = before[chosen]
    committed = state.committed
    committed[chosen] = 0.0
    working = state.stock
    working[chosen] = np.maximum(before[chosen] - outbound, 0.0)
    labels = tuple(str(s) for s in data.skus.labels[chosen])
    record = Replan(labels, outcome.status, outcome.objective, time.perf_counter() - tic)
    return Plan(PlanParts(
        data=data, routes=state.routes, moves=merged, on_hand=on_hand,
        fence_stream=np.concatenate([old_key[kept], new_key]),
        fence_location=np.concatenate([old_location[kept], new_location]),
        fence_units=np.concatenate([old_units[kept], new_units]),
        committed=committed, stock=working, replans=(*state.replans, record),
        network=state.network))


def _skus_iv(skus: Sequence[str], data: RunData) -> np.ndarray:
    if isinstance(skus, (str, bytes)) or not isinstance(skus, (Sequence, np.ndarray,
                                                                 pd.Index, pd.Series)):
        raise TypeError(f"skus must be a list of SKU names; found {type(skus).__name__} "
                        f"{skus!r}")
    if len(skus) == 0:
        raise ValueError("skus must name at least one SKU to re-plan; found none")
    return np.unique([data.skus.code(s) for s in skus]).astype(np.int64)


def _fence_entries(state: PlanState) -> tuple[np.ndarray, ...]:
    """(stream key, location, units) of every positive working ring-fence."""
    data, fences = state.data, state.fences
    row, rank = np.nonzero(fences > 0)
    key = state.fence_keys[row]
    _, channel, region = data.stream_parts(key)
    location = state.routes.location[channel * len(data.regions) + region, rank]
    return key, location, fences[row, rank]


def _network_dataset(data: RunData):
    """The planning dataset of the network (sales stand-ins only) and its inbound stock."""
    freq = data.freq
    if freq is None:
        raise ValueError(f"cannot tell the period frequency of the run in "
                         f"{str(data.directory)!r}: its manifest has no freq and the forecast "
                         "has fewer than two dates")
    first = pd.Timestamp(data.forecast.columns["date"].min())
    last = pd.date_range(end=first, periods=2, freq=freq)[0]
    sku, channel, region = data.stream_parts(data.forecast.keys)
    n = len(sku)
    tables = {name: frame.copy() for name, frame in data.network.items()}
    tables["sales"] = pd.DataFrame({
        "date": np.full(n, np.datetime64(last, "ns")),
        "sku": pd.Categorical.from_codes(sku, data.skus.labels),
        "channel": pd.Categorical.from_codes(channel, data.channels.labels),
        "region": pd.Categorical.from_codes(region, data.regions.labels),
        "units": np.zeros(n), "price": np.full(n, np.nan), "promo": np.zeros(n, dtype=bool)})
    ds = build_dataset(CheckedTables(tables, freq))
    key = data.stream_key(data.skus.codes(ds["series_sku"].values),
                          data.channels.codes(ds["series_channel"].values),
                          data.regions.codes(ds["series_region"].values))
    if not np.array_equal(key, data.forecast.keys):
        raise AssertionError("planning dataset series differ from forecast.parquet's streams")
    coverage = int(data.config.get("coverage_periods", 4))
    inbound = readonly(inbound_within(ds, coverage))
    return ds, inbound


def _slice(data: RunData, network, chosen: np.ndarray, before: np.ndarray,
           inbound: np.ndarray, moves: dict[str, np.ndarray]):
    """The planning dataset of the chosen SKUs, ready for `engine.stages.plan.add_plan`."""
    labels = data.skus.labels[chosen]
    series = np.flatnonzero(np.isin(network["series_sku"].values, labels))
    piece = network.isel(sku=chosen, series=series)
    for dim, variable in (("shipment", "shipment_sku"), ("receipt", "receipt_sku")):
        if dim in piece.dims:
            piece = piece.isel({dim: np.flatnonzero(np.isin(piece[variable].values, labels))})
    piece = piece.assign_coords(series=np.arange(len(series)))

    # forecast of the slice's series: every series has the same number of steps
    keys = data.forecast.keys[series]
    start, stop = data.forecast.start[series], data.forecast.stop[series]
    steps = stop - start
    if len(steps) and (steps != steps[0]).any():
        raise ValueError("forecast.parquet has series with different numbers of periods")
    horizon = int(steps[0]) if len(steps) else int(
        np.max(data.forecast.stop - data.forecast.start))
    rows = (start[:, None] + np.arange(horizon)[None, :]).reshape(-1)
    columns = data.forecast.columns
    shape = (len(keys), horizon)
    distribution = data.forecast_text["distribution"][columns["distribution"][rows]]

    n_loc = len(data.locations)
    reorder = np.zeros((len(chosen), n_loc))
    order_up_to = np.zeros((len(chosen), n_loc))
    targets = data.targets
    for i, k in enumerate(chosen):
        block = targets.rows(int(k))
        where = targets.columns["location"][block]
        reorder[i, where] = targets.columns["reorder_point"][block]
        order_up_to[i, where] = targets.columns["order_up_to"][block]

    location_capacity, lane_capacity = _capacity_left(data, network, chosen, before, inbound,
                                                      moves)
    return piece.assign({
        "on_hand": (("sku", "location"), before[chosen]),
        "location_capacity": ("location", location_capacity),
        "lane_capacity": ("lane", lane_capacity),
        "forecast_mean": (("series", "step"), columns["mean"][rows].reshape(shape)),
        "forecast_variance": (("series", "step"), columns["variance"][rows].reshape(shape)),
        "forecast_distribution": (("series", "step"),
                                  distribution.astype(str).reshape(shape)),
        "target_reorder_point": (("sku", "location"), reorder),
        "target_order_up_to": (("sku", "location"), order_up_to),
    })


def _capacity_left(data: RunData, network, chosen: np.ndarray, before: np.ndarray,
                   inbound: np.ndarray, moves: dict[str, np.ndarray]
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Location volume and lane capacities left to the chosen SKUs (module docstring)."""
    volume = np.asarray(network["unit_volume"].values, dtype=float)
    others = np.ones(len(data.skus), dtype=bool)
    others[chosen] = False
    moved = np.zeros(before.shape)
    np.add.at(moved, (moves["sku"], moves["origin"]), -moves["quantity"])
    np.add.at(moved, (moves["sku"], moves["destination"]), moves["quantity"])
    held = volume @ (before + inbound)
    others_after = volume[others] @ (before + inbound + moved)[others]
    capacity = np.asarray(network["location_capacity"].values, dtype=float)
    left = np.where(np.isfinite(capacity),
                    np.maximum(np.maximum(capacity, held) - others_after, 0.0), np.inf)

    n_loc = len(data.locations)
    first_lane = np.full(n_loc * n_loc, -1, dtype=np.int64)
    pair = data.lane_origin * n_loc + data.lane_destination
    pairs, first = np.unique(pair, return_index=True)       # the first lane of each pair
    first_lane[pairs] = first
    other = others[moves["sku"]]
    lane = first_lane[moves["origin"][other] * n_loc + moves["destination"][other]]
    used = np.zeros(len(pair))
    np.add.at(used, lane[lane >= 0], moves["quantity"][other][lane >= 0])
    lane_capacity = np.asarray(network["lane_capacity"].values, dtype=float)
    lane_left = np.where(np.isfinite(lane_capacity), np.maximum(lane_capacity - used, 0.0),
                         np.inf)
    return left, lane_left
