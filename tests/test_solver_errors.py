"""Bad input raises ValueError or TypeError naming the argument; no plan is a status."""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import pulp
import pytest
import scipy.sparse

from solvers import (
    DeploymentProblem,
    LinearProgram,
    SolveStatus,
    build_deployment_lp,
    round_plan,
    solve_deployment,
    solve_lp,
)

BACKENDS = ["highs", "pulp"]


def valid(**changes) -> dict:
    """Arguments of a valid problem: 2 SKUs, DC 0 and warehouses 1 and 2, three streams."""
    data = dict(n_skus=2, n_locations=3, lane_origin=[0, 0, 1], lane_destination=[1, 2, 2],
                lane_cost=[1.0, 2.0, 0.5], on_hand=[[10.0, 2.0, 0.0], [4.0, 0.0, 1.0]],
                stream_sku=[0, 0, 1], pair_stream=[0, 1, 1, 2], pair_location=[1, 1, 2, 2],
                segment_width=[[4.0, 10.0], [5.0, np.inf], [3.0, 0.0]],
                segment_value=[[10.0, 3.0], [8.0, 0.5], [6.0, 6.0]])
    return data | changes


def test_the_valid_problem_solves_and_is_frozen():
    problem = DeploymentProblem(**valid())
    assert solve_deployment(problem).status is SolveStatus.OPTIMAL
    with pytest.raises(dataclasses.FrozenInstanceError):
        problem.n_skus = 3
    with pytest.raises(ValueError, match="read-only"):
        problem.on_hand[0, 0] = 1.0


@pytest.mark.parametrize(("changes", "error", "message"), [
    ({"n_skus": 2.0}, TypeError, r"^n_skus must be an integer; found float"),
    ({"n_skus": True}, TypeError, r"^n_skus must be an integer"),
    ({"n_locations": 0}, ValueError, r"^n_locations must be an integer >= 1; found 0"),
    ({"on_hand": [10.0, 2.0, 0.0]}, ValueError,
     r"^on_hand must have shape \(n_skus, n_locations\) = \(2, 3\); found shape \(3,\)"),
    ({"on_hand": 1.0}, ValueError, r"^on_hand must have shape \(n_skus, n_locations\)"),
    ({"on_hand": [[10.0, -2.0, 0.0], [4.0, 0.0, 1.0]]}, ValueError,
     r"^on_hand must hold finite numbers >= 0; found -2.0 at index \(0, 1\)"),
    ({"on_hand": [[10.0, 2.0, 0.0], [np.inf, 0.0, 1.0]]}, ValueError,
     r"^on_hand must hold finite numbers >= 0; found inf at index \(1, 0\)"),
    ({"on_hand": [["a", "b", "c"], ["d", "e", "f"]]}, TypeError,
     r"^on_hand must hold numbers"),
    ({"inbound": np.full((3, 2), 1.0)}, ValueError, r"^inbound must have shape"),
    ({"holding_cost": np.nan}, ValueError, r"^holding_cost must hold finite numbers >= 0"),
    ({"lane_cost": [1.0, 2.0]}, ValueError,
     r"^lane_cost must have shape \(n_lanes,\) = \(3,\) or a scalar; found shape \(2,\)"),
    ({"lane_capacity": [1.0, -1.0, np.inf]}, ValueError,
     r"^lane_capacity must hold numbers >= 0; found -1.0 at index 1"),
    ({"location_capacity": [np.nan, 1.0, 1.0]}, ValueError, r"^location_capacity must hold"),
    ({"unit_volume": [1.0, 1.0, 1.0]}, ValueError, r"^unit_volume must have shape \(n_skus,\)"),
    ({"lane_origin": [0, 0, 3]}, ValueError,
     r"^lane_origin must hold location indices in \[0, n_locations\) = \[0, 3\); found 3 at "
     r"index 2"),
    ({"lane_destination": [1, 2]}, ValueError, r"^lane_destination must have length 3"),
    ({"lane_destination": [1, 0, 2]}, ValueError,
     r"^lane_destination must differ from lane_origin .* lane 1 from location 0 to itself"),
    ({"lane_origin": [0.0, 0.0, 1.0]}, TypeError,
     r"^lane_origin must hold integer location indices; found dtype float64"),
    ({"stream_sku": [0, 0, 2]}, ValueError,
     r"^stream_sku must hold SKU indices in \[0, n_skus\) = \[0, 2\); found 2 at index 2"),
    ({"pair_stream": [0, 1, 1, 3]}, ValueError,
     r"^pair_stream must hold stream indices in \[0, n_streams\) = \[0, 3\); found 3"),
    ({"pair_location": [1, 1, 2, -1]}, ValueError,
     r"^pair_location must hold location indices in \[0, n_locations\) = \[0, 3\); "
     r"found -1 at index 3"),
    ({"pair_location": [1, 1, 2]}, ValueError, r"^pair_location must have length 4"),
    ({"pair_location": [1, 1, 1, 2]}, ValueError,
     r"^pair_stream and pair_location must name each \(stream, location\) pair once; "
     r"found stream 1 at location 1 at indices 1 and 2"),
    ({"segment_width": [[4.0, 10.0], [5.0, np.inf]]}, ValueError,
     r"^segment_width must have shape \(n_streams, n_segments\) with n_streams = 3"),
    ({"segment_width": [4.0, 5.0, 3.0]}, ValueError, r"^segment_width must have shape"),
    ({"segment_width": [[4.0, 10.0], [5.0, -1.0], [3.0, 0.0]]}, ValueError,
     r"^segment_width must hold numbers >= 0; found -1.0 at index \(1, 1\)"),
    ({"segment_value": [[10.0, 3.0], [8.0, 0.5]]}, ValueError,
     r"^segment_value must have shape \(n_streams, n_segments\) = \(3, 2\)"),
    ({"segment_value": [[10.0, 3.0], [8.0, 9.0], [6.0, 6.0]]}, ValueError,
     r"^segment_value must be non-increasing along the segments of each stream \(a concave "
     r"value curve\); found stream 1 rising from 8.0 in segment 0 to 9.0 in segment 1"),
    ({"segment_value": [[10.0, np.inf], [8.0, 0.5], [6.0, 6.0]]}, ValueError,
     r"^segment_value must hold finite numbers; found inf at index \(0, 1\)"),
    ({"fair_share_floor": [1.0, 2.0]}, ValueError,
     r"^fair_share_floor must have shape \(n_streams,\) = \(3,\)"),
    ({"fair_share_penalty": -1.0}, ValueError, r"^fair_share_penalty must hold finite numbers"),
    ({"safety_stock": [[0, 0, 0], [0, 0, -1]]}, ValueError, r"^safety_stock must hold"),
    ({"fulfilment_cost": -0.5}, ValueError, r"^fulfilment_cost must hold finite numbers"),
    ({"fulfilment_cost": [1.0]}, ValueError, r"^fulfilment_cost must have shape \(n_pairs,\)"),
    ({"capacity_rule": "soft"}, ValueError,
     r"^capacity_rule must be one of \('no_growth', 'strict'\); found 'soft'"),
])
def test_bad_problem_data(changes, error, message):
    with pytest.raises(error, match=message):
        DeploymentProblem(**valid(**changes))


