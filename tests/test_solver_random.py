"""Random small networks: an independent formulation, invariants of the plan, chunks, rounding.

The reference below builds the same model a second way, dense and loop by loop, the way one
would write it out by hand from the formulas in `solvers.deployment`: post-move stock p as
explicit free variables tied to the moves by equalities (no substitution, no constant offset),
every SKU x lane move and every slack present (no pruning of moves, slacks or capacity rows that
cannot bind), solved with ``scipy.optimize.linprog``. The objectives must agree to 1e-6.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from solvers import (
    DeploymentProblem,
    SolveStatus,
    build_deployment_lp,
    round_plan,
    solve_deployment,
)

TOLERANCE = 1e-6


def random_problem(seed: int, *, coupled: bool = True, rule: str = "no_growth",
                   skus: int | None = None, fractional: bool = False) -> DeploymentProblem:
    """A small random network: 1-4 SKUs, 2-5 locations, up to 9 lanes, 0-3 streams a SKU.

    Stock is whole units; segment widths and capacities are whole numbers too unless
    ``fractional``, which makes fractional LP optima common.
    """
    rng = np.random.default_rng(seed)
    skus = int(rng.integers(1, 5)) if skus is None else skus
    locations = int(rng.integers(2, 6))
    pairs_of_locations = [(o, d) for o in range(locations) for d in range(locations) if o != d]
    lanes = int(rng.integers(0, min(9, len(pairs_of_locations)) + 1))
    chosen = rng.choice(len(pairs_of_locations), size=lanes, replace=False)
    lane_pairs = [pairs_of_locations[i] for i in chosen]
    if lanes and rng.random() < 0.3:
        lane_pairs.append(lane_pairs[0])  # a second carrier on the same route
    origin = np.array([o for o, _ in lane_pairs], dtype=np.int64)
    destination = np.array([d for _, d in lane_pairs], dtype=np.int64)
    lanes = origin.size

    stream_sku = np.repeat(np.arange(skus), rng.integers(0, 4, size=skus))
    streams = stream_sku.size
    eligible = rng.random((streams, locations)) < 0.45
    pair_stream, pair_location = np.nonzero(eligible)
    segments = int(rng.integers(1, 4))
    width = rng.integers(0, 7, size=(streams, segments)).astype(float)
    if fractional:
        width = np.round(rng.uniform(0, 6, size=(streams, segments)), 1)
    if streams and rng.random() < 0.3:
        width[:, -1] = np.inf
    value = -np.sort(-rng.uniform(-2.0, 20.0, size=(streams, segments)), axis=1)

    def some(shape, high, share):
        return np.where(rng.random(shape) < share, rng.integers(0, high + 1, shape), 0.0)

    lane_capacity = np.full(lanes, np.inf)
    location_capacity = np.full(locations, np.inf)
    if coupled:
        lane_capacity = np.where(rng.random(lanes) < 0.4, rng.integers(0, 12, lanes), np.inf)
        location_capacity = np.where(rng.random(locations) < 0.4,
                                     rng.integers(0, 30, locations), np.inf)
    return DeploymentProblem(
        n_skus=skus, n_locations=locations, lane_origin=origin, lane_destination=destination,
        lane_cost=rng.uniform(0.0, 3.0, lanes), lane_capacity=lane_capacity,
        unit_volume=(rng.uniform(0.3, 3.0, skus) if fractional
                     else rng.choice([0.5, 1.0, 2.0, 3.0], skus)),
        location_capacity=location_capacity,
        holding_cost=rng.uniform(0.0, 1.0, (skus, locations)),
        on_hand=some((skus, locations), 10, 0.6).astype(float),
        inbound=some((skus, locations), 5, 0.3).astype(float),
        stream_sku=stream_sku, pair_stream=pair_stream, pair_location=pair_location,
        segment_width=width, segment_value=value,
        safety_stock=some((skus, locations), 6, 0.4),
        shortfall_penalty=rng.uniform(0.0, 5.0, (skus, locations)),
        min_presentation=some((skus, locations), 3, 0.3),
        presentation_penalty=rng.uniform(0.0, 5.0, (skus, locations)),
        fair_share_floor=some(streams, 5, 0.4), fair_share_penalty=rng.uniform(0, 8, streams),
        capacity_rule=rule)


def capacity_limit(problem: DeploymentProblem) -> np.ndarray:
    """limit_l of the capacity rule, written from its definition."""
    held = problem.unit_volume @ (problem.on_hand + problem.inbound)
    if problem.capacity_rule == "strict":
        return problem.location_capacity.copy()
    return np.maximum(problem.location_capacity, held)


def reference_objective(problem: DeploymentProblem) -> tuple[int, float]:
    """linprog status and optimum of the model, built densely, one constraint at a time."""
    K, L, E = problem.n_skus, problem.n_locations, problem.n_lanes
    S, B, P = problem.n_streams, problem.n_segments, problem.n_pairs
    names = []

    def add(*key):
        names.append(key)
        return len(names) - 1

    x = {(k, e): add("x", k, e) for k in range(K) for e in range(E)}
    p = {(k, loc): add("p", k, loc) for k in range(K) for loc in range(L)}
    y = {i: add("y", i) for i in range(P)}
    z = {(s, b): add("z", s, b) for s in range(S) for b in range(B)}
    u = {(k, loc): add("u", k, loc) for k in range(K) for loc in range(L)}
    v = {(k, loc): add("v", k, loc) for k in range(K) for loc in range(L)}
    w = {s: add("w", s) for s in range(S)}
    n = len(names)

    gain = np.zeros(n)  # maximised
    bounds = [(0, None)] * n
    for (_, e), j in x.items():
        gain[j] = -problem.lane_cost[e]
    for (k, loc), j in p.items():
        gain[j] = -problem.holding_cost[k, loc]
        bounds[j] = (None, None)
    for (s, b), j in z.items():
        gain[j] = problem.segment_value[s, b]
        width = problem.segment_width[s, b]
        bounds[j] = (0, None if np.isinf(width) else width)
    for (k, loc), j in u.items():
        gain[j] = -problem.shortfall_penalty[k, loc]
    for (k, loc), j in v.items():
        gain[j] = -problem.presentation_penalty[k, loc]
    for s, j in w.items():
        gain[j] = -problem.fair_share_penalty[s]

    upper_rows, upper_rhs, equal_rows, equal_rhs = [], [], [], []

    def row(terms):
        a = np.zeros(n)
        for j, coefficient in terms:
            a[j] += coefficient
        return a

    origin, destination = problem.lane_origin, problem.lane_destination
    for k in range(K):
        for loc in range(L):
            moves_in = [(x[k, e], 1.0) for e in range(E) if destination[e] == loc]
            moves_out = [(x[k, e], 1.0) for e in range(E) if origin[e] == loc]
            # p = on hand + inbound + in - out
            equal_rows.append(row([(p[k, loc], 1.0)] + [(j, -a) for j, a in moves_in]
                                  + moves_out))
            equal_rhs.append(problem.on_hand[k, loc] + problem.inbound[k, loc])
            upper_rows.append(row(moves_out))  # only stock on hand moves
            upper_rhs.append(problem.on_hand[k, loc])
            ring_fenced = [(y[i], 1.0) for i in range(P)
                           if problem.stream_sku[problem.pair_stream[i]] == k
                           and problem.pair_location[i] == loc]
            upper_rows.append(row(ring_fenced + [(p[k, loc], -1.0)]))
            upper_rhs.append(0.0)
            upper_rows.append(row([(u[k, loc], -1.0), (p[k, loc], -1.0)]))  # u >= SS - p
            upper_rhs.append(-problem.safety_stock[k, loc])
            upper_rows.append(row([(v[k, loc], -1.0), (p[k, loc], -1.0)]))  # v >= MP - p
            upper_rhs.append(-problem.min_presentation[k, loc])
    for s in range(S):
        drawn = [(y[i], 1.0) for i in range(P) if problem.pair_stream[i] == s]
        equal_rows.append(row(drawn + [(z[s, b], -1.0) for b in range(B)]))
        equal_rhs.append(0.0)
        upper_rows.append(row([(w[s], -1.0)] + [(j, -a) for j, a in drawn]))
        upper_rhs.append(-problem.fair_share_floor[s])
    limit = capacity_limit(problem)
    for loc in range(L):
        if np.isfinite(limit[loc]):
            upper_rows.append(row([(p[k, loc], problem.unit_volume[k]) for k in range(K)]))
            upper_rhs.append(limit[loc])
    for e in range(E):
        if np.isfinite(problem.lane_capacity[e]):
            upper_rows.append(row([(x[k, e], 1.0) for k in range(K)]))
            upper_rhs.append(problem.lane_capacity[e])

    solution = linprog(-gain, A_ub=np.array(upper_rows), b_ub=upper_rhs,
                       A_eq=np.array(equal_rows), b_eq=equal_rhs, bounds=bounds,
                       method="highs")
    return solution.status, (-solution.fun if solution.status == 0 else np.nan)


def plan_objective(problem: DeploymentProblem, result) -> float:
    """The objective of a plan, evaluated from its moves and allocations alone."""
    total = np.bincount(problem.pair_stream, weights=result.allocation,
                        minlength=problem.n_streams)
    ends = np.cumsum(problem.segment_width, axis=1)
    start = np.concatenate([np.zeros((problem.n_streams, 1)), ends[:, :-1]], axis=1)
    in_segment = np.clip(total[:, None] - start, 0.0, problem.segment_width)
    value = np.sum(problem.segment_value * in_segment)
    position = result.position
    return float(value - problem.lane_cost[result.move_lane] @ result.move_quantity
                 - np.sum(problem.holding_cost * position)
                 - np.sum(problem.shortfall_penalty
                          * np.maximum(problem.safety_stock - position, 0))
                 - np.sum(problem.presentation_penalty
                          * np.maximum(problem.min_presentation - position, 0))
                 - problem.fair_share_penalty @ np.maximum(problem.fair_share_floor - total, 0))


seeds = st.integers(0, 2**32 - 1)
rules = st.sampled_from(["no_growth", "strict"])


@settings(max_examples=300, deadline=None)
@given(seeds, st.booleans(), rules, st.booleans())
def test_objective_matches_an_independent_dense_formulation(seed, coupled, rule, fractional):
    problem = random_problem(seed, coupled=coupled, rule=rule, fractional=fractional)
    status, optimum = reference_objective(problem)
    result = solve_deployment(problem)
    if status == 2:
        assert result.status is SolveStatus.INFEASIBLE
        assert "location" in result.diagnosis
        return
    assert status == 0
    assert result.status is SolveStatus.OPTIMAL
    assert result.objective == pytest.approx(optimum, rel=TOLERANCE, abs=TOLERANCE)
    assert plan_objective(problem, result) == pytest.approx(optimum, rel=TOLERANCE,
                                                            abs=TOLERANCE)


@pytest.mark.parametrize("seed", range(8))
def test_pulp_agrees_with_the_independent_formulation(seed):
    problem = random_problem(seed, rule="strict" if seed % 2 else "no_growth")
    status, optimum = reference_objective(problem)
    result = solve_deployment(problem, backend="pulp")
    if status == 2:
        assert result.status is SolveStatus.INFEASIBLE
    else:
        assert result.objective == pytest.approx(optimum, rel=TOLERANCE, abs=TOLERANCE)


def assert_plan_is_feasible(problem: DeploymentProblem, result, *, tolerance=1e-7) -> None:
    """The invariants every plan must satisfy, checked from the plan's arrays alone."""
    K, L = problem.n_skus, problem.n_locations
    sku, lane, quantity = result.move_sku, result.move_lane, result.move_quantity
    # moves only along lanes, positive, each (sku, lane) once
    assert np.all((lane >= 0) & (lane < problem.n_lanes)) and np.all(quantity > 0)
    assert np.unique(sku * problem.n_lanes + lane).size == sku.size
    origin, destination = problem.lane_origin[lane], problem.lane_destination[lane]
    out = np.zeros((K, L))
    into = np.zeros((K, L))
    np.add.at(out, (sku, origin), quantity)
    np.add.at(into, (sku, destination), quantity)
    # nothing moves more than on hand, so inbound never moves and nothing is relayed
    assert np.all(out <= problem.on_hand + tolerance)
    held = problem.on_hand + problem.inbound
    np.testing.assert_allclose(result.position, held + into - out, atol=tolerance)
    # units conserved per SKU
    np.testing.assert_allclose(result.position.sum(axis=1), held.sum(axis=1), atol=tolerance)
    assert np.all(result.position >= problem.inbound - tolerance)
    # allocations: non-negative, at eligible locations only, within post-move stock
    assert np.all(result.allocation >= 0)
    allocated = np.zeros((problem.n_streams, L))
    np.add.at(allocated, (problem.pair_stream, problem.pair_location), result.allocation)
    eligible = np.zeros((problem.n_streams, L), dtype=bool)
    eligible[problem.pair_stream, problem.pair_location] = True
    assert np.all(allocated[~eligible] == 0)
    per_place = np.zeros((K, L))
    np.add.at(per_place, problem.stream_sku, allocated)
    assert np.all(per_place <= result.position + tolerance)
    assert np.all(allocated.sum(axis=1) <= problem.segment_width.sum(axis=1) + tolerance)
    # capacities
    carried = np.bincount(lane, weights=quantity, minlength=problem.n_lanes)
    assert np.all(carried <= problem.lane_capacity + tolerance)
    volume = problem.unit_volume @ result.position
    assert np.all(volume <= capacity_limit(problem) + tolerance)


