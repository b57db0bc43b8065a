"""Demand distributions: one family code, one choice rule, one moment-to-parameter conversion,
and vectorised quantile, distribution, survival and loss functions for millions of pairs.

Every demand in omnistock (a forecast step, the demand over a protection interval, a stream's
demand over the coverage horizon of the plan, a simulated period) is described by its mean
``mu`` and variance ``v`` and one of four families (`Family`):

- ``NORMAL``: N(mu, v), for data that may be negative and for an exact fit at large volumes;
- ``POISSON``: Poisson(mu); v is taken to be mu;
- ``NEGATIVE_BINOMIAL``: the number of failures before the n-th success with success
  probability p, n = mu^2 / (v - mu), p = mu / v (numpy's and scipy's ``nbinom``
  parametrisation); mean mu, variance v > mu;
- ``GAMMA``: for non-negative continuous demand (hectolitres, dollars), shape k = mu^2 / v and
  scale theta = v / mu; skewed like real demand at high variability and normal-like at low
  variability (its skewness is 2 sqrt(v) / mu; Burgin 1975).

A demand with mean 0 is 0 whatever its family. Every function takes flat (or broadcastable)
float64 arrays and works on whole arrays.

Loss functions (expected shortage E[(D - y)+] at level y, Axsäter 2015, chapter 5):

- normal: sigma [phi(z) - z (1 - Phi(z))] with z = (y - mu) / sigma;
- Poisson, integer y >= 1: mu P(D >= y) - y P(D > y), since d P(D = d) = mu P(D = d - 1);
- negative binomial, integer y >= 1: mu P(D' >= y) - y P(D > y) with D' ~ NB(n + 1, p);
- gamma: mu Q(k + 1, y / theta) - y Q(k, y / theta), Q the regularised upper incomplete gamma
  function (since x f(x; k, theta) = mu f(x; k + 1, theta)).

Every search here terminates for any finite input: the level searches bracket by doubling
strides (at most `MAX_DOUBLINGS` steps, past which a level would exceed the largest float) and
bisect only while the midpoint lies strictly between the bracket ends (whole-unit levels above
2^53 are no longer all representable, and the search stops at the representable level; the
continuous searches stop at a relative width of `CONTINUOUS_TOLERANCE`); the inverse normal loss
runs at most 100 Newton steps.

References
----------
S. Axsäter, *Inventory Control*, 3rd ed., Springer, 2015, chapter 5.
L. V. Snyder and Z.-J. M. Shen, *Fundamentals of Supply Chain Theory*, 2nd ed., Wiley, 2019,
chapter 4.
D. Burgin, "The gamma distribution and inventory control", *Operational Research Quarterly*
26 (1975), 507-525.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import IntEnum
from typing import Literal, get_args

import numpy as np
from scipy import special, stats


class Family(IntEnum):
    """Distribution family of a demand; the codes are stored as int8 in arrays."""

    NORMAL = 0
    POISSON = 1
    NEGATIVE_BINOMIAL = 2
    GAMMA = 3

    @property
    def label(self) -> str:
        """The name written in output tables (``normal``, ``poisson``, ``negbin``, ``gamma``)."""
        return str(FAMILY_LABELS[self])


FAMILY_LABELS = np.array(["normal", "poisson", "negbin", "gamma"])
"""Output-table names of the families, indexed by `Family` code."""

COUNT_FAMILIES = (Family.POISSON, Family.NEGATIVE_BINOMIAL)
"""Families of whole-unit demand."""

FamilyChoice = Literal["auto", "normal", "poisson", "negative_binomial", "gamma"]
"""How `choose_family` picks: ``"auto"`` per pair, the others force one family."""

FAMILY_CHOICES: tuple[str, ...] = get_args(FamilyChoice)

NORMAL_MIN_MEAN = 30.0
"""Under ``"auto"``, count pairs that are not overdispersed and whose mean is at least this are
normal.

