"""`simulate_network` on hand-made networks with known answers, and against the single-location
simulator it generalises.

A one-location, one-stream network under (s,S) with a fixed lead time runs the events of
`engine.simulation.kernels` in the same floating-point order, so from the same draws it must
reproduce `engine.simulation.single.simulate_policy` exactly (warm-up 0), with backorders and
lost sales, lead time 0 and positive.
"""

from __future__ import annotations

import doctest

import numpy as np
import pytest
from scipy import stats
from test_simulation_network_support import one_location

import engine.simulation.network
from engine.simulation import NetworkArrays, kernels, simulate_network, simulate_policy
from engine.simulation import network_kernels as nk
from models.policy import SS

# -- one location: the single-location simulator ---------------------------------------------


@pytest.mark.parametrize("lead_time", [0, 1, 3])
@pytest.mark.parametrize("backorders", [True, False], ids=["backorders", "lost_sales"])
def test_one_location_reproduces_simulate_policy(lead_time, backorders):
    samples, periods, seed = 6, 400, 11
    policy = {"reorder_point": 16.0, "order_up_to": 51.0}
    costs = {"holding_cost": 1.0, "shortage_cost": 9.0, "fixed_cost": 64.0}
    # the draws of simulate_policy (its docstring: demand.rvs with default_rng(seed))
    draws = stats.poisson(10).rvs(size=(samples, periods),
                                  random_state=np.random.default_rng(seed)).astype(float)
    network = simulate_network(
        one_location(lead_time=lead_time, backorders=backorders, **policy, **costs),
        samples=samples, periods=periods, seed=0, demand=draws[None])
    single = simulate_policy(stats.poisson(10), policy=SS(16, 51), lead_time=lead_time,
                             periods=periods, samples=samples, seed=seed,
                             backorders=backorders, warmup=0, **costs)

    # per sample, every statistic of the single-location kernel
    sums = np.empty((samples, len(kernels.STATISTICS)))
    kernels.simulate_samples(draws, kernels.S_S, 16.0, 51.0, 0.0, lead_time, 1.0, 9.0, 64.0,
                             backorders, 0, sums, np.empty((0, periods, 6)))
    location = network.location_statistics[0, 0]
    stream = network.stream_statistics[0]
    same = {
        kernels.HOLDING_COST: location[:, nk.LOCATION_HOLDING_COST],
        kernels.SHORTAGE_COST: stream[:, nk.STREAM_SHORTAGE_COST],
        kernels.ORDERING_COST: location[:, nk.LOCATION_ORDERING_COST],
        kernels.DEMAND: stream[:, nk.STREAM_DEMAND],
        kernels.SERVED: stream[:, nk.STREAM_SERVED],
        kernels.NO_STOCKOUT_PERIODS: periods - stream[:, nk.STREAM_STOCKOUT_PERIODS],
        kernels.ON_HAND: location[:, nk.LOCATION_ON_HAND],
        kernels.ORDERS: location[:, nk.LOCATION_ORDERS],
        kernels.SHORT_UNITS: stream[:, nk.STREAM_BACKORDERS if backorders else nk.STREAM_LOST],
    }
    for column, values in same.items():
        np.testing.assert_array_equal(values, sums[:, column], err_msg=kernels.STATISTICS[column])

    # and the figures of PolicySimulation, computed the way single._summarize does
    def per_period_mean(values):
        return float((values / periods).mean())

    assert single.holding_cost == per_period_mean(location[:, nk.LOCATION_HOLDING_COST])
    assert single.shortage_cost == per_period_mean(stream[:, nk.STREAM_SHORTAGE_COST])
    assert single.ordering_cost == per_period_mean(location[:, nk.LOCATION_ORDERING_COST])
    assert single.avg_on_hand == per_period_mean(location[:, nk.LOCATION_ON_HAND])
    assert single.order_frequency == per_period_mean(location[:, nk.LOCATION_ORDERS])
    assert single.fill_rate == (per_period_mean(stream[:, nk.STREAM_SERVED])
                                / per_period_mean(stream[:, nk.STREAM_DEMAND]))
    assert single.cycle_service_level == float(network.cycle_service_level().mean())
    assert single.cost == pytest.approx(single.holding_cost + single.shortage_cost
                                        + single.ordering_cost, rel=1e-12)
    assert 0.2 < single.fill_rate < 1.0  # stockouts happen: the comparison covers them


# -- hand-made networks ------------------------------------------------------------------------


