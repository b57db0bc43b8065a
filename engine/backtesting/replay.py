"""The replay's state and one period of it: tonight's decisions, then the actual sales.

State (`ReplayState`) per (sku, location): stock on hand; per demand stream (series): units
owed to customers (backorders); and the pending deliveries (moves on a lane, purchases from a
supplier) with their arrival period. One period t of the replay, in this order (lead time L
means an order placed at the start of t is available at the start of t + L):

1. **receive** (`receive`): every delivery due by t is added to the stock, before tonight's
   decisions, which see it on hand;
2. **depart** (`play_period`): tonight's moves leave their origin (at most what it holds: a
   move is cut to the stock on hand, and the cut is counted) and are due at t + lane lead
   time, a lead time of 0 arriving at once; purchases are due at t + supplier lead time (lead
   times are their means, rounded to whole periods);
3. **serve**: each stream's backorders, then its actual sales of period t, from the locations
   the fulfilment rules allow, in preference order (`engine.stages.simulate.preference_lists`:
   the channel's pool, a regional warehouse of the region, another, a DC), streams in
   decreasing channel priority; what is not served is backordered (channels with
   ``backorders``) or lost.

The actual sales are the demand: sales that stock-outs censored in the history are not known
(a ``stockouts`` table of censored periods would plug in here). Per (sku, location) the period
keeps ``start = end + shipped + served - receipts``; per stream, ``served <= demand + owed``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numba
import numpy as np


@dataclass
class Decisions:
    """Tonight's moves and purchases, as positions and whole periods of lead time."""

    move_sku: np.ndarray
    move_origin: np.ndarray
    move_destination: np.ndarray
    move_quantity: np.ndarray
    move_lead: np.ndarray
    move_cost: np.ndarray
    purchase_sku: np.ndarray
    purchase_location: np.ndarray
    purchase_quantity: np.ndarray
    purchase_lead: np.ndarray

    @classmethod
    def none(cls) -> Decisions:
        empty_int, empty = np.zeros(0, np.int64), np.zeros(0)
        return cls(empty_int, empty_int, empty_int, empty, empty_int, empty, empty_int,
                   empty_int, empty, empty_int)


@dataclass
class ReplayState:
    """Where the replay stands before a period (module docstring)."""

    on_hand: np.ndarray                   # (sku, location)
    backlog: np.ndarray                   # (series,)
    pending_sku: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    pending_origin: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    pending_location: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    pending_due: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    pending_quantity: np.ndarray = field(default_factory=lambda: np.zeros(0))
    """Deliveries on the way: SKU, origin location (-1: a supplier), destination, the
    period index they are due, units."""

    def copy(self) -> ReplayState:
        return ReplayState(self.on_hand.copy(), self.backlog.copy(), self.pending_sku.copy(),
                           self.pending_origin.copy(), self.pending_location.copy(),
                           self.pending_due.copy(), self.pending_quantity.copy())

    def pending_at(self) -> np.ndarray:
        """Units on the way to each (sku, location)."""
        out = np.zeros(self.on_hand.shape)
        np.add.at(out, (self.pending_sku, self.pending_location), self.pending_quantity)
        return out


@dataclass(frozen=True)
class PeriodRecord:
    """What one period did. Per (sku, location): ``start``, ``shipped``, ``receipts``,
    ``served``, ``end``; per stream: ``demand`` (actual sales), ``owed_before``, ``served``,
    ``served_on_time`` (of this period's demand), ``backordered`` (owed after), ``lost``;
    ``cut_units``: move units cut to the stock on hand; ``move_units``, ``move_cost``,
    ``purchase_units``."""

    start: np.ndarray
    shipped: np.ndarray
    receipts: np.ndarray
    served_at: np.ndarray
    end: np.ndarray
    demand: np.ndarray
    owed_before: np.ndarray
    served: np.ndarray
    served_on_time: np.ndarray
    backordered: np.ndarray
    lost: np.ndarray
    cut_units: float
    move_units: float
    move_cost: float
    purchase_units: float


@dataclass(frozen=True)
class Network:
    """The fixed structure the replay serves with: each stream's SKU, eligible locations in
    preference order (CSR), serving order, and whether its channel backorders."""

    series_sku: np.ndarray
    preference: np.ndarray
    preference_ptr: np.ndarray
    order: np.ndarray
    backorders: np.ndarray


