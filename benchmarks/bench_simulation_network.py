"""The network simulation: cold start, warm throughput, against the reference, prange or not.

A demo-like network (`engine.demo.network`): one DC fed by a supplier (2-6 weeks), six RDCs fed
by the DC (1-3 weeks), seven pools (two Tmall, a JD and a Douyin pool, three store clusters) fed
by the RDC of their region (0-1 week); each SKU trades in 7 channel x region streams drawn from
the demo's fulfilment rules (pools first, spilling over to the region's RDC; franchise,
supermarket and distributor demand backordered, the rest lost), weekly negative-binomial or
Poisson demand, (s,S) levels sized from the demand. Rationing by priority.

- **Cold start.** The first call of each kernel in a fresh process with an empty numba cache
  (``NUMBA_CACHE_DIR``) compiles it; a second process loads it from the cache.
- **Warm throughput** of `simulate_network` (demand drawn inside, as the engine calls it) and of
  the kernel alone on pre-drawn demand, in SKU-sample-periods per second; the kernel against
  the plain-Python reference (`engine.simulation.network_reference`) on a small slice timed in
  the same run, after checking both give identical statistics.
- **prange or not.** ``execution="prange"`` (the kernel spreads the SKUs over numba's threads)
  and ``execution="threads"`` (Python threads over chunks of SKUs, each drawing its demand and
  running the serial, GIL-free kernel) against ``"serial"``, on the kernel alone (demand given)
  and on the whole call (demand drawn inside), which decides the default
  (`engine.simulation.network.DEFAULT_EXECUTION`).

Sizes from ``OMNISTOCK_BENCH_NET_SKUS`` (default 2,000, or ``OMNISTOCK_BENCH_SKUS`` when that is
smaller, as CI sets it when it runs the suite small with ``--benchmark-disable``),
``OMNISTOCK_BENCH_NET_SAMPLES`` (default 200) and ``OMNISTOCK_BENCH_NET_PERIODS`` (default 13).
"""

from __future__ import annotations

import os

import numba
import numpy as np
import pytest
from benchtools import cold_starts, compare

from engine.demo.network import CHANNELS as DEMO_CHANNELS
from engine.demo.network import fulfilment_rows
from engine.simulation import NetworkArrays, simulate_network
from engine.simulation.network_reference import simulate_network_reference

REGIONS = ("east", "south", "north", "central", "southwest", "northwest")
# location: (source, inbound lead-time pmf over weeks 0, 1, ..., holding cost per unit-week)
LOCATIONS = {
    "dc_main": (None, (0, 0, 0.1, 0.25, 0.35, 0.2, 0.1), 0.04),
    **{f"rdc_{region}": ("dc_main", (0, 0.2, 0.6, 0.2) if region in ("southwest", "northwest")
                         else (0.05, 0.8, 0.15), 0.05) for region in REGIONS},
    "tmall_pool_east": ("rdc_east", (0.7, 0.3), 0.06),
    "tmall_pool_south": ("rdc_south", (0.7, 0.3), 0.06),
    "jd_pool_north": ("rdc_north", (0.7, 0.3), 0.06),
    "douyin_pool_east": ("rdc_east", (0.7, 0.3), 0.06),
    "stores_east": ("rdc_east", (1.0,), 0.06),
    "stores_south": ("rdc_south", (1.0,), 0.06),
    "stores_north": ("rdc_north", (1.0,), 0.06),
}
NAMES = tuple(LOCATIONS)
# channel: (priority, backorders, shortage cost per unit)
CHANNELS = {"tmall": (2.0, False, 4.0), "jd": (2.0, False, 4.0), "douyin": (1.5, False, 3.0),
            "kuaishou": (1.0, False, 3.0), "wechat_mini": (1.5, False, 4.0),
            "amazon_xb": (1.0, False, 5.0), "store_direct": (3.0, False, 5.0),
            "franchise": (2.0, True, 1.0), "ka_supermarket": (1.5, True, 1.0),
            "distributor": (1.0, True, 0.5)}
STREAMS_PER_SKU = 7


def fulfilment() -> list[tuple[str, list[str]]]:
    """(channel, eligible locations in preference order) of every channel x region traded."""
    rows = fulfilment_rows()
    return [(channel.channel, [location for ch, reg, location in rows
                               if ch == channel.channel and reg == region])
            for channel in DEMO_CHANNELS for region in channel.regions]


