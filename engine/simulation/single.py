"""Monte Carlo simulation of one location under a `models.policy` policy: the thin wrapper.

`simulate_policy` validates its arguments once (`_simulate_policy_iv`), draws the demand with
one seeded generator, runs the numba kernel of `engine.simulation.kernels` (whose docstring
gives the event order within a period and the starting state) and summarises the per-sample
sums into a `PolicySimulation`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.simulation import kernels
from models.checks import flag, frozen_distribution, nonnegative, whole
from models.policy import RQ, SS, BaseStock

KERNEL = kernels.simulate_samples
"""The kernel `simulate_policy` runs: the serial one.

On the two-core machine of benchmarks/bench_simulation.py the parallel kernel
(``prange`` over samples) runs the kernel alone up to twice as fast when the second core is
free, but drawing the demand takes about 85 % of a `simulate_policy` call, so the whole call
gains at most 6 % (and lost 8 % in some runs, OpenMP's waiting threads competing with the
draws); it also takes twice as long to compile. Parallelism belongs one level up, across SKUs,
where the draws are spread too."""

MAX_NEGATIVE_DEMAND_PROBABILITY = 1e-3
"""Largest P(D < 0) accepted for the per-period demand; draws below zero are served as zero.

A normal N(mu, sigma^2) with P(D < 0) = 1e-3 has mu = 3.09 sigma, and truncating it at zero
raises its mean by E[(-D)+] = 0.0003 sigma, less than 0.01 % of mu.
"""

_POLICY_KINDS = {BaseStock: kernels.BASE_STOCK, SS: kernels.S_S, RQ: kernels.R_Q}


@dataclass(frozen=True)
class PolicySimulation:
    """Long-run performance of a policy at one location, estimated by simulation.

    Every figure is per period and averaged over the measured periods (after the warm-up) of
    every sample; a standard error (``_se``) is the spread across the independent samples
    (``nan`` with one sample).

    Attributes
    ----------
    cost : float
        Expected cost per period, holding + shortage + ordering (fixed cost included), cost
        units per period.
    cost_se : float
        Standard error of ``cost``: the standard deviation of the samples' mean costs over
        sqrt(samples).
    holding_cost, shortage_cost, ordering_cost : float
        The parts of ``cost``: h x end-of-period on hand; p x end-of-period backorders
        (backorders) or p x units lost (lost sales); K x orders. Cost units per period.
    fill_rate : float
        Fraction of the demand served from stock in the period it occurs (type 2, beta);
        ``nan`` if there was no demand.
    fill_rate_se : float
        Standard error of ``fill_rate`` (a ratio estimator over the samples).
    cycle_service_level : float
        Fraction of periods in which all demand was served from stock (type 1, alpha: with
        review every period each period is a replenishment cycle).
    cycle_service_level_se : float
        Standard error of ``cycle_service_level``.
    avg_on_hand : float
        Mean end-of-period on hand, units.
    avg_backorders : float
        Mean end-of-period backorders, units (0 under lost sales).
    lost_sales : float
        Mean units lost per period (0 with backorders).
    order_frequency : float
        Mean orders per period (an (r,Q) order of n Q counts n).
    samples : int
        Independent samples simulated.
    periods : int
        Measured periods per sample (the warm-up excluded).
    warmup : int
        Periods simulated before the measurement started, per sample.
    """

    cost: float
    cost_se: float
    holding_cost: float
    shortage_cost: float
    ordering_cost: float
    fill_rate: float
    fill_rate_se: float
    cycle_service_level: float
    cycle_service_level_se: float
    avg_on_hand: float
    avg_backorders: float
    lost_sales: float
    order_frequency: float
    samples: int
    periods: int
    warmup: int


def simulate_policy(demand, *, policy: BaseStock | SS | RQ, lead_time: int,
                    holding_cost: float, shortage_cost: float, fixed_cost: float = 0.0,
                    periods: int, samples: int, seed: int, backorders: bool = True,
                    warmup: int | None = None) -> PolicySimulation:
    """Simulate a base-stock, (s,S) or (r,Q) policy at one location and estimate its KPIs.

    Review every period; lead time L means an order placed at the start of period t arrives at
    the start of period t + L (DESIGN.md, *Conventions*). The event order within a period and
    the starting state (on hand at the order-up-to level, nothing on order) are those of
    `engine.simulation.kernels`. The (r,Q) policy, defined for continuous review, is run at
    each periodic review: when the position is at or below r it orders the n Q (n separate
    orders, each charged K) that lift the position above r.

    Demand is drawn once, before the simulation, as
    ``demand.rvs(size=(samples, periods), random_state=numpy.random.default_rng(seed))``
    (i.i.d. across samples and periods, row by row), and negative draws are served as zero.
    The same arguments and seed therefore give identical results, whatever the machine's
    number of threads.

    Parameters
    ----------
    demand : scipy.stats frozen distribution
        Demand D per period, units; discrete (``scipy.stats.poisson(6)``) or continuous
        (``scipy.stats.norm(40, 9.5)``) with a finite mean and P(D < 0) at most
        `MAX_NEGATIVE_DEMAND_PROBABILITY`.
    policy : models.policy.BaseStock, SS or RQ
        The replenishment policy: its level S, (s, S) or (r, Q), units.
    lead_time : int
        Lead time L >= 0, periods.
    holding_cost : float
        Holding cost h >= 0 per unit on hand at the end of a period, cost units per unit per
        period.
    shortage_cost : float
        Shortage cost p >= 0, cost units: per unit backordered at the end of a period
        (``backorders=True``) or per unit of lost demand (``backorders=False``).
    fixed_cost : float, default 0
        Fixed cost K >= 0 per order, cost units per order.
    periods : int
        Periods simulated per sample, warm-up included; periods > warmup.
    samples : int
        Independent samples (demand paths), >= 1.
    seed : int
        Seed >= 0 of ``numpy.random.default_rng``.
    backorders : bool, default True
        True: unmet demand is backordered; False: it is lost.
    warmup : int or None, default None
        Periods simulated before the statistics start, 0 <= warmup < periods; None: a tenth of
        ``periods`` (rounded down).

    Returns
    -------
    PolicySimulation
        Cost per period and its standard error, its holding, shortage and ordering parts, fill
        rate, cycle service level, average on hand, backorders, lost sales, order frequency.

    Raises
    ------
    TypeError
        If ``demand`` is not a frozen scipy.stats distribution, ``policy`` is not a
        `BaseStock`, `SS` or `RQ`, or an argument has the wrong type.
    ValueError
        If a cost is negative, ``lead_time`` < 0, ``samples`` < 1, ``periods`` <= ``warmup``,
        ``seed`` < 0, or ``demand`` has no finite mean or is too often negative.

    Notes
    -----
    The draws are held in memory as float64: 8 x samples x periods bytes.

    Examples
    --------
    Zheng and Federgruen's (s,S) = (6, 40) for Poisson(10) demand, h = 1, p = 9, K = 64 has
    expected cost 35.022 per period:

    >>> from scipy import stats
    >>> from models.policy import SS
    >>> result = simulate_policy(stats.poisson(10), policy=SS(6, 40), lead_time=0,
    ...                          holding_cost=1, shortage_cost=9, fixed_cost=64,
    ...                          periods=20_000, samples=50, seed=1)
    >>> abs(result.cost - 35.022) < 4 * result.cost_se
    True
    """
    arguments = _simulate_policy_iv(demand, policy, lead_time, holding_cost, shortage_cost,
                                    fixed_cost, periods, samples, seed, backorders, warmup)
    (kind, reorder_point, order_up_to, order_quantity, lead, h, p, fixed, periods, samples,
     seed, backorders, warmup) = arguments

    rng = np.random.default_rng(seed)
    draws = demand.rvs(size=(samples, periods), random_state=rng)
    draws = np.ascontiguousarray(np.maximum(draws, 0.0), dtype=np.float64)
    sums = np.empty((samples, len(kernels.STATISTICS)))
    no_trajectory = np.empty((0, periods, len(kernels.TRAJECTORY_FIELDS)))
    KERNEL(draws, kind, reorder_point, order_up_to, order_quantity, lead, h, p, fixed,
           backorders, warmup, sums, no_trajectory)
    return _summarize(sums, periods - warmup, warmup=warmup, backorders=backorders)


def _summarize(sums: np.ndarray, measured: int, *, warmup: int,
               backorders: bool) -> PolicySimulation:
    """Per-period means and standard errors from the kernel's per-sample sums."""
    samples = sums.shape[0]
    per_period = sums / measured  # (sample, statistic)
    means = per_period.mean(axis=0)

    def standard_error(values: np.ndarray) -> float:
        if samples < 2:
            return float("nan")
        return float(values.std(ddof=1) / np.sqrt(samples))

    demand = per_period[:, kernels.DEMAND]
    served = per_period[:, kernels.SERVED]
    mean_demand = float(demand.mean())
    if mean_demand > 0:
        fill_rate = float(served.mean() / mean_demand)
        # ratio estimator: the spread of served - fill_rate x demand over the mean demand
        fill_rate_se = standard_error(served - fill_rate * demand) / mean_demand
    else:
        fill_rate = fill_rate_se = float("nan")
    short = float(means[kernels.SHORT_UNITS])
    return PolicySimulation(
        cost=float(means[kernels.TOTAL_COST]),
        cost_se=standard_error(per_period[:, kernels.TOTAL_COST]),
        holding_cost=float(means[kernels.HOLDING_COST]),
        shortage_cost=float(means[kernels.SHORTAGE_COST]),
        ordering_cost=float(means[kernels.ORDERING_COST]),
        fill_rate=fill_rate,
        fill_rate_se=fill_rate_se,
        cycle_service_level=float(means[kernels.NO_STOCKOUT_PERIODS]),
        cycle_service_level_se=standard_error(per_period[:, kernels.NO_STOCKOUT_PERIODS]),
        avg_on_hand=float(means[kernels.ON_HAND]),
        avg_backorders=short if backorders else 0.0,
        lost_sales=0.0 if backorders else short,
        order_frequency=float(means[kernels.ORDERS]),
        samples=samples,
        periods=measured,
        warmup=warmup,
    )


