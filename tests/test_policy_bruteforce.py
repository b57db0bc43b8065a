"""The exact optimisers against brute-force enumeration with plain-Python references.

The references share no code with `models.policy`: probabilities come from scipy.stats or
``math``, every expectation is a plain Python sum over the support, and the (s,S) cost is also
computed a second, independent way, from the stationary distribution of the inventory position
(a Markov chain), rather than from Zheng and Federgruen's renewal formula.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import optimize, stats

from models.policy import eoq, newsvendor, optimal_rQ, optimal_sS

# -- plain-Python references --------------------------------------------------------------------


def table(distribution, tail: float = 1e-15) -> dict[int, float]:
    """P(D = d) on the integer support of a frozen discrete distribution (tail < ``tail``)."""
    low = int(max(distribution.support()[0], distribution.ppf(tail)))
    high = int(distribution.isf(tail)) + 1
    pmf = {d: float(distribution.pmf(d)) for d in range(low, high + 1)}
    total = sum(pmf.values())
    return {d: prob / total for d, prob in pmf.items() if prob > 0}


def convolve(first: dict[int, float], second: dict[int, float]) -> dict[int, float]:
    out: dict[int, float] = {}
    for a, pa in first.items():
        for b, pb in second.items():
            out[a + b] = out.get(a + b, 0.0) + pa * pb
    return out


def expected_cost(pmf: dict[int, float], level: float, h: float, p: float) -> float:
    """G(y) = h E[(y - D)+] + p E[(D - y)+] by summation."""
    return sum(prob * (h * max(level - d, 0) + p * max(d - level, 0)) for d, prob in pmf.items())


def renewal_sS_cost(pmf, G, s, S, K) -> float:
    """Zheng and Federgruen's c(s,S), computed directly from its definition."""
    m = [1.0 / (1.0 - pmf.get(0, 0.0))]
    for j in range(1, S - s):
        m.append(m[0] * sum(pmf.get(k, 0.0) * m[j - k] for k in range(1, j + 1)))
    return (K + sum(m[j] * G[S - j] for j in range(S - s))) / sum(m)


def markov_sS_cost(pmf, G, s, S, K) -> float:
    """Cost per period from the stationary distribution of the post-order inventory position.

    States y = s+1..S; next period y - D if that is above s, else an order brings it to S.
    """
    states = list(range(s + 1, S + 1))
    n = len(states)
    transition = np.zeros((n, n))
    order_probability = np.zeros(n)
    for i, y in enumerate(states):
        for d, prob in pmf.items():
            after = y - d
            if after <= s:
                transition[i, S - s - 1] += prob
                order_probability[i] += prob
            else:
                transition[i, after - s - 1] += prob
    system = np.vstack([transition.T - np.eye(n), np.ones(n)])
    rhs = np.zeros(n + 1)
    rhs[-1] = 1.0
    stationary = np.linalg.lstsq(system, rhs, rcond=None)[0]
    return float(sum(stationary[i] * G[y] for i, y in enumerate(states))
                 + K * stationary @ order_probability)


def poisson_table(mean: float, tail: float = 1e-15) -> dict[int, float]:
    """Poisson pmf from its formula (no scipy)."""
    if mean == 0:
        return {0: 1.0}
    pmf, d = {}, 0
    while True:
        prob = math.exp(d * math.log(mean) - mean - math.lgamma(d + 1))
        pmf[d] = prob
        if d > mean and prob < tail:
            return pmf
        d += 1


# -- newsvendor -----------------------------------------------------------------------------------

DISCRETE_TABLES = [
    stats.rv_discrete(values=([0, 1, 2, 5], [0.3, 0.2, 0.3, 0.2])),
    stats.rv_discrete(values=([-3, -1, 0, 4, 6], [0.1, 0.2, 0.2, 0.25, 0.25])),
    stats.rv_discrete(values=([2, 3, 4], [0.25, 0.5, 0.25])),
    stats.poisson(3.7),
    stats.nbinom(2.5, 0.3),
    stats.binom(12, 0.4),
]


