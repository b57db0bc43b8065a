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


def simulate_balanced_allocation(mu, sigma, lead, depot_lead, system_level, periods, seed):
    """A stockless depot and its retailers, period by period (the model of
    `models.policy.echelon.balanced_allocation`); returns each retailer's share of periods ending
    without a backorder. The depot's order at the end of period t arrives at the start of
    t + L0 + 1 and is allocated at once to equal fractiles (retailers already above their share
    get nothing: water-filling); a shipment to retailer j allocated at the start of u arrives at
    the start of u + L_j, before that period's demand."""
    rng = np.random.default_rng(seed)
    n = len(mu)
    m = np.asarray(mu) * (np.asarray(lead) + 1.0)
    s = np.asarray(sigma) * np.sqrt(np.asarray(lead) + 1.0)
    demand = rng.normal(mu, sigma, size=(periods, n))
    depot_due = np.zeros(periods + depot_lead + 2)
    retail_due = np.zeros((periods + max(lead) + 2, n))
    net = m.copy()                               # start at the balanced levels, nothing in transit
    in_transit = np.zeros(n)
    pipeline = 0.0                               # depot orders not yet arrived
    warmup = 50
    covered = np.zeros(n)
    for t in range(periods):
        arriving = depot_due[t]
        pipeline -= arriving
        position = net + in_transit
        share = np.zeros(n)
        active = np.ones(n, dtype=bool)
        for _ in range(n):                       # water-filling to a common fractile
            z = (arriving + position[active].sum() - m[active].sum()) / s[active].sum()
            share = np.where(active, m + z * s - position, 0.0)
            if (share >= 0).all():
                break
            active &= share > 0
        for j in range(n):
            if lead[j] == 0:
                net[j] += share[j]
            else:
                retail_due[t + lead[j], j] += share[j]
                in_transit[j] += share[j]
        net += retail_due[t] * (np.asarray(lead) > 0)
        in_transit -= retail_due[t] * (np.asarray(lead) > 0)
        net -= demand[t]
        if t >= warmup:
            covered += net >= 0
        order = system_level - (net.sum() + in_transit.sum() + pipeline)
        depot_due[t + depot_lead + 1] += order
        pipeline += order
    return covered / (periods - warmup)


def test_eppen_schrage_system_level_for_identical_retailers():
    from models.policy import balanced_allocation

    n, mu, sigma, lead, depot_lead = 4, 20.0, 5.0, 2, 3
    z = 1.6448536269514722                                            # alpha = 0.95
    expected = n * mu * (depot_lead + lead + 1) + z * sigma * np.sqrt(
        n * depot_lead + n**2 * (lead + 1))
    result = balanced_allocation([mu] * n, [sigma] * n, [lead] * n, depot_lead_time=depot_lead,
                                 service_level=0.95)
    assert result.system_level == pytest.approx(expected, rel=1e-12)
    np.testing.assert_allclose(result.service_levels, 0.95)


@pytest.mark.parametrize("mu, sigma, lead, depot_lead, alpha", [
    ([10.0, 10.0, 10.0], [3.0, 3.0, 3.0], [1, 1, 1], 2, 0.90),      # identical
    ([30.0, 12.0, 5.0], [6.0, 4.0, 2.0], [1, 2, 0], 3, 0.95),       # a tree of unequal retailers
])
def test_balanced_allocation_delivers_its_service_levels_in_simulation(mu, sigma, lead,
                                                                         depot_lead, alpha):
    """Simulated cycle service level of every retailer within 1 point of the formula's (and the
    one it was sized for at least alpha - 1 point); 60,000 periods: standard error <= 0.13
    points."""
    from models.policy import balanced_allocation

    result = balanced_allocation(mu, sigma, lead, depot_lead_time=depot_lead,
                                 service_level=alpha)
    assert result.service_levels.min() == pytest.approx(alpha)
    simulated = simulate_balanced_allocation(mu, sigma, lead, depot_lead, result.system_level,
                                             periods=60_000, seed=11)
    np.testing.assert_allclose(simulated, result.service_levels, atol=0.01)
    # half the safety stock is visibly short at the binding retailer
    safety = result.system_level - (np.sum(mu) * depot_lead + result.cycle_mean.sum())
    lower = balanced_allocation(mu, sigma, lead, depot_lead_time=depot_lead,
                                system_level=result.system_level - 0.5 * safety)
    assert lower.service_levels.min() < alpha - 0.03


def test_balanced_allocation_arguments_are_checked():
    from models.policy import balanced_allocation

    with pytest.raises(ValueError, match="exactly one"):
        balanced_allocation([1.0], [1.0], [0], depot_lead_time=1)
    with pytest.raises(ValueError, match="demand_sd"):
        balanced_allocation([1.0], [0.0], [0], depot_lead_time=1, service_level=0.9)
    with pytest.raises(ValueError, match="service_level"):
        balanced_allocation([1.0], [1.0], [0], depot_lead_time=1, service_level=1.0)
    with pytest.raises(ValueError, match="same length|1-d arrays"):
        balanced_allocation([1.0, 2.0], [1.0], [0], depot_lead_time=1, service_level=0.9)
