"""`simulate_policy` against exact long-run values: base stock, (s,S), (r,Q), service targets.

Every comparison is seeded, so a run is reproducible; tolerances are a multiple of the
simulation's own standard error (``cost_se``, the spread of the per-sample means over
sqrt(samples)), and each test also checks that standard error is small, so that agreement is
not won by a noisy estimate. Four standard errors: a correct simulator fails one comparison with
probability 6e-5.

Conventions checked (DESIGN.md, `models.policy`): an order placed at the start of period t
arrives at the start of period t + L, so the net inventory at the end of period t + L is the
position after ordering at t minus the demand over L + 1 periods; h and p are charged on
end-of-period on hand and backorders, K per order.
"""

from __future__ import annotations

import doctest

import numpy as np
import pytest
from scipy import stats

import engine.simulation.single
from engine.simulation import PolicySimulation, simulate_policy
from models.policy import RQ, SS, BaseStock, optimal_rQ, optimal_sS, stock_targets

Z = 4.0  # standard errors allowed in a comparison with an exact value

# -- exact loss functions of Poisson demand, by summing the pmf -----------------------------------


def poisson_table(mean: float) -> tuple[np.ndarray, np.ndarray]:
    """Values 0, 1, ... and their Poisson(mean) probabilities, all but 1e-15 of the mass."""
    if mean == 0:
        return np.zeros(1), np.ones(1)
    values = np.arange(int(stats.poisson(mean).isf(1e-15)) + 50)
    return values, stats.poisson(mean).pmf(values)


def leftover(mean: float, level: float) -> float:
    """E[(level - D)+], D ~ Poisson(mean)."""
    values, pmf = poisson_table(mean)
    return float(np.sum(np.maximum(level - values, 0) * pmf))


def shortage(mean: float, level: float) -> float:
    """E[(D - level)+], D ~ Poisson(mean)."""
    values, pmf = poisson_table(mean)
    return float(np.sum(np.maximum(values - level, 0) * pmf))


def exceeds(mean: float, level: float) -> float:
    """P(D > level), D ~ Poisson(mean)."""
    values, pmf = poisson_table(mean)
    return float(pmf[values > level].sum())


def simulate(demand, policy, lead_time, h, p, fixed=0.0, *, periods=20_000, samples=100,
             seed=2024, backorders=True) -> PolicySimulation:
    return simulate_policy(demand, policy=policy, lead_time=lead_time, holding_cost=h,
                           shortage_cost=p, fixed_cost=fixed, periods=periods, samples=samples,
                           seed=seed, backorders=backorders)


# -- base stock: exact cost, fill rate and cycle service level -------------------------------------

# (mean per period, L, S, h, p)
BASE_STOCK_INSTANCES = [(5, 0, 7, 1, 9), (10, 2, 34, 1, 4), (20, 1, 45, 2, 19),
                        (3, 4, 18, 0.5, 10), (8, 1, 12, 1, 3)]


@pytest.mark.parametrize(("mean", "lead_time", "level", "h", "p"), BASE_STOCK_INSTANCES)
def test_base_stock_cost_within_one_percent_of_exact(mean, lead_time, level, h, p):
    """Cost per period = h E[(S - D)+] + p E[(D - S)+], D ~ Poisson(mean (L + 1)).

    From the second period on the position after ordering is S every period, so the net
    inventory at the end of each period is S minus the demand over the L + 1 periods before.
    4 million sample-periods put the standard error below 0.25 % of the cost: 1 % is more than
    four standard errors.
    """
    exposure = mean * (lead_time + 1)
    exact = h * leftover(exposure, level) + p * shortage(exposure, level)
    result = simulate(stats.poisson(mean), BaseStock(level), lead_time, h, p, samples=200)
    print(f"base stock {level}, Poisson({mean}), L={lead_time}: simulated {result.cost:.4f} "
          f"+/- {result.cost_se:.4f}, exact {exact:.4f}")
    assert result.cost_se < 0.0025 * exact
    assert result.cost == pytest.approx(exact, rel=0.01)
    assert result.cost == pytest.approx(result.holding_cost + result.shortage_cost, rel=1e-12)
    assert result.avg_on_hand == pytest.approx(leftover(exposure, level), rel=0.01)


