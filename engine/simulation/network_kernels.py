"""numba kernels: Monte Carlo simulation of a multi-location network, one SKU at a time.

The kernels take contiguous arrays and plain scalars and write into preallocated outputs; they
never validate (`engine.simulation.network` does, once, in front of them) and import only numpy
and numba. Every SKU is simulated on its own: it reads only its rows of the inputs and writes only
its rows of the outputs, and its random lead times are keyed by (SKU key, sample, period,
location), so results do not depend on the number of threads, the order of the SKUs or how they
are split into chunks.

Model
-----
Locations ``0..L-1`` form a forest: ``source[v]`` is the location that replenishes ``v`` or -1
for a location that buys from an outside supplier, which ships at most ``supply_limit[k, v]``
units of a request at once (the rest is dropped: the position stays low and the location orders
again at its next review). (s, S) at every location, reviewed every ``review_period[v]``
periods (at t = 0, R, 2R, ...): when the **inventory position** (on hand plus in transit to the
location, minus the customer backorders it owes) is at or below s at a review, the location
requests S - position from its source. Quantities are units (float64, whole or fractional),
time is in periods.

Demand arrives on **streams** (a channel in a region). A stream has its eligible locations in
preference order; unmet demand is backordered at the stream's first eligible location
(``backorders``) or lost.

Starting state (period 0): ``on_hand[sku, v]``; everything in ``inbound[sku, v, a]`` is in
transit and arrives at the start of period a (units due at a >= periods are in transit for the
whole horizon and count in the position); no backorders.

Event order within period t
---------------------------
1. **Arrivals.** At every location, the units due at the start of t arrive; they serve the
   location's backorders first (streams in serving order, see 4).
2. **Review and 3. shipping**, location by location from the leaves to the roots
   (``location_order``: pools before RDCs before DCs). At location v:

   a. v ships to the downstream locations that requested this period (they were reviewed
      before v). If v's on hand covers every request, each gets its request; otherwise v
      rations its on hand A < R = sum of the requests r_c:

      - `PRIORITY`: requesters in decreasing priority weight (ties: lower location index
        first; ``children`` is sorted so), each filled in full, min(r_c, what is left), before
        the next;
      - `FAIR_SHARE`: proportional to the requests in whole units: with W = floor(A), each gets
        floor(W r_c / R), and the W - sum of those units left go one each to the requesters
        with the largest remainders W r_c - R floor(W r_c / R) > 0 (ties: lower location
        index), never beyond r_c. With whole stock and requests exactly W = A units ship.

      The unfilled part of a request is dropped: the requester's position stays low and it
      requests again at its next review.
   b. v is reviewed when t is a multiple of its review period: position y = on hand + in
      transit - backorders owed; if y <= s and S - y > 0 it requests S - y. A buying location
      (source -1) orders from the supplier, which ships min(S - y, supply_limit) at once.

   Every shipment (and supplier order) to location c draws its lead time from c's inbound
   lane, ``lead_time_cdf[c]``. Lead time 0: it arrives at once (serving c's backorders
   first), in time for this period's demand but after c shipped to its own requesters;
   lead time l >= 1: it arrives at the start of period t + l.
4. **Demand.** Streams are served one after another in ``serving_order`` (decreasing stream
   priority, ties by stream index). A stream takes what it can from its first eligible
   location, spills the rest over to the next, and so on; what remains is backordered at its
   first eligible location (``backorders``) or lost. A period with unmet demand is a stockout
   period of the stream. Downstream replenishment comes first: a location ships to the
   locations it feeds (3) before its own customers' demand of the period (4).
5. **Charges** at the end of the period: holding cost per unit on hand at every location;
   shortage cost per unit backordered at the end of the period (backorders) or per unit lost
   in the period (lost sales); the order cost of a location per shipment it receives (a
   dropped request costs nothing).

With one location fed by the supplier, a deterministic lead time and one stream, these are the
events of `engine.simulation.kernels` for an (s, S) policy, in the same floating-point order, so
the two give identical statistics from the same draws.

Random lead times
-----------------
A lane whose pmf has one point (``fixed_lead_time[c] >= 0``) draws nothing. Otherwise the lead
time of the shipment to c in (sample, period) is the inverse of ``lead_time_cdf[c]`` at
u = `lead_time_uniform` (key, sample, period, c): the SplitMix64 output (Steele, Lea and Flood,
"Fast splittable pseudorandom number generators", OOPSLA 2014) at the counter
(sample << 32) | (period << 16) | c of the stream seeded with the SKU's 64-bit key, as a double in
[0, 1) from its top 53 bits. At most one shipment goes to a location per period, so every draw
has its own counter: the draws do not depend on the order of the events, on other SKUs or on
the number of periods simulated. Needs periods and locations < 2**16, samples < 2**32.

Outputs
-------
``stream_out[stream, sample, statistic]`` and ``location_out[sku, location, sample, statistic]``
hold, for each sample, sums over the periods of the quantities named by the column indices
below (`STREAM_STATISTICS`, `LOCATION_STATISTICS`), or the end-of-horizon state (``END_``).
When the trajectory arrays have rows, every period is recorded: ``location_trajectory[sku,
sample, period, location, field]`` (`LOCATION_FIELDS`), ``stream_trajectory[stream, sample,
period, field]`` (`STREAM_FIELDS`) and ``served_from[stream, sample, period, location]``; with
zero rows nothing is recorded.
"""