def _simulate_policy_iv(demand, policy, lead_time, holding_cost, shortage_cost, fixed_cost,
                        periods, samples, seed, backorders, warmup):
    """Validate every argument of `simulate_policy`; return the kernel's plain numbers."""
    _check_demand(demand)
    kind = _POLICY_KINDS.get(type(policy))
    if kind is None:
        allowed = ", ".join(f"models.policy.{cls.__name__}" for cls in _POLICY_KINDS)
        raise TypeError(f"policy must be one of {allowed}; found {type(policy).__name__} "
                        f"{policy!r}")
    if kind == kernels.BASE_STOCK:
        reorder_point, order_up_to, order_quantity = policy.level, policy.level, 0.0
    elif kind == kernels.S_S:
        reorder_point, order_up_to, order_quantity = policy.s, policy.S, 0.0
    else:
        reorder_point, order_up_to, order_quantity = policy.r, policy.r + policy.Q, policy.Q

    lead = whole(lead_time, "lead_time", minimum=0)
    costs = [nonnegative(value, name, one_message=True) for value, name in (
        (holding_cost, "holding_cost"), (shortage_cost, "shortage_cost"),
        (fixed_cost, "fixed_cost"))]
    periods = whole(periods, "periods", minimum=1)
    samples = whole(samples, "samples", minimum=1)
    seed = whole(seed, "seed", minimum=0)
    flag(backorders, "backorders")
    warmup = periods // 10 if warmup is None else whole(warmup, "warmup", minimum=0)
    if periods <= warmup:
        raise ValueError(f"periods must be greater than warmup (some periods must be "
                         f"measured); found periods={periods}, warmup={warmup}")
    return (kind, float(reorder_point), float(order_up_to), float(order_quantity), lead,
            *costs, periods, samples, seed, bool(backorders), warmup)


def _check_demand(demand) -> None:
    """Raise unless ``demand`` is a frozen scipy.stats distribution fit for per-period demand.

    As in `models.policy`, a distribution without shape parameters
    (``scipy.stats.rv_discrete(values=...)``) counts as frozen.
    """
    frozen_distribution(demand, "demand", check_values=False)
    mean = float(demand.mean())
    if not np.isfinite(mean):
        raise ValueError(f"demand must have a finite mean (are its parameters valid?); "
                         f"found {mean}")
    negative = float(demand.cdf(-np.finfo(np.float64).smallest_subnormal))
    if negative > MAX_NEGATIVE_DEMAND_PROBABILITY:
        raise ValueError(f"demand must be non-negative: P(D < 0) must be at most "
                         f"{MAX_NEGATIVE_DEMAND_PROBABILITY}, as negative draws are served as "
                         f"zero; found P(D < 0) = {negative:.3g} (use a distribution on the "
                         f"non-negative numbers, e.g. scipy.stats.truncnorm)")
