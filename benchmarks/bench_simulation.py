"""The single-location simulation kernel: cold start, warm throughput, serial against parallel.

- **Cold start.** The first call of a kernel in a fresh process either compiles it or loads it
  from numba's on-disk cache (``cache=True``). Both are timed in subprocesses with an empty
  cache directory (``NUMBA_CACHE_DIR``): the first process compiles and writes the cache, the
  second loads it; each reports which happened (the dispatcher's cache hit and miss counts).
- **Warm throughput** of the serial kernel in sample-periods per second, as a ratio against a
  numpy simulation of the same draws (vectorised over samples, a Python loop over periods, the
  obvious implementation without numba) timed in the same run; the two are first checked to
  give the same statistics.
- **Parallel.** ``simulate_samples_parallel`` (``prange`` over samples) against the serial
  kernel on the same draws, and each inside the whole `simulate_policy` call (demand draws
  included), which decides the default (`engine.simulation.single.KERNEL`).

Sizes from ``OMNISTOCK_BENCH_SIM_SAMPLES`` (default 2,000, or ``OMNISTOCK_BENCH_SKUS`` when
that is smaller, as CI sets it when it runs the suite small with ``--benchmark-disable``) and
``OMNISTOCK_BENCH_SIM_PERIODS`` (default 5,000): 10 million sample-periods by default, 80 MB of
draws.
"""

from __future__ import annotations

import os
import time
from dataclasses import astuple

import numba
import numpy as np
import pytest
from benchtools import cold_starts, compare
from scipy import stats

from engine.simulation import kernels, simulate_policy
from engine.simulation.reference import simulate_samples_reference
from models.policy import SS

# Zheng and Federgruen's optimal (s,S) for Poisson(10), h = 1, p = 9, K = 64, with L = 1
POLICY = {"kind": kernels.S_S, "reorder_point": 16.0, "order_up_to": 51.0,
          "order_quantity": 0.0, "lead_time": 1, "holding_cost": 1.0, "shortage_cost": 9.0,
          "fixed_cost": 64.0, "backorders": True, "warmup": 100}
MEAN_DEMAND = 10.0


@pytest.fixture(scope="module")
def sim_size() -> tuple[int, int]:
    """(samples, periods) from the environment."""
    if "OMNISTOCK_BENCH_SIM_SAMPLES" in os.environ:
        samples = int(os.environ["OMNISTOCK_BENCH_SIM_SAMPLES"])
    else:
        samples = min(int(os.environ.get("OMNISTOCK_BENCH_SKUS", "2000")), 2000)
    periods = int(os.environ.get("OMNISTOCK_BENCH_SIM_PERIODS", "5000"))
    return samples, max(periods, POLICY["warmup"] + 1)


@pytest.fixture(scope="module")
def draws(sim_size) -> np.ndarray:
    return np.random.default_rng(0).poisson(MEAN_DEMAND, sim_size).astype(np.float64)


def run(kernel, demand: np.ndarray) -> np.ndarray:
    out = np.empty((demand.shape[0], len(kernels.STATISTICS)))
    no_trajectory = np.empty((0, demand.shape[1], len(kernels.TRAJECTORY_FIELDS)))
    kernel(demand, POLICY["kind"], POLICY["reorder_point"], POLICY["order_up_to"],
           POLICY["order_quantity"], POLICY["lead_time"], POLICY["holding_cost"],
           POLICY["shortage_cost"], POLICY["fixed_cost"], POLICY["backorders"],
           POLICY["warmup"], out, no_trajectory)
    return out


def numpy_simulation(demand: np.ndarray) -> np.ndarray:
    """The (s,S) simulation of `kernels` with backorders, vectorised over samples in numpy."""
    samples, periods = demand.shape
    s, S, lead_time = POLICY["reorder_point"], POLICY["order_up_to"], POLICY["lead_time"]
    h, p, fixed, warmup = (POLICY["holding_cost"], POLICY["shortage_cost"],
                           POLICY["fixed_cost"], POLICY["warmup"])
    on_hand = np.full(samples, max(S, 0.0))
    backordered = np.full(samples, max(-S, 0.0))
    on_order = np.zeros(samples)
    pipeline = np.zeros((lead_time, samples))
    sums = np.zeros((len(kernels.STATISTICS), samples))
    for t in range(periods):
        arriving = pipeline[t % lead_time].copy()
        pipeline[t % lead_time] = 0.0
        on_order -= arriving
        on_hand += arriving
        filled = np.minimum(on_hand, backordered)
        on_hand -= filled
        backordered -= filled
        position = on_hand + on_order - backordered
        ordering = position <= s
        ordered = np.where(ordering, S - position, 0.0)
        pipeline[t % lead_time] += ordered
        on_order += ordered
        served = np.minimum(on_hand, demand[:, t])
        on_hand -= served
        unmet = demand[:, t] - served
        backordered += unmet
        if t >= warmup:
            holding, shortage, orders = h * on_hand, p * backordered, fixed * ordering
            sums[kernels.TOTAL_COST] += holding + shortage + orders
            sums[kernels.HOLDING_COST] += holding
            sums[kernels.SHORTAGE_COST] += shortage
            sums[kernels.ORDERING_COST] += orders
            sums[kernels.DEMAND] += demand[:, t]
            sums[kernels.SERVED] += served
            sums[kernels.NO_STOCKOUT_PERIODS] += unmet <= 0.0
            sums[kernels.ON_HAND] += on_hand
            sums[kernels.ORDERS] += ordering
            sums[kernels.SHORT_UNITS] += backordered
    return sums.T