At a mean of 30 a Poisson distribution has skewness 1/sqrt(30) = 0.18 and its quantiles are
within one unit of the normal ones; below it the discrete, skewed shape matters.
"""

POISSON_MAX_DISPERSION = 1.1
"""Under ``"auto"``, a count pair is Poisson (or normal, at a high mean) when variance / mean <=
this, else negative binomial, whatever its mean: a mean of 30 with variance 300 is skewed
(skewness 0.6) and a normal model of it misses a 98% fill rate by two points."""

GAMMA_MIN_CV = 0.5
"""Under ``"auto"``, non-negative continuous demand is gamma when its coefficient of variation
exceeds this (gamma skewness 1), normal otherwise: errors of well-forecast sums of smooth series
are close to symmetric, and on the real data of issue 14 (stallion) a gamma for them needed 4-6%
more stock than a normal for the same delivered fill rate."""

NEGATIVE_BINOMIAL_MIN_EXCESS = 1e-6
"""A pair is Poisson, even when NB is asked for, when variance / mean - 1 is at most this (the NB
limit as its shape n = mean^2 / (variance - mean) grows without bound)."""

WHOLE_UNIT_SLACK = 1e-9
"""Slack before rounding a quantity up to whole units or packs (absorbs floating-point error:
a level of 12.0000000001 computed for an exact 12 stays 12)."""

MAX_DOUBLINGS = 1100
"""Bracketing steps of the level searches; past 2^1024 a level is infinite."""

CONTINUOUS_TOLERANCE = 1e-10
"""Relative width at which a continuous level search stops."""

MAX_COUNT_MEAN = 1e9
"""Count families are evaluated exactly up to this mean; beyond it (and for negative binomial
shapes below `MIN_NEGATIVE_BINOMIAL_SHAPE`) a demand is evaluated as the normal with the same
mean and variance: at a mean of 1e9 a Poisson's skewness is 3e-5 and the normal quantiles are
exact to the unit. Beyond it scipy's count routines fail: ``poisson.ppf(0.5, 1e11)`` is NaN,
and ``nbinom.ppf`` at mean 5e15 or ``nbinom.cdf`` at shape 1e-300 and mean 1e9 abort the
process (scipy 1.16)."""

MIN_NEGATIVE_BINOMIAL_SHAPE = 1e-100
"""Smallest negative binomial shape n evaluated exactly (see `MAX_COUNT_MEAN`)."""

_SQRT_2PI = np.sqrt(2.0 * np.pi)


def family_codes(labels: np.ndarray) -> np.ndarray:
    """`Family` codes (int8) of output-table names (`FAMILY_LABELS`).

    Raises
    ------
    ValueError
        If a name is not one of ``normal``, ``poisson``, ``negbin``, ``gamma``.
    """
    labels = np.asarray(labels)
    codes = np.full(labels.shape, -1, dtype=np.int8)
    for code, label in enumerate(FAMILY_LABELS):
        codes[labels == label] = code
    if (codes < 0).any():
        bad = str(labels[codes < 0].ravel()[0])
        raise ValueError(f"distribution must be one of {', '.join(FAMILY_LABELS)}; "
                         f"found {bad!r}")
    return codes


def choose_family(mean: np.ndarray, variance: np.ndarray, choice: FamilyChoice = "auto", *,
                  counts=True, nonnegative=True) -> np.ndarray:
    """The `Family` code of each pair: the one family choice rule.

    Under ``"auto"``:

    - count data (``counts``): negative binomial where the pair is overdispersed beyond
      ``POISSON_MAX_DISPERSION`` (variance / mean), whatever its mean (the dispersion, not the
      volume, decides the shape); otherwise Poisson, or normal where the mean is at least
      ``NORMAL_MIN_MEAN`` (a Poisson-like demand at high volume); pairs with zero mean are
      Poisson;
    - non-negative continuous data (``nonnegative`` and not ``counts``): gamma where the
      coefficient of variation exceeds `GAMMA_MIN_CV` (skewed demand), normal otherwise;
    - data that may be negative: normal.

    A forced choice applies to every pair, with two exceptions: a forced negative binomial is
    Poisson where the pair is not overdispersed (variance / mean - 1 at most
    `NEGATIVE_BINOMIAL_MIN_EXCESS`, or a shape n = mu^2 / (v - mu) that underflows to 0), and a
    forced gamma is normal where the mean or the variance is 0.

    Parameters
    ----------
    mean, variance : numpy.ndarray
        Mean mu >= 0 and variance v >= 0 of each pair (broadcast together).
    choice : {"auto", "normal", "poisson", "negative_binomial", "gamma"}
    counts : bool or numpy.ndarray of bool
        Whether each pair's demand is a count (whole units); used by ``"auto"``.
    nonnegative : bool or numpy.ndarray of bool
        Whether each pair's demand is never negative; used by ``"auto"``.

    Returns
    -------
    numpy.ndarray of int8
    """
    if choice not in FAMILY_CHOICES:
        raise ValueError(f"choice must be one of {', '.join(FAMILY_CHOICES)}; found {choice!r}")
    mean, variance = np.broadcast_arrays(np.asarray(mean, float), np.asarray(variance, float))
    over = overdispersed(mean, variance)
    spread = (mean > 0) & (variance > 0)
    if choice == "normal":
        return np.full(mean.shape, Family.NORMAL, dtype=np.int8)
    if choice == "poisson":
        return np.full(mean.shape, Family.POISSON, dtype=np.int8)
    if choice == "negative_binomial":
        return np.where(over, Family.NEGATIVE_BINOMIAL, Family.POISSON).astype(np.int8)
    if choice == "gamma":
        return np.where(spread, Family.GAMMA, Family.NORMAL).astype(np.int8)
    count = np.where(over & (variance > POISSON_MAX_DISPERSION * mean),
                     Family.NEGATIVE_BINOMIAL,
                     np.where(mean >= NORMAL_MIN_MEAN, Family.NORMAL, Family.POISSON))
    with np.errstate(divide="ignore", invalid="ignore"):
        skewed = spread & (variance > (GAMMA_MIN_CV * mean) ** 2)
    continuous = np.where(np.asarray(nonnegative) & skewed, Family.GAMMA, Family.NORMAL)
    return np.where(counts, count, continuous).astype(np.int8)


def overdispersed(mean: np.ndarray, variance: np.ndarray) -> np.ndarray:
    """Pairs a negative binomial can describe: mu > 0, v / mu - 1 above
    `NEGATIVE_BINOMIAL_MIN_EXCESS`, and a shape n = mu^2 / (v - mu) that does not underflow."""
    over = variance > mean * (1.0 + NEGATIVE_BINOMIAL_MIN_EXCESS)
    with np.errstate(all="ignore"):  # the shape underflows to 0 for absurd inputs
        over &= (mean > 0) & (mean * mean / (variance - mean) > 0)
    return over


def count_variance(mean: np.ndarray, dispersion: np.ndarray) -> np.ndarray:
    """Negative binomial variance ``mu + phi mu^2`` for excess dispersion ``phi >= 0``."""
    return mean + dispersion * mean**2


def negative_binomial_parameters(mean: np.ndarray, variance: np.ndarray
                                 ) -> tuple[np.ndarray, np.ndarray]:
    """Shape n and success probability p of the negative binomial with this mean and variance.

    n = mu^2 / (v - mu) and p = mu / v, with the variance raised to at least
    mu (1 + `NEGATIVE_BINOMIAL_MIN_EXCESS`) so that every pair gets valid parameters (a pair at
    the floor is a Poisson in all but name). Pairs with mean 0 get n = 1, p = 1: always 0.

    Parameters
    ----------
    mean, variance : numpy.ndarray
        Broadcast together.

    Returns
    -------
    n, p : numpy.ndarray of float64
    """
    mean, variance = np.broadcast_arrays(np.asarray(mean, float), np.asarray(variance, float))
    active = mean > 0
    variance = np.maximum(variance, mean * (1.0 + NEGATIVE_BINOMIAL_MIN_EXCESS))
    with np.errstate(all="ignore"):
        n = np.where(active, mean * mean / (variance - mean), 1.0)
        p = np.where(active, mean / np.where(active, variance, 1.0), 1.0)
    return n, p


def rescaled_variance(mean, variance, new_mean, *, counts) -> np.ndarray:
    """The variance of demand moved from ``mean`` to ``new_mean`` with its relative spread
    kept: the excess dispersion phi of ``Var = mu + phi mu^2`` where ``counts`` (phi >= 0), the
    coefficient of variation otherwise; 0 where ``mean`` is 0 (no spread to keep)."""
    mean, variance, new_mean = (np.asarray(a, float) for a in (mean, variance, new_mean))
    with np.errstate(divide="ignore", invalid="ignore"):
        excess = np.where(counts, variance - mean, variance)
        dispersion = np.where(mean > 0, np.maximum(excess, 0.0) / mean**2, 0.0)
    return np.where(counts, new_mean, 0.0) + dispersion * new_mean**2


def gamma_parameters(mean: np.ndarray, variance: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Shape k = mu^2 / v and scale theta = v / mu of the gamma with this mean and variance
    (pairs with zero mean or variance get k = 1, theta = 0: always 0)."""
    mean, variance = np.broadcast_arrays(np.asarray(mean, float), np.asarray(variance, float))
    active = (mean > 0) & (variance > 0)
    with np.errstate(all="ignore"):
        shape = np.where(active, mean * mean / np.where(active, variance, 1.0), 1.0)
        scale = np.where(active, variance / np.where(active, mean, 1.0), 0.0)
    return shape, scale