def network(*, source, on_hand, order_up_to, reorder_point=None, pmf=None, priority=None,
            streams=(), arrivals=None, receipts=None):
    """One SKU; ``streams`` as (eligible locations, backorders, priority)."""
    L = len(source)
    order_up_to = np.asarray(order_up_to, dtype=float)
    return NetworkArrays(
        source=np.array(source),
        lead_time_pmf=np.array([[0.0, 1.0]] * L) if pmf is None else np.array(pmf),
        location_priority=np.zeros(L) if priority is None else np.array(priority, dtype=float),
        sku_key=np.array([5]),
        reorder_point=(np.full((1, L), -np.inf) if reorder_point is None
                       else np.array([reorder_point], dtype=float)),
        order_up_to=order_up_to[None], holding_cost=np.ones((1, L)),
        on_hand=np.array([on_hand], dtype=float),
        arrivals=np.zeros((1, L, 0)) if arrivals is None else np.array([arrivals], dtype=float),
        receipts=None if receipts is None else np.array([receipts], dtype=float),
        sku_stream_ptr=np.array([0, len(streams)]),
        stream_ptr=np.concatenate([[0], np.cumsum([len(e) for e, _, _ in streams])]).astype(int),
        stream_locations=np.array([v for e, _, _ in streams for v in e], dtype=int),
        backorders=np.array([b for _, b, _ in streams], dtype=bool),
        shortage_cost=np.full(len(streams), 2.0),
        stream_priority=np.array([p for _, _, p in streams], dtype=float))


def run(arrays, demand, rationing="priority"):
    demand = np.asarray(demand, dtype=float)
    return simulate_network(arrays, samples=1, periods=demand.shape[-1], seed=0,
                            demand=demand[:, None, :], rationing=rationing,
                            record_trajectory=True)


def field(result, name, period=0):
    """A location trajectory field of the only SKU and sample, per location."""
    return result.trajectory.location[0, 0, period, :, nk.LOCATION_FIELDS.index(name)].tolist()


def two_rdcs(dc_stock, priority=(0.0, 2.0, 1.0)):
    """A DC with ``dc_stock`` units that never reorders and two empty RDCs with s = 4, S = 8:
    both request 8 in period 0."""
    return network(source=[-1, 0, 0], on_hand=[dc_stock, 0, 0], order_up_to=[dc_stock, 8, 8],
                   reorder_point=[-np.inf, 4, 4], priority=priority)


@pytest.mark.parametrize(("priority", "expected", "requested_again"), [
    ((0.0, 2.0, 1.0), [8.0, 2.0], [0.0, 6.0]),  # RDC 1 first
    ((0.0, 1.0, 2.0), [2.0, 8.0], [6.0, 0.0]),  # RDC 2 first
    ((0.0, 1.0, 1.0), [8.0, 2.0], [0.0, 6.0]),  # tie: lower index first
])
def test_priority_rationing_fills_the_higher_priority_first(priority, expected,
                                                            requested_again):
    result = run(two_rdcs(10.0, priority), np.zeros((0, 2)))
    assert field(result, "requested")[1:] == [8.0, 8.0]
    assert field(result, "replenished")[1:] == expected
    assert field(result, "shipped")[0] == 10.0
    # the unfilled part is dropped: the short RDC's position (2) is still <= s = 4, so it
    # requests 8 - 2 again in period 1 (and gets nothing: the DC is empty)
    assert field(result, "requested", period=1)[1:] == requested_again
    assert field(result, "replenished", period=1)[1:] == [0.0, 0.0]
    assert result.location("orders")[0, 1:, 0].tolist() == [1 + (r > 0) for r in
                                                            requested_again]


@pytest.mark.parametrize(("stock", "expected"), [
    (10.0, [5.0, 5.0]),
    (11.0, [6.0, 5.0]),  # 5.5 each: the extra unit to the lower index
    (16.0, [8.0, 8.0]),  # enough for both
    (0.0, [0.0, 0.0]),
])
def test_fair_share_splits_proportionally_in_whole_units(stock, expected):
    result = run(two_rdcs(stock), np.zeros((0, 2)), rationing="fair_share")
    assert field(result, "replenished")[1:] == expected


def test_fair_share_gives_the_extra_units_to_the_largest_remainders():
    # requests 5, 3, 2 (positions 0; S = 5, 3, 2) from 7 units: quotas 3.5, 2.1, 1.4
    arrays = network(source=[-1, 0, 0, 0], on_hand=[7, 0, 0, 0], order_up_to=[7, 5, 3, 2],
                     reorder_point=[-np.inf, 0, 0, 0])
    result = run(arrays, np.zeros((0, 1)), rationing="fair_share")
    assert field(result, "replenished")[1:] == [4.0, 2.0, 1.0]
    # requests 4, 4, 4, 4 ... from 6 units (quota 1.5 each, ties): lowest indices get 2
    arrays = network(source=[-1, 0, 0, 0, 0], on_hand=[6, 0, 0, 0, 0],
                     order_up_to=[6, 4, 4, 4, 4], reorder_point=[-np.inf, 0, 0, 0, 0])
    result = run(arrays, np.zeros((0, 1)), rationing="fair_share")
    assert field(result, "replenished")[1:] == [2.0, 2.0, 1.0, 1.0]