def test_arguments_are_keyword_only():
    with pytest.raises(TypeError, match="positional"):
        DeploymentProblem(2, 3)


@pytest.mark.parametrize(("options", "error", "message"), [
    ({"backend": "gurobi"}, ValueError,
     r"^backend must be one of \('highs', 'pulp'\); found 'gurobi'"),
    ({"time_limit": 0}, ValueError, r"^time_limit must be a finite number of seconds > 0"),
    ({"time_limit": "60"}, TypeError, r"^time_limit must be a number of seconds or None"),
    ({"chunk_skus": 0}, ValueError, r"^chunk_skus must be an integer >= 1; found 0"),
    ({"chunk_skus": 1.5}, TypeError, r"^chunk_skus must be an integer"),
    ({"pulp_solver": pulp.HiGHS(msg=False)}, ValueError,
     r"^pulp_solver is only used with backend='pulp'"),
    ({"backend": "pulp", "pulp_solver": "CBC"}, TypeError,
     r"^pulp_solver must be a PuLP solver"),
    ({"backend": "pulp", "pulp_solver": pulp.HiGHS(msg=False), "time_limit": 5}, ValueError,
     r"^time_limit cannot be combined with pulp_solver"),
])
def test_bad_solve_options(options, error, message):
    problem = DeploymentProblem(**valid())
    with pytest.raises(error, match=message):
        solve_deployment(problem, **options)


def test_problem_must_be_a_deployment_problem():
    with pytest.raises(TypeError, match=r"^problem must be a DeploymentProblem; found dict"):
        solve_deployment(valid())
    with pytest.raises(TypeError, match=r"^problem must be a DeploymentProblem"):
        build_deployment_lp(valid())


def test_a_pulp_solver_that_is_not_available():
    solver = pulp.GUROBI_CMD(msg=False)
    if solver.available():
        pytest.skip("Gurobi is installed here")
    with pytest.raises(ValueError, match=r"^pulp_solver GUROBI_CMD is not available here"):
        solve_deployment(DeploymentProblem(**valid()), backend="pulp", pulp_solver=solver)