def demo_network(skus: int, periods: int, seed: int = 0):
    """The demo-like network with ``skus`` SKUs; returns (arrays, mean, variance, family)."""
    rng = np.random.default_rng(seed)
    combos = fulfilment()
    L = len(NAMES)
    index = {name: i for i, name in enumerate(NAMES)}
    source = np.array([-1 if LOCATIONS[n][0] is None else index[LOCATIONS[n][0]]
                       for n in NAMES])
    width = max(len(LOCATIONS[n][1]) for n in NAMES)
    pmf = np.zeros((L, width))
    for i, name in enumerate(NAMES):
        pmf[i, :len(LOCATIONS[name][1])] = LOCATIONS[name][1]
    # rationing priority of a location: the highest priority of the channels it is first for
    location_priority = np.array([3.0 if n.startswith("stores") else 2.0 if "pool" in n
                                  else 1.5 if n.startswith("rdc") else 1.0 for n in NAMES])

    chosen = np.stack([rng.choice(len(combos), STREAMS_PER_SKU, replace=False)
                       for _ in range(skus)])
    stream_combo = chosen.ravel()
    S = stream_combo.size
    eligible = [[index[loc] for loc in combos[c][1]] for c in stream_combo]
    channel = [combos[c][0] for c in stream_combo]
    scale = rng.lognormal(1.5, 1.0, skus)  # weekly units of a SKU's stream
    base = np.repeat(scale, STREAMS_PER_SKU) * rng.uniform(0.3, 1.7, S)
    season = 1.0 + 0.2 * np.sin(2 * np.pi * (np.arange(periods) / 52.0 + rng.random((S, 1))))
    mean = base[:, None] * season
    family = np.where(base > 2.0, 2, 1)
    variance = np.where(family[:, None] == 2, mean * rng.uniform(1.5, 3.0, (S, 1)), mean)

    # per location: the demand it is first for; DC and RDCs protect what flows through them
    stream_sku = np.repeat(np.arange(skus), STREAMS_PER_SKU)
    first = np.array([e[0] for e in eligible])
    local = np.zeros((skus, L))
    np.add.at(local, (stream_sku, first), base)
    echelon = local.copy()
    for v in np.argsort([-_depth(source, v) for v in range(L)], kind="stable"):
        if source[v] >= 0:
            echelon[:, source[v]] += echelon[:, v]
    cover = np.array([6.0 if source[v] < 0 else 2.5 if _depth(source, v) == 1 else 1.5
                      for v in range(L)])
    order_up_to = np.ceil(echelon * cover)
    reorder_point = np.floor(order_up_to * 0.6)
    arrivals = np.zeros((skus, L, 3))
    arrivals[:, :, 1] = np.floor(local * 0.5 * (rng.random((skus, L)) < 0.3))
    receipts = np.zeros((skus, L, 6))
    receipts[:, 0, 3] = np.floor(echelon[:, 0] * 2.0)
    arrays = NetworkArrays(
        source=source, lead_time_pmf=pmf, location_priority=location_priority,
        sku_key=rng.integers(0, 2**63, skus, dtype=np.uint64),
        reorder_point=reorder_point, order_up_to=order_up_to,
        holding_cost=np.tile([LOCATIONS[n][2] for n in NAMES], (skus, 1)) * 10.0,
        on_hand=np.floor(order_up_to * rng.uniform(0.5, 1.0, (skus, L))),
        arrivals=arrivals, receipts=receipts,
        sku_stream_ptr=np.arange(0, S + 1, STREAMS_PER_SKU),
        stream_ptr=np.concatenate([[0], np.cumsum([len(e) for e in eligible])]),
        stream_locations=np.concatenate(eligible),
        backorders=np.array([CHANNELS[c][1] for c in channel]),
        shortage_cost=np.array([CHANNELS[c][2] for c in channel]) * 10.0,
        stream_priority=np.array([CHANNELS[c][0] for c in channel]))
    return arrays, mean, variance, family


def _depth(source, v):
    return 0 if source[v] < 0 else 1 + _depth(source, source[v])


