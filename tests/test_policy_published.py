"""Published reference values: Zheng and Federgruen (1991) and Snyder and Shen's textbook.

Sources of the numbers:

- Zheng and Federgruen (1991), "Finding optimal (s,S) policies is about as simple as evaluating
  a single policy", Operations Research 39(4), 654-665, Table I: Poisson demand, h = 1, p = 9,
  K = 64, zero lead time; optimal s*, S* and cost c(s*,S*) to three decimals. The values are
  transcribed as in the stockpyl project (LarrySnyder/stockpyl, tests/test_ss.py,
  ``test_fz_instances``).
- L. V. Snyder and Z.-J. M. Shen, *Fundamentals of Supply Chain Theory*, 2nd ed., Wiley, 2019
  (examples and problems as numbered there). The parameters are those of stockpyl's instance
  file (src/stockpyl/datasets/stockpyl_instances.json) and the full-precision answers those of
  stockpyl's tests (tests/test_newsvendor.py, test_ss.py, test_rq.py, test_eoq.py), which
  reproduce the book's answers to the digits printed there.

Every value is recomputed here by `models.policy`; stockpyl is not imported.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from models.policy import eoq, newsvendor, optimal_rQ, optimal_sS

# -- Zheng and Federgruen (1991), Table I --------------------------------------------------------

# (mean, s*, S*, c*) with h = 1, p = 9, K = 64
ZHENG_FEDERGRUEN_TABLE = [
    (10, 6, 40, 35.022), (15, 10, 49, 42.698), (20, 14, 62, 49.173), (25, 19, 56, 54.262),
    (30, 23, 66, 57.819), (35, 28, 77, 61.215), (40, 33, 87, 64.512), (45, 37, 97, 67.776),
    (50, 42, 108, 70.975), (55, 47, 118, 74.149), (60, 52, 129, 77.306), (65, 56, 75, 78.518),
    (70, 62, 81, 79.037), (75, 67, 86, 79.554), (21, 15, 65, 50.406), (22, 16, 68, 51.632),
    (23, 17, 52, 52.757), (24, 18, 54, 53.518), (51, 43, 110, 71.611), (52, 44, 112, 72.246),
    (59, 51, 126, 76.679), (61, 52, 131, 77.929), (63, 54, 73, 78.287), (64, 55, 74, 78.402),
]


@pytest.mark.parametrize(("mean", "s", "S", "cost"), ZHENG_FEDERGRUEN_TABLE)
def test_zheng_federgruen_table(mean, s, S, cost):
    """Zheng and Federgruen (1991), Table I (Poisson demand, h = 1, p = 9, K = 64).

    Their s is the reorder point (order when the inventory position is at or below s) and
    their cost includes the fixed ordering cost, per period; both are our conventions.
    """
    result = optimal_sS(stats.poisson(mean), holding_cost=1, shortage_cost=9, fixed_cost=64)
    assert (result.s, result.S) == (s, S)
    assert result.cost == pytest.approx(cost, abs=5e-4)


# -- Snyder and Shen (2019), chapter 4: newsvendor -----------------------------------------------


def test_example_4_1_newsvendor_normal():
    """Example 4.1 (and 4.3): h = 0.18, p = 0.70, D ~ N(50, 8): S* = 56.60, g(S*) = 2.00."""
    result = newsvendor(stats.norm(50, 8), holding_cost=0.18, shortage_cost=0.7)
    assert result.level == pytest.approx(56.603955927433887, abs=1e-6)
    assert result.cost == pytest.approx(1.997605193176645, abs=1e-6)
    assert result.critical_ratio == pytest.approx(0.7 / 0.88)
    assert result.policy.level == result.level


def test_example_4_2_newsvendor_from_revenue_and_salvage():
    """Example 4.2: revenue r = 1, purchase cost c = 0.30, salvage v = 0.12, D ~ N(50, 8).

    Overage h = c - v = 0.18 and underage p = r - c = 0.70 give Example 4.1's answer.
    """
    revenue, purchase_cost, salvage_value = 1.0, 0.3, 0.12
    result = newsvendor(stats.norm(50, 8), holding_cost=purchase_cost - salvage_value,
                        shortage_cost=revenue - purchase_cost)
    assert result.level == pytest.approx(56.603955927433887, abs=1e-6)
    assert result.cost == pytest.approx(1.997605193176645, abs=1e-6)


def test_example_4_4_base_stock_with_lead_time():
    """Example 4.4: the Example 4.1 data with lead time L = 4 (exposure over L+1 = 5 periods):
    S* = 264.77, g(S*) = 4.47."""
    periods = 4 + 1
    result = newsvendor(stats.norm(50 * periods, 8 * np.sqrt(periods)), holding_cost=0.18,
                        shortage_cost=0.7)
    assert result.level == pytest.approx(2.647668943741548e02, abs=1e-6)
    assert result.cost == pytest.approx(4.466781004149578, abs=1e-6)


def test_problem_4_1_newsvendor_normal():
    """Problem 4.1: h = 65 - 22 = 43, p = 129 - 65 + 15 = 79, D ~ N(900, 60)."""
    result = newsvendor(stats.norm(900, 60), holding_cost=43, shortage_cost=79)
    assert result.level == pytest.approx(9.227214038234755e02, abs=1e-6)
    assert result.cost == pytest.approx(2.718196781782411e03, abs=1e-6)


def test_problem_4_8b_newsvendor_lognormal():
    """Problem 4.8(b): h = 1, p = 0.1765, ln D ~ N(6, 0.3^2)."""
    result = newsvendor(stats.lognorm(0.3, 0, np.exp(6)), holding_cost=1, shortage_cost=0.1765)
    assert result.level == pytest.approx(2.956266448071368e02, abs=1e-6)
    assert result.cost == pytest.approx(29.442543582135290, abs=1e-6)


def test_example_4_7_newsvendor_poisson_without_fixed_cost():
    """Example 4.7 without the fixed cost: h = 1, p = 4, D ~ Poisson(6): S* = 8."""
    result = newsvendor(stats.poisson(6), holding_cost=1, shortage_cost=4)
    assert result.level == 8
    assert isinstance(result.level, int)
    assert result.cost == pytest.approx(3.570106945770946, abs=1e-9)


def test_problem_4_8a_newsvendor_poisson():
    """Problem 4.8(a): h = 200, p = 270, D ~ Poisson(18): S* = 19."""
    result = newsvendor(stats.poisson(18), holding_cost=200, shortage_cost=270)
    assert result.level == 19
    assert result.cost == pytest.approx(7.860884409351115e02, abs=1e-6)


def test_problem_4_7b_newsvendor_discrete_table():
    """Problem 4.7(b): h = 500,000, p = 1,000,000, demand 1..8 with the given probabilities:
    S* = 5 with expected cost 1,225,000."""
    demand = stats.rv_discrete(values=([1, 2, 3, 4, 5, 6, 7, 8],
                                       [0.25, 0.05, 0.1, 0.2, 0.15, 0.1, 0.1, 0.05]))
    result = newsvendor(demand, holding_cost=500_000, shortage_cost=1_000_000)
    assert result.level == 5
    assert result.cost == pytest.approx(1_225_000, abs=1e-6)


# -- Snyder and Shen (2019), section 4.5: (s,S) ----------------------------------------------------


def test_example_4_7_sS_poisson():
    """Example 4.7: h = 1, p = 4, K = 5, D ~ Poisson(6): s* = 4, S* = 10, cost 8.034."""
    result = optimal_sS(stats.poisson(6), holding_cost=1, shortage_cost=4, fixed_cost=5)
    assert (result.s, result.S) == (4, 10)
    assert result.cost == pytest.approx(8.034111561471644, abs=1e-6)
    assert result.policy.s == 4 and result.policy.S == 10


def test_problem_4_31_sS_poisson():
    """Problem 4.31: h = 40, p = 125, K = 150, D ~ Poisson(4): s* = 2, S* = 7."""
    result = optimal_sS(stats.poisson(4), holding_cost=40, shortage_cost=125, fixed_cost=150)
    assert (result.s, result.S) == (2, 7)
    assert result.cost == pytest.approx(2.235748295669688e02, abs=1e-6)


# -- Snyder and Shen (2019), chapter 5: (r,Q) with Poisson demand --------------------------------


def test_example_5_8_rQ_poisson():
    """Example 5.8: h = 20, p = 150, K = 100, lambda = 1.5 per year, L = 2 years:
    r* = 3, Q* = 5, cost 107.92 per year."""
    result = optimal_rQ(1.5, holding_cost=20, shortage_cost=150, fixed_cost=100, lead_time=2)
    assert (result.r, result.Q) == (3, 5)
    assert result.cost == pytest.approx(1.079235806331498e02, abs=1e-6)
    assert (result.policy.r, result.policy.Q) == (3, 5)


def test_problem_5_2_rQ_poisson():
    """Problem 5.2: h = 4, p = 28, K = 4, lambda = 12, L = 0.5: r* = 6, Q* = 7."""
    result = optimal_rQ(12, holding_cost=4, shortage_cost=28, fixed_cost=4, lead_time=0.5)
    assert (result.r, result.Q) == (6, 7)
    assert result.cost == pytest.approx(28.241312842169155, abs=1e-6)


# -- Snyder and Shen (2019), chapter 3: EOQ ------------------------------------------------------


def test_example_3_1_eoq():
    """Example 3.1: K = 8, h = 0.75 x 0.30 = 0.225, lambda = 1300 per year:
    Q* = 304.05, g(Q*) = 68.41."""
    result = eoq(fixed_cost=8, holding_cost=0.75 * 0.3, demand_rate=1300)
    assert pytest.approx(304.0467800264368, abs=1e-6) == result.Q
    assert result.cost == pytest.approx(68.410525505948272, abs=1e-6)


def test_problem_3_1_eoq():
    """Problem 3.1: K = 2250, h = 275, lambda = 500 x 365 per year."""
    result = eoq(fixed_cost=2250, holding_cost=275, demand_rate=500 * 365)
    assert pytest.approx(1728.109844993551, abs=1e-6) == result.Q
    assert result.cost == pytest.approx(475230.2073732266, abs=1e-6)