COLD_START = """
import json, sys, time
import numpy as np
from engine.simulation import kernels
kernel = getattr(kernels, sys.argv[1])
demand = np.ones((2, 8))
out = np.empty((2, len(kernels.STATISTICS)))
trajectory = np.empty((0, 8, len(kernels.TRAJECTORY_FIELDS)))
start = time.perf_counter()
kernel(demand, kernels.S_S, 2.0, 9.0, 0.0, 1, 1.0, 9.0, 64.0, True, 0, out, trajectory)
seconds = time.perf_counter() - start
start = time.perf_counter()
kernel(demand, kernels.S_S, 2.0, 9.0, 0.0, 1, 1.0, 9.0, 64.0, True, 0, out, trajectory)
print(json.dumps({"seconds": seconds, "second_call": time.perf_counter() - start,
                  "cache_hits": sum(kernel.stats.cache_hits.values()),
                  "cache_misses": sum(kernel.stats.cache_misses.values())}))
"""


@pytest.mark.parametrize("kernel_name", ["simulate_samples", "simulate_samples_parallel"])
def test_cold_first_call_compiles_then_loads_from_cache(benchmark, kernel_name, tmp_path):
    """First call in a fresh process: compiled (empty cache), then loaded from the cache."""
    compiled, cached = cold_starts(benchmark, COLD_START, kernel_name, tmp_path)
    print(f"\n{kernel_name}: first call compiles in {compiled['seconds']:.2f} s, loads from "
          f"numba's cache in {cached['seconds']:.3f} s; a warm call of the same 2 x 8 "
          f"sample-periods takes {cached['second_call'] * 1e6:.0f} us")


def test_warm_kernel_against_numpy(benchmark, draws, sim_size):
    """Warm serial kernel against the numpy simulation of the same draws."""
    run(kernels.simulate_samples, draws)  # warm-up: compile or load from the cache
    head = draws[:64]
    np.testing.assert_allclose(run(kernels.simulate_samples, head), numpy_simulation(head),
                               rtol=1e-12)
    ratio = compare(benchmark, lambda: run(kernels.simulate_samples, draws),
                    lambda: numpy_simulation(draws), label="numpy")
    if benchmark.disabled:
        return
    samples, periods = sim_size
    seconds = benchmark.stats.stats.median
    throughput = samples * periods / seconds
    # the plain-Python reference, on a slice (it is about a thousand times slower)
    small = draws[:4, :2000]
    start = time.perf_counter()
    simulate_samples_reference(small, **POLICY)
    python_rate = small.size / (time.perf_counter() - start)
    benchmark.extra_info.update({"samples": samples, "periods": periods,
                                 "sample_periods_per_second": throughput,
                                 "python_sample_periods_per_second": python_rate})
    print(f"{samples:,} x {periods:,} sample-periods in {seconds * 1e3:.1f} ms = "
          f"{throughput / 1e6:,.0f} million per second; numpy {1 / ratio:.0f}x slower, plain "
          f"Python {throughput / python_rate:,.0f}x slower ({python_rate / 1e6:.2f} million/s)")
    assert ratio < 0.5, f"the kernel takes {ratio:.2f}x the numpy simulation"


def test_parallel_kernel_against_serial(benchmark, draws, sim_size):
    """prange over samples on this machine's cores, against the serial kernel."""
    np.testing.assert_array_equal(run(kernels.simulate_samples_parallel, draws),
                                  run(kernels.simulate_samples, draws))
    ratio = compare(benchmark, lambda: run(kernels.simulate_samples_parallel, draws),
                    lambda: run(kernels.simulate_samples, draws), label="serial", rounds=7)
    if benchmark.disabled:
        return
    benchmark.extra_info.update({"threads": numba.get_num_threads(),
                                 "threading_layer": numba.threading_layer()})
    print(f"parallel / serial = {ratio:.2f} on {numba.get_num_threads()} threads "
          f"({numba.threading_layer()} layer)")


def test_simulate_policy_end_to_end_with_each_kernel(benchmark, sim_size, monkeypatch):
    """The whole `simulate_policy` call (draws included) with the parallel kernel, against
    the same call with the serial kernel: what the choice of default changes for a caller."""
    samples, periods = sim_size
    arguments = {"policy": SS(16, 51), "lead_time": 1, "holding_cost": 1.0,
                 "shortage_cost": 9.0, "fixed_cost": 64.0, "periods": periods,
                 "samples": samples, "seed": 0}
    demand = stats.poisson(MEAN_DEMAND)

    def with_kernel(kernel):
        monkeypatch.setattr("engine.simulation.single.KERNEL", kernel)
        return simulate_policy(demand, **arguments)

    np.testing.assert_equal(astuple(with_kernel(kernels.simulate_samples)),
                            astuple(with_kernel(kernels.simulate_samples_parallel)))
    start = time.perf_counter()
    demand.rvs(size=(samples, periods), random_state=np.random.default_rng(0))
    draw_seconds = time.perf_counter() - start
    ratio = compare(benchmark, lambda: with_kernel(kernels.simulate_samples_parallel),
                    lambda: with_kernel(kernels.simulate_samples), label="serial")
    if benchmark.disabled:
        return
    benchmark.extra_info["draw_seconds"] = draw_seconds
    print(f"simulate_policy: parallel / serial = {ratio:.2f}; drawing the Poisson demand alone "
          f"takes {draw_seconds:.3f} s")