# -- distribution functions -----------------------------------------------------------------------


def evaluated_family(codes, mean, variance) -> tuple[np.ndarray, np.ndarray]:
    """The family and variance a demand is evaluated with: its own, except count demands
    outside the exact domain (mean above `MAX_COUNT_MEAN`, negative binomial shape below
    `MIN_NEGATIVE_BINOMIAL_SHAPE`) and gamma demands without spread, which are evaluated as
    normal with the same mean and variance (a Poisson's variance is its mean).

    Returns
    -------
    codes, variance : numpy.ndarray
        Broadcast to the shape of the inputs (copies).
    """
    codes, mean, variance = np.broadcast_arrays(np.asarray(codes, np.int8),
                                                np.asarray(mean, float),
                                                np.asarray(variance, float))
    codes, variance = codes.copy(), variance.copy()
    poisson = codes == Family.POISSON
    variance[poisson] = mean[poisson]
    negbin = codes == Family.NEGATIVE_BINOMIAL
    n, _ = negative_binomial_parameters(mean[negbin], variance[negbin])
    outside = np.array((mean > MAX_COUNT_MEAN) & (poisson | negbin))
    outside[negbin] |= n < MIN_NEGATIVE_BINOMIAL_SHAPE
    outside |= (codes == Family.GAMMA) & ~((mean > 0) & (variance > 0))
    codes[outside] = Family.NORMAL
    return codes, variance