from __future__ import annotations

import numba
import numpy as np

# -- rationing rules (the codes `engine.simulation.network` maps the names to) -------------------

PRIORITY = 0
"""Requesters in decreasing priority weight, each filled in full before the next."""
FAIR_SHARE = 1
"""Proportional to the requests, whole units by largest remainder."""

RATIONING_RULES = (PRIORITY, FAIR_SHARE)

# -- columns of ``stream_out``: one stream, one sample, summed over the periods ------------------

STREAM_DEMAND = 0
"""Units demanded."""
STREAM_SERVED = 1
"""Units served from stock in the period they were demanded (the fill rate's numerator)."""
STREAM_LOST = 2
"""Units lost (lost-sales streams)."""
STREAM_BACKORDERS = 3
"""End-of-period backorders summed over the periods, unit-periods (backorder streams)."""
STREAM_STOCKOUT_PERIODS = 4
"""Periods with unmet demand."""
STREAM_SHORTAGE_COST = 5
"""Shortage cost: p x `STREAM_BACKORDERS` or p x `STREAM_LOST`, cost units."""
STREAM_BACKORDERS_FILLED = 6
"""Backordered units delivered later, from arrivals at the first eligible location."""
STREAM_END_BACKORDERS = 7
"""Backorders still open at the end of the last period, units."""

STREAM_STATISTICS = ("demand", "served", "lost", "backorders", "stockout_periods",
                     "shortage_cost", "backorders_filled", "end_backorders")

# -- columns of ``location_out``: one SKU at one location, one sample ----------------------------

LOCATION_ON_HAND = 0
"""End-of-period on hand summed over the periods, unit-periods."""
LOCATION_HOLDING_COST = 1
"""h x end-of-period on hand, summed, cost units."""
LOCATION_ORDERS = 2
"""Requests placed (to the source; a DC's orders to the supplier)."""
LOCATION_ORDERED_UNITS = 3
"""Units requested."""
LOCATION_SHIPMENTS = 4
"""Shipments received (dispatched to the location, whatever their lead time)."""
LOCATION_REPLENISHED_UNITS = 5
"""Units dispatched to the location by its source or the supplier."""
LOCATION_SHIPPED_UNITS = 6
"""Units the location shipped to downstream locations."""
LOCATION_SERVED_UNITS = 7
"""Units of customer demand served from the location's stock in the period demanded."""
LOCATION_BACKORDERS_FILLED = 8
"""Customer backorders the location filled from arrivals."""
LOCATION_ORDERING_COST = 9
"""Order cost x `LOCATION_SHIPMENTS`, cost units."""
LOCATION_END_ON_HAND = 10
"""On hand at the end of the last period, units."""
LOCATION_END_IN_TRANSIT = 11
"""In transit to the location at the end of the last period (dispatched or scheduled, not yet
arrived; includes ``inbound`` due after the horizon), units."""
LOCATION_END_BACKORDERS = 12
"""Customer backorders owed by the location at the end of the last period, units."""