@settings(max_examples=300, deadline=None)
@given(seeds, st.booleans(), rules, st.booleans())
def test_plan_invariants(seed, coupled, rule, fractional):
    problem = random_problem(seed, coupled=coupled, rule=rule, fractional=fractional)
    result = solve_deployment(problem)
    if result.status is SolveStatus.INFEASIBLE:
        assert rule == "strict" and result.move_sku.size == 0
        assert np.isnan(result.objective) and np.isnan(result.position).all()
        return
    assert result.status is SolveStatus.OPTIMAL
    assert_plan_is_feasible(problem, result)
    assert np.all(result.location_shadow_price >= 0)
    assert np.all(result.lane_shadow_price >= 0)
    assert np.all(result.location_shadow_price[~problem.capacity_binds] == 0)
    assert np.all(result.lane_shadow_price[~problem.lane_binds] == 0)
    if not problem.coupled:  # with no capacity rows at all there are no shadow prices
        assert not result.location_shadow_price.any() and not result.lane_shadow_price.any()


@settings(max_examples=60, deadline=None)
@given(seeds, st.integers(1, 3))
def test_chunks_equal_one_lp(seed, chunk_skus):
    problem = random_problem(seed, coupled=False, skus=int(seed % 6) + 2)
    assert not problem.coupled
    whole = solve_deployment(problem, chunk_skus=None)
    chunked = solve_deployment(problem, chunk_skus=chunk_skus)
    assert whole.chunks == 1
    assert chunked.chunks == -(-problem.n_skus // chunk_skus)
    assert chunked.objective == pytest.approx(whole.objective, rel=1e-9, abs=1e-9)
    assert_plan_is_feasible(problem, chunked)
    # the LP of a SKU range is exactly that range's part of the whole LP
    full = build_deployment_lp(problem)
    first = build_deployment_lp(problem, skus=slice(0, chunk_skus))
    rest = build_deployment_lp(problem, skus=slice(chunk_skus, None))
    for kind in ("columns", "rows"):  # every block: the first part's, then the rest's
        for name, block in getattr(full, kind).items():
            parts = [getattr(part, kind)[name] for part in (first, rest)]
            for key, values in block.keys.items():
                np.testing.assert_array_equal(
                    values, np.concatenate([part.keys[key] for part in parts]))
    assert (first.program.offset + rest.program.offset
            == pytest.approx(full.program.offset, abs=1e-12))


@settings(max_examples=300, deadline=None)
@given(seeds, st.booleans(), rules, st.sampled_from([1, 1, 2, 3, 6]))
def test_rounded_plan_is_whole_and_feasible(seed, coupled, rule, pack):
    problem = random_problem(seed, coupled=coupled, rule=rule, fractional=True)
    result = solve_deployment(problem)
    if not result.success:
        return
    rng = np.random.default_rng(seed)
    pack_size = rng.integers(1, pack + 1, problem.n_skus).astype(float)
    rounded = round_plan(problem, result, pack_size=pack_size)
    packs = rounded.move_quantity / pack_size[rounded.move_sku]
    assert np.all(packs == np.round(packs)) and np.all(packs >= 1)
    assert np.all(rounded.allocation == np.round(rounded.allocation))
    # only lanes the LP used, no more than the LP wanted plus one pack
    lp_moves = dict(zip(zip(result.move_sku.tolist(), result.move_lane.tolist(), strict=True),
                        result.move_quantity, strict=True))
    for k, e, q in zip(rounded.move_sku, rounded.move_lane, rounded.move_quantity, strict=True):
        assert q <= lp_moves[int(k), int(e)] + pack_size[k]
    # everything but location capacity as for the LP plan, up to floating-point noise (a
    # value curve of widths 0.6, 0.6 and 2.8 is 3.9999999999999996 wide and takes 4 units)
    relaxed = DeploymentProblem(
        **{name: getattr(problem, name) for name in FIELDS}, location_capacity=np.inf)
    assert_plan_is_feasible(relaxed, rounded, tolerance=1e-9)
    # location capacity: extra packs never overfill; a move floored can leave up to one pack
    # per lane out behind at its origin
    lp_out = np.zeros(problem.n_locations)
    np.add.at(lp_out, problem.lane_origin[result.move_lane],
              problem.unit_volume[result.move_sku] * pack_size[result.move_sku])
    volume = problem.unit_volume @ rounded.position
    lp_volume = problem.unit_volume @ result.position
    assert np.all(volume <= np.maximum(capacity_limit(problem), lp_volume + lp_out) + 1e-7)


FIELDS = ["n_skus", "n_locations", "lane_origin", "lane_destination", "lane_cost",
          "on_hand", "stream_sku", "pair_stream", "pair_location", "segment_width",
          "segment_value", "lane_capacity", "unit_volume", "holding_cost", "inbound",
          "safety_stock", "shortfall_penalty", "min_presentation", "presentation_penalty",
          "fair_share_floor", "fair_share_penalty", "capacity_rule"]


@settings(max_examples=60, deadline=None)
@given(seeds)
def test_rounding_keeps_a_whole_plan_as_it_is(seed):
    """With whole-number data the LP optimum is often whole already: rounding must keep it."""
    problem = random_problem(seed, coupled=False)
    result = solve_deployment(problem)
    whole = (np.all(result.move_quantity == np.round(result.move_quantity))
             and np.all(result.allocation == np.round(result.allocation)))
    rounded = round_plan(problem, result)
    if whole:
        np.testing.assert_array_equal(rounded.move_quantity, result.move_quantity)
        np.testing.assert_array_equal(rounded.allocation, result.allocation)
        np.testing.assert_array_equal(rounded.position, result.position)


def test_rounding_by_largest_remainder():
    """10 units at the DC; the LP sends 10/3 to each of three stores (hand-made result)."""
    problem = DeploymentProblem(
        n_skus=1, n_locations=4, lane_origin=[0, 0, 0], lane_destination=[1, 2, 3],
        lane_cost=[1.0, 1.0, 1.0], on_hand=[[10.0, 0, 0, 0]], stream_sku=[0, 0, 0],
        pair_stream=[0, 1, 2], pair_location=[1, 2, 3], segment_width=[[5.0], [5.0], [5.0]],
        segment_value=[[4.0], [4.0], [4.0]], lane_capacity=[np.inf, np.inf, 3.0])
    result = solve_deployment(problem)
    # the LP's choice between stores is arbitrary; give it a fractional plan by hand
    fractional = type(result)(
        status=result.status, objective=result.objective, move_sku=np.zeros(3, dtype=int),
        move_lane=np.arange(3), move_quantity=np.array([3.4, 3.6, 3.0]),
        allocation=np.array([3.4, 3.6, 3.0]), position=np.array([[0.0, 3.4, 3.6, 3.0]]),
        location_shadow_price=result.location_shadow_price,
        lane_shadow_price=result.lane_shadow_price, message="", diagnosis="", chunks=1)
    rounded = round_plan(problem, fractional)
    # floors 3 + 3 + 3, remainders 0.4 + 0.6 = 1 extra unit, to the largest remainder (lane 1)
    np.testing.assert_array_equal(rounded.move_quantity, [3, 4, 3])
    np.testing.assert_array_equal(rounded.allocation, [3, 4, 3])
    np.testing.assert_array_equal(rounded.position, [[0, 3, 4, 3]])
    # in packs of 4: floors 0, 0, 0; the remainders 0.85 + 0.9 + 0.75 make 3 packs (12 units)
    # but only 10 units are on hand: 2 packs, largest remainders first (lanes 1 and 0). The
    # allocations round as before (3.4 -> 3, 3.6 -> 4), and store 3 got nothing.
    packed = round_plan(problem, fractional, pack_size=4)
    np.testing.assert_array_equal(packed.move_lane, [0, 1])
    np.testing.assert_array_equal(packed.move_quantity, [4, 4])
    np.testing.assert_array_equal(packed.allocation, [3, 4, 0])
    np.testing.assert_array_equal(packed.position, [[2, 4, 4, 0]])