def test_a_licensed_pulp_solver_is_used():
    """PuLP's HiGHS interface stands in for Gurobi or CPLEX: any available PuLP solver."""
    problem = DeploymentProblem(**valid())
    reference = solve_deployment(problem)
    result = solve_deployment(problem, backend="pulp", pulp_solver=pulp.HiGHS(msg=False))
    assert result.status is SolveStatus.OPTIMAL
    assert "HiGHS" in result.message
    assert result.objective == pytest.approx(reference.objective, rel=1e-9)


def test_lp_of_part_of_the_skus():
    problem = DeploymentProblem(**valid())
    with pytest.raises(ValueError, match=r"^skus must be a contiguous range \(step 1\)"):
        build_deployment_lp(problem, skus=slice(0, 2, 2))
    with pytest.raises(TypeError, match=r"^skus must be a slice of SKU indices; found list"):
        build_deployment_lp(problem, skus=[0])
    coupled = DeploymentProblem(**valid(lane_capacity=[1.0, np.inf, np.inf]))
    assert coupled.coupled
    with pytest.raises(ValueError, match=r"^skus must select all SKUs when capacity rows"):
        build_deployment_lp(coupled, skus=slice(0, 1))


def test_round_plan_checks_its_arguments():
    problem = DeploymentProblem(**valid())
    result = solve_deployment(problem)
    with pytest.raises(ValueError, match=r"^pack_size must hold whole numbers >= 1; found 1.5"):
        round_plan(problem, result, pack_size=[1.0, 1.5])
    with pytest.raises(ValueError, match=r"^pack_size must hold finite numbers >= 1"):
        round_plan(problem, result, pack_size=0)
    with pytest.raises(TypeError, match=r"^result must be a DeploymentResult"):
        round_plan(problem, {"status": "optimal"})
    other = DeploymentProblem(**valid(n_skus=3, on_hand=np.zeros((3, 3))))
    with pytest.raises(ValueError, match=r"^result must be the solution of problem"):
        round_plan(other, result)


# -- no plan: a status and a diagnosis, never an exception ----------------------------------


def overfull(**changes) -> DeploymentProblem:
    """Warehouse 0 (capacity 4, strict) holds 6 units of SKU 1; lane 0 -> 1 costs 1."""
    data = dict(n_skus=2, n_locations=2, lane_origin=[0], lane_destination=[1],
                lane_cost=[1.0], location_capacity=[4.0, np.inf],
                on_hand=[[0.0, 0.0], [6.0, 0.0]], stream_sku=np.zeros(0, dtype=int),
                pair_stream=np.zeros(0, dtype=int), pair_location=np.zeros(0, dtype=int),
                segment_width=np.zeros((0, 1)), segment_value=np.zeros((0, 1)),
                capacity_rule="strict")
    return DeploymentProblem(**(data | changes))


INFEASIBLE = {
    # no lane leaves warehouse 0: all 6 units stay, 2 over capacity
    "no lane out": (overfull(lane_origin=[1], lane_destination=[0]),
                    r"location 0 overflows its capacity 4 by 2 volume units .*"
                    r"cannot leave tonight, inbound or without a lane out: 6, mostly SKU 1 "
                    r"\(6 units\)"),
    # 5 of the units are inbound: shedding the 1 on hand still leaves 5 > 4
    "inbound": (overfull(on_hand=[[0.0, 0.0], [1.0, 0.0]], inbound=[[0.0, 0.0], [5.0, 0.0]]),
                r"location 0 overflows its capacity 4 by 1 volume units .*mostly SKU 1 "
                r"\(5 units\)"),
    # the lane out carries 1 unit a night: 1 unit too many stays
    "full lane": (overfull(lane_capacity=[1.0]),
                  r"location 0 overflows its capacity 4 by 1 volume units .*lanes out with "
                  r"limited capacity: 0"),
}


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", INFEASIBLE)
def test_infeasible_is_a_status_with_a_diagnosis(name, backend):
    problem, diagnosis = INFEASIBLE[name]
    result = solve_deployment(problem, backend=backend)
    assert result.status is SolveStatus.INFEASIBLE and not result.success
    assert result.diagnosis.startswith("capacity_rule='strict': location capacity cannot be "
                                       "met in the LP: ")
    assert re.search(diagnosis, result.diagnosis), result.diagnosis
    assert result.move_sku.size == result.move_quantity.size == 0
    assert np.isnan(result.objective)
    assert np.isnan(result.allocation).all() and np.isnan(result.position).all()
    assert np.isnan(result.location_shadow_price).all()
    # the same data under "no_growth" keeps the overfull warehouse as it is
    relaxed = dataclasses.replace(problem, capacity_rule="no_growth")
    assert solve_deployment(relaxed, backend=backend).status is SolveStatus.OPTIMAL


