"""Invariants of the policy library, checked with hypothesis on generated inputs."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from models.distributions import expected_shortage
from models.policy import Family, newsvendor, optimal_rQ, stock_targets

COUNT = 8
means = st.one_of(st.just(0.0), st.floats(1e-3, 2_000.0, allow_subnormal=False))
dispersions = st.floats(0.0, 20.0, allow_subnormal=False)
service_levels = st.floats(0.01, 0.999)


@st.composite
def pairs(draw):
    """Keyword arguments of `stock_targets` for COUNT pairs with realistic ranges."""
    mean = np.array(draw(st.lists(means, min_size=COUNT, max_size=COUNT)))
    dispersion = np.array(draw(st.lists(dispersions, min_size=COUNT, max_size=COUNT)))
    minimum = draw(st.one_of(st.none(), st.floats(0, 50)))
    maximum = draw(st.one_of(st.none(), st.floats(50, 5_000)))
    return {
        "mean": mean,
        "variance": mean * dispersion,
        "lead_time": draw(st.floats(0.0, 12.0)),
        "lead_time_sd": draw(st.floats(0.0, 3.0)),
        "review_period": draw(st.floats(0.5, 7.0)),
        "pack_size": draw(st.integers(1, 24)),
        "moq": draw(st.floats(0.0, 100.0)),
        "minimum": minimum,
        "maximum": maximum,
        "service": draw(st.sampled_from(["cycle", "fill_rate"])),
        "distribution": draw(st.sampled_from(["auto", "normal", "poisson",
                                              "negative_binomial"])),
    }


@settings(max_examples=150, deadline=None)
@given(pairs(), service_levels)
def test_order_up_to_at_least_reorder_point_at_least_zero(arguments, service_level):
    result = stock_targets(**arguments, service_level=service_level)
    assert np.all(result.reorder_point >= 0)
    assert np.all(result.order_up_to >= result.reorder_point)
    assert np.all(result.reorder_point == np.round(result.reorder_point))
    if arguments["maximum"] is not None:  # caps are rounded inward to whole units
        assert np.all(result.order_up_to <= arguments["maximum"] + 1e-9)
    if arguments["minimum"] is not None:
        assert np.all(result.reorder_point >= arguments["minimum"] - 1e-9)
    assert np.allclose(result.safety_stock, result.reorder_point - result.protection_mean)


@settings(max_examples=150, deadline=None)
@given(pairs(), service_levels, service_levels)
def test_higher_service_level_never_lowers_the_targets(arguments, first, second):
    low, high = sorted((first, second))
    lower = stock_targets(**arguments, service_level=low)
    higher = stock_targets(**arguments, service_level=high)
    assert np.array_equal(lower.distribution, higher.distribution)
    assert np.all(higher.reorder_point >= lower.reorder_point)
    assert np.all(higher.order_up_to >= lower.order_up_to)


@settings(max_examples=150, deadline=None)
@given(pairs(), service_levels)
def test_levels_are_the_smallest_meeting_the_target(arguments, service_level):
    """Without caps, s meets the target and s - 1 does not (when s >= 1)."""
    arguments.update(minimum=None, maximum=None)
    result = stock_targets(**arguments, service_level=service_level)
    mu, var = result.protection_mean, result.protection_variance
    codes, level = result.distribution, result.reorder_point
    positive = mu > 0
    if arguments["service"] == "fill_rate":
        allowed = (1 - service_level) * arguments["review_period"] * arguments["mean"]
        assert np.all(expected_shortage(codes, mu, var, level) <= allowed * (1 + 1e-9) + 1e-12)
        below = positive & (level >= 1)
        shortage = expected_shortage(codes, mu, var, level - 1)
        assert np.all(shortage[below] > allowed[below] * (1 - 1e-9) - 1e-12)
        return
    for i in np.flatnonzero(positive & (codes != Family.NORMAL)):
        if codes[i] == Family.POISSON:
            distribution = stats.poisson(mu[i])
        else:
            distribution = stats.nbinom(mu[i] ** 2 / (var[i] - mu[i]), mu[i] / var[i])
        assert distribution.cdf(level[i]) >= service_level - 1e-12
        assert level[i] == 0 or distribution.cdf(level[i] - 1) < service_level + 1e-12


@settings(max_examples=60, deadline=None)
@given(st.floats(0.1, 60.0), st.floats(0.1, 10.0), st.floats(0.1, 10.0))
def test_discrete_newsvendor_level_is_a_local_minimum(mean, h, p):
    demand = stats.poisson(mean)
    result = newsvendor(demand, holding_cost=h, shortage_cost=p)

    def cost(level):
        leftover = sum(demand.cdf(k) for k in range(0, level))
        return h * leftover + p * (leftover - level + mean)

    assert result.cost == pytest.approx(cost(result.level), rel=1e-9, abs=1e-9)
    assert cost(result.level - 1) >= result.cost - 1e-9
    assert cost(result.level + 1) >= result.cost - 1e-9


@settings(max_examples=40, deadline=None)
@given(st.floats(0.2, 20.0), st.floats(0.1, 5.0), st.floats(1.0, 50.0), st.floats(0.0, 200.0),
       st.floats(0.0, 3.0))
def test_rQ_optimum_beats_its_neighbours(rate, h, p, K, lead_time):
    result = optimal_rQ(rate, holding_cost=h, shortage_cost=p, fixed_cost=K,
                        lead_time=lead_time)
    demand = stats.poisson(rate * lead_time)
    values = np.arange(0, demand.isf(1e-16) + 1)
    pmf = demand.pmf(values)

    def cost(r, Q):
        levels = np.arange(r + 1, r + Q + 1)[:, None]
        leftover = np.maximum(levels - values, 0) @ pmf
        shortage = np.maximum(values - levels, 0) @ pmf
        return (K * rate + np.sum(h * leftover + p * shortage)) / Q

    assert result.cost == pytest.approx(cost(result.r, result.Q), rel=1e-7)
    for dr, dq in [(-1, 0), (1, 0), (0, 1), (-1, 1), (1, -1)]:
        if result.Q + dq >= 1:
            assert cost(result.r + dr, result.Q + dq) >= result.cost * (1 - 1e-9)
