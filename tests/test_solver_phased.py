"""The time-phased deployment LP (`solvers.phased`): hand-solved cases and an independent model.

The reference formulation writes the model of `solvers.phased` the way one would by hand:
explicit end-of-period inventory variables I[k,l,t] >= 0 tied together by flow balance
equalities, cumulative service S[s,t] as free variables, every SKU x lane x period move present
(no pruning), the holding account written per period, solved by ``scipy.optimize.linprog``.
Objectives must agree with both backends to 1e-6.
"""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest
from scipy.optimize import linprog

from solvers import DeploymentProblem, SolveStatus, build_deployment_lp, solve_deployment

TOLERANCE = 1e-6
BACKENDS = ("highs", "pulp")


def curves(cumulative_demand, value_per_unit, periods):
    """Deterministic per-period curves: a stream whose cumulative demand through period t is
    ``cumulative_demand[t]`` values each unit served by then at ``value_per_unit / periods``."""
    width = np.zeros((1, periods, 2))
    value = np.zeros((1, periods, 2))
    width[0, :, 0] = cumulative_demand
    width[0, :, 1] = np.inf
    value[0, :, 0] = value_per_unit / periods
    return width, value


def two_locations(*, origin_margin, destination_margin, lead, periods=4, lane_cost=0.1,
                  origin_stock=1.0, **extra):
    """Location 0 holds stock and sells one unit a period from period 0 (its own stream 0);
    location 1 sells one unit from period 0 (stream 1); one lane 0 -> 1."""
    demand = np.arange(1, periods + 1, dtype=float)
    w0, v0 = curves(demand, origin_margin, periods)
    w1, v1 = curves(demand, destination_margin, periods)
    width, value = np.concatenate([w0, w1]), np.concatenate([v0, v1])
    return DeploymentProblem(
        n_skus=1, n_locations=2, lane_origin=[0], lane_destination=[1], lane_cost=[lane_cost],
        on_hand=[[origin_stock, 0.0]], stream_sku=[0, 0], pair_stream=[0, 1],
        pair_location=[0, 1], segment_width=width[:, -1], segment_value=value[:, -1] * periods,
        periods=periods, lane_lead_time=[lead], period_width=width, period_value=value,
        **extra)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_lane_as_long_as_the_horizon_moves_nothing(backend):
    problem = two_locations(origin_margin=0.0, destination_margin=100.0, lead=4)
    result = solve_deployment(problem, backend=backend)
    assert result.success and result.move_quantity.size == 0
    assert not problem.offered_lanes[0]
    # one period shorter and the same unit goes: it serves the last period at 100 / 4
    problem = two_locations(origin_margin=0.0, destination_margin=100.0, lead=3)
    result = solve_deployment(problem, backend=backend)
    assert result.move_quantity.tolist() == [1.0]
    assert result.objective == pytest.approx(100.0 / 4 - 0.1)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(("destination_margin", "moves"), [(4.0, False), (4.3, True)])
def test_a_move_pays_only_for_the_periods_after_it_arrives(backend, destination_margin, moves):
    # kept, the unit serves the origin's first sale: worth 3 over the 4 periods; moved with a
    # lead time of 1, it serves the destination for 3 of the 4 periods: m x 3/4 - 0.1, which
    # beats 3 only when m > 3.1 x 4/3 = 4.133 (the one-period model would move at m > 3.1)
    problem = two_locations(origin_margin=3.0, destination_margin=destination_margin, lead=1)
    result = solve_deployment(problem, backend=backend)
    assert result.success
    assert bool(result.move_quantity.sum() == pytest.approx(1.0)) is moves
    expected = destination_margin * 3 / 4 - 0.1 if moves else 3.0
    assert result.objective == pytest.approx(expected)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_short_dc_releases_stock_where_it_is_worth_most(backend):
    # DC 0 holds 3 units; regions 1 and 2 each sell 2 a period from period 1 on; region 2
    # earns more per unit; the DC serves no one itself
    periods = 3
    demand = np.array([0.0, 2.0, 4.0])
    w1, v1 = curves(demand, 6.0, periods)
    w2, v2 = curves(demand, 9.0, periods)
    width, value = np.concatenate([w1, w2]), np.concatenate([v1, v2])
    problem = DeploymentProblem(
        n_skus=1, n_locations=3, lane_origin=[0, 0], lane_destination=[1, 2],
        lane_cost=[0.1, 0.1], on_hand=[[3.0, 0.0, 0.0]], stream_sku=[0, 0],
        pair_stream=[0, 1], pair_location=[1, 2], segment_width=width[:, -1],
        segment_value=value[:, -1] * periods, periods=periods, lane_lead_time=[1, 1],
        period_width=width, period_value=value)
    result = solve_deployment(problem, backend=backend)
    moved = dict(zip(result.move_lane.tolist(), result.move_quantity.tolist(), strict=True))
    # per unit: region 2's first two units serve periods 1 and 2 (2 x 9/3 = 6 each), a third
    # only period 2 (3); region 1's first units earn 2 x 6/3 = 4: so two to region 2, the
    # third to region 1
    assert moved.get(1, 0.0) == pytest.approx(2.0)
    assert moved.get(0, 0.0) == pytest.approx(1.0)
    assert result.objective == pytest.approx(2 * 6 + 4 - 0.3)


