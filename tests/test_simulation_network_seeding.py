"""Seeding and repeatability of `simulate_network`, and the demand it draws.

Everything random about a SKU comes from ``SeedSequence(seed, spawn_key=(sku_key,))``: the same
seed gives identical results, and a SKU's results do not depend on the other SKUs in the batch,
their order, the chunking or the execution (serial, prange, threads).
"""

from __future__ import annotations

import numpy as np
import pytest
from test_simulation_network_support import random_network

from engine.simulation import NetworkArrays, simulate_network
from engine.simulation import network_kernels as nk
from engine.simulation.network_reference import lead_time_uniform
from models.distributions import Family

PERIODS = 10


def demand_parameters(arrays: NetworkArrays, seed: int):
    """Per-stream (mean, variance, family) with every family and some idle periods."""
    rng = np.random.default_rng(seed)
    mean = rng.uniform(0.5, 9.0, (arrays.streams, PERIODS)) * (
        rng.random((arrays.streams, PERIODS)) < 0.9)
    family = rng.integers(0, 3, arrays.streams)
    variance = np.where(family[:, None] == Family.POISSON, mean,
                        mean * rng.uniform(1.2, 3.0, (arrays.streams, 1)))
    variance[family == Family.NORMAL] += 1.0
    return mean, variance, family


def batch(seed: int = 14, skus: int = 9):
    arrays = random_network(seed, skus=skus, locations=6, periods=PERIODS)
    mean, variance, family = demand_parameters(arrays, seed)
    return arrays, {"demand_mean": mean, "demand_variance": variance, "demand_family": family}


def run(arrays, parameters, *, seed=17, **options):
    return simulate_network(arrays, samples=6, periods=PERIODS, seed=seed,
                            record_trajectory=True, **parameters, **options)


def test_same_seed_same_results_other_seed_other_results():
    arrays, parameters = batch()
    first, again = run(arrays, parameters), run(arrays, parameters)
    np.testing.assert_array_equal(first.stream_statistics, again.stream_statistics)
    np.testing.assert_array_equal(first.location_statistics, again.location_statistics)
    np.testing.assert_array_equal(first.trajectory.location, again.trajectory.location)
    other = run(arrays, parameters, seed=18)
    assert not np.array_equal(first.stream("demand"), other.stream("demand"))
    random_lanes = (arrays.lead_time_pmf > 0).sum(axis=1) > 1
    lead = first.trajectory.location[..., random_lanes, nk.LEAD_TIME]
    assert not np.array_equal(lead, other.trajectory.location[..., random_lanes, nk.LEAD_TIME])


@pytest.mark.parametrize("order", [[4, 1, 7], [8, 0], [3], [6, 5, 4, 3, 2, 1, 0]])
def test_a_sku_gets_the_same_results_in_any_batch(order):
    arrays, parameters = batch()
    full = run(arrays, parameters)
    rows = arrays.stream_rows(order)
    part = run(arrays.take(order), {name: value[rows] for name, value in parameters.items()})
    np.testing.assert_array_equal(part.stream_statistics, full.stream_statistics[rows])
    np.testing.assert_array_equal(part.location_statistics, full.location_statistics[order])
    np.testing.assert_array_equal(part.trajectory.location, full.trajectory.location[order])


@pytest.mark.parametrize(("execution", "chunk_skus"), [
    ("serial", 1), ("serial", 4), ("prange", 3), ("prange", 100), ("threads", 1),
    ("threads", 2), ("threads", 100)])
def test_chunking_and_execution_do_not_change_the_results(execution, chunk_skus):
    arrays, parameters = batch()
    reference = run(arrays, parameters, execution="serial", chunk_skus=1000)
    other = run(arrays, parameters, execution=execution, chunk_skus=chunk_skus)
    np.testing.assert_array_equal(other.stream_statistics, reference.stream_statistics)
    np.testing.assert_array_equal(other.location_statistics, reference.location_statistics)
    np.testing.assert_array_equal(other.trajectory.location, reference.trajectory.location)