@pytest.mark.parametrize(("mean", "lead_time", "level", "h", "p"), BASE_STOCK_INSTANCES)
def test_base_stock_fill_rate_and_cycle_service_level_are_exact(mean, lead_time, level, h, p):
    """With backorders the demand of period t + L is short by
    (D_{L+1} - S)+ - (D_L - S)+ (D_L: demand over the L periods before it), so

        fill rate = 1 - (E[(D_{L+1} - S)+] - E[(D_L - S)+]) / mean;

    period t + L is a stockout period when D_{L+1} > S and its own demand is positive:

        cycle service level = 1 - P(D_{L+1} > S) + P(D_L > S) P(d = 0).
    """
    lead_demand, exposure = mean * lead_time, mean * (lead_time + 1)
    fill_rate = 1 - (shortage(exposure, level) - shortage(lead_demand, level)) / mean
    cycle = 1 - exceeds(exposure, level) + exceeds(lead_demand, level) * np.exp(-mean)
    result = simulate(stats.poisson(mean), BaseStock(level), lead_time, h, p)
    assert result.fill_rate == pytest.approx(fill_rate, abs=Z * result.fill_rate_se)
    assert result.cycle_service_level == pytest.approx(cycle,
                                                       abs=Z * result.cycle_service_level_se)
    assert result.fill_rate_se < 0.002 and result.cycle_service_level_se < 0.002


@pytest.mark.parametrize(("mean", "level", "h", "p"), [(5, 7, 1, 9), (20, 17, 2, 19)])
def test_lost_sales_with_zero_lead_time_is_a_newsvendor_every_period(mean, level, h, p):
    """With L = 0 and lost sales every period starts with S on hand: cost
    h E[(S - D)+] + p E[(D - S)+], fill rate 1 - E[(D - S)+] / mean, cycle service P(D <= S)."""
    result = simulate(stats.poisson(mean), BaseStock(level), 0, h, p, backorders=False)
    assert result.cost == pytest.approx(h * leftover(mean, level) + p * shortage(mean, level),
                                        abs=Z * result.cost_se)
    assert result.fill_rate == pytest.approx(1 - shortage(mean, level) / mean,
                                             abs=Z * result.fill_rate_se)
    assert result.cycle_service_level == pytest.approx(1 - exceeds(mean, level),
                                                       abs=Z * result.cycle_service_level_se)
    assert result.lost_sales == pytest.approx(shortage(mean, level), rel=0.01)
    assert result.avg_backorders == 0.0


# -- (s,S) against Zheng and Federgruen's algorithm ----------------------------------------------

# (mean, L, h, p, K): rows of Zheng and Federgruen (1991), Table I (h = 1, p = 9, K = 64, L = 0,
# as in tests/test_policy_published.py), Snyder and Shen's Example 4.7 and Problem 4.31, and the
# same data with positive lead times (optimal_sS's lead_time argument).
SS_INSTANCES = [(10, 0, 1, 9, 64), (25, 0, 1, 9, 64), (50, 0, 1, 9, 64), (75, 0, 1, 9, 64),
                (6, 0, 1, 4, 5), (4, 0, 40, 125, 150), (6, 2, 1, 4, 5), (10, 1, 1, 9, 64),
                (4, 3, 40, 125, 150)]


@pytest.mark.parametrize(("mean", "lead_time", "h", "p", "fixed"), SS_INSTANCES)
def test_ss_cost_matches_zheng_federgruen(mean, lead_time, h, p, fixed):
    """The simulated cost of the optimal (s,S) is optimal_sS's c(s,S), fixed cost included.

    Same conventions: order when the position is at or below s; G(y) charges the end-of-period
    cost of the period in which an order placed at position y arrives (demand over L + 1
    periods), which is what the simulation charges.
    """
    optimum = optimal_sS(stats.poisson(mean), holding_cost=h, shortage_cost=p,
                         fixed_cost=fixed, lead_time=lead_time)
    result = simulate(stats.poisson(mean), optimum.policy, lead_time, h, p, fixed)
    print(f"(s,S) = ({optimum.s}, {optimum.S}), Poisson({mean}), L={lead_time}: simulated "
          f"{result.cost:.4f} +/- {result.cost_se:.4f}, Zheng-Federgruen {optimum.cost:.4f}")
    assert result.cost_se < 0.001 * optimum.cost
    assert result.cost == pytest.approx(optimum.cost, abs=Z * result.cost_se)
    assert result.cost == pytest.approx(
        result.holding_cost + result.shortage_cost + result.ordering_cost, rel=1e-12)


