"""The time-phased deployment LP: tonight's moves over a coverage horizon of C periods.

The one-period model (`solvers.deployment`) has no time index: a unit moved tonight on a lane of
lead time 3 is valued against all of the horizon's demand while its origin loses it at once. This
model follows every unit through the periods t = 0 .. C-1 of the horizon (``problem.periods``);
`solvers.solve_deployment` uses it whenever ``problem.periods`` > 1. Only tonight's moves are
a decision; the later moves are the plan's intention, re-decided every night (a rolling
horizon).

Model
-----
Indices as in `solvers.deployment`, plus periods t, tau in 0 .. C-1. Lane e has lead time L_e;
lanes with L_e >= C are not offered (their stock would arrive after the horizon). Inbound stock
I[k,l,t] arrives at the start of period t (``problem.inbound_schedule``).

Variables, all >= 0::

    x[k,e,tau]  units of SKU k dispatched on lane e at the start of period tau, arriving at
                tau + L_e <= C - 1 (tau = 0: tonight's moves; later only on the lanes
                ``problem.later_lanes`` allows)
    y[s,l,tau]  units of stream s's demand in period tau served from location l, l in E(s)
    z[s,t,b]    units of stream s's cumulative service through period t in segment b of its
                period-t curve, z[s,t,b] <= w[s,t,b]
    u, v, g     shortfalls below safety stock, presentation stock and fair share (as in the
                one-period model, on the position after tonight's moves)

Stock available at l through period t (before serving demand)::

    A[k,l,t] = H[k,l] + sum_{tau<=t} I[k,l,tau] + sum_{e into l, tau+L_e<=t} x[k,e,tau]
               - sum_{e out of l, tau<=t} x[k,e,tau]

Objective, maximised::

    sum_{s,t,b} r[s,t,b] z[s,t,b] - sum_{k,e,tau} c_e x[k,e,tau] - sum_{k,l,t} h[k,l] A[k,l,t]
      - sum_{s,l,tau} f[s,l] y[s,l,tau] - sum pi u - sum rho v - sum phi g

with f[s,l] the cost per unit of serving stream s from l (``fulfilment_cost``), h the holding
cost per unit and period (stock in transit is charged at its origin's rate
until it arrives). Constraints::

    (outflow)   sum_{e out of l} x[k,e,0] <= H[k,l]                  tonight only stock on hand
    (balance)   sum_{s, tau<=t} y[s,l,tau] <= A[k,l,t]   for all t   cannot serve, nor send,
                                                                      what has not arrived
    (stream)    sum_{l, tau<=t} y[s,l,tau] = sum_b z[s,t,b]           cumulative service
    (location)  sum_k vol_k p[k,l] <= limit_l                        volume capacity
    (lane)      sum_k x[k,e,tau] <= U_e                   for all tau per night
    (safety)    u[k,l] >= SS[k,l] - p[k,l],  p = H + sum_t I + tonight's moves in - out
                (p: the position after tonight's moves, inbound counted in full)
    (present.)  v[k,l] >= MP[k,l] - p[k,l]
    (fair)      g[s] >= F_s - sum_{l,tau} y[s,l,tau]

**Value curves per period.** r[s,t,.] is non-increasing, so sum_b r[s,t,b] z[s,t,b] is a
concave function V_st of the stream's cumulative service Y_st through period t. The engine uses
V_st(Y) = (margin_s / C) E[min(D_s[0..t], Y)], D_s[0..t] the stream's demand over periods
0..t (`engine.stages.plan`): the expected sales of the horizon counted once per period they
are available for, so a unit that arrives at period t earns only for the periods from t on and
stock at the origin serves its own demand from period 0. A move tonight therefore pays only
when the destination's demand after the arrival is worth more than what the unit earns at the
origin over the horizon, plus the lane cost; holding costs accrue per period held, so stock
waits upstream (keeping the option to go anywhere) until a later move can still arrive in time.

**Capacity.** Location volume capacity binds the position after tonight's moves (inbound
counted in full), as in the one-period model and under the same `CapacityRule`; lane capacity
binds every night's moves. The later moves are not held to location capacity: they are
intentions, and tomorrow's LP holds its own moves to it.

**Bounded and feasible.** Every x is bounded by stock that exists (outflow and balance rows;
units are conserved per SKU), every y by the stock available and every z by y, so the LP is
bounded; doing nothing is feasible except under a ``"strict"`` capacity below the stock already
there, as in the one-period model.

Column blocks, in order (keys in brackets; SKU, stream and pair indices global):
``move`` [sku, lane] (tonight, tau = 0, where the origin holds the SKU), ``later_move`` [sku,
lane, period], ``allocation`` [pair, sku, stream, location, period] (y), ``fill`` [stream,
period, segment] (z), ``safety`` and ``presentation`` [sku, location], ``fair_share`` [stream].
Row blocks: ``outflow`` [sku, location], ``balance`` [sku, location, period], ``stream``
[stream, period], ``location_capacity`` [location], ``lane_capacity`` [lane, period],
``safety``, ``presentation`` [sku, location], ``fair_share`` [stream]. The LP is built with
whole-array numpy operations; the only Python loops run over the periods and the row blocks.
"""