def _split(codes, mean, variance, *others):
    """Broadcast the arguments and return them with the masks of the four families (mean > 0
    for the count and gamma families), demands outside the exact domains moved to the normal."""
    arrays = list(np.broadcast_arrays(np.asarray(codes), np.asarray(mean, float),
                                      np.asarray(variance, float), *(np.asarray(o, float)
                                                                     for o in others)))
    arrays[0], arrays[2] = evaluated_family(arrays[0], arrays[1], arrays[2])
    codes, mean = arrays[0], arrays[1]
    masks = [codes == Family.NORMAL]
    masks += [(codes == family) & (mean > 0) for family in (Family.POISSON,
                                                             Family.NEGATIVE_BINOMIAL,
                                                             Family.GAMMA)]
    return arrays, *masks


def quantile(codes, mean, variance, probability, *, nonnegative: bool = True) -> np.ndarray:
    """The ``probability``-quantile of each demand.

    Normal: mu + sqrt(v) Phi^-1(q), floored at 0 when ``nonnegative`` (not rounded); gamma:
    theta P^-1(k, q); count families: the smallest whole y with P(D <= y) >= q (scipy's
    inversion, bounded time).

    Parameters
    ----------
    codes : numpy.ndarray of int8
        `Family` codes.
    mean, variance, probability : numpy.ndarray or float
        Broadcast with ``codes``; 0 < probability < 1.
    nonnegative : bool
        Floor normal quantiles at zero.
    """
    (codes, mean, variance, q), normal, poisson, negbin, gamma = _split(codes, mean, variance,
                                                                        probability)
    out = np.zeros(mean.shape)
    value = mean[normal] + np.sqrt(variance[normal]) * special.ndtri(q[normal])
    out[normal] = np.maximum(value, 0.0) if nonnegative else value
    out[poisson] = stats.poisson.ppf(q[poisson], mean[poisson])
    n, p = negative_binomial_parameters(mean[negbin], variance[negbin])
    out[negbin] = stats.nbinom.ppf(q[negbin], n, p)
    k, theta = gamma_parameters(mean[gamma], variance[gamma])
    out[gamma] = theta * special.gammaincinv(k, q[gamma])
    return out


def cdf(codes, mean, variance, x) -> np.ndarray:
    """P(D <= x) of each demand (whole-unit x for the count families; 1 at x >= 0 for a demand
    with mean 0 other than the normal)."""
    (codes, mean, variance, x), normal, poisson, negbin, gamma = _split(codes, mean, variance, x)
    out = np.where(x >= 0, 1.0, 0.0)
    sd = np.sqrt(variance[normal])
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (x[normal] - mean[normal]) / sd
    out[normal] = np.where(sd > 0, special.ndtr(z), (x[normal] >= mean[normal]) * 1.0)
    out[poisson] = stats.poisson.cdf(x[poisson], mean[poisson])
    n, p = negative_binomial_parameters(mean[negbin], variance[negbin])
    out[negbin] = stats.nbinom.cdf(x[negbin], n, p)
    k, theta = gamma_parameters(mean[gamma], variance[gamma])
    out[gamma] = special.gammainc(k, np.maximum(x[gamma], 0.0) / theta)
    return out


def survival(codes, mean, variance, x) -> np.ndarray:
    """P(D > x) of each demand (1 - `cdf`, computed without cancellation)."""
    (codes, mean, variance, x), normal, poisson, negbin, gamma = _split(codes, mean, variance, x)
    out = np.where(x >= 0, 0.0, 1.0)
    sd = np.sqrt(variance[normal])
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (x[normal] - mean[normal]) / sd
    out[normal] = np.where(sd > 0, special.ndtr(-z), (x[normal] < mean[normal]) * 1.0)
    out[poisson] = stats.poisson.sf(x[poisson], mean[poisson])
    n, p = negative_binomial_parameters(mean[negbin], variance[negbin])
    out[negbin] = stats.nbinom.sf(x[negbin], n, p)
    k, theta = gamma_parameters(mean[gamma], variance[gamma])
    out[gamma] = special.gammaincc(k, np.maximum(x[gamma], 0.0) / theta)
    return out


