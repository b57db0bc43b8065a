"""The network kernels against the plain-Python reference, and invariants of their trajectories.

The numba kernels and `engine.simulation.network_reference` must give identical trajectories
and statistics from the same inputs (exact equality: both do the same float operations in the
same order) on random small networks: random and fixed lead times, both rationing rules,
spill-over, backorders and lost sales, whole and fractional quantities. The invariants are
checked on the kernels' trajectories: units are conserved, nothing ships beyond stock,
rationing follows its rule, streams are served only where they are eligible.
"""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_simulation_network_support import random_demand, random_network

from engine.simulation import network_kernels as nk
from engine.simulation import network_reference, simulate_network
from engine.simulation.network_reference import simulate_network_reference

SAMPLES, PERIODS = 3, 12


def run_both(seed: int, rationing: str, *, fractional: bool, execution: str = "serial"):
    arrays = random_network(seed, periods=PERIODS, fractional=fractional)
    demand = random_demand(arrays, seed, samples=SAMPLES, periods=PERIODS,
                           fractional=fractional)
    arguments = {"samples": SAMPLES, "periods": PERIODS, "seed": seed, "demand": demand,
                 "rationing": rationing, "record_trajectory": True}
    kernel = simulate_network(arrays, execution=execution, chunk_skus=1, **arguments)
    reference = simulate_network_reference(arrays, **arguments)
    return arrays, kernel, reference


def fair_share_extras(arrays, result) -> int:
    """How many requesters got one unit more than the floor of their fair share."""
    location = result.trajectory.location
    count = 0
    for v in range(arrays.locations):
        children = np.flatnonzero(arrays.source == v)
        asked = location[..., children, nk.REQUESTED]
        got = location[..., children, nk.REPLENISHED]
        whole = np.floor(location[..., v, nk.AVAILABLE])[..., None]
        total = asked.sum(axis=-1, keepdims=True)
        short = total > whole
        quota = np.divide(whole * asked, total, out=np.zeros_like(asked), where=total > 0)
        count += int(((got > np.floor(quota)) & short).sum())
    return count


def assert_same(kernel, reference) -> None:
    np.testing.assert_array_equal(kernel.trajectory.location, reference.trajectory.location)
    np.testing.assert_array_equal(kernel.trajectory.stream, reference.trajectory.stream)
    np.testing.assert_array_equal(kernel.trajectory.served_from,
                                  reference.trajectory.served_from)
    np.testing.assert_array_equal(kernel.stream_statistics, reference.stream_statistics)
    np.testing.assert_array_equal(kernel.location_statistics, reference.location_statistics)


@pytest.mark.parametrize("rationing", ["priority", "fair_share"])
@pytest.mark.parametrize("fractional", [False, True], ids=["whole", "fractional"])
def test_kernel_equals_reference_on_random_networks(rationing, fractional):
    """60 random networks per case; together they reach every branch of the kernel."""
    reached = dict.fromkeys(["rationed", "fair_share_extra", "random_lead_time",
                             "lead_time_0", "spill_over", "backorders_filled", "lost",
                             "supplier_order", "past_horizon"], False)
    for seed in range(60):
        arrays, kernel, reference = run_both(seed, rationing, fractional=fractional)
        assert_same(kernel, reference)
        location = kernel.trajectory.location
        requested = location[..., nk.REQUESTED]
        replenished = location[..., nk.REPLENISHED]
        fed = arrays.source >= 0
        reached["rationed"] |= bool((replenished[..., fed] < requested[..., fed]).any())
        reached["fair_share_extra"] |= rationing == "priority" or fair_share_extras(arrays,
                                                                                   kernel) > 0
        random_lane = (arrays.lead_time_pmf > 0).sum(axis=1) > 1
        reached["random_lead_time"] |= bool((location[..., random_lane, nk.LEAD_TIME]
                                             >= 0).any())
        reached["lead_time_0"] |= bool(((location[..., nk.LEAD_TIME] == 0)
                                        & (replenished > 0)).any())
        first_locations = arrays.stream_locations[arrays.stream_ptr[:-1]]
        served_from = kernel.trajectory.served_from.copy()
        served_from[np.arange(arrays.streams), ..., first_locations] = 0.0
        reached["spill_over"] |= bool((served_from > 0).any())
        reached["backorders_filled"] |= bool(
            (kernel.stream("backorders_filled") > 0).any())
        reached["lost"] |= bool((kernel.stream("lost") > 0).any())
        reached["supplier_order"] |= bool((replenished[..., ~fed] > 0).any())
        reached["past_horizon"] |= arrays.arrivals.shape[2] > PERIODS
    assert all(reached.values()), reached


