"""The newsvendor: the base-stock level that minimises one period's expected cost, exactly."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import integrate

from models.checks import frozen_distribution, positive
from models.policy._integer_demand import IntegerDemand
from models.policy.types import BaseStock

_QUAD_TAIL = 1e-15


@dataclass(frozen=True)
class NewsvendorResult:
    """Optimal newsvendor level and its expected cost.

    Attributes
    ----------
    level : int or float
        Optimal base-stock level S*, units; an int for discrete demand.
    cost : float
        Expected cost per period g(S*) = h E[(S*-D)+] + p E[(D-S*)+], cost units per period.
    critical_ratio : float
        p / (p + h).
    """

    level: int | float
    cost: float
    critical_ratio: float

    @property
    def policy(self) -> BaseStock:
        """The optimal policy as a `BaseStock`."""
        return BaseStock(self.level)


def newsvendor(demand, *, holding_cost: float, shortage_cost: float) -> NewsvendorResult:
    """Optimal base-stock level for one period of demand ``demand``.

    The level S* is the critical-ratio quantile of demand: for a continuous distribution
    F(S*) = p / (p + h); for a discrete one the smallest integer S* with F(S*) >= p / (p + h).
    Its expected cost is computed exactly, not from a normal formula:

        g(S) = h E[(S - D)+] + p E[(D - S)+],

    integrated numerically (``scipy.integrate.quad`` over F and 1 - F) for a continuous
    distribution and summed over the support for a discrete one.

    For a base-stock policy with lead time L reviewed every period, pass the demand over the
    L+1 periods of exposure (e.g. ``scipy.stats.norm(mu * (L + 1), sigma * sqrt(L + 1))``).

    Parameters
    ----------
    demand : scipy.stats frozen distribution
        Demand D in the period, units; continuous (``scipy.stats.norm(50, 8)``) or discrete on
        the integers (``scipy.stats.poisson(6)``), with a finite mean.
    holding_cost : float
        Holding cost h > 0 per unit left over at the end of the period, cost units per unit.
    shortage_cost : float
        Shortage cost p > 0 per unit of unmet demand (backordered) at the end of the period,
        cost units per unit.

    Returns
    -------
    NewsvendorResult
        ``level`` (S*), ``cost`` (g(S*), per period), ``critical_ratio`` and ``policy``.

    Raises
    ------
    TypeError
        If ``demand`` is not a frozen scipy.stats distribution, or a cost is not a number.
    ValueError
        If a cost is not > 0, or ``demand`` has no support or no finite mean.

    References
    ----------
    L. V. Snyder and Z.-J. M. Shen, *Fundamentals of Supply Chain Theory*, 2nd ed., Wiley,
    2019, chapter 4 (the newsvendor problem, continuous and discrete demand).

    Examples
    --------
    Example 4.1 of Snyder and Shen (h = 0.18, p = 0.70, D ~ N(50, 8)):

    >>> from scipy import stats
    >>> result = newsvendor(stats.norm(50, 8), holding_cost=0.18, shortage_cost=0.7)
    >>> round(result.level, 4), round(result.cost, 4)
    (56.604, 1.9976)
    """
    discrete, h, p = _newsvendor_iv(demand, holding_cost, shortage_cost)
    ratio = p / (p + h)
    if discrete:
        table = IntegerDemand.from_frozen(demand)
        level = table.quantile(ratio)
        cost = float(table.cost(np.array([level]), h, p)[0])
        return NewsvendorResult(level, cost, ratio)
    level = float(demand.ppf(ratio))
    leftover, shortage = _continuous_expectations(demand, level)
    return NewsvendorResult(level, h * leftover + p * shortage, ratio)


def _newsvendor_iv(demand, holding_cost, shortage_cost) -> tuple[bool, float, float]:
    discrete = frozen_distribution(demand, "demand")
    return (discrete, positive(holding_cost, "holding_cost"),
            positive(shortage_cost, "shortage_cost"))


def _continuous_expectations(demand, level: float) -> tuple[float, float]:
    """E[(S - D)+] and E[(D - S)+] for a continuous distribution, by numerical integration.

    E[(S - D)+] is the integral of F below S and E[(D - S)+] the integral of 1 - F above S.
    Each integral is split at the 1e-15 and 1 - 1e-15 quantiles so that ``quad`` sees where the
    probability is; the parts outside are integrated over the (possibly infinite) tails.
    """
    low_support, high_support = (float(b) for b in demand.support())
    low, high = float(demand.ppf(_QUAD_TAIL)), float(demand.isf(_QUAD_TAIL))
    scale = max(high - low, 1e-300)
    options = {"epsabs": 1e-13 * scale, "epsrel": 1e-12, "limit": 500}

    def integral(function, a: float, b: float) -> float:
        if not a < b:
            return 0.0
        total = 0.0
        inner_a, inner_b = max(a, low), min(b, high)
        if inner_a < inner_b:
            total += integrate.quad(function, inner_a, inner_b, **options)[0]
        if a < min(low, b):
            total += integrate.quad(function, a, min(low, b), **options)[0]
        if b > max(high, a):
            total += integrate.quad(function, max(high, a), b, **options)[0]
        return total

    leftover = integral(demand.cdf, low_support, level)
    shortage = integral(demand.sf, level, high_support)
    return leftover, shortage