def pmf(codes, mean, variance, x) -> np.ndarray:
    """P(D = x) of each count demand; the density at x for normal and gamma ones."""
    (codes, mean, variance, x), normal, poisson, negbin, gamma = _split(codes, mean, variance, x)
    out = np.where(x == 0, 1.0, 0.0)
    out[normal] = stats.norm.pdf(x[normal], mean[normal], np.sqrt(variance[normal]))
    out[poisson] = stats.poisson.pmf(x[poisson], mean[poisson])
    n, p = negative_binomial_parameters(mean[negbin], variance[negbin])
    out[negbin] = stats.nbinom.pmf(x[negbin], n, p)
    k, theta = gamma_parameters(mean[gamma], variance[gamma])
    out[gamma] = stats.gamma.pdf(x[gamma], k, scale=theta)
    return out


def expected_shortage(codes, mean, variance, level) -> np.ndarray:
    """First-order loss function E[(D - y)+] per pair, units.

    Parameters
    ----------
    codes : numpy.ndarray of int8
        `Family` codes.
    mean, variance : numpy.ndarray
        Mean and variance of D.
    level : numpy.ndarray
        Level y, units (whole units for Poisson and negative binomial pairs). Pairs with zero
        mean have E[(D - y)+] = max(-y, 0).

    Returns
    -------
    numpy.ndarray of float64
    """
    (codes, mean, variance, level), normal, poisson, negbin, gamma = _split(
        codes, mean, variance, level)
    normal &= mean > 0
    out = np.array(np.maximum(-level, 0.0))  # no demand: E[(0 - y)+]
    with np.errstate(all="ignore"):  # extreme parameters: the terms are guarded below
        sigma = np.sqrt(variance[normal])
        spread = sigma > 0
        z = np.zeros(sigma.shape)
        np.divide(level[normal] - mean[normal], sigma, out=z, where=spread)
        out[normal] = np.where(spread, sigma * standard_normal_loss(z),
                               np.maximum(mean[normal] - level[normal], 0.0))
        out[poisson] = _poisson_loss(level[poisson], mean[poisson])
        n, p = negative_binomial_parameters(mean[negbin], variance[negbin])
        out[negbin] = _negative_binomial_loss(level[negbin], n, p)
        out[gamma] = _gamma_loss(level[gamma], mean[gamma], variance[gamma])
    return np.where(np.isfinite(out), out, np.maximum(mean - level, 0.0))


# -- levels ---------------------------------------------------------------------------------------


def quantile_levels(codes: np.ndarray, mean: np.ndarray, variance: np.ndarray,
                    probability: np.ndarray, *, whole_units: bool = True) -> np.ndarray:
    """Smallest level y >= 0 with P(D <= y) >= alpha, per pair.

    Parameters
    ----------
    codes : numpy.ndarray of int8, shape (pair,)
        `Family` of each pair (from `choose_family`).
    mean, variance : numpy.ndarray, shape (pair,)
        Mean mu and variance sigma^2 of the demand D.
    probability : numpy.ndarray, shape (pair,)
        alpha, 0 < alpha < 1 (a cycle service level).
    whole_units : bool
        Round the levels of the continuous families up to whole units (count families are
        always whole).

    Returns
    -------
    numpy.ndarray of float64, shape (pair,)
        The alpha-quantile (normal quantiles mu + z_alpha sigma and gamma quantiles, clipped at
        0); 0 for pairs with zero mean.
    """
    codes, variance = evaluated_family(codes, mean, variance)
    out = np.zeros(mean.shape)
    positive = mean > 0
    normal = (codes == Family.NORMAL) & positive
    out[normal] = mean[normal] + np.sqrt(variance[normal]) * special.ndtri(probability[normal])
    gamma = (codes == Family.GAMMA) & positive
    k, theta = gamma_parameters(mean[gamma], variance[gamma])
    out[gamma] = theta * special.gammaincinv(k, probability[gamma])
    continuous = normal | gamma
    out[continuous] = _continuous(out[continuous], whole_units)
    z = special.ndtri(probability)

    def poisson(mu, alpha):
        return lambda level, ids: special.pdtr(level, mu[ids]) >= alpha[ids]

    def negative_binomial(n, p, alpha):
        return lambda level, ids: special.betainc(n[ids], level + 1.0, p[ids]) >= alpha[ids]

    _count_levels(out, codes, mean, variance, probability, z, poisson, negative_binomial)
    return out


