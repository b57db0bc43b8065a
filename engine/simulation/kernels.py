"""numba kernels: Monte Carlo simulation of one location under a base-stock, (s,S) or (r,Q) policy.

The kernels take contiguous float64 arrays and plain scalars, and write into preallocated
outputs; they never validate (`engine.simulation.single.simulate_policy` does, once, in front of
them) and import only numpy and numba. They are deterministic given the demand draws: every
sample is simulated on its own row of ``demand``, so results do not depend on the number of
threads.

Model
-----
One location, one item, review at the start of every period. Quantities are units (float64,
whole or fractional), time is in periods. The **inventory position** is
on hand + on order - backorders.

Starting state (period 0): on hand = the policy's order-up-to level (``order_up_to``: S of a
base-stock or (s,S) policy, r + Q for (r,Q), the top of its position range), nothing on order,
no backorders. A negative level starts as that many units backordered (backorders) or an empty
shelf (lost sales).

Event order within period t:

1. **Receive** the order placed at the start of period t - L (lead time L >= 1), and serve
   backorders from it, oldest first (with backorders, on hand and backorders are never both
   positive).
2. **Review**: compute the inventory position y and order per the policy:

   - base stock (level S): if y < S order S - y (every period, up to S);
   - (s, S): if y <= s order S - y;
   - (r, Q): if y <= r order n Q with n = floor((r - y) / Q) + 1, the smallest n that lifts
     the position above r. These are n separate orders of Q, each charged K and counted as
     an order, as under continuous review, where the position crosses r n times.

3. **Lead time 0**: the order arrives now (and serves backorders first); with L >= 1 it
   arrives at the start of period t + L.
4. **Demand** d_t occurs and is served from on hand; the unmet part d_t - served is
   backordered (``backorders=True``) or lost. A period with unmet demand is a stockout period.
5. **Charge** at the end of the period: h per unit on hand, p per unit backordered
   (backorders, the backlog at the end of the period) or per unit lost in the period (lost
   sales), and K per order placed.

The net inventory at the end of period t + L is therefore the position after ordering in period
t minus the demand over the L + 1 periods t, ..., t + L, the exposure of `models.policy`
(DESIGN.md, *Conventions*).

Statistics
----------
``out[sample, statistic]`` holds, for each sample, the sums over the measured periods
``warmup, ..., periods - 1`` (the first ``warmup`` periods are simulated but not counted) of
the quantities named by the column indices below (`STATISTICS` lists their names in order).

Trajectory
----------
When ``trajectory`` has one row per sample, ``trajectory[sample, period, field]`` records every
period (warm-up included) with the field indices below (`TRAJECTORY_FIELDS`); with zero rows
nothing is recorded.
"""

from __future__ import annotations

import numba
import numpy as np

# -- policy kinds (the codes `engine.simulation.single` maps the policy types to) ----------------

BASE_STOCK = 0
"""Base stock: order up to ``order_up_to`` every period."""
S_S = 1
"""(s, S): order up to ``order_up_to`` when the position is at or below ``reorder_point``."""
R_Q = 2
"""(r, Q): order multiples of ``order_quantity`` when the position is at or below
``reorder_point``."""

POLICY_KINDS = (BASE_STOCK, S_S, R_Q)

# -- columns of ``out``: sums over the measured periods of one sample ----------------------------

TOTAL_COST = 0
"""Holding + shortage + ordering cost, cost units."""
HOLDING_COST = 1
"""h times the end-of-period on hand, cost units."""
SHORTAGE_COST = 2
"""p times `SHORT_UNITS`, cost units."""
ORDERING_COST = 3
"""K times the number of orders, cost units."""
DEMAND = 4
"""Units demanded."""
SERVED = 5
"""Units served from stock in the period they were demanded (the fill rate's numerator)."""
NO_STOCKOUT_PERIODS = 6
"""Periods in which all demand was served from stock (the cycle service level's numerator)."""
ON_HAND = 7
"""End-of-period on hand, units (summed over periods)."""
ORDERS = 8
"""Orders placed (an (r,Q) order of n Q counts n)."""
SHORT_UNITS = 9
"""Units charged the shortage cost: end-of-period backorders (backorders) or units lost in the
period (lost sales)."""

STATISTICS = ("total_cost", "holding_cost", "shortage_cost", "ordering_cost", "demand",
              "served", "no_stockout_periods", "on_hand", "orders", "short_units")

# -- fields of ``trajectory``: one record per sample and period ----------------------------------

END_ON_HAND = 0
"""On hand at the end of the period, units."""
END_BACKORDERS = 1
"""Backorders at the end of the period, units (0 under lost sales)."""
END_ON_ORDER = 2
"""On order (placed, not yet received) at the end of the period, units."""
ORDERED = 3
"""Units ordered at the review of the period."""
SERVED_NOW = 4
"""Units of the period's demand served from stock."""
UNMET = 5
"""Units of the period's demand not served from stock (backordered or lost)."""

TRAJECTORY_FIELDS = ("end_on_hand", "end_backorders", "end_on_order", "ordered", "served",
                     "unmet")