LOCATION_STATISTICS = ("on_hand", "holding_cost", "orders", "ordered_units", "shipments",
                       "replenished_units", "shipped_units", "served_units",
                       "backorders_filled", "ordering_cost", "end_on_hand", "end_in_transit",
                       "end_backorders")

# -- fields of ``location_trajectory``: one location, one sample, one period ---------------------

ARRIVED = 0
"""Units that arrived in the period (the pipeline at the start, plus lead-time-0 shipments)."""
AVAILABLE = 1
"""On hand when the location shipped to its requesters (after arrivals and backorders)."""
SHIPPED = 2
"""Units shipped to downstream locations."""
REQUESTED = 3
"""Units requested at the review (0 if none)."""
REPLENISHED = 4
"""Units dispatched to the location (by its source or the supplier)."""
LEAD_TIME = 5
"""Lead time of that shipment, periods (-1 if none)."""
SERVED_HERE = 6
"""Units of customer demand served from the location."""
FILLED_HERE = 7
"""Customer backorders the location filled."""
END_ON_HAND = 8
"""On hand at the end of the period."""
END_OWED = 9
"""Customer backorders owed at the end of the period."""
END_IN_TRANSIT = 10
"""In transit to the location at the end of the period."""

LOCATION_FIELDS = ("arrived", "available", "shipped", "requested", "replenished", "lead_time",
                   "served", "backorders_filled", "end_on_hand", "end_backorders",
                   "end_in_transit")

# -- fields of ``stream_trajectory``: one stream, one sample, one period -------------------------

DEMANDED = 0
"""Units demanded."""
SERVED_NOW = 1
"""Units served from stock (all eligible locations)."""
UNMET = 2
"""Units not served from stock (backordered or lost)."""
LOST_NOW = 3
"""Units lost (0 for backorder streams)."""
FILLED_NOW = 4
"""Backorders of the stream filled at arrivals in the period."""
END_BACKLOG = 5
"""Backorders of the stream open at the end of the period."""

STREAM_FIELDS = ("demand", "served", "unmet", "lost", "backorders_filled", "end_backorders")

# -- counter-based uniforms for the lead times ---------------------------------------------------

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_TWO_TO_MINUS_53 = 2.0 ** -53


@numba.njit(cache=True, nogil=True)
def lead_time_uniform(key, sample, period, location):
    """Uniform double in [0, 1) for the shipment to ``location`` in (``sample``, ``period``).

    The SplitMix64 output at position (sample << 32) | (period << 16) | location of the stream
    seeded with ``key`` (uint64).
    """
    counter = ((np.uint64(sample) << np.uint64(32)) | (np.uint64(period) << np.uint64(16))
               | np.uint64(location))
    z = key + (counter + np.uint64(1)) * _GOLDEN
    z = (z ^ (z >> np.uint64(30))) * _MIX1
    z = (z ^ (z >> np.uint64(27))) * _MIX2
    z = z ^ (z >> np.uint64(31))
    return np.float64(z >> np.uint64(11)) * _TWO_TO_MINUS_53


@numba.njit(cache=True, nogil=True)
def _fill_backorders(v, on_hand, owed, backlog, first_stream, serving_order, backorders,
                     first_location, stream_stats, location_stats, record, k, sample, t,
                     location_trajectory, stream_trajectory):
    """Fill the backorders v owes from its on hand, streams in serving order."""
    for j in range(backlog.shape[0]):
        if on_hand[v] <= 0.0:
            break
        s = serving_order[first_stream + j]
        local = s - first_stream
        if backorders[s] and first_location[local] == v and backlog[local] > 0.0:
            filled = min(on_hand[v], backlog[local])
            on_hand[v] -= filled
            backlog[local] -= filled
            owed[v] -= filled
            stream_stats[local, STREAM_BACKORDERS_FILLED] += filled
            location_stats[v, LOCATION_BACKORDERS_FILLED] += filled
            if record:
                stream_trajectory[s, sample, t, FILLED_NOW] += filled
                location_trajectory[k, sample, t, v, FILLED_HERE] += filled