def loss_levels(codes: np.ndarray, mean: np.ndarray, variance: np.ndarray,
                allowed_shortage: np.ndarray, *, netted=None,
                whole_units: bool = True) -> np.ndarray:
    """Smallest level y >= 0 whose expected shortage is at most the allowed shortage, per pair.

    Without ``netted``, the shortage is E[(D - y)+] (Axsäter's approximation of the shortage
    per replenishment cycle, which neglects the shortage already present when the cycle
    starts). With ``netted = (codes_L, mean_L, variance_L)``, the demand D_L over the lead time
    alone, it is E[(D - y)+] - E[(D_L - y)+]: the exact expected shortage per review cycle of a
    periodic-review order-up-to policy with backorders when D = D_L + D_R (Axsäter 2015,
    section 5.6), non-increasing in y since D >= D_L.

    Parameters
    ----------
    codes : numpy.ndarray of int8, shape (pair,)
        `Family` of each pair's protection-interval demand D.
    mean, variance : numpy.ndarray, shape (pair,)
        Mean mu and variance sigma^2 of D.
    allowed_shortage : numpy.ndarray, shape (pair,)
        Largest expected shortage per cycle, units, > 0 where mean > 0 (for a fill rate beta
        and mean demand per review period mu_R, (1 - beta) mu_R).
    netted : tuple of numpy.ndarray, optional
        ``(codes_L, mean_L, variance_L)`` of the lead-time demand D_L, shape (pair,) each.
    whole_units : bool
        Whole-unit levels for the continuous families too (count families always are).

    Returns
    -------
    numpy.ndarray of float64, shape (pair,)
        The levels, clipped at 0; 0 for pairs with zero mean. Without ``netted``, normal levels
        are mu + z sigma with sigma L(z) equal to the allowed shortage (mu minus the allowed
        shortage when sigma = 0).
    """
    codes, variance = evaluated_family(codes, mean, variance)
    sigma = np.sqrt(variance)
    spread = sigma > 0
    ratio = np.ones(mean.shape)
    np.divide(allowed_shortage, sigma, out=ratio, where=spread)
    z = inverse_standard_normal_loss(np.maximum(ratio, 1e-300))
    guess = np.where(spread, mean + sigma * z, mean - allowed_shortage)
    out = np.zeros(mean.shape)
    positive = mean > 0
    if netted is None:
        normal = (codes == Family.NORMAL) & positive
        out[normal] = _continuous(np.maximum(guess[normal], 0.0), whole_units)
        searched = (codes == Family.GAMMA) & positive
    else:
        netted = tuple(np.asarray(a) for a in netted)
        searched = ((codes == Family.NORMAL) | (codes == Family.GAMMA)) & positive

    def shortage(level, ids, pick):
        loss = expected_shortage(codes[pick][ids], mean[pick][ids], variance[pick][ids], level)
        if netted is not None:
            loss = loss - expected_shortage(netted[0][pick][ids], netted[1][pick][ids],
                                            netted[2][pick][ids], level)
        return loss

    pick = np.flatnonzero(searched)
    target = allowed_shortage[pick]
    found = smallest_continuous_level(lambda y, ids: shortage(y, ids, pick) <= target[ids],
                                      np.maximum(guess[pick], 0.0))
    out[pick] = _continuous(found, whole_units)

    def poisson(mu, allowed):
        return lambda level, ids: shortage(level, ids, counts_poisson) <= allowed[ids]

    def negative_binomial(n, p, allowed):
        return lambda level, ids: shortage(level, ids, counts_negbin) <= allowed[ids]

    counts_poisson = np.flatnonzero((codes == Family.POISSON) & positive)
    counts_negbin = np.flatnonzero((codes == Family.NEGATIVE_BINOMIAL) & positive)
    _count_levels(out, codes, mean, variance, allowed_shortage, z, poisson, negative_binomial)
    return out


def _continuous(level: np.ndarray, whole_units: bool) -> np.ndarray:
    """Continuous levels clipped at 0, rounded up to whole units when asked."""
    with np.errstate(invalid="ignore"):
        level = np.maximum(level, 0.0)
        if whole_units:
            level = np.maximum(np.ceil(level - WHOLE_UNIT_SLACK), 0.0)
    return level + 0.0  # no -0.0


def _count_levels(out, codes, mean, variance, target, z, poisson, negative_binomial) -> None:
    """Whole-unit levels of the count pairs with positive mean, written into ``out``.

    ``poisson`` and ``negative_binomial`` build the search conditions from the pairs'
    parameters and ``target`` (alpha or the allowed shortage), indexed within their family. The
    searches start from the Cornish-Fisher correction of the normal level for skewness
    gamma = (2 sigma^2 - mu) / (mu sigma) (the skewness of both the Poisson and the negative
    binomial with that mean and variance): mu + sigma (z + (z^2 - 1) gamma / 6).
    """
    for code, condition in ((Family.POISSON, poisson),
                            (Family.NEGATIVE_BINOMIAL, negative_binomial)):
        pick = np.flatnonzero((codes == code) & (mean > 0))
        mu, var, zed = mean[pick], variance[pick], z[pick]
        sigma = np.sqrt(var)
        with np.errstate(all="ignore"):  # a bad guess only costs search steps
            skewness = (2.0 * var - mu) / (mu * sigma)
            guess = mu + sigma * (zed + (zed * zed - 1.0) * skewness / 6.0) - 0.5
        if code == Family.POISSON:
            satisfied = condition(mu, target[pick])
        else:
            satisfied = condition(*negative_binomial_parameters(mu, var), target[pick])
        out[pick] = smallest_level(satisfied, guess)


