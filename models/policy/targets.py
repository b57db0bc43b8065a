"""Service-level stock targets for millions of SKU x location pairs at once.

For every pair: the demand over the protection interval (lead time plus review period), its
distribution (normal, Poisson or negative binomial, chosen per pair), the reorder point that
meets a cycle service level or a fill rate, and the order-up-to level, with pack size, MOQ and
caps applied. Everything is whole-array numpy; there is no Python loop over pairs.

References
----------
L. V. Snyder and Z.-J. M. Shen, *Fundamentals of Supply Chain Theory*, 2nd ed., Wiley, 2019,
chapters 4 and 5 (lead-time demand, type-1 and type-2 service levels) and chapter 6
(multi-echelon systems).
S. Axsäter, *Inventory Control*, 3rd ed., Springer, 2015, chapter 5 (loss functions, reorder
points for a cycle service level and a fill rate) and its chapters on multi-echelon systems.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

import numpy as np

from models.checks import check_range, numeric_array
from models.distributions import (
    FAMILY_CHOICES,
    WHOLE_UNIT_SLACK,
    FamilyChoice,
    choose_family,
    loss_levels,
    quantile_levels,
)

ServiceMeasure = Literal["cycle", "fill_rate"]
"""``"cycle"``: probability of no stockout per replenishment cycle (type 1, alpha);
``"fill_rate"``: fraction of demand met from stock (type 2, beta)."""

SERVICE_MEASURES: tuple[str, ...] = get_args(ServiceMeasure)


@dataclass(frozen=True, eq=False)
class StockTargets:
    """Stock targets per pair; every array has the broadcast shape of the inputs.

    Attributes
    ----------
    safety_stock : numpy.ndarray of float64
        reorder_point - protection_mean, units (negative when a low service level or a cap puts
        the reorder point below the mean protection-interval demand).
    reorder_point : numpy.ndarray of float64
        Reorder point s, whole units >= 0: at a review, order up to S when the inventory
        position is at or below s (the convention of `SS`); s meets the service level over the
        protection interval L + R.
    order_up_to : numpy.ndarray of float64
        Order-up-to level S, whole units, S >= s: reorder_point plus the replenishment lot
        (mean demand per review period rounded up to whole packs, at least the MOQ).
    distribution : numpy.ndarray of int8
        `models.distributions.Family` code of the demand model used for each pair.
    protection_mean : numpy.ndarray of float64
        Mean demand over the protection interval, mu = (E[L] + R) m, units.
    protection_variance : numpy.ndarray of float64
        Variance of demand over the protection interval,
        (E[L] + R) var(d) + m^2 var(L), units^2.

    Notes
    -----
    The arrays are read-only.
    """

    safety_stock: np.ndarray
    reorder_point: np.ndarray
    order_up_to: np.ndarray
    distribution: np.ndarray
    protection_mean: np.ndarray
    protection_variance: np.ndarray

    def __post_init__(self) -> None:
        for array in (self.safety_stock, self.reorder_point, self.order_up_to,
                      self.distribution, self.protection_mean, self.protection_variance):
            array.flags.writeable = False


def stock_targets(mean, variance, *, lead_time, lead_time_sd=0.0, review_period=1.0,
                  service_level, service: ServiceMeasure = "cycle",
                  distribution: FamilyChoice = "auto", pack_size=1, moq=0,
                  minimum=None, maximum=None) -> StockTargets:
    """Safety stock, reorder point and order-up-to level for every SKU x location pair.

    **Protection interval.** With review every R periods and lead time L, an order placed at a
    review must cover demand until the order after next arrives: L + R periods (L + 1 with
    review every period, as in DESIGN.md). With i.i.d. per-period demand d (mean m, variance
    var(d)) and a lead time independent of demand, demand over the protection interval has

        mu      = (E[L] + R) m,
        sigma^2 = (E[L] + R) var(d) + m^2 var(L).

    **Distribution.** ``distribution="auto"`` chooses per pair by dispersion, treating demand
    as whole units (`models.distributions.choose_family`): the negative binomial with mean mu
    and variance sigma^2 when sigma^2 / mu > 1.1
    (`models.distributions.POISSON_MAX_DISPERSION`), whatever the volume; otherwise Poisson,
    or normal when mu >= 30 (`models.distributions.NORMAL_MIN_MEAN`). ``"normal"``,
    ``"poisson"``, ``"negative_binomial"`` or ``"gamma"`` force one model for every pair (a
    forced negative binomial falls back to Poisson where sigma^2 <= mu; a forced Poisson uses
    mu only; a forced gamma is continuous: its levels are rounded up to whole units).

    **Reorder point s.** For a cycle service level alpha, the alpha-quantile of the
    protection-interval demand: the smallest whole s >= 0 with P(D <= s) >= alpha. For a fill
    rate beta, the smallest whole s >= 0 whose expected shortage per replenishment cycle, the
    loss function E[(D - s)+], is at most (1 - beta) R m, the fraction 1 - beta of the mean
    demand per review period (Axsäter's approximation, which neglects the shortage already
    present at the start of a cycle). Normal levels are rounded up to whole units.

    **Order-up-to S.** S = s + lot, where the lot is the mean demand per review period R m
    (the cycle stock; choice made so that an order brings the position about one review
    period of demand above s), raised to at least ``moq`` and rounded up to a whole number of
    ``pack_size``. Pairs with zero mean demand need no orders: their lot is 0.

    **Caps.** Finally s and S are clipped to [``minimum``, ``maximum``], the caps rounded
    inward to whole units (caps win over pack size and MOQ; S >= s is kept), and
    safety_stock = s - mu.

    Parameters
    ----------
    mean : array_like
        Mean demand per period m >= 0 of each pair, units per period.
    variance : array_like
        Variance of demand per period var(d) >= 0 of each pair, units^2 per period.
    lead_time : array_like
        Mean replenishment lead time E[L] >= 0 of each pair, periods.
    lead_time_sd : array_like, default 0
        Standard deviation of the lead time sd(L) >= 0, periods.
    review_period : array_like, default 1
        Review period R > 0, periods.
    service_level : array_like
        Target alpha (cycle) or beta (fill rate), 0 < value < 1.
    service : {"cycle", "fill_rate"}, default "cycle"
        Which service measure ``service_level`` is.
    distribution : {"auto", "normal", "poisson", "negative_binomial", "gamma"}, default "auto"
        Demand model per pair (see above).
    pack_size : array_like, default 1
        Units per pack, whole number >= 1: lots are whole packs.
    moq : array_like, default 0
        Minimum order quantity >= 0, units: the smallest lot where an order is needed.
    minimum, maximum : array_like or None, default None
        Caps on s and S, units (``minimum`` rounds up and ``maximum`` down to whole units);
        ``maximum`` may be ``inf`` and must be >= ``minimum``.

    All array arguments broadcast together (numpy rules); the outputs have the broadcast shape.

    Returns
    -------
    StockTargets
        ``safety_stock``, ``reorder_point``, ``order_up_to``, ``distribution`` (codes of
        `models.distributions.Family`), ``protection_mean``, ``protection_variance``.

    Raises
    ------
    TypeError
        If an array argument is not numeric.
    ValueError
        If an argument is out of range (the message names it and gives the first offending
        index), the arrays do not broadcast, or ``service`` / ``distribution`` is not one of
        the allowed choices.

    References
    ----------
    Snyder and Shen (2019), chapters 4 and 5; Axsäter (2015), chapter 5.

    Examples
    --------
    >>> result = stock_targets([40.0, 2.0], [90.0, 5.0], lead_time=2, service_level=0.95)
    >>> result.reorder_point, result.order_up_to
    (array([148.,  13.]), array([188.,  15.]))
    >>> result.distribution  # both overdispersed (variance / mean 2.25 and 2.5): negative binomial
    array([2, 2], dtype=int8)
    """
    inputs = _stock_targets_iv(mean, variance, lead_time, lead_time_sd, review_period,
                               service_level, service, distribution, pack_size, moq, minimum,
                               maximum, names=("mean", "variance"))
    return _targets(*inputs, service=service, distribution=distribution)


def echelon_targets(aggregate_mean, aggregate_variance, *, lead_time, lead_time_sd=0.0,
                    review_period=1.0, service_level, service: ServiceMeasure = "cycle",
                    distribution: FamilyChoice = "auto", pack_size=1, moq=0,
                    minimum=None, maximum=None) -> StockTargets:
    """Targets for a location that feeds others (a DC), from its aggregate downstream demand.

    A DC sees the replenishment orders of the locations it supplies. When those locations
    review every period with order-up-to policies, their orders pass their demand through one
    for one, so the DC faces the **sum of the downstream demands**. With downstream demands
    independent across locations, its per-period mean and variance are the sums of the
    downstream means and variances:

        m_DC = sum_i m_i,      var_DC = sum_i var_i.

    The DC's stock protects against that aggregate demand over **its own** replenishment lead
    time (supplier to DC) plus its review period; the downstream lead times are covered by the
    downstream targets. This function takes the already-aggregated ``aggregate_mean`` and
    ``aggregate_variance`` (the engine sums them over the network) and applies
    `stock_targets` with the DC's lead time. Positive correlation between downstream demands
    would make the true variance larger than the sum: aggregate with the covariances in that
    case.

    Parameters
    ----------
    aggregate_mean : array_like
        Sum of the downstream mean demands per period, sum_i m_i >= 0, units per period.
    aggregate_variance : array_like
        Sum of the downstream demand variances per period, sum_i var_i >= 0, units^2 per
        period.
    lead_time, lead_time_sd : array_like
        Mean and standard deviation of the DC's own replenishment lead time, periods.
    review_period, service_level, service, distribution, pack_size, moq, minimum, maximum
        As in `stock_targets`, for the DC.

    Returns
    -------
    StockTargets
        As in `stock_targets`.

    Raises
    ------
    TypeError, ValueError
        As in `stock_targets`, naming ``aggregate_mean`` / ``aggregate_variance``.

    References
    ----------
    Snyder and Shen (2019), chapter 6; Axsäter (2015), the chapters on multi-echelon
    systems (installation-stock reorder points in distribution systems).
    """
    inputs = _stock_targets_iv(aggregate_mean, aggregate_variance, lead_time, lead_time_sd,
                               review_period, service_level, service, distribution, pack_size,
                               moq, minimum, maximum,
                               names=("aggregate_mean", "aggregate_variance"))
    return _targets(*inputs, service=service, distribution=distribution)


def _stock_targets_iv(mean, variance, lead_time, lead_time_sd, review_period, service_level,
                      service, distribution, pack_size, moq, minimum, maximum, *,
                      names: tuple[str, str]):
    """Validate every argument of `stock_targets` / `echelon_targets`; return flat arrays."""
    if service not in SERVICE_MEASURES:
        raise ValueError(f"service must be one of {', '.join(SERVICE_MEASURES)}; "
                         f"found {service!r}")
    if distribution not in FAMILY_CHOICES:
        raise ValueError(f"distribution must be one of {', '.join(FAMILY_CHOICES)}; "
                         f"found {distribution!r}")
    mean_name, variance_name = names
    arguments = {
        mean_name: (mean, {"low": 0.0}),
        variance_name: (variance, {"low": 0.0}),
        "lead_time": (lead_time, {"low": 0.0}),
        "lead_time_sd": (lead_time_sd, {"low": 0.0}),
        "review_period": (review_period, {"low": 0.0, "low_open": True}),
        "service_level": (service_level, {"low": 0.0, "low_open": True, "high": 1.0,
                                          "high_open": True}),
        "pack_size": (pack_size, {"low": 1.0, "whole_numbers": True}),
        "moq": (moq, {"low": 0.0}),
        "minimum": (0.0 if minimum is None else minimum, {"low": 0.0}),
        "maximum": (np.inf if maximum is None else maximum, {"low": 0.0, "allow_inf": True}),
    }
    arrays = {}
    for name, (value, limits) in arguments.items():
        arrays[name] = numeric_array(value, name)
        check_range(arrays[name], name, **limits)
    try:
        broadcast = np.broadcast_arrays(*arrays.values())
    except ValueError:
        shapes = ", ".join(f"{name} {array.shape}" for name, array in arrays.items()
                           if array.ndim)
        raise ValueError(f"the array arguments must broadcast together; found shapes "
                         f"{shapes}") from None
    flat = dict(zip(arrays, (np.ravel(array) for array in broadcast), strict=True))
    # caps in whole units, rounded inward
    flat["minimum"] = np.ceil(flat["minimum"] - WHOLE_UNIT_SLACK)
    flat["maximum"] = np.floor(flat["maximum"] + WHOLE_UNIT_SLACK)
    below = flat["maximum"] < flat["minimum"]
    if below.any():
        first = int(np.flatnonzero(below)[0])
        raise ValueError(f"maximum must be >= minimum, in whole units (minimum rounds up, "
                         f"maximum down); found maximum {float(flat['maximum'][first])!r} < "
                         f"minimum {float(flat['minimum'][first])!r} at index {first}")
    return broadcast[0].shape, *flat.values()


def _targets(shape, mean, variance, lead_time, lead_time_sd, review_period, service_level,
             pack_size, moq, minimum, maximum, *, service: ServiceMeasure,
             distribution: FamilyChoice) -> StockTargets:
    """The computation behind `stock_targets`, on validated flat arrays."""
    periods = lead_time + review_period
    protection_mean = periods * mean
    protection_variance = periods * variance + mean * mean * lead_time_sd * lead_time_sd
    codes = choose_family(protection_mean, protection_variance, distribution)
    review_demand = review_period * mean
    if service == "cycle":
        reorder_point = quantile_levels(codes, protection_mean, protection_variance,
                                             service_level)
    else:
        reorder_point = loss_levels(codes, protection_mean, protection_variance,
                                         (1.0 - service_level) * review_demand)

    lot = np.maximum(review_demand, moq)
    lot = np.ceil(lot / pack_size - WHOLE_UNIT_SLACK) * pack_size
    lot[mean == 0] = 0.0
    order_up_to = reorder_point + lot

    np.clip(reorder_point, minimum, maximum, out=reorder_point)
    np.clip(order_up_to, minimum, maximum, out=order_up_to)
    safety_stock = reorder_point - protection_mean
    return StockTargets(*(array.reshape(shape) for array in (
        safety_stock, reorder_point, order_up_to, codes, protection_mean,
        protection_variance)))