@pytest.mark.parametrize("execution", ["prange", "threads"])
def test_parallel_executions_give_the_serial_results(execution):
    for seed in range(5):
        arrays = random_network(100 + seed, skus=40)
        demand = random_demand(arrays, seed, samples=4, periods=PERIODS)
        arguments = {"samples": 4, "periods": PERIODS, "seed": seed, "demand": demand,
                     "rationing": "fair_share" if seed % 2 else "priority"}
        serial = simulate_network(arrays, execution="serial", **arguments)
        parallel = simulate_network(arrays, execution=execution, chunk_skus=7, **arguments)
        np.testing.assert_array_equal(serial.stream_statistics, parallel.stream_statistics)
        np.testing.assert_array_equal(serial.location_statistics,
                                      parallel.location_statistics)


def test_recording_the_trajectory_does_not_change_the_statistics():
    arrays = random_network(7, skus=3)
    demand = random_demand(arrays, 7, samples=5, periods=PERIODS)
    arguments = {"samples": 5, "periods": PERIODS, "seed": 3, "demand": demand}
    recorded = simulate_network(arrays, record_trajectory=True, **arguments)
    unrecorded = simulate_network(arrays, **arguments)
    np.testing.assert_array_equal(recorded.stream_statistics, unrecorded.stream_statistics)
    np.testing.assert_array_equal(recorded.location_statistics,
                                  unrecorded.location_statistics)
    assert unrecorded.trajectory is None


