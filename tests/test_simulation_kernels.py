"""The numba kernels against the plain-Python reference, and invariants of their trajectories.

The kernels and `engine.simulation.reference` must give identical trajectories and statistics
from the same draws (exact equality, not a tolerance: both do the same float operations in the
same order), for every policy kind, backorders and lost sales, zero and positive lead times.
"""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.simulation import kernels
from engine.simulation.reference import simulate_samples_reference

KERNELS = [kernels.simulate_samples, kernels.simulate_samples_parallel]
FIELDS = len(kernels.TRAJECTORY_FIELDS)


def run_kernel(kernel, demand, *, record=True, **policy):
    """Run ``kernel`` on ``demand``; return (statistics, trajectory)."""
    samples, periods = demand.shape
    out = np.full((samples, len(kernels.STATISTICS)), np.nan)
    trajectory = np.full((samples if record else 0, periods, FIELDS), np.nan)
    kernel(np.ascontiguousarray(demand, dtype=np.float64), policy["kind"],
           policy["reorder_point"], policy["order_up_to"], policy["order_quantity"],
           policy["lead_time"], policy["holding_cost"], policy["shortage_cost"],
           policy["fixed_cost"], policy["backorders"], policy["warmup"], out, trajectory)
    return out, trajectory


def settings_for(kind: int, lead_time: int, backorders: bool, *, fractional: bool) -> dict:
    """Policy and costs of one kernel run; ``fractional`` uses non-whole levels."""
    shift = 0.37 if fractional else 0.0
    reorder_point, order_up_to, order_quantity = {
        kernels.BASE_STOCK: (14 + shift, 14 + shift, 0.0),
        kernels.S_S: (6 + shift, 19 + shift, 0.0),
        kernels.R_Q: (5 + shift, 5 + shift + 7.25, 7.25),
    }[kind]
    return {"kind": kind, "reorder_point": reorder_point, "order_up_to": order_up_to,
            "order_quantity": order_quantity, "lead_time": lead_time, "holding_cost": 0.7,
            "shortage_cost": 4.3, "fixed_cost": 11.0, "backorders": backorders, "warmup": 5}


@pytest.mark.parametrize("kernel", KERNELS, ids=["serial", "parallel"])
@pytest.mark.parametrize("kind", kernels.POLICY_KINDS, ids=["base_stock", "sS", "rQ"])
@pytest.mark.parametrize("lead_time", [0, 1, 3])
@pytest.mark.parametrize("backorders", [True, False], ids=["backorders", "lost_sales"])
@pytest.mark.parametrize("fractional", [False, True], ids=["poisson", "gamma"])
def test_kernel_equals_reference(kernel, kind, lead_time, backorders, fractional):
    rng = np.random.default_rng(kind * 100 + lead_time * 10 + backorders)
    shape = (4, 80)
    demand = rng.gamma(2.0, 2.5, shape) if fractional else rng.poisson(5.0, shape)
    # a few idle periods and a spike, to reach every branch
    demand[:, 10:13] = 0.0
    demand[:, 40] = 30.0
    policy = settings_for(kind, lead_time, backorders, fractional=fractional)
    statistics, trajectory = run_kernel(kernel, demand, **policy)
    expected_statistics, expected_trajectory = simulate_samples_reference(demand, **policy)
    np.testing.assert_array_equal(trajectory, expected_trajectory)
    np.testing.assert_array_equal(statistics, expected_statistics)
    unmet = trajectory[:, :, kernels.UNMET]
    assert (unmet > 0).any() and (trajectory[:, :, kernels.ORDERED] > 0).any()


def test_recording_the_trajectory_does_not_change_the_statistics():
    demand = np.random.default_rng(1).poisson(4.0, (6, 300))
    policy = settings_for(kernels.S_S, 2, True, fractional=False)
    recorded, _ = run_kernel(kernels.simulate_samples, demand, **policy)
    unrecorded, trajectory = run_kernel(kernels.simulate_samples, demand, record=False, **policy)
    np.testing.assert_array_equal(recorded, unrecorded)
    assert trajectory.shape == (0, 300, FIELDS)


@settings(max_examples=200, deadline=None)
@given(kind=st.sampled_from(kernels.POLICY_KINDS), lead_time=st.integers(0, 5),
       backorders=st.booleans(), reorder_point=st.integers(-3, 25), gap=st.integers(1, 30),
       warmup=st.integers(0, 20), seed=st.integers(0, 2**32 - 1),
       mean=st.floats(0.1, 15.0))