def test_a_stream_spills_over_to_its_next_eligible_location():
    # pool 2 (3 units) first, then RDC 1 (10 units); nobody reorders
    arrays = network(source=[-1, 0, 1], on_hand=[0, 10, 3], order_up_to=[0, 10, 3],
                     streams=[([2, 1], False, 1.0)])
    result = run(arrays, [[8.0, 9.0]])
    served_from = result.trajectory.served_from[0, 0]
    assert served_from[0].tolist() == [0.0, 5.0, 3.0]
    assert served_from[1].tolist() == [0.0, 5.0, 0.0]  # the RDC has 5 left, 4 are lost
    assert result.stream("served")[0, 0] == 13.0
    assert result.stream("lost")[0, 0] == 4.0
    assert result.stream("stockout_periods")[0, 0] == 1.0
    assert result.cycle_service_level()[0, 0] == 0.5
    assert result.fill_rate()[0, 0] == 13.0 / 17.0


def test_backorders_wait_at_the_first_location_and_are_filled_first_on_arrival():
    # pool 1 (2 units) then DC 0 (1 unit); 6 demanded: 3 served, 3 backordered at the pool.
    # 5 units are on their way to the pool, due in period 2.
    arrays = network(source=[-1, 0], on_hand=[1, 2], order_up_to=[1, 10],
                     reorder_point=[-np.inf, 3], arrivals=[[0, 0, 0], [0, 0, 5]],
                     streams=[([1, 0], True, 1.0)])
    result = run(arrays, [[6.0, 0.0, 0.0]])
    stream = result.trajectory.stream[0, 0]
    assert stream[:, nk.END_BACKLOG].tolist() == [3.0, 3.0, 0.0]
    assert stream[:, nk.FILLED_NOW].tolist() == [0.0, 0.0, 3.0]
    assert field(result, "end_backorders", period=0) == [0.0, 3.0]
    assert field(result, "end_on_hand", period=2) == [0.0, 2.0]  # 5 arrived, 3 to backorders
    # shortage cost: 2 per unit backordered at the end of each period
    assert result.stream("backorders")[0, 0] == 6.0
    assert result.stream("shortage_cost")[0, 0] == 12.0
    assert result.stream("backorders_filled")[0, 0] == 3.0
    assert result.location("backorders_filled")[0, 1, 0] == 3.0
    # the pool's position: 2 + 5 - 0 = 7 > s = 3 in period 0, then 0 + 5 - 3 = 2 and
    # 2 + 0 - 0 = 2: it requests 8 in periods 1 and 2 from the empty DC, and gets nothing
    assert field(result, "requested", period=0)[1] == 0.0
    assert field(result, "requested", period=1)[1] == 8.0
    assert field(result, "requested", period=2)[1] == 8.0
    assert result.location("replenished_units")[0, 1, 0] == 0.0


def test_streams_are_served_in_priority_order():
    arrays = network(source=[-1], on_hand=[5], order_up_to=[5],
                     streams=[([0], False, 1.0), ([0], False, 3.0)])
    result = run(arrays, [[4.0], [4.0]])
    assert result.stream("served")[:, 0].tolist() == [1.0, 4.0]
    assert result.stream("lost")[:, 0].tolist() == [3.0, 0.0]


def test_a_location_reviews_after_shipping_and_lead_time_zero_arrives_before_demand():
    # DC 0 -> RDC 1 -> pool 2, lead time 0 everywhere. In period 0 the pool (empty, s=0, S=4)
    # requests 4; the RDC ships them (they arrive at once), falls to 1 <= s = 2 and requests
    # 9 from the DC, which ships them at once too: all before the demand of period 0.
    arrays = network(source=[-1, 0, 1], on_hand=[20, 5, 0], order_up_to=[20, 10, 4],
                     reorder_point=[-np.inf, 2, 0], pmf=[[1.0]] * 3,
                     streams=[([2], False, 1.0), ([1], False, 1.0)])
    result = run(arrays, [[3.0], [10.0]])
    assert field(result, "requested") == [0.0, 9.0, 4.0]
    assert field(result, "replenished") == [0.0, 9.0, 4.0]
    assert field(result, "arrived") == [0.0, 9.0, 4.0]
    assert field(result, "end_on_hand") == [11.0, 0.0, 1.0]
    assert result.stream("served")[:, 0].tolist() == [3.0, 10.0]


