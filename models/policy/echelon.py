"""Echelon base-stock levels: a serial chain (Clark-Scarf) and a distribution tree (Eppen-Schrage).

A serial system of N stages: stage 1 sells to customers, stage j is replenished by stage j+1,
stage N by an outside supplier with unlimited stock. Shipments into stage j take L_j periods;
every stage reviews every period; customer demand per period is i.i.d. normal N(mu, sigma^2)
and unmet demand is backordered at stage 1 at cost p per unit and period. Each stage pays its
**echelon** holding cost h_j >= 0 per unit and period on its echelon inventory level (stock at
j or anywhere downstream of it, in transit included, minus stage 1's backorders); the local
holding cost of stage j is h'_j = h_j + ... + h_N.

Clark and Scarf (1960) showed that an echelon base-stock policy is optimal: stage j orders up
to an echelon inventory position S_j. Chen and Zheng (1994) give the levels by a recursion
over the stages, from the customer up:

    C_0(x)      = (p + h'_1) max(-x, 0)
    Chat_j(x)   = h_j x + C_{j-1}(min(S*_{j-1}, x))             (S*_0 = +inf)
    C_j(y)      = E[Chat_j(y - D_j)],  D_j demand over L_j periods
    S*_j        = argmin_y C_j(y)

and the optimal expected cost per period is C_N(S*_N). Here the functions live on a fine grid
of inventory levels; outside the grid they are linear (their asymptotes), the expectation is a
convolution with the discretised lead-time demand, and each minimum is refined by a parabola
through the three grid points around it. The local (installation) base-stock levels are
s_j = S_j - S_{j-1}.

The engine sets its echelon levels from service levels (`engine.stages.targets`); this module
is the cost-optimal reference for serial chains, with the textbook's published answers as its
tests.

**Distribution tree** (`balanced_allocation`). A depot that holds no stock orders every period
for N retailers, raising the system's echelon inventory position (retailer stock, everything in
transit, minus backorders) to S0; an order arrives after L0 periods and is allocated at once so
that every retailer's inventory position sits at the same fractile z of its demand over its own
lead time plus one period, m_j + z s_j (m_j = mu_j (L_j + 1), s_j = sigma_j sqrt(L_j + 1); the
balance assumption: no retailer already holds more than its share). Retailer j then runs short
at the end of its cycle when

    X_j = (D_j(L_j + 1) - m_j) + w_j (D(L0) - mu L0)  >  w_j (S0 - mu L0 - sum_i m_i)

with w_j = s_j / sum_i s_i, D(L0) the demand of all retailers over the depot's lead time
(mean mu L0, variance sigma^2 L0 with mu, sigma^2 the sums over the retailers) and
Var X_j = s_j^2 + w_j^2 sigma^2 L0, so its cycle service level is
Phi(w_j (S0 - mu L0 - sum m) / sd(X_j)). The smallest S0 giving every retailer at least alpha
is the largest over j of mu L0 + sum m + z_alpha sd(X_j) / w_j; for N identical retailers it is
Eppen and Schrage's N mu (L0 + L + 1) + z_alpha sigma sqrt(N L0 + N^2 (L + 1)). The engine's
echelon targets use the same split (`engine.stages.targets.echelon_moments`, with the
allocation in proportion to the mean demand); the tests check both formulas by simulating the
system.

References
----------
A. J. Clark and H. Scarf, "Optimal policies for a multi-echelon inventory problem",
*Management Science* 6(4), 1960. F. Chen and Y.-S. Zheng, "Lower bounds for multi-echelon
stochastic inventory systems", *Management Science* 40(11), 1994. L. V. Snyder and
Z.-J. M. Shen, *Fundamentals of Supply Chain Theory*, 2nd ed., Wiley, 2019, section 6.2
(Example 6.1: S* = (6.51, 12.01, 22.70), expected cost 47.67). G. Eppen and L. Schrage,
"Centralized ordering policies in a multi-warehouse system with lead times and random demand",
in *Multi-Level Production/Inventory Control Systems*, TIMS Studies in the Management
Sciences 16, 1981, pp. 51-67.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.signal
import scipy.stats

from models.checks import check_range, float_array, nonnegative, positive, real

#: Grid points per standard deviation of one period's demand (the grid's resolution).
POINTS_PER_SD = 100

#: The grid reaches this many standard deviations of the demand over all lead times beyond
#: its mean, and the lead-time demand is truncated at this many of its own.
TAIL_SDS = 8.0


@dataclass(frozen=True)
class SerialBaseStock:
    """Optimal (or evaluated) echelon base-stock levels of a serial system.

    Attributes
    ----------
    echelon_levels : numpy.ndarray, shape (N,)
        S_j, stage 1 (the customer-facing stage) first.
    local_levels : numpy.ndarray, shape (N,)
        s_j = S_j - S_{j-1}: the installation base-stock level of each stage.
    cost : float
        Expected holding and backorder cost per period of the levels.
    """

    echelon_levels: np.ndarray
    local_levels: np.ndarray
    cost: float


def serial_base_stock(echelon_holding_cost, lead_time, *, stockout_cost: float,
                      demand_mean: float, demand_sd: float,
                      levels=None) -> SerialBaseStock:
    """Optimal echelon base-stock levels of a serial system (Clark-Scarf; Chen-Zheng).

    Parameters
    ----------
    echelon_holding_cost : array_like, shape (N,)
        h_j >= 0 per unit and period, stage 1 (customer-facing) first.
    lead_time : array_like, shape (N,)
        L_j >= 0, periods for a shipment into stage j (into stage N: from the supplier).
    stockout_cost : float
        p > 0 per unit backordered at stage 1 per period.
    demand_mean, demand_sd : float
        Customer demand per period, normal N(mu, sigma^2) with mu >= 0 and sigma > 0.
    levels : array_like, shape (N,), optional
        Echelon levels to evaluate instead of optimising.

    Returns
    -------
    SerialBaseStock
        The levels (echelon and local) and their expected cost per period.

    Raises
    ------
    ValueError
        If the arrays differ in length or hold negative or non-finite values, or ``stockout_cost``
        or ``demand_sd`` is not positive.

    Examples
    --------
    Example 6.1 of Snyder and Shen (2019): three stages, h = (3, 2, 2), L = (1, 1, 2),
    p = 37.12, demand N(5, 1):

    >>> result = serial_base_stock([3, 2, 2], [1, 1, 2], stockout_cost=37.12,
    ...                            demand_mean=5, demand_sd=1)
    >>> result.echelon_levels.round(1), round(result.cost, 1)
    (array([ 6.5, 12. , 22.7]), 47.7)
    """
    h, L, p, mu, sigma, given = _serial_iv(echelon_holding_cost, lead_time, stockout_cost,
                                           demand_mean, demand_sd, levels)
    total = max(float(L.sum()), 1.0)
    reach = mu * total + TAIL_SDS * sigma * np.sqrt(total)
    step = sigma / POINTS_PER_SD
    x = np.arange(-reach - step, reach + step, step)
    below = (p + h.sum()) * np.maximum(-x, 0.0)           # C_{j-1}(min(S*_{j-1}, x)), j = 1
    chosen = np.zeros(h.size)
    cost = 0.0
    for j in range(h.size):
        stage_cost = _expected(h[j] * x + below, x, step, mu * L[j], sigma * np.sqrt(L[j]))
        chosen[j] = _argmin(stage_cost, x) if given is None else given[j]
        cost = float(np.interp(chosen[j], x, stage_cost))
        below = np.where(x < chosen[j], stage_cost, cost)
    local = np.diff(chosen, prepend=0.0)
    return SerialBaseStock(echelon_levels=chosen, local_levels=local, cost=cost)


def _expected(values: np.ndarray, x: np.ndarray, step: float, mean: float,
              sd: float) -> np.ndarray:
    """E[values(x - D)], D ~ N(mean, sd^2) on the grid, values linear beyond both ends."""
    if sd == 0.0:
        shift = mean / step
        return _linear_extension(values, x, x - shift * step)
    offsets = np.arange(np.floor((mean - TAIL_SDS * sd) / step),
                        np.ceil((mean + TAIL_SDS * sd) / step) + 1)
    demand = offsets * step
    cdf = scipy.stats.norm.cdf((np.concatenate([demand - step / 2, demand[-1:] + step / 2])
                                - mean) / sd)
    mass = np.diff(cdf)
    mass /= mass.sum()
    # values at x_i - d_k for every grid point: extend the grid by the demand's reach
    low, high = int(max(offsets.max(), 0)), int(max(-offsets.min(), 0))
    wide = np.arange(x[0] - low * step, x[-1] + (high + 0.5) * step, step)[:x.size + low + high]
    extended = _linear_extension(values, x, wide)
    # C(x_i) = sum_k mass_k values(x_i - d_k): a convolution shifted by the smallest offset
    full = scipy.signal.fftconvolve(extended, mass, mode="full")
    start = low - int(offsets.min())
    return full[start:start + x.size]


def _linear_extension(values: np.ndarray, x: np.ndarray, at: np.ndarray) -> np.ndarray:
    """``values`` (on ``x``) at ``at``: interpolated inside, continued linearly outside."""
    out = np.interp(at, x, values)
    left_slope = (values[1] - values[0]) / (x[1] - x[0])
    right_slope = (values[-1] - values[-2]) / (x[-1] - x[-2])
    out = np.where(at < x[0], values[0] + left_slope * (at - x[0]), out)
    return np.where(at > x[-1], values[-1] + right_slope * (at - x[-1]), out)


def _argmin(values: np.ndarray, x: np.ndarray) -> float:
    """The minimiser of ``values``, refined by a parabola through the grid's best 3 points."""
    i = int(np.clip(np.argmin(values), 1, values.size - 2))
    left, mid, right = values[i - 1:i + 2]
    curvature = left - 2 * mid + right
    shift = 0.5 * (left - right) / curvature if curvature > 0 else 0.0
    return float(x[i] + np.clip(shift, -1.0, 1.0) * (x[1] - x[0]))


