"""Demand over the protection interval, vectorised over millions of pairs: the distribution of
each pair, its service-level quantile and its fill-rate level (first-order loss function).

Every function takes flat float64 arrays with one entry per SKU x location pair and works on
whole arrays: the normal case in closed form (a vectorised Newton solve for the fill rate), the
Poisson and negative binomial cases by an integer search (bracketing then bisection) that
evaluates ``scipy.special`` CDFs on all pairs still searching at once.

Loss functions (expected shortage E[(D - y)+] at level y, Axsäter 2015, chapter 5):

- normal N(mu, sigma^2): sigma [phi(z) - z (1 - Phi(z))] with z = (y - mu) / sigma;
- Poisson(mu), integer y >= 1: mu P(D >= y) - y P(D > y), since d P(D = d) = mu P(D = d - 1);
- negative binomial NB(n, p) (failures before the n-th success, mean mu = n (1 - p) / p),
  integer y >= 1: mu P(D' >= y) - y P(D > y) with D' ~ NB(n + 1, p), since
  d P(D = d) = mu P(D' = d - 1).

References
----------
S. Axsäter, *Inventory Control*, 3rd ed., Springer, 2015, chapter 5.
L. V. Snyder and Z.-J. M. Shen, *Fundamentals of Supply Chain Theory*, 2nd ed., Wiley, 2019,
chapter 4.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import IntEnum
from typing import Literal, get_args

import numpy as np
from scipy import special


class Distribution(IntEnum):
    """The demand distribution used for a pair (the codes stored in `StockTargets`)."""

    NORMAL = 0
    POISSON = 1
    NEGATIVE_BINOMIAL = 2


DistributionChoice = Literal["auto", "normal", "poisson", "negative_binomial"]
"""``"auto"`` picks per pair (see `choose_distribution`); the others force one for every pair."""

DISTRIBUTION_CHOICES: tuple[str, ...] = get_args(DistributionChoice)

NORMAL_MIN_MEAN = 30.0
"""Under ``"auto"``, pairs whose protection-interval mean demand is at least this are normal.