@numba.njit(cache=True, nogil=True)
def _ration(rule, available, total, first, last, children, request, shipment, bumped):
    """Ration ``available`` < ``total`` requested among ``children[first:last]``: fill
    ``shipment[c]`` of each."""
    if rule == PRIORITY:
        left = available
        for j in range(first, last):
            c = children[j]
            shipment[c] = 0.0
            if request[c] > 0.0:
                given = min(request[c], left)
                shipment[c] = given
                left -= given
        return
    # FAIR_SHARE
    whole = np.floor(available)
    handed = 0.0
    for j in range(first, last):
        c = children[j]
        bumped[c] = False
        shipment[c] = 0.0
        if request[c] > 0.0:
            shipment[c] = np.floor(whole * request[c] / total)
            handed += shipment[c]
    extra = whole - handed
    while extra >= 1.0:
        best = -1
        best_remainder = 0.0
        for j in range(first, last):
            c = children[j]
            if request[c] <= 0.0 or bumped[c]:
                continue
            remainder = whole * request[c] - shipment[c] * total
            if remainder > 0.0 and (best < 0 or remainder > best_remainder
                                    or (remainder == best_remainder and c < best)):
                best = c
                best_remainder = remainder
        if best < 0:
            break
        bumped[best] = True
        shipment[best] = min(shipment[best] + 1.0, request[best])
        extra -= 1.0