def test_ss_simulation_tells_a_worse_policy_apart():
    """(s,S) = (6, 40) costs 35.02 for Zheng and Federgruen's first row; (10, 40) costs more,
    by far more than the noise: the comparison above has teeth."""
    optimum = simulate(stats.poisson(10), SS(6, 40), 0, 1, 9, 64)
    worse = simulate(stats.poisson(10), SS(10, 40), 0, 1, 9, 64)
    assert worse.cost - optimum.cost > 10 * (optimum.cost_se + worse.cost_se)


# -- (r,Q) against Federgruen and Zheng's algorithm ----------------------------------------------


def rq_cost(r: int, Q: int, rate: float, lead_time: float, h: float, p: float,
            fixed: float) -> float:
    """Continuous-review (r,Q) cost, Poisson demand: [K rate + sum_{y=r+1}^{r+Q} G(y)] / Q."""
    lead_demand = rate * lead_time
    window = sum(h * leftover(lead_demand, y) + p * shortage(lead_demand, y)
                 for y in range(r + 1, r + Q + 1))
    return (fixed * rate + window) / Q


# (rate per period, L in periods, h, p, K): Snyder and Shen's Example 5.8 (with L + 1 = 2) and
# Problem 5.2's costs, and two more.
RQ_INSTANCES = [(1.5, 1, 20, 150, 100), (12, 0, 4, 28, 4), (5, 3, 1, 10, 30), (0.4, 2, 2, 30, 20)]


@pytest.mark.parametrize(("rate", "lead_time", "h", "p", "fixed"), RQ_INSTANCES)
def test_rq_periodic_review_is_continuous_review_with_one_more_period_of_lead_time(
        rate, lead_time, h, p, fixed):
    """Periodic (r,Q) with Poisson(rate) demand per period and lead time L has exactly the
    long-run cost of continuous review with lead time L + 1.

    Ordering the n Q that lift the position above r keeps it on r+1, ..., r+Q, where it is
    uniform (the transition matrix is doubly stochastic), and the net inventory at the end of
    period t + L is that position minus the demand over L + 1 periods, Poisson(rate (L + 1));
    the n orders cost K each, K rate / Q per period. That is Federgruen and Zheng's
    C(r,Q) = [K rate + sum G(y)] / Q with lead-time demand over L + 1, so
    ``optimal_rQ(rate, lead_time=L + 1)`` gives both the policy and its exact cost.
    """
    optimum = optimal_rQ(rate, holding_cost=h, shortage_cost=p, fixed_cost=fixed,
                         lead_time=lead_time + 1)
    result = simulate(stats.poisson(rate), optimum.policy, lead_time, h, p, fixed)
    print(f"(r,Q) = ({optimum.r}, {optimum.Q}), Poisson({rate}), L={lead_time}: simulated "
          f"{result.cost:.4f} +/- {result.cost_se:.4f}, Federgruen-Zheng {optimum.cost:.4f}")
    assert result.cost_se < 0.002 * optimum.cost
    assert result.cost == pytest.approx(optimum.cost, abs=Z * result.cost_se)
    assert result.order_frequency == pytest.approx(rate / optimum.Q, rel=0.01)


def test_rq_continuous_review_by_short_periods():
    """Example 5.8 of Snyder and Shen in continuous review (lambda = 1.5, L = 2 years,
    h = 20, p = 150, K = 100: r* = 3, Q* = 5, cost 107.92 per year), simulated with periods
    of Delta = 1/50 year: Poisson(1.5 Delta) demand per period, lead time 100 periods, h Delta
    and p Delta per period, cost per year = cost per period / Delta.

    By the test above this is continuous review with lead time L + Delta exactly; the
    approximation error C(L + Delta) - C(L) = 0.09 per year (0.08 %) is added to the
    tolerance.
    """
    delta = 1 / 50
    optimum = optimal_rQ(1.5, holding_cost=20, shortage_cost=150, fixed_cost=100, lead_time=2)
    assert (optimum.r, optimum.Q) == (3, 5)
    assert rq_cost(3, 5, 1.5, 2, 20, 150, 100) == pytest.approx(optimum.cost, rel=1e-12)
    shifted = rq_cost(3, 5, 1.5, 2 + delta, 20, 150, 100)
    result = simulate(stats.poisson(1.5 * delta), optimum.policy, 100, 20 * delta,
                      150 * delta, 100, periods=100_000, samples=120)
    per_year, se = result.cost / delta, result.cost_se / delta
    print(f"(r,Q) = (3, 5) in periods of 1/50 year: simulated {per_year:.3f} +/- {se:.3f} per "
          f"year, continuous review {optimum.cost:.3f}, with lead time 2.02 {shifted:.3f}")
    assert se < 0.002 * optimum.cost
    assert per_year == pytest.approx(shifted, abs=Z * se)
    assert per_year == pytest.approx(optimum.cost, abs=Z * se + abs(shifted - optimum.cost))


