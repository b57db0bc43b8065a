"""Demand distributions: one family code, one choice rule, one moment-to-parameter conversion,
and vectorised quantile, distribution, survival and loss functions for millions of pairs.

Every demand in omnistock (a forecast step, the demand over a protection interval, a stream's
demand over the coverage horizon of the plan, a simulated period) is described by its mean
``mu`` and variance ``v`` and one of three families (`Family`):

- ``NORMAL``: N(mu, v), for continuous data and large means;
- ``POISSON``: Poisson(mu); v is taken to be mu;
- ``NEGATIVE_BINOMIAL``: the number of failures before the n-th success with success
  probability p, n = mu^2 / (v - mu), p = mu / v (numpy's and scipy's ``nbinom``
  parametrisation); mean mu, variance v > mu.

A demand with mean 0 is 0 whatever its family. Every function takes flat (or broadcastable)
float64 arrays and works on whole arrays.

Loss functions (expected shortage E[(D - y)+] at level y, Axsäter 2015, chapter 5):

- normal: sigma [phi(z) - z (1 - Phi(z))] with z = (y - mu) / sigma;
- Poisson, integer y >= 1: mu P(D >= y) - y P(D > y), since d P(D = d) = mu P(D = d - 1);
- negative binomial, integer y >= 1: mu P(D' >= y) - y P(D > y) with D' ~ NB(n + 1, p).

Every search here terminates for any finite input: the whole-unit level searches bracket by
doubling strides (at most `MAX_DOUBLINGS` steps, past which a level would exceed the largest
float) and bisect only while the midpoint lies strictly between the bracket ends (above 2^53
whole numbers are no longer all representable, and the search stops at the representable
level); the inverse normal loss runs a fixed number of Newton steps.

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
from scipy import special, stats


class Family(IntEnum):
    """Distribution family of a demand; the codes are stored as int8 in arrays."""

    NORMAL = 0
    POISSON = 1
    NEGATIVE_BINOMIAL = 2

    @property
    def label(self) -> str:
        """The name written in output tables (``normal``, ``poisson``, ``negbin``)."""
        return str(FAMILY_LABELS[self])


FAMILY_LABELS = np.array(["normal", "poisson", "negbin"])
"""Output-table names of the families, indexed by `Family` code."""

FamilyChoice = Literal["auto", "normal", "poisson", "negative_binomial"]
"""How `choose_family` picks: ``"auto"`` per pair, the others force one family."""

FAMILY_CHOICES: tuple[str, ...] = get_args(FamilyChoice)

NORMAL_MIN_MEAN = 30.0
"""Under ``"auto"``, pairs whose mean is at least this are normal.