def check_invariants(arrays, result, demand, rationing: str) -> None:
    """Conservation, stock limits, rationing rules and eligibility on whole-unit trajectories."""
    location = result.trajectory.location  # (sku, sample, period, location, field)
    stream = result.trajectory.stream  # (stream, sample, period, field)
    served_from = result.trajectory.served_from  # (stream, sample, period, location)
    inbound = np.zeros((arrays.skus, arrays.locations, PERIODS + 8))
    for extra in (arrays.arrivals, arrays.receipts):
        inbound[:, :, :extra.shape[2]] += extra[:, :, :PERIODS + 8]
    total_inbound = arrays.arrivals.sum(axis=2) + arrays.receipts.sum(axis=2)

    arrived = location[..., nk.ARRIVED]
    shipped = location[..., nk.SHIPPED]
    served_here = location[..., nk.SERVED_HERE]
    filled_here = location[..., nk.FILLED_HERE]
    end_on_hand = location[..., nk.END_ON_HAND]
    owed = location[..., nk.END_OWED]
    in_transit = location[..., nk.END_IN_TRANSIT]
    requested = location[..., nk.REQUESTED]
    replenished = location[..., nk.REPLENISHED]
    lead_time = location[..., nk.LEAD_TIME]

    # stock is never negative and never sits beside backorders it could fill
    assert np.all(end_on_hand >= 0) and np.all(owed >= 0) and np.all(in_transit >= 0)
    assert np.all((end_on_hand == 0) | (owed == 0))

    # each location's stock moves by arrivals - shipments - sales - backorders filled
    start = np.broadcast_to(arrays.on_hand[:, None, None, :], end_on_hand[:, :, :1].shape)
    previous = np.concatenate([start, end_on_hand[:, :, :-1]], axis=2)
    np.testing.assert_array_equal(end_on_hand,
                                  previous + arrived - shipped - served_here - filled_here)

    # what arrives is what was due: the starting pipeline, plus every dispatch lead times later
    expected_arrivals = np.broadcast_to(np.moveaxis(inbound[:, :, :PERIODS], 2, 1)[:, None],
                                        arrived.shape).copy()
    k, n, t, v = np.nonzero(replenished > 0)
    due = t + lead_time[k, n, t, v].astype(int)
    assert np.all(lead_time[k, n, t, v] >= 0)
    assert np.all(arrays.lead_time_pmf[v, lead_time[k, n, t, v].astype(int)] > 0)
    inside = due < PERIODS
    np.add.at(expected_arrivals, (k[inside], n[inside], due[inside], v[inside]),
              replenished[k, n, t, v][inside])
    np.testing.assert_array_equal(arrived, expected_arrivals)
    # in transit = all inbound + everything dispatched - everything arrived so far
    dispatched = np.cumsum(replenished, axis=2)
    np.testing.assert_array_equal(
        in_transit, total_inbound[:, None, None, :] + dispatched - np.cumsum(arrived, axis=2))

    # units over the whole network: start + inbound + supplier orders = end + in transit +
    # delivered to customers (lost units never entered; backorders are owed, not stock)
    roots = arrays.source < 0
    delivered = np.zeros((arrays.skus, SAMPLES))
    stream_sku = np.repeat(np.arange(arrays.skus), np.diff(arrays.sku_stream_ptr))
    np.add.at(delivered, stream_sku, result.stream("served") + result.stream("backorders_filled"))
    supplier = result.location("replenished_units")[:, roots].sum(axis=1)
    np.testing.assert_array_equal(
        (arrays.on_hand.sum(axis=1) + total_inbound.sum(axis=1))[:, None] + supplier,
        result.location("end_on_hand").sum(axis=1) + result.location("end_in_transit").sum(axis=1)
        + delivered)
    # and per stream: demand = served + lost + backorders filled + still open
    np.testing.assert_array_equal(
        result.stream("demand"),
        result.stream("served") + result.stream("lost") + result.stream("backorders_filled")
        + result.stream("end_backorders"))
    assert np.all(result.stream("lost")[arrays.backorders] == 0)
    assert np.all(result.stream("backorders")[~arrays.backorders] == 0)

    # a location requests only at its reviews
    periods = np.arange(requested.shape[2])
    off_review = (periods[:, None] % arrays.review_period[None, :]) != 0
    assert not np.any(requested[:, :, off_review])
    # the supplier delivers up to its limit; a source ships at most what was asked and what
    # it had
    limit = arrays.supply_limit[:, None, None, roots]
    np.testing.assert_array_equal(replenished[..., roots],
                                  np.minimum(requested[..., roots], limit))
    assert np.all(replenished <= requested)
    assert np.all(shipped <= location[..., nk.AVAILABLE])
    for v in range(arrays.locations):
        children = np.flatnonzero(arrays.source == v)
        if children.size == 0:
            continue
        np.testing.assert_array_equal(shipped[..., v], replenished[..., children].sum(axis=-1))
        asked = requested[..., children]
        got = replenished[..., children]
        available = location[..., v, nk.AVAILABLE]
        short = asked.sum(axis=-1) > available
        # without a shortage everyone gets its request; with one, the source ships all it has
        np.testing.assert_array_equal(got[~short], asked[~short])
        if rationing == "priority":
            np.testing.assert_array_equal(got.sum(axis=-1)[short], available[short])
            rank = np.lexsort((children, -arrays.location_priority[children]))
            got, asked = got[..., rank], asked[..., rank]
            cut = got < asked  # short requesters: every later one in priority order gets 0
            after_cut = np.cumsum(cut, axis=-1) - cut > 0
            assert np.all(got[after_cut] == 0)
        else:
            whole = np.floor(available)[..., None]
            total = asked.sum(axis=-1, keepdims=True)
            quota = np.divide(whole * asked, total, out=np.zeros_like(asked), where=total > 0)
            proportional = (got == np.floor(quota)) | (got == np.floor(quota) + 1)
            assert np.all(proportional[short])
            np.testing.assert_array_equal(got.sum(axis=-1)[short], whole[short, 0])
            # the extra units go to the largest remainders
            remainder = quota - np.floor(quota)
            extra = got > np.floor(quota)
            for case in zip(*np.nonzero(short), strict=True):
                if extra[case].any() and (~extra[case] & (asked[case] > 0)).any():
                    lowest_bumped = remainder[case][extra[case]].min()
                    highest_left = remainder[case][~extra[case] & (asked[case] > 0)].max()
                    assert lowest_bumped >= highest_left

    # streams are served only at their eligible locations, and the parts add up
    for s in range(arrays.streams):
        eligible = arrays.stream_locations[arrays.stream_ptr[s]:arrays.stream_ptr[s + 1]]
        ineligible = np.setdiff1d(np.arange(arrays.locations), eligible)
        assert np.all(served_from[s][..., ineligible] == 0)
    np.testing.assert_array_equal(served_from.sum(axis=-1), stream[..., nk.SERVED_NOW])
    np.testing.assert_array_equal(stream[..., nk.DEMANDED], demand)
    np.testing.assert_array_equal(stream[..., nk.SERVED_NOW] + stream[..., nk.UNMET], demand)
    for k in range(arrays.skus):
        streams = slice(arrays.sku_stream_ptr[k], arrays.sku_stream_ptr[k + 1])
        np.testing.assert_array_equal(served_from[streams].sum(axis=0), served_here[k])


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), rationing=st.sampled_from(["priority", "fair_share"]))
def test_invariants_hold_on_random_networks(seed, rationing):
    arrays = random_network(seed, periods=PERIODS)
    demand = random_demand(arrays, seed, samples=SAMPLES, periods=PERIODS)
    result = simulate_network(arrays, samples=SAMPLES, periods=PERIODS, seed=seed,
                              demand=demand, rationing=rationing, record_trajectory=True)
    check_invariants(arrays, result, demand, rationing)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), rationing=st.sampled_from(["priority", "fair_share"]))