def test_random_lead_times_follow_the_lane_pmf():
    # the DC orders one unit every period (s = S - 0.5, one unit demanded per period)
    pmf = [[0.2, 0.5, 0.0, 0.3]]
    arrays = network(source=[-1], on_hand=[5], order_up_to=[5], reorder_point=[4.5], pmf=pmf,
                     streams=[([0], True, 1.0)])
    samples, periods = 2000, 10
    result = simulate_network(arrays, samples=samples, periods=periods, seed=4,
                              demand=np.ones((1, samples, periods)), record_trajectory=True)
    lead = result.trajectory.location[0, :, :, 0, nk.LEAD_TIME]
    assert np.all(lead[:, 0] == -1)  # no order in period 0 (position 5 > s)
    lead = lead[:, 1:]
    assert np.all(lead >= 0)
    n = lead.size
    for value, p in enumerate(pmf[0]):
        observed = float((lead == value).mean())
        assert abs(observed - p) <= 4 * np.sqrt(p * (1 - p) / n) + 1e-12, (value, observed)
    # consecutive draws are not correlated
    correlation = np.corrcoef(lead[:, :-1].ravel(), lead[:, 1:].ravel())[0, 1]
    assert abs(correlation) < 4 / np.sqrt(n)


def test_receipts_and_arrivals_arrive_when_scheduled_and_count_in_the_position():
    # arrivals at period 1 and at period 5 (after a 3-period horizon); receipts at period 2
    arrays = network(source=[-1], on_hand=[0], order_up_to=[10], reorder_point=[0],
                     arrivals=[[0, 4, 0, 0, 0, 3]], receipts=[[0, 0, 2]])
    result = run(arrays, np.zeros((0, 3)))
    arrived = result.trajectory.location[0, 0, :, 0, nk.ARRIVED].tolist()
    assert arrived == [0.0, 4.0, 2.0]
    # position 0 + 9 in transit > s = 0: no order, ever
    assert result.location("orders")[0, 0, 0] == 0.0
    assert result.location("end_in_transit")[0, 0, 0] == 3.0
    assert result.location("end_on_hand")[0, 0, 0] == 6.0
    assert result.avg_on_hand()[0, 0, 0] == (0 + 4 + 6) / 3


def test_summary_gives_means_and_percentiles_across_samples():
    arrays = network(source=[-1], on_hand=[4], order_up_to=[4], streams=[([0], False, 1.0)])
    demand = np.arange(11.0)[None, :, None]  # samples demanding 0, 1, ..., 10 in one period
    result = simulate_network(arrays, samples=11, periods=1, seed=0, demand=demand)
    summary = result.summary()
    assert summary.statistics == ("mean", "q10", "q90")
    kpi = {name: summary.stream[0, i] for i, name in enumerate(summary.stream_kpis)}
    assert kpi["demand"].tolist() == [5.0, 1.0, 9.0]
    served = np.minimum(np.arange(11.0), 4)
    assert kpi["served"][0] == served.mean()
    assert kpi["fill_rate"][0] == served.mean() / 5.0  # ratio of the means
    rates = served[1:] / np.arange(1.0, 11.0)  # per-sample, the sample without demand left out
    np.testing.assert_allclose(kpi["fill_rate"][1:], np.quantile(rates, [0.1, 0.9]))
    assert kpi["cycle_service_level"][0] == 5 / 11
    location = {name: summary.location[0, 0, i] for i, name in enumerate(summary.location_kpis)}
    assert location["avg_on_hand"][0] == (4 - served).mean()
    # a stream without demand in any sample has no fill rate, and no warning
    quiet = simulate_network(arrays, samples=3, periods=2, seed=0, demand=np.zeros((1, 3, 2)))
    assert np.isnan(quiet.summary().stream[0, quiet.summary().stream_kpis.index("fill_rate")]).all()


def test_results_are_read_only():
    arrays = network(source=[-1], on_hand=[4], order_up_to=[4], streams=[([0], False, 1.0)])
    result = simulate_network(arrays, samples=2, periods=2, seed=0, demand=np.ones((1, 2, 2)))
    with pytest.raises(ValueError, match="read-only"):
        result.stream_statistics[0, 0, 0] = 1.0
    with pytest.raises(ValueError, match="read-only"):
        arrays.on_hand[0, 0] = 1.0


def test_docstring_example():
    outcome = doctest.testmod(engine.simulation.network,
                              optionflags=doctest.NORMALIZE_WHITESPACE)
    assert outcome.attempted > 0
    assert outcome.failed == 0
