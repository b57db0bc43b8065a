"""Clark-Scarf echelon base-stock levels of serial systems (`models.policy.echelon`).

Checked against the textbook's published example, the single-stage newsvendor in closed form,
and a plain simulation of the serial system run with the levels found.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.stats

from models.policy.echelon import serial_base_stock


def test_snyder_shen_example_6_1():
    """Example 6.1 of Snyder and Shen (2019): h = (3, 2, 2), L = (1, 1, 2), p = 37.12,
    demand N(5, 1); published S* = (6.51, 12.01, 22.70) and cost 47.67 (stockpyl's
    reproduction; the book rounds to the same 0.05)."""
    result = serial_base_stock([3, 2, 2], [1, 1, 2], stockout_cost=37.12, demand_mean=5,
                               demand_sd=1)
    np.testing.assert_allclose(result.echelon_levels, [6.51, 12.01, 22.70], atol=0.05)
    np.testing.assert_allclose(result.local_levels, np.diff(result.echelon_levels,
                                                            prepend=0.0))
    assert result.cost == pytest.approx(47.67, abs=0.05)


@pytest.mark.parametrize(("h", "p", "mu", "sigma", "lead"),
                         [(1.0, 9.0, 100.0, 10.0, 1), (0.5, 4.5, 20.0, 6.0, 3),
                          (2.0, 18.0, 0.0, 1.0, 2)])
def test_one_stage_is_the_newsvendor(h, p, mu, sigma, lead):
    result = serial_base_stock([h], [lead], stockout_cost=p, demand_mean=mu, demand_sd=sigma)
    z = scipy.stats.norm.ppf(p / (p + h))
    sd = sigma * np.sqrt(lead)
    assert result.echelon_levels[0] == pytest.approx(mu * lead + z * sd, abs=0.01 * sd)
    assert result.cost == pytest.approx((h + p) * sd * scipy.stats.norm.pdf(z), rel=1e-4)


def simulate_serial(local_levels, echelon_holding, lead, p, mu, sigma, periods, seed):
    """Mean cost per period of a serial system under local base-stock levels (plain loop).

    Stage 0 sells; stage j+1 ships to stage j (lead[j] periods), the last stage is supplied
    without limit. Every stage passes each period's demand up one for one. Cost at the end of
    each period: local holding h'_j on stock on hand, h'_{j+1} on stock in transit into j,
    p on backorders at stage 0.
    """
    rng = np.random.default_rng(seed)
    N = len(local_levels)
    local_holding = np.cumsum(np.asarray(echelon_holding)[::-1])[::-1]   # h'_j
    transit_rate = np.append(local_holding[1:], 0.0)                    # h'_{j+1}
    on_hand = np.array(local_levels, dtype=float)                       # stage 0: may be < 0
    owed = np.zeros(N)                  # owed[j]: units stage j+1 still has to ship to j
    horizon = periods + int(max(lead)) + 2
    arriving = np.zeros((N, horizon))
    in_transit = np.zeros(N)
    demand = rng.normal(mu, sigma, size=periods)
    total = 0.0
    for t in range(periods):
        on_hand += arriving[:, t]
        in_transit -= arriving[:, t]
        d = demand[t]
        on_hand[0] -= d                 # inventory level at stage 0 (backorders if < 0)
        owed += d                       # every stage orders d from the one above
        for j in range(N):
            if j == N - 1:              # the supplier ships at once
                quantity = owed[j]
            else:
                quantity = min(max(on_hand[j + 1], 0.0), owed[j])
                on_hand[j + 1] -= quantity
            owed[j] -= quantity
            arriving[j, t + int(lead[j])] += quantity
            in_transit[j] += quantity
        holding = local_holding[0] * max(on_hand[0], 0.0) + local_holding[1:] @ on_hand[1:]
        total += holding + transit_rate @ in_transit + p * max(-on_hand[0], 0.0)
    return total / periods


def test_the_levels_cost_what_a_simulation_of_the_serial_system_costs():
    h, lead, p, mu, sigma = [3.0, 2.0, 2.0], [1, 1, 2], 37.12, 5.0, 1.0
    result = serial_base_stock(h, lead, stockout_cost=p, demand_mean=mu, demand_sd=sigma)
    simulated = simulate_serial(result.local_levels, h, lead, p, mu, sigma, 60_000, seed=3)
    assert simulated == pytest.approx(result.cost, rel=0.02)
    short = simulate_serial(result.local_levels, h, lead, p, mu, sigma, 10_000, seed=4)
    # levels one unit off cost more, in the model and in the simulation
    for stage in range(3):
        for shift in (-1.0, 1.0):
            other = result.echelon_levels.copy()
            other[stage:] += shift      # moving S_j keeps the later local levels >= 0
            evaluated = serial_base_stock(h, lead, stockout_cost=p, demand_mean=mu,
                                          demand_sd=sigma, levels=other)
            assert evaluated.cost > result.cost
            local = np.diff(other, prepend=0.0)
            assert simulate_serial(local, h, lead, p, mu, sigma, 10_000, seed=4) > short


def test_evaluating_the_optimum_gives_its_cost():
    result = serial_base_stock([1.0, 0.5], [2, 1], stockout_cost=10.0, demand_mean=100.0,
                               demand_sd=10.0)
    again = serial_base_stock([1.0, 0.5], [2, 1], stockout_cost=10.0, demand_mean=100.0,
                              demand_sd=10.0, levels=result.echelon_levels)
    assert again.cost == pytest.approx(result.cost, rel=1e-9)
    # a free upstream stage (h = 0) holds as much as it can: the cost equals one stage with
    # the lead times added (the whole chain's demand is protected at stage 1)
    free = serial_base_stock([1.0, 0.0], [1, 2], stockout_cost=9.0, demand_mean=50.0,
                             demand_sd=5.0)
    assert free.cost >= serial_base_stock([1.0], [1], stockout_cost=9.0, demand_mean=50.0,
                                          demand_sd=5.0).cost - 1e-6


def test_arguments_are_checked():
    with pytest.raises(ValueError, match="one entry per stage"):
        serial_base_stock([1.0, 2.0], [1], stockout_cost=1.0, demand_mean=1.0, demand_sd=1.0)
    with pytest.raises(ValueError, match="echelon_holding_cost"):
        serial_base_stock([-1.0], [1], stockout_cost=1.0, demand_mean=1.0, demand_sd=1.0)
    with pytest.raises(ValueError, match="demand_sd"):
        serial_base_stock([1.0], [1], stockout_cost=1.0, demand_mean=1.0, demand_sd=0.0)
    with pytest.raises(ValueError, match="levels"):
        serial_base_stock([1.0], [1], stockout_cost=1.0, demand_mean=1.0, demand_sd=1.0,
                          levels=[1.0, 2.0])
