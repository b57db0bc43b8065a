"""Capacity-coupled deployment LPs solved in SKU chunks (`solvers.decomposition`).

Each decomposed plan is checked against the same problem solved as one LP: it never beats the
coupled optimum, it is within its certified gap of it, and it respects every capacity.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from solvers import DeploymentProblem, SolveStatus, solve_deployment
from solvers.decomposition import solve_coupled

TOLERANCE = 1e-6


def coupled_problem(seed: int, *, skus: int = 12, periods: int = 3) -> DeploymentProblem:
    """A DC (0) feeding three warehouses (1-3), a cross lane 1 -> 2, SKUs competing for the
    warehouses' volume and the lanes' capacity."""
    rng = np.random.default_rng(seed)
    K, L, C = skus, 4, periods
    origin = np.array([0, 0, 0, 1])
    destination = np.array([1, 2, 3, 2])
    streams_per_sku = rng.integers(1, 4, size=K)
    stream_sku = np.repeat(np.arange(K), streams_per_sku)
    S = stream_sku.size
    eligible = rng.random((S, L)) < 0.3
    eligible[np.arange(S), rng.integers(1, L, size=S)] = True
    pair_stream, pair_location = np.nonzero(eligible)
    B = 3
    width = rng.integers(0, 6, size=(S, max(C, 1), B)).astype(float)
    value = -np.sort(-rng.uniform(-1.0, 12.0, size=(S, max(C, 1), B)), axis=2)
    on_hand = np.zeros((K, L))
    on_hand[:, 0] = rng.integers(5, 30, size=K)
    on_hand[:, 1:] = rng.integers(0, 3, size=(K, L - 1))
    volume = rng.uniform(0.5, 2.0, size=K)
    held = volume @ on_hand
    fields = dict(
        n_skus=K, n_locations=L, lane_origin=origin, lane_destination=destination,
        lane_cost=rng.uniform(0, 1, size=origin.size), on_hand=on_hand,
        stream_sku=stream_sku, pair_stream=pair_stream, pair_location=pair_location,
        holding_cost=rng.uniform(0, 0.3, size=(K, L)), unit_volume=volume,
        location_capacity=np.concatenate([[np.inf], held[1:] + rng.uniform(5, 40, size=L - 1)]),
        lane_capacity=rng.uniform(10, 60, size=origin.size))
    if C > 1:
        return DeploymentProblem(**fields, segment_width=width[:, -1],
                                 segment_value=value[:, -1], periods=C,
                                 lane_lead_time=rng.integers(0, C, size=origin.size),
                                 period_width=width, period_value=value)
    return DeploymentProblem(**fields, segment_width=width[:, 0], segment_value=value[:, 0])


def assert_within_capacity(problem: DeploymentProblem, result) -> None:
    volume = problem.unit_volume @ result.position
    binding = problem.capacity_binds
    assert np.all(volume[binding] <= problem.capacity_limit[binding] + 1e-6)
    tonight = np.bincount(result.move_lane, weights=result.move_quantity,
                          minlength=problem.n_lanes)
    assert np.all(tonight <= problem.lane_capacity + 1e-6)


@pytest.mark.parametrize("periods", [1, 3])
@pytest.mark.parametrize("seed", range(12))
def test_chunks_stay_within_their_certified_gap_of_the_coupled_optimum(seed, periods):
    problem = coupled_problem(seed, periods=periods)
    assert problem.coupled
    whole = solve_deployment(problem, chunk_skus=None)
    split = solve_deployment(problem, chunk_skus=3)
    assert whole.success and split.success
    assert split.chunks == 4 and split.solves >= 4
    scale = max(abs(whole.objective), 1.0)
    assert split.objective <= whole.objective + TOLERANCE * scale      # never beats it
    assert whole.objective <= split.objective_bound + TOLERANCE * scale  # a certified bound
    assert split.optimality_gap == pytest.approx(
        (split.objective_bound - split.objective) / max(abs(split.objective_bound), 1.0))
    assert_within_capacity(problem, split)
    assert (split.location_shadow_price >= 0).all() and (split.lane_shadow_price >= 0).all()


@pytest.mark.parametrize(("sample_skus", "mean_loss", "worst_loss"),
                         [(400, 0.02, 0.05), (9, 0.05, 0.15)])
def test_the_decomposed_plans_are_close_to_the_coupled_optimum(sample_skus, mean_loss,
                                                               worst_loss):
    """Over 24 random networks of 36 SKUs in 12 chunks of 3 competing for tight capacities
    (a hard case: real chunks hold about 100 SKUs), the plans lose little against one LP, with
    exact prices (the sample is the whole catalogue) and with prices from a quarter of it."""
    lost = []
    for seed in range(12):
        for periods in (1, 3):
            problem = coupled_problem(seed, skus=36, periods=periods)
            whole = solve_deployment(problem, chunk_skus=None).objective
            ranges = [(first, first + 3) for first in range(0, 36, 3)]
            split = solve_coupled(problem, ranges, backend="highs", deadline=None,
                                  pulp_solver=None, skip_failed_chunks=False,
                                  sample_skus=sample_skus)
            assert split.status is SolveStatus.OPTIMAL
            assert whole <= split.upper_bound + 1e-6 * abs(whole)
            lost.append((whole - split.objective) / max(abs(whole), 1.0))
    assert min(lost) > -1e-6
    assert np.mean(lost) < mean_loss and np.max(lost) < worst_loss, lost


def test_loose_capacity_is_solved_exactly_by_the_relaxation():
    problem = coupled_problem(5, periods=3)
    loose = dataclasses.replace(problem, location_capacity=np.where(
        np.isfinite(problem.location_capacity), 1e4, np.inf), lane_capacity=np.full(4, 1e4))
    assert not loose.coupled            # nothing can bind: independent chunks
    # a lane limit a unit below the DC's stock couples the SKUs, but the relaxation fits it
    supply = problem.on_hand[:, 0].sum()
    tight_lanes = dataclasses.replace(problem, location_capacity=np.inf,
                                      lane_capacity=np.full(4, supply - 1.0))
    assert tight_lanes.coupled
    whole = solve_deployment(tight_lanes, chunk_skus=None)
    split = solve_deployment(tight_lanes, chunk_skus=2)
    assert split.optimality_gap == pytest.approx(0.0, abs=1e-9)
    assert split.solves == split.chunks + 1         # the sample LP and one pass
    assert split.objective == pytest.approx(whole.objective, abs=1e-6)


def test_a_strict_capacity_already_exceeded_is_solved_as_one_lp():
    problem = coupled_problem(2, periods=1)
    strict = dataclasses.replace(problem, capacity_rule="strict",
                                 location_capacity=np.array([np.inf, 1.0, 40.0, 40.0]))
    whole = solve_deployment(strict, chunk_skus=None)
    split = solve_deployment(strict, chunk_skus=3)
    assert split.status is whole.status
    assert split.chunks == 1
    if whole.success:
        assert split.objective == pytest.approx(whole.objective, abs=1e-6)


def test_the_pulp_backend_coordinates_chunks_too():
    problem = coupled_problem(1, periods=3)
    whole = solve_deployment(problem, chunk_skus=None)
    split = solve_deployment(problem, backend="pulp", chunk_skus=3)
    assert split.success and split.chunks == 4
    assert split.objective <= whole.objective + 1e-6 * abs(whole.objective)
    assert whole.objective <= split.objective_bound + 1e-6 * abs(whole.objective)
    assert_within_capacity(problem, split)
