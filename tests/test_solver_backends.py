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
