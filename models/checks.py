"""Argument checks: the one kit every entry point's validation function is built from.

Each public function of `models`, `solvers` and the `engine` simulation validates all of its
arguments once, in one ``_<name>_iv`` function in front of the work, with these helpers. Every
message names the argument, says what was expected and what was found, and for an array points
at the first offending element. Booleans are never numbers here. Every helper takes the argument
first (``value``, or ``array`` once converted) and then ``name``, the argument's name in
messages; their other parameters are documented with each.

This is the one module of `models` that `solvers` may import (imports flow ``engine -> models,
solvers``, and ``solvers -> models.checks`` only); it depends on numpy and scipy alone.

Scalars
    `real`, `positive`, `nonnegative`, `whole`, `flag`, `optional_seconds`,
    `frozen_distribution`.
Arrays
    `numeric_array`, `float_array`, `integer_array`, `numbers_array` and `index_array` convert
    and check dtype and shape; `check_shape` and `check_range` check an array already converted;
    `found` describes the first offending element for messages of the callers' own checks.

Message styles
--------------
The libraries grew three ways of reporting a bad element, and tests and users rely on each; a
``style`` (or ``expected``) parameter keeps them rather than rewording:

- ``"interval"`` (`models.policy`): "service_level must hold finite numbers in (0.0, 1.0);
  found 1.5 at index 2 (3 elements out of range)", the flat index;
- ``"index"`` (`solvers`): "lane_capacity must hold numbers >= 0; found -1.0 at index 1 (2
  elements in all)", the index on every axis;
- ``"entry"`` (`engine.simulation`): "arrivals must hold finite numbers >= 0; found
  arrivals[0, 2, 1] = -1.0".
"""

from __future__ import annotations

import numbers
from typing import Literal

import numpy as np
from scipy import stats

RangeStyle = Literal["interval", "index", "entry"]
"""How `check_range` words its message (module docstring, *Message styles*)."""

__all__ = ["RangeStyle", "check_range", "check_shape", "flag", "float_array", "found",
           "frozen_distribution", "index_array", "integer_array", "nonnegative", "numbers_array",
           "numeric_array", "optional_seconds", "positive", "real", "whole"]


# ------------------------------------------------------------------------------------ scalars


def _number(value: object, name: str) -> float:
    """``value`` as a float; TypeError unless it is a real number (booleans refused)."""
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number; found {type(value).__name__} {value!r}")
    return float(value)


def real(value: object, name: str) -> float:
    """Return ``value`` as a finite float, or raise naming ``name``.

    Raises
    ------
    TypeError
        If ``value`` is not a real number (booleans are refused).
    ValueError
        If ``value`` is NaN or infinite.
    """
    number = _number(value, name)
    if not np.isfinite(number):
        raise ValueError(f"{name} must be finite; found {number!r}")
    return number


def positive(value: object, name: str) -> float:
    """Return ``value`` as a finite float > 0, or raise naming ``name``."""
    number = real(value, name)
    if number <= 0:
        raise ValueError(f"{name} must be > 0; found {number!r}")
    return number


def nonnegative(value: object, name: str, *, one_message: bool = False) -> float:
    """Return ``value`` as a finite float >= 0, or raise naming ``name``.

    Parameters
    ----------
    one_message : bool, default False
        Word every bad value alike ("must be a finite number >= 0", as
        `engine.simulation.simulate_policy` does) instead of "must be finite" for NaN and
        infinity and "must be >= 0" below zero.
    """
    if not one_message:
        number = real(value, name)
    else:
        number = _number(value, name)
        if not np.isfinite(number):
            raise ValueError(f"{name} must be a finite number >= 0; found {number!r}")
    if number < 0:
        text = "a finite number >= 0" if one_message else ">= 0"
        raise ValueError(f"{name} must be {text}; found {number!r}")
    return number


def whole(value: object, name: str, *, minimum: int = 0, maximum: int | None = None) -> int:
    """Return ``value`` as an int in ``minimum..maximum``, or raise naming ``name``.

    Raises
    ------
    TypeError
        If ``value`` is not an integer (booleans and floats with whole values are refused).
    ValueError
        If ``value`` is below ``minimum`` or above ``maximum`` (None: no upper bound).
    """
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer; found {type(value).__name__} {value!r}")
    if value < minimum or (maximum is not None and value > maximum):
        bound = f">= {minimum}" if maximum is None else f"in {minimum}..{maximum}"
        raise ValueError(f"{name} must be an integer {bound}; found {value!r}")
    return int(value)