def smallest_continuous_level(satisfied: Callable[[np.ndarray, np.ndarray], np.ndarray],
                              guess: np.ndarray) -> np.ndarray:
    """Smallest y >= 0 with ``satisfied(y, ids)`` per pair, to a relative width of
    `CONTINUOUS_TOLERANCE`, by bracketing + bisection.

    ``satisfied`` is monotone non-decreasing in y. Pairs satisfied at 0 get 0; otherwise the
    search probes ``guess`` and doubles a stride upwards until satisfied, then bisects. At most
    `MAX_DOUBLINGS` bracketing steps and 200 bisection steps per pair.

    Raises
    ------
    FloatingPointError
        If a pair is still unsatisfied past the largest float (non-finite parameters).
    """
    count = guess.size
    high = np.where(np.isfinite(guess) & (guess > 0), guess, 1.0)
    low = np.zeros(count)
    out = np.zeros(count)
    searching = np.arange(count)
    if count:
        at_zero = satisfied(np.zeros(count), searching)
        searching = searching[~at_zero]
    stride = np.maximum(high, 1e-300)
    _bracket_up(satisfied, low, high, stride, searching)
    if count:
        searching = np.flatnonzero(~at_zero)
    for _ in range(200):
        wide = high[searching] - low[searching] > CONTINUOUS_TOLERANCE * high[searching]
        searching = searching[wide]
        if not searching.size:
            break
        middle = 0.5 * (low[searching] + high[searching])
        ok = satisfied(middle, searching)
        high[searching[ok]] = middle[ok]
        low[searching[~ok]] = middle[~ok]
    if count:
        out[~at_zero] = high[~at_zero]
    return out


def _bracket_up(satisfied: Callable[[np.ndarray, np.ndarray], np.ndarray], low: np.ndarray,
                high: np.ndarray, stride: np.ndarray, searching: np.ndarray) -> None:
    """Raise ``high`` (in place) by doubling strides until ``satisfied`` for every pair in
    ``searching``, ``low`` following as the last unsatisfied level; at most `MAX_DOUBLINGS`
    steps.

    Raises
    ------
    FloatingPointError
        If a pair is still unsatisfied after `MAX_DOUBLINGS` steps.
    """
    for _ in range(MAX_DOUBLINGS):
        if not searching.size:
            return
        ok = satisfied(high[searching], searching)
        searching = searching[~ok]
        low[searching] = high[searching]
        high[searching] += stride[searching]
        stride[searching] *= 2.0
    if searching.size:
        raise FloatingPointError(f"no level meets the service target for {searching.size} "
                                 f"pairs after {MAX_DOUBLINGS} doublings (non-finite demand "
                                 f"parameters?)")


def smallest_level(satisfied: Callable[[np.ndarray, np.ndarray], np.ndarray],
                   guess: np.ndarray) -> np.ndarray:
    """Smallest whole y >= 0 with ``satisfied(y, ids)`` per pair, by bracketing + bisection.

    ``satisfied(levels, ids)`` evaluates the (monotone non-decreasing in y) condition for the
    pairs ``ids`` at ``levels``. The search starts from ``guess`` (a normal approximation):
    probe ceil(guess) and step up by doubling strides until satisfied; step down from there by
    doubling strides until unsatisfied (or below 0); then bisect between the last unsatisfied
    level (or -1) and the first satisfied one. Only pairs still searching are evaluated at each
    step. Every loop is bounded: at most `MAX_DOUBLINGS` bracketing steps each way, and the
    bisection stops when the midpoint is no longer strictly inside the bracket (levels beyond
    2^53, where neighbouring floats are more than one unit apart).

    Raises
    ------
    FloatingPointError
        If a pair is still unsatisfied past 2^1024 (non-finite demand parameters).
    """
    count = guess.size
    guess = np.where(np.isfinite(guess), guess, 0.0)
    high = np.maximum(np.ceil(guess), 0.0)
    low = np.full(count, -1.0)
    stride = np.maximum(np.ceil(0.25 * np.maximum(high, 4.0) ** 0.5), 1.0)
    searching = np.arange(count)
    _bracket_up(satisfied, low, high, stride, searching)
    # a probe below the guess, so bisection starts from a short bracket
    probe = np.maximum(high - stride, -1.0)
    searching = np.flatnonzero((probe > low) & (probe >= 0) & (probe < high))
    for _ in range(MAX_DOUBLINGS):
        if not searching.size:
            break
        ok = satisfied(probe[searching], searching)
        low[searching[~ok]] = probe[searching[~ok]]
        found = searching[ok]
        high[found] = probe[found]
        stride[found] *= 2.0
        probe[found] = np.maximum(high[found] - stride[found], -1.0)
        searching = found[(probe[found] > low[found]) & (probe[found] >= 0)
                          & (probe[found] < high[found])]
    searching = np.flatnonzero(high - low > 1)
    for _ in range(2 * MAX_DOUBLINGS):
        middle = np.floor(0.5 * (low[searching] + high[searching]))
        inside = (middle > low[searching]) & (middle < high[searching])
        searching, middle = searching[inside], middle[inside]
        if not searching.size:
            break
        ok = satisfied(middle, searching)
        high[searching[ok]] = middle[ok]
        low[searching[~ok]] = middle[~ok]
        searching = searching[high[searching] - low[searching] > 1]
    return high


