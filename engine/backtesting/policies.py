"""Tonight's decisions at a replay origin, by each policy, from the history before it.

Every policy sees the planning dataset cut before the origin t (`history_view`: sales of
periods < t, the series that sold before t) with the replay's state in place of the input's
(`with_state`: stock on hand, moves on the way as shipments in transit, purchases on the way as
scheduled receipts), and the asked service level for every channel. Then:

- ``omnistock``: the nightly stages: forecast (`engine.stages.forecasting.add_forecast`, refitted
  every K origins; in between, the last fit's forecast shifted by the periods since, with its
  protection-interval distributions kept, and the series it knew), targets, the deployment LP
  with purchase orders (`engine.stages.plan.add_plan`), purchases sized with the replay's
  backorders (`engine.stages.purchases.add_purchases`);
- ``textbook``, ``empirical``: each stream's base-stock level at its primary location over its
  L + R (`models.policy.baselines`: 13-period mean and 52-period standard deviation with
  z = Phi^-1(beta), or the beta-quantile of its past interval sums), summed per location, and
  at every warehouse between that location and the buyer over the warehouse's own L + 1;
  each location below its level asks its replenishment source for the difference in whole
  packs (sources serve the highest channel priority first, from stock on hand), and each
  buying location purchases up to the same baseline's echelon level (the streams below it over
  the supplier lead time + the lead time down + R), in the supplier's packs and MOQ;
- ``none``: no moves; purchases as ``textbook``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import xarray as xr

from engine.backtesting.replay import Decisions, ReplayState
from engine.network import (
    index_of,
    location_priority,
    location_review_periods,
    pair_lead_times,
    primary_location,
    replenishment_lane,
    root_location,
    series_index,
    supply_terms,
)
from engine.pipeline.config import RunConfig
from engine.pipeline.tasks import FORECAST_VARIABLES
from engine.stages.forecasting import add_forecast, follow_protection, future_dates
from engine.stages.plan import add_plan, replenishment_moves
from engine.stages.purchases import add_purchases
from engine.stages.targets import add_targets
from models.policy import baselines

POLICIES = ("omnistock", "textbook", "empirical", "none")
"""Policies a backtest can replay."""


def history_view(ds: xr.Dataset, t: int, series: np.ndarray | None = None) -> xr.Dataset:
    """The planning dataset as it was before period ``t``: sales of periods < t, the given
    series (default: those that sold before t), no input shipments or receipts (those are the
    input's now, not the origin's)."""
    view = ds.isel(period=slice(0, t))
    if series is None:
        series = np.flatnonzero((~np.isnan(view["sales"].values)).any(axis=1))
    view = view.isel(series=series).assign_coords(series=np.arange(len(series)))
    for dim in ("shipment", "receipt"):
        if dim in view.dims:
            view = view.isel({dim: slice(0, 0)})
    return view


def with_state(view: xr.Dataset, state: ReplayState, service_level: float) -> xr.Dataset:
    """``view`` with the replay's stock, deliveries on the way and one service level."""
    freq = view.attrs["freq"]
    first = pd.Timestamp(view["period"].values[0])
    latest = int(max(state.pending_due.max(initial=0), view.sizes["period"])) + 2
    dates = pd.date_range(first, periods=latest, freq=freq).to_numpy()
    move = state.pending_origin >= 0
    sku, location = view["sku"].values, view["location"].values
    return view.assign({
        "on_hand": (("sku", "location"), state.on_hand.copy()),
        "service_level": ("channel", np.full(view.sizes["channel"], service_level)),
        "shipment_sku": ("shipment", sku[state.pending_sku[move]]),
        "shipment_origin": ("shipment", location[state.pending_origin[move]]),
        "shipment_destination": ("shipment", location[state.pending_location[move]]),
        "shipment_quantity": ("shipment", state.pending_quantity[move]),
        "shipment_arrival": ("shipment", dates[state.pending_due[move]]),
        "receipt_sku": ("receipt", sku[state.pending_sku[~move]]),
        "receipt_location": ("receipt", location[state.pending_location[~move]]),
        "receipt_quantity": ("receipt", state.pending_quantity[~move]),
        "receipt_date": ("receipt", dates[state.pending_due[~move]]),
    })