@numba.njit(cache=True, nogil=True)
def _simulate_sku(k, rationing, source, location_order, children_ptr, children,
                  lead_time_cdf, fixed_lead_time, reorder_point, order_up_to, holding_cost,
                  order_cost, review_period, supply_limit, initial_on_hand, inbound, lead_key,
                  sku_stream_ptr, stream_ptr,
                  stream_locations, serving_order, backorders, shortage_cost, demand,
                  demand_offset, stream_out, location_out, location_trajectory,
                  stream_trajectory, served_from):
    """Simulate every sample of SKU k and write its rows of the outputs.

    The hot path is written out in one function (helpers with many array arguments cost more
    to call than the work they do); only the rare events, rationing and filling backorders,
    are calls.
    """
    locations = source.shape[0]
    samples = demand.shape[1]
    periods = demand.shape[2]
    scheduled = min(inbound.shape[2], periods)
    record = location_trajectory.shape[0] > 0
    key = lead_key[k]
    first_stream = sku_stream_ptr[k]
    streams = sku_stream_ptr[k + 1] - first_stream

    on_hand = np.empty(locations)
    on_order = np.empty(locations)
    owed = np.empty(locations)
    request = np.zeros(locations)
    shipment = np.zeros(locations)  # units dispatched to each location in the period
    bumped = np.zeros(locations, dtype=np.bool_)
    targets = np.empty(locations + 1, dtype=np.int64)  # destinations of a location's shipments
    pipeline = np.empty((locations, periods + lead_time_cdf.shape[1]))
    initial_on_order = np.zeros(locations)
    for v in range(locations):
        for a in range(inbound.shape[2]):
            initial_on_order[v] += inbound[k, v, a]
    backlog = np.empty(streams)
    first_location = np.empty(streams, dtype=np.int64)
    for local in range(streams):
        first_location[local] = stream_locations[stream_ptr[first_stream + local]]
    stream_stats = np.empty((streams, len(STREAM_STATISTICS)))
    location_stats = np.empty((locations, len(LOCATION_STATISTICS)))

    for sample in range(samples):
        for v in range(locations):
            on_hand[v] = initial_on_hand[k, v]
            on_order[v] = initial_on_order[v]
            owed[v] = 0.0
            for a in range(pipeline.shape[1]):
                pipeline[v, a] = inbound[k, v, a] if a < scheduled else 0.0
        backlog[:] = 0.0
        stream_stats[:, :] = 0.0
        location_stats[:, :] = 0.0

        for t in range(periods):
            # (1) arrivals; they serve the location's backorders first
            for v in range(locations):
                request[v] = 0.0
                arriving = pipeline[v, t]
                if record:
                    location_trajectory[k, sample, t, v, ARRIVED] = arriving
                    location_trajectory[k, sample, t, v, LEAD_TIME] = -1.0
                if arriving > 0.0:
                    on_order[v] -= arriving
                    on_hand[v] += arriving
                    if owed[v] > 0.0:
                        _fill_backorders(v, on_hand, owed, backlog, first_stream,
                                         serving_order, backorders, first_location,
                                         stream_stats, location_stats, record, k, sample, t,
                                         location_trajectory, stream_trajectory)

            # (2, 3) leaves to roots: v ships to its requesters, is reviewed, and then what
            # it shipped (and a DC's supplier order) is dispatched. Dispatching after the
            # review changes nothing: it touches only the destinations.
            for i in range(locations):
                v = location_order[i]
                first, last = children_ptr[v], children_ptr[v + 1]
                if record:
                    location_trajectory[k, sample, t, v, AVAILABLE] = on_hand[v]
                dispatches = 0
                total = 0.0
                for j in range(first, last):
                    total += request[children[j]]
                if total > 0.0:
                    if total <= on_hand[v]:
                        for j in range(first, last):
                            shipment[children[j]] = request[children[j]]
                    else:
                        _ration(rationing, on_hand[v], total, first, last, children, request,
                                shipment, bumped)
                    for j in range(first, last):
                        c = children[j]
                        if shipment[c] > 0.0:
                            on_hand[v] -= shipment[c]
                            location_stats[v, LOCATION_SHIPPED_UNITS] += shipment[c]
                            if record:
                                location_trajectory[k, sample, t, v, SHIPPED] += shipment[c]
                            targets[dispatches] = c
                            dispatches += 1

                position = on_hand[v] + on_order[v] - owed[v]
                if t % review_period[v] == 0 and position <= reorder_point[k, v]:
                    units = order_up_to[k, v] - position
                    if units > 0.0:
                        request[v] = units
                        location_stats[v, LOCATION_ORDERS] += 1.0
                        location_stats[v, LOCATION_ORDERED_UNITS] += units
                        if record:
                            location_trajectory[k, sample, t, v, REQUESTED] = units
                        if source[v] < 0:  # the supplier delivers up to its limit
                            shipment[v] = min(units, supply_limit[k, v])
                            if shipment[v] > 0.0:
                                targets[dispatches] = v
                                dispatches += 1

                for m in range(dispatches):
                    c = targets[m]
                    units = shipment[c]
                    lead = fixed_lead_time[c]
                    if lead < 0:  # draw from c's inbound lane
                        u = lead_time_uniform(key, sample, t, c)
                        lead = 0
                        while u >= lead_time_cdf[c, lead]:
                            lead += 1
                    location_stats[c, LOCATION_SHIPMENTS] += 1.0
                    location_stats[c, LOCATION_REPLENISHED_UNITS] += units
                    location_stats[c, LOCATION_ORDERING_COST] += order_cost[k, c]
                    if record:
                        location_trajectory[k, sample, t, c, REPLENISHED] = units
                        location_trajectory[k, sample, t, c, LEAD_TIME] = lead
                    if lead > 0:
                        pipeline[c, t + lead] += units
                        on_order[c] += units
                    else:  # arrives at once, serving c's backorders first
                        on_hand[c] += units
                        if record:
                            location_trajectory[k, sample, t, c, ARRIVED] += units
                        if owed[c] > 0.0:
                            _fill_backorders(c, on_hand, owed, backlog, first_stream,
                                             serving_order, backorders, first_location,
                                             stream_stats, location_stats, record, k, sample,
                                             t, location_trajectory, stream_trajectory)

            # (4) demand, streams in serving order, spilling over the eligible locations
            for j in range(streams):
                s = serving_order[first_stream + j]
                local = s - first_stream
                demanded = demand[s - demand_offset, sample, t]
                served = 0.0
                for p in range(stream_ptr[s], stream_ptr[s + 1]):
                    if served >= demanded:
                        break
                    v = stream_locations[p]
                    taken = min(on_hand[v], demanded - served)
                    if taken > 0.0:
                        on_hand[v] -= taken
                        served += taken
                        location_stats[v, LOCATION_SERVED_UNITS] += taken
                        if record:
                            served_from[s, sample, t, v] = taken
                            location_trajectory[k, sample, t, v, SERVED_HERE] += taken
                unmet = demanded - served
                stream_stats[local, STREAM_DEMAND] += demanded
                stream_stats[local, STREAM_SERVED] += served
                lost = 0.0
                if unmet > 0.0:
                    stream_stats[local, STREAM_STOCKOUT_PERIODS] += 1.0
                    if backorders[s]:
                        backlog[local] += unmet
                        owed[first_location[local]] += unmet
                    else:
                        lost = unmet
                        stream_stats[local, STREAM_LOST] += unmet
                # (5) shortage charge: end-of-period backorders (a stream's backlog changes
                # no more in the period) or the units lost
                short = backlog[local] if backorders[s] else lost
                stream_stats[local, STREAM_SHORTAGE_COST] += shortage_cost[s] * short
                if backorders[s]:
                    stream_stats[local, STREAM_BACKORDERS] += backlog[local]
                if record:
                    stream_trajectory[s, sample, t, DEMANDED] = demanded
                    stream_trajectory[s, sample, t, SERVED_NOW] = served
                    stream_trajectory[s, sample, t, UNMET] = unmet
                    stream_trajectory[s, sample, t, LOST_NOW] = lost
                    stream_trajectory[s, sample, t, END_BACKLOG] = backlog[local]

            # (5) holding charge on the end-of-period on hand
            for v in range(locations):
                location_stats[v, LOCATION_ON_HAND] += on_hand[v]
                location_stats[v, LOCATION_HOLDING_COST] += holding_cost[k, v] * on_hand[v]
                if record:
                    location_trajectory[k, sample, t, v, END_ON_HAND] = on_hand[v]
                    location_trajectory[k, sample, t, v, END_OWED] = owed[v]
                    location_trajectory[k, sample, t, v, END_IN_TRANSIT] = on_order[v]

        for v in range(locations):
            location_stats[v, LOCATION_END_ON_HAND] = on_hand[v]
            location_stats[v, LOCATION_END_IN_TRANSIT] = on_order[v]
            location_stats[v, LOCATION_END_BACKORDERS] = owed[v]
            for f in range(len(LOCATION_STATISTICS)):
                location_out[k, v, sample, f] = location_stats[v, f]
        for local in range(streams):
            stream_stats[local, STREAM_END_BACKORDERS] = backlog[local]
            for f in range(len(STREAM_STATISTICS)):
                stream_out[first_stream + local, sample, f] = stream_stats[local, f]