@pytest.mark.parametrize("backend", BACKENDS)
def test_inbound_serves_only_from_its_arrival(backend):
    # the destination has 2 units arriving at period 2 and sells 1 a period (value 8/4 per
    # unit and period served); the origin's stock arrives from period 1 (lead 1). Two units
    # tonight serve the cumulative demand of 2 through period 1; with the inbound units, the
    # cumulative 3 and 4 of periods 2 and 3 are met. Service 0 + 2 + 3 + 4 units x 2 = 18,
    # less lane cost 0.2 and holding: origin 5 x 4 x 0.01, inbound 2 x 2 x 0.02, and the two
    # units moved hold at 0.02 instead of 0.01 for 3 periods
    periods = 4
    inbound = np.zeros((1, 2, periods))
    inbound[0, 1, 2] = 2.0
    problem = two_locations(origin_margin=0.0, destination_margin=8.0, lead=1,
                            origin_stock=5.0, inbound_schedule=inbound, holding_cost=[[0.01, 0.02]])
    result = solve_deployment(problem, backend=backend)
    assert result.success
    assert result.move_quantity.sum() == pytest.approx(2.0)
    assert result.objective == pytest.approx(18 - 0.2 - 0.2 - 0.08 - 0.06)
    lp = build_deployment_lp(problem)
    assert lp.columns["later_move"].size > 0


