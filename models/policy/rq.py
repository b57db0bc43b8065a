"""Optimal (r,Q) policy for continuous review with Poisson demand: Federgruen and Zheng (1992)."""

from __future__ import annotations

from dataclasses import dataclass

from scipy import stats

from models.checks import nonnegative, positive
from models.policy._integer_demand import IntegerDemand
from models.policy.types import RQ


@dataclass(frozen=True)
class RQResult:
    """Optimal (r,Q) policy and its expected cost.

    Attributes
    ----------
    r : int
        Reorder point r, units: order Q whenever the inventory position is at or below r.
    Q : int
        Order quantity Q >= 1, units.
    cost : float
        Long-run expected cost per period, fixed ordering cost included, cost units per period.
    """

    r: int
    Q: int
    cost: float

    @property
    def policy(self) -> RQ:
        """The optimal policy as an `RQ`."""
        return RQ(self.r, self.Q)


def optimal_rQ(demand_rate: float, *, holding_cost: float, shortage_cost: float,
               fixed_cost: float, lead_time: float) -> RQResult:
    """Optimal (r,Q) policy for Poisson demand, continuous review and backorders.

    Under an (r,Q) policy with unit Poisson demand the inventory position is uniform on
    r+1, ..., r+Q, and the inventory level at time t+L is the position at t minus the lead-time
    demand D_L ~ Poisson(lambda L). The long-run cost per period is therefore

        C(r,Q) = [K lambda + sum_{y=r+1}^{r+Q} G(y)] / Q,
        G(y) = h E[(y - D_L)+] + p E[(D_L - y)+].

    G is convex on the integers, so for each Q the best window {r+1, ..., r+Q} holds the Q
    smallest values of G; growing Q adds the smaller of G(r) and G(r+Q+1). Writing g_(Q+1) for
    that next value, C(Q+1) < C(Q) exactly when g_(Q+1) < C(Q), and once g_(Q+1) >= C(Q) it stays
    so (g is non-decreasing and C(Q+1) <= g_(Q+1)). The first Q at which g_(Q+1) >= C(Q) is
    therefore globally optimal; this is the algorithm of Federgruen and Zheng (1992).

    Parameters
    ----------
    demand_rate : float
        Poisson demand rate lambda > 0, units per period.
    holding_cost : float
        Holding cost h > 0, cost units per unit on hand per period.
    shortage_cost : float
        Shortage cost p > 0, cost units per unit backordered per period.
    fixed_cost : float
        Fixed cost K >= 0 per order, cost units per order.
    lead_time : float
        Lead time L >= 0, periods (need not be whole): an order placed at time t arrives at
        t+L.

    Returns
    -------
    RQResult
        ``r``, ``Q``, ``cost`` (per period, fixed cost included) and ``policy``.

    Raises
    ------
    TypeError
        If an argument is not a real number.
    ValueError
        If ``demand_rate``, ``holding_cost`` or ``shortage_cost`` is not > 0, or ``fixed_cost``
        or ``lead_time`` is negative or not finite.

    References
    ----------
    A. Federgruen and Y.-S. Zheng, "An efficient algorithm for computing an optimal (r,Q) policy
    in continuous review stochastic inventory systems", *Operations Research* 40(4), 808-813,
    1992. L. V. Snyder and Z.-J. M. Shen, *Fundamentals of Supply Chain Theory*, 2nd ed.,
    Wiley, 2019, chapter 5 (equation (5.48)).

    Examples
    --------
    Example 5.8 of Snyder and Shen (h = 20, p = 150, K = 100, lambda = 1.5, L = 2):

    >>> result = optimal_rQ(1.5, holding_cost=20, shortage_cost=150, fixed_cost=100,
    ...                     lead_time=2)
    >>> result.r, result.Q, round(result.cost, 6)
    (3, 5, 107.923581)
    """
    rate, h, p, fixed, lead = _optimal_rQ_iv(demand_rate, holding_cost, shortage_cost,
                                             fixed_cost, lead_time)
    lead_time_demand = IntegerDemand.from_frozen(stats.poisson(rate * lead), "lead-time demand")

    def G(level: int) -> float:
        return float(lead_time_demand.cost([level], h, p)[0])

    best = lead_time_demand.quantile(p / (p + h))  # minimiser of G
    reorder_point, quantity = best - 1, 1
    window_total = G(best)
    cost = (fixed * rate + window_total) / quantity
    while True:
        below, above = G(reorder_point), G(reorder_point + quantity + 1)
        step = min(below, above)
        if step >= cost:
            return RQResult(int(reorder_point), int(quantity), float(cost))
        if below < above:
            reorder_point -= 1
        window_total += step
        quantity += 1
        cost = (fixed * rate + window_total) / quantity


def _optimal_rQ_iv(demand_rate, holding_cost, shortage_cost, fixed_cost, lead_time):
    return (positive(demand_rate, "demand_rate"), positive(holding_cost, "holding_cost"),
            positive(shortage_cost, "shortage_cost"), nonnegative(fixed_cost, "fixed_cost"),
            nonnegative(lead_time, "lead_time"))
