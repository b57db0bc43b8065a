"""The deployment LP on a realistic network: build, solve in chunks and as one LP, PuLP build.

The network: a central DC, six regional warehouses and seven channel pools (a Tmall pool, a JD
pool, a live-stream pool shared by Douyin and Kuaishou, a cross-border pool, two store clusters
and a supermarket and distributor pool), 45 lanes (DC to every warehouse and pool, warehouses
to their neighbours both ways, to the marketplace pools and to their store cluster, Tmall and
JD pools to each other), ten channels in six regions. Each SKU trades in 5 to 10 of the 60
channel x region streams, each stream eligible at one to three locations by the channel's
fulfilment rule, with a five-segment newsvendor value curve from gamma demand quantiles.

Every figure is a ratio against a reference timed in the same run (benchtools.compare):

- build: `build_deployment_lp` against ``scipy.sparse.coo_matrix((data, (row, col))).tocsc()``
  of the finished matrix's own triplets in row order, i.e. what the sparse matrix costs when
  someone else has already worked out every entry;
- solve: `solve_deployment` in SKU chunks and as one LP, each against a bare HiGHS run
  (``Highs.passModel`` + ``run``) of the prebuilt single LP, so the ratio says what chunking
  saves and what building and bookkeeping cost;
- coupled: the network with binding location and lane capacities solved in SKU chunks
  coordinated by prices and capacity shares (`solvers.decomposition`) against the same problem
  as one LP, with the objective lost and the certified gap (2,000 SKUs: 1.11x the time of one
  LP of 6.6 s, 0.23% below its optimum; 20,000 SKUs: 78 s against 497 s, 1.22% below, 0.84%
  with a price sample of 1,500 SKUs instead of 400). A coupled LP is much harder for
  the simplex than the sum of its SKUs (about 4 minutes for 20,000 SKUs as one LP, against
  36 s uncoupled), so it runs at a smaller size;
- PuLP: building the PuLP model of a small instance against building the sparse LP of it;
- time-phased: the same network over a coverage horizon of 4 periods (`solvers.phased`:
  lane lead times of 1 and 2 periods, value curves per period of the cumulative demand),
  building its LP against solving it with bare HiGHS (issue 16's goal: the build at most
  0.2x the solve), as one LP of ``OMNISTOCK_BENCH_PHASED_SKUS`` SKUs (default 1,000).

Sizes: ``OMNISTOCK_BENCH_SOLVER_SKUS`` (default 20,000), else ``OMNISTOCK_BENCH_SKUS`` (as CI
sets it when it runs the suite small with ``--benchmark-disable``); the PuLP instance has
``OMNISTOCK_BENCH_PULP_SKUS`` SKUs (default 200) and the coupled one
``OMNISTOCK_BENCH_COUPLED_SKUS`` (default 2,000), never more than the main size.
"""

from __future__ import annotations

import os

import highspy
import numpy as np
import pytest
import scipy.sparse
from benchtools import compare
from scipy import stats

from solvers import DeploymentProblem, SolveStatus, build_deployment_lp, solve_deployment
from solvers._pulp import to_pulp

REGIONS = 6
DC, WAREHOUSES = 0, np.arange(1, 7)
TMALL_POOL, JD_POOL, LIVE_POOL, CROSS_BORDER_POOL = 7, 8, 9, 10
STORES_NORTH, STORES_SOUTH, SUPERMARKET_POOL = 11, 12, 13
LOCATIONS = 14
CHANNELS = ["tmall", "jd", "douyin", "kuaishou", "wechat", "amazon", "ebay", "own_store",
            "franchise", "supermarket"]
POPULARITY = np.array([6, 5, 4, 3, 2, 1, 1, 3, 2, 3], dtype=float)
PRIORITY = np.array([1.0, 1.0, 0.8, 0.8, 0.9, 0.7, 0.7, 1.2, 1.0, 0.9])
STORE_CLUSTER = np.array([STORES_NORTH, STORES_NORTH, STORES_SOUTH, STORES_SOUTH,
                          STORES_NORTH, STORES_SOUTH])
SEGMENT_PROBABILITY = np.array([0.0, 0.2, 0.4, 0.6, 0.8, 0.95])


