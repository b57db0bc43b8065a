"""Both backends on PuLP's beer-distribution problem and on 50 random deployment instances."""

from __future__ import annotations

import numpy as np
import pytest
from test_solver_random import TOLERANCE, random_problem

from solvers import DeploymentProblem, SolveStatus, solve_deployment

# PuLP's case study "A Transportation Problem" (the beer distribution problem): two warehouses
# supply five bars at these unit costs; the least-cost plan costs 8600.
SUPPLY = np.array([1000.0, 4000.0])
DEMAND = np.array([500.0, 900.0, 1800.0, 200.0, 700.0])
COST = np.array([[2, 4, 5, 2, 1],
                 [3, 1, 3, 2, 3]], dtype=float)
VALUE = 100.0


def beer_problem() -> DeploymentProblem:
    """Warehouses are locations 0-1 holding the beer; bars are locations 2-6, each with one
    stream that may draw only on its own bar and values each of its demanded crates at 100:
    every crate is delivered, so the optimum is 100 x 4100 minus the least transport cost."""
    origin = np.repeat([0, 1], 5)
    destination = np.tile(np.arange(2, 7), 2)
    on_hand = np.zeros((1, 7))
    on_hand[0, :2] = SUPPLY
    return DeploymentProblem(
        n_skus=1, n_locations=7, lane_origin=origin, lane_destination=destination,
        lane_cost=COST.ravel(), on_hand=on_hand, stream_sku=np.zeros(5, int),
        pair_stream=np.arange(5), pair_location=np.arange(2, 7),
        segment_width=np.column_stack([DEMAND, np.full(5, np.inf)]),
        segment_value=np.column_stack([np.full(5, VALUE), np.zeros(5)]))


@pytest.mark.parametrize("backend", ["highs", "pulp"])
def test_beer_distribution_costs_8600(backend):
    problem = beer_problem()
    result = solve_deployment(problem, backend=backend)
    assert result.status is SolveStatus.OPTIMAL
    transport = float(np.dot(problem.lane_cost[result.move_lane], result.move_quantity))
    assert transport == pytest.approx(8600.0, rel=1e-7)
    assert result.objective == pytest.approx(VALUE * DEMAND.sum() - 8600.0, rel=1e-7)
    delivered = np.zeros(7)
    np.add.at(delivered, problem.lane_destination[result.move_lane], result.move_quantity)
    assert np.allclose(delivered[2:], DEMAND)


@pytest.mark.parametrize("seed", range(50))
def test_highs_and_pulp_reach_the_same_objective(seed):
    problem = random_problem(1000 + seed, coupled=bool(seed % 2),
                             rule="strict" if seed % 5 == 0 else "no_growth")
    highs = solve_deployment(problem, backend="highs")
    pulp = solve_deployment(problem, backend="pulp")
    assert highs.status is pulp.status
    if highs.status is SolveStatus.OPTIMAL:
        assert pulp.objective == pytest.approx(highs.objective, rel=1e-6, abs=TOLERANCE)


# -- hand-solved deployment cases -----------------------------------------------------------------


def _short_dc(**changes) -> DeploymentProblem:
    """DC 0 holds 6 units; warehouses 1 and 2 have none; both lanes cost 1 per unit."""
    data = dict(n_skus=1, n_locations=3, lane_origin=[0, 0], lane_destination=[1, 2],
                lane_cost=[1.0, 1.0], on_hand=[[6.0, 0.0, 0.0]], stream_sku=np.zeros(0, int),
                pair_stream=np.zeros(0, int), pair_location=np.zeros(0, int),
                segment_width=np.zeros((0, 1)), segment_value=np.zeros((0, 1)))
    return DeploymentProblem(**(data | changes))


@pytest.mark.parametrize("backend", ["highs", "pulp"])
def test_a_short_dc_is_split_by_priority(backend):
    """Both warehouses want 5 units (their reorder point); a unit short costs 10 at the
    high-priority warehouse 1 and 5 at warehouse 2. Net saving of a unit moved: 9 to
    warehouse 1, 4 to warehouse 2, so 5 go to 1 and the sixth to 2: penalty 4 x 5 = 20,
    transport 6, objective -26."""
    problem = _short_dc(safety_stock=[[0.0, 5.0, 5.0]],
                        shortfall_penalty=[[0.0, 10.0, 5.0]])
    result = solve_deployment(problem, backend=backend)
    assert result.objective == pytest.approx(-26.0, rel=1e-7)
    assert np.allclose(result.position, [[0.0, 5.0, 1.0]])


@pytest.mark.parametrize("backend", ["highs", "pulp"])
def test_a_short_dc_is_split_by_fair_share(backend):
    """Stream A at warehouse 1 values 6 units at 10, stream B at warehouse 2 six units at 4.
    Alone, all 6 units go to A (net 9 each, objective 54). With a fair share of 3 units each
    (shortfall 20 per unit), a unit for B nets 3 + 20 avoided: 3 each, objective
    3 x 9 + 3 x 3 = 36."""
    streams = dict(stream_sku=[0, 0], pair_stream=[0, 1], pair_location=[1, 2],
                   segment_width=[[6.0, np.inf], [6.0, np.inf]],
                   segment_value=[[10.0, 0.0], [4.0, 0.0]])
    alone = solve_deployment(_short_dc(**streams), backend=backend)
    assert alone.objective == pytest.approx(54.0, rel=1e-7)
    assert np.allclose(alone.position, [[0.0, 6.0, 0.0]])
    fair = solve_deployment(_short_dc(**streams, fair_share_floor=[3.0, 3.0],
                                      fair_share_penalty=[20.0, 20.0]), backend=backend)
    assert fair.objective == pytest.approx(36.0, rel=1e-7)
    assert np.allclose(fair.position, [[0.0, 3.0, 3.0]])


@pytest.mark.parametrize("backend", ["highs", "pulp"])
@pytest.mark.parametrize(("lane_cost", "moved"), [(1.5, 5.0), (2.5, 0.0)])
def test_a_cross_channel_transfer_pays_only_above_its_lane_cost(backend, lane_cost, moved):
    """Channel X's pool 0 holds 5 units nobody there will buy; channel Y's pool 1 values each
    of its first 5 units at 2. The transfer pays when the lane costs less than 2 a unit."""
    problem = DeploymentProblem(
        n_skus=1, n_locations=2, lane_origin=[0], lane_destination=[1], lane_cost=[lane_cost],
        on_hand=[[5.0, 0.0]], stream_sku=[0], pair_stream=[0], pair_location=[1],
        segment_width=[[5.0, np.inf]], segment_value=[[2.0, 0.0]])
    result = solve_deployment(problem, backend=backend)
    assert result.move_quantity.sum() == pytest.approx(moved)
    assert result.objective == pytest.approx(moved * (2.0 - lane_cost), abs=1e-7)