def test_units_are_conserved_and_statistics_add_up(kind, lead_time, backorders, reorder_point,
                                                   gap, warmup, seed, mean):
    """For any policy: what arrives is what was ordered L periods before, the net inventory
    moves by arrivals minus demand (backorders) and on hand by arrivals minus sales (lost
    sales), the position after review obeys the policy, the statistics are the sums of the
    trajectory over the measured periods, and the kernel equals the reference."""
    periods = 60
    demand = np.random.default_rng(seed).poisson(mean, (2, periods)).astype(np.float64)
    level = float(reorder_point + gap)  # S of base stock and (s,S); r + Q of (r,Q)
    policy = {"kind": kind,
              "reorder_point": level if kind == kernels.BASE_STOCK else float(reorder_point),
              "order_up_to": level, "order_quantity": float(gap),
              "lead_time": lead_time, "holding_cost": 1.5, "shortage_cost": 6.0,
              "fixed_cost": 2.0, "backorders": backorders, "warmup": warmup}
    statistics, trajectory = run_kernel(kernels.simulate_samples, demand, **policy)
    expected_statistics, expected_trajectory = simulate_samples_reference(demand, **policy)
    np.testing.assert_array_equal(trajectory, expected_trajectory)
    np.testing.assert_array_equal(statistics, expected_statistics)

    on_hand = trajectory[:, :, kernels.END_ON_HAND]
    backordered = trajectory[:, :, kernels.END_BACKORDERS]
    on_order = trajectory[:, :, kernels.END_ON_ORDER]
    ordered = trajectory[:, :, kernels.ORDERED]
    served = trajectory[:, :, kernels.SERVED_NOW]
    unmet = trajectory[:, :, kernels.UNMET]
    start_on_hand = max(level, 0.0)
    start_backorders = max(-level, 0.0) if backorders else 0.0

    arrivals = np.zeros_like(ordered)
    arrivals[:, lead_time:] = ordered[:, :periods - lead_time]
    np.testing.assert_array_equal(served + unmet, demand)
    assert np.all(on_hand >= 0) and np.all(backordered >= 0)
    assert np.all((on_hand == 0) | (backordered == 0))
    pending = np.cumsum(ordered, axis=1) - np.cumsum(arrivals, axis=1)
    np.testing.assert_array_equal(on_order, pending)
    if backorders:
        net = on_hand - backordered
        previous = np.concatenate([np.full((2, 1), start_on_hand - start_backorders),
                                   net[:, :-1]], axis=1)
        np.testing.assert_array_equal(net - previous, arrivals - demand)
    else:
        assert np.all(backordered == 0)
        previous = np.concatenate([np.full((2, 1), start_on_hand), on_hand[:, :-1]], axis=1)
        np.testing.assert_array_equal(on_hand - previous, arrivals - served)

    # the position after the review (before demand) obeys the policy
    position = on_hand + on_order - backordered + served + (unmet if backorders else 0.0)
    if kind != kernels.R_Q:
        assert np.all(position[ordered > 0] == level)
    if kind == kernels.BASE_STOCK:
        assert np.all(position >= level)
    elif kind == kernels.S_S:
        assert np.all(position > reorder_point)
    else:
        # above r, and at most r + Q, or the starting position if higher (lost sales with
        # r + Q < 0 start at 0 and never order: the position of lost sales is never negative)
        top = max(level, start_on_hand - start_backorders)
        assert np.all((position > reorder_point) & (position <= top))
        assert np.all(np.mod(ordered, gap) == 0)

    measured = slice(warmup, periods)
    short = backordered if backorders else unmet
    orders = np.where(ordered > 0, ordered / gap if kind == kernels.R_Q else 1.0, 0.0)
    sums = {
        kernels.HOLDING_COST: 1.5 * on_hand, kernels.SHORTAGE_COST: 6.0 * short,
        kernels.ORDERING_COST: 2.0 * orders, kernels.DEMAND: demand, kernels.SERVED: served,
        kernels.NO_STOCKOUT_PERIODS: unmet == 0, kernels.ON_HAND: on_hand,
        kernels.ORDERS: orders, kernels.SHORT_UNITS: short,
    }
    for column, values in sums.items():
        np.testing.assert_allclose(statistics[:, column], values[:, measured].sum(axis=1),
                                   rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(
        statistics[:, kernels.TOTAL_COST],
        statistics[:, [kernels.HOLDING_COST, kernels.SHORTAGE_COST,
                       kernels.ORDERING_COST]].sum(axis=1), rtol=1e-12)


def test_parallel_kernel_gives_the_serial_results():
    demand = np.random.default_rng(3).poisson(6.0, (257, 400)).astype(np.float64)
    policy = settings_for(kernels.R_Q, 2, True, fractional=True)
    serial, _ = run_kernel(kernels.simulate_samples, demand, record=False, **policy)
    parallel, _ = run_kernel(kernels.simulate_samples_parallel, demand, record=False, **policy)
    np.testing.assert_array_equal(serial, parallel)


def test_kernels_import_only_numpy_and_numba():
    """DESIGN.md: kernels import only numpy and numba (and no engine module)."""
    source = Path(kernels.__file__).read_text()
    imported = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            imported.add((node.module or "").split(".")[0])
    assert imported <= {"__future__", "numpy", "numba"}