@pytest.fixture(scope="module")
def bench_solver_skus() -> int:
    for name in ("OMNISTOCK_BENCH_SOLVER_SKUS", "OMNISTOCK_BENCH_SKUS"):
        if name in os.environ:
            return int(os.environ[name])
    return 20_000


def lanes() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Origin, destination and cost per unit of the 45 lanes."""
    pairs = [(DC, int(w), 0.4) for w in WAREHOUSES]
    pairs += [(DC, pool, 0.6) for pool in range(7, LOCATIONS)]
    for r in range(REGIONS):
        here, there = int(WAREHOUSES[r]), int(WAREHOUSES[(r + 1) % REGIONS])
        pairs += [(here, there, 0.5), (there, here, 0.5)]
        pairs += [(here, TMALL_POOL, 0.3), (here, JD_POOL, 0.3),
                  (here, int(STORE_CLUSTER[r]), 0.25)]
    pairs += [(TMALL_POOL, JD_POOL, 0.35), (JD_POOL, TMALL_POOL, 0.35)]
    origin, destination, cost = (np.array(column) for column in zip(*pairs, strict=True))
    return origin.astype(np.int64), destination.astype(np.int64), cost.astype(float)


def eligible_locations(channel: int, region: int) -> list[int]:
    """The fulfilment rule: where a channel may serve a region from."""
    warehouse = int(WAREHOUSES[region])
    name = CHANNELS[channel]
    if name == "tmall":
        return [warehouse, TMALL_POOL]
    if name == "jd":
        return [warehouse, JD_POOL]
    if name in ("douyin", "kuaishou"):
        return [LIVE_POOL, warehouse]
    if name == "wechat":
        return [warehouse, DC]
    if name in ("amazon", "ebay"):
        return [CROSS_BORDER_POOL]
    if name in ("own_store", "franchise"):
        return [int(STORE_CLUSTER[region]), warehouse]
    return [SUPERMARKET_POOL, warehouse, DC]


def network(skus: int, *, coupled: bool, seed: int = 0) -> DeploymentProblem:
    """The benchmark network with ``skus`` SKUs; capacities bind when ``coupled``."""
    rng = np.random.default_rng(seed)
    origin, destination, lane_cost = lanes()

    # streams: 5 to 10 distinct channel x region combinations per SKU, popular channels first
    per_sku = rng.integers(5, 11, skus)
    weights = np.repeat(POPULARITY / POPULARITY.sum() / REGIONS, REGIONS)
    keys = np.argsort(rng.random((skus, CHANNELS.__len__() * REGIONS)) ** (1 / weights),
                      axis=1)[:, ::-1]  # weighted sampling without replacement
    take = np.arange(keys.shape[1])[None, :] < per_sku[:, None]
    stream_sku = np.repeat(np.arange(skus), per_sku)
    combination = keys[take]
    channel, region = combination // REGIONS, combination % REGIONS
    streams = stream_sku.size

    rules = [[eligible_locations(c, r) for r in range(REGIONS)] for c in range(len(CHANNELS))]
    counts = np.array([[len(rules[c][r]) for r in range(REGIONS)]
                       for c in range(len(CHANNELS))])[channel, region]
    pair_stream = np.repeat(np.arange(streams), counts)
    table = np.full((len(CHANNELS), REGIONS, 3), -1)
    for c in range(len(CHANNELS)):
        for r in range(REGIONS):
            table[c, r, :len(rules[c][r])] = rules[c][r]
    pair_location = table[channel, region].ravel()
    pair_location = pair_location[pair_location >= 0]

    # value curves: gamma demand over the horizon, five segments between quantiles
    scale = rng.lognormal(np.log(8.0), 1.0, skus)
    mean = scale[stream_sku] * rng.lognormal(0.0, 0.7, streams) * POPULARITY[channel] / 3
    shape = 1 / rng.uniform(0.2, 1.2, streams) ** 2  # 1 / cv^2
    quantile = stats.gamma.ppf(SEGMENT_PROBABILITY[None, 1:], shape[:, None],
                               scale=(mean / shape)[:, None])
    width = np.diff(np.concatenate([np.zeros((streams, 1)), quantile], axis=1), axis=1)
    middle = (SEGMENT_PROBABILITY[:-1] + SEGMENT_PROBABILITY[1:]) / 2
    unit_cost = rng.lognormal(np.log(20.0), 0.6, skus)
    margin = unit_cost[stream_sku] * rng.uniform(0.3, 1.2, streams) * PRIORITY[channel]
    value = margin[:, None] * (1 - middle)[None, :]

    demand = np.bincount(stream_sku, weights=mean, minlength=skus)
    on_hand = np.zeros((skus, LOCATIONS))
    on_hand[:, DC] = np.where(rng.random(skus) < 0.8,
                              np.round(demand * rng.uniform(0.5, 2.0, skus)), 0)
    for locations_of_kind, share, level in ((WAREHOUSES, 0.5, 0.2), (np.arange(7, 14), 0.3, 0.1)):
        present = rng.random((skus, locations_of_kind.size)) < share
        on_hand[:, locations_of_kind] = np.where(
            present, np.round(demand[:, None] * level * rng.uniform(0.2, 2.0, present.shape)),
            0)
    inbound = np.zeros((skus, LOCATIONS))
    inbound[:, DC] = np.where(rng.random(skus) < 0.1, np.round(demand * 0.5), 0)

    rate = np.full(LOCATIONS, 0.02)
    rate[DC], rate[WAREHOUSES] = 0.01, 0.015
    safety = np.where(rng.random((skus, LOCATIONS)) < 0.5,
                      np.round(demand[:, None] * 0.15), 0.0)
    safety[:, DC] = 0
    presentation = np.zeros((skus, LOCATIONS))
    presentation[:, [STORES_NORTH, STORES_SOUTH]] = 2.0
    fair = np.where(rng.random(streams) < 0.2, np.round(mean * 0.5), 0.0)
    unit_volume = rng.lognormal(np.log(0.002), 0.8, skus)  # m^3

    location_capacity = lane_capacity = np.inf
    if coupled:  # every location about as full as now, the DC's lanes out at about half
        held = unit_volume @ (on_hand + inbound)
        location_capacity = np.where(np.arange(LOCATIONS) == DC, np.inf,
                                     held * rng.uniform(0.9, 1.6, LOCATIONS) + 1.0)
        supply = on_hand.sum(axis=0)[origin]
        lane_capacity = np.where(origin == DC, np.round(supply * 0.4), np.inf)
    return DeploymentProblem(
        n_skus=skus, n_locations=LOCATIONS, lane_origin=origin, lane_destination=destination,
        lane_cost=lane_cost, lane_capacity=lane_capacity, unit_volume=unit_volume,
        location_capacity=location_capacity,
        holding_cost=unit_cost[:, None] * rate[None, :], on_hand=on_hand, inbound=inbound,
        stream_sku=stream_sku, pair_stream=pair_stream, pair_location=pair_location,
        segment_width=width, segment_value=value, safety_stock=safety,
        shortfall_penalty=0.3 * unit_cost[:, None] * np.ones(LOCATIONS),
        min_presentation=presentation,
        presentation_penalty=0.5 * unit_cost[:, None] * np.ones(LOCATIONS),
        fair_share_floor=fair, fair_share_penalty=0.2 * margin)


def phased_network(skus: int, periods: int = 4, seed: int = 0) -> DeploymentProblem:
    """The uncoupled benchmark network over ``periods`` periods: stream demand spread evenly
    over the periods (gamma, the per-period curves of the cumulative demand through each
    period), lanes out of the DC with a lead time of 1 period and the others of 2, half of
    the inbound stock arriving at period 1 and half at period 2."""
    single = network(skus, coupled=False, seed=seed)
    rng = np.random.default_rng(seed + 1)
    width = single.segment_width
    streams = width.shape[0]
    mean = width.sum(axis=1) * 1.0  # the horizon's quantile span stands in for its scale
    shape = 1 / rng.uniform(0.2, 1.2, streams) ** 2
    share = (np.arange(periods) + 1) / periods
    quantile = stats.gamma.ppf(SEGMENT_PROBABILITY[None, None, 1:],
                               shape[:, None, None] * share[None, :, None],
                               scale=(mean / shape)[:, None, None])
    period_width = np.diff(np.concatenate([np.zeros((streams, periods, 1)), quantile],
                                          axis=2), axis=2)
    middle = (SEGMENT_PROBABILITY[:-1] + SEGMENT_PROBABILITY[1:]) / 2
    margin = single.segment_value[:, 0] / (1 - middle[0])
    period_value = np.broadcast_to((margin[:, None] * (1 - middle)[None, :] / periods)[:, None],
                                   period_width.shape).copy()
    schedule = np.zeros((skus, LOCATIONS, periods))
    schedule[:, :, 1] = single.inbound / 2
    schedule[:, :, 2] = single.inbound / 2
    lead = np.where(single.lane_origin == DC, 1, 2)
    return DeploymentProblem(
        n_skus=skus, n_locations=LOCATIONS, lane_origin=single.lane_origin,
        lane_destination=single.lane_destination, lane_cost=single.lane_cost,
        unit_volume=single.unit_volume, holding_cost=single.holding_cost / periods,
        on_hand=single.on_hand, inbound_schedule=schedule, stream_sku=single.stream_sku,
        pair_stream=single.pair_stream, pair_location=single.pair_location,
        segment_width=width, segment_value=single.segment_value,
        safety_stock=single.safety_stock, shortfall_penalty=single.shortfall_penalty,
        min_presentation=single.min_presentation,
        presentation_penalty=single.presentation_penalty,
        fair_share_floor=single.fair_share_floor,
        fair_share_penalty=single.fair_share_penalty, periods=periods, lane_lead_time=lead,
        period_width=period_width, period_value=period_value)


def bare_highs(program) -> float:
    """The reference solve: the prebuilt LP straight into HiGHS; returns the optimum."""
    highs = highspy.Highs()
    highs.setOptionValue("output_flag", False)
    model = highspy.HighsLp()
    rows, cols = program.shape
    model.num_col_, model.num_row_ = cols, rows
    model.col_cost_ = -program.objective
    model.col_lower_, model.col_upper_ = program.col_lower, program.col_upper
    model.row_lower_, model.row_upper_ = program.row_lower, program.row_upper
    matrix = model.a_matrix_
    matrix.format_ = highspy.MatrixFormat.kColwise
    matrix.num_col_, matrix.num_row_ = cols, rows
    matrix.start_ = program.matrix.indptr.astype(np.int32)
    matrix.index_ = program.matrix.indices.astype(np.int32)
    matrix.value_ = program.matrix.data
    highs.passModel(model)
    highs.run()
    assert highs.getModelStatus() == highspy.HighsModelStatus.kOptimal
    return -highs.getInfo().objective_function_value + program.offset


@pytest.fixture(scope="module")
def uncoupled(bench_solver_skus) -> DeploymentProblem:
    return network(bench_solver_skus, coupled=False)


def smaller(variable: str, default: int, bench_solver_skus: int) -> int:
    return min(int(os.environ.get(variable, str(default))), bench_solver_skus)


def report(benchmark, label: str, skus: int, lp=None) -> None:
    if benchmark.disabled:
        return
    seconds = benchmark.stats.stats.median
    info = {"skus": skus, "seconds": seconds, "skus_per_second": skus / seconds}
    if lp is not None:
        info |= {"rows": lp.program.shape[0], "columns": lp.program.shape[1],
                 "nonzeros": lp.program.matrix.nnz}
    benchmark.extra_info.update(info)
    size = (f" ({info['rows']:,} rows, {info['columns']:,} columns, "
            f"{info['nonzeros']:,} nonzeros)" if lp is not None else "")
    print(f"{label}: {skus:,} SKUs in {seconds:.2f} s = {skus / seconds:,.0f} SKUs/s{size}")


def test_build_against_a_plain_coo_construction(benchmark, uncoupled, bench_solver_skus):
    lp = build_deployment_lp(uncoupled)  # warm-up
    triplets = lp.program.matrix.tocsr().tocoo()  # the same entries in row order
    shape = lp.program.shape

    def coo():
        return scipy.sparse.coo_matrix((triplets.data, (triplets.row, triplets.col)),
                                       shape=shape).tocsc()

    assert (coo() != lp.program.matrix).nnz == 0
    ratio = compare(benchmark, lambda: build_deployment_lp(uncoupled), coo, label="coo")
    report(benchmark, "build", bench_solver_skus, lp)
    if not benchmark.disabled:
        assert ratio < 25, f"building takes {ratio:.1f}x the bare coo -> csc conversion"


@pytest.fixture(scope="module")
def single_lp_optimum(uncoupled):
    program = build_deployment_lp(uncoupled).program
    return program, bare_highs(program)


def test_solve_in_chunks(benchmark, uncoupled, single_lp_optimum, bench_solver_skus):
    program, optimum = single_lp_optimum
    result = solve_deployment(uncoupled)
    assert result.status is SolveStatus.OPTIMAL
    assert result.objective == pytest.approx(optimum, rel=1e-6)
    compare(benchmark, lambda: solve_deployment(uncoupled), lambda: bare_highs(program),
            label="highs_single_lp", rounds=2)
    benchmark.extra_info["chunks"] = result.chunks
    report(benchmark, f"chunked solve ({result.chunks} LPs)", bench_solver_skus)


def test_solve_as_one_lp(benchmark, uncoupled, single_lp_optimum, bench_solver_skus):
    program, optimum = single_lp_optimum
    compare(benchmark, lambda: solve_deployment(uncoupled, chunk_skus=None),
            lambda: bare_highs(program), label="highs_single_lp", rounds=1)
    report(benchmark, "single-LP solve", bench_solver_skus)


def test_solve_coupled(benchmark, bench_solver_skus):
    skus = smaller("OMNISTOCK_BENCH_COUPLED_SKUS", 2_000, bench_solver_skus)
    coupled = network(skus, coupled=True)
    lp = build_deployment_lp(coupled)
    whole = solve_deployment(coupled, chunk_skus=None)
    split = solve_deployment(coupled)
    assert coupled.coupled and whole.chunks == 1
    assert whole.status is SolveStatus.OPTIMAL and split.status is SolveStatus.OPTIMAL
    assert whole.location_shadow_price.any() or whole.lane_shadow_price.any()
    # the chunks coordinated by prices and shares never beat the coupled optimum and stay
    # within their certified gap of it
    scale = abs(whole.objective)
    assert split.objective <= whole.objective + 1e-6 * scale
    assert whole.objective <= split.objective_bound + 1e-6 * scale
    lost = (whole.objective - split.objective) / scale
    assert lost < 0.02, lost     # 0.23% at 2,000 SKUs, 1.22% at 20,000 (sample of 400 SKUs)
    ratio = compare(benchmark, lambda: solve_deployment(coupled),
                    lambda: solve_deployment(coupled, chunk_skus=None),
                    label="coupled_one_lp", rounds=1)
    report(benchmark, "coupled solve in coordinated chunks", skus, lp)
    benchmark.extra_info.update({"objective_lost": lost, "certified_gap": split.optimality_gap})
    if not benchmark.disabled:
        print(f"coupled LP of {skus:,} SKUs in {split.chunks} coordinated chunks: "
              f"{ratio:.2f}x the time of one LP, {100 * lost:.3f}% below its optimum "
              f"(certified gap {100 * split.optimality_gap:.3f}%)")


def test_pulp_build_on_a_small_instance(benchmark, bench_solver_skus):
    skus = smaller("OMNISTOCK_BENCH_PULP_SKUS", 200, bench_solver_skus)
    small = network(skus, coupled=True, seed=1)
    lp = build_deployment_lp(small)
    pulp_model, variables, _ = to_pulp(lp.program)
    assert len(variables) == lp.program.shape[1]
    ratio = compare(benchmark, lambda: to_pulp(lp.program),
                    lambda: build_deployment_lp(small), label="sparse_build")
    report(benchmark, "PuLP model build", skus, lp)
    if not benchmark.disabled:
        print(f"PuLP builds the model {ratio:.0f}x slower than the sparse LP")


def test_phased_build_against_its_solve(benchmark, bench_solver_skus):
    skus = smaller("OMNISTOCK_BENCH_PHASED_SKUS", 1_000, bench_solver_skus)
    problem = phased_network(skus)
    lp = build_deployment_lp(problem)
    result = solve_deployment(problem, chunk_skus=None)
    assert result.status is SolveStatus.OPTIMAL
    assert result.objective == pytest.approx(bare_highs(lp.program), rel=1e-6)
    ratio = compare(benchmark, lambda: build_deployment_lp(problem),
                    lambda: bare_highs(lp.program), label="highs_solve", rounds=3)
    report(benchmark, "time-phased build", skus, lp)
    if not benchmark.disabled:
        print(f"time-phased LP of {skus:,} SKUs: build {ratio:.2f}x the HiGHS solve")