# -- service targets from stock_targets ----------------------------------------------------------

# (demand, mean, variance, L, target) with review every period (R = 1)
TARGET_INSTANCES = [("poisson", 4.0, 4.0, 2, 0.95), ("poisson", 1.5, 1.5, 1, 0.98),
                    ("normal", 40.0, 90.0, 1, 0.98), ("normal", 40.0, 90.0, 3, 0.9)]


def per_period_demand(kind: str, mean: float, variance: float):
    return stats.poisson(mean) if kind == "poisson" else stats.norm(mean, np.sqrt(variance))


@pytest.mark.parametrize(("kind", "mean", "variance", "lead_time", "target"), TARGET_INSTANCES)
@pytest.mark.parametrize("service", ["fill_rate", "cycle"])
def test_stock_targets_are_met_in_simulation(kind, mean, variance, lead_time, target, service):
    """The (s, S) of `stock_targets` (protection interval L + R, R = 1) meets its target.

    With review every period the position after a review is above s, so the net inventory at
    the end of period t + L is above s - D_{L+1}: a stockout needs D_{L+1} > s (probability at
    most 1 - alpha for the cycle target) and the unmet demand of a period is at most
    (D_{L+1} - s)+ (mean at most (1 - beta) m for the fill-rate target). The tightest policy
    in that class keeps the position at s: base stock at s, which must meet the target too.
    """
    targets = stock_targets(mean, variance, lead_time=lead_time, review_period=1,
                            service_level=target, service=service, distribution=kind)
    s, S = float(targets.reorder_point), float(targets.order_up_to)
    demand = per_period_demand(kind, mean, variance)
    for policy in (SS(s, S), BaseStock(s)):
        result = simulate(demand, policy, lead_time, 1, 10, samples=50)
        achieved = result.fill_rate if service == "fill_rate" else result.cycle_service_level
        print(f"{service} {target} for {kind}({mean}, {variance}), L={lead_time}: {policy} "
              f"achieves {achieved:.5f}")
        assert achieved >= target


@pytest.mark.parametrize(("kind", "mean", "variance", "lead_time", "target"), TARGET_INSTANCES)
def test_one_unit_below_the_cycle_target_misses_it(kind, mean, variance, lead_time, target):
    """s is the smallest level with P(D_{L+1} <= s) >= alpha, so base stock at s - 1 stocks
    out in more than 1 - alpha of the periods: the test above can fail."""
    targets = stock_targets(mean, variance, lead_time=lead_time, service_level=target,
                            distribution=kind)
    result = simulate(per_period_demand(kind, mean, variance),
                      BaseStock(float(targets.reorder_point) - 1), lead_time, 1, 10, samples=50)
    assert result.cycle_service_level < target - Z * result.cycle_service_level_se


# -- determinism, the warm-up default, the docstring ---------------------------------------------


def test_same_seed_same_results_different_seed_different_results():
    arguments = {"policy": RQ(12, 20), "lead_time": 2, "holding_cost": 1.0,
                 "shortage_cost": 9.0, "fixed_cost": 30.0, "periods": 500, "samples": 20}
    first = simulate_policy(stats.nbinom(3, 0.3), seed=11, **arguments)
    again = simulate_policy(stats.nbinom(3, 0.3), seed=11, **arguments)
    other = simulate_policy(stats.nbinom(3, 0.3), seed=12, **arguments)
    assert first == again
    assert other.cost != first.cost and other.fill_rate != first.fill_rate


def test_default_warmup_is_a_tenth_of_the_periods():
    result = simulate_policy(stats.poisson(3), policy=BaseStock(5), lead_time=1,
                             holding_cost=1, shortage_cost=4, periods=1234, samples=3, seed=0)
    assert (result.warmup, result.periods, result.samples) == (123, 1111, 3)


def test_one_sample_has_no_standard_error():
    result = simulate_policy(stats.poisson(3), policy=SS(2, 9), lead_time=0, holding_cost=1,
                             shortage_cost=4, fixed_cost=2, periods=100, samples=1, seed=0)
    assert np.isnan(result.cost_se) and np.isnan(result.fill_rate_se)
    assert np.isfinite(result.cost)


def test_docstring_example():
    outcome = doctest.testmod(engine.simulation.single, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert outcome.attempted > 0
    assert outcome.failed == 0
