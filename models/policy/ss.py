"""Optimal (s,S) policy for periodic review with backorders: Zheng and Federgruen (1991)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from models.checks import frozen_distribution, nonnegative, positive, whole
from models.policy._integer_demand import IntegerDemand
from models.policy.types import SS


@dataclass(frozen=True)
class SSResult:
    """Optimal (s,S) policy and its expected cost.

    Attributes
    ----------
    s : int
        Reorder point s, units: order when the inventory position is at or below s.
    S : int
        Order-up-to level S, units.
    cost : float
        Long-run expected cost per period c(s,S), including the fixed ordering cost (K times the
        order frequency) and the holding and shortage costs, cost units per period.
    """

    s: int
    S: int
    cost: float

    @property
    def policy(self) -> SS:
        """The optimal policy as an `SS`."""
        return SS(self.s, self.S)


def optimal_sS(demand, *, holding_cost: float, shortage_cost: float, fixed_cost: float,
               lead_time: int = 0) -> SSResult:
    """Optimal (s,S) policy for i.i.d. discrete demand, by Zheng and Federgruen's algorithm.

    Periodic review every period, backorders, stationary costs. At the start of a period, if the
    inventory position is **at or below s**, order up to S (this is the convention of Zheng and
    Federgruen, 1991, and of Snyder and Shen, 2019: s is the reorder point, the largest inventory
    position at which an order is placed). The long-run cost per period of (s,S) is

        c(s,S) = [K + sum_{j=0}^{S-s-1} m(j) G(S-j)] / M(S-s),

    where G(y) = h E[(y - D_{L+1})+] + p E[(D_{L+1} - y)+] is the expected holding and shortage
    cost charged at the end of the period in which an order placed with inventory position y
    arrives (demand over the L+1 periods of exposure), m(0) = 1 / (1 - P(D=0)),
    m(j) = m(0) sum_{l=1}^{j} P(D=l) m(j-l) and M(n) = sum_{j<n} m(j) (the renewal function of
    per-period demand: M(S-s) is the expected number of periods between orders). The algorithm
    searches S upward from the minimiser of G and moves s monotonically, using that c is
    bounded by G at the optimum; it returns a global optimum.

    Parameters
    ----------
    demand : scipy.stats frozen discrete distribution
        Demand D per period, units, on the non-negative integers with P(D = 0) < 1
        (e.g. ``scipy.stats.poisson(10)``).
    holding_cost : float
        Holding cost h > 0 per unit on hand at the end of a period, cost units per unit per
        period.
    shortage_cost : float
        Shortage cost p > 0 per unit backordered at the end of a period, cost units per unit per
        period.
    fixed_cost : float
        Fixed cost K >= 0 per order, cost units per order.
    lead_time : int, default 0
        Lead time L >= 0, periods: an order placed at the start of period t arrives at the start
        of period t+L. G uses the demand over L+1 periods (the (L+1)-fold convolution of
        ``demand``, computed exactly on its support).

    Returns
    -------
    SSResult
        ``s``, ``S``, ``cost`` (c(s,S) per period, fixed cost included) and ``policy``.

    Raises
    ------
    TypeError
        If ``demand`` is not a frozen scipy.stats distribution or is continuous, or an argument
        has the wrong type.
    ValueError
        If a cost is out of range, ``lead_time`` < 0, or ``demand`` has no support, negative
        values, or is zero with probability one.

    References
    ----------
    Y.-S. Zheng and A. Federgruen, "Finding optimal (s,S) policies is about as simple as
    evaluating a single policy", *Operations Research* 39(4), 654-665, 1991.
    L. V. Snyder and Z.-J. M. Shen, *Fundamentals of Supply Chain Theory*, 2nd ed., Wiley, 2019,
    chapter 4 (Algorithm 4.2).

    Examples
    --------
    Example 4.7 of Snyder and Shen (h = 1, p = 4, K = 5, Poisson demand with mean 6):

    >>> from scipy import stats
    >>> result = optimal_sS(stats.poisson(6), holding_cost=1, shortage_cost=4, fixed_cost=5)
    >>> result.s, result.S, round(result.cost, 6)
    (4, 10, 8.034112)
    """
    per_period, h, p, fixed, lead = _optimal_sS_iv(demand, holding_cost, shortage_cost,
                                                   fixed_cost, lead_time)
    exposure = per_period.total(lead + 1) if lead else per_period
    pmf_from_zero = np.concatenate([np.zeros(per_period.offset), per_period.pmf])
    evaluate = _Evaluator(pmf_from_zero, exposure, h, p, fixed)
    G = evaluate.single

    # Step 0: S0 = y*, the minimiser of G; s0 = the largest s < y* with c(s, y*) <= G(s).
    order_up_to = exposure.quantile(p / (p + h))
    s = order_up_to - 1
    while evaluate(s, order_up_to) > G(s):
        s -= 1
    best_cost = evaluate(s, order_up_to)

    # Step 1: try S = S0 + 1, S0 + 2, ... while G(S) <= c*; on an improvement raise s.
    candidate = order_up_to + 1
    while G(candidate) <= best_cost:
        if evaluate(s, candidate) < best_cost:
            order_up_to = candidate
            while evaluate(s, order_up_to) <= G(s + 1):
                s += 1
            best_cost = evaluate(s, order_up_to)
        candidate += 1
    return SSResult(int(s), int(order_up_to), float(best_cost))


def _optimal_sS_iv(demand, holding_cost, shortage_cost, fixed_cost, lead_time):
    if not frozen_distribution(demand, "demand"):
        raise TypeError("demand must be a discrete distribution on the non-negative integers "
                        "(e.g. scipy.stats.poisson(10)); found a continuous one")
    h = positive(holding_cost, "holding_cost")
    p = positive(shortage_cost, "shortage_cost")
    fixed = nonnegative(fixed_cost, "fixed_cost")
    lead = whole(lead_time, "lead_time")
    low = float(demand.support()[0])
    if low < 0:
        raise ValueError(f"demand must be non-negative (backorders, not returns); found a "
                         f"support starting at {low}")
    table = IntegerDemand.from_frozen(demand)
    if table.pmf[0] >= 1.0 - 1e-12 and table.offset == 0:
        raise ValueError("demand must be positive with positive probability; found "
                         "P(D = 0) = 1 (no order would ever be needed)")
    return table, h, p, fixed, lead


class _Evaluator:
    """c(s,S) and G(y) with the renewal quantities m and M grown on demand and cached."""

    def __init__(self, pmf: np.ndarray, exposure: IntegerDemand, holding_cost: float,
                 shortage_cost: float, fixed_cost: float):
        self.pmf = pmf  # P(D = 0), P(D = 1), ... of one period's demand
        self.exposure = exposure
        self.h, self.p, self.fixed = holding_cost, shortage_cost, fixed_cost
        self.m = np.empty(0)

    def single(self, level: int) -> float:
        """G(level), cost units per period."""
        return float(self.exposure.cost(np.array([level]), self.h, self.p)[0])

    def _renewal(self, count: int) -> np.ndarray:
        """m(0), ..., m(count - 1), extending the cached recursion as needed."""
        if self.m.size < count:
            size = max(count, 2 * self.m.size, 64)
            m = np.empty(size)
            m[:self.m.size] = self.m
            pmf = np.zeros(size)
            pmf[:min(size, self.pmf.size)] = self.pmf[:size]
            m[0] = 1.0 / (1.0 - pmf[0])
            for j in range(max(self.m.size, 1), size):
                # m(j) = m(0) * sum_{l=1}^{j} P(D=l) m(j-l)
                m[j] = m[0] * np.dot(pmf[1:j + 1], m[j - 1::-1])
            self.m = m
        return self.m[:count]

    def __call__(self, s: int, order_up_to: int) -> float:
        """c(s, S), the long-run expected cost per period of the (s,S) policy."""
        gap = order_up_to - s
        m = self._renewal(gap)
        costs = self.exposure.cost(order_up_to - np.arange(gap), self.h, self.p)
        return float((self.fixed + np.dot(m, costs)) / m.sum())
