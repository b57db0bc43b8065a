"""The pooled fill rate of one stock serving streams in priority order (`models.policy.priority`),
checked by simulating the location with the network simulator."""

from __future__ import annotations

import numpy as np
import pytest

from engine.simulation import NetworkArrays, simulate_network
from models.policy import priority_fill_rates
from models.policy.priority import _normal_shortage

LEAD, MEAN, VARIANCE = 2, 20.0, 64.0
BACKORDERS = True


def base_stock_level(fill_rate: float, streams: int) -> float:
    """Base-stock level of the pooled normal demand of ``streams`` streams (lead time LEAD,
    review 1) for a fill rate, by bisection on the shortage per cycle."""
    low, high = 0.0, 1000.0
    for _ in range(80):
        middle = np.array([0.5 * (low + high)])
        cycle = (_normal_shortage(streams * MEAN * (LEAD + 1), streams * VARIANCE * (LEAD + 1),
                                  middle)
                 - _normal_shortage(streams * MEAN * LEAD, streams * VARIANCE * LEAD, middle))
        short = cycle[0] > (1 - fill_rate) * streams * MEAN
        middle = float(middle[0])
        low, high = (middle, high) if short else (low, middle)
    return high


def simulated_fill(level: float, priorities: list[float]) -> np.ndarray:
    """Each stream's fill rate at one location with base stock ``level``, supplied in LEAD
    periods, its streams served in priority order, customers waiting (backorders, the model of
    `priority_fill_rates`); started in steady state."""
    n = len(priorities)
    arrivals = np.zeros((1, 1, LEAD + 1))
    arrivals[0, 0, 1:] = n * MEAN
    arrays = NetworkArrays(
        source=np.array([-1]), lead_time_pmf=np.eye(LEAD + 1)[[LEAD]],
        location_priority=np.zeros(1), sku_key=np.array([3]),
        reorder_point=np.array([[level - 1e-9]]), order_up_to=np.array([[level]]),
        holding_cost=np.zeros((1, 1)), on_hand=np.array([[level - LEAD * n * MEAN]]),
        arrivals=arrivals, sku_stream_ptr=np.array([0, n]), stream_ptr=np.arange(n + 1),
        stream_locations=np.zeros(n, dtype=int), backorders=np.full(n, BACKORDERS),
        shortage_cost=np.ones(n), stream_priority=np.array(priorities, dtype=float))
    result = simulate_network(arrays, samples=3000, periods=60, seed=2,
                              demand_mean=np.full((n, 60), MEAN),
                              demand_variance=np.full((n, 60), VARIANCE),
                              demand_family=np.zeros(n, dtype=np.int8))
    return result.stream("served").sum(axis=1) / result.stream("demand").sum(axis=1)


def interval(streams: int, targets) -> dict:
    return dict(group=np.zeros(streams, dtype=int), fill_rate=np.asarray(targets),
                mean=np.full(streams, MEAN * (LEAD + 1)),
                variance=np.full(streams, VARIANCE * (LEAD + 1)),
                lead_mean=np.full(streams, MEAN * LEAD),
                lead_variance=np.full(streams, VARIANCE * LEAD))


def test_every_stream_gets_its_fill_rate_when_the_last_served_asks_most():
    """0.90 served first, 0.98 last: the weighted mean (0.94) leaves the last stream well short;
    the priority fill rate delivers it (within half a point; 3,000 samples x 60 periods) and the
    first stream more than its 0.90."""
    targets, priorities = [0.90, 0.98], [2.0, 1.0]           # stream 0 is served first
    _, pooled = priority_fill_rates(**interval(2, targets))
    assert pooled[0] > 0.97
    fills = simulated_fill(base_stock_level(float(pooled[0]), 2), priorities)
    assert fills[1] == pytest.approx(0.98, abs=0.005)
    assert fills[0] > 0.98
    mean_level = simulated_fill(base_stock_level(0.94, 2), priorities)
    assert mean_level[1] < 0.90                              # the mean misses by 8 points


def test_the_first_served_asking_most_needs_little_more_than_the_mean():
    targets, priorities = [0.98, 0.90], [2.0, 1.0]
    _, pooled = priority_fill_rates(**interval(2, targets))
    assert 0.94 <= pooled[0] < 0.96
    fills = simulated_fill(base_stock_level(float(pooled[0]), 2), priorities)
    assert fills[1] == pytest.approx(0.90, abs=0.005)
    assert fills[0] > 0.98


def test_one_stream_keeps_its_fill_rate_and_groups_are_independent():
    data = interval(1, [0.93])
    groups, pooled = priority_fill_rates(**data)
    assert pooled[0] == pytest.approx(0.93, abs=1e-9)
    two = {k: np.concatenate([v, v]) for k, v in data.items()}
    two["group"] = np.array([4, 9])
    groups, pooled = priority_fill_rates(**two)
    assert groups.tolist() == [4, 9]
    np.testing.assert_allclose(pooled, 0.93, atol=1e-9)


@pytest.mark.parametrize(("changes", "message"), [
    ({"group": np.array([0, 1, 0])}, "contiguous"),
    ({"fill_rate": np.array([0.9, 1.0, 0.9])}, "fill rates must be in"),
    ({"lead_mean": np.full(3, MEAN * (LEAD + 1))}, "demand in its review period"),
    ({"mean": np.ones(2)}, "one length"),
])
def test_arguments_are_checked(changes, message):
    with pytest.raises(ValueError, match=message):
        priority_fill_rates(**{**interval(3, [0.9, 0.9, 0.9]), **changes})
