"""Load an input directory into the planning dataset, and write a dataset back as a directory."""

from __future__ import annotations

import os
from pathlib import Path

import xarray as xr

from engine.inputs.dataset import build_dataset, to_tables
from engine.inputs.tables import FileFormat, read_directory, write_directory
from engine.inputs.validate import check_tables


def load_inputs(path: str | os.PathLike, *, freq: str | None = None, skus=None,
                period_span=None, as_of=None) -> xr.Dataset:
    """Read, check and assemble an input directory.

    Parameters
    ----------
    path : path-like
        Directory with one ``NAME.csv`` or ``NAME.parquet`` per table of the input contract
        (``docs/input-contract.md``).
    freq : str, optional
        Period frequency of the sales history: ``D``, ``W`` (weeks from Monday), ``W-XXX`` or
        ``MS``. Inferred from the sales dates when omitted.
    skus : sequence of str, optional
        Only these SKUs (a partition read by a worker; the whole input was checked before).
    period_span : (date, date), optional
        The history's first and last period (a partition keeps the whole input's).
    as_of : date-like, optional
        The day the plan is made (default: today): sales dated after it are input problems.

    Returns
    -------
    xarray.Dataset
        The planning dataset (see `engine.inputs.dataset`).

    Raises
    ------
    engine.InputError
        Listing every problem found, each with table, row, column, expected and found.
    """
    raw, problems = read_directory(path, skus=skus)
    checked = check_tables(raw, freq=freq, source=str(path), problems=problems,
                           as_of=as_of)
    return build_dataset(checked, period_span=period_span)


def write_inputs(ds: xr.Dataset, path: str | os.PathLike, *, file_format: FileFormat = "parquet",
                 overwrite: bool = False) -> Path:
    """Write a planning dataset as an input directory (atomically).

    ``load_inputs(write_inputs(ds, path))`` gives back a dataset identical to ``ds``.

    Parameters
    ----------
    ds : xarray.Dataset
        A planning dataset.
    path : path-like
        Target directory; it appears whole or not at all.
    file_format : {"parquet", "csv"}
        Format of every table.
    overwrite : bool
        Replace an existing non-empty directory.
    """
    return write_directory(to_tables(ds), path, file_format=file_format, overwrite=overwrite)