def test_demand_comes_from_the_skus_own_generator():
    """Documented contract: SKU k's streams, in order, each draw a (samples, periods) array from
    PCG64(SeedSequence(seed, spawn_key=(sku_key[k], 1)))."""
    arrays, parameters = batch(skus=3)
    result = run(arrays, parameters)
    mean, variance, family = (parameters[name] for name in
                              ("demand_mean", "demand_variance", "demand_family"))
    for k in range(arrays.skus):
        sequence = np.random.SeedSequence(17, spawn_key=(int(arrays.sku_key[k]), 1))
        rng = np.random.Generator(np.random.PCG64(sequence))
        for s in range(arrays.sku_stream_ptr[k], arrays.sku_stream_ptr[k + 1]):
            m, v = mean[s], variance[s]
            if family[s] == Family.POISSON:
                expected = rng.poisson(m, (6, PERIODS))
            elif family[s] == Family.NEGATIVE_BINOMIAL:
                active = m > 0  # n = m^2 / (v - m), p = m / v; n = p = 1 without demand
                n = np.divide(m * m, v - m, out=np.ones_like(m), where=active)
                p = np.divide(m, v, out=np.ones_like(m), where=active)
                expected = rng.negative_binomial(n, p, (6, PERIODS))
            else:
                expected = np.maximum(rng.normal(m, np.sqrt(v), (6, PERIODS)), 0.0)
                expected[:, m == 0] = 0.0
            np.testing.assert_allclose(result.trajectory.stream[s, :, :, nk.DEMANDED],
                                       expected, rtol=1e-12)


def test_lead_times_come_from_the_skus_own_key():
    """Documented contract: the key is SeedSequence(seed, spawn_key=(sku_key[k], 0)) and the
    lead time of the shipment to c in (sample, period) inverts c's cdf at SplitMix64."""
    arrays, parameters = batch(skus=3)
    result = run(arrays, parameters)
    location = result.trajectory.location
    checked = 0
    for k, n, t, c in zip(*np.nonzero(location[..., nk.REPLENISHED] > 0), strict=True):
        pmf = arrays.lead_time_pmf[c]
        if (pmf > 0).sum() == 1:
            assert location[k, n, t, c, nk.LEAD_TIME] == np.flatnonzero(pmf)[0]
            continue
        sequence = np.random.SeedSequence(17, spawn_key=(int(arrays.sku_key[k]), 0))
        key = int(sequence.generate_state(1, dtype=np.uint64)[0])
        u = lead_time_uniform(key, int(n), int(t), int(c))
        cdf = np.cumsum(pmf)
        expected = min(int(np.searchsorted(cdf, u, side="right")),
                       int(np.flatnonzero(pmf)[-1]))
        assert location[k, n, t, c, nk.LEAD_TIME] == expected
        checked += 1
    assert checked > 10


@pytest.mark.parametrize(("family", "mean", "variance"), [
    (Family.POISSON, 4.0, 4.0),
    (Family.NEGATIVE_BINOMIAL, 5.0, 15.0),
    (Family.NORMAL, 50.0, 25.0),
    (Family.GAMMA, 3.0, 9.0),
])
def test_drawn_demand_has_the_requested_mean_and_variance(family, mean, variance):
    """Per-sample totals over P i.i.d. periods: mean P m, variance P v (5 standard errors)."""
    arrays = NetworkArrays(
        source=np.array([-1]), lead_time_pmf=np.array([[1.0]]), location_priority=np.zeros(1),
        sku_key=np.array([1]), reorder_point=np.array([[-np.inf]]),
        order_up_to=np.array([[0.0]]), holding_cost=np.zeros((1, 1)),
        on_hand=np.zeros((1, 1)), arrivals=np.zeros((1, 1, 0)),
        sku_stream_ptr=np.array([0, 1]), stream_ptr=np.array([0, 1]),
        stream_locations=np.array([0]), backorders=np.array([False]),
        shortage_cost=np.zeros(1), stream_priority=np.zeros(1))
    samples, periods = 20_000, 4
    result = simulate_network(arrays, samples=samples, periods=periods, seed=2,
                              demand_mean=np.full((1, periods), mean),
                              demand_variance=np.full((1, periods), variance),
                              demand_family=np.array([family]))
    totals = result.stream("demand")[0]
    assert abs(totals.mean() - periods * mean) < 5 * np.sqrt(periods * variance / samples)
    # the sample variance of n draws has standard error ~ sigma^2 sqrt(2 / n) (normal-ish)
    assert abs(totals.var(ddof=1) / (periods * variance) - 1) < 5 * np.sqrt(2 / samples) * 1.5
    if family in (Family.POISSON, Family.NEGATIVE_BINOMIAL):
        assert np.all(totals == np.round(totals))