At a mean of 30 a Poisson distribution has skewness 1/sqrt(30) = 0.18 and its quantiles are
within one unit of the normal ones; below it the discrete, skewed shape matters.
"""

POISSON_MAX_DISPERSION = 1.1
"""Under ``"auto"``, a low-volume pair is Poisson when variance / mean <= this, else NB."""

NEGATIVE_BINOMIAL_MIN_EXCESS = 1e-6
"""A pair is Poisson, even when NB is forced, when variance / mean - 1 is below this (the NB
limit as its shape n = mean^2 / (variance - mean) grows without bound)."""

WHOLE_UNIT_SLACK = 1e-9
"""Slack before rounding a quantity up to whole units or packs (absorbs floating-point error:
a level of 12.0000000001 computed for an exact 12 stays 12)."""

_SQRT_2PI = np.sqrt(2.0 * np.pi)
_MAX_DOUBLINGS = 1100  # past 2**1024 a level is infinite and meets any target


def choose_distribution(mean: np.ndarray, variance: np.ndarray,
                        choice: DistributionChoice) -> np.ndarray:
    """The `Distribution` code of each pair.

    ``"auto"``: normal where ``mean >= NORMAL_MIN_MEAN``; otherwise Poisson where
    ``variance <= POISSON_MAX_DISPERSION * mean`` (including under-dispersed pairs, for which
    the Poisson is the conservative choice, and pairs with zero mean); otherwise negative
    binomial. ``"negative_binomial"`` falls back to Poisson where the variance does not exceed
    the mean (by `NEGATIVE_BINOMIAL_MIN_EXCESS`), as no negative binomial has that shape, and
    where its shape n = mu^2 / (sigma^2 - mu) underflows to 0 (sigma^2 / mu^2 beyond 1e300).

    Parameters
    ----------
    mean, variance : numpy.ndarray, shape (pair,)
        Mean mu and variance sigma^2 of demand over the protection interval, units and units^2.
    choice : {"auto", "normal", "poisson", "negative_binomial"}

    Returns
    -------
    numpy.ndarray of int8, shape (pair,)
    """
    overdispersed = variance > mean * (1.0 + NEGATIVE_BINOMIAL_MIN_EXCESS)
    with np.errstate(all="ignore"):  # the shape n underflows to 0 for absurd inputs
        overdispersed &= (mean > 0) & (mean * mean / (variance - mean) > 0)
    if choice == "normal":
        return np.full(mean.shape, Distribution.NORMAL, dtype=np.int8)
    if choice == "poisson":
        return np.full(mean.shape, Distribution.POISSON, dtype=np.int8)
    if choice == "negative_binomial":
        return np.where(overdispersed, Distribution.NEGATIVE_BINOMIAL,
                        Distribution.POISSON).astype(np.int8)
    codes = np.where(overdispersed & (variance > POISSON_MAX_DISPERSION * mean),
                     Distribution.NEGATIVE_BINOMIAL, Distribution.POISSON).astype(np.int8)
    codes[mean >= NORMAL_MIN_MEAN] = Distribution.NORMAL
    return codes


def cycle_service_levels(codes: np.ndarray, mean: np.ndarray, variance: np.ndarray,
                         service_level: np.ndarray) -> np.ndarray:
    """Smallest whole-unit level y >= 0 with P(D <= y) >= alpha, per pair.

    Parameters
    ----------
    codes : numpy.ndarray of int8, shape (pair,)
        `Distribution` of each pair (from `choose_distribution`).
    mean, variance : numpy.ndarray, shape (pair,)
        Mean mu and variance sigma^2 of the demand D over the protection interval.
    service_level : numpy.ndarray, shape (pair,)
        Cycle service level alpha, the probability of no stockout in a cycle, 0 < alpha < 1.

    Returns
    -------
    numpy.ndarray of float64, shape (pair,)
        The alpha-quantile in whole units (normal quantiles mu + z_alpha sigma rounded up,
        clipped at 0).
    """
    z = special.ndtri(service_level)
    normal = mean + np.sqrt(variance) * z

    def poisson(mu, alpha):
        return lambda level, ids: special.pdtr(level, mu[ids]) >= alpha[ids]

    def negative_binomial(n, p, alpha):
        return lambda level, ids: special.betainc(n[ids], level + 1.0, p[ids]) >= alpha[ids]

    return _levels(codes, mean, variance, service_level, z, normal, poisson, negative_binomial)


def fill_rate_levels(codes: np.ndarray, mean: np.ndarray, variance: np.ndarray,
                     allowed_shortage: np.ndarray) -> np.ndarray:
    """Smallest whole-unit level y >= 0 with E[(D - y)+] <= allowed shortage, per pair.

    Parameters
    ----------
    codes : numpy.ndarray of int8, shape (pair,)
        `Distribution` of each pair.
    mean, variance : numpy.ndarray, shape (pair,)
        Mean mu and variance sigma^2 of the demand D over the protection interval.
    allowed_shortage : numpy.ndarray, shape (pair,)
        Largest expected shortage per replenishment cycle, units, > 0 where mean > 0 (for a
        fill rate beta and mean demand per review period mu_R, (1 - beta) mu_R).

    Returns
    -------
    numpy.ndarray of float64, shape (pair,)
        For normal pairs mu + z sigma with sigma L(z) equal to the allowed shortage, rounded up
        (mu minus the allowed shortage when sigma = 0), clipped at 0.
    """
    sigma = np.sqrt(variance)
    spread = sigma > 0
    ratio = np.ones(mean.shape)
    np.divide(allowed_shortage, sigma, out=ratio, where=spread)
    z = _inverse_standard_loss(np.maximum(ratio, 1e-300))
    normal = np.where(spread, mean + sigma * z, mean - allowed_shortage)

    def poisson(mu, shortage):
        return lambda level, ids: _poisson_loss(level, mu[ids]) <= shortage[ids]

    def negative_binomial(n, p, shortage):
        return lambda level, ids: _negative_binomial_loss(level, n[ids], p[ids]) <= shortage[ids]

    return _levels(codes, mean, variance, allowed_shortage, z, normal, poisson,
                   negative_binomial)


def expected_shortage(codes: np.ndarray, mean: np.ndarray, variance: np.ndarray,
                      level: np.ndarray) -> np.ndarray:
    """First-order loss function E[(D - y)+] per pair, units.

    Parameters
    ----------
    codes : numpy.ndarray of int8, shape (pair,)
    mean, variance : numpy.ndarray, shape (pair,)
        Mean and variance of D.
    level : numpy.ndarray, shape (pair,)
        Level y, units (whole units for Poisson and negative binomial pairs). Pairs with zero
        mean have E[(D - y)+] = max(-y, 0).

    Returns
    -------
    numpy.ndarray of float64, shape (pair,)
    """
    out = np.maximum(-level, 0.0)  # no demand: E[(0 - y)+]
    positive = mean > 0
    normal = (codes == Distribution.NORMAL) & positive
    sigma = np.sqrt(variance[normal])
    spread = sigma > 0
    z = np.zeros(sigma.shape)
    np.divide(level[normal] - mean[normal], sigma, out=z, where=spread)
    out[normal] = np.where(spread, sigma * _standard_loss(z),
                           np.maximum(mean[normal] - level[normal], 0.0))
    poisson = (codes == Distribution.POISSON) & positive
    out[poisson] = _poisson_loss(level[poisson], mean[poisson])
    nb = (codes == Distribution.NEGATIVE_BINOMIAL) & positive
    n, p = _negative_binomial_parameters(mean[nb], variance[nb])
    out[nb] = _negative_binomial_loss(level[nb], n, p)
    return out


def _levels(codes, mean, variance, target, z, normal, poisson, negative_binomial):
    """Whole-unit levels by distribution.

    ``normal`` holds the continuous normal level mu + z sigma of every pair; ``poisson`` and
    ``negative_binomial`` build the search conditions from the pairs' parameters and ``target``
    (alpha or the allowed shortage). The discrete searches start from the Cornish-Fisher
    correction of the normal level for skewness gamma = (2 sigma^2 - mu) / (mu sigma) (the
    skewness of both the Poisson and the negative binomial with that mean and variance):
    mu + sigma (z + (z^2 - 1) gamma / 6). Pairs with zero mean get level 0.
    """
    out = np.zeros(mean.shape)
    positive = mean > 0
    pick = (codes == Distribution.NORMAL) & positive
    out[pick] = np.maximum(np.ceil(normal[pick] - WHOLE_UNIT_SLACK), 0.0) + 0.0  # no -0.0

    for code, condition in ((Distribution.POISSON, poisson),
                            (Distribution.NEGATIVE_BINOMIAL, negative_binomial)):
        pick = np.flatnonzero((codes == code) & positive)
        mu, var, zed = mean[pick], variance[pick], z[pick]
        sigma = np.sqrt(var)
        with np.errstate(all="ignore"):  # a bad guess only costs search steps
            skewness = (2.0 * var - mu) / (mu * sigma)
            guess = mu + sigma * (zed + (zed * zed - 1.0) * skewness / 6.0) - 0.5
        if code == Distribution.POISSON:
            satisfied = condition(mu, target[pick])
        else:
            satisfied = condition(*_negative_binomial_parameters(mu, var), target[pick])
        out[pick] = _smallest_level(satisfied, guess)
    return out


def _smallest_level(satisfied: Callable[[np.ndarray, np.ndarray], np.ndarray],
                    guess: np.ndarray) -> np.ndarray:
    """Smallest integer y >= 0 with ``satisfied(y, ids)`` per pair, by bracketing + bisection.

    ``satisfied(levels, ids)`` evaluates the (monotone non-decreasing in y) condition for the
    pairs ``ids`` at ``levels``. The search starts from ``guess`` (a normal approximation):
    probe ceil(guess) and step up by doubling strides until satisfied; step down from there by
    doubling strides until unsatisfied (or below 0); then bisect between the last unsatisfied
    level (or -1) and the first satisfied one. Only pairs still searching are evaluated at each
    step.
    """
    count = guess.size
    guess = np.where(np.isfinite(guess), guess, 0.0)
    high = np.maximum(np.ceil(guess), 0.0)
    low = np.full(count, -1.0)
    stride = np.maximum(np.ceil(0.25 * np.maximum(high, 4.0) ** 0.5), 1.0)
    searching = np.arange(count)
    for _ in range(_MAX_DOUBLINGS):
        if not searching.size:
            break
        ok = satisfied(high[searching], searching)
        searching = searching[~ok]
        low[searching] = high[searching]
        high[searching] += stride[searching]
        stride[searching] *= 2.0
    if searching.size:
        raise FloatingPointError(f"no level meets the service target for {searching.size} "
                                 f"pairs after {_MAX_DOUBLINGS} doublings (non-finite demand "
                                 f"parameters?)")
    # a probe below the guess, so bisection starts from a short bracket
    probe = np.maximum(high - stride, -1.0)
    searching = np.flatnonzero((probe > low) & (probe >= 0))
    while searching.size:
        ok = satisfied(probe[searching], searching)
        low[searching[~ok]] = probe[searching[~ok]]
        found = searching[ok]
        high[found] = probe[found]
        stride[found] *= 2.0
        probe[found] = np.maximum(high[found] - stride[found], -1.0)
        searching = found[(probe[found] > low[found]) & (probe[found] >= 0)]
    searching = np.flatnonzero(high - low > 1)
    while searching.size:
        middle = np.floor(0.5 * (low[searching] + high[searching]))
        ok = satisfied(middle, searching)
        high[searching[ok]] = middle[ok]
        low[searching[~ok]] = middle[~ok]
        searching = searching[high[searching] - low[searching] > 1]
    return high


def _negative_binomial_parameters(mean: np.ndarray, variance: np.ndarray):
    """Shape n = mu^2 / (sigma^2 - mu) and success probability p = mu / sigma^2."""
    return mean * mean / (variance - mean), mean / variance


def _standard_loss(z: np.ndarray) -> np.ndarray:
    """Standard normal loss function L(z) = phi(z) - z (1 - Phi(z))."""
    return np.exp(-0.5 * z * z) / _SQRT_2PI - z * special.ndtr(-z)


def _inverse_standard_loss(target: np.ndarray) -> np.ndarray:
    """z with L(z) = target > 0, by Newton's method on log L (log-concave, decreasing).

    Starting at -target (where L >= target) or, for small targets, from the tail asymptote
    (to the right of the root), the iterates reach the root monotonically after at most one
    overshoot; 1e-12 relative accuracy takes a handful of steps.
    """
    target = np.asarray(target, dtype=np.float64)
    z = np.where(target > 0.4, -target, np.sqrt(np.maximum(-2.0 * np.log(target / 0.4), 0.0)))
    # beyond 1e8, L(z) = -z + L(-z) equals -z in double precision
    todo = np.flatnonzero(target <= 1e8)
    log_target = np.log(target[todo])
    for _ in range(100):
        loss = _standard_loss(z[todo])
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