def reference_objective(problem: DeploymentProblem) -> float:
    """The model of `solvers.phased` written with inventory variables (module docstring)."""
    K, L, C = problem.n_skus, problem.n_locations, problem.periods
    lanes = np.flatnonzero(problem.offered_lanes)
    lead = problem.lane_lead_time
    names: list[tuple] = []
    index = {}

    def var(*key):
        if key not in index:
            index[key] = len(names)
            names.append(key)
        return index[key]

    moves = [(k, e, t) for k in range(K) for e in lanes for t in range(C) if t + lead[e] < C]
    for m in moves:
        var("x", *m)
    for k, loc, t in itertools.product(range(K), range(L), range(C)):
        var("I", k, loc, t)
    for i in range(problem.n_pairs):
        for t in range(C):
            var("y", i, t)
    S, B = problem.n_streams, problem.period_width.shape[2]
    for s, t, b in itertools.product(range(S), range(C), range(B)):
        var("z", s, t, b)
    n = len(names)
    cost = np.zeros(n)
    bounds = [(0, None)] * n
    eq_rows, eq_rhs, ub_rows, ub_rhs = [], [], [], []
    h = problem.holding_cost
    constant = 0.0
    for k, e, t in moves:
        o, d = problem.lane_origin[e], problem.lane_destination[e]
        arrive = t + lead[e]
        # holding account: the unit is the origin's until it arrives, then the destination's
        cost[var("x", k, e, t)] += problem.lane_cost[e] + (h[k, d] - h[k, o]) * (C - arrive)
    for k, loc in itertools.product(range(K), range(L)):
        arrived = problem.on_hand[k, loc] + np.cumsum(problem.inbound_schedule[k, loc])
        constant += h[k, loc] * arrived.sum()
    for i, t in itertools.product(range(problem.n_pairs), range(C)):
        cost[var("y", i, t)] = problem.fulfilment_cost[i]
    for s, t, b in itertools.product(range(S), range(C), range(B)):
        cost[var("z", s, t, b)] = -problem.period_value[s, t, b]
        bounds[var("z", s, t, b)] = (0, problem.period_width[s, t, b])
    for k, loc, t in itertools.product(range(K), range(L), range(C)):     # flow balance
        row = np.zeros(n)
        row[var("I", k, loc, t)] = 1.0
        if t:
            row[var("I", k, loc, t - 1)] = -1.0
        for kk, e, tau in moves:
            if kk != k:
                continue
            if problem.lane_origin[e] == loc and tau == t:
                row[var("x", k, e, tau)] += 1.0
            if problem.lane_destination[e] == loc and tau + lead[e] == t:
                row[var("x", k, e, tau)] -= 1.0
        for i in range(problem.n_pairs):
            if problem.stream_sku[problem.pair_stream[i]] == k and problem.pair_location[i] == loc:
                row[var("y", i, t)] = 1.0
        eq_rows.append(row)
        eq_rhs.append(problem.inbound_schedule[k, loc, t] + (problem.on_hand[k, loc] if t == 0
                                                            else 0.0))
    for k, loc in itertools.product(range(K), range(L)):                  # tonight: on hand
        row = np.zeros(n)
        for kk, e, tau in moves:
            if kk == k and tau == 0 and problem.lane_origin[e] == loc:
                row[var("x", k, e, tau)] = 1.0
        ub_rows.append(row)
        ub_rhs.append(problem.on_hand[k, loc])
    for s, t in itertools.product(range(S), range(C)):                  # cumulative service
        row = np.zeros(n)
        for i in np.flatnonzero(problem.pair_stream == s):
            for tau in range(t + 1):
                row[var("y", i, tau)] = 1.0
        for b in range(B):
            row[var("z", s, t, b)] = -1.0
        eq_rows.append(row)
        eq_rhs.append(0.0)
    for loc in np.flatnonzero(np.isfinite(problem.location_capacity)):   # volume after tonight
        row = np.zeros(n)
        for k, e, tau in moves:
            if tau == 0 and problem.lane_destination[e] == loc:
                row[var("x", k, e, tau)] += problem.unit_volume[k]
            if tau == 0 and problem.lane_origin[e] == loc:
                row[var("x", k, e, tau)] -= problem.unit_volume[k]
        ub_rows.append(row)
        ub_rhs.append(problem.capacity_limit[loc]
                      - problem.unit_volume @ (problem.on_hand + problem.inbound)[:, loc])
    for e in np.flatnonzero(np.isfinite(problem.lane_capacity)):        # every night
        for t in range(C):
            row = np.zeros(n)
            for k, ee, tau in moves:
                if ee == e and tau == t:
                    row[var("x", k, e, tau)] = 1.0
            ub_rows.append(row)
            ub_rhs.append(problem.lane_capacity[e])
    solution = linprog(cost, A_ub=np.array(ub_rows) if ub_rows else None,
                       b_ub=ub_rhs or None, A_eq=np.array(eq_rows), b_eq=eq_rhs,
                       bounds=bounds, method="highs")
    assert solution.status == 0, solution.message
    return -solution.fun - constant