@numba.njit(cache=True, nogil=True)
def simulate_skus(sku_start, sku_stop, rationing, source, location_order, children_ptr,
                  children, lead_time_cdf, fixed_lead_time, reorder_point, order_up_to,
                  holding_cost, order_cost, review_period, supply_limit, on_hand, inbound, lead_key,
                  sku_stream_ptr,
                  stream_ptr, stream_locations, serving_order, backorders, shortage_cost,
                  demand, demand_offset, stream_out, location_out, location_trajectory,
                  stream_trajectory, served_from):
    """Simulate SKUs ``sku_start, ..., sku_stop - 1``, one after another.

    Parameters
    ----------
    sku_start, sku_stop : int
        The SKUs simulated, 0 <= sku_start <= sku_stop <= K.
    rationing : int
        `PRIORITY` or `FAIR_SHARE`.
    source : numpy.ndarray of int64, shape (location,)
        Replenishment source of each location, or -1 (supplier).
    review_period : numpy.ndarray of int64, shape (location,)
        Periods between reviews (>= 1): location v reviews at t % review_period[v] == 0.
    supply_limit : numpy.ndarray of float64, shape (sku, location)
        Largest supplier shipment per period of a buying location (inf: no limit).
    location_order : numpy.ndarray of int64, shape (location,)
        Every location once, leaves before their sources.
    children_ptr : numpy.ndarray of int64, shape (location + 1,)
        ``children[children_ptr[v]:children_ptr[v + 1]]`` are the locations v replenishes.
    children : numpy.ndarray of int64, shape (number of locations with a source,)
        Each group sorted by decreasing priority weight, ties by increasing index.
    lead_time_cdf : numpy.ndarray of float64, shape (location, Lmax + 1)
        P(lead time <= l) of each location's inbound lane, exactly 1.0 from the largest lead
        time with positive probability on.
    fixed_lead_time : numpy.ndarray of int64, shape (location,)
        The lead time of a lane with a one-point pmf, -1 for a random one, periods.
    reorder_point, order_up_to : numpy.ndarray of float64, shape (sku, location)
        s and S of each SKU at each location, units (s may be -inf: never reorders).
    holding_cost : numpy.ndarray of float64, shape (sku, location)
        h per unit on hand at the end of a period, cost units per unit-period.
    order_cost : numpy.ndarray of float64, shape (sku, location)
        Cost per shipment received, cost units.
    on_hand : numpy.ndarray of float64, shape (sku, location)
        On hand at the start of period 0, units.
    inbound : numpy.ndarray of float64, shape (sku, location, A)
        Units in transit arriving at the start of period a (a >= periods: after the horizon).
    lead_key : numpy.ndarray of uint64, shape (sku,)
        Seed of each SKU's lead-time draws (`lead_time_uniform`).
    sku_stream_ptr : numpy.ndarray of int64, shape (sku + 1,)
        The streams of SKU k are ``sku_stream_ptr[k]:sku_stream_ptr[k + 1]``.
    stream_ptr : numpy.ndarray of int64, shape (stream + 1,)
        The eligible locations of stream s are ``stream_locations[stream_ptr[s]:stream_ptr[s +
        1]]``, in preference order.
    stream_locations : numpy.ndarray of int64
    serving_order : numpy.ndarray of int64, shape (stream,)
        Within each SKU's block of streams, the streams in the order they are served.
    backorders : numpy.ndarray of bool, shape (stream,)
        True: unmet demand is backordered at the first eligible location; False: lost.
    shortage_cost : numpy.ndarray of float64, shape (stream,)
        p per unit backordered at the end of a period or per unit lost, cost units.
    demand : numpy.ndarray of float64, shape (rows, sample, period)
        Demand of stream s in row ``s - demand_offset``, units; its shape sets the samples and
        periods simulated.
    demand_offset : int
        The stream of row 0 of ``demand``.
    stream_out : numpy.ndarray of float64, shape (stream, sample, len(STREAM_STATISTICS))
    location_out : numpy.ndarray of float64, shape (sku, location, sample,
        len(LOCATION_STATISTICS))
        Rows of the simulated SKUs overwritten.
    location_trajectory : numpy.ndarray of float64, shape (sku, sample, period, location,
        len(LOCATION_FIELDS)), or zero rows
    stream_trajectory : numpy.ndarray of float64, shape (stream, sample, period,
        len(STREAM_FIELDS)), or zero rows
    served_from : numpy.ndarray of float64, shape (stream, sample, period, location), or zero
        rows
        Recorded (rows of the simulated SKUs overwritten, which must be zero on entry) when
        ``location_trajectory`` has rows, else left alone.
    """
    for k in range(sku_start, sku_stop):
        _simulate_sku(k, rationing, source, location_order, children_ptr, children,
                      lead_time_cdf, fixed_lead_time, reorder_point, order_up_to, holding_cost,
                      order_cost, review_period, supply_limit, on_hand, inbound, lead_key,
                      sku_stream_ptr, stream_ptr,
                      stream_locations, serving_order, backorders, shortage_cost, demand,
                      demand_offset, stream_out, location_out, location_trajectory,
                      stream_trajectory, served_from)