def _serial_iv(h, L, p, mu, sigma, levels):
    h = float_array(h, "echelon_holding_cost", ndim=1)
    L = float_array(L, "lead_time", ndim=1)
    check_range(h, "echelon_holding_cost", low=0.0)
    check_range(L, "lead_time", low=0.0)
    if h.size == 0 or h.size != L.size:
        raise ValueError(f"echelon_holding_cost and lead_time must have one entry per stage "
                         f"(the same length, >= 1); found {h.size} and {L.size}")
    p, sigma = positive(p, "stockout_cost"), positive(sigma, "demand_sd")
    mu = nonnegative(mu, "demand_mean")
    given = None
    if levels is not None:
        given = float_array(levels, "levels", shape=h.shape)
        check_range(given, "levels")
    return h, L, p, mu, sigma, given


@dataclass(frozen=True)
class BalancedAllocation:
    """System level of a stockless depot and its retailers under balanced allocation.

    Attributes
    ----------
    system_level : float
        S0: the depot raises the system echelon inventory position to it every period.
    cycle_mean, cycle_sd : numpy.ndarray, shape (N,)
        m_j and s_j: each retailer's demand over its lead time plus one period; an allocation
        raises retailer j's inventory position to m_j + z s_j, z common to all.
    service_levels : numpy.ndarray, shape (N,)
        The cycle service level (chance of no stockout at the end of a period) each retailer
        gets at ``system_level``.
    """

    system_level: float
    cycle_mean: np.ndarray
    cycle_sd: np.ndarray
    service_levels: np.ndarray


