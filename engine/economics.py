"""What a unit is worth to the plan and costs in the simulation: one set of numbers for both.

The deployment LP (`engine.stages.plan`) values stock by the sales it makes and the waiting it
saves; the simulation (`engine.stages.simulate`) charges the sales lost and the customers kept
waiting. Both take their numbers from here, so a plan is judged by the penalties it was made
with:

- **margin** of a stream (sku x channel x region): its channel price (``prices`` override, else
  list price x the channel's price index) less unit cost, at least `MARGIN_FLOOR` x unit cost
  (a loss-leader still earns the plan's attention);
- **lost sale** (channels without backorders): costs the margin, once;
- **backorder** (channels whose customers wait): costs `BACKORDER_COST_PER_WEEK` x the margin
  for every week a unit waits, charged per period (``x days per period / 7``) on every unit
  backordered at the end of a period;
- **fulfilment** from a location other than the stream's primary one (`engine.network`): a
  parcel sent from further away costs at least the bulk lane into the primary location, and
  never less than `OFF_PRIMARY_COST` x unit cost (`fulfilment_costs`), so a stream eligible at
  a DC and at its regional warehouse is served from the warehouse when both hold the stock.

In the time-phased LP a stream's cumulative shortfall through period t is exactly the backlog it
carries at the end of t when backorders are served first, so the LP charging the backorder cost
per period on that shortfall charges what the simulation charges
(`service_value_per_period`); a lost sale's margin is spread over the C periods of the horizon
(``margin / C`` per period a unit is available for, the expected sales of the horizon counted
once per period). The one-period model charges a backorder for the whole horizon, at most the
margin (`service_value_horizon`).
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from engine.network import days_per_period, primary_location, replenishment_lane, series_index

MARGIN_FLOOR = 0.2
"""Smallest margin of a unit sold, as a fraction of unit cost."""
BACKORDER_COST_PER_WEEK = 0.1
"""Cost of a backordered unit for each week it waits, as a fraction of its margin."""
OFF_PRIMARY_COST = 0.01
"""Least extra cost of serving a unit from a location other than the stream's primary one, as a
fraction of unit cost."""


def channel_prices(ds: xr.Dataset) -> np.ndarray:
    """Price of every (sku, channel): the ``prices`` override, else list price x price index."""
    base = ds["list_price"].values[:, None] * ds["price_index"].values[None, :]
    override = ds["channel_price"].values
    return np.where(np.isnan(override), base, override)


def stream_margins(ds: xr.Dataset) -> np.ndarray:
    """Margin of a unit sold on every series (stream), currency per unit."""
    sku, channel, _ = series_index(ds)
    unit_cost = ds["unit_cost"].values[sku]
    price = channel_prices(ds)[sku, channel]
    return np.maximum(price - unit_cost, MARGIN_FLOOR * unit_cost)


def backorder_cost_rate(freq: str) -> float:
    """Fraction of the margin a backordered unit costs per period of ``freq`` it waits."""
    return BACKORDER_COST_PER_WEEK * days_per_period(freq) / 7.0


def stream_backorders(ds: xr.Dataset) -> np.ndarray:
    """Whether each series' customers wait (backorders) rather than go elsewhere."""
    _, channel, _ = series_index(ds)
    return ds["backorders"].values[channel].astype(bool)


def shortage_costs(ds: xr.Dataset) -> np.ndarray:
    """The simulation's shortage cost per series: per unit lost (the margin) or per unit
    backordered and period waited (`backorder_cost_rate` x the margin)."""
    margin = stream_margins(ds)
    return np.where(stream_backorders(ds), backorder_cost_rate(ds.attrs["freq"]) * margin,
                    margin)


def service_value_per_period(ds: xr.Dataset, periods: int) -> np.ndarray:
    """Value per unit and period of a stream's cumulative service in the time-phased LP.

    Lost-sale streams: ``margin / periods``; backorder streams: the backorder cost per period
    (a unit served through period t saves a period of waiting)."""
    margin = stream_margins(ds)
    return np.where(stream_backorders(ds), backorder_cost_rate(ds.attrs["freq"]) * margin,
                    margin / periods)


def service_value_horizon(ds: xr.Dataset, periods: int) -> np.ndarray:
    """Value per unit served over a horizon of ``periods`` in the one-period LP: the margin
    (lost-sale streams) or the backorder cost of waiting the whole horizon, at most the margin."""
    margin = stream_margins(ds)
    rate = min(backorder_cost_rate(ds.attrs["freq"]) * periods, 1.0)
    return np.where(stream_backorders(ds), rate * margin, margin)


def fulfilment_costs(ds: xr.Dataset, stream: np.ndarray, location: np.ndarray) -> np.ndarray:
    """Cost per unit of serving series ``stream`` from ``location`` (arrays of pairs).

    Nothing at the stream's primary location; elsewhere the cost per unit of the primary
    location's replenishment lane (the leg a unit served from upstream or from a neighbour
    does not travel in bulk), at least `OFF_PRIMARY_COST` x unit cost.
    """
    sku, _, _ = series_index(ds)
    primary = primary_location(ds)[stream]
    inbound = np.where(primary >= 0, replenishment_lane(ds)[np.maximum(primary, 0)], -1)
    cost = ds["cost_per_unit"].values if "cost_per_unit" in ds else np.zeros(0)
    leg = np.append(cost, 0.0)[inbound]                             # no lane (-1): nothing
    floor = OFF_PRIMARY_COST * ds["unit_cost"].values[sku[stream]]
    return np.where(location == primary, 0.0, np.maximum(leg, floor))
