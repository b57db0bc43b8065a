"""Turn one raw column into its contract type, with masks of the cells that break the contract.

Text read from CSV arrives as a pandas Categorical; every conversion works on the distinct
values (the categories) and maps back through the codes, so a ten-million-row column with a few
thousand distinct values costs a few thousand parses.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from engine.inputs.contract import Column

_TRUE = frozenset({"true", "t", "yes", "y", "1", "1.0"})
_FALSE = frozenset({"false", "f", "no", "n", "0", "0.0"})


@dataclass(frozen=True)
class Coerced:
    """A typed column and the cells that break the contract.

    Attributes
    ----------
    values : numpy.ndarray or pandas.Categorical
        Typed values: Categorical for text, float64 for numbers (int columns too, until
        validation passes), bool, datetime64[ns]. Bad and missing cells hold a placeholder
        (NaN, NaT, False or a missing category).
    missing : numpy.ndarray of bool
        Empty cells.
    unparsable : numpy.ndarray of bool
        Cells that are not of the column's type.
    out_of_range : numpy.ndarray of bool
        Typed cells outside the allowed range or set of values.
    """

    values: np.ndarray | pd.Categorical
    missing: np.ndarray
    unparsable: np.ndarray
    out_of_range: np.ndarray


def coerce(raw: pd.Series, column: Column) -> Coerced:
    """Convert ``raw`` to the type of ``column`` and find the cells that break the contract."""
    if column.type == "str":
        values = _as_text(raw)
        missing = np.asarray(values.codes < 0)
        unparsable = np.zeros(len(raw), dtype=bool)
        out = np.zeros(len(raw), dtype=bool)
        if column.allowed is not None and len(values.categories):
            allowed = np.asarray(values.categories.isin(column.allowed))
            out = ~missing & ~allowed[np.maximum(values.codes, 0)]
        return Coerced(values, missing, unparsable, out)

    parse = {"float": _parse_numbers, "int": _parse_numbers, "bool": _parse_bools,
             "date": _parse_dates}[column.type]
    values, missing, unparsable = _by_category(raw, parse)
    out = np.zeros(len(raw), dtype=bool)
    if column.type in ("float", "int"):
        out = _out_of_range(values, column) & ~missing & ~unparsable
    return Coerced(values, missing, unparsable, out)


def _as_text(raw: pd.Series) -> pd.Categorical:
    """Text as a Categorical with stripped labels; empty labels become missing."""
    if isinstance(raw.dtype, pd.CategoricalDtype):
        codes, labels = raw.cat.codes.to_numpy(), raw.cat.categories
    else:
        codes, labels = pd.factorize(raw, use_na_sentinel=True)
    if len(labels) == 0:
        return pd.Categorical.from_codes(np.full(len(raw), -1, np.int32),
                                         pd.Index([], dtype=object))
    text = pd.Index(_label_text(labels), dtype=object).str.strip()
    label_codes, unique = pd.factorize(text)
    keep = np.asarray(unique != "")
    final_code = np.full(len(unique), -1, dtype=np.int32)
    final_code[keep] = np.arange(keep.sum(), dtype=np.int32)
    label_to_code = final_code[label_codes]
    codes = np.where(codes >= 0, label_to_code[np.maximum(codes, 0)], -1).astype(np.int32)
    return pd.Categorical.from_codes(codes, pd.Index(unique[keep], dtype=object))


def _label_text(labels: pd.Index) -> list[str]:
    """Text of the labels: whole floats lose their ``.0`` (SKU 1001 read as 1001.0)."""
    return [_text_of(v) for v in labels.tolist()]


def _text_of(value: object) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _by_category(raw: pd.Series, parse):
    """Apply ``parse`` to the distinct values of a Categorical, or to a typed column directly."""
    if isinstance(raw.dtype, pd.CategoricalDtype):
        codes = raw.cat.codes.to_numpy()
        labels = pd.Series(raw.cat.categories.to_numpy(dtype=object))
        values, missing, unparsable = parse(labels)
        absent = codes < 0
        safe = np.maximum(codes, 0)
        if len(values) == 0:
            values = parse(pd.Series([None], dtype=object))[0]
            safe = np.zeros_like(codes)
        typed = values[safe]
        if absent.any():
            typed = typed.copy()
            typed[absent] = _placeholder(typed.dtype)
        return typed, absent | missing[safe] & ~absent, unparsable[safe] & ~absent
    return parse(raw)


def _placeholder(dtype: np.dtype):
    if dtype.kind == "M":
        return np.datetime64("NaT")
    if dtype.kind == "b":
        return False
    return np.nan


def _parse_numbers(raw: pd.Series):
    if pd.api.types.is_bool_dtype(raw.dtype):
        values = raw.to_numpy(dtype=np.float64)
        return values, np.zeros(len(raw), bool), np.zeros(len(raw), bool)
    if pd.api.types.is_numeric_dtype(raw.dtype):
        values = raw.to_numpy(dtype=np.float64, na_value=np.nan)
        return values, np.isnan(values), np.zeros(len(raw), bool)
    text = raw.astype(object)
    missing = text.isna().to_numpy()
    stripped = text.where(missing, text.astype(str).str.strip())
    missing |= (stripped == "").to_numpy()
    values = pd.to_numeric(stripped.where(~missing, None), errors="coerce").to_numpy(
        dtype=np.float64, na_value=np.nan)
    unparsable = np.isnan(values) & ~missing
    # "nan" parses as a number but is no value
    values[unparsable] = np.nan
    return values, missing, unparsable


def _parse_bools(raw: pd.Series):
    n = len(raw)
    if pd.api.types.is_bool_dtype(raw.dtype):
        values = raw.to_numpy(dtype=bool, na_value=False)
        return values, raw.isna().to_numpy(), np.zeros(n, bool)
    text = raw.astype(object)
    missing = text.isna().to_numpy()
    lowered = text.astype(str).str.strip().str.lower().to_numpy(dtype=object)
    missing |= lowered == ""
    is_true = np.fromiter((v in _TRUE for v in lowered), bool, count=n)
    is_false = np.fromiter((v in _FALSE for v in lowered), bool, count=n)
    unparsable = ~missing & ~is_true & ~is_false
    return is_true, missing, unparsable


def _parse_dates(raw: pd.Series):
    if pd.api.types.is_datetime64_any_dtype(raw.dtype):
        values = pd.DatetimeIndex(raw).tz_localize(None).as_unit("ns").to_numpy() \
            if getattr(raw.dtype, "tz", None) else raw.to_numpy().astype("datetime64[ns]")
        return values, np.isnat(values), np.zeros(len(raw), bool)
    text = raw.astype(object)
    missing = text.isna().to_numpy()
    stripped = text.where(missing, text.astype(str).str.strip())
    missing |= (stripped == "").to_numpy()
    parsed = pd.to_datetime(stripped.where(~missing, None), errors="coerce", format="ISO8601")
    values = parsed.to_numpy().astype("datetime64[ns]")
    unparsable = np.isnat(values) & ~missing
    return values, missing, unparsable


def _out_of_range(values: np.ndarray, column: Column) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        out = np.zeros(values.shape, dtype=bool)
        if not column.allow_inf:
            out |= np.isinf(values)
        if column.type == "int":
            out |= np.isfinite(values) & ((values != np.round(values)) | (np.abs(values) > 2**53))
        if column.minimum is not None:
            out |= values < column.minimum if column.min_inclusive else values <= column.minimum
        if column.maximum is not None:
            out |= values > column.maximum if column.max_inclusive else values >= column.maximum
    return out