def random_phased(seed: int) -> DeploymentProblem:
    rng = np.random.default_rng(seed)
    K, L, C = int(rng.integers(1, 3)), int(rng.integers(2, 5)), int(rng.integers(2, 5))
    routes = [(o, d) for o in range(L) for d in range(L) if o != d]
    chosen = rng.choice(len(routes), size=int(rng.integers(1, len(routes) + 1)), replace=False)
    origin = np.array([routes[i][0] for i in chosen])
    destination = np.array([routes[i][1] for i in chosen])
    stream_sku = np.repeat(np.arange(K), rng.integers(1, 4, size=K))
    S = stream_sku.size
    eligible = rng.random((S, L)) < 0.5
    eligible[np.arange(S), rng.integers(0, L, size=S)] = True
    pair_stream, pair_location = np.nonzero(eligible)
    B = int(rng.integers(1, 4))
    width = rng.integers(0, 5, size=(S, C, B)).astype(float)
    value = -np.sort(-rng.uniform(-1.0, 12.0, size=(S, C, B)), axis=2)
    inbound = np.where(rng.random((K, L, C)) < 0.2, rng.integers(1, 6, size=(K, L, C)), 0)
    return DeploymentProblem(
        n_skus=K, n_locations=L, lane_origin=origin, lane_destination=destination,
        lane_cost=rng.uniform(0, 2, size=origin.size),
        on_hand=rng.integers(0, 9, size=(K, L)).astype(float), stream_sku=stream_sku,
        pair_stream=pair_stream, pair_location=pair_location,
        segment_width=width[:, -1], segment_value=value[:, -1], periods=C,
        lane_lead_time=rng.integers(0, C + 1, size=origin.size),
        period_width=width, period_value=value, inbound_schedule=inbound.astype(float),
        holding_cost=rng.uniform(0, 0.5, size=(K, L)),
        unit_volume=rng.uniform(0.5, 2.0, size=K),
        location_capacity=np.where(rng.random(L) < 0.4, rng.uniform(0, 20, size=L), np.inf),
        lane_capacity=np.where(rng.random(origin.size) < 0.4,
                               rng.integers(0, 6, size=origin.size), np.inf),
        fulfilment_cost=np.where(rng.random(pair_stream.size) < 0.5,
                                 rng.uniform(0, 3, size=pair_stream.size), 0.0))


@pytest.mark.parametrize("seed", range(40))
def test_matches_an_independent_formulation(seed):
    problem = random_phased(seed)
    expected = reference_objective(problem)
    for backend in BACKENDS:
        result = solve_deployment(problem, backend=backend)
        assert result.status is SolveStatus.OPTIMAL
        assert result.objective == pytest.approx(expected, abs=TOLERANCE, rel=TOLERANCE)
        # tonight's moves leave no origin short of its stock on hand
        out = np.zeros((problem.n_skus, problem.n_locations))
        np.add.at(out, (result.move_sku, problem.lane_origin[result.move_lane]),
                  result.move_quantity)
        assert (out <= problem.on_hand + 1e-7).all()
        assert problem.lane_lead_time[result.move_lane].max(initial=0) < problem.periods


def test_chunks_give_the_same_optimum_as_one_lp():
    problem = dataclasses.replace(random_phased(3), location_capacity=np.inf,
                                  lane_capacity=np.inf)
    whole = solve_deployment(problem, chunk_skus=None)
    chunked = solve_deployment(problem, chunk_skus=1)
    assert chunked.objective == pytest.approx(whole.objective, abs=TOLERANCE)


def test_time_phase_arguments_are_checked():
    kwargs = dict(n_skus=1, n_locations=2, lane_origin=[0], lane_destination=[1],
                  lane_cost=[0.0], on_hand=[[1.0, 0.0]], stream_sku=[0], pair_stream=[0],
                  pair_location=[1], segment_width=[[1.0]], segment_value=[[1.0]])
    with pytest.raises(ValueError, match="period_width and period_value are required"):
        DeploymentProblem(**kwargs, periods=3)
    with pytest.raises(ValueError, match="only with periods > 1"):
        DeploymentProblem(**kwargs, period_width=np.ones((1, 1, 1)),
                          period_value=np.ones((1, 1, 1)))
    with pytest.raises(ValueError, match="period_value must be non-increasing"):
        DeploymentProblem(**kwargs, periods=2, period_width=np.ones((1, 2, 2)),
                          period_value=np.array([[[1.0, 2.0], [1.0, 0.0]]]))
    phased = dict(periods=2, period_width=np.ones((1, 2, 1)), period_value=np.ones((1, 2, 1)))
    with pytest.raises(ValueError, match="inbound_schedule must have shape"):
        DeploymentProblem(**kwargs, **phased, inbound_schedule=np.zeros((1, 2, 3)))
    with pytest.raises(ValueError, match="inbound must be inbound_schedule summed"):
        DeploymentProblem(**kwargs, **phased, inbound=[[0.0, 2.0]],
                          inbound_schedule=np.ones((1, 2, 2)))
    # a copy with a field changed keeps the schedule (dataclasses.replace passes both)
    problem = DeploymentProblem(**kwargs, **phased, inbound_schedule=np.ones((1, 2, 2)))
    again = dataclasses.replace(problem, lane_cost=[1.0])
    assert np.array_equal(again.inbound_schedule, problem.inbound_schedule)
    assert again.inbound.tolist() == [[2.0, 2.0]]
