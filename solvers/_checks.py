"""Argument checks shared by the validation functions of `solvers`.

Every public entry point has one ``_<name>_iv`` function that validates all of its arguments
with these helpers. Every message names the argument, says what was expected and what was
found, and gives the first offending index.
"""

from __future__ import annotations

import numbers

import numpy as np


def count(value: object, name: str, *, minimum: int = 0) -> int:
    """Return ``value`` as an int >= ``minimum``, or raise naming ``name``."""
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer; found {type(value).__name__} {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}; found {value!r}")
    return int(value)


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


def _where(array: np.ndarray, bad: np.ndarray) -> str:
    """'at index i' (1-D) or 'at index (i, j)' of the first True of ``bad``."""
    first = np.unravel_index(int(np.flatnonzero(bad.ravel())[0]), bad.shape)
    index = first[0] if len(first) == 1 else tuple(int(i) for i in first)
    value = array[first].item()  # a Python number: 1.5, not np.float64(1.5)
    count = int(bad.sum())
    more = f" ({count:,} elements in all)" if count > 1 else ""
    return f"found {value!r} at index {index}{more}"


def numbers_array(value: object, name: str, shape: tuple[int, ...], *, shape_text: str,
                  low: float = 0.0, allow_inf: bool = False, scalar: bool = True) -> np.ndarray:
    """Return ``value`` as a C-contiguous float64 array of ``shape``, or raise naming ``name``.

    Parameters
    ----------
    value : array_like
        The argument; a scalar is broadcast to ``shape`` when ``scalar`` is true.
    name : str
        The argument's name in messages.
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
        If the shape is wrong or a value is NaN, infinite (unless allowed) or below ``low``.
    """
    array = np.asarray(value)
    if array.dtype == np.bool_ or not (np.issubdtype(array.dtype, np.integer)
                                       or np.issubdtype(array.dtype, np.floating)):
        raise TypeError(f"{name} must hold numbers (int or float); found dtype {array.dtype}")
    if array.ndim == 0 and scalar:
        array = np.full(shape, float(array))
    elif array.shape != shape:
        allowed = " or a scalar" if scalar else ""
        raise ValueError(f"{name} must have shape {shape_text} = {shape}{allowed}; "
                         f"found shape {array.shape}")
    array = np.array(array, dtype=np.float64, order="C")  # a private copy
    bad = np.isnan(array) | (array < low) | (np.isinf(array) & ~(allow_inf & (array > 0)))
    if bad.any():
        kind = "numbers" if allow_inf else "finite numbers"
        bound = "" if low == -np.inf else f" >= {low:g}"
        raise ValueError(f"{name} must hold {kind}{bound}; {_where(array, bad)}")
    array.flags.writeable = False
    return array


def index_array(value: object, name: str, size: int | None, *, upper: int, what: str,
                upper_text: str) -> np.ndarray:
    """Return ``value`` as a 1-D int64 array of indices in [0, upper), or raise naming ``name``.

    Parameters
    ----------
    value : array_like of int
        The argument.
    name : str
        The argument's name in messages.
    size : int or None
        Required length (None: any).
    upper : int
        Exclusive upper bound of the indices.
    what : str
        What the indices point at, e.g. ``"location"``.
    upper_text : str
        How the upper bound is named in messages, e.g. ``"n_locations"``.
    """
    array = np.asarray(value)
    if array.dtype == np.bool_ or not np.issubdtype(array.dtype, np.integer):
        if array.size == 0 and array.ndim == 1:  # an empty list arrives as float64
            array = array.astype(np.int64)
        else:
            raise TypeError(f"{name} must hold integer {what} indices; "
                            f"found dtype {array.dtype}")
    if array.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional; found shape {array.shape}")
    if size is not None and array.size != size:
        raise ValueError(f"{name} must have length {size}; found length {array.size}")
    array = np.array(array, dtype=np.int64)
    bad = (array < 0) | (array >= upper)
    if bad.any():
        raise ValueError(f"{name} must hold {what} indices in [0, {upper_text}) = [0, {upper}); "
                         f"{_where(array, bad)}")
    array.flags.writeable = False
    return array