def owed_at(ds: xr.Dataset, backlog: np.ndarray) -> np.ndarray:
    """Backorders of the streams (series of ``ds``) at their primary locations."""
    sku, _, _ = series_index(ds)
    location = primary_location(ds)
    out = np.zeros((ds.sizes["sku"], ds.sizes["location"]))
    served = location >= 0
    np.add.at(out, (sku[served], location[served]), backlog[served])
    return out


@dataclass
class OmnistockPolicy:
    """The nightly stages at each origin (module docstring); the forecast refitted every
    ``refit_every`` origins."""

    config: RunConfig
    refit_every: int = 1
    forecasts: dict = field(default_factory=dict)
    """Forecasts by refit origin, shared by the policies of every service level (a forecast
    does not depend on the level)."""
    _fit: xr.Dataset | None = None
    _fit_origin: int = -1
    _fit_series: np.ndarray | None = None
    refits: int = 0

    def decide(self, ds: xr.Dataset, t: int, state: ReplayState, level: float,
               backlog: np.ndarray) -> Decisions:
        if self._fit is None or t - self._fit_origin >= self.refit_every:
            if t not in self.forecasts:
                view = history_view(ds, t)
                fitted, _ = add_forecast(with_state(view, state, level),
                                         self.config.forecast())
                self.forecasts[t] = fitted[list(FORECAST_VARIABLES)]
            self._fit = self.forecasts[t]
            self._fit_origin, self._fit_series = t, _sold_before(ds, t)
            self.refits += 1
        view = with_state(history_view(ds, t, self._fit_series), state, level)
        shifted = _shifted(self._fit, t - self._fit_origin)
        planned = view.assign(shifted.data_vars).assign_coords(
            forecast_date=("step", future_dates(view, shifted.sizes["step"]).to_numpy()))
        planned = add_targets(planned, self.config.targets())
        planned, _ = add_plan(planned, self.config.plan(),
                              backorders=owed_at(view, backlog[self._fit_series]))
        lane = pd.Index(planned["lane"].values).get_indexer(planned["move_lane"].values)
        return _decisions(planned, index_of(planned, "sku", planned["move_sku"].values), lane,
                          planned["move_quantity"].values)


def _sold_before(ds: xr.Dataset, t: int) -> np.ndarray:
    return np.flatnonzero((~np.isnan(ds["sales"].values[:, :t])).any(axis=1))


def _shifted(fit: xr.Dataset, periods: int) -> xr.Dataset:
    """The forecast ``periods`` periods later: steps move forward, the last step repeats, and
    the protection intervals follow the steps they now cover (`follow_protection`: a fit of
    January held until May protects February to April, not January to March, in March)."""
    if periods == 0:
        return fit
    horizon = fit.sizes["step"]
    take = np.minimum(np.arange(horizon) + periods, horizon - 1)
    moved = fit.isel(step=take).assign_coords(step=fit["step"].values)
    return moved.assign(follow_protection(fit, moved["forecast_mean"].values))


def _decisions(planned: xr.Dataset, move_sku: np.ndarray, move_lane: np.ndarray,
               move_quantity: np.ndarray) -> Decisions:
    """Tonight's moves (lane positions) and the purchases of ``planned``
    (`engine.stages.purchases`) as positions and whole periods of lead time."""
    origin = index_of(planned, "location", planned["lane_origin"].values[move_lane])
    destination = index_of(planned, "location", planned["lane_destination"].values[move_lane])
    return Decisions(
        move_sku=np.asarray(move_sku, dtype=np.int64), move_origin=origin.astype(np.int64),
        move_destination=destination.astype(np.int64),
        move_quantity=np.asarray(move_quantity, dtype=float),
        move_lead=np.rint(planned["lead_time"].values[move_lane]).astype(np.int64),
        move_cost=planned["cost_per_unit"].values[move_lane].astype(float),
        purchase_sku=index_of(planned, "sku", planned["purchase_sku"].values).astype(np.int64),
        purchase_location=index_of(planned, "location",
                                   planned["purchase_location"].values).astype(np.int64),
        purchase_quantity=planned["purchase_quantity"].values.astype(float),
        purchase_lead=np.rint(planned["purchase_lead_time"].values).astype(np.int64))