@pytest.mark.parametrize("demand", DISCRETE_TABLES, ids=lambda d: getattr(d, "name", "") or
                         d.dist.name)
@pytest.mark.parametrize(("h", "p"), [(1.0, 4.0), (3.0, 1.0), (1.0, 1.0), (0.5, 19.0)])
def test_discrete_newsvendor_is_the_smallest_minimiser(demand, h, p):
    pmf = table(demand)
    levels = range(min(pmf) - 2, max(pmf) + 3)
    costs = {level: expected_cost(pmf, level, h, p) for level in levels}
    best = min(costs.values())
    smallest = min(level for level, cost in costs.items() if cost <= best + 1e-9 * (1 + best))
    result = newsvendor(demand, holding_cost=h, shortage_cost=p)
    assert result.level == smallest
    assert result.cost == pytest.approx(best, rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("demand", [stats.norm(20, 5), stats.gamma(3, scale=4),
                                    stats.lognorm(0.5, scale=10), stats.uniform(5, 10),
                                    stats.expon(scale=7)], ids=lambda d: d.dist.name)
@pytest.mark.parametrize(("h", "p"), [(1.0, 4.0), (2.0, 1.0)])
def test_continuous_newsvendor_against_numerical_minimisation(demand, h, p):
    def cost(level: float) -> float:
        leftover = demand.expect(lambda x: level - x, ub=level)
        shortage = demand.expect(lambda x: x - level, lb=level)
        return h * leftover + p * shortage

    low, high = demand.ppf(0.01), demand.ppf(0.99)
    reference = optimize.minimize_scalar(cost, bounds=(low, high), method="bounded",
                                         options={"xatol": 1e-10})
    result = newsvendor(demand, holding_cost=h, shortage_cost=p)
    assert result.cost == pytest.approx(reference.fun, rel=1e-8)
    assert result.cost == pytest.approx(cost(result.level), rel=1e-9)
    assert result.level == pytest.approx(reference.x, rel=1e-3)


# -- (s,S) ---------------------------------------------------------------------------------------

SS_INSTANCES = [
    # demand, h, p, K, lead time
    (stats.poisson(1.0), 1.0, 9.0, 5.0, 0),
    (stats.poisson(2.5), 1.0, 4.0, 20.0, 0),
    (stats.poisson(4.0), 2.0, 9.0, 0.0, 0),
    (stats.poisson(2.0), 1.0, 9.0, 10.0, 2),
    (stats.rv_discrete(values=([0, 1, 2, 5], [0.3, 0.2, 0.3, 0.2])), 1.0, 6.0, 15.0, 0),
    (stats.rv_discrete(values=([0, 1, 3], [0.5, 0.3, 0.2])), 1.0, 9.0, 8.0, 1),
    (stats.nbinom(1.5, 0.4), 1.0, 5.0, 12.0, 0),
    (stats.binom(6, 0.5), 0.5, 3.0, 25.0, 0),
    (stats.rv_discrete(values=([2, 3, 4], [0.25, 0.5, 0.25])), 1.0, 9.0, 30.0, 0),
    (stats.rv_discrete(values=([1, 3], [0.6, 0.4])), 1.0, 4.0, 10.0, 1),
]


@pytest.mark.parametrize(("demand", "h", "p", "K", "lead_time"), SS_INSTANCES)
def test_optimal_sS_against_enumeration(demand, h, p, K, lead_time):
    """Enumerate every (s,S) in a box around the newsvendor level with the renewal cost."""
    pmf = table(demand)
    exposure = {0: 1.0}
    for _ in range(lead_time + 1):
        exposure = convolve(exposure, pmf)
    y_star = min(range(-20, 200), key=lambda y: (expected_cost(exposure, y, h, p), y))
    G = {y: expected_cost(exposure, y, h, p) for y in range(y_star - 30, y_star + 45)}
    best = min((renewal_sS_cost(pmf, G, s, S, K), s, S)
               for s in range(y_star - 29, y_star + 1) for S in range(s + 1, y_star + 45))
    result = optimal_sS(demand, holding_cost=h, shortage_cost=p, fixed_cost=K,
                        lead_time=lead_time)
    assert result.cost == pytest.approx(best[0], rel=1e-10)
    assert result.cost == pytest.approx(renewal_sS_cost(pmf, G, result.s, result.S, K),
                                        rel=1e-10)
    # the renewal formula itself, against the Markov chain of the inventory position
    assert result.cost == pytest.approx(markov_sS_cost(pmf, G, result.s, result.S, K),
                                        rel=1e-9)
    assert S_in_box(result, y_star)


def S_in_box(result, y_star) -> bool:
    """The optimum lies inside the enumerated box (so the enumeration was exhaustive)."""
    return y_star - 29 <= result.s < y_star + 1 and y_star + 44 > result.S


def test_sS_with_poisson_lead_time_matches_the_poisson_of_the_exposure():
    """With lead time L, G uses demand over L+1 periods: Poisson(2) for 3 periods is
    Poisson(6); so the Markov-chain cost built on Poisson(6) must agree."""
    result = optimal_sS(stats.poisson(2), holding_cost=1, shortage_cost=9, fixed_cost=10,
                        lead_time=2)
    exposure = poisson_table(6.0)
    G = {y: expected_cost(exposure, y, 1.0, 9.0) for y in range(result.s, result.S + 1)}
    assert result.cost == pytest.approx(markov_sS_cost(poisson_table(2.0), G, result.s,
                                                       result.S, 10.0), rel=1e-9)


# -- (r,Q) ---------------------------------------------------------------------------------------

RQ_INSTANCES = [
    # rate, h, p, K, lead time
    (1.5, 20.0, 150.0, 100.0, 2.0),
    (0.5, 1.0, 10.0, 5.0, 0.0),
    (4.0, 1.0, 9.0, 30.0, 1.0),
    (2.0, 2.0, 5.0, 0.0, 3.0),
    (3.0, 1.0, 19.0, 50.0, 0.25),
    (6.0, 0.5, 4.0, 12.0, 1.5),
]


@pytest.mark.parametrize(("rate", "h", "p", "K", "lead_time"), RQ_INSTANCES)
def test_optimal_rQ_against_enumeration(rate, h, p, K, lead_time):
    lead_time_demand = poisson_table(rate * lead_time)
    G = {y: expected_cost(lead_time_demand, y, h, p) for y in range(-60, 120)}
    prefix = {}
    for r in range(-50, 40):
        total = 0.0
        for Q in range(1, 80):
            total += G[r + Q]
            prefix[r, Q] = (K * rate + total) / Q
    cost, (r, Q) = min((cost, key) for key, cost in prefix.items())
    result = optimal_rQ(rate, holding_cost=h, shortage_cost=p, fixed_cost=K,
                        lead_time=lead_time)
    assert result.cost == pytest.approx(cost, rel=1e-10)
    assert (result.r, result.Q) == (r, Q)
    assert -50 < result.r < 39 and result.Q < 79  # inside the enumerated box


# -- EOQ -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("K", "h", "rate"), [(8.0, 0.225, 1300.0), (100.0, 2.0, 50.0),
                                              (1.0, 10.0, 0.5)])
def test_eoq_against_numerical_minimisation(K, h, rate):
    def cost(quantity: float) -> float:
        return K * rate / quantity + h * quantity / 2

    reference = optimize.minimize_scalar(cost, bounds=(1e-6, 1e6), method="bounded",
                                         options={"xatol": 1e-12})
    result = eoq(fixed_cost=K, holding_cost=h, demand_rate=rate)
    assert result.cost == pytest.approx(reference.fun, rel=1e-9)
    assert result.cost == pytest.approx(cost(result.Q), rel=1e-12)
    assert pytest.approx(reference.x, rel=1e-4) == result.Q
