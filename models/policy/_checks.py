"""Argument checks shared by the entry points' validation functions.

Each public function of `models.policy` has one ``_<name>_iv`` function that validates all of its
arguments with these helpers; every message names the argument, says what was expected and what
was found.
"""

from __future__ import annotations

import numbers

import numpy as np
from scipy import stats


def real(value: object, name: str) -> float:
    """Return ``value`` as a finite float, or raise naming ``name``.

    Raises
    ------
    TypeError
        If ``value`` is not a real number (booleans are refused).
    ValueError
        If ``value`` is NaN or infinite.
    """
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number; found {type(value).__name__} {value!r}")
    number = float(value)
    if not np.isfinite(number):
        raise ValueError(f"{name} must be finite; found {number!r}")
    return number


def positive(value: object, name: str) -> float:
    """Return ``value`` as a float > 0, or raise naming ``name``."""
    number = real(value, name)
    if number <= 0:
        raise ValueError(f"{name} must be > 0; found {number!r}")
    return number


def nonnegative(value: object, name: str) -> float:
    """Return ``value`` as a float >= 0, or raise naming ``name``."""
    number = real(value, name)
    if number < 0:
        raise ValueError(f"{name} must be >= 0; found {number!r}")
    return number


def whole(value: object, name: str, *, minimum: int = 0) -> int:
    """Return ``value`` as an int >= ``minimum``, or raise naming ``name``."""
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer; found {type(value).__name__} {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}; found {value!r}")
    return int(value)


def frozen_distribution(value: object, name: str) -> bool:
    """Check that ``value`` is a frozen scipy.stats distribution with a support.

    A distribution object without shape parameters (``scipy.stats.rv_discrete(values=...)``)
    counts as frozen.

    Returns
    -------
    bool
        True for a discrete distribution, False for a continuous one.

    Raises
    ------
    TypeError
        If ``value`` is not a frozen scipy.stats distribution (e.g. ``scipy.stats.poisson(10)``).
    ValueError
        If its parameters leave it without a support, or its mean is not finite.
    """
    generator = getattr(value, "dist", None)
    if isinstance(value, stats.rv_discrete | stats.rv_continuous):
        if value.numargs:  # an unfrozen family such as scipy.stats.poisson
            raise TypeError(f"{name} must be a frozen scipy.stats distribution: give the "
                            f"parameters of {value.name}, e.g. scipy.stats.{value.name}(...)")
        generator = value  # no shape parameters: rv_discrete(values=...) or e.g. stats.norm
    elif not isinstance(generator, stats.rv_discrete | stats.rv_continuous) or not hasattr(
            value, "support"):
        raise TypeError(f"{name} must be a frozen scipy.stats distribution such as "
                        f"scipy.stats.poisson(10) or scipy.stats.norm(50, 8); "
                        f"found {type(value).__name__}")
    low, high = (float(bound) for bound in value.support())
    if np.isnan(low) or np.isnan(high) or low > high:
        raise ValueError(f"{name} has no support (are its parameters valid?); "
                         f"found support ({low}, {high}) for {_describe(value)}")
    mean = float(value.mean())
    if not np.isfinite(mean):
        raise ValueError(f"{name} must have a finite mean; found {mean} for {_describe(value)}")
    return isinstance(generator, stats.rv_discrete)


def _describe(distribution) -> str:
    if not hasattr(distribution, "dist"):
        return str(distribution.name)
    arguments = [repr(a) for a in distribution.args]
    arguments += [f"{k}={v!r}" for k, v in distribution.kwds.items()]
    return f"{distribution.dist.name}({', '.join(arguments)})"


def numeric_array(value: object, name: str) -> np.ndarray:
    """Return ``value`` as a float64 array, or raise TypeError naming ``name``."""
    array = np.asarray(value)
    if array.dtype == np.bool_ or not (np.issubdtype(array.dtype, np.integer)
                                       or np.issubdtype(array.dtype, np.floating)):
        raise TypeError(f"{name} must be numeric (int or float); found dtype {array.dtype}")
    return array.astype(np.float64, copy=False)


def check_range(array: np.ndarray, name: str, *, low: float, low_open: bool = False,
                high: float = np.inf, high_open: bool = False, allow_inf: bool = False,
                whole_numbers: bool = False) -> None:
    """Raise ValueError naming ``name`` if any element of ``array`` is outside the range.

    The message gives the allowed range, the number of offending elements and the first one
    (its flat index and value).
    """
    with np.errstate(invalid="ignore"):
        bad = np.isnan(array)
        if not allow_inf:
            bad |= np.isinf(array)
        bad |= (array <= low) if low_open else (array < low)
        bad |= (array >= high) if high_open else (array > high)
        if whole_numbers:
            bad |= np.isfinite(array) & (array != np.floor(array))
    if not bad.any():
        return
    first = int(np.flatnonzero(bad.ravel())[0])
    closed_high = not high_open and (np.isfinite(high) or allow_inf)
    interval = f"{'(' if low_open else '['}{low}, {high}{']' if closed_high else ')'}"
    kind = "whole number" if whole_numbers else ("number" if allow_inf else "finite number")
    found = f"found {float(array.ravel()[first])!r}"
    if array.ndim == 0:
        raise ValueError(f"{name} must be a {kind} in {interval}; {found}")
    count = int(bad.sum())
    more = f" ({count:,} elements out of range)" if count > 1 else ""
    raise ValueError(f"{name} must hold {kind}s in {interval}; {found} at index {first}{more}")