def flag(value: object, name: str) -> bool:
    """Return ``value`` as a bool; TypeError naming ``name`` unless it is True or False."""
    if not isinstance(value, bool | np.bool_):
        raise TypeError(f"{name} must be True or False; found {type(value).__name__} {value!r}")
    return bool(value)


def optional_seconds(value: object, name: str) -> float | None:
    """Return ``value`` as a float > 0, or None; raise naming ``name`` otherwise."""
    if value is None:
        return None
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number of seconds or None; "
                        f"found {type(value).__name__} {value!r}")
    seconds = float(value)
    if not seconds > 0 or not np.isfinite(seconds):
        raise ValueError(f"{name} must be a finite number of seconds > 0 or None; "
                         f"found {seconds!r}")
    return seconds


def frozen_distribution(value: object, name: str, *, check_values: bool = True) -> bool:
    """Check that ``value`` is a frozen scipy.stats distribution (with a support and a mean).

    A distribution object without shape parameters (``scipy.stats.rv_discrete(values=...)``)
    counts as frozen.

    Parameters
    ----------
    check_values : bool, default True
        Also check that its parameters give it a support and a finite mean (False: the type
        only, for callers that word those checks themselves).

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
    if check_values:
        low, high = (float(bound) for bound in value.support())
        if np.isnan(low) or np.isnan(high) or low > high:
            raise ValueError(f"{name} has no support (are its parameters valid?); "
                             f"found support ({low}, {high}) for {_describe(value)}")
        mean = float(value.mean())
        if not np.isfinite(mean):
            raise ValueError(f"{name} must have a finite mean; found {mean} for "
                             f"{_describe(value)}")
    return isinstance(generator, stats.rv_discrete)


def _describe(distribution) -> str:
    if not hasattr(distribution, "dist"):
        return str(distribution.name)
    arguments = [repr(a) for a in distribution.args]
    arguments += [f"{k}={v!r}" for k, v in distribution.kwds.items()]
    return f"{distribution.dist.name}({', '.join(arguments)})"


# ------------------------------------------------------------------------------------- arrays


def found(array: np.ndarray, bad: np.ndarray, *, name: str | None = None, flat: bool = False,
          more: str = "in all") -> str:
    """Describe the first True element of ``bad`` (same shape as ``array``) for a message.

    Parameters
    ----------
    array : numpy.ndarray
        The checked array.
    bad : numpy.ndarray of bool
        Which elements are wrong (at least one).
    name : str, optional
        Give the element as ``name[i, j] = value`` ("entry" style) instead.
    flat : bool, default False
        Give the flat index instead of the index on every axis ("interval" style).
    more : str, default "in all"
        How the count of wrong elements is worded when there is more than one.

    Returns
    -------
    str
        ``"found 1.5 at index (0, 2) (3 elements in all)"``, or with ``name``
        ``"found arrivals[0, 2] = 1.5"``.
    """
    first = int(np.flatnonzero(bad.ravel())[0])
    value = array.ravel()[first].item()  # a Python number: 1.5, not np.float64(1.5)
    where = np.unravel_index(first, bad.shape)
    if name is not None:
        return f"found {name}[{', '.join(str(int(i)) for i in where)}] = {value!r}"
    if array.ndim == 0:
        return f"found {value!r}"
    index = first if flat or len(where) == 1 else tuple(int(i) for i in where)
    count = int(bad.sum())
    extra = f" ({count:,} elements {more})" if count > 1 else ""
    return f"found {value!r} at index {index}{extra}"


def numeric_array(value: object, name: str, *,
                  expected: str = "be numeric (int or float)") -> np.ndarray:
    """Return ``value`` as a float64 array (no copy when it is one), or raise naming ``name``.

    Parameters
    ----------
    expected : str, default "be numeric (int or float)"
        What the message says the argument must do: ``f"{name} must {expected}; found dtype
        ..."``.

    Raises
    ------
    TypeError
        If the values are not integers or floats (booleans are refused).
    """
    array = np.asarray(value)
    if array.dtype == np.bool_ or not (np.issubdtype(array.dtype, np.integer)
                                       or np.issubdtype(array.dtype, np.floating)):
        raise TypeError(f"{name} must {expected}; found dtype {array.dtype}")
    return array.astype(np.float64, copy=False)


def check_shape(array: np.ndarray, name: str, *, shape: tuple[int, ...] | None = None,
                ndim: int | None = None, leading: tuple[int, ...] | None = None) -> None:
    """Raise ValueError naming ``name`` unless ``array`` has the given shape.

    Parameters
    ----------
    shape : tuple of int, optional
        The whole shape.
    ndim : int, optional
        The number of dimensions.
    leading : tuple of int, optional
        The first axes of an array whose last axis is periods.
    """
    if shape is not None and array.shape != tuple(shape):
        raise ValueError(f"{name} must have shape {tuple(shape)}; found {array.shape}")
    if ndim is not None and array.ndim != ndim:
        raise ValueError(f"{name} must be a {ndim}-dimensional array; found shape "
                         f"{array.shape}")
    if leading is not None and array.shape[:len(leading)] != tuple(leading):
        raise ValueError(f"{name} must have shape {(*leading, 'periods')}; found "
                         f"{array.shape}")


def float_array(value: object, name: str, *, shape: tuple[int, ...] | None = None,
                ndim: int | None = None, leading: tuple[int, ...] | None = None,
                copy: bool = True) -> np.ndarray:
    """``value`` as a C-contiguous float64 array of the given shape (`check_shape`).

    With ``copy`` (default) the array is a private copy; without, ``value`` itself when it is
    already C-contiguous float64. TypeError unless it holds integers or floats.
    """
    array = numeric_array(value, name, expected="be an array of real numbers")
    check_shape(array, name, shape=shape, ndim=ndim, leading=leading)
    if copy:
        return np.array(array, dtype=np.float64, order="C")
    return np.ascontiguousarray(array, dtype=np.float64)


def integer_array(value: object, name: str, *, shape: tuple[int, ...] | None = None,
                  ndim: int | None = None, unsigned: bool = False,
                  expected: str = "be an array of integers") -> np.ndarray:
    """``value`` as a C-contiguous int64 (uint64 if ``unsigned``) copy of the given shape.

    An empty array of any dtype passes (``numpy.asarray([])`` is float64).

    Raises
    ------
    TypeError
        If the values are not integers (booleans are refused): ``f"{name} must {expected};
        found dtype ..."``.
    ValueError
        If the shape is wrong (`check_shape`), or a value does not fit: negative with
        ``unsigned``, 2**63 or more otherwise.
    """
    array = np.asarray(value)
    if (array.dtype == np.bool_ or not np.issubdtype(array.dtype, np.integer)) and array.size:
        raise TypeError(f"{name} must {expected}; found dtype {array.dtype}")
    check_shape(array, name, shape=shape, ndim=ndim)
    if unsigned:
        if array.size and np.issubdtype(array.dtype, np.signedinteger) and array.min() < 0:
            lowest = array == array.min()  # the message names the smallest
            raise ValueError(f"{name} must hold integers >= 0; {found(array, lowest, name=name)}")
        return np.array(array, dtype=np.uint64, order="C")
    if array.dtype == np.uint64 and array.size and array.max() > np.iinfo(np.int64).max:
        raise ValueError(f"{name} must hold integers below 2**63; found {int(array.max())}")
    return np.array(array, dtype=np.int64, order="C")


def check_range(array: np.ndarray, name: str, *, low: float = -np.inf, low_open: bool = False,
                high: float = np.inf, high_open: bool = False, allow_inf: bool = False,
                allow_minus_inf: bool = False, whole_numbers: bool = False,
                style: RangeStyle = "interval") -> None:
    """Raise ValueError naming ``name`` if any element of ``array`` is outside the range.

    NaN is never in range; ``+inf`` only with ``allow_inf``, ``-inf`` only with
    ``allow_minus_inf`` (and both only within the bounds).

    Parameters
    ----------
    low, high : float
        The bounds, ``-inf`` / ``inf``: none.
    low_open, high_open : bool
        Whether the bound itself is excluded.
    allow_inf, allow_minus_inf : bool
        Whether ``+inf`` / ``-inf`` are allowed.
    whole_numbers : bool
        Whether the finite values must be whole.
    style : {"interval", "index", "entry"}, default "interval"
        How the message is worded (module docstring): the range as an interval ("in [0.0,
        1.0]") and the flat index of the first bad element, or the range as a lower bound
        (">= 0") with the element's index on every axis ("index") or as ``name[i, j] = value``
        ("entry").
    """
    with np.errstate(invalid="ignore"):
        bad = np.isnan(array) | (np.isinf(array) & ~((allow_inf & (array > 0))
                                                     | (allow_minus_inf & (array < 0))))
        bad |= (array <= low) if low_open else (array < low)
        bad |= (array >= high) if high_open else (array > high)
        if whole_numbers:
            bad |= np.isfinite(array) & (array != np.floor(array))
    if not bad.any():
        return
    kind = "whole number" if whole_numbers else ("number" if allow_inf else "finite number")
    if style == "interval":
        closed_high = not high_open and (np.isfinite(high) or allow_inf)
        bound = (f" in {'(' if low_open else '['}{low}, "
                 f"{high}{']' if closed_high else ')'}")
        where = found(array, bad, flat=True, more="out of range")
    else:
        bound = "" if low == -np.inf else f" {'>' if low_open else '>='} {low:g}"
        if allow_minus_inf:
            bound += " or -inf"
        where = found(array, bad, name=name if style == "entry" else None)
    if array.ndim == 0:
        raise ValueError(f"{name} must be a {kind}{bound}; {where}")
    raise ValueError(f"{name} must hold {kind}s{bound}; {where}")


def numbers_array(value: object, name: str, shape: tuple[int, ...], *, shape_text: str,
                  low: float = 0.0, allow_inf: bool = False, scalar: bool = True) -> np.ndarray:
    """Return ``value`` as a read-only C-contiguous float64 copy of ``shape``, or raise.

    Parameters
    ----------
    shape : tuple of int
        The required shape.
    shape_text : str
        How the shape is described in messages, e.g. ``"(n_skus, n_locations)"``.
    low : float
        Smallest allowed value (inclusive); ``-inf`` for any.
    allow_inf : bool
        Whether ``+inf`` is allowed (NaN never is).
    scalar : bool
        Whether a scalar is accepted and broadcast.

    Raises
    ------
    TypeError
        If the values are not numbers (booleans are refused).
    ValueError
        If the shape is wrong or a value is NaN, infinite (unless allowed) or below ``low``
        ("index" style of `check_range`).
    """
    array = numeric_array(value, name, expected="hold numbers (int or float)")
    if array.ndim == 0 and scalar:
        array = np.full(shape, float(array))
    elif array.shape != shape:
        allowed = " or a scalar" if scalar else ""
        raise ValueError(f"{name} must have shape {shape_text} = {shape}{allowed}; "
                         f"found shape {array.shape}")
    array = np.array(array, dtype=np.float64, order="C")  # a private copy
    check_range(array, name, low=low, allow_inf=allow_inf, style="index")
    array.flags.writeable = False
    return array


def index_array(value: object, name: str, size: int | None, *, upper: int, what: str,
                upper_text: str) -> np.ndarray:
    """Return ``value`` as a read-only 1-D int64 array of indices in [0, upper), or raise.

    Parameters
    ----------
    size : int or None
        Required length (None: any).
    upper : int
        Exclusive upper bound of the indices.
    what : str
        What the indices point at, e.g. ``"location"``.
    upper_text : str
        How the upper bound is named in messages, e.g. ``"n_locations"``.
    """
    array = integer_array(value, name, expected=f"hold integer {what} indices")
    if array.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional; found shape {array.shape}")
    if size is not None and array.size != size:
        raise ValueError(f"{name} must have length {size}; found length {array.size}")
    bad = (array < 0) | (array >= upper)
    if bad.any():
        raise ValueError(f"{name} must hold {what} indices in [0, {upper_text}) = [0, {upper}); "
                         f"{found(array, bad)}")
    array.flags.writeable = False
    return array