@numba.njit(cache=True)
def _simulate_sample(sample, demand, kind, reorder_point, order_up_to, order_quantity,
                     lead_time, holding_cost, shortage_cost, fixed_cost, backorders, warmup,
                     out, trajectory):
    """Simulate row ``sample`` of ``demand`` and write its row of ``out`` (and ``trajectory``)."""
    periods = demand.shape[1]
    record = trajectory.shape[0] > 0
    # pipeline[slot] holds the units arriving at the start of period t (slot = t mod L): the
    # slot emptied by the arrival of period t takes the order placed in period t, due at t + L
    pipeline = np.zeros(max(lead_time, 1))
    slot = 0
    on_hand = max(order_up_to, 0.0)
    backordered = max(-order_up_to, 0.0) if backorders else 0.0
    on_order = 0.0

    total_cost = holding_total = shortage_total = ordering_total = 0.0
    demanded = served_total = on_hand_total = short_total = 0.0
    no_stockout = 0
    order_count = 0
    for t in range(periods):
        # (1) receive the order placed at t - L; serve backorders first
        if lead_time > 0:
            arriving = pipeline[slot]
            pipeline[slot] = 0.0
            on_order -= arriving
            on_hand += arriving
            filled = min(on_hand, backordered)
            on_hand -= filled
            backordered -= filled

        # (2) review
        position = on_hand + on_order - backordered
        ordered = 0.0
        orders = 0
        if kind == BASE_STOCK:
            if position < order_up_to:
                ordered = order_up_to - position
                orders = 1
        elif kind == S_S:
            if position <= reorder_point:
                ordered = order_up_to - position
                orders = 1
        elif position <= reorder_point:  # R_Q
            orders = int(np.floor((reorder_point - position) / order_quantity)) + 1
            ordered = orders * order_quantity

        # (3) with L = 0 the order arrives now; else it joins the pipeline
        if orders > 0:
            if lead_time == 0:
                on_hand += ordered
                filled = min(on_hand, backordered)
                on_hand -= filled
                backordered -= filled
            else:
                pipeline[slot] += ordered
                on_order += ordered

        # (4) demand
        period_demand = demand[sample, t]
        served = min(on_hand, period_demand)
        on_hand -= served
        unmet = period_demand - served
        if backorders:
            backordered += unmet

        # (5) end-of-period costs
        short = backordered if backorders else unmet
        holding = holding_cost * on_hand
        shortage = shortage_cost * short
        ordering = fixed_cost * orders
        if t >= warmup:
            total_cost += holding + shortage + ordering
            holding_total += holding
            shortage_total += shortage
            ordering_total += ordering
            demanded += period_demand
            served_total += served
            if unmet <= 0.0:
                no_stockout += 1
            on_hand_total += on_hand
            order_count += orders
            short_total += short
        if record:
            trajectory[sample, t, END_ON_HAND] = on_hand
            trajectory[sample, t, END_BACKORDERS] = backordered
            trajectory[sample, t, END_ON_ORDER] = on_order
            trajectory[sample, t, ORDERED] = ordered
            trajectory[sample, t, SERVED_NOW] = served
            trajectory[sample, t, UNMET] = unmet
        slot += 1  # t + 1 mod L, without a division
        if slot == lead_time:
            slot = 0

    out[sample, TOTAL_COST] = total_cost
    out[sample, HOLDING_COST] = holding_total
    out[sample, SHORTAGE_COST] = shortage_total
    out[sample, ORDERING_COST] = ordering_total
    out[sample, DEMAND] = demanded
    out[sample, SERVED] = served_total
    out[sample, NO_STOCKOUT_PERIODS] = no_stockout
    out[sample, ON_HAND] = on_hand_total
    out[sample, ORDERS] = order_count
    out[sample, SHORT_UNITS] = short_total


@numba.njit(cache=True)
def simulate_samples(demand, kind, reorder_point, order_up_to, order_quantity, lead_time,
                     holding_cost, shortage_cost, fixed_cost, backorders, warmup, out,
                     trajectory):
    """Simulate every sample of one location under one policy, one sample after another.

    Parameters
    ----------
    demand : numpy.ndarray of float64, shape (sample, period), C-contiguous
        Demand d_t >= 0 of each sample and period, units.
    kind : int
        Policy kind: `BASE_STOCK`, `S_S` or `R_Q`.
    reorder_point : float
        s of (s, S) or r of (r, Q), units (unused for base stock).
    order_up_to : float
        S of base stock or (s, S); r + Q for (r, Q) (only the starting state), units.
    order_quantity : float
        Q > 0 of (r, Q), units (unused otherwise).
    lead_time : int
        Lead time L >= 0, periods.
    holding_cost, shortage_cost, fixed_cost : float
        h per unit on hand per period, p per unit short (see `SHORT_UNITS`), K per order;
        cost units.
    backorders : bool
        True: unmet demand is backordered; False: it is lost.
    warmup : int
        Periods simulated before the statistics start, 0 <= warmup < periods.
    out : numpy.ndarray of float64, shape (sample, len(STATISTICS))
        Overwritten with the statistics of each sample (columns `TOTAL_COST`, ...).
    trajectory : numpy.ndarray of float64, shape (sample, period, len(TRAJECTORY_FIELDS))
        or (0, period, len(TRAJECTORY_FIELDS))
        Overwritten with every period's record, or left alone when it has no rows.
    """
    for sample in range(demand.shape[0]):
        _simulate_sample(sample, demand, kind, reorder_point, order_up_to, order_quantity,
                         lead_time, holding_cost, shortage_cost, fixed_cost, backorders, warmup,
                         out, trajectory)


@numba.njit(cache=True, parallel=True)
def simulate_samples_parallel(demand, kind, reorder_point, order_up_to, order_quantity,
                              lead_time, holding_cost, shortage_cost, fixed_cost, backorders,
                              warmup, out, trajectory):
    """`simulate_samples` with the samples spread over numba's threads (``prange``).

    Every sample reads only its row of ``demand`` and writes only its rows of ``out`` and
    ``trajectory``, so the results are identical to `simulate_samples` whatever the number of
    threads.
    """
    for sample in numba.prange(demand.shape[0]):
        _simulate_sample(sample, demand, kind, reorder_point, order_up_to, order_quantity,
                         lead_time, holding_cost, shortage_cost, fixed_cost, backorders, warmup,
                         out, trajectory)