@numba.njit(cache=True, nogil=True, parallel=True)
def simulate_skus_parallel(sku_start, sku_stop, rationing, source, location_order,
                           children_ptr, children, lead_time_cdf, fixed_lead_time,
                           reorder_point, order_up_to, holding_cost, order_cost, review_period,
                           supply_limit, on_hand,
                           inbound, lead_key, sku_stream_ptr, stream_ptr, stream_locations,
                           serving_order, backorders, shortage_cost, demand, demand_offset,
                           stream_out, location_out, location_trajectory, stream_trajectory,
                           served_from):
    """`simulate_skus` with the SKUs spread over numba's threads (``prange``).

    Every SKU reads only its rows of the inputs and writes only its rows of the outputs, so the
    results are identical to `simulate_skus` whatever the number of threads.
    """
    for i in numba.prange(sku_stop - sku_start):
        _simulate_sku(sku_start + i, rationing, source, location_order, children_ptr, children,
                      lead_time_cdf, fixed_lead_time, reorder_point, order_up_to, holding_cost,
                      order_cost, review_period, supply_limit, on_hand, inbound, lead_key,
                      sku_stream_ptr, stream_ptr,
                      stream_locations, serving_order, backorders, shortage_cost, demand,
                      demand_offset, stream_out, location_out, location_trajectory,
                      stream_trajectory, served_from)