def receive(state: ReplayState, t: int) -> np.ndarray:
    """Put every delivery due by period ``t`` on hand; returns the units received per (sku,
    location). ``state`` is updated in place."""
    due = state.pending_due <= t
    receipts = np.zeros_like(state.on_hand)
    np.add.at(receipts, (state.pending_sku[due], state.pending_location[due]),
              state.pending_quantity[due])
    state.on_hand += receipts
    for name in ("sku", "origin", "location", "due", "quantity"):
        setattr(state, f"pending_{name}", getattr(state, f"pending_{name}")[~due])
    return receipts


def play_period(state: ReplayState, t: int, decisions: Decisions, demand: np.ndarray,
                network: Network, received: np.ndarray | None = None) -> PeriodRecord:
    """Play period ``t`` (module docstring); ``state`` is updated in place.

    ``received``: what `receive` put on hand at the start of the period, before tonight's
    decisions (the replay's driver receives first, so that the plan sees it on hand); it
    counts in the period's receipts.
    """
    received = np.zeros_like(state.on_hand) if received is None else received
    start = state.on_hand - received
    shipped = np.zeros_like(start)
    quantity = np.asarray(decisions.move_quantity, dtype=float).copy()
    cut = 0.0
    for k in range(len(quantity)):                     # depart, cut to the stock on hand
        s, o = decisions.move_sku[k], decisions.move_origin[k]
        take = min(quantity[k], state.on_hand[s, o])
        cut += quantity[k] - take
        quantity[k] = take
        state.on_hand[s, o] -= take
        shipped[s, o] += take
    moving = quantity > 0
    buying = np.asarray(decisions.purchase_quantity) > 0
    state.pending_sku = np.concatenate([state.pending_sku, decisions.move_sku[moving],
                                        decisions.purchase_sku[buying]])
    state.pending_origin = np.concatenate([state.pending_origin, decisions.move_origin[moving],
                                           np.full(int(buying.sum()), -1)])
    state.pending_location = np.concatenate([state.pending_location,
                                             decisions.move_destination[moving],
                                             decisions.purchase_location[buying]])
    state.pending_due = np.concatenate([state.pending_due, t + decisions.move_lead[moving],
                                        t + decisions.purchase_lead[buying]])
    state.pending_quantity = np.concatenate([state.pending_quantity, quantity[moving],
                                             decisions.purchase_quantity[buying]])

    receipts = received + receive(state, t)            # what arrived, lead time 0 included

    demand = np.nan_to_num(np.asarray(demand, dtype=float))
    owed_before = state.backlog.copy()
    served_at = np.zeros_like(start)
    served = np.zeros(len(demand))
    on_time = np.zeros(len(demand))
    _serve(state.on_hand, served_at, network.series_sku, demand, owed_before, network.order,
           network.preference, network.preference_ptr, served, on_time)
    short = demand + owed_before - served
    short = np.where(short < 1e-9, 0.0, short)
    state.backlog = np.where(network.backorders, short, 0.0)
    lost = np.where(network.backorders, 0.0, short)
    move_cost = float(np.dot(quantity, decisions.move_cost)) if len(quantity) else 0.0
    return PeriodRecord(start, shipped, receipts, served_at, state.on_hand.copy(), demand,
                        owed_before, served, on_time, state.backlog.copy(), lost, cut,
                        float(quantity.sum()), move_cost,
                        float(np.asarray(decisions.purchase_quantity)[buying].sum()))


@numba.njit(cache=True)
def _serve(on_hand, served_at, series_sku, demand, owed, order, preference, preference_ptr,
           served, on_time):  # pragma: no cover - compiled
    """Serve each stream (in ``order``) its backorders, then its demand, from its locations."""
    for k in range(order.shape[0]):
        i = order[k]
        s = series_sku[i]
        need = owed[i] + demand[i]
        got = 0.0
        for p in range(preference_ptr[i], preference_ptr[i + 1]):
            if need - got <= 0.0:
                break
            c = preference[p]
            take = min(need - got, on_hand[s, c])
            if take > 0.0:
                on_hand[s, c] -= take
                served_at[s, c] += take
                got += take
        served[i] = got
        on_time[i] = min(max(got - owed[i], 0.0), demand[i])