@pytest.fixture(scope="module")
def net_size() -> tuple[int, int, int]:
    """(skus, samples, periods) from the environment."""
    if "OMNISTOCK_BENCH_NET_SKUS" in os.environ:
        skus = int(os.environ["OMNISTOCK_BENCH_NET_SKUS"])
    else:
        skus = min(int(os.environ.get("OMNISTOCK_BENCH_SKUS", "2000")), 2000)
    samples = int(os.environ.get("OMNISTOCK_BENCH_NET_SAMPLES", "200"))
    periods = int(os.environ.get("OMNISTOCK_BENCH_NET_PERIODS", "13"))
    return skus, samples, periods


@pytest.fixture(scope="module")
def demo(net_size):
    """(arrays, demand parameters) of the demo-like network."""
    skus, _, periods = net_size
    arrays, mean, variance, family = demo_network(skus, periods)
    return arrays, {"demand_mean": mean, "demand_variance": variance, "demand_family": family}


@pytest.fixture(scope="module")
def draws(demo, net_size) -> np.ndarray:
    """Demand draws (stream, sample, period) for the kernel-only timings: Poisson means."""
    _, samples, periods = net_size
    mean = demo[1]["demand_mean"]
    rng = np.random.default_rng(0)
    return rng.poisson(mean[:, None, :], (mean.shape[0], samples, periods)).astype(np.float64)


def sku_sample_periods(net_size) -> int:
    skus, samples, periods = net_size
    return skus * samples * periods


COLD_START = """
import json, sys, time
import numpy as np
from engine.simulation import NetworkArrays, network_kernels, simulate_network
execution = sys.argv[1]
kernel = (network_kernels.simulate_skus_parallel if execution == "prange"
          else network_kernels.simulate_skus)
arrays = NetworkArrays(
    source=np.array([-1, 0]), lead_time_pmf=np.array([[0.5, 0.5], [0.0, 1.0]]),
    location_priority=np.zeros(2), sku_key=np.array([1]),
    reorder_point=np.array([[4.0, 2.0]]), order_up_to=np.array([[20.0, 8.0]]),
    holding_cost=np.ones((1, 2)), on_hand=np.array([[20.0, 8.0]]),
    arrivals=np.zeros((1, 2, 0)), sku_stream_ptr=np.array([0, 1]),
    stream_ptr=np.array([0, 1]), stream_locations=np.array([1]),
    backorders=np.array([True]), shortage_cost=np.ones(1), stream_priority=np.zeros(1))
demand = np.ones((1, 2, 8))
start = time.perf_counter()
simulate_network(arrays, samples=2, periods=8, seed=0, demand=demand, execution=execution)
seconds = time.perf_counter() - start
start = time.perf_counter()
simulate_network(arrays, samples=2, periods=8, seed=0, demand=demand, execution=execution)
print(json.dumps({"seconds": seconds, "second_call": time.perf_counter() - start,
                  "cache_hits": sum(kernel.stats.cache_hits.values()),
                  "cache_misses": sum(kernel.stats.cache_misses.values())}))
"""


@pytest.mark.parametrize("execution", ["serial", "prange"])
def test_cold_first_call_compiles_then_loads_from_cache(benchmark, execution, tmp_path):
    """First call in a fresh process: compiled (empty cache), then loaded from the cache."""
    compiled, cached = cold_starts(benchmark, COLD_START, execution, tmp_path)
    print(f"\n{execution}: first call compiles in {compiled['seconds']:.2f} s, loads from "
          f"numba's cache in {cached['seconds']:.3f} s; a warm call of 1 SKU x 2 samples x 8 "
          f"periods takes {cached['second_call'] * 1e3:.2f} ms")


def test_kernel_against_the_plain_python_reference(benchmark, demo, draws, net_size):
    """The serial kernel against the reference on a slice (the reference is ~1000x slower)."""
    arrays, _ = demo
    skus = list(range(min(arrays.skus, 8)))
    small = arrays.take(skus)
    small_draws = np.ascontiguousarray(draws[arrays.stream_rows(skus), :50])
    arguments = {"samples": small_draws.shape[1], "periods": small_draws.shape[2], "seed": 0,
                 "demand": small_draws}
    kernel = simulate_network(small, execution="serial", **arguments)
    reference = simulate_network_reference(small, **arguments)
    np.testing.assert_array_equal(kernel.stream_statistics, reference.stream_statistics)
    np.testing.assert_array_equal(kernel.location_statistics, reference.location_statistics)
    ratio = compare(benchmark, lambda: simulate_network(small, execution="serial", **arguments),
                    lambda: simulate_network_reference(small, **arguments), label="python")
    if benchmark.disabled:
        return
    size = len(skus) * small_draws.shape[1] * small_draws.shape[2]
    rate = size / benchmark.stats.stats.median
    benchmark.extra_info.update({"sku_sample_periods": size,
                                 "sku_sample_periods_per_second": rate})
    print(f"{size:,} SKU-sample-periods: kernel {rate / 1e6:.2f} million/s, plain Python "
          f"{1 / ratio:,.0f}x slower")
    assert ratio < 0.05, f"the kernel takes {ratio:.3f}x the plain-Python reference"