@dataclass
class BaselinePolicy:
    """``textbook``, ``empirical`` or ``none`` (module docstring)."""

    name: str
    config: RunConfig

    def decide(self, ds: xr.Dataset, t: int, state: ReplayState, level: float,
               backlog: np.ndarray) -> Decisions:
        series = _sold_before(ds, t)
        view = with_state(history_view(ds, t, series), state, level)
        rule = "textbook" if self.name == "none" else self.name
        installation, echelon = baseline_levels(view, rule, level, self.config)
        planned = add_purchases(
            view.assign(target_echelon_reorder_point=(("sku", "location"), echelon),
                        target_echelon_order_up_to=(("sku", "location"), echelon)),
            supplier_lead_time_days=self.config.supplier_lead_time_days,
            backorders=owed_at(view, backlog[series]))
        moves = (np.zeros(0, int), np.zeros(0, int), np.zeros(0))
        if self.name != "none":
            usable = np.arange(view.sizes["lane"])       # a base-stock rule uses every lane
            move_sku, at, quantity = replenishment_moves(
                view, usable, location_priority(view),
                position=state.on_hand + state.pending_at(), reorder_point=installation,
                order_up_to=installation)
            moves = (move_sku, usable[at], quantity)
        return _decisions(planned, *moves)


def baseline_levels(view: xr.Dataset, rule: str, level: float,
                    config: RunConfig) -> tuple[np.ndarray, np.ndarray]:
    """Installation and echelon base-stock levels of a baseline per (sku, location)."""
    sku, _, _ = series_index(view)
    location = primary_location(view)
    served = location >= 0
    where = np.maximum(location, 0)
    terms = supply_terms(view, supplier_lead_time_days=config.supplier_lead_time_days)
    lead, _ = pair_lead_times(view, terms)
    review = location_review_periods(view)
    root = root_location(view)[where]
    down = np.where(root == where, 0.0, lead[sku, where])
    y = view["sales"].values
    m, s = baselines.window_statistics(y)

    def levels(periods: np.ndarray) -> np.ndarray:
        if rule == "textbook":
            return baselines.textbook_levels(m, s, level, periods)
        return baselines.empirical_levels(y, level, periods)

    shape = (view.sizes["sku"], view.sizes["location"])
    installation, echelon = np.zeros(shape), np.zeros(shape)
    np.add.at(installation, (sku[served], location[served]),
              levels(lead[sku, where] + review[where])[served])
    np.add.at(echelon, (sku[served], root[served]),
              levels(lead[sku, root] + down + review[where])[served])
    # a warehouse between the stream's location and the buyer keeps the stream's demand over
    # its own replenishment lead time + 1 period, so that it can refill the locations below
    lane = replenishment_lane(view)
    origin = index_of(view, "location", view["lane_origin"].values)
    parent = np.where(lane >= 0, origin[np.maximum(lane, 0)] if len(origin) else -1, -1)
    above = np.where(served, parent[where], -1)
    for _ in range(view.sizes["location"]):
        middle = (above >= 0) & (above != root)
        if not middle.any():
            break
        at = np.maximum(above, 0)
        np.add.at(installation, (sku[middle], above[middle]),
                  levels(lead[sku, at] + 1.0)[middle])
        above = np.where(middle, parent[at], -1)
    return installation, echelon