from __future__ import annotations

import numpy as np

from solvers.formulation import DeploymentLP, _assemble, _Blocks, _lookup, _position_terms
from solvers.problem import DeploymentProblem


def _spread(base: np.ndarray, start: np.ndarray, periods: int):
    """For entries starting at period ``start``: (index of entry, period t) for t >= start."""
    entry = np.repeat(np.arange(base.size), periods)
    period = np.tile(np.arange(periods), base.size)
    keep = period >= np.repeat(start, periods)
    return entry[keep], period[keep]


def build_phased_lp(problem: DeploymentProblem, first: int, stop: int) -> DeploymentLP:
    """The time-phased LP of SKUs ``first .. stop - 1`` (model: the module docstring)."""
    C = problem.periods
    skus, locations = stop - first, problem.n_locations
    on_hand = problem.on_hand[first:stop]
    schedule = problem.inbound_schedule[first:stop]
    arrived = on_hand[:, :, None] + np.cumsum(schedule, axis=2)        # A with no moves
    held = on_hand + problem.inbound[first:stop]                        # p0
    holding = problem.holding_cost[first:stop]
    lanes = np.flatnonzero(problem.offered_lanes)
    origin, destination = problem.lane_origin, problem.lane_destination
    lead = problem.lane_lead_time
    has_lane_out = np.bincount(origin[lanes], minlength=locations) > 0
    least = problem.inbound[first:stop] + on_hand * ~has_lane_out

    # -- columns ----------------------------------------------------------------------------
    tonight = on_hand[:, origin[lanes]] > 0
    move_sku, move_lane = np.nonzero(tonight)
    move_lane = lanes[move_lane]
    stocked = held.sum(axis=1) > 0                              # SKUs with stock to move later
    later_sku, later_lane, later_period = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)], \
        [np.zeros(0, np.int64)]
    later_ok = problem.later_lanes[lanes]
    for tau in range(1, C):
        sku, lane = np.nonzero(stocked[:, None] & (later_ok & (lead[lanes] + tau < C))[None, :])
        later_sku.append(sku)
        later_lane.append(lanes[lane])
        later_period.append(np.full(sku.size, tau))
    later_sku, later_lane, later_period = (np.concatenate(part).astype(np.int64) for part in
                                           (later_sku, later_lane, later_period))
    # every move: local SKU, lane, dispatch period
    all_sku = np.concatenate([move_sku, later_sku])
    all_lane = np.concatenate([move_lane, later_lane]).astype(np.int64)
    all_period = np.concatenate([np.zeros(move_sku.size, int), later_period]).astype(np.int64)

    pairs = problem.pairs_of(first, stop)
    pair_stream = problem.pair_stream[pairs]
    pair_location = problem.pair_location[pairs]
    pair_sku = problem.stream_sku[pair_stream] - first
    pair_position = problem.stream_position(pair_stream, first)
    streams = problem.streams_of(first, stop)
    width = problem.period_width[streams]                      # (streams, C, segments)
    fill_position, fill_period, fill_segment = np.nonzero(width > 0)
    safety = np.nonzero((problem.safety_stock[first:stop] > least)
                        & (problem.shortfall_penalty[first:stop] > 0))
    presentation = np.nonzero((problem.min_presentation[first:stop] > least)
                              & (problem.presentation_penalty[first:stop] > 0))
    (fair_position,) = np.nonzero((problem.fair_share_floor[streams] > 0)
                                  & (problem.fair_share_penalty[streams] > 0))

    columns = _Blocks()
    moves = all_sku.size
    move = columns.add("move", move_sku.size, sku=move_sku + first, lane=move_lane)
    columns.add("later_move", later_sku.size, sku=later_sku + first, lane=later_lane,
                period=later_period)
    y_pair = np.repeat(np.arange(pairs.size), C)
    y_period = np.tile(np.arange(C), pairs.size)
    allocation = columns.add("allocation", y_pair.size, pair=pairs[y_pair],
                             sku=pair_sku[y_pair] + first, stream=pair_stream[y_pair],
                             location=pair_location[y_pair], period=y_period)
    fill = columns.add("fill", fill_position.size, stream=streams[fill_position],
                       period=fill_period, segment=fill_segment)
    safety_start = columns.add("safety", safety[0].size, sku=safety[0] + first,
                               location=safety[1])
    presentation_start = columns.add("presentation", presentation[0].size,
                                     sku=presentation[0] + first, location=presentation[1])
    fair_start = columns.add("fair_share", fair_position.size, stream=streams[fair_position])
    move_column = move + np.arange(moves)
    y_column = allocation + np.arange(y_pair.size)

    # holding: stock is charged at its origin until it arrives, at its destination after
    arrive = all_period + lead[all_lane]
    all_origin, all_destination = origin[all_lane], destination[all_lane]
    move_gain = (-problem.lane_cost[all_lane]
                 + (holding[all_sku, all_origin] - holding[all_sku, all_destination])
                 * (C - arrive))
    objective = np.concatenate([
        move_gain,
        -problem.fulfilment_cost[pairs[y_pair]],
        problem.period_value[streams[fill_position], fill_period, fill_segment],
        -problem.shortfall_penalty[first:stop][safety],
        -problem.presentation_penalty[first:stop][presentation],
        -problem.fair_share_penalty[streams[fair_position]],
    ])
    col_lower = np.zeros(columns.size)
    col_upper = np.concatenate([
        on_hand[move_sku, origin[move_lane]],
        np.full(later_sku.size + y_pair.size, np.inf),
        width[fill_position, fill_period, fill_segment],
        np.full(columns.size - fill - fill_position.size, np.inf),
    ])

    # -- rows -------------------------------------------------------------------------------
    # balance rows: every (sku, location) that serves a stream or has a lane out, x period
    places = np.zeros((skus, locations), dtype=bool)
    places[pair_sku, pair_location] = True
    places[all_sku, all_origin] = True
    place = np.nonzero(places)
    place_of = _lookup((skus, locations), place)                   # -> place number
    balance_rows = []
    # draws y[s,l,tau] count in rows t >= tau
    entry, period = _spread(y_column, y_period, C)
    balance_rows.append((place_of[pair_sku[y_pair[entry]], pair_location[y_pair[entry]]] * C
                         + period, y_column[entry], np.ones(entry.size)))
    # moves out count in the origin's rows t >= tau, moves in in the destination's t >= arrive
    entry, period = _spread(move_column, all_period, C)
    balance_rows.append((place_of[all_sku[entry], all_origin[entry]] * C + period,
                         move_column[entry], np.ones(entry.size)))
    entry, period = _spread(move_column, arrive, C)
    into = place_of[all_sku[entry], all_destination[entry]]
    keep = into >= 0
    balance_rows.append((into[keep] * C + period[keep], move_column[entry[keep]],
                         -np.ones(int(keep.sum()))))
    balance_upper = arrived[place].ravel()                          # (place, period) order

    # stream rows (s, t): draws y[s,l,tau] with tau <= t, minus the period-t fills
    entry, period = _spread(y_column, y_period, C)
    stream_rows = [(pair_position[y_pair[entry]] * C + period, y_column[entry],
                    np.ones(entry.size)),
                   (fill_position * C + fill_period, fill + np.arange(fill_position.size),
                    -np.ones(fill_position.size))]

    outflow = np.nonzero((on_hand > 0) & has_lane_out[None, :])
    outflow_row = _lookup((skus, locations), outflow)[move_sku, origin[move_lane]]

    (binding_locations,) = np.nonzero(problem.capacity_binds)
    volume = problem.unit_volume[first:stop]
    location_row = _lookup((locations,), (binding_locations,))
    capacity_upper = (problem.capacity_limit - volume @ held)[binding_locations]

    (binding_lanes,) = np.nonzero(problem.lane_binds & problem.offered_lanes)
    lane_row = _lookup((problem.n_lanes,), (binding_lanes,))[all_lane]
    keep = lane_row >= 0

    # position after tonight's moves (safety and presentation rows): tonight's moves only
    tonight_into = move_sku * locations + destination[move_lane]
    tonight_out = move_sku * locations + origin[move_lane]
    tonight_column = move + np.arange(move_sku.size)

    def position_rows(index):
        """Entries of tonight's moves in - out in the rows of the (sku, location) ``index``."""
        return _position_terms(_lookup((skus, locations), index).ravel(), tonight_into,
                               tonight_out, tonight_column)

    # location capacity: the volume after tonight's moves, inbound counted in full
    by_location = np.tile(location_row, skus)          # flat (sku, location) -> capacity row

    y_fair = _lookup((streams.size,), (fair_position,))[pair_position[y_pair]]
    fair_keep = y_fair >= 0
    blocks = {
        "outflow": ([(outflow_row, tonight_column, np.ones(move_sku.size))], -np.inf,
                    on_hand[outflow], {"sku": outflow[0] + first, "location": outflow[1]}),
        "balance": (balance_rows, -np.inf, balance_upper,
                    {"sku": np.repeat(place[0] + first, C),
                     "location": np.repeat(place[1], C),
                     "period": np.tile(np.arange(C), place[0].size)}),
        "stream": (stream_rows, 0.0, 0.0,
                   {"stream": np.repeat(streams, C), "period": np.tile(np.arange(C),
                                                                        streams.size)}),
        "location_capacity": ([_position_terms(by_location, tonight_into, tonight_out,
                                               tonight_column, volume[move_sku])], -np.inf,
                              capacity_upper, {"location": binding_locations}),
        "lane_capacity": ([(lane_row[keep] * C + all_period[keep], move_column[keep],
                            np.ones(int(keep.sum())))], -np.inf,
                          np.repeat(problem.lane_capacity[binding_lanes], C),
                          {"lane": np.repeat(binding_lanes, C),
                           "period": np.tile(np.arange(C), binding_lanes.size)}),
        "safety": ([(np.arange(safety[0].size), safety_start + np.arange(safety[0].size),
                     np.ones(safety[0].size)), position_rows(safety)],
                   (problem.safety_stock[first:stop] - held)[safety], np.inf,
                   {"sku": safety[0] + first, "location": safety[1]}),
        "presentation": ([(np.arange(presentation[0].size),
                           presentation_start + np.arange(presentation[0].size),
                           np.ones(presentation[0].size)), position_rows(presentation)],
                         (problem.min_presentation[first:stop] - held)[presentation], np.inf,
                         {"sku": presentation[0] + first, "location": presentation[1]}),
        "fair_share": ([(np.arange(fair_position.size),
                         fair_start + np.arange(fair_position.size),
                         np.ones(fair_position.size)),
                        (y_fair[fair_keep], y_column[fair_keep],
                         np.ones(int(fair_keep.sum())))],
                       problem.fair_share_floor[streams[fair_position]], np.inf,
                       {"stream": streams[fair_position]}),
    }
    return _assemble(blocks, columns, objective, col_lower, col_upper,
                    offset=-float(np.sum(holding[:, :, None] * arrived)), first=first, stop=stop)