def test_end_to_end_throughput(benchmark, demo, net_size):
    """`simulate_network` as the engine calls it: demand drawn inside, default execution."""
    arrays, parameters = demo
    _, samples, periods = net_size
    arguments = {"samples": samples, "periods": periods, "seed": 0, **parameters}
    rows = arrays.stream_rows([0])
    simulate_network(arrays.take([0]), samples=2, periods=periods, seed=0,
                     **{name: value[rows] for name, value in parameters.items()})  # warm up
    result = benchmark.pedantic(lambda: simulate_network(arrays, **arguments), rounds=3,
                                iterations=1, warmup_rounds=0)
    if benchmark.disabled:
        return
    seconds = benchmark.stats.stats.median
    rate = sku_sample_periods(net_size) / seconds
    summary = result.summary()
    fill = summary.stream[:, summary.stream_kpis.index("fill_rate"), 0]
    benchmark.extra_info.update({"sku_sample_periods_per_second": rate,
                                 "threads": numba.get_num_threads(),
                                 "mean_fill_rate": float(np.nanmean(fill))})
    print(f"\n{arrays.skus:,} SKUs x {samples} samples x {periods} periods "
          f"({arrays.streams:,} streams) in {seconds:.2f} s = {rate / 1e6:.2f} million "
          f"SKU-sample-periods per second; mean stream fill rate {np.nanmean(fill):.3f}")


@pytest.mark.parametrize("execution", ["prange", "threads"])
def test_parallel_kernel_against_serial(benchmark, demo, draws, net_size, execution):
    """Kernel only (demand given): prange over SKUs, or threads over chunks of SKUs, against
    the serial kernel, on this machine's cores."""
    arrays, _ = demo
    _, samples, periods = net_size
    arguments = {"samples": samples, "periods": periods, "seed": 0, "demand": draws}
    serial = simulate_network(arrays, execution="serial", **arguments)
    parallel = simulate_network(arrays, execution=execution, **arguments)
    np.testing.assert_array_equal(serial.stream_statistics, parallel.stream_statistics)
    ratio = compare(benchmark, lambda: simulate_network(arrays, execution=execution,
                                                        **arguments),
                    lambda: simulate_network(arrays, execution="serial", **arguments),
                    label="serial", rounds=5)
    if benchmark.disabled:
        return
    benchmark.extra_info.update({"threads": numba.get_num_threads(),
                                 "threading_layer": numba.threading_layer()})
    serial_rate = sku_sample_periods(net_size) / benchmark.extra_info["serial_seconds"]
    print(f"kernel only: {execution} / serial = {ratio:.2f} on {numba.get_num_threads()} "
          f"threads ({numba.threading_layer()} layer); serial kernel "
          f"{serial_rate / 1e6:.2f} million SKU-sample-periods per second")


@pytest.mark.parametrize("execution", ["prange", "threads"])
def test_parallel_end_to_end_against_serial(benchmark, demo, net_size, execution):
    """The whole call with demand drawn inside: what the choice of default changes."""
    arrays, parameters = demo
    _, samples, periods = net_size
    arguments = {"samples": samples, "periods": periods, "seed": 0, **parameters}
    serial = simulate_network(arrays, execution="serial", **arguments)
    parallel = simulate_network(arrays, execution=execution, **arguments)
    np.testing.assert_array_equal(serial.stream_statistics, parallel.stream_statistics)
    ratio = compare(benchmark, lambda: simulate_network(arrays, execution=execution,
                                                        **arguments),
                    lambda: simulate_network(arrays, execution="serial", **arguments),
                    label="serial")
    if benchmark.disabled:
        return
    print(f"end to end: {execution} / serial = {ratio:.2f}")