def balanced_allocation(demand_mean, demand_sd, retailer_lead_time, *, depot_lead_time: float,
                        service_level: float | None = None,
                        system_level: float | None = None) -> BalancedAllocation:
    """The depot's system level for a cycle service level at every retailer (Eppen-Schrage).

    Parameters
    ----------
    demand_mean, demand_sd : array_like, shape (N,)
        Each retailer's demand per period, normal N(mu_j, sigma_j^2), independent; mu_j >= 0,
        sigma_j > 0.
    retailer_lead_time : array_like, shape (N,)
        L_j >= 0, periods from the depot's allocation to the retailer's receipt.
    depot_lead_time : float
        L0 >= 0, periods from the depot's order to its arrival (and allocation).
    service_level : float, optional
        alpha in (0, 1): the smallest system level giving every retailer at least alpha.
    system_level : float, optional
        A system level to evaluate instead (give exactly one of the two).

    Returns
    -------
    BalancedAllocation

    Examples
    --------
    Three identical retailers, N(10, 3^2) a period, L = 1, L0 = 2, alpha = 0.9:
    3 x 10 x 4 + 1.2816 x 3 x sqrt(3 x 2 + 9 x 2) = 138.84.

    >>> round(balanced_allocation([10] * 3, [3] * 3, [1] * 3, depot_lead_time=2,
    ...                           service_level=0.9).system_level, 2)
    138.84
    """
    mu = float_array(demand_mean, "demand_mean")
    sigma = float_array(demand_sd, "demand_sd")
    lead = float_array(retailer_lead_time, "retailer_lead_time")
    if not (mu.ndim == 1 and mu.shape == sigma.shape == lead.shape and mu.size):
        raise ValueError("demand_mean, demand_sd and retailer_lead_time must be 1-d arrays of "
                         f"one length >= 1; found shapes {mu.shape}, {sigma.shape}, "
                         f"{lead.shape}")
    check_range(mu, "demand_mean", low=0.0)
    check_range(sigma, "demand_sd", low=0.0, low_open=True)
    check_range(lead, "retailer_lead_time", low=0.0)
    depot_lead_time = nonnegative(depot_lead_time, "depot_lead_time")
    if (service_level is None) == (system_level is None):
        raise ValueError("give exactly one of service_level and system_level")
    cycle_mean = mu * (lead + 1.0)
    cycle_sd = sigma * np.sqrt(lead + 1.0)
    w = cycle_sd / cycle_sd.sum()
    spread = np.sqrt(cycle_sd**2 + w**2 * float((sigma**2).sum()) * depot_lead_time)
    base = float(mu.sum()) * depot_lead_time + float(cycle_mean.sum())
    if system_level is None:
        alpha = real(service_level, "service_level")
        if not 0.0 < alpha < 1.0:
            raise ValueError(f"service_level must be in (0, 1); found {alpha!r}")
        system_level = base + float(scipy.stats.norm.ppf(alpha) * (spread / w).max())
    else:
        system_level = real(system_level, "system_level")
    levels = scipy.stats.norm.cdf(w * (float(system_level) - base) / spread)
    return BalancedAllocation(system_level=float(system_level), cycle_mean=cycle_mean,
                              cycle_sd=cycle_sd, service_levels=levels)