# -- loss functions -------------------------------------------------------------------------------


def standard_normal_loss(z: np.ndarray) -> np.ndarray:
    """Standard normal loss function L(z) = phi(z) - z (1 - Phi(z)); 0 for z beyond 40 and -z
    below -40 (where the terms under- or overflow)."""
    z = np.asarray(z, dtype=np.float64)
    with np.errstate(all="ignore"):
        inside = np.clip(z, -40.0, 40.0)
        loss = np.exp(-0.5 * inside * inside) / _SQRT_2PI - inside * special.ndtr(-inside)
    return np.where(z > 40.0, 0.0, np.where(z < -40.0, -z, loss))


def inverse_standard_normal_loss(target: np.ndarray) -> np.ndarray:
    """z with L(z) = target > 0, by Newton's method on log L (log-concave, decreasing).

    Starting at -target (where L >= target) or, for small targets, from the tail asymptote
    (to the right of the root), the iterates reach the root monotonically after at most one
    overshoot; 1e-12 relative accuracy takes a handful of steps (at most 100 are run).
    """
    target = np.asarray(target, dtype=np.float64)
    z = np.where(target > 0.4, -target, np.sqrt(np.maximum(-2.0 * np.log(target / 0.4), 0.0)))
    # beyond 1e8, L(z) = -z + L(-z) equals -z in double precision
    todo = np.flatnonzero(target <= 1e8)
    log_target = np.log(target[todo])
    for _ in range(100):
        loss = standard_normal_loss(z[todo])
        step = (np.log(loss) - log_target) * loss / special.ndtr(-z[todo])
        z[todo] += step
        if np.all(np.abs(step) <= 1e-12 * (1.0 + np.abs(z[todo]))):
            break
    return z


def _poisson_loss(level: np.ndarray, mu: np.ndarray) -> np.ndarray:
    """E[(D - y)+] for D ~ Poisson(mu) at integer y.

    mu P(D >= y) - y P(D > y) = (mu - y) P(D >= y) + y P(D = y) for y >= 1; mu - y for y <= 0.
    """
    above = np.maximum(level, 1.0)
    mass = np.exp(above * np.log(mu) - mu - special.gammaln(above + 1.0))
    loss = (mu - above) * special.pdtrc(above - 1.0, mu) + above * mass
    return np.where(level >= 1, np.maximum(loss, 0.0), mu - level)


def _negative_binomial_loss(level: np.ndarray, n: np.ndarray, p: np.ndarray) -> np.ndarray:
    """E[(D - y)+] for D ~ NB(n, p) at integer y.

    mu P(D' >= y) - y P(D > y) with D' ~ NB(n + 1, p) equals
    (mu - y) P(D >= y) + y P(D = y) / p for y >= 1 (from I_p(n+1, y) = I_p(n, y) - (y/n) P(D=y)
    and I_p(n, y+1) = I_p(n, y) + P(D = y), I the regularised incomplete beta function);
    mu - y for y <= 0.
    """
    mu = n * (1.0 - p) / p
    above = np.maximum(level, 1.0)
    mass = np.exp(special.gammaln(n + above) - special.gammaln(n) - special.gammaln(above + 1.0)
                  + n * np.log(p) + above * np.log1p(-p))
    loss = (mu - above) * (1.0 - special.betainc(n, above, p)) + above * mass / p
    return np.where(level >= 1, np.maximum(loss, 0.0), mu - level)


def _gamma_loss(level: np.ndarray, mean: np.ndarray, variance: np.ndarray) -> np.ndarray:
    """E[(D - y)+] for a gamma D with this mean and variance.

    mu Q(k + 1, y / theta) - y Q(k, y / theta) for y >= 0 (x f(x; k, theta) = mu f(x; k + 1,
    theta)); mu - y for y < 0.
    """
    k, theta = gamma_parameters(mean, variance)
    x = np.maximum(level, 0.0) / theta
    loss = mean * special.gammaincc(k + 1.0, x) - np.maximum(level, 0.0) * special.gammaincc(k, x)
    return np.where(level >= 0, np.maximum(loss, 0.0), mean - level)
