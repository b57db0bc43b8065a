"""The economic order quantity (EOQ): deterministic demand, no shortages."""

from __future__ import annotations

import math
from dataclasses import dataclass

from models.checks import positive


@dataclass(frozen=True)
class EOQResult:
    """Economic order quantity and its cost.

    Attributes
    ----------
    Q : float
        Order quantity Q* = sqrt(2 K lambda / h), units.
    cost : float
        Ordering plus holding cost per period at Q*, g(Q*) = sqrt(2 K h lambda), cost units per
        period.
    """

    Q: float
    cost: float


def eoq(*, fixed_cost: float, holding_cost: float, demand_rate: float) -> EOQResult:
    """Economic order quantity for constant demand, instantaneous replenishment, no shortages.

    The cost per period of ordering Q at a time is g(Q) = K lambda / Q + h Q / 2, minimised at
    Q* = sqrt(2 K lambda / h) with g(Q*) = sqrt(2 K h lambda).

    Parameters
    ----------
    fixed_cost : float
        Fixed cost K > 0 per order, cost units per order.
    holding_cost : float
        Holding cost h > 0, cost units per unit per period.
    demand_rate : float
        Demand rate lambda > 0, units per period.

    Returns
    -------
    EOQResult
        ``Q`` (Q*) and ``cost`` (g(Q*) per period).

    Raises
    ------
    TypeError
        If an argument is not a real number.
    ValueError
        If an argument is not > 0 or not finite.

    References
    ----------
    L. V. Snyder and Z.-J. M. Shen, *Fundamentals of Supply Chain Theory*, 2nd ed., Wiley,
    2019, chapter 3 (equation (3.4)); F. W. Harris, "How many parts to make at
    once", *Factory, The Magazine of Management* 10(2), 135-136, 1913.

    Examples
    --------
    Example 3.1 of Snyder and Shen (K = 8, h = 0.225, lambda = 1300 per year):

    >>> result = eoq(fixed_cost=8, holding_cost=0.225, demand_rate=1300)
    >>> round(result.Q, 4), round(result.cost, 4)
    (304.0468, 68.4105)
    """
    fixed, holding, rate = _eoq_iv(fixed_cost, holding_cost, demand_rate)
    return EOQResult(math.sqrt(2.0 * fixed * rate / holding),
                     math.sqrt(2.0 * fixed * holding * rate))


def _eoq_iv(fixed_cost, holding_cost, demand_rate) -> tuple[float, float, float]:
    return (positive(fixed_cost, "fixed_cost"), positive(holding_cost, "holding_cost"),
            positive(demand_rate, "demand_rate"))