@pytest.mark.parametrize("backend", BACKENDS)
def test_unbounded_and_infeasible_programs_are_statuses(backend):
    """The deployment model cannot be unbounded (see solvers.deployment); the LP layer can."""
    matrix = scipy.sparse.csc_array(np.array([[1.0, -1.0]]))
    unbounded = LinearProgram(matrix=matrix, objective=np.array([1.0, 0.0]),
                              col_lower=np.zeros(2), col_upper=np.full(2, np.inf),
                              row_lower=np.array([-np.inf]), row_upper=np.array([1.0]))
    solution = solve_lp(unbounded, backend=backend)
    assert solution.status is SolveStatus.UNBOUNDED
    assert solution.x is None and np.isnan(solution.objective)
    # x0 <= 1, x1 <= 0 and x0 - x1 >= 2
    infeasible = dataclasses.replace(unbounded, col_upper=np.array([1.0, 0.0]),
                                     row_lower=np.array([2.0]), row_upper=np.array([np.inf]))
    solution = solve_lp(infeasible, backend=backend)
    assert solution.status is SolveStatus.INFEASIBLE and solution.x is None


@pytest.mark.parametrize(("changes", "error", "message"), [
    ({"matrix": np.eye(2)}, TypeError, r"^matrix must be a scipy.sparse array or matrix"),
    ({"objective": np.ones(3)}, ValueError,
     r"^objective must have shape \(2,\) to match matrix of shape \(2, 2\); found shape"),
    ({"row_upper": np.array([1.0, np.nan])}, ValueError, r"^row_upper must hold numbers"),
    ({"col_lower": np.array([0.0, 2.0])}, ValueError,
     r"^every lower bound must be <= its upper bound"),
])
def test_bad_linear_program(changes, error, message):
    data = dict(matrix=scipy.sparse.eye_array(2, format="csc"), objective=np.ones(2),
                col_lower=np.zeros(2), col_upper=np.ones(2), row_lower=np.full(2, -np.inf),
                row_upper=np.ones(2))
    with pytest.raises(error, match=message):
        LinearProgram(**(data | changes))
    with pytest.raises(TypeError, match=r"^lp must be a LinearProgram; found dict"):
        solve_lp(data)


def test_highs_time_limit_is_a_status():
    rows = 400
    matrix = scipy.sparse.random_array((rows, 2 * rows), density=0.05, random_state=0,
                                       format="csc")
    program = LinearProgram(matrix=matrix, objective=np.ones(2 * rows),
                            col_lower=np.zeros(2 * rows), col_upper=np.full(2 * rows, 10.0),
                            row_lower=np.full(rows, -np.inf), row_upper=np.ones(rows))
    assert solve_lp(program).status is SolveStatus.OPTIMAL
    assert solve_lp(program, time_limit=1e-9).status is SolveStatus.TIME_LIMIT


def test_time_limit_across_chunks_is_a_status():
    problem = DeploymentProblem(**valid())
    result = solve_deployment(problem, chunk_skus=1, time_limit=1e-9)
    assert result.status is SolveStatus.TIME_LIMIT
    assert result.diagnosis.startswith("time limit of 1e-09 s reached before chunk 1 of 2 "
                                       "(SKUs 0 to 0)")
    assert np.isnan(result.objective) and result.move_sku.size == 0


class BrokenSolver(pulp.LpSolver):
    """A PuLP solver that is installed but fails, as a licence server that drops out would."""

    def available(self):
        return True

    def actualSolve(self, lp, **kwargs):
        raise pulp.PulpSolverError("licence server unreachable")


def test_a_failing_backend_is_an_error_status():
    result = solve_deployment(DeploymentProblem(**valid()), backend="pulp",
                              pulp_solver=BrokenSolver())
    assert result.status is SolveStatus.ERROR
    assert "licence server unreachable" in result.message
    assert result.diagnosis == "the backend failed on the LP"


def test_no_skus_is_an_empty_plan():
    problem = DeploymentProblem(**valid(n_skus=0, on_hand=np.zeros((0, 3)),
                                        stream_sku=np.zeros(0, dtype=int),
                                        pair_stream=np.zeros(0, dtype=int),
                                        pair_location=np.zeros(0, dtype=int),
                                        segment_width=np.zeros((0, 2)),
                                        segment_value=np.zeros((0, 2))))
    result = solve_deployment(problem)
    assert result.status is SolveStatus.OPTIMAL and result.objective == 0.0
    assert result.position.shape == (0, 3) and result.move_sku.size == 0