def test_kernel_equals_reference_for_any_seed(seed, rationing):
    _, kernel, reference = run_both(seed, rationing, fractional=seed % 2 == 1)
    assert_same(kernel, reference)


def test_counter_based_uniforms_match_the_reference_and_are_uniform():
    rng = np.random.default_rng(0)
    keys = rng.integers(0, 2**63, 4, dtype=np.uint64)
    values = []
    for key in keys:
        for sample in range(0, 2000, 7):
            for period in range(0, 40, 3):
                for location in (0, 1, 13):
                    u = nk.lead_time_uniform(key, sample, period, location)
                    assert u == network_reference.lead_time_uniform(int(key), sample, period,
                                                                    location)
                    values.append(u)
    values = np.sort(values)
    # Kolmogorov-Smirnov distance to U(0, 1); 1.63 / sqrt(n) is its 1 % critical value
    n = values.size
    distance = np.max(np.abs(values - (np.arange(n) + 0.5) / n)) + 0.5 / n
    assert distance < 1.63 / np.sqrt(n)
    assert values[0] >= 0.0 and values[-1] < 1.0


def test_network_kernels_import_only_numpy_and_numba():
    """DESIGN.md: kernels import only numpy and numba (and no engine module)."""
    imported = set()
    for node in ast.walk(ast.parse(Path(nk.__file__).read_text())):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            imported.add((node.module or "").split(".")[0])
    assert imported <= {"__future__", "numpy", "numba"}