At a mean of 30 a Poisson distribution has skewness 1/sqrt(30) = 0.18 and its quantiles are
within one unit of the normal ones; below it the discrete, skewed shape matters.
"""

POISSON_MAX_DISPERSION = 1.1
"""Under ``"auto"``, a low-volume pair is Poisson when variance / mean <= this, else NB."""

NEGATIVE_BINOMIAL_MIN_EXCESS = 1e-6
"""A pair is Poisson, even when NB is asked for, when variance / mean - 1 is at most this (the NB
limit as its shape n = mean^2 / (variance - mean) grows without bound)."""

WHOLE_UNIT_SLACK = 1e-9
"""Slack before rounding a quantity up to whole units or packs (absorbs floating-point error:
a level of 12.0000000001 computed for an exact 12 stays 12)."""

MAX_DOUBLINGS = 1100
"""Bracketing steps of the whole-unit searches; past 2^1024 a level is infinite."""

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
        If a name is not one of ``normal``, ``poisson``, ``negbin``.
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
                  counts=True) -> np.ndarray:
    """The `Family` code of each pair: the one family choice rule.

    Non-count data (``counts`` false) are normal. For count data:

    - ``"auto"``: normal where ``mean >= NORMAL_MIN_MEAN``; otherwise Poisson where
      ``variance <= POISSON_MAX_DISPERSION * mean`` (including under-dispersed pairs, for which
      the Poisson is the conservative choice, and pairs with zero mean); otherwise negative
      binomial;
    - ``"negative_binomial"``: negative binomial where the pair is overdispersed (variance /
      mean - 1 above `NEGATIVE_BINOMIAL_MIN_EXCESS`, and the shape n = mu^2 / (v - mu) does not
      underflow to 0), Poisson otherwise (no negative binomial has that shape);
    - ``"poisson"`` / ``"normal"``: that family for every pair.

    Parameters
    ----------
    mean, variance : numpy.ndarray
        Mean mu >= 0 and variance v >= 0 of each pair (broadcast together).
    choice : {"auto", "normal", "poisson", "negative_binomial"}
    counts : bool or numpy.ndarray of bool
        Whether each pair's demand is a count (whole units).

    Returns
    -------
    numpy.ndarray of int8
    """
    if choice not in FAMILY_CHOICES:
        raise ValueError(f"choice must be one of {', '.join(FAMILY_CHOICES)}; found {choice!r}")
    mean, variance = np.broadcast_arrays(np.asarray(mean, float), np.asarray(variance, float))
    over = overdispersed(mean, variance)
    if choice == "normal":
        codes = np.full(mean.shape, Family.NORMAL, dtype=np.int8)
    elif choice == "poisson":
        codes = np.full(mean.shape, Family.POISSON, dtype=np.int8)
    elif choice == "negative_binomial":
        codes = np.where(over, Family.NEGATIVE_BINOMIAL, Family.POISSON).astype(np.int8)
    else:
        codes = np.where(over & (variance > POISSON_MAX_DISPERSION * mean),
                         Family.NEGATIVE_BINOMIAL, Family.POISSON).astype(np.int8)
        codes[mean >= NORMAL_MIN_MEAN] = Family.NORMAL
    return np.where(counts, codes, np.int8(Family.NORMAL)).astype(np.int8)


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


# -- distribution functions -----------------------------------------------------------------------


def evaluated_family(codes, mean, variance) -> tuple[np.ndarray, np.ndarray]:
    """The family and variance a demand is evaluated with: its own, except count demands
    outside the exact domain (mean above `MAX_COUNT_MEAN`, negative binomial shape below
    `MIN_NEGATIVE_BINOMIAL_SHAPE`), which are evaluated as normal with the same mean and
    variance (a Poisson's variance is its mean).

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
    outside = np.array((mean > MAX_COUNT_MEAN) & (codes != Family.NORMAL))
    outside[negbin] |= n < MIN_NEGATIVE_BINOMIAL_SHAPE
    codes[outside] = Family.NORMAL
    return codes, variance


def _split(codes, mean, variance, *others):
    """Broadcast the arguments and return them with the masks of the three families (mean > 0
    for the count families), count demands outside the exact domain moved to the normal."""
    arrays = list(np.broadcast_arrays(np.asarray(codes), np.asarray(mean, float),
                                      np.asarray(variance, float), *(np.asarray(o, float)
                                                                     for o in others)))
    arrays[0], arrays[2] = evaluated_family(arrays[0], arrays[1], arrays[2])
    codes, mean = arrays[0], arrays[1]
    normal = codes == Family.NORMAL
    poisson = (codes == Family.POISSON) & (mean > 0)
    negbin = (codes == Family.NEGATIVE_BINOMIAL) & (mean > 0)
    return arrays, normal, poisson, negbin


def quantile(codes, mean, variance, probability, *, nonnegative: bool = True) -> np.ndarray:
    """The ``probability``-quantile of each demand.

    Normal: mu + sqrt(v) Phi^-1(q), floored at 0 when ``nonnegative`` (not rounded); count
    families: the smallest whole y with P(D <= y) >= q (scipy's inversion, bounded time).

    Parameters
    ----------
    codes : numpy.ndarray of int8
        `Family` codes.
    mean, variance, probability : numpy.ndarray or float
        Broadcast with ``codes``; 0 < probability < 1.
    nonnegative : bool
        Floor normal quantiles at zero.
    """
    (codes, mean, variance, q), normal, poisson, negbin = _split(codes, mean, variance,
                                                                 probability)
    out = np.zeros(mean.shape)
    value = mean[normal] + np.sqrt(variance[normal]) * special.ndtri(q[normal])
    out[normal] = np.maximum(value, 0.0) if nonnegative else value
    out[poisson] = stats.poisson.ppf(q[poisson], mean[poisson])
    n, p = negative_binomial_parameters(mean[negbin], variance[negbin])
    out[negbin] = stats.nbinom.ppf(q[negbin], n, p)
    return out


def cdf(codes, mean, variance, x) -> np.ndarray:
    """P(D <= x) of each demand (whole-unit x for the count families; 1 at x >= 0 for a count
    demand with mean 0)."""
    (codes, mean, variance, x), normal, poisson, negbin = _split(codes, mean, variance, x)
    out = np.where(x >= 0, 1.0, 0.0)
    sd = np.sqrt(variance[normal])
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (x[normal] - mean[normal]) / sd
    out[normal] = np.where(sd > 0, special.ndtr(z), (x[normal] >= mean[normal]) * 1.0)
    out[poisson] = stats.poisson.cdf(x[poisson], mean[poisson])
    n, p = negative_binomial_parameters(mean[negbin], variance[negbin])
    out[negbin] = stats.nbinom.cdf(x[negbin], n, p)
    return out


def survival(codes, mean, variance, x) -> np.ndarray:
    """P(D > x) of each demand (1 - `cdf`, computed without cancellation)."""
    (codes, mean, variance, x), normal, poisson, negbin = _split(codes, mean, variance, x)
    out = np.where(x >= 0, 0.0, 1.0)
    sd = np.sqrt(variance[normal])
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (x[normal] - mean[normal]) / sd
    out[normal] = np.where(sd > 0, special.ndtr(-z), (x[normal] < mean[normal]) * 1.0)
    out[poisson] = stats.poisson.sf(x[poisson], mean[poisson])
    n, p = negative_binomial_parameters(mean[negbin], variance[negbin])
    out[negbin] = stats.nbinom.sf(x[negbin], n, p)
    return out


def pmf(codes, mean, variance, x) -> np.ndarray:
    """P(D = x) of each count demand; the density at x for normal ones."""
    (codes, mean, variance, x), normal, poisson, negbin = _split(codes, mean, variance, x)
    out = np.where(x == 0, 1.0, 0.0)
    out[normal] = stats.norm.pdf(x[normal], mean[normal], np.sqrt(variance[normal]))
    out[poisson] = stats.poisson.pmf(x[poisson], mean[poisson])
    n, p = negative_binomial_parameters(mean[negbin], variance[negbin])
    out[negbin] = stats.nbinom.pmf(x[negbin], n, p)
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
    (codes, mean, variance, level), normal, poisson, negbin = _split(codes, mean, variance,
                                                                     level)
    normal &= mean > 0
    out = np.array(np.maximum(-level, 0.0))  # no demand: E[(0 - y)+]
    sigma = np.sqrt(variance[normal])
    spread = sigma > 0
    z = np.zeros(sigma.shape)
    np.divide(level[normal] - mean[normal], sigma, out=z, where=spread)
    out[normal] = np.where(spread, sigma * standard_normal_loss(z),
                           np.maximum(mean[normal] - level[normal], 0.0))
    out[poisson] = _poisson_loss(level[poisson], mean[poisson])
    n, p = negative_binomial_parameters(mean[negbin], variance[negbin])
    out[negbin] = _negative_binomial_loss(level[negbin], n, p)
    return out


# -- whole-unit levels ----------------------------------------------------------------------------


def quantile_levels(codes: np.ndarray, mean: np.ndarray, variance: np.ndarray,
                    probability: np.ndarray) -> np.ndarray:
    """Smallest whole-unit level y >= 0 with P(D <= y) >= alpha, per pair.

    Parameters
    ----------
    codes : numpy.ndarray of int8, shape (pair,)
        `Family` of each pair (from `choose_family`).
    mean, variance : numpy.ndarray, shape (pair,)
        Mean mu and variance sigma^2 of the demand D.
    probability : numpy.ndarray, shape (pair,)
        alpha, 0 < alpha < 1 (a cycle service level).

    Returns
    -------
    numpy.ndarray of float64, shape (pair,)
        The alpha-quantile in whole units (normal quantiles mu + z_alpha sigma rounded up,
        clipped at 0); 0 for pairs with zero mean.
    """
    codes, variance = evaluated_family(codes, mean, variance)
    z = special.ndtri(probability)
    normal = mean + np.sqrt(variance) * z

    def poisson(mu, alpha):
        return lambda level, ids: special.pdtr(level, mu[ids]) >= alpha[ids]

    def negative_binomial(n, p, alpha):
        return lambda level, ids: special.betainc(n[ids], level + 1.0, p[ids]) >= alpha[ids]

    return _levels(codes, mean, variance, probability, z, normal, poisson, negative_binomial)


def shortage_levels(codes: np.ndarray, mean: np.ndarray, variance: np.ndarray,
                    allowed_shortage: np.ndarray) -> np.ndarray:
    """Smallest whole-unit level y >= 0 with E[(D - y)+] <= allowed shortage, per pair.

    Parameters
    ----------
    codes : numpy.ndarray of int8, shape (pair,)
        `Family` of each pair.
    mean, variance : numpy.ndarray, shape (pair,)
        Mean mu and variance sigma^2 of the demand D.
    allowed_shortage : numpy.ndarray, shape (pair,)
        Largest expected shortage, units, > 0 where mean > 0 (for a fill rate beta and mean
        demand per review period mu_R, (1 - beta) mu_R).

    Returns
    -------
    numpy.ndarray of float64, shape (pair,)
        For normal pairs mu + z sigma with sigma L(z) equal to the allowed shortage, rounded up
        (mu minus the allowed shortage when sigma = 0), clipped at 0.
    """
    codes, variance = evaluated_family(codes, mean, variance)
    sigma = np.sqrt(variance)
    spread = sigma > 0
    ratio = np.ones(mean.shape)
    np.divide(allowed_shortage, sigma, out=ratio, where=spread)
    z = inverse_standard_normal_loss(np.maximum(ratio, 1e-300))
    normal = np.where(spread, mean + sigma * z, mean - allowed_shortage)

    def poisson(mu, shortage):
        return lambda level, ids: _poisson_loss(level, mu[ids]) <= shortage[ids]

    def negative_binomial(n, p, shortage):
        return lambda level, ids: _negative_binomial_loss(level, n[ids], p[ids]) <= shortage[ids]

    return _levels(codes, mean, variance, allowed_shortage, z, normal, poisson,
                   negative_binomial)


def _levels(codes, mean, variance, target, z, normal, poisson, negative_binomial):
    """Whole-unit levels by family.

    ``normal`` holds the continuous normal level mu + z sigma of every pair; ``poisson`` and
    ``negative_binomial`` build the search conditions from the pairs' parameters and ``target``
    (alpha or the allowed shortage). The discrete searches start from the Cornish-Fisher
    correction of the normal level for skewness gamma = (2 sigma^2 - mu) / (mu sigma) (the
    skewness of both the Poisson and the negative binomial with that mean and variance):
    mu + sigma (z + (z^2 - 1) gamma / 6). Pairs with zero mean get level 0.
    """
    out = np.zeros(mean.shape)
    positive = mean > 0
    pick = (codes == Family.NORMAL) & positive
    with np.errstate(invalid="ignore"):
        out[pick] = np.maximum(np.ceil(normal[pick] - WHOLE_UNIT_SLACK), 0.0) + 0.0  # no -0.0

    for code, condition in ((Family.POISSON, poisson),
                            (Family.NEGATIVE_BINOMIAL, negative_binomial)):
        pick = np.flatnonzero((codes == code) & positive)
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
    return out


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
    for _ in range(MAX_DOUBLINGS):
        if not searching.size:
            break
        ok = satisfied(high[searching], searching)
        searching = searching[~ok]
        low[searching] = high[searching]
        high[searching] += stride[searching]
        stride[searching] *= 2.0
    if searching.size:
        raise FloatingPointError(f"no level meets the service target for {searching.size} "
                                 f"pairs after {MAX_DOUBLINGS} doublings (non-finite demand "
                                 f"parameters?)")
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
    """Standard normal loss function L(z) = phi(z) - z (1 - Phi(z))."""
    return np.exp(-0.5 * z * z) / _SQRT_2PI - z * special.ndtr(-z)


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
